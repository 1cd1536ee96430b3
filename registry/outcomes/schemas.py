"""Inputs and outputs of goals (GAS), reviews, closure, own resources and activations.

The vocabularies are here rather than in registry/vocabularies.py because only this domain
and its figures use them (as registry/plans/schemas.py does for PlanStatus); the Italian
labels sit next to them for the screens and the UdP's downloads.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from registry.text import LongText


class GoalStatus(StrEnum):
    ACTIVE = "active"
    DROPPED = "dropped"  # kept with its levels; out of the T-score from then on


class ReviewKind(StrEnum):
    REVIEW = "review"
    CLOSURE = "closure"  # the final levels recorded when the plan is closed


class ParticipantRole(StrEnum):
    """Who took part in a review, by role (never by name)."""

    PERSON = "person"
    FAMILY = "family"
    SOCIAL_WORKER = "social_worker"
    COMMUNITY_HOLDER = "community_holder"
    VOLUNTEER = "volunteer"
    HEALTH_SERVICE = "health_service"
    SCHOOL = "school"
    OTHER_SERVICE = "other_service"
    UDP = "udp"


PARTICIPANT_ROLE_LABELS: dict[ParticipantRole, str] = {
    ParticipantRole.PERSON: "La persona",
    ParticipantRole.FAMILY: "Familiari",
    ParticipantRole.SOCIAL_WORKER: "Assistente sociale",
    ParticipantRole.COMMUNITY_HOLDER: "Realtà della comunità",
    ParticipantRole.VOLUNTEER: "Volontari",
    ParticipantRole.HEALTH_SERVICE: "Servizi sanitari",
    ParticipantRole.SCHOOL: "Scuola",
    ParticipantRole.OTHER_SERVICE: "Altri servizi",
    ParticipantRole.UDP: "Ufficio di Piano",
}


class ClosureReason(StrEnum):
    GOALS_REACHED = "goals_reached"
    MOVED_AWAY = "moved_away"
    PERSON_DECLINED = "person_declined"
    TAKEN_OVER = "taken_over"  # by another service
    NO_LONGER_ELIGIBLE = "no_longer_eligible"
    DECEASED = "deceased"
    OTHER = "other"


CLOSURE_REASON_LABELS: dict[ClosureReason, str] = {
    ClosureReason.GOALS_REACHED: "Obiettivi raggiunti",
    ClosureReason.MOVED_AWAY: "Trasferimento in altro territorio",
    ClosureReason.PERSON_DECLINED: "Rinuncia della persona",
    ClosureReason.TAKEN_OVER: "Presa in carico da altro servizio",
    ClosureReason.NO_LONGER_ELIGIBLE: "Venuti meno i requisiti",
    ClosureReason.DECEASED: "Decesso",
    ClosureReason.OTHER: "Altro motivo",
}


class OwnResourceKind(StrEnum):
    TIME = "time"
    SKILLS = "skills"
    RELATIONS = "relations"
    MEANS = "means"


OWN_RESOURCE_KIND_LABELS: dict[OwnResourceKind, str] = {
    OwnResourceKind.TIME: "Tempo",
    OwnResourceKind.SKILLS: "Competenze",
    OwnResourceKind.RELATIONS: "Relazioni",
    OwnResourceKind.MEANS: "Mezzi",
}


class OwnResourceSource(StrEnum):
    PERSON = "person"
    FAMILY = "family"


OWN_RESOURCE_SOURCE_LABELS: dict[OwnResourceSource, str] = {
    OwnResourceSource.PERSON: "La persona",
    OwnResourceSource.FAMILY: "La famiglia",
}


class ActivationKind(StrEnum):
    VOLUNTEER = "volunteer"  # became a volunteer (a volunteer account and/or a holder)
    ACTIVITY = "activity"  # joins a community activity


ACTIVATION_KIND_LABELS: dict[ActivationKind, str] = {
    ActivationKind.VOLUNTEER: "È diventata volontaria/o",
    ActivationKind.ACTIVITY: "Partecipa a un'attività della comunità",
}

GAS_LEVELS = (-2, -1, 0, 1, 2)
Level = Annotated[int, msgspec.Meta(ge=-2, le=2, description="GAS level, −2 … +2")]
Weight = Annotated[int, msgspec.Meta(ge=1, le=100, description="GAS weight (default 1)")]
GoalTitle = Annotated[LongText, msgspec.Meta(min_length=1, max_length=500)]
LevelText = Annotated[LongText, msgspec.Meta(min_length=1, max_length=500)]
Scale = Annotated[
    list[LevelText],
    msgspec.Meta(
        min_length=5,
        max_length=5,
        description="five descriptions, in order: −2 (much less than expected), −1, "
        "0 (expected), +1, +2 (much more than expected)",
    ),
]
ChangesText = Annotated[LongText, msgspec.Meta(max_length=5_000)]
Notes = Annotated[LongText, msgspec.Meta(max_length=10_000)]
Description = Annotated[LongText, msgspec.Meta(min_length=1, max_length=1_000)]
# A week has 10,080 minutes.
MinutesPerWeek = Annotated[int, msgspec.Meta(ge=0, le=10_080)]
Participants = Annotated[list[ParticipantRole], msgspec.Meta(min_length=1, max_length=9)]


# --- goals ---------------------------------------------------------------------------------


class GoalCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: GoalTitle
    scale: Scale
    weight: Weight = 1
    baseline: Level = -1
    need_id: uuid.UUID | None = None


class GoalPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: GoalTitle | msgspec.UnsetType = msgspec.UNSET
    scale: Scale | msgspec.UnsetType = msgspec.UNSET
    weight: Weight | msgspec.UnsetType = msgspec.UNSET
    baseline: Level | msgspec.UnsetType = msgspec.UNSET
    need_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    status: GoalStatus | msgspec.UnsetType = msgspec.UNSET
    position: Annotated[int, msgspec.Meta(ge=0, le=100)] | msgspec.UnsetType = msgspec.UNSET


class GoalOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    plan_id: uuid.UUID
    position: int
    title: str
    scale: list[str]
    weight: int
    baseline: int
    need_id: uuid.UUID | None
    status: GoalStatus
    # The level at the latest review (or closure) that rated the goal; None: not yet rated.
    latest_level: int | None
    latest_level_on: date | None
    created_at: datetime
    updated_at: datetime


# --- reviews -------------------------------------------------------------------------------


class LevelIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    goal_id: uuid.UUID
    level: Level


Levels = Annotated[list[LevelIn], msgspec.Meta(max_length=50)]


class LevelOut(msgspec.Struct, kw_only=True):
    goal_id: uuid.UUID
    level: int


class ReviewCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    held_on: date
    participants: Participants
    levels: Levels = []
    changes: ChangesText = ""
    notes: Notes = ""
    next_review_on: date | None = None


class ReviewPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Corrections of a review already recorded (its date and due date stay)."""

    participants: Participants | msgspec.UnsetType = msgspec.UNSET
    levels: Levels | msgspec.UnsetType = msgspec.UNSET
    changes: ChangesText | msgspec.UnsetType = msgspec.UNSET
    notes: Notes | msgspec.UnsetType = msgspec.UNSET
    next_review_on: date | msgspec.UnsetType | None = msgspec.UNSET


class ReviewSummary(msgspec.Struct, kw_only=True):
    """A line of the review list: no notes."""

    id: uuid.UUID
    plan_id: uuid.UUID
    kind: ReviewKind
    held_on: date
    due_on: date | None
    # Held on or before its due date; None: no due date was set.
    on_time: bool | None
    participants: list[ParticipantRole]
    levels: list[LevelOut]
    changes: str
    next_review_on: date | None
    # GAS T-score of the levels of this review (active goals rated); None: no goal rated.
    t_score: float | None
    created_by_username: str
    created_at: datetime


class ReviewOut(ReviewSummary, kw_only=True):
    """The review's own detail: with its private notes (the read is logged)."""

    notes: str


class NextReviewIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    next_review_on: date | None


# --- closure -------------------------------------------------------------------------------


class ClosureIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    closed_on: date
    reason: ClosureReason
    # The final level of each active goal.
    levels: Levels = []
    participants: Annotated[list[ParticipantRole], msgspec.Meta(max_length=9)] = []
    note: Notes = ""


class ClosureOut(msgspec.Struct, kw_only=True):
    plan_id: uuid.UUID
    closed_on: date
    reason: ClosureReason
    reason_label: str
    review_id: uuid.UUID | None
    levels: list[LevelOut]
    t_score: float | None
    note: str
    created_by_username: str
    created_at: datetime


# --- own resources -------------------------------------------------------------------------


class OwnResourceCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: OwnResourceKind
    source: OwnResourceSource
    description: Description
    minutes_per_week: MinutesPerWeek = 0
    start_date: date | None = None
    end_date: date | None = None


class OwnResourcePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: OwnResourceKind | msgspec.UnsetType = msgspec.UNSET
    source: OwnResourceSource | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    minutes_per_week: MinutesPerWeek | msgspec.UnsetType = msgspec.UNSET
    start_date: date | msgspec.UnsetType | None = msgspec.UNSET
    end_date: date | msgspec.UnsetType | None = msgspec.UNSET


class OwnResourceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    plan_id: uuid.UUID
    kind: OwnResourceKind
    source: OwnResourceSource
    description: str
    minutes_per_week: int
    start_date: date | None
    end_date: date | None
    created_at: datetime
    updated_at: datetime


# --- activation ----------------------------------------------------------------------------


class ActivationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Either a volunteer account (and/or the holder it gives time with) for kind
    "volunteer", or a community activity for kind "activity"."""

    kind: ActivationKind
    volunteer_id: uuid.UUID | None = None
    holder_id: uuid.UUID | None = None
    activity_id: uuid.UUID | None = None
    consent_on: date
    started_on: date


class ActivationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    plan_id: uuid.UUID
    kind: ActivationKind
    volunteer_id: uuid.UUID | None
    holder_id: uuid.UUID | None
    holder_name: str | None
    activity_id: uuid.UUID | None
    activity_title: str | None
    consent_on: date
    started_on: date
    created_at: datetime


# --- the plan's outcomes at a glance -------------------------------------------------------


class SupportSplit(msgspec.Struct, kw_only=True):
    """How much of the plan rests on the person and the family, the community and funded
    services, in minutes from the plan's start to today (or its closure):
    - own_minutes: the own resources' minutes a week over the days each one lasts;
    - community_minutes: the effective ledger entries in hours for the plan's needs;
    - funded_minutes: each funded intervention naming the plan, its delivered minutes
      divided by the number of plans it names."""

    own_minutes_per_week: int  # the own resources in force today
    own_resources: int
    own_minutes: int
    community_minutes: int
    funded_minutes: int


class OutcomesOut(msgspec.Struct, kw_only=True):
    plan_id: uuid.UUID
    goals: list[GoalOut]
    # T-score with every active goal at its baseline, and at its latest level (goals never
    # rated count at their baseline); None when the plan has no active goal.
    baseline_t_score: float | None
    current_t_score: float | None
    next_review_on: date | None
    review_overdue: bool
    reviews: int
    last_review_on: date | None
    closure: ClosureOut | None
    own: SupportSplit
    activations: int


class Term(msgspec.Struct, kw_only=True):
    value: str
    label: str


class OutcomeVocabularies(msgspec.Struct, kw_only=True):
    """The values of this domain's vocabularies with their Italian labels, for the screens."""

    participant_roles: list[Term]
    closure_reasons: list[Term]
    own_resource_kinds: list[Term]
    own_resource_sources: list[Term]
    activation_kinds: list[Term]
    gas_levels: list[Term]


def _terms(labels: dict[StrEnum, str]) -> list[Term]:
    return [Term(value=key.value, label=label) for key, label in labels.items()]


GAS_LEVEL_LABELS = {
    -2: "Molto meno del previsto",
    -1: "Meno del previsto",
    0: "Risultato atteso",
    1: "Più del previsto",
    2: "Molto più del previsto",
}


def vocabularies() -> OutcomeVocabularies:
    return OutcomeVocabularies(
        participant_roles=_terms(PARTICIPANT_ROLE_LABELS),  # type: ignore[arg-type]
        closure_reasons=_terms(CLOSURE_REASON_LABELS),  # type: ignore[arg-type]
        own_resource_kinds=_terms(OWN_RESOURCE_KIND_LABELS),  # type: ignore[arg-type]
        own_resource_sources=_terms(OWN_RESOURCE_SOURCE_LABELS),  # type: ignore[arg-type]
        activation_kinds=_terms(ACTIVATION_KIND_LABELS),  # type: ignore[arg-type]
        gas_levels=[Term(value=str(k), label=v) for k, v in GAS_LEVEL_LABELS.items()],
    )


class ReviewDue(msgspec.Struct, kw_only=True):
    """A line of the review schedule: which plan (pseudonym only) is due for review when."""

    plan_id: uuid.UUID
    case_code: str
    owner_username: str
    next_review_on: date | None
    overdue: bool
    last_review_on: date | None
