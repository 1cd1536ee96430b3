"""The access log of personal data: written by the services, read by the UdP only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.audit.schemas import AccessLogOut, AuditAction
from registry.audit.tables import AccessLog
from registry.common import Page, now


async def record(
    actor: Principal,
    action: AuditAction,
    plan_id: uuid.UUID | None = None,
    *,
    need_id: uuid.UUID | None = None,
    detail: str = "",
) -> None:
    """Append one row. Callers write it before returning the data, so a read whose log
    row cannot be stored fails instead of going unrecorded."""
    await AccessLog.insert(
        AccessLog(
            ambito=actor.ambito_id,
            user=actor.user_id,
            username=actor.username,
            role=actor.role.value,
            at=now(),
            action=action.value,
            plan_id=plan_id,
            need_id=need_id,
            detail=detail[:300],
        )
    )


def _out(row: dict[str, Any]) -> AccessLogOut:
    return AccessLogOut(
        id=row["id"],
        at=row["at"],
        user_id=row["user"],
        username=row["username"],
        role=row["role"],
        action=AuditAction(row["action"]),
        plan_id=row["plan_id"],
        need_id=row["need_id"],
        detail=row["detail"],
    )


async def list_entries(
    actor: Principal,
    *,
    plan_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    action: AuditAction | None = None,
    since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AccessLogOut]:
    actor.require(Role.UDP_ADMIN)
    where = AccessLog.ambito == actor.ambito_id
    if plan_id:
        where &= AccessLog.plan_id == plan_id
    if user_id:
        where &= AccessLog.user == user_id
    if action:
        where &= AccessLog.action == action.value
    if since:
        where &= AccessLog.at >= since
    rows = (
        await AccessLog.select()
        .where(where)
        .order_by(AccessLog.at, ascending=False)
        .order_by(AccessLog.id)
        .limit(limit)
        .offset(offset)
    )
    total = await AccessLog.count().where(where)
    return Page(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)
