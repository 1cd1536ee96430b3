"""The outbox, as the UdP sees it: its messages and their delivery, and a dead one retried."""

from __future__ import annotations

import uuid
from typing import Any

from piccolo.query.functions.aggregate import Count

from registry.access import Principal, Role
from registry.common import now as utcnow
from registry.errors import Conflict, NotFound
from registry.notifications.events import Channel, DeliveryStatus, EventType
from registry.notifications.schemas import OutboxOut, OutboxPage, OutboxSummary
from registry.notifications.tables import OutboxMessage


def _outbox_out(row: dict[str, Any]) -> OutboxOut:
    return OutboxOut(
        id=row["id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        channel=Channel(row["channel"]),
        endpoint_id=row["endpoint"],
        recipient=row["recipient"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"]
        if row["status"] in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
        else None,
        last_error=row["last_error"],
        last_status_code=row["last_status_code"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        delivered_at=row["delivered_at"],
    )


_OUTBOX_COLUMNS = [c for c in OutboxMessage.all_columns() if c._meta.name not in ("body",)]


async def list_outbox(
    actor: Principal,
    *,
    status: DeliveryStatus | None = None,
    event_type: EventType | None = None,
    limit: int = 50,
    offset: int = 0,
) -> OutboxPage:
    actor.require(Role.UDP_ADMIN)
    mine = OutboxMessage.ambito == actor.ambito_id
    where = mine
    if status:
        where &= OutboxMessage.status == status.value
    if event_type:
        where &= OutboxMessage.event_type == event_type.value
    # The body is left out: it may carry a reconfirmation link, a credential of its own.
    rows = (
        await OutboxMessage.select(*_OUTBOX_COLUMNS)
        .where(where)
        .order_by(OutboxMessage.created_at, ascending=False)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .offset(offset)
    )
    counts = {s.value: 0 for s in DeliveryStatus}
    for row in (
        await OutboxMessage.select(OutboxMessage.status, Count(alias="n"))
        .where(mine)
        .group_by(OutboxMessage.status)
    ):
        counts[row["status"]] = row["n"]
    return OutboxPage(
        items=[_outbox_out(r) for r in rows],
        total=await OutboxMessage.count().where(where),
        limit=limit,
        offset=offset,
        counts=OutboxSummary(**counts),
    )


async def retry_message(actor: Principal, message_id: uuid.UUID) -> OutboxOut:
    """Give a dead message a new round of attempts (e.g. after the receiver was fixed)."""
    where = (OutboxMessage.id == message_id) & (OutboxMessage.ambito == actor.ambito_id)
    row = await OutboxMessage.select(OutboxMessage.status).where(where).first()
    if row is None:
        raise NotFound("no such message")
    actor.require(Role.UDP_ADMIN)
    if row["status"] != DeliveryStatus.DEAD:
        raise Conflict("only a dead message can be retried", field="status")
    moment = utcnow()
    await OutboxMessage.update(
        {
            OutboxMessage.status: DeliveryStatus.PENDING.value,
            OutboxMessage.attempts: 0,
            OutboxMessage.next_attempt_at: moment,
            OutboxMessage.updated_at: moment,
            OutboxMessage.last_error: "",
        }
    ).where(where & (OutboxMessage.status == DeliveryStatus.DEAD.value))
    full = await OutboxMessage.select(*_OUTBOX_COLUMNS).where(where).first()
    assert full is not None
    return _outbox_out(full)
