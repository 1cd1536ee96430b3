"""In-app notifications: a user's list, reading them, and the unread counts of its menus."""

from __future__ import annotations

import uuid
from typing import Any

from piccolo.query.functions.aggregate import Count

from registry.access import Principal
from registry.common import now as utcnow
from registry.errors import NotFound
from registry.notifications.events import EmailDue
from registry.notifications.schemas import NotificationOut, NotificationPage, UnreadCounts
from registry.notifications.tables import Notification


def _notification_out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(
        id=row["id"],
        event_type=row["event_type"],
        title=row["title"],
        body=row["body"],
        link=row["link"],
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


async def list_notifications(
    actor: Principal, *, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> NotificationPage:
    mine = (Notification.user == actor.user_id) & (Notification.ambito == actor.ambito_id)
    where = mine & Notification.read_at.is_null() if unread_only else mine
    rows = (
        await Notification.select()
        .where(where)
        .order_by(Notification.created_at, ascending=False)
        .order_by(Notification.id)
        .limit(limit)
        .offset(offset)
    )
    return NotificationPage(
        items=[_notification_out(r) for r in rows],
        total=await Notification.count().where(where),
        unread=await Notification.count().where(mine & Notification.read_at.is_null()),
        limit=limit,
        offset=offset,
    )


async def mark_read(actor: Principal, notification_id: uuid.UUID) -> NotificationOut:
    # Someone else's notification, even in the same ambito, does not exist for this user.
    mine = (
        (Notification.id == notification_id)
        & (Notification.user == actor.user_id)
        & (Notification.ambito == actor.ambito_id)
    )
    row = await Notification.select().where(mine).first()
    if row is None:
        raise NotFound("no such notification")
    if row["read_at"] is None:
        row["read_at"] = utcnow()
        # Read in the app: a digest need not repeat it.
        await Notification.update(
            {Notification.read_at: row["read_at"], Notification.email_due: EmailDue.NONE.value}
        ).where(mine)
    return _notification_out(row)


async def mark_all_read(actor: Principal) -> int:
    where = (
        (Notification.user == actor.user_id)
        & (Notification.ambito == actor.ambito_id)
        & Notification.read_at.is_null()
    )
    count = await Notification.count().where(where)
    await Notification.update(
        {Notification.read_at: utcnow(), Notification.email_due: EmailDue.NONE.value}
    ).where(where)
    return count


async def unread_counts(actor: Principal) -> UnreadCounts:
    rows = (
        await Notification.select(Notification.event_type, Count(alias="n"))
        .where(
            (Notification.user == actor.user_id)
            & (Notification.ambito == actor.ambito_id)
            & Notification.read_at.is_null()
        )
        .group_by(Notification.event_type)
    )
    by_type = {row["event_type"]: row["n"] for row in rows}
    return UnreadCounts(unread=sum(by_type.values()), by_type=by_type)
