from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from registry.plans.schemas import NeedUnit, TimeWindow
from registry.text import LongText


class MatchStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ACTIVE = "active"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class RunStatus(StrEnum):
    DRAFT = "draft"  # stored, reviewed by people, nothing proposed yet
    PROPOSED = "proposed"  # some pairs were turned into match proposals


Reason = Annotated[LongText, msgspec.Meta(max_length=2000)]


class ComponentOut(msgspec.Struct, kw_only=True):
    name: str
    value: float
    weight: float
    reason: str


class MatchCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    need_id: uuid.UUID
    resource_id: uuid.UUID


class DeclineIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[Reason, msgspec.Meta(min_length=1)]


class TransitionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason = ""


class NeedView(msgspec.Struct, kw_only=True):
    """What the holder side of a match learns about the need: never the case code, the
    goals, the notes or anything else of the plan."""

    category_code: str
    schedule: list[TimeWindow]
    comune: str
    quantity: int
    unit: NeedUnit
    start_date: date | None
    end_date: date | None
    languages: list[str]
    requirements: list[str]
    max_distance_km: float | None = None


class MatchOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: MatchStatus
    # None for the holder side: a plan id would let it link needs of the same person.
    plan_id: uuid.UUID | None
    need_id: uuid.UUID | None
    need: NeedView
    resource_id: uuid.UUID
    resource_title: str
    holder_id: uuid.UUID
    holder_name: str
    score: float | None
    explanation: str
    components: list[ComponentOut]
    warning: str
    run_id: uuid.UUID | None
    decline_reason: str
    created_at: datetime
    updated_at: datetime


class MatchEventOut(msgspec.Struct, kw_only=True):
    at: datetime
    actor_id: uuid.UUID
    actor_username: str
    from_status: MatchStatus | None
    to_status: MatchStatus
    reason: str


class SuggestionOut(msgspec.Struct, kw_only=True):
    rank: int
    resource_id: uuid.UUID
    resource_title: str
    category_code: str
    unit: str
    holder_id: uuid.UUID
    holder_name: str
    remaining_capacity: int
    score: float
    explanation: str
    components: list[ComponentOut]
    # Set when the holder's last confirmation is overdue (Italian, for a badge).
    warning: str | None = None


class DifferenceOut(msgspec.Struct, kw_only=True):
    """Why a near miss is not a suggestion: `code` is comune, distance, period or
    category; `amount` is in `unit` (km, giorni, livelli); `reason` says it in Italian."""

    code: str
    amount: float
    unit: str
    reason: str


class NearMissOut(msgspec.Struct, kw_only=True):
    """A resource that nearly fits: never a suggestion, shown apart with its difference."""

    resource_id: uuid.UUID
    resource_title: str
    category_code: str
    unit: str
    holder_id: uuid.UUID
    holder_name: str
    remaining_capacity: int
    score: float
    difference: DifferenceOut
    explanation: str
    components: list[ComponentOut]
    warning: str | None = None


class SuggestionsOut(msgspec.Struct, kw_only=True):
    need_id: uuid.UUID
    resources_considered: int
    suggestions: list[SuggestionOut]
    # Why nothing came back, in Italian, when the list is empty.
    note: str | None = None
    # When fewer than NEAR_MISSES_BELOW suggestions fit: what nearly fits, best first.
    near_misses: list[NearMissOut] = []


Weight = Annotated[float, msgspec.Meta(ge=0, le=100)]


class WeightsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Overrides of the engine's default weights (only ratios matter)."""

    category_fit: Weight | msgspec.UnsetType = msgspec.UNSET
    schedule_overlap: Weight | msgspec.UnsetType = msgspec.UNSET
    capacity: Weight | msgspec.UnsetType = msgspec.UNSET
    proximity: Weight | msgspec.UnsetType = msgspec.UNSET
    language: Weight | msgspec.UnsetType = msgspec.UNSET
    continuity: Weight | msgspec.UnsetType = msgspec.UNSET
    load_spread: Weight | msgspec.UnsetType = msgspec.UNSET
    new_tie: Weight | msgspec.UnsetType = msgspec.UNSET
    freshness: Weight | msgspec.UnsetType = msgspec.UNSET


class RunCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    plan_id: uuid.UUID | None = None
    weights: WeightsIn | None = None
    # None: every compatible pair enters the optimisation (the engine's edge budget still
    # caps very large ambiti); a number keeps only each need's best candidates.
    max_candidates_per_need: Annotated[int, msgspec.Meta(ge=1, le=500)] | None = None


class ProposeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pair_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=1000)]


class RunPairOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    plan_id: uuid.UUID
    need_id: uuid.UUID
    resource_id: uuid.UUID
    resource_title: str
    holder_id: uuid.UUID
    holder_name: str
    score: float
    explanation: str
    components: list[ComponentOut]
    match_id: uuid.UUID | None


class UnassignedOut(msgspec.Struct, kw_only=True):
    need_id: uuid.UUID
    plan_id: uuid.UUID
    code: str
    reason: str


class RunSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: RunStatus
    created_by: uuid.UUID
    plan_id: uuid.UUID | None
    needs_considered: int
    resources_considered: int
    candidate_pairs: int
    assigned: int
    total_score: float
    created_at: datetime


class RunOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: RunStatus
    created_by: uuid.UUID
    plan_id: uuid.UUID | None
    weights: dict[str, float]
    max_candidates_per_need: int | None
    needs_considered: int
    resources_considered: int
    candidate_pairs: int
    total_score: float
    objective: float
    duration_ms: int
    pairs: list[RunPairOut]
    unassigned: list[UnassignedOut]
    created_at: datetime
