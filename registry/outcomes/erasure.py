"""Erasure of a plan's free texts in this domain (issue 19), called by the privacy service."""

from __future__ import annotations

import uuid

from registry.common import now as utcnow
from registry.db import unit_of_work
from registry.outcomes.tables import OwnResource, PlanClosure, PlanGoal, PlanReview


async def erase_plan_free_text(plan_id: uuid.UUID) -> dict[str, int]:
    """Blank the plan's free texts of this domain (goal titles and scales, review changes and
    notes, own-resource descriptions, closure notes), keeping counts, dates, weights and
    levels, so every figure stays the same. No actor: the caller (the privacy service)
    decides who may; runs in the caller's unit of work if there is one."""
    moment = utcnow()
    async with unit_of_work():
        goals = await PlanGoal.count().where(PlanGoal.plan == plan_id)
        await PlanGoal.update(
            {PlanGoal.title: "", PlanGoal.scale: ["", "", "", "", ""], PlanGoal.updated_at: moment}
        ).where(PlanGoal.plan == plan_id)
        reviews = await PlanReview.count().where(PlanReview.plan == plan_id)
        await PlanReview.update(
            {PlanReview.changes: "", PlanReview.notes: "", PlanReview.updated_at: moment}
        ).where(PlanReview.plan == plan_id)
        own = await OwnResource.count().where(OwnResource.plan == plan_id)
        await OwnResource.update(
            {OwnResource.description: "", OwnResource.updated_at: moment}
        ).where(OwnResource.plan == plan_id)
        closures = await PlanClosure.count().where(PlanClosure.plan == plan_id)
        await PlanClosure.update({PlanClosure.note: ""}).where(PlanClosure.plan == plan_id)
    return {"goals": goals, "reviews": reviews, "own_resources": own, "closures": closures}
