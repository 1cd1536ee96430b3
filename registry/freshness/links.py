"""Reconfirmation without a password: a signed, single-use link per reminder.

The token is a JWT from registry.security (own audience, so no other token passes for it);
its `jti` is recorded when the link is sent and marked used in the same transaction that
confirms the resource, so a link works exactly once.

GET shows what will be confirmed and changes nothing; POST confirms. A one-click GET would
be simpler, but mail scanners and link previewers fetch GET links on their own: they would
spend the single use (and confirm availability) without the holder ever seeing the page.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jose import jwt
from jose.exceptions import ExpiredSignatureError

from registry.common import now as utcnow
from registry.common import set_fields
from registry.config import Settings
from registry.db import unit_of_work
from registry.errors import DomainError, InvalidInput
from registry.freshness.schemas import (
    ReconfirmAction,
    ReconfirmIn,
    ReconfirmResult,
    ReconfirmView,
    WindowSummary,
)
from registry.freshness.tables import ReconfirmLink
from registry.notifications.events import EventType
from registry.notifications.service import Event, emit
from registry.resources import availability
from registry.resources.service import rrule_text
from registry.resources.tables import AvailabilityWindow, Resource
from registry.security import TokenError, issue, verify
from registry.vocabularies import ResourceStatus

AUDIENCE = "registry-reconfirm"


class LinkGone(DomainError):
    """The link was genuine but can no longer be used (used, expired, resource gone)."""

    status_code = 410


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/reconfirm/{token}"


def today(settings: Settings, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(settings.timezone)).date()


def _when(settings: Settings, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%d/%m/%Y alle %H:%M")


async def issue_link(
    settings: Settings,
    *,
    resource_id: uuid.UUID,
    ambito_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> str:
    """Sign a link and record its id. Call inside the transaction that sends it."""
    ttl = timedelta(days=settings.reconfirm_link_days)
    token = issue(
        settings.secret_key,
        AUDIENCE,
        str(resource_id),
        {"amb": str(ambito_id)},
        ttl=ttl,
        now=now,
    )
    jti = jwt.get_unverified_claims(token)["jti"]
    await ReconfirmLink.insert(
        ReconfirmLink(
            ambito=ambito_id,
            resource=resource_id,
            jti=jti,
            reason=reason,
            issued_at=now,
            expires_at=now + ttl,
        )
    )
    return link_url(settings, token)


def _claims(settings: Settings, token: str) -> dict[str, Any]:
    try:
        claims = verify(settings.secret_key, AUDIENCE, token)
        uuid.UUID(claims["sub"])
        return claims
    except TokenError as error:
        if isinstance(error.__cause__, ExpiredSignatureError):
            raise LinkGone(
                "Questo link è scaduto. Accedi al registro per confermare la disponibilità, "
                "oppure attendi il prossimo promemoria.",
                field="token",
            ) from error
        raise InvalidInput(
            "Link non valido: controlla di averlo copiato per intero.", field="token"
        ) from error
    except (KeyError, ValueError) as error:
        raise InvalidInput("Link non valido.", field="token") from error


async def _link(settings: Settings, token: str) -> dict[str, Any]:
    claims = _claims(settings, token)
    link = await ReconfirmLink.select().where(ReconfirmLink.jti == claims.get("jti", "")).first()
    if link is None or str(link["resource"]) != claims["sub"]:
        raise InvalidInput("Link non valido.", field="token")
    if link["used_at"] is not None:
        raise LinkGone(
            f"Questo link è già stato usato il {_when(settings, link['used_at'])}: "
            "ogni link vale una volta sola. Non serve fare altro.",
            field="token",
        )
    return link


_RESOURCE_COLUMNS = (
    Resource.id,
    Resource.ambito,
    Resource.holder,
    Resource.title,
    Resource.status,
    Resource.unit,
    Resource.capacity,
    Resource.valid_from,
    Resource.valid_until,
    Resource.confirmed_at,
    Resource.holder.name.as_alias("holder_name"),
)


async def _resource(link: dict[str, Any]) -> dict[str, Any]:
    row = (
        await Resource.select(*_RESOURCE_COLUMNS)
        .where((Resource.id == link["resource"]) & (Resource.ambito == link["ambito"]))
        .first()
    )
    if row is None or row["status"] == ResourceStatus.ARCHIVED:
        raise LinkGone(
            "Questa risorsa è stata archiviata: non c'è nulla da confermare.", field="token"
        )
    return row


async def inspect(settings: Settings, token: str, now: datetime | None = None) -> ReconfirmView:
    """What the link would confirm. Changes nothing, so a prefetching scanner is harmless."""
    link = await _link(settings, token)
    resource = await _resource(link)
    day = today(settings, now or utcnow())
    windows = (
        await AvailabilityWindow.select()
        .where(AvailabilityWindow.resource == resource["id"])
        .order_by(AvailabilityWindow.valid_from)
        .order_by(AvailabilityWindow.start_time)
    )
    return ReconfirmView(
        resource_id=resource["id"],
        title=resource["title"],
        holder_name=resource["holder_name"],
        status=ResourceStatus(resource["status"]),
        unit=resource["unit"],
        capacity=resource["capacity"],
        valid_from=resource["valid_from"],
        valid_until=resource["valid_until"],
        confirmed_at=resource["confirmed_at"],
        windows=[_window_summary(w, day) for w in windows],
        reason=link["reason"],
        link_expires_at=link["expires_at"],
    )


def _window_summary(row: dict[str, Any], day: date) -> WindowSummary:
    window = availability.window_from_row(row)
    return WindowSummary(
        id=row["id"],
        rrule=rrule_text(window),
        start_time=row["start_time"].strftime("%H:%M"),
        end_time=row["end_time"].strftime("%H:%M"),
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        capacity=row["capacity"],
        expired=row["valid_until"] is not None and row["valid_until"] < day,
    )


async def redeem(
    settings: Settings, token: str, data: ReconfirmIn, now: datetime | None = None
) -> ReconfirmResult:
    """Confirm (or pause) the resource and spend the link, in one transaction."""
    moment = now or utcnow()
    day = today(settings, moment)
    async with unit_of_work():
        link = await _link(settings, token)
        resource = await _resource(link)
        changes: dict[Any, Any] = {Resource.confirmed_at: moment, Resource.updated_at: moment}
        given = set_fields(data)
        valid_until = resource["valid_until"]
        if "valid_until" in given:
            valid_until = given["valid_until"]
            start = resource["valid_from"]
            if valid_until is not None and start is not None and valid_until < start:
                raise InvalidInput("valid_until must not be before valid_from", field="valid_until")
            changes[Resource.valid_until] = valid_until
        if data.action is ReconfirmAction.CONFIRM:
            if valid_until is not None and valid_until < day:
                # Refused before the link is spent: the holder can retry with a new end date.
                raise InvalidInput(
                    f"La validità della risorsa è terminata il {valid_until:%d/%m/%Y}: "
                    "indica una nuova data di fine validità (valid_until) per confermarla.",
                    field="valid_until",
                )
            status = ResourceStatus.ACTIVE
        else:
            status = ResourceStatus.PAUSED
        changes[Resource.status] = status.value
        if "capacity" in given:
            changes[Resource.capacity] = given["capacity"]
        spent = (
            await ReconfirmLink.update(
                {ReconfirmLink.used_at: moment, ReconfirmLink.used_action: data.action.value}
            )
            .where((ReconfirmLink.id == link["id"]) & ReconfirmLink.used_at.is_null())
            .returning(ReconfirmLink.id)
        )
        if not spent:  # a concurrent click won the race
            raise LinkGone(
                "Questo link è già stato usato: ogni link vale una volta sola.", field="token"
            )
        await Resource.update(changes).where(Resource.id == resource["id"])
        capacity = changes.get(Resource.capacity, resource["capacity"])
        active = status is ResourceStatus.ACTIVE
        await emit(
            Event(
                ambito_id=resource["ambito"],
                type=EventType.RESOURCE_RECONFIRMED,
                title=f"Disponibilità {'confermata' if active else 'sospesa'}: {resource['title']}",
                body=f"{resource['holder_name']} ha "
                f"{'confermato' if active else 'sospeso'} "
                f"«{resource['title']}» tramite il link di riconferma.",
                data={
                    "resource_id": str(resource["id"]),
                    "holder_id": str(resource["holder"]),
                    "action": data.action.value,
                    "status": status.value,
                    "capacity": capacity,
                    "valid_until": valid_until.isoformat() if valid_until else None,
                },
            ),
            settings,
            now=moment,
        )
    message = (
        "Grazie! La disponibilità è confermata."
        if status is ResourceStatus.ACTIVE
        else "Fatto: la risorsa è sospesa e non sarà proposta finché non la confermerai di nuovo."
    )
    return ReconfirmResult(
        resource_id=resource["id"],
        title=resource["title"],
        action=data.action,
        status=status,
        capacity=capacity,
        valid_until=valid_until,
        confirmed_at=moment,
        message=message,
    )
