"""A plan's reviews (issue 15): list, read one (with its notes), record, correct."""

from __future__ import annotations

import uuid
from datetime import datetime

from registry.access import Principal
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import now as utcnow
from registry.common import set_fields
from registry.db import unit_of_work
from registry.errors import InvalidInput, NotFound
from registry.italian import today as local_today
from registry.outcomes.follow_up import _follow_up, _resolve_overdue, _set_next_review
from registry.outcomes.records import (
    _check_levels,
    _check_participants,
    _goal_map,
    _insert_levels,
    _review_outs,
)
from registry.outcomes.rules import _not_future, _open, _plan_to_write, _writer
from registry.outcomes.schemas import (
    ReviewCreate,
    ReviewKind,
    ReviewOut,
    ReviewPatch,
    ReviewSummary,
)
from registry.outcomes.tables import PlanReview, ReviewLevel
from registry.plans.service import plan_row


def _summary(review: ReviewOut) -> ReviewSummary:
    fields = {name: getattr(review, name) for name in ReviewSummary.__struct_fields__}
    return ReviewSummary(**fields)


async def list_reviews(actor: Principal, plan_id: uuid.UUID) -> list[ReviewSummary]:
    await plan_row(actor, plan_id)
    reviews = await _review_outs(plan_id)
    await audit.record(actor, AuditAction.REVIEWS_READ, plan_id, detail=f"{len(reviews)} reviews")
    return [_summary(r) for r in reviews]


async def get_review(actor: Principal, plan_id: uuid.UUID, review_id: uuid.UUID) -> ReviewOut:
    await plan_row(actor, plan_id)
    found = await _review_outs(plan_id, review_id)
    if not found:
        raise NotFound("no such review in this plan")
    await audit.record(actor, AuditAction.REVIEW_READ, plan_id, detail=f"review {review_id}")
    return found[0]


async def create_review(
    actor: Principal, plan_id: uuid.UUID, data: ReviewCreate, *, now: datetime | None = None
) -> ReviewOut:
    plan = await _plan_to_write(actor, plan_id)
    moment = now or utcnow()
    today = local_today(moment)
    _not_future(data.held_on, today, "held_on")
    if data.held_on < plan["start_date"]:
        raise InvalidInput("the review cannot be held before the plan starts", field="held_on")
    if data.next_review_on is not None and data.next_review_on <= data.held_on:
        raise InvalidInput("the next review must come after this one", field="next_review_on")
    _check_participants(data.participants)
    _check_levels(data.levels, await _goal_map(plan_id))
    async with unit_of_work():
        before = await (
            PlanReview.select(PlanReview.held_on, PlanReview.next_review_on)
            .where((PlanReview.plan == plan_id) & (PlanReview.kind == ReviewKind.REVIEW.value))
            .order_by(PlanReview.held_on, ascending=False)
            .order_by(PlanReview.created_at, ascending=False)
        )
        latest = not before or data.held_on >= before[0]["held_on"]
        if latest:
            follow = await _follow_up(plan_id)
            due_on = follow["next_review_on"] if follow else None
        else:
            # Recorded late, for a date before the latest review: due when the review before
            # it said.
            earlier = [r for r in before if r["held_on"] <= data.held_on]
            due_on = earlier[0]["next_review_on"] if earlier else None
        review = PlanReview(
            ambito=actor.ambito_id,
            plan=plan_id,
            kind=ReviewKind.REVIEW.value,
            held_on=data.held_on,
            due_on=due_on,
            participants=[p.value for p in data.participants],
            changes=data.changes,
            notes=data.notes,
            next_review_on=data.next_review_on,
            created_by=actor.user_id,
            created_at=moment,
            updated_at=moment,
        )
        await review.save()
        await _insert_levels(actor.ambito_id, review.id, data.levels)
        if latest:
            await _set_next_review(actor.ambito_id, plan_id, data.next_review_on, moment)
            await _resolve_overdue(actor.ambito_id, plan_id)
        await audit.record(actor, AuditAction.REVIEW_CREATE, plan_id, detail=f"review {review.id}")
    return (await _review_outs(plan_id, review.id))[0]


async def update_review(
    actor: Principal,
    plan_id: uuid.UUID,
    review_id: uuid.UUID,
    patch: ReviewPatch,
    *,
    now: datetime | None = None,
) -> ReviewOut:
    plan = await plan_row(actor, plan_id)
    current = (
        await PlanReview.select()
        .where((PlanReview.id == review_id) & (PlanReview.plan == plan_id))
        .first()
    )
    if current is None:
        raise NotFound("no such review in this plan")
    _writer(actor)
    _open(plan)
    values = set_fields(patch)
    levels = values.pop("levels", None)
    if levels is not None:
        rated = await ReviewLevel.select(ReviewLevel.goal).where(ReviewLevel.review == review_id)
        _check_levels(
            levels, await _goal_map(plan_id), rated_before=frozenset(r["goal"] for r in rated)
        )
    if "participants" in values:
        _check_participants(values["participants"])
        values["participants"] = [p.value for p in values["participants"]]
    next_review = values.get("next_review_on")
    if next_review is not None and next_review <= current["held_on"]:
        raise InvalidInput("the next review must come after this one", field="next_review_on")
    moment = now or utcnow()
    async with unit_of_work():
        if values:
            values["updated_at"] = moment
            await PlanReview.update(values).where(PlanReview.id == review_id)
        if levels is not None:
            await ReviewLevel.delete().where(ReviewLevel.review == review_id)
            await _insert_levels(actor.ambito_id, review_id, levels)
        if "next_review_on" in values:
            latest = (
                await PlanReview.select(PlanReview.id)
                .where((PlanReview.plan == plan_id) & (PlanReview.kind == ReviewKind.REVIEW.value))
                .order_by(PlanReview.held_on, ascending=False)
                .order_by(PlanReview.created_at, ascending=False)
                .first()
            )
            if latest and latest["id"] == review_id:
                await _set_next_review(actor.ambito_id, plan_id, values["next_review_on"], moment)
        changed = sorted(k for k in values if k != "updated_at")
        if levels is not None:
            changed.append("levels")
        await audit.record(
            actor,
            AuditAction.REVIEW_UPDATE,
            plan_id,
            detail=f"review {review_id}: {', '.join(changed)}",
        )
    return (await _review_outs(plan_id, review_id))[0]
