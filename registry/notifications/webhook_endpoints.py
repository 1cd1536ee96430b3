"""An ambito's webhook endpoints, as the UdP manages them: list, create, change, delete and
ping (the delivery itself is registry/notifications/webhooks.py and dispatcher.py)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from registry.access import Principal, Role
from registry.common import now as utcnow
from registry.common import set_fields
from registry.config import Settings
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.notifications import webhooks
from registry.notifications.events import Channel, EventType
from registry.notifications.schemas import (
    PingOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)
from registry.notifications.service import Event, _message
from registry.notifications.tables import OutboxMessage, WebhookEndpoint


def _webhook_out(row: dict[str, Any]) -> WebhookOut:
    return WebhookOut(
        id=row["id"],
        ambito_id=row["ambito"],
        url=row["url"],
        description=row["description"],
        events=row["events"] or [],
        active=row["active"],
        secret_hint="…" + row["secret"][-4:],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _webhook_row(actor: Principal, webhook_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await WebhookEndpoint.select()
        .where((WebhookEndpoint.id == webhook_id) & (WebhookEndpoint.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such webhook endpoint")
    actor.require(Role.UDP_ADMIN)
    return row


async def list_webhooks(actor: Principal) -> list[WebhookOut]:
    actor.require(Role.UDP_ADMIN)
    rows = (
        await WebhookEndpoint.select()
        .where(WebhookEndpoint.ambito == actor.ambito_id)
        .order_by(WebhookEndpoint.created_at)
        .order_by(WebhookEndpoint.id)
    )
    return [_webhook_out(r) for r in rows]


async def get_webhook(actor: Principal, webhook_id: uuid.UUID) -> WebhookOut:
    return _webhook_out(await _webhook_row(actor, webhook_id))


async def create_webhook(
    actor: Principal, data: WebhookCreate, settings: Settings
) -> WebhookCreated:
    actor.require(Role.UDP_ADMIN)
    url = await webhooks.check_target(data.url, allow_private=settings.webhook_allow_private)
    moment = utcnow()
    endpoint = WebhookEndpoint(
        ambito=actor.ambito_id,
        url=url,
        description=data.description,
        events=sorted({e.value for e in data.events}),
        secret=webhooks.new_secret(),
        active=data.active,
        created_at=moment,
        updated_at=moment,
    )
    await endpoint.save()
    out = _webhook_out(await _webhook_row(actor, endpoint.id))
    return WebhookCreated(
        **{f: getattr(out, f) for f in out.__struct_fields__}, secret=endpoint.secret
    )


async def update_webhook(
    actor: Principal, webhook_id: uuid.UUID, patch: WebhookPatch, settings: Settings
) -> WebhookOut:
    await _webhook_row(actor, webhook_id)
    values = set_fields(patch)
    if "url" in values:
        values["url"] = await webhooks.check_target(
            values["url"], allow_private=settings.webhook_allow_private
        )
    if "events" in values:
        values["events"] = sorted({e.value for e in values["events"]})
    if values:
        await WebhookEndpoint.update({**values, "updated_at": utcnow()}).where(
            WebhookEndpoint.id == webhook_id
        )
    return await get_webhook(actor, webhook_id)


async def delete_webhook(actor: Principal, webhook_id: uuid.UUID) -> None:
    """Its undelivered messages stay in the outbox and go dead ("endpoint removed")."""
    await _webhook_row(actor, webhook_id)
    await WebhookEndpoint.delete().where(WebhookEndpoint.id == webhook_id)


async def ping_webhook(actor: Principal, webhook_id: uuid.UUID, settings: Settings) -> PingOut:
    """Queue a test event for this one endpoint, so the UdP can see delivery work."""
    row = await _webhook_row(actor, webhook_id)
    moment = utcnow()
    event_id = uuid.uuid4()
    message_id = uuid.uuid4()
    payload = {
        "id": str(message_id),
        "event_id": str(event_id),
        "type": EventType.PING.value,
        "occurred_at": moment.isoformat(),
        "ambito": {"id": str(actor.ambito_id)},
        "title": "Prova del webhook",
        "text": f"Messaggio di prova inviato da {actor.username}.",
        "link": None,
        "data": {"webhook_id": str(row["id"])},
    }
    event = Event(ambito_id=actor.ambito_id, type=EventType.PING, title="", body="")
    async with unit_of_work():
        await OutboxMessage.insert(
            _message(
                message_id,
                event,
                event_id,
                moment,
                Channel.WEBHOOK,
                body=json.dumps(payload, ensure_ascii=False),
                endpoint=row["id"],
            )
        )
    return PingOut(event_id=event_id, messages=1)
