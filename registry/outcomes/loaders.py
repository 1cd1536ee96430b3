"""Loaders for the outcome figures (issue 15).

Plain functions, no actor: the figures' endpoint checks the UdP role
and passes its ambito. Each takes `(ambito_id, start, end, *, today=None)`, the period's first
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

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from registry.italian import today as local_today
from registry.outcomes.gas import t_score
from registry.outcomes.records import _latest, _level_rows
from registry.outcomes.schemas import ReviewKind
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
from registry.plans.tables import Plan


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
