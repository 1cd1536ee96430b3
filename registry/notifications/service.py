"""Events, their outbox, in-app notifications and the webhook endpoints of an ambito.

`emit()` is how any domain announces something: call it inside the `unit_of_work()` that
makes the change, so the change and its messages are committed together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asyncpg.exceptions import IntegrityConstraintViolationError
from piccolo.query.functions.aggregate import Count

from registry import db
from registry.access import Principal, Role
from registry.ambiti.tables import Ambito
from registry.common import now as utcnow
from registry.common import set_fields
from registry.config import Settings
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound
from registry.notifications import webhooks
from registry.notifications.events import USER_EVENTS, Channel, DeliveryStatus, EmailDue, EventType
from registry.notifications.schemas import (
    NotificationOut,
    NotificationPage,
    OutboxOut,
    OutboxPage,
    OutboxSummary,
    PingOut,
    PreferencesIn,
    PreferencesOut,
    UnreadCounts,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)
from registry.notifications.tables import (
    Notification,
    NotificationSettings,
    OutboxMessage,
    WebhookEndpoint,
)

_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)


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
        await Notification.insert(
            *[
                Notification(
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
            ]
        )
    messages: list[OutboxMessage] = []
    endpoints = await WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.events).where(
        (WebhookEndpoint.ambito == event.ambito_id) & (WebhookEndpoint.active == True)  # noqa: E712
    )
    wanted = [e for e in endpoints if not e["events"] or event.type.value in e["events"]]
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


# --- in-app notifications ------------------------------------------------------------------


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


# --- e-mail preferences --------------------------------------------------------------------

_FRESHNESS_EVENTS = (
    EventType.RECONFIRMATION_REQUESTED,
    EventType.RESOURCE_STALE,
    EventType.RESOURCE_EXPIRED,
    EventType.RESOURCE_RECONFIRMED,
    EventType.AVAILABILITY_EXPIRED,
)
# What each role is told about (registry/notifications/workflow.py and the freshness jobs).
ROLE_EVENTS: dict[Role, tuple[EventType, ...]] = {
    Role.UDP_ADMIN: USER_EVENTS,
    Role.SOCIAL_WORKER: (
        EventType.MATCH_ACCEPTED,
        EventType.MATCH_DECLINED,
        EventType.NEW_CANDIDATES,
        EventType.PLAN_SHARED,
        EventType.CONTRIBUTION_REPORTED,
        EventType.REVIEW_OVERDUE,
    ),
    Role.HOLDER_MANAGER: (
        EventType.MATCH_PROPOSED,
        EventType.MATCH_CONFIRMED,
        EventType.MATCH_COMPLETED,
        EventType.MATCH_WITHDRAWN,
        EventType.CONTRIBUTION_REPORTED,
        EventType.CHECKIN_CODE_REVOKED,
        *_FRESHNESS_EVENTS,
    ),
    Role.VOLUNTEER: (EventType.CONTRIBUTION_CONFIRMED,),
}


async def get_preferences(actor: Principal, settings: Settings) -> PreferencesOut:
    row = (
        await NotificationSettings.select()
        .where(
            (NotificationSettings.user == actor.user_id)
            & (NotificationSettings.ambito == actor.ambito_id)
        )
        .first()
    )
    available = [e.value for e in ROLE_EVENTS[actor.role]]
    return PreferencesOut(
        email=row["email"] if row else "",
        # No choice made yet: every event of the role, once an address is given.
        email_events=list(row["email_events"] or []) if row else available,
        digest=row["digest"] if row else False,
        available_events=available,
        email_configured=bool(settings.smtp_host),
    )


async def set_preferences(
    actor: Principal, data: PreferencesIn, settings: Settings
) -> PreferencesOut:
    available = ROLE_EVENTS[actor.role]
    for index, kind in enumerate(data.email_events):
        if kind not in available:
            raise InvalidInput(
                f"'{kind.value}' is not an event your role receives", field=f"email_events[{index}]"
            )
    values = {
        NotificationSettings.email: data.email,
        NotificationSettings.email_events: sorted({k.value for k in data.email_events}),
        NotificationSettings.digest: data.digest,
        NotificationSettings.updated_at: utcnow(),
    }
    mine = NotificationSettings.user == actor.user_id
    try:
        async with unit_of_work():
            if await NotificationSettings.exists().where(mine):
                await NotificationSettings.update(values).where(mine)
            else:
                await NotificationSettings.insert(
                    NotificationSettings(
                        ambito=actor.ambito_id,
                        user=actor.user_id,
                        **{column._meta.name: value for column, value in values.items()},
                    )
                )
    except _INTEGRITY_ERRORS:
        # PostgreSQL: the same user's other request created the row a moment ago.
        await NotificationSettings.update(values).where(mine)
    return await get_preferences(actor, settings)


# --- webhook endpoints ---------------------------------------------------------------------


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


# --- the outbox, as the UdP sees it --------------------------------------------------------


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
