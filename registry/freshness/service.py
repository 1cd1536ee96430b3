"""The freshness and expiry jobs: keep the directory honest about what is still true.

Both take the clock as a parameter (`now`), so tests drive them with a controlled clock, and
both are idempotent: a second run at the same `now` changes and sends nothing new. Every
status change and its notifications are written in one transaction (registry.db.unit_of_work),
and each change is a conditional UPDATE, so a holder confirming at the same moment wins.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from registry import italian
from registry.access import Role
from registry.config import Settings
from registry.db import unit_of_work
from registry.freshness.links import issue_link, today
from registry.freshness.tables import ReconfirmLink, WindowExpiryNotice
from registry.holders.tables import Holder
from registry.notifications.events import EventType
from registry.notifications.service import Event, emit, users_with_role
from registry.resources.tables import AvailabilityWindow, Resource
from registry.vocabularies import ResourceStatus

# Expired windows older than this are old news: not announced on a first run.
WINDOW_LOOKBACK_DAYS = 30

_COLUMNS = (
    Resource.id,
    Resource.ambito,
    Resource.holder,
    Resource.title,
    Resource.confirmed_at,
    Resource.valid_until,
    Resource.holder.name.as_alias("holder_name"),
)


def _date(value: date | datetime) -> str:
    return value.strftime("%d/%m/%Y")


async def _recipients(row: dict[str, Any]) -> tuple[list[uuid.UUID], list[str]]:
    """The holder's own managers (in-app) and the holder's e-mail contacts."""
    users = await users_with_role(row["ambito"], Role.HOLDER_MANAGER, row["holder"])
    holder = await Holder.select(Holder.contacts).where(Holder.id == row["holder"]).first()
    emails: list[str] = []
    if holder:
        contacts = holder["contacts"]
        if isinstance(contacts, str):
            contacts = json.loads(contacts or "[]")
        emails = [
            c["value"] for c in contacts or [] if isinstance(c, dict) and c.get("kind") == "email"
        ]
    return users, emails


def _resource_data(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "resource_id": str(row["id"]),
        "holder_id": str(row["holder"]),
        "title": row["title"],
        "holder_name": row["holder_name"],
        "confirmed_at": row["confirmed_at"].isoformat(),
    }


async def run_freshness(
    now: datetime, settings: Settings, ambito_ids: Sequence[uuid.UUID] | None = None
) -> dict[str, int]:
    """Remind after N days without confirmation; after M days mark stale (never delete)."""
    stale_cutoff = now - timedelta(days=settings.freshness_stale_days)
    remind_cutoff = now - timedelta(days=settings.freshness_reminder_days)
    active = Resource.status == ResourceStatus.ACTIVE.value
    if ambito_ids is not None:
        active &= Resource.ambito.is_in(list(ambito_ids))

    stale = 0
    overdue = (
        await Resource.select(*_COLUMNS)
        .where(active & (Resource.confirmed_at <= stale_cutoff))
        .order_by(Resource.confirmed_at)
    )
    for row in overdue:
        users, emails = await _recipients(row)
        async with unit_of_work():
            changed = (
                await Resource.update(
                    {Resource.status: ResourceStatus.STALE.value, Resource.updated_at: now}
                )
                .where(
                    (Resource.id == row["id"]) & active & (Resource.confirmed_at <= stale_cutoff)
                )
                .returning(Resource.id)
            )
            if not changed:
                continue  # confirmed (or changed) since we looked
            link = await issue_link(
                settings, resource_id=row["id"], ambito_id=row["ambito"], reason="stale", now=now
            )
            await emit(
                Event(
                    ambito_id=row["ambito"],
                    type=EventType.RESOURCE_STALE,
                    title=f"Risorsa non più proposta: {row['title']}",
                    body=(
                        f"«{row['title']}» ({row['holder_name']}) non è stata confermata dal "
                        f"{_date(row['confirmed_at'])}. Resta nel registro, ma non viene più "
                        "proposta agli assistenti sociali. Se è ancora disponibile, confermala "
                        "con un clic dal link qui sotto."
                    ),
                    data={**_resource_data(row), "stale_after_days": settings.freshness_stale_days},
                    link=link,
                    users=users,
                    emails=emails,
                ),
                settings,
                now=now,
            )
        stale += 1

    reminded = 0
    due = (
        await Resource.select(*_COLUMNS)
        .where(
            active
            & (Resource.confirmed_at <= remind_cutoff)
            & (Resource.confirmed_at > stale_cutoff)
        )
        .order_by(Resource.confirmed_at)
    )
    last_link: dict[uuid.UUID, datetime] = {}
    if due:
        for link_row in await ReconfirmLink.select(
            ReconfirmLink.resource, ReconfirmLink.issued_at
        ).where(ReconfirmLink.resource.is_in([r["id"] for r in due])):
            previous = last_link.get(link_row["resource"])
            if previous is None or link_row["issued_at"] > previous:
                last_link[link_row["resource"]] = link_row["issued_at"]
    for row in due:
        sent = last_link.get(row["id"])
        if sent is not None and sent >= row["confirmed_at"]:
            continue  # already reminded since the last confirmation
        users, emails = await _recipients(row)
        stale_on = row["confirmed_at"] + timedelta(days=settings.freshness_stale_days)
        async with unit_of_work():
            link = await issue_link(
                settings, resource_id=row["id"], ambito_id=row["ambito"], reason="reminder", now=now
            )
            await emit(
                Event(
                    ambito_id=row["ambito"],
                    type=EventType.RECONFIRMATION_REQUESTED,
                    title=f"Conferma la disponibilità: {row['title']}",
                    body=(
                        f"«{row['title']}» ({row['holder_name']}) non è stata confermata dal "
                        f"{_date(row['confirmed_at'])}. È ancora disponibile così com'è? "
                        "Confermalo con un clic dal link qui sotto (vale una volta sola, per "
                        f"{settings.reconfirm_link_days} giorni). Senza conferma, dal "
                        f"{_date(stale_on)} la risorsa non sarà più proposta."
                    ),
                    data={**_resource_data(row), "stale_on": stale_on.isoformat()},
                    link=link,
                    users=users,
                    emails=emails,
                ),
                settings,
                now=now,
            )
        reminded += 1
    return {"reminded": reminded, "stale": stale}


async def run_expiry(
    now: datetime, settings: Settings, ambito_ids: Sequence[uuid.UUID] | None = None
) -> dict[str, int]:
    """Resources past `valid_until` become 'expired'; ended availability windows are announced."""
    day = today(settings, now)
    live = Resource.status.is_in(
        [ResourceStatus.ACTIVE.value, ResourceStatus.PAUSED.value, ResourceStatus.STALE.value]
    )
    if ambito_ids is not None:
        live &= Resource.ambito.is_in(list(ambito_ids))
    expired = 0
    for row in await Resource.select(*_COLUMNS).where(live & (Resource.valid_until < day)):
        users, emails = await _recipients(row)
        async with unit_of_work():
            changed = (
                await Resource.update(
                    {Resource.status: ResourceStatus.EXPIRED.value, Resource.updated_at: now}
                )
                .where((Resource.id == row["id"]) & live & (Resource.valid_until < day))
                .returning(Resource.id)
            )
            if not changed:
                continue
            link = await issue_link(
                settings, resource_id=row["id"], ambito_id=row["ambito"], reason="expired", now=now
            )
            await emit(
                Event(
                    ambito_id=row["ambito"],
                    type=EventType.RESOURCE_EXPIRED,
                    title=f"Risorsa scaduta: {row['title']}",
                    body=(
                        f"La validità di «{row['title']}» ({row['holder_name']}) è terminata il "
                        f"{_date(row['valid_until'])}: la risorsa non viene più proposta. Se è "
                        "ancora disponibile, indica una nuova data di fine validità dal link qui "
                        "sotto."
                    ),
                    data={**_resource_data(row), "valid_until": row["valid_until"].isoformat()},
                    link=link,
                    users=users,
                    emails=emails,
                ),
                settings,
                now=now,
            )
        expired += 1

    ended_recently = (AvailabilityWindow.valid_until < day) & (
        AvailabilityWindow.valid_until >= day - timedelta(days=WINDOW_LOOKBACK_DAYS)
    )
    if ambito_ids is not None:
        ended_recently &= AvailabilityWindow.resource.ambito.is_in(list(ambito_ids))
    windows = await AvailabilityWindow.select(
        AvailabilityWindow.id,
        AvailabilityWindow.valid_until,
        AvailabilityWindow.resource,
        AvailabilityWindow.resource.status.as_alias("resource_status"),
    ).where(ended_recently)
    announced: set[str] = set()
    if windows:
        announced = {
            n["notice_key"]
            for n in await WindowExpiryNotice.select(WindowExpiryNotice.notice_key).where(
                WindowExpiryNotice.window.is_in([w["id"] for w in windows])
            )
        }
    by_resource: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for window in windows:
        # An archived or expired resource's windows need no separate announcement.
        if window["resource_status"] in (ResourceStatus.ARCHIVED, ResourceStatus.EXPIRED):
            continue
        if _notice_key(window) not in announced:
            by_resource[window["resource"]].append(window)
    windows_expired = 0
    for resource_id, ended in by_resource.items():
        row = await Resource.select(*_COLUMNS).where(Resource.id == resource_id).first()
        if row is None:
            continue
        users, emails = await _recipients(row)
        current = await AvailabilityWindow.count().where(
            (AvailabilityWindow.resource == resource_id)
            & (AvailabilityWindow.valid_until.is_null() | (AvailabilityWindow.valid_until >= day))
        )
        ends = ", ".join(sorted({_date(w["valid_until"]) for w in ended}))
        async with unit_of_work():
            await WindowExpiryNotice.insert(
                *[
                    WindowExpiryNotice(
                        ambito=row["ambito"],
                        window=w["id"],
                        valid_until=w["valid_until"],
                        notice_key=_notice_key(w),
                        notified_at=now,
                    )
                    for w in ended
                ]
            )
            await emit(
                Event(
                    ambito_id=row["ambito"],
                    type=EventType.AVAILABILITY_EXPIRED,
                    title=f"Disponibilità terminata: {row['title']}",
                    body=(
                        (
                            f"Una fascia di disponibilità di «{row['title']}» "
                            f"({row['holder_name']}) è terminata ({ends}). "
                            if len(ended) == 1
                            else f"{len(ended)} fasce di disponibilità di «{row['title']}» "
                            f"({row['holder_name']}) sono terminate ({ends}). "
                        )
                        + (
                            "Non restano fasce in corso: se la risorsa è ancora disponibile, "
                            "aggiungi le nuove fasce."
                            if current == 0
                            else "Resta 1 fascia in corso."
                            if current == 1
                            else f"Restano {italian.count(current, 'fascia', 'fasce')} in corso."
                        )
                    ),
                    data={
                        **_resource_data(row),
                        "windows": [
                            {"id": str(w["id"]), "valid_until": w["valid_until"].isoformat()}
                            for w in ended
                        ],
                        "current_windows": current,
                    },
                    users=users,
                    emails=emails,
                ),
                settings,
                now=now,
            )
        windows_expired += len(ended)
    return {"resources_expired": expired, "windows_expired": windows_expired}


def _notice_key(window: dict[str, Any]) -> str:
    return f"{window['id']}:{window['valid_until'].isoformat()}"
