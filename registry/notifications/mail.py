"""Users' own e-mails: the notifications they chose to get by e-mail, one by one or as a
daily digest.

A notification owes an e-mail (`email_due`) from the moment it is written, by its
recipient's preferences then. The dispatcher turns the "now" ones into outbox e-mails at
each run (`queue_emails`), the daily `digest` job the "digest" ones, one e-mail per user
(`send_digests`). Each batch is claimed with a conditional UPDATE in the same transaction
that writes its outbox messages, so two processes never send the same notification twice
and a crash sends it later, not never. Without SMTP nothing is owed: the app is the only
channel, and a server configured later does not mail out the backlog.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from registry.config import Settings
from registry.db import unit_of_work
from registry.notifications.events import Channel, DeliveryStatus, EmailDue
from registry.notifications.tables import Notification, NotificationSettings, OutboxMessage

DIGEST_EVENT = "notification.digest"
_BATCH = 200
_FOOTER = (
    "\n\n--\nRicevi questa e-mail perché l'hai scelta nelle preferenze delle notifiche del "
    "registro (Notifiche → Preferenze e-mail)."
)


def _absolute(settings: Settings, link: str) -> str:
    if link.startswith("#"):
        return f"{settings.public_base_url.rstrip('/')}/{link}"
    return link


def _text(settings: Settings, row: dict[str, Any]) -> str:
    link = _absolute(settings, row["link"])
    return row["body"] + (f"\n{link}" if link else "")


def _email(
    row_ambito: uuid.UUID,
    event_type: str,
    event_id: uuid.UUID,
    to: str,
    subject: str,
    body: str,
    now: datetime,
) -> OutboxMessage:
    return OutboxMessage(
        ambito=row_ambito,
        event_id=event_id,
        event_type=event_type,
        channel=Channel.EMAIL.value,
        recipient=to,
        subject=subject[:300],
        body=body,
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )


def _owed(due: EmailDue, now: datetime, ambito_ids: Sequence[uuid.UUID] | None) -> Any:
    where = (Notification.email_due == due.value) & (Notification.created_at <= now)
    if ambito_ids is not None:
        where &= Notification.ambito.is_in(list(ambito_ids))
    return where


async def _addresses(users: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await NotificationSettings.select(
        NotificationSettings.user, NotificationSettings.email
    ).where(NotificationSettings.user.is_in(users))
    return {row["user"]: row["email"] for row in rows if row["email"]}


async def _claim(ids: list[Any], due: EmailDue, now: datetime) -> list[dict[str, Any]]:
    # Conditional on still being owed: a concurrent claimer (or a read in the app) wins.
    return await (
        Notification.update(
            {Notification.email_due: EmailDue.NONE.value, Notification.emailed_at: now}
        )
        .where(Notification.id.is_in(ids) & (Notification.email_due == due.value))
        .returning(*Notification.all_columns())
    )


async def _forget(where: Any) -> int:
    count = await Notification.count().where(where)
    if count:
        await Notification.update({Notification.email_due: EmailDue.NONE.value}).where(where)
    return count


async def queue_emails(
    settings: Settings, now: datetime, ambito_ids: Sequence[uuid.UUID] | None = None
) -> int:
    """Outbox e-mails for the notifications owing one now; returns how many were queued."""
    where = _owed(EmailDue.NOW, now, ambito_ids)
    if not settings.smtp_host:
        await _forget(where)
        return 0
    queued = 0
    while True:
        candidates = await Notification.select(Notification.id).where(where).limit(_BATCH)
        if not candidates:
            return queued
        async with unit_of_work():
            rows = await _claim([c["id"] for c in candidates], EmailDue.NOW, now)
            addresses = await _addresses(list({row["user"] for row in rows}))
            messages = [
                _email(
                    row["ambito"],
                    row["event_type"],
                    row["event_id"],
                    addresses[row["user"]],
                    row["title"],
                    _text(settings, row) + _FOOTER,
                    now,
                )
                for row in rows
                if row["user"] in addresses
            ]
            if messages:
                await OutboxMessage.insert(*messages)
        queued += len(messages)


async def send_digests(
    settings: Settings, now: datetime, ambito_ids: Sequence[uuid.UUID] | None = None
) -> dict[str, int]:
    """One e-mail per user listing the notifications kept for the digest since the last."""
    where = _owed(EmailDue.DIGEST, now, ambito_ids)
    if not settings.smtp_host:
        return {"digests": 0, "notifications": 0, "dropped": await _forget(where)}
    users = [
        row["user"] for row in await Notification.select(Notification.user).where(where).distinct()
    ]
    digests = notifications = 0
    for user in users:
        mine = where & (Notification.user == user)
        candidates = (
            await Notification.select(Notification.id)
            .where(mine)
            .order_by(Notification.created_at)
            .limit(_BATCH)
        )
        async with unit_of_work():
            rows = await _claim([c["id"] for c in candidates], EmailDue.DIGEST, now)
            address = (await _addresses([user])).get(user)
            if not rows or address is None:
                continue
            rows.sort(key=lambda row: (row["created_at"], row["title"]))
            count = len(rows)
            items = "\n\n".join(
                f"• {row['title']}\n{_text(settings, row)}".rstrip() for row in rows
            )
            subject = (
                "Riepilogo del registro: 1 notifica"
                if count == 1
                else f"Riepilogo del registro: {count} notifiche"
            )
            await OutboxMessage.insert(
                _email(
                    rows[0]["ambito"],
                    DIGEST_EVENT,
                    uuid.uuid4(),
                    address,
                    subject,
                    f"Le notifiche arrivate dall'ultimo riepilogo:\n\n{items}{_FOOTER}",
                    now,
                )
            )
        digests += 1
        notifications += count
    return {"digests": digests, "notifications": notifications, "dropped": 0}
