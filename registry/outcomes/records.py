"""A plan's goals, reviews, closure and own resources read into what the API returns, and
the levels a review or a closure records: shared by the jobs that write them
(goals.py, reviews.py, closure.py, own_resources.py) and the plan's overview (overview.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from registry.errors import InvalidInput
from registry.outcomes.gas import t_score
from registry.outcomes.schemas import (
    CLOSURE_REASON_LABELS,
    ClosureOut,
    ClosureReason,
    GoalOut,
    GoalStatus,
    LevelIn,
    LevelOut,
    ParticipantRole,
    ReviewKind,
    ReviewOut,
)
from registry.outcomes.tables import OwnResource, PlanClosure, PlanGoal, PlanReview, ReviewLevel


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


def _check_participants(participants: Sequence[ParticipantRole]) -> None:
    if len(set(participants)) != len(participants):
        raise InvalidInput("a role is listed twice", field="participants")


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


async def _goal_map(plan_id: uuid.UUID) -> dict[uuid.UUID, dict[str, Any]]:
    return {g["id"]: g for g in await _goal_rows(plan_id)}


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


async def _own_rows(plan_id: uuid.UUID) -> list[dict[str, Any]]:
    return await (
        OwnResource.select()
        .where(OwnResource.plan == plan_id)
        .order_by(OwnResource.created_at)
        .order_by(OwnResource.id)
    )
