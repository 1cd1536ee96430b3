"""A plan's closure (issue 15): read it, close the plan with a reason and the goals'
final levels, reopen a plan closed by mistake.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime
from typing import Any

from asyncpg.exceptions import IntegrityConstraintViolationError

from registry.access import Principal
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import now as utcnow
from registry.db import is_sqlite, unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound
from registry.italian import today as local_today
from registry.matches import service as matches
from registry.outcomes.follow_up import _resolve_overdue, _set_next_review
from registry.outcomes.records import (
    _check_levels,
    _check_participants,
    _closure_out,
    _goal_map,
    _insert_levels,
)
from registry.outcomes.rules import _not_future, _writer
from registry.outcomes.schemas import CLOSURE_REASON_LABELS, ClosureIn, ClosureOut, ReviewKind
from registry.outcomes.tables import PlanClosure, PlanReview
from registry.plans.schemas import PlanStatus
from registry.plans.service import plan_row
from registry.plans.tables import Plan

_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)


async def get_closure(actor: Principal, plan_id: uuid.UUID) -> ClosureOut:
    await plan_row(actor, plan_id)
    closure = await _closure_out(plan_id)
    if closure is None:
        raise NotFound("the plan has not been closed")
    await audit.record(actor, AuditAction.CLOSURE_READ, plan_id)
    return closure


async def close_plan(
    actor: Principal, plan_id: uuid.UUID, data: ClosureIn, *, now: datetime | None = None
) -> ClosureOut:
    """Close the plan with a reason and the final level of its goals: status "closed"."""
    plan = await plan_row(actor, plan_id)
    _writer(actor)
    if plan["status"] == PlanStatus.CLOSED.value:
        raise Conflict("the plan is already closed")
    moment = now or utcnow()
    _not_future(data.closed_on, local_today(moment), "closed_on")
    if data.closed_on < plan["start_date"]:
        raise InvalidInput("the plan cannot close before it starts", field="closed_on")
    _check_participants(data.participants)
    _check_levels(data.levels, await _goal_map(plan_id))
    try:
        await _close(actor, plan_id, data, moment)
    except _INTEGRITY_ERRORS:
        raise Conflict("the plan was closed a moment ago") from None
    closure = await _closure_out(plan_id)
    assert closure is not None
    return closure


async def _close(actor: Principal, plan_id: uuid.UUID, data: ClosureIn, moment: datetime) -> None:
    async with unit_of_work():
        status = await _locked_status(plan_id)
        if status is None or status["status"] == PlanStatus.CLOSED.value:
            raise Conflict("the plan was closed a moment ago")
        # A plan closed once, reopened by a status change and closed again: the new closure
        # replaces the old one.
        old = await PlanClosure.select(PlanClosure.review).where(PlanClosure.plan == plan_id)
        await PlanClosure.delete().where(PlanClosure.plan == plan_id)
        for row in old:
            if row["review"]:
                await PlanReview.delete().where(PlanReview.id == row["review"])
        review = PlanReview(
            ambito=actor.ambito_id,
            plan=plan_id,
            kind=ReviewKind.CLOSURE.value,
            held_on=data.closed_on,
            due_on=None,
            participants=[p.value for p in data.participants],
            changes="",
            notes="",
            next_review_on=None,
            created_by=actor.user_id,
            created_at=moment,
            updated_at=moment,
        )
        await review.save()
        await _insert_levels(actor.ambito_id, review.id, data.levels)
        await PlanClosure.insert(
            PlanClosure(
                ambito=actor.ambito_id,
                plan=plan_id,
                closed_on=data.closed_on,
                reason=data.reason.value,
                review=review.id,
                note=data.note,
                created_by=actor.user_id,
                created_at=moment,
            )
        )
        await Plan.update({Plan.status: PlanStatus.CLOSED.value, Plan.updated_at: moment}).where(
            Plan.id == plan_id
        )
        await _set_next_review(actor.ambito_id, plan_id, None, moment)
        await _resolve_overdue(actor.ambito_id, plan_id)
        # The help arranged for the plan ends with it (reopening does not restore it).
        await matches.end_for_closed_plan(
            actor, plan_id, f"Piano chiuso: {CLOSURE_REASON_LABELS[data.reason]}", moment
        )
        await audit.record(actor, AuditAction.PLAN_CLOSE, plan_id, detail=data.reason.value)


async def _locked_status(plan_id: uuid.UUID) -> dict[str, Any] | None:
    """The plan's status read again inside the write's transaction, so a closure or reopening
    recorded since the first check wins. SQLite's BEGIN IMMEDIATE already serialises writers;
    PostgreSQL needs the row lock, or a second closure would delete the first one's row it can
    see once committed, and both would be told 201."""
    query = Plan.select(Plan.status).where(Plan.id == plan_id)
    if not is_sqlite():
        query = query.lock_rows()
    return await query.first()


async def reopen_plan(actor: Principal, plan_id: uuid.UUID, *, now: datetime | None = None) -> None:
    """Undo a closure recorded by mistake: the plan is active again, the closure and its
    final levels are gone."""
    await plan_row(actor, plan_id)
    closure = await PlanClosure.select().where(PlanClosure.plan == plan_id).first()
    if closure is None:
        raise NotFound("the plan has not been closed")
    _writer(actor)
    moment = now or utcnow()
    async with unit_of_work():
        await _locked_status(plan_id)
        closure = await PlanClosure.select().where(PlanClosure.plan == plan_id).first()
        if closure is None:
            raise NotFound("the plan has not been closed")
        await PlanClosure.delete().where(PlanClosure.plan == plan_id)
        if closure["review"]:
            await PlanReview.delete().where(PlanReview.id == closure["review"])
        await Plan.update({Plan.status: PlanStatus.ACTIVE.value, Plan.updated_at: moment}).where(
            Plan.id == plan_id
        )
        await audit.record(actor, AuditAction.PLAN_REOPEN, plan_id)
