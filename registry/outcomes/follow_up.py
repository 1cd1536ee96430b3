"""The next review of a plan: the follow-up row that remembers its date, the open plans'
next reviews (`review_schedule`, for the social worker's list) and the overdue-review job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from registry.access import Principal
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.db import unit_of_work
from registry.italian import today as local_today
from registry.outcomes.schemas import ReviewDue, ReviewKind
from registry.outcomes.tables import PlanFollowUp, PlanReview
from registry.plans.schemas import PlanStatus
from registry.plans.service import require_plan_role, visible_where
from registry.plans.tables import Plan


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
