"""The plan's outcomes at a glance (issue 15): goals with their latest levels, GAS
T-scores, next review (set or moved here), closure, and the split of the support between the
person's own resources, the community and funded interventions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from registry.access import Principal
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import now as utcnow
from registry.db import unit_of_work
from registry.errors import InvalidInput
from registry.italian import today as local_today
from registry.outcomes.follow_up import _follow_up, _set_next_review
from registry.outcomes.gas import t_score
from registry.outcomes.loaders import hours_in_period
from registry.outcomes.records import _closure_out, _goals_out, _own_rows
from registry.outcomes.rules import _plan_to_write
from registry.outcomes.schemas import (
    GoalOut,
    GoalStatus,
    NextReviewIn,
    OutcomesOut,
    ReviewKind,
    SupportSplit,
)
from registry.outcomes.tables import Activation, PlanClosure, PlanReview
from registry.plans.schemas import PlanStatus
from registry.plans.service import plan_row


async def set_next_review(
    actor: Principal, plan_id: uuid.UUID, data: NextReviewIn, *, now: datetime | None = None
) -> OutcomesOut:
    """The date of the next review, set or moved (e.g. the first one, when goals are set)."""
    plan = await _plan_to_write(actor, plan_id)
    moment = now or utcnow()
    if data.next_review_on is not None and data.next_review_on < local_today(moment):
        raise InvalidInput("the next review cannot be in the past", field="next_review_on")
    async with unit_of_work():
        await _set_next_review(actor.ambito_id, plan_id, data.next_review_on, moment)
        await audit.record(actor, AuditAction.NEXT_REVIEW_SET, plan_id)
    return await _outcomes(actor, plan_id, plan, moment)


def plan_t_scores(goals: Sequence[GoalOut]) -> tuple[float | None, float | None]:
    """(T at baseline, T now) of the active goals; a goal never rated counts at baseline."""
    active = [g for g in goals if g.status is GoalStatus.ACTIVE]
    base = t_score((g.baseline, g.weight) for g in active)
    current = t_score(
        (g.latest_level if g.latest_level is not None else g.baseline, g.weight) for g in active
    )
    return (
        None if base is None else round(base, 1),
        None if current is None else round(current, 1),
    )


async def _outcomes(
    actor: Principal, plan_id: uuid.UUID, plan: dict[str, Any], moment: datetime
) -> OutcomesOut:
    goals = await _goals_out(plan_id)
    base, current = plan_t_scores(goals)
    follow = await _follow_up(plan_id)
    next_review = follow["next_review_on"] if follow else None
    reviews = await (
        PlanReview.select(PlanReview.held_on)
        .where((PlanReview.plan == plan_id) & (PlanReview.kind == ReviewKind.REVIEW.value))
        .order_by(PlanReview.held_on, ascending=False)
    )
    own = await _own_rows(plan_id)
    today = local_today(moment)
    current_own = [
        r
        for r in own
        if (r["start_date"] is None or r["start_date"] <= today)
        and (r["end_date"] is None or r["end_date"] >= today)
    ]
    closed = plan["status"] == PlanStatus.CLOSED.value
    return OutcomesOut(
        plan_id=plan_id,
        goals=goals,
        baseline_t_score=base,
        current_t_score=current,
        next_review_on=next_review,
        review_overdue=bool(next_review and next_review < today and not closed),
        reviews=len(reviews),
        last_review_on=reviews[0]["held_on"] if reviews else None,
        closure=await _closure_out(plan_id),
        own=await _support(plan, own, current_own, today),
        activations=await Activation.count().where(Activation.plan == plan_id),
    )


async def _support(
    plan: dict[str, Any],
    own: list[dict[str, Any]],
    current_own: list[dict[str, Any]],
    today: date,
) -> SupportSplit:
    from registry.contributions.reading import effective_where
    from registry.contributions.tables import Contribution
    from registry.db import array_contains
    from registry.interventions.tables import FundedIntervention
    from registry.vocabularies import ContributionUnit

    closure = (
        await PlanClosure.select(PlanClosure.closed_on)
        .where(PlanClosure.plan == plan["id"])
        .first()
    )
    last = min(d for d in (today, plan["end_date"], closure and closure["closed_on"]) if d)
    own_minutes = sum(
        hours_in_period(
            r["minutes_per_week"], r["start_date"], r["end_date"], plan["start_date"], last
        )
        * 60
        for r in own
    )
    ledger = await Contribution.select(Contribution.quantity).where(
        effective_where(plan["ambito"])
        & (Contribution.plan_id == plan["id"])
        & (Contribution.unit == ContributionUnit.HOURS.value)
    )
    funded = await FundedIntervention.select(
        FundedIntervention.delivered_minutes, FundedIntervention.plan_ids
    ).where(
        (FundedIntervention.ambito == plan["ambito"])
        & array_contains(FundedIntervention.plan_ids, str(plan["id"]))
    )
    return SupportSplit(
        own_minutes_per_week=sum(r["minutes_per_week"] for r in current_own),
        own_resources=len(current_own),
        own_minutes=round(own_minutes),
        community_minutes=sum(r["quantity"] for r in ledger),
        funded_minutes=round(
            sum(f["delivered_minutes"] / max(1, len(f["plan_ids"] or [])) for f in funded)
        ),
    )


async def get_outcomes(
    actor: Principal, plan_id: uuid.UUID, *, now: datetime | None = None
) -> OutcomesOut:
    plan = await plan_row(actor, plan_id)
    out = await _outcomes(actor, plan_id, plan, now or utcnow())
    await audit.record(actor, AuditAction.OUTCOMES_READ, plan_id)
    return out
