"""Ranked, explained suggestions of resources for one need of a plan, and, when few fit,
the near misses (shown apart, never mixed into the ranking)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any

from registry import italian, matching
from registry.access import Principal
from registry.db import reads
from registry.errors import NotFound
from registry.matches import engine_io
from registry.matches.schemas import (
    ComponentOut,
    DifferenceOut,
    NearMissOut,
    SuggestionOut,
    SuggestionsOut,
)
from registry.plans import service as plans

# Below this many suggestions, the answer also lists what nearly fits.
NEAR_MISSES_BELOW = 3


def _components(suggestion: matching.Suggestion) -> list[ComponentOut]:
    return [
        ComponentOut(name=c.name, value=c.value, weight=c.weight, reason=c.reason)
        for c in suggestion.components
    ]


def _warning(suggestion: matching.Suggestion) -> str | None:
    # The freshness reason, when the confirmation is overdue (value below 1).
    part = suggestion.component("freshness")
    return part.reason if part.value < 1.0 else None


async def _kept_back(read: Awaitable[dict[str, Any]]) -> dict[str, Any] | NotFound:
    """The row, or its NotFound returned rather than raised (raised once the plan's check
    has passed)."""
    try:
        return await read
    except NotFound as error:
        return error


async def suggest_for_need(
    actor: Principal, plan_id: uuid.UUID, need_id: uuid.UUID, limit: int = 10
) -> SuggestionsOut:
    today = italian.today()
    # Every read at once: under load each read in turn waited for the loop to come round.
    # Whether the caller may see the plan is settled first all the same: its refusal is
    # the answer, and the need's own (no such need) only comes after it.
    plan, need, (resources, info), taxonomy, engaged = await reads(
        plans.plan_row(actor, plan_id),
        _kept_back(plans.need_row(actor, plan_id, need_id)),
        engine_io.load_resources(actor.ambito_id, today),
        engine_io.load_taxonomy(),
        engine_io.plan_holders([plan_id]),
    )
    if isinstance(need, NotFound):
        raise need
    holders = engaged.get(plan_id, frozenset())
    item = engine_io.need_item(need, plan, holders)
    index = matching.CandidateIndex(resources, taxonomy, as_of=today)
    weights = matching.Weights()
    ranked = matching.suggest(item, index, weights, limit=limit)
    out = []
    for rank, suggestion in enumerate(ranked, start=1):
        meta = info[suggestion.resource_id]
        out.append(
            SuggestionOut(
                rank=rank,
                resource_id=uuid.UUID(suggestion.resource_id),
                resource_title=meta.title,
                category_code=meta.category_code,
                unit=meta.unit,
                holder_id=meta.holder_id,
                holder_name=meta.holder_name,
                remaining_capacity=meta.remaining,
                score=suggestion.score,
                explanation=suggestion.explanation,
                components=_components(suggestion),
                warning=_warning(suggestion),
            )
        )
    near: list[NearMissOut] = []
    if len(out) < NEAR_MISSES_BELOW:
        for miss in matching.near_misses(item, index, weights):
            s, meta = miss.suggestion, info[miss.suggestion.resource_id]
            near.append(
                NearMissOut(
                    resource_id=uuid.UUID(s.resource_id),
                    resource_title=meta.title,
                    category_code=meta.category_code,
                    unit=meta.unit,
                    holder_id=meta.holder_id,
                    holder_name=meta.holder_name,
                    remaining_capacity=meta.remaining,
                    score=s.score,
                    difference=DifferenceOut(
                        code=miss.difference.code,
                        amount=miss.difference.amount,
                        unit=miss.difference.unit,
                        reason=miss.difference.reason,
                    ),
                    explanation=s.explanation,
                    components=_components(s),
                    warning=_warning(s),
                )
            )
    return SuggestionsOut(
        need_id=need_id,
        resources_considered=len(resources),
        suggestions=out,
        note=None if out else index.explain_no_candidates(item),
        near_misses=near,
    )
