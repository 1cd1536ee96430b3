"""What changes for the person (issue 15): the rules every read and write of this domain
follows, and the day due dates are counted in.

Authorization follows the plan's detail (registry/plans/service.py `plan_row`): the owner, the
social workers it is shared with and the UdP read; only those social workers write (the UdP
reads, as it reads plan details); holder managers and volunteers get 403 before any lookup,
and a plan the caller may not see is a 404. Every read of goals, reviews, closure, own
resources and activations writes an access-log row; the log's detail never carries free text.
Review notes (private, like Plan.notes) are only in a review's own detail.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar

from piccolo.table import Table

from registry.access import Principal, Role
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import now as utcnow
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput
from registry.plans.schemas import PlanStatus
from registry.plans.service import plan_row

_Out = TypeVar("_Out")


def _writer(actor: Principal) -> None:
    """After the plan's lookup (a 404 first): only its social workers change outcomes."""
    actor.require(Role.SOCIAL_WORKER)


def _open(plan: dict[str, Any]) -> None:
    if plan["status"] == PlanStatus.CLOSED.value:
        raise Conflict("the plan is closed: reopen it to change its goals, reviews or resources")


async def _plan_to_write(actor: Principal, plan_id: uuid.UUID) -> dict[str, Any]:
    """The plan a social worker adds to: one the caller sees (else a 404), then the writer's
    role, then the plan open."""
    plan = await plan_row(actor, plan_id)
    _writer(actor)
    _open(plan)
    return plan


def _not_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise InvalidInput(f"{field} is in the future", field=field)


async def _read_logged(
    actor: Principal,
    plan_id: uuid.UUID,
    action: AuditAction,
    rows: Callable[[uuid.UUID], Awaitable[list[dict[str, Any]]]],
    out: Callable[[dict[str, Any]], _Out],
) -> list[_Out]:
    """The plan's records of one kind: the plan's lookup first (a 404), the read logged."""
    await plan_row(actor, plan_id)
    found = await rows(plan_id)
    await audit.record(actor, action, plan_id)
    return [out(r) for r in found]


async def _save_patch(
    actor: Principal,
    plan_id: uuid.UUID,
    table: type[Table],
    row_id: uuid.UUID,
    values: dict[str, Any],
    action: AuditAction,
    now: datetime | None,
) -> None:
    """Write the fields a PATCH changed (none: nothing) and log their names, never values."""
    if values:
        values["updated_at"] = now or utcnow()
        async with unit_of_work():
            await table.update(values).where(table._meta.primary_key == row_id)
            changed = ", ".join(sorted(k for k in values if k != "updated_at"))
            await audit.record(actor, action, plan_id, detail=changed)
