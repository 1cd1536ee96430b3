"""Events: how a domain announces something, and who hears about it (in the app, by webhook,
by e-mail). The in-app list is inbox.py, e-mail choices preferences.py, the UdP's webhook
endpoints webhook_endpoints.py and its view of the outbox outbox.py.

`emit()` is how any domain announces something: call it inside the `unit_of_work()` that
makes the change, so the change and its messages are committed together or not at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from registry import db
from registry.access import Role
from registry.ambiti.tables import Ambito
from registry.common import now as utcnow
from registry.config import Settings
from registry.notifications.events import Channel, DeliveryStatus, EmailDue, EventType
from registry.notifications.tables import (
    Notification,
    NotificationSettings,
    OutboxMessage,
)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in one ambito, and who should hear about it."""

    ambito_id: uuid.UUID
    type: EventType
    title: str  # Italian: the in-app title and the e-mail subject
    body: str  # Italian plain text
    data: dict[str, Any] = field(default_factory=dict)  # the webhook payload's "data"
    link: str = ""
    users: Sequence[uuid.UUID] = ()  # in-app recipients (and e-mail, by their preferences)
    emails: Sequence[str] = ()  # other addresses, sent only when SMTP is configured
    subject: str = ""  # what it is about, e.g. "match:<id>" (see `resolve`)


def _json_default(value: Any) -> Any:
    if isinstance(value, uuid.UUID | datetime):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


# Hand-written: read on every event, where building the Piccolo query cost more than running
# it (issue 18).
_ACTIVE_ENDPOINTS = "SELECT id, events FROM webhook_endpoint WHERE ambito = {} AND active = {}"


def _events(stored: str | list[str] | None) -> list[str]:
    """An endpoint's event types as db.fetch gives them (SQLite: the array's JSON text)."""
    return json.loads(stored) if isinstance(stored, str) else stored or []


async def emit(
    event: Event, settings: Settings | None = None, *, now: datetime | None = None
) -> uuid.UUID:
    """Write the event's in-app notifications and outbox messages; returns the event id.

    Must run inside the caller's transaction: an event whose change rolls back leaves
    nothing behind, and a committed one is delivered even if the process dies right after.
    The users' own e-mails are owed on their notifications (`email_due`, from their
    preferences) and written to the outbox by the dispatcher (registry/notifications/mail.py),
    so a domain needs no settings to announce something; `event.emails` need `settings`.
    """
    if not db.engine().transaction_exists():
        raise RuntimeError("emit() must be called inside unit_of_work(), with the change itself")
    moment = now or utcnow()
    event_id = uuid.uuid4()
    users = list(dict.fromkeys(event.users))
    if users:
        due = await _email_due(users, event.type)
        await db.insert(
            Notification,
            *[
                db.new_row(
                    Notification,
                    ambito=event.ambito_id,
                    user=user_id,
                    event_id=event_id,
                    event_type=event.type.value,
                    title=event.title[:300],
                    body=event.body,
                    link=event.link[:1000],
                    created_at=moment,
                    subject=event.subject[:100],
                    email_due=due.get(user_id, EmailDue.NONE).value,
                )
                for user_id in users
            ],
        )
    messages: list[OutboxMessage] = []
    endpoints = await db.fetch(_ACTIVE_ENDPOINTS, event.ambito_id, True)
    wanted = [
        e for e in endpoints if not (events := _events(e["events"])) or event.type.value in events
    ]
    if wanted:
        ambito = await Ambito.select(Ambito.code).where(Ambito.id == event.ambito_id).first()
        for endpoint in wanted:
            message_id = uuid.uuid4()
            payload = {
                "id": str(message_id),
                "event_id": str(event_id),
                "type": event.type.value,
                "occurred_at": moment.isoformat(),
                "ambito": {"id": str(event.ambito_id), "code": ambito["code"] if ambito else None},
                "title": event.title,
                "text": event.body,
                "link": event.link or None,
                "data": event.data,
            }
            messages.append(
                _message(
                    message_id,
                    event,
                    event_id,
                    moment,
                    Channel.WEBHOOK,
                    body=json.dumps(payload, default=_json_default, ensure_ascii=False),
                    endpoint=endpoint["id"],
                )
            )
    if settings is not None and settings.smtp_host:
        text = event.body + (f"\n\n{event.link}\n" if event.link else "\n")
        for address in dict.fromkeys(event.emails):
            messages.append(
                _message(
                    uuid.uuid4(),
                    event,
                    event_id,
                    moment,
                    Channel.EMAIL,
                    body=text,
                    recipient=address,
                    subject=event.title[:300],
                )
            )
    if messages:
        await OutboxMessage.insert(*messages)
    return event_id


def _message(
    message_id: uuid.UUID,
    event: Event,
    event_id: uuid.UUID,
    moment: datetime,
    channel: Channel,
    *,
    body: str,
    endpoint: uuid.UUID | None = None,
    recipient: str = "",
    subject: str = "",
) -> OutboxMessage:
    return OutboxMessage(
        id=message_id,
        ambito=event.ambito_id,
        event_id=event_id,
        event_type=event.type.value,
        channel=channel.value,
        endpoint=endpoint,
        recipient=recipient,
        subject=subject,
        body=body,
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        next_attempt_at=moment,
        created_at=moment,
        updated_at=moment,
    )


async def _email_due(users: list[uuid.UUID], kind: EventType) -> dict[uuid.UUID, EmailDue]:
    rows = await NotificationSettings.select(
        NotificationSettings.user,
        NotificationSettings.email,
        NotificationSettings.email_events,
        NotificationSettings.digest,
    ).where(NotificationSettings.user.is_in(users))
    return {
        row["user"]: EmailDue.DIGEST if row["digest"] else EmailDue.NOW
        for row in rows
        if row["email"] and kind.value in (row["email_events"] or [])
    }


async def resolve(ambito_id: uuid.UUID, subject: str, kinds: Sequence[EventType]) -> None:
    """The step these notifications asked for was taken (by anyone): mark them read, so
    menu counts say what still waits. Their e-mails, if still owed, are no longer sent."""
    if not kinds:
        return
    where = (
        (Notification.ambito == ambito_id)
        & (Notification.subject == subject)
        & Notification.event_type.is_in([k.value for k in kinds])
        & Notification.read_at.is_null()
    )
    await Notification.update(
        {Notification.read_at: utcnow(), Notification.email_due: EmailDue.NONE.value}
    ).where(where)


# Hand-written (db.fetch): it runs on every ledger write, and building the Piccolo query cost
# more than running it (issue 18). `active` is a boolean on PostgreSQL, 0/1 on SQLite.
_USERS_WITH_ROLE = "SELECT id FROM app_user WHERE ambito = {} AND role = {} AND active"


async def users_with_role(
    ambito_id: uuid.UUID, role: Role, holder_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    if holder_id is None:
        rows = await db.fetch(_USERS_WITH_ROLE, ambito_id, role.value)
    else:
        rows = await db.fetch(
            _USERS_WITH_ROLE + " AND holder = {}", ambito_id, role.value, holder_id
        )
    return [row["id"] for row in rows]
