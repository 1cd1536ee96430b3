"""A plan's GAS goals (issue 15): list, add, change.

`Plan.goals` (the JSON list of strings of release 0.1.0) is kept as it is by the plans domain,
as earlier free-text goals this domain never reads or writes; GAS goals are records here. No
data migration: a free-text goal has no scale, and inventing one would fabricate outcomes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from registry.access import Principal
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import now as utcnow
from registry.common import set_fields
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound
from registry.outcomes.records import _goals_out
from registry.outcomes.rules import _open, _plan_to_write, _save_patch, _writer
from registry.outcomes.schemas import GoalCreate, GoalOut, GoalPatch, GoalStatus
from registry.outcomes.tables import PlanGoal
from registry.plans.service import plan_row
from registry.plans.tables import Need


async def _check_need(plan_id: uuid.UUID, need_id: uuid.UUID | None) -> None:
    if need_id is None:
        return
    if not await Need.exists().where((Need.id == need_id) & (Need.plan == plan_id)):
        raise InvalidInput("no such need in this plan", field="need_id")


async def list_goals(actor: Principal, plan_id: uuid.UUID) -> list[GoalOut]:
    await plan_row(actor, plan_id)
    goals = await _goals_out(plan_id)
    await audit.record(actor, AuditAction.GOALS_READ, plan_id, detail=f"{len(goals)} goals")
    return goals


async def create_goal(
    actor: Principal, plan_id: uuid.UUID, data: GoalCreate, *, now: datetime | None = None
) -> GoalOut:
    await _plan_to_write(actor, plan_id)
    await _check_need(plan_id, data.need_id)
    moment = now or utcnow()
    async with unit_of_work():
        count = await PlanGoal.count().where(PlanGoal.plan == plan_id)
        if count >= 20:
            raise Conflict("a plan has at most 20 goals: drop one before adding another")
        goal = PlanGoal(
            ambito=actor.ambito_id,
            plan=plan_id,
            position=count,
            title=data.title,
            scale=list(data.scale),
            weight=data.weight,
            baseline=data.baseline,
            need_id=data.need_id,
            status=GoalStatus.ACTIVE.value,
            created_at=moment,
            updated_at=moment,
        )
        await goal.save()
        await audit.record(actor, AuditAction.GOAL_CREATE, plan_id)
    return await _goal(plan_id, goal.id)


async def _goal(plan_id: uuid.UUID, goal_id: uuid.UUID) -> GoalOut:
    for goal in await _goals_out(plan_id):
        if goal.id == goal_id:
            return goal
    raise NotFound("no such goal in this plan")


async def update_goal(
    actor: Principal,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    patch: GoalPatch,
    *,
    now: datetime | None = None,
) -> GoalOut:
    plan = await plan_row(actor, plan_id)
    if not await PlanGoal.exists().where((PlanGoal.id == goal_id) & (PlanGoal.plan == plan_id)):
        raise NotFound("no such goal in this plan")
    _writer(actor)
    _open(plan)
    values = set_fields(patch)
    if "need_id" in values:
        await _check_need(plan_id, values["need_id"])
    if "status" in values:
        values["status"] = values["status"].value
    if "scale" in values:
        values["scale"] = list(values["scale"])
    await _save_patch(actor, plan_id, PlanGoal, goal_id, values, AuditAction.GOAL_UPDATE, now)
    return await _goal(plan_id, goal_id)
