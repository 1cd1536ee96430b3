"""QR check-in presences: checking in with a code and out later, and what that records.

A volunteer (or the holder's own manager) checks in with the token and checks out later;
check-out writes one `qr_verified` ledger entry of unit `hours` with the measured time,
rounded to the nearest quarter hour and capped by the token's window (and by 12 hours for
a single presence, for a forgotten check-out). A presence is unique per volunteer, token
and day (unique index), and a check-out closes it exactly once (the entry's idempotency
key is derived from the presence), so a token cannot be replayed to create duplicates.
Expired, tampered and foreign-ambito tokens are refused with an Italian and English message.
"""

from __future__ import annotations

import math
import sqlite3
import uuid
from datetime import datetime, timedelta
from typing import Any

from asyncpg.exceptions import IntegrityConstraintViolationError

from registry import italian
from registry.access import Principal, Role
from registry.checkin.qr import local
from registry.checkin.schemas import CheckInOut, CheckOutRequest, StatusOut, TargetKind
from registry.checkin.tables import CheckIn
from registry.checkin.tokens import (
    Claims,
    _activity,
    _holder_name,
    _not_revoked,
    _same_ambito,
    _title,
    clock,
    info,
    read_token,
)
from registry.config import Settings
from registry.contributions import links, reading, recording
from registry.contributions.stamps import stamped_insert
from registry.contributions.tables import Contribution
from registry.db import new_row, unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.vocabularies import ContributionUnit, Verification

MAX_PRESENCE = timedelta(hours=12)
QUARTER_SECONDS = 15 * 60
CHECKIN_ROLES = (Role.VOLUNTEER, Role.HOLDER_MANAGER)
_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)


async def _check_target(claims: Claims) -> None:
    if claims.target is TargetKind.ACTIVITY:
        activity = await _activity(claims.ambito_id, claims.target_id)
        if activity is None or activity["status"] != "active":
            raise InvalidInput(
                "L'attività di questo codice non è più attiva. / "
                "The activity of this code is no longer active.",
                field="token",
            )
    else:
        try:
            await links.resolve(claims.ambito_id, claims.target_id, None)
        except InvalidInput as error:
            raise InvalidInput(
                "L'abbinamento di questo codice non è più in corso. / "
                "The match of this code is no longer running.",
                field="token",
            ) from error


def _may_check_in(actor: Principal, claims: Claims) -> None:
    if actor.role not in CHECKIN_ROLES:
        raise PermissionDenied(
            "Registrano la presenza i volontari e i referenti degli enti. / "
            "Only volunteers and holder managers check in."
        )
    if actor.role is Role.HOLDER_MANAGER and actor.holder_id != claims.holder_id:
        raise PermissionDenied(
            "Questo codice è per i volontari di un altro ente. / "
            "This code is for another holder's volunteers."
        )


async def _presence(where: Any) -> dict[str, Any] | None:
    return (
        await CheckIn.select().where(where).order_by(CheckIn.checked_in_at, ascending=False).first()
    )


def _already_closed(row: dict[str, Any]) -> Conflict:
    return Conflict(
        f"Presenza già chiusa alle {local(row['checked_out_at'])}: con questo codice si "
        "registra una presenza al giorno. / You already checked in and out with this code "
        "today.",
        field="token",
    )


async def _out(actor: Principal, row: dict[str, Any], message: str) -> CheckInOut:
    target = TargetKind.ACTIVITY if row["activity"] is not None else TargetKind.MATCH
    target_id = row["activity"] if row["activity"] is not None else row["match_id"]
    contribution = None
    minutes = None
    if row["contribution"] is not None:
        contribution = await reading.get_contribution(actor, row["contribution"])
        minutes = contribution.minutes
    elif row["checked_out_at"] is not None:
        minutes = 0
    return CheckInOut(
        id=row["id"],
        status="open" if row["checked_out_at"] is None else "closed",
        target=target,
        target_id=target_id,
        title=await _title(target, target_id, row["ambito"], row["resource"]),
        holder_id=row["holder"],
        holder_name=await _holder_name(row["holder"]),
        checked_in_at=row["checked_in_at"],
        checked_out_at=row["checked_out_at"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        minutes=minutes,
        contribution=contribution,
        message=message,
    )


async def check_in(actor: Principal, settings: Settings, token: str) -> tuple[CheckInOut, bool]:
    claims = read_token(settings, token)
    _same_ambito(actor, claims)
    await _not_revoked(claims)
    _may_check_in(actor, claims)
    await _check_target(claims)
    moment = clock()
    day = italian.today(moment)
    mine = (
        (CheckIn.token_id == claims.token_id)
        & (CheckIn.volunteer == actor.user_id)
        & (CheckIn.day == day)
    )
    presence = CheckIn(
        ambito=actor.ambito_id,
        volunteer=actor.user_id,
        holder=claims.holder_id,
        activity=claims.target_id if claims.target is TargetKind.ACTIVITY else None,
        match_id=claims.target_id if claims.target is TargetKind.MATCH else None,
        resource=claims.resource_id,
        token_id=claims.token_id,
        day=day,
        window_start=claims.valid_from,
        window_end=claims.valid_until,
        checked_in_at=moment,
    )
    try:
        async with unit_of_work():
            existing = await _presence(mine)
            if existing is None:
                await CheckIn.insert(presence)
    except _INTEGRITY_ERRORS:
        existing = await _presence(mine)  # a concurrent tap of the same button won
        if existing is None:
            raise
    if existing is not None:
        if existing["checked_out_at"] is not None:
            raise _already_closed(existing)
        since = local(existing["checked_in_at"])
        return await _out(actor, existing, f"Entrata già registrata alle {since}."), False
    row = await _presence(CheckIn.id == presence.id)
    assert row is not None
    return await _out(actor, row, f"Entrata registrata alle {local(moment)}."), True


def measured_minutes(row: dict[str, Any], moment: datetime) -> tuple[datetime, datetime, int]:
    """The presence's start, end and minutes: the time inside the token's window (and at
    most 12 hours), rounded to the nearest quarter hour."""
    start = max(row["checked_in_at"], row["window_start"])
    end = min(moment, row["window_end"], start + MAX_PRESENCE)
    seconds = max(0.0, (end - start).total_seconds())
    quarters = math.floor(seconds / QUARTER_SECONDS + 0.5)
    return start, max(start, end), quarters * 15


async def _plan_of_match(ambito_id: uuid.UUID, match_id: uuid.UUID | None) -> Any:
    if match_id is None or not links.available():
        return None
    from registry.matches.tables import Match

    return (
        await Match.select(Match.plan, Match.need)
        .where((Match.id == match_id) & (Match.ambito == ambito_id))
        .first()
    )


async def check_out(actor: Principal, settings: Settings, data: CheckOutRequest) -> CheckInOut:
    mine = (CheckIn.volunteer == actor.user_id) & (CheckIn.ambito == actor.ambito_id)
    if data.checkin_id is not None:
        row = await _presence(mine & (CheckIn.id == data.checkin_id))
        if row is None:
            raise NotFound("no such check-in")
    elif data.token is not None:
        claims = read_token(settings, data.token)
        _same_ambito(actor, claims)
        await _not_revoked(claims)  # like an expired code: close the presence by its id
        row = await _presence(mine & (CheckIn.token_id == claims.token_id))
        if row is None:
            raise Conflict(
                "Nessuna entrata con questo codice: premi prima «Entrata». / "
                "No check-in with this code: check in first.",
                field="token",
            )
    else:
        raise InvalidInput("give checkin_id or token", field="checkin_id")
    if row["checked_out_at"] is not None:
        raise _already_closed(row)
    moment = clock()
    start, end, minutes = measured_minutes(row, moment)
    link = await _plan_of_match(actor.ambito_id, row["match_id"])
    comune = None
    if row["activity"] is not None:
        activity = await _activity(actor.ambito_id, row["activity"])
        comune = activity["comune"] if activity else None
    entry = None
    if minutes > 0:
        entry = new_row(
            Contribution,
            ambito=actor.ambito_id,
            holder=row["holder"],
            volunteer=actor.user_id,
            resource=row["resource"],
            activity=row["activity"],
            match_id=row["match_id"],
            need_id=link["need"] if link else None,
            plan_id=link["plan"] if link else None,
            kind="entry",
            unit=ContributionUnit.HOURS.value,
            quantity=minutes,
            occurred_on=italian.today(row["checked_in_at"]),
            started_at=start,
            ended_at=end,
            comune=comune,
            note="Presenza registrata con codice QR",
            verification=Verification.QR_VERIFIED.value,
            # One entry per presence, whatever happens: the key settles concurrent taps.
            idempotency_key=f"{recording.RESERVED_KEY_PREFIX}{row['id']}",
            request_hash="checkin",
            created_by=actor.user_id,
            created_by_role=actor.role.value,
        )
    try:
        async with unit_of_work():
            current = await _presence(CheckIn.id == row["id"])
            if current is None or current["checked_out_at"] is not None:
                raise _already_closed(current or row)
            if entry is not None:
                await stamped_insert(actor.ambito_id, Contribution, entry)
            await CheckIn.update(
                {
                    CheckIn.checked_out_at: moment,
                    CheckIn.contribution: entry["id"] if entry is not None else None,
                }
            ).where(CheckIn.id == row["id"])
    except _INTEGRITY_ERRORS:
        closed = await _presence(CheckIn.id == row["id"])
        raise _already_closed(closed if closed and closed["checked_out_at"] else row) from None
    closed = await _presence(CheckIn.id == row["id"])
    assert closed is not None
    if minutes > 0:
        hours, rest = divmod(minutes, 60)
        spent = f"{hours} h {rest:02d} min" if hours else f"{rest} min"
        message = f"Uscita registrata alle {local(moment)}: {spent} di attività. Grazie!"
    else:
        message = (
            f"Uscita registrata alle {local(moment)}: meno di 8 minuti, nessuna ora registrata."
        )
    return await _out(actor, closed, message)


async def status(actor: Principal, settings: Settings, token: str) -> StatusOut:
    claims = read_token(settings, token)
    _same_ambito(actor, claims)
    await _not_revoked(claims)
    row = await _presence(
        (CheckIn.token_id == claims.token_id)
        & (CheckIn.volunteer == actor.user_id)
        & ((CheckIn.day == italian.today(clock())) | CheckIn.checked_out_at.is_null())
    )
    presence = None
    if row is not None:
        presence = await _out(actor, row, "")
    return StatusOut(code=await info(claims), checkin=presence)


async def open_presences(actor: Principal) -> list[CheckInOut]:
    rows = (
        await CheckIn.select()
        .where(
            (CheckIn.volunteer == actor.user_id)
            & (CheckIn.ambito == actor.ambito_id)
            & CheckIn.checked_out_at.is_null()
        )
        .order_by(CheckIn.checked_in_at, ascending=False)
        .limit(20)
    )
    return [await _out(actor, row, "") for row in rows]
