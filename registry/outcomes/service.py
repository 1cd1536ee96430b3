"""What changes for the person (issue 15): GAS goals, reviews, closure, own resources and
activation of a plan; the overdue-review job; loaders for the outcome figures; erasure.

Authorization follows the plan's detail (registry/plans/service.py `plan_row`): the owner, the
social workers it is shared with and the UdP read; only those social workers write (the UdP
reads, as it reads plan details); holder managers and volunteers get 403 before any lookup,
and a plan the caller may not see is a 404. Every read of goals, reviews, closure, own
resources and activations writes an access-log row; the log's detail never carries free text.
Review notes (private, like Plan.notes) are only in a review's own detail.

`Plan.goals` (the JSON list of strings of release 0.1.0) is kept as it is by the plans domain,
as earlier free-text goals this domain never reads or writes; GAS goals are records here. No
data migration: a free-text goal has no scale, and inventing one would fabricate outcomes.

Also here: `review_schedule` (the open plans' next reviews, for the social worker's list) and
the Italian labels of the vocabularies (registry/outcomes/schemas.py `vocabularies`).

Loaders for the figures (plain functions, no actor: the figures' endpoint checks the UdP role
and passes its ambito). Each takes `(ambito_id, start, end, *, today=None)`, the period's first
and last day included, and returns a list of frozen dataclasses defined below:

- `load_plans`     -> PlanRecord(plan_id, comune, target_group, start_date, end_date, status,
                      closed_on): plans whose period overlaps [start, end] (closed_on cuts it).
- `load_goals`     -> GoalRecord(plan_id, goal_id, comune, target_group, weight, baseline,
                      status, latest_level, latest_level_on): every goal of those plans, its
                      latest level recorded on or before `end` (None: never rated by then).
- `load_reviews`   -> ReviewRecord(plan_id, review_id, comune, target_group, kind, held_on,
                      due_on, on_time): reviews held in the period or due in it (`due_on` is
                      the previous review's next-review date; on_time = held_on <= due_on; None
                      when no due date was set), plus, with review_id=None and held_on=None,
                      the due date of each open plan still waiting for its review if it falls
                      in the period: on_time False once it is past (`today`), None before.
                      Closure records (kind "closure") carry due_on None.
- `load_t_scores`  -> TScoreRecord(plan_id, comune, target_group, review_on, baseline_t,
                      latest_t): per plan, the latest review or closure held in the period; T
                      of the levels it recorded and T of the same goals at their baselines.
- `load_closures`  -> ClosureRecord(plan_id, comune, target_group, closed_on, reason,
                      baseline_t, final_t): closures in the period.
- `load_own_resources` -> OwnResourceRecord(plan_id, comune, target_group, kind, source,
                      minutes_per_week, start_date, end_date, hours_in_period): hours_in_period
                      = minutes a week x days of the resource inside the period (its own dates,
                      else the plan's, cut at closure) / 7 / 60.
- `load_activations` -> ActivationRecord(plan_id, comune, target_group, kind, started_on):
                      activations started in the period.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from asyncpg.exceptions import IntegrityConstraintViolationError

from registry.access import Principal, Role
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import now as utcnow
from registry.common import set_fields
from registry.contributions.tables import CommunityActivity
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound
from registry.holders.tables import Holder
from registry.matches import service as matches
from registry.outcomes.gas import t_score
from registry.outcomes.schemas import (
    CLOSURE_REASON_LABELS,
    ActivationCreate,
    ActivationKind,
    ActivationOut,
    ClosureIn,
    ClosureOut,
    ClosureReason,
    GoalCreate,
    GoalOut,
    GoalPatch,
    GoalStatus,
    LevelIn,
    LevelOut,
    NextReviewIn,
    OutcomesOut,
    OwnResourceCreate,
    OwnResourceKind,
    OwnResourceOut,
    OwnResourcePatch,
    OwnResourceSource,
    ParticipantRole,
    ReviewCreate,
    ReviewDue,
    ReviewKind,
    ReviewOut,
    ReviewPatch,
    ReviewSummary,
    SupportSplit,
)
from registry.outcomes.tables import (
    Activation,
    OwnResource,
    PlanClosure,
    PlanFollowUp,
    PlanGoal,
    PlanReview,
    ReviewLevel,
)
from registry.plans.schemas import PlanStatus
from registry.plans.service import plan_row, require_plan_role, visible_where
from registry.plans.tables import Need, Plan
from registry.users.tables import User

ROME = ZoneInfo("Europe/Rome")
_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)


def local_today(moment: datetime | None = None) -> date:
    """The day in Italy (the ambiti are Italian): what "today" means for due dates."""
    return (moment or utcnow()).astimezone(ROME).date()


def _writer(actor: Principal) -> None:
    """After the plan's lookup (a 404 first): only its social workers change outcomes."""
    actor.require(Role.SOCIAL_WORKER)


def _open(plan: dict[str, Any]) -> None:
    if plan["status"] == PlanStatus.CLOSED.value:
        raise Conflict("the plan is closed: reopen it to change its goals, reviews or resources")


def _not_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise InvalidInput(f"{field} is in the future", field=field)


# --- goals ---------------------------------------------------------------------------------


async def _goal_rows(plan_id: uuid.UUID) -> list[dict[str, Any]]:
    return await (
        PlanGoal.select()
        .where(PlanGoal.plan == plan_id)
        .order_by(PlanGoal.position)
        .order_by(PlanGoal.created_at)
        .order_by(PlanGoal.id)
        .output(load_json=True)
    )


async def _level_rows(where: Any) -> list[dict[str, Any]]:
    return await ReviewLevel.select(
        ReviewLevel.review,
        ReviewLevel.goal,
        ReviewLevel.level,
        ReviewLevel.review.plan.as_alias("plan"),
        ReviewLevel.review.held_on.as_alias("held_on"),
        ReviewLevel.review.created_at.as_alias("created_at"),
    ).where(where)


def _latest(rows: Iterable[dict[str, Any]], as_of: date | None = None) -> dict[uuid.UUID, dict]:
    """The latest level of each goal (by review date, then recording time)."""
    latest: dict[uuid.UUID, dict] = {}
    for row in rows:
        if as_of is not None and row["held_on"] > as_of:
            continue
        current = latest.get(row["goal"])
        if current is None or (row["held_on"], row["created_at"]) > (
            current["held_on"],
            current["created_at"],
        ):
            latest[row["goal"]] = row
    return latest


def _goal_out(row: dict[str, Any], latest: dict[uuid.UUID, dict]) -> GoalOut:
    level = latest.get(row["id"])
    return GoalOut(
        id=row["id"],
        plan_id=row["plan"],
        position=row["position"],
        title=row["title"],
        scale=list(row["scale"] or []),
        weight=row["weight"],
        baseline=row["baseline"],
        need_id=row["need_id"],
        status=GoalStatus(row["status"]),
        latest_level=level["level"] if level else None,
        latest_level_on=level["held_on"] if level else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _goals_out(plan_id: uuid.UUID) -> list[GoalOut]:
    rows = await _goal_rows(plan_id)
    latest = _latest(await _level_rows(ReviewLevel.review.plan == plan_id))
    return [_goal_out(r, latest) for r in rows]


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
    plan = await plan_row(actor, plan_id)
    _writer(actor)
    _open(plan)
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
    if values:
        values["updated_at"] = now or utcnow()
        async with unit_of_work():
            await PlanGoal.update(values).where(PlanGoal.id == goal_id)
            changed = ", ".join(sorted(k for k in values if k != "updated_at"))
            await audit.record(actor, AuditAction.GOAL_UPDATE, plan_id, detail=changed)
    return await _goal(plan_id, goal_id)


# --- reviews -------------------------------------------------------------------------------


def _check_levels(
    levels: Sequence[LevelIn],
    goals: dict[uuid.UUID, dict[str, Any]],
    field: str = "levels",
    rated_before: frozenset[uuid.UUID] = frozenset(),
) -> None:
    """Each level names an active goal of the plan once (a review being corrected may keep
    the goals it rated before they were dropped)."""
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(levels):
        goal = goals.get(item.goal_id)
        if goal is None:
            raise InvalidInput("no such goal in this plan", field=f"{field}[{index}].goal_id")
        if goal["status"] != GoalStatus.ACTIVE.value and item.goal_id not in rated_before:
            raise InvalidInput(
                "the goal was dropped: it is not rated any more", field=f"{field}[{index}].goal_id"
            )
        if item.goal_id in seen:
            raise InvalidInput("the goal is rated twice", field=f"{field}[{index}].goal_id")
        seen.add(item.goal_id)


def _review_t(levels: Sequence[LevelOut], weights: dict[uuid.UUID, int]) -> float | None:
    score = t_score((lv.level, weights.get(lv.goal_id, 1)) for lv in levels)
    return None if score is None else round(score, 1)


async def _review_outs(plan_id: uuid.UUID, review_id: uuid.UUID | None = None) -> list[ReviewOut]:
    where = PlanReview.plan == plan_id
    if review_id is not None:
        where &= PlanReview.id == review_id
    rows = await (
        PlanReview.select(
            *PlanReview.all_columns(), PlanReview.created_by.username.as_alias("username")
        )
        .where(where)
        .order_by(PlanReview.held_on, ascending=False)
        .order_by(PlanReview.created_at, ascending=False)
        .order_by(PlanReview.id)
    )
    ids = [r["id"] for r in rows]
    levels: dict[uuid.UUID, list[LevelOut]] = {i: [] for i in ids}
    if ids:
        for lv in (
            await ReviewLevel.select(
                ReviewLevel.review, ReviewLevel.goal, ReviewLevel.level, ReviewLevel.goal.position
            )
            .where(ReviewLevel.review.is_in(ids))
            .order_by(ReviewLevel.goal.position)
        ):
            levels[lv["review"]].append(LevelOut(goal_id=lv["goal"], level=lv["level"]))
    weights = {
        g["id"]: g["weight"]
        for g in await PlanGoal.select(PlanGoal.id, PlanGoal.weight).where(PlanGoal.plan == plan_id)
    }
    return [
        ReviewOut(
            id=r["id"],
            plan_id=r["plan"],
            kind=ReviewKind(r["kind"]),
            held_on=r["held_on"],
            due_on=r["due_on"],
            on_time=None if r["due_on"] is None else r["held_on"] <= r["due_on"],
            participants=[ParticipantRole(p) for p in r["participants"] or []],
            levels=levels[r["id"]],
            changes=r["changes"],
            next_review_on=r["next_review_on"],
            t_score=_review_t(levels[r["id"]], weights),
            created_by_username=r["username"],
            created_at=r["created_at"],
            notes=r["notes"],
        )
        for r in rows
    ]


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


async def _follow_up(plan_id: uuid.UUID) -> dict[str, Any] | None:
    return await PlanFollowUp.select().where(PlanFollowUp.plan == plan_id).first()


async def _set_next_review(
    ambito_id: uuid.UUID, plan_id: uuid.UUID, next_review_on: date | None, moment: datetime
) -> None:
    """Inside the caller's unit of work. An upsert: two reviews recorded at once for a plan
    without a follow-up row yet must not collide on its unique plan (a 500 on PostgreSQL)."""
    await PlanFollowUp.insert(
        PlanFollowUp(
            ambito=ambito_id, plan=plan_id, next_review_on=next_review_on, updated_at=moment
        )
    ).on_conflict(
        target=PlanFollowUp.plan,
        action="DO UPDATE",
        values=[PlanFollowUp.next_review_on, PlanFollowUp.updated_at],
    )


async def _resolve_overdue(ambito_id: uuid.UUID, plan_id: uuid.UUID) -> None:
    from registry.notifications.events import EventType
    from registry.notifications.service import resolve

    await resolve(ambito_id, review_subject(plan_id), (EventType.REVIEW_OVERDUE,))


def review_subject(plan_id: uuid.UUID) -> str:
    return f"plan:{plan_id}:review"


async def _goal_map(plan_id: uuid.UUID) -> dict[uuid.UUID, dict[str, Any]]:
    return {g["id"]: g for g in await _goal_rows(plan_id)}


async def create_review(
    actor: Principal, plan_id: uuid.UUID, data: ReviewCreate, *, now: datetime | None = None
) -> ReviewOut:
    plan = await plan_row(actor, plan_id)
    _writer(actor)
    _open(plan)
    moment = now or utcnow()
    today = local_today(moment)
    _not_future(data.held_on, today, "held_on")
    if data.held_on < plan["start_date"]:
        raise InvalidInput("the review cannot be held before the plan starts", field="held_on")
    if data.next_review_on is not None and data.next_review_on <= data.held_on:
        raise InvalidInput("the next review must come after this one", field="next_review_on")
    if len(set(data.participants)) != len(data.participants):
        raise InvalidInput("a role is listed twice", field="participants")
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


async def _insert_levels(
    ambito_id: uuid.UUID, review_id: uuid.UUID, levels: Sequence[LevelIn]
) -> None:
    if levels:
        await ReviewLevel.insert(
            *(
                ReviewLevel(ambito=ambito_id, review=review_id, goal=lv.goal_id, level=lv.level)
                for lv in levels
            )
        )


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
        if len(set(values["participants"])) != len(values["participants"]):
            raise InvalidInput("a role is listed twice", field="participants")
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


async def set_next_review(
    actor: Principal, plan_id: uuid.UUID, data: NextReviewIn, *, now: datetime | None = None
) -> OutcomesOut:
    """The date of the next review, set or moved (e.g. the first one, when goals are set)."""
    plan = await plan_row(actor, plan_id)
    _writer(actor)
    _open(plan)
    moment = now or utcnow()
    if data.next_review_on is not None and data.next_review_on < local_today(moment):
        raise InvalidInput("the next review cannot be in the past", field="next_review_on")
    async with unit_of_work():
        await _set_next_review(actor.ambito_id, plan_id, data.next_review_on, moment)
        await audit.record(actor, AuditAction.NEXT_REVIEW_SET, plan_id)
    return await _outcomes(actor, plan_id, plan, moment)


# --- closure -------------------------------------------------------------------------------


async def _closure_out(plan_id: uuid.UUID) -> ClosureOut | None:
    row = await (
        PlanClosure.select(
            *PlanClosure.all_columns(), PlanClosure.created_by.username.as_alias("username")
        )
        .where(PlanClosure.plan == plan_id)
        .first()
    )
    if row is None:
        return None
    review = (await _review_outs(plan_id, row["review"]))[0] if row["review"] else None
    reason = ClosureReason(row["reason"])
    return ClosureOut(
        plan_id=plan_id,
        closed_on=row["closed_on"],
        reason=reason,
        reason_label=CLOSURE_REASON_LABELS[reason],
        review_id=row["review"],
        levels=review.levels if review else [],
        t_score=review.t_score if review else None,
        note=row["note"],
        created_by_username=row["username"],
        created_at=row["created_at"],
    )


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
    if len(set(data.participants)) != len(data.participants):
        raise InvalidInput("a role is listed twice", field="participants")
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
        # Again under the write lock: a closure recorded since the check above wins.
        status = await Plan.select(Plan.status).where(Plan.id == plan_id).first()
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
        await PlanClosure.delete().where(PlanClosure.plan == plan_id)
        if closure["review"]:
            await PlanReview.delete().where(PlanReview.id == closure["review"])
        await Plan.update({Plan.status: PlanStatus.ACTIVE.value, Plan.updated_at: moment}).where(
            Plan.id == plan_id
        )
        await audit.record(actor, AuditAction.PLAN_REOPEN, plan_id)


# --- own resources -------------------------------------------------------------------------


def _own_out(row: dict[str, Any]) -> OwnResourceOut:
    return OwnResourceOut(
        id=row["id"],
        plan_id=row["plan"],
        kind=OwnResourceKind(row["kind"]),
        source=OwnResourceSource(row["source"]),
        description=row["description"],
        minutes_per_week=row["minutes_per_week"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _own_rows(plan_id: uuid.UUID) -> list[dict[str, Any]]:
    return await (
        OwnResource.select()
        .where(OwnResource.plan == plan_id)
        .order_by(OwnResource.created_at)
        .order_by(OwnResource.id)
    )


async def list_own_resources(actor: Principal, plan_id: uuid.UUID) -> list[OwnResourceOut]:
    await plan_row(actor, plan_id)
    rows = await _own_rows(plan_id)
    await audit.record(actor, AuditAction.OWN_RESOURCES_READ, plan_id)
    return [_own_out(r) for r in rows]


def _check_dates(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise InvalidInput("end_date must not be before start_date", field="end_date")


async def create_own_resource(
    actor: Principal, plan_id: uuid.UUID, data: OwnResourceCreate, *, now: datetime | None = None
) -> OwnResourceOut:
    plan = await plan_row(actor, plan_id)
    _writer(actor)
    _open(plan)
    _check_dates(data.start_date, data.end_date)
    moment = now or utcnow()
    row = OwnResource(
        ambito=actor.ambito_id,
        plan=plan_id,
        kind=data.kind.value,
        source=data.source.value,
        description=data.description,
        minutes_per_week=data.minutes_per_week,
        start_date=data.start_date,
        end_date=data.end_date,
        created_at=moment,
        updated_at=moment,
    )
    async with unit_of_work():
        await row.save()
        await audit.record(actor, AuditAction.OWN_RESOURCE_WRITE, plan_id, detail="create")
    return await _own(plan_id, row.id)


async def _own(plan_id: uuid.UUID, resource_id: uuid.UUID) -> OwnResourceOut:
    row = (
        await OwnResource.select()
        .where((OwnResource.id == resource_id) & (OwnResource.plan == plan_id))
        .first()
    )
    if row is None:
        raise NotFound("no such resource of the person in this plan")
    return _own_out(row)


async def update_own_resource(
    actor: Principal,
    plan_id: uuid.UUID,
    resource_id: uuid.UUID,
    patch: OwnResourcePatch,
    *,
    now: datetime | None = None,
) -> OwnResourceOut:
    plan = await plan_row(actor, plan_id)
    current = await _own(plan_id, resource_id)
    _writer(actor)
    _open(plan)
    values = set_fields(patch)
    _check_dates(
        values.get("start_date", current.start_date), values.get("end_date", current.end_date)
    )
    for key in ("kind", "source"):
        if key in values:
            values[key] = values[key].value
    if values:
        values["updated_at"] = now or utcnow()
        async with unit_of_work():
            await OwnResource.update(values).where(OwnResource.id == resource_id)
            changed = ", ".join(sorted(k for k in values if k != "updated_at"))
            await audit.record(actor, AuditAction.OWN_RESOURCE_WRITE, plan_id, detail=changed)
    return await _own(plan_id, resource_id)


async def delete_own_resource(actor: Principal, plan_id: uuid.UUID, resource_id: uuid.UUID) -> None:
    plan = await plan_row(actor, plan_id)
    await _own(plan_id, resource_id)
    _writer(actor)
    _open(plan)
    async with unit_of_work():
        await OwnResource.delete().where(OwnResource.id == resource_id)
        await audit.record(actor, AuditAction.OWN_RESOURCE_WRITE, plan_id, detail="delete")


# --- activation ----------------------------------------------------------------------------

_ACTIVATION_COLUMNS = (
    *Activation.all_columns(),
    Activation.holder.name.as_alias("holder_name"),
    Activation.activity.title.as_alias("activity_title"),
)


def _activation_out(row: dict[str, Any]) -> ActivationOut:
    return ActivationOut(
        id=row["id"],
        plan_id=row["plan"],
        kind=ActivationKind(row["kind"]),
        volunteer_id=row["volunteer"],
        holder_id=row["holder"],
        holder_name=row["holder_name"],
        activity_id=row["activity"],
        activity_title=row["activity_title"],
        consent_on=row["consent_on"],
        started_on=row["started_on"],
        created_at=row["created_at"],
    )


async def _activation_rows(plan_id: uuid.UUID) -> list[dict[str, Any]]:
    return await (
        Activation.select(*_ACTIVATION_COLUMNS)
        .where(Activation.plan == plan_id)
        .order_by(Activation.started_on)
        .order_by(Activation.id)
    )


async def list_activations(actor: Principal, plan_id: uuid.UUID) -> list[ActivationOut]:
    await plan_row(actor, plan_id)
    rows = await _activation_rows(plan_id)
    await audit.record(actor, AuditAction.ACTIVATIONS_READ, plan_id)
    return [_activation_out(r) for r in rows]


async def _check_activation(actor: Principal, data: ActivationCreate) -> None:
    if data.kind is ActivationKind.VOLUNTEER:
        if data.activity_id is not None:
            raise InvalidInput("a volunteer activation names no activity", field="activity_id")
        if data.volunteer_id is None and data.holder_id is None:
            raise InvalidInput(
                "name the volunteer account or the holder the person gives time with",
                field="volunteer_id",
            )
    else:
        if data.activity_id is None:
            raise InvalidInput("name the community activity the person joins", field="activity_id")
        if data.volunteer_id is not None:
            raise InvalidInput("an activity activation names no volunteer", field="volunteer_id")
    if data.volunteer_id is not None:
        user = (
            await User.select(User.role)
            .where((User.id == data.volunteer_id) & (User.ambito == actor.ambito_id))
            .first()
        )
        if user is None or user["role"] != Role.VOLUNTEER.value:
            raise InvalidInput("not a volunteer of this ambito", field="volunteer_id")
    if data.holder_id is not None and not await Holder.exists().where(
        (Holder.id == data.holder_id) & (Holder.ambito == actor.ambito_id)
    ):
        raise InvalidInput("no such holder in this ambito", field="holder_id")
    if data.activity_id is not None and not await CommunityActivity.exists().where(
        (CommunityActivity.id == data.activity_id) & (CommunityActivity.ambito == actor.ambito_id)
    ):
        raise InvalidInput("no such community activity in this ambito", field="activity_id")


async def create_activation(
    actor: Principal, plan_id: uuid.UUID, data: ActivationCreate, *, now: datetime | None = None
) -> ActivationOut:
    """The person became a contributor. Only the plan's side records and reads the link:
    nothing of it is shown to the holder or the volunteer account."""
    plan = await plan_row(actor, plan_id)
    _writer(actor)
    moment = now or utcnow()
    today = local_today(moment)
    _not_future(data.consent_on, today, "consent_on")
    _not_future(data.started_on, today, "started_on")
    if data.started_on < plan["start_date"]:
        raise InvalidInput(
            "a person becomes a contributor after the plan starts", field="started_on"
        )
    await _check_activation(actor, data)
    row = Activation(
        ambito=actor.ambito_id,
        plan=plan_id,
        kind=data.kind.value,
        volunteer=data.volunteer_id,
        holder=data.holder_id,
        activity=data.activity_id,
        consent_on=data.consent_on,
        started_on=data.started_on,
        created_by=actor.user_id,
        created_at=moment,
    )
    async with unit_of_work():
        await row.save()
        await audit.record(actor, AuditAction.ACTIVATION_WRITE, plan_id, detail="create")
    for found in await _activation_rows(plan_id):
        if found["id"] == row.id:
            return _activation_out(found)
    raise NotFound("no such activation")  # pragma: no cover - just written


async def delete_activation(actor: Principal, plan_id: uuid.UUID, activation_id: uuid.UUID) -> None:
    await plan_row(actor, plan_id)
    if not await Activation.exists().where(
        (Activation.id == activation_id) & (Activation.plan == plan_id)
    ):
        raise NotFound("no such activation in this plan")
    _writer(actor)
    async with unit_of_work():
        await Activation.delete().where(Activation.id == activation_id)
        await audit.record(actor, AuditAction.ACTIVATION_WRITE, plan_id, detail="delete")


# --- the plan's outcomes at a glance -------------------------------------------------------


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
    from registry.contributions.service import effective_where
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


async def review_schedule(
    actor: Principal, *, overdue_only: bool = False, now: datetime | None = None
) -> list[ReviewDue]:
    """The open plans the caller may see with their next review, soonest (most overdue)
    first; plans with no date set come last. Pseudonyms only, like the plan list."""
    require_plan_role(actor)
    today = local_today(now)
    rows = await Plan.select(
        Plan.id, Plan.case_code, Plan.owner.username.as_alias("owner_username")
    ).where(visible_where(actor) & (Plan.status != PlanStatus.CLOSED.value))
    ids = [r["id"] for r in rows]
    follow = {}
    last: dict[uuid.UUID, date] = {}
    if ids:
        follow = {
            f["plan"]: f["next_review_on"]
            for f in await PlanFollowUp.select(
                PlanFollowUp.plan, PlanFollowUp.next_review_on
            ).where(PlanFollowUp.plan.is_in(ids))
        }
        for r in await PlanReview.select(PlanReview.plan, PlanReview.held_on).where(
            PlanReview.plan.is_in(ids) & (PlanReview.kind == ReviewKind.REVIEW.value)
        ):
            if r["plan"] not in last or r["held_on"] > last[r["plan"]]:
                last[r["plan"]] = r["held_on"]
    out = []
    for r in rows:
        due = follow.get(r["id"])
        overdue = due is not None and due < today
        if overdue_only and not overdue:
            continue
        out.append(
            ReviewDue(
                plan_id=r["id"],
                case_code=r["case_code"],
                owner_username=r["owner_username"],
                next_review_on=due,
                overdue=overdue,
                last_review_on=last.get(r["id"]),
            )
        )
    out.sort(key=lambda d: (d.next_review_on is None, d.next_review_on or today, d.case_code))
    await audit.record(actor, AuditAction.PLAN_LIST, detail=f"review schedule: {len(out)} plans")
    return out


# --- the overdue-review job ----------------------------------------------------------------


async def notify_overdue_reviews(now: datetime, ambito_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    """Tell the social workers of each open plan whose review is past due, once per due date
    (the follow-up row remembers the date it told about). Idempotent."""
    from registry.notifications import workflow

    today = local_today(now)
    rows = await PlanFollowUp.select(
        PlanFollowUp.id,
        PlanFollowUp.ambito,
        PlanFollowUp.plan,
        PlanFollowUp.next_review_on,
        PlanFollowUp.overdue_notified_for,
        PlanFollowUp.plan.case_code.as_alias("case_code"),
        PlanFollowUp.plan.status.as_alias("status"),
    ).where(
        PlanFollowUp.ambito.is_in(list(ambito_ids))
        & PlanFollowUp.next_review_on.is_not_null()
        & (PlanFollowUp.next_review_on < today)
    )
    told = 0
    for row in rows:
        due = row["next_review_on"]
        if row["status"] == PlanStatus.CLOSED.value or row["overdue_notified_for"] == due:
            continue
        async with unit_of_work():
            await workflow.review_overdue(
                row["ambito"], row["plan"], row["case_code"], due, review_subject(row["plan"])
            )
            await PlanFollowUp.update({PlanFollowUp.overdue_notified_for: due}).where(
                PlanFollowUp.id == row["id"]
            )
        told += 1
    return {"overdue_told": told}


# --- erasure (issue 19) --------------------------------------------------------------------


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


# --- loaders for the outcome figures -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanRecord:
    plan_id: uuid.UUID
    comune: str
    target_group: str
    start_date: date
    end_date: date | None
    status: str
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class GoalRecord:
    plan_id: uuid.UUID
    goal_id: uuid.UUID
    comune: str
    target_group: str
    weight: int
    baseline: int
    status: str
    latest_level: int | None
    latest_level_on: date | None


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    plan_id: uuid.UUID
    review_id: uuid.UUID | None
    comune: str
    target_group: str
    kind: str
    held_on: date | None
    due_on: date | None
    on_time: bool | None


@dataclass(frozen=True, slots=True)
class TScoreRecord:
    plan_id: uuid.UUID
    comune: str
    target_group: str
    review_on: date
    baseline_t: float
    latest_t: float


@dataclass(frozen=True, slots=True)
class ClosureRecord:
    plan_id: uuid.UUID
    comune: str
    target_group: str
    closed_on: date
    reason: str
    baseline_t: float | None
    final_t: float | None


@dataclass(frozen=True, slots=True)
class OwnResourceRecord:
    plan_id: uuid.UUID
    comune: str
    target_group: str
    kind: str
    source: str
    minutes_per_week: int
    start_date: date | None
    end_date: date | None
    hours_in_period: float


@dataclass(frozen=True, slots=True)
class ActivationRecord:
    plan_id: uuid.UUID
    comune: str
    target_group: str
    kind: str
    started_on: date


async def _plans(ambito_id: uuid.UUID) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await Plan.select(
        Plan.id, Plan.comune, Plan.target_group, Plan.start_date, Plan.end_date, Plan.status
    ).where(Plan.ambito == ambito_id)
    closed = {
        r["plan"]: r["closed_on"]
        for r in await PlanClosure.select(PlanClosure.plan, PlanClosure.closed_on).where(
            PlanClosure.ambito == ambito_id
        )
    }
    for row in rows:
        row["closed_on"] = closed.get(row["id"])
    return {r["id"]: r for r in rows}


def _plan_end(plan: dict[str, Any]) -> date | None:
    ends = [d for d in (plan["end_date"], plan["closed_on"]) if d is not None]
    return min(ends) if ends else None


def _overlaps(plan: dict[str, Any], start: date, end: date) -> bool:
    plan_end = _plan_end(plan)
    return plan["start_date"] <= end and (plan_end is None or plan_end >= start)


async def load_plans(
    ambito_id: uuid.UUID, start: date, end: date, *, today: date | None = None
) -> list[PlanRecord]:
    plans = await _plans(ambito_id)
    return [
        PlanRecord(
            plan_id=p["id"],
            comune=p["comune"],
            target_group=p["target_group"],
            start_date=p["start_date"],
            end_date=p["end_date"],
            status=p["status"],
            closed_on=p["closed_on"],
        )
        for p in plans.values()
        if _overlaps(p, start, end)
    ]


async def load_goals(
    ambito_id: uuid.UUID, start: date, end: date, *, today: date | None = None
) -> list[GoalRecord]:
    plans = await _plans(ambito_id)
    latest = _latest(await _level_rows(ReviewLevel.ambito == ambito_id), as_of=end)
    goals = await PlanGoal.select(
        PlanGoal.id, PlanGoal.plan, PlanGoal.weight, PlanGoal.baseline, PlanGoal.status
    ).where(PlanGoal.ambito == ambito_id)
    out = []
    for g in goals:
        plan = plans[g["plan"]]
        if not _overlaps(plan, start, end):
            continue
        level = latest.get(g["id"])
        out.append(
            GoalRecord(
                plan_id=g["plan"],
                goal_id=g["id"],
                comune=plan["comune"],
                target_group=plan["target_group"],
                weight=g["weight"],
                baseline=g["baseline"],
                status=g["status"],
                latest_level=level["level"] if level else None,
                latest_level_on=level["held_on"] if level else None,
            )
        )
    return out


async def load_reviews(
    ambito_id: uuid.UUID, start: date, end: date, *, today: date | None = None
) -> list[ReviewRecord]:
    today = today or local_today()
    plans = await _plans(ambito_id)
    rows = await PlanReview.select(
        PlanReview.id, PlanReview.plan, PlanReview.kind, PlanReview.held_on, PlanReview.due_on
    ).where(PlanReview.ambito == ambito_id)
    out = []
    for r in rows:
        in_period = start <= r["held_on"] <= end or (
            r["due_on"] is not None and start <= r["due_on"] <= end
        )
        if not in_period:
            continue
        plan = plans[r["plan"]]
        out.append(
            ReviewRecord(
                plan_id=r["plan"],
                review_id=r["id"],
                comune=plan["comune"],
                target_group=plan["target_group"],
                kind=r["kind"],
                held_on=r["held_on"],
                due_on=r["due_on"],
                on_time=None if r["due_on"] is None else r["held_on"] <= r["due_on"],
            )
        )
    waiting = await PlanFollowUp.select(PlanFollowUp.plan, PlanFollowUp.next_review_on).where(
        (PlanFollowUp.ambito == ambito_id)
        & (PlanFollowUp.next_review_on >= start)
        & (PlanFollowUp.next_review_on <= end)
    )
    for w in waiting:
        plan = plans[w["plan"]]
        if plan["status"] == PlanStatus.CLOSED.value:
            continue
        due = w["next_review_on"]
        out.append(
            ReviewRecord(
                plan_id=w["plan"],
                review_id=None,
                comune=plan["comune"],
                target_group=plan["target_group"],
                kind=ReviewKind.REVIEW.value,
                held_on=None,
                due_on=due,
                on_time=False if due < today else None,
            )
        )
    return out


async def load_t_scores(
    ambito_id: uuid.UUID, start: date, end: date, *, today: date | None = None
) -> list[TScoreRecord]:
    plans = await _plans(ambito_id)
    goals = {
        g["id"]: g
        for g in await PlanGoal.select(PlanGoal.id, PlanGoal.weight, PlanGoal.baseline).where(
            PlanGoal.ambito == ambito_id
        )
    }
    by_review: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for lv in await _level_rows(ReviewLevel.ambito == ambito_id):
        if start <= lv["held_on"] <= end:
            by_review.setdefault(lv["review"], []).append(lv)
    latest: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for levels in by_review.values():
        first = levels[0]
        current = latest.get(first["plan"])
        if current is None or (first["held_on"], first["created_at"]) > (
            current[0]["held_on"],
            current[0]["created_at"],
        ):
            latest[first["plan"]] = levels
    out = []
    for plan_id, levels in latest.items():
        plan = plans[plan_id]
        weights = [goals[lv["goal"]]["weight"] for lv in levels]
        now_t = t_score((lv["level"], w) for lv, w in zip(levels, weights, strict=True))
        base_t = t_score(
            (goals[lv["goal"]]["baseline"], w) for lv, w in zip(levels, weights, strict=True)
        )
        if now_t is None or base_t is None:
            continue
        out.append(
            TScoreRecord(
                plan_id=plan_id,
                comune=plan["comune"],
                target_group=plan["target_group"],
                review_on=levels[0]["held_on"],
                baseline_t=base_t,
                latest_t=now_t,
            )
        )
    return out


async def load_closures(
    ambito_id: uuid.UUID, start: date, end: date, *, today: date | None = None
) -> list[ClosureRecord]:
    plans = await _plans(ambito_id)
    rows = await PlanClosure.select(
        PlanClosure.plan, PlanClosure.closed_on, PlanClosure.reason, PlanClosure.review
    ).where(
        (PlanClosure.ambito == ambito_id)
        & (PlanClosure.closed_on >= start)
        & (PlanClosure.closed_on <= end)
    )
    review_ids = [r["review"] for r in rows if r["review"]]
    levels: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if review_ids:
        for lv in await ReviewLevel.select(
            ReviewLevel.review,
            ReviewLevel.level,
            ReviewLevel.goal.weight.as_alias("weight"),
            ReviewLevel.goal.baseline.as_alias("baseline"),
        ).where(ReviewLevel.review.is_in(review_ids)):
            levels.setdefault(lv["review"], []).append(lv)
    out = []
    for r in rows:
        plan = plans[r["plan"]]
        final = levels.get(r["review"], [])
        out.append(
            ClosureRecord(
                plan_id=r["plan"],
                comune=plan["comune"],
                target_group=plan["target_group"],
                closed_on=r["closed_on"],
                reason=r["reason"],
                baseline_t=t_score((lv["baseline"], lv["weight"]) for lv in final),
                final_t=t_score((lv["level"], lv["weight"]) for lv in final),
            )
        )
    return out


def hours_in_period(
    minutes_per_week: int, first: date | None, last: date | None, start: date, end: date
) -> float:
    """Hours a weekly amount gives between `first` and `last` (None: open) inside
    [start, end], both days included."""
    lo = max(first or start, start)
    hi = min(last or end, end)
    if hi < lo:
        return 0.0
    days = (hi - lo).days + 1
    return minutes_per_week * days / 7 / 60


async def load_own_resources(
    ambito_id: uuid.UUID, start: date, end: date, *, today: date | None = None
) -> list[OwnResourceRecord]:
    plans = await _plans(ambito_id)
    rows = await OwnResource.select(
        OwnResource.plan,
        OwnResource.kind,
        OwnResource.source,
        OwnResource.minutes_per_week,
        OwnResource.start_date,
        OwnResource.end_date,
    ).where(OwnResource.ambito == ambito_id)
    out = []
    for r in rows:
        plan = plans[r["plan"]]
        if not _overlaps(plan, start, end):
            continue
        first = r["start_date"] or plan["start_date"]
        ends = [d for d in (r["end_date"], _plan_end(plan)) if d is not None]
        last = min(ends) if ends else None
        if first > end or (last is not None and last < start):
            continue
        out.append(
            OwnResourceRecord(
                plan_id=r["plan"],
                comune=plan["comune"],
                target_group=plan["target_group"],
                kind=r["kind"],
                source=r["source"],
                minutes_per_week=r["minutes_per_week"],
                start_date=r["start_date"],
                end_date=r["end_date"],
                hours_in_period=hours_in_period(r["minutes_per_week"], first, last, start, end),
            )
        )
    return out


async def load_activations(
    ambito_id: uuid.UUID, start: date, end: date, *, today: date | None = None
) -> list[ActivationRecord]:
    plans = await _plans(ambito_id)
    rows = await Activation.select(Activation.plan, Activation.kind, Activation.started_on).where(
        (Activation.ambito == ambito_id)
        & (Activation.started_on >= start)
        & (Activation.started_on <= end)
    )
    return [
        ActivationRecord(
            plan_id=r["plan"],
            comune=plans[r["plan"]]["comune"],
            target_group=plans[r["plan"]]["target_group"],
            kind=r["kind"],
            started_on=r["started_on"],
        )
        for r in rows
    ]
