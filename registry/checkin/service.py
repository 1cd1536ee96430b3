"""QR check-in: signed codes for an activity or a match, and the presences they measure.

A code is a token signed with the registry's one signer (registry/security.py) for the
audience "checkin". Its claims: the target (`sub` = "activity:<id>" or "match:<id>"), the
ambito (`amb`), the holder whose volunteers check in (`hld`), optionally the resource
(`res`), the validity window (`nbf`, `exp`) and the id of the stored code (`cid`). The QR
encodes the phone page's URL with the token: `<public base>/checkin/?t=<token>`.

Every issued code is stored (`checkin_code`, with its token, so a reprint is the same QR):
its issuers list it again and may revoke it. A revoked code is refused like an expired one.
Tokens issued before codes were stored have no `cid`; they stay valid until they expire
(at most 366 days) and cannot be revoked, since no row describes them.

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncpg.exceptions import IntegrityConstraintViolationError
from jose import jwt

from registry.access import Principal, Role
from registry.checkin.qr import ROME, local
from registry.checkin.schemas import (
    CheckInOut,
    CheckOutRequest,
    CodeInfo,
    CodeOut,
    CodeRequest,
    CodeStatus,
    StatusOut,
    TargetKind,
)
from registry.checkin.tables import CheckIn, CheckInCode
from registry.common import Page, now, page_total
from registry.config import Settings
from registry.contributions import activities, links, reading, recording
from registry.contributions.tables import CommunityActivity, Contribution
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.holders.tables import Holder
from registry.notifications import workflow as notify
from registry.resources.tables import Resource
from registry.security import TokenError, issue, verify
from registry.vocabularies import ContributionUnit, Verification

AUDIENCE = "checkin"
DEFAULT_WINDOW = timedelta(hours=12)
MAX_WINDOW = timedelta(days=366)
MAX_PRESENCE = timedelta(hours=12)
QUARTER_SECONDS = 15 * 60
CHECKIN_ROLES = (Role.VOLUNTEER, Role.HOLDER_MANAGER)
_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)

# The service's clock; tests replace it to check out "later".
clock: Callable[[], datetime] = now


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claims:
    token_id: str
    code_id: uuid.UUID | None  # the stored code; None for a token issued before codes were kept
    target: TargetKind
    target_id: uuid.UUID
    ambito_id: uuid.UUID
    holder_id: uuid.UUID
    resource_id: uuid.UUID | None
    valid_from: datetime
    valid_until: datetime


def _instant(value: Any) -> str:
    try:
        return local(datetime.fromtimestamp(int(value), UTC))
    except (TypeError, ValueError, OverflowError):
        return "?"


def read_token(settings: Settings, token: str, *, before_start: bool = False) -> Claims:
    """The claims of a valid check-in token; InvalidInput (field "token") otherwise.
    `before_start`: a code whose window has not opened yet is accepted too (for printing)."""
    try:
        claims = verify(settings.secret_key, AUDIENCE, token, before_start=before_start)
    except TokenError as error:
        reason = str(error).lower()
        # The signature is checked before the dates: an "expired" token is a genuine one.
        unverified = _unverified(token)
        if "expired" in reason:
            when = _instant(unverified.get("exp"))
            raise InvalidInput(
                f"Codice QR scaduto il {when}: chiedine uno nuovo al referente. / "
                f"This QR code expired on {when}: ask the organiser for a new one.",
                field="token",
            ) from error
        if "not yet valid" in reason:
            when = _instant(unverified.get("nbf"))
            raise InvalidInput(
                f"Codice QR non ancora valido: vale dal {when}. / "
                f"This QR code is not valid before {when}.",
                field="token",
            ) from error
        raise InvalidInput(
            "Codice QR non valido o alterato. / This QR code is not valid or was tampered with.",
            field="token",
        ) from error
    try:
        kind, _, target_id = str(claims["sub"]).partition(":")
        resource = claims.get("res")
        code = claims.get("cid")
        return Claims(
            token_id=str(claims["jti"]),
            code_id=uuid.UUID(code) if code else None,
            target=TargetKind(kind),
            target_id=uuid.UUID(target_id),
            ambito_id=uuid.UUID(claims["amb"]),
            holder_id=uuid.UUID(claims["hld"]),
            resource_id=uuid.UUID(resource) if resource else None,
            valid_from=datetime.fromtimestamp(int(claims.get("nbf", claims["iat"])), UTC),
            valid_until=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise InvalidInput(
            "Codice QR non valido o alterato. / This QR code is not valid or was tampered with.",
            field="token",
        ) from error


def _unverified(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_claims(token)
    except Exception:  # only used to word an error message
        return {}


async def _not_revoked(claims: Claims) -> None:
    """Refuse a revoked code (the signature alone cannot tell). A token without `cid` predates
    stored codes: nothing to look up, its expiry is its only limit."""
    if claims.code_id is None:
        return
    row = (
        await CheckInCode.select(CheckInCode.revoked_at)
        .where((CheckInCode.id == claims.code_id) & (CheckInCode.ambito == claims.ambito_id))
        .first()
    )
    if row is None:
        raise InvalidInput(
            "Codice QR non valido o alterato. / This QR code is not valid or was tampered with.",
            field="token",
        )
    if row["revoked_at"] is not None:
        when = local(row["revoked_at"])
        raise InvalidInput(
            f"Codice QR revocato il {when}: chiedine uno nuovo al referente. / "
            f"This QR code was revoked on {when}: ask the organiser for a new one.",
            field="token",
        )


async def read_valid_token(settings: Settings, token: str, *, before_start: bool = False) -> Claims:
    """read_token, and the stored code must not be revoked."""
    claims = read_token(settings, token, before_start=before_start)
    await _not_revoked(claims)
    return claims


def _same_ambito(actor: Principal, claims: Claims) -> None:
    if claims.ambito_id != actor.ambito_id:
        raise PermissionDenied(
            "Questo codice QR è di un altro ambito territoriale. / "
            "This QR code belongs to another ambito.",
            field="token",
        )


def urls(settings: Settings, token: str) -> dict[str, str]:
    base = settings.public_base_url
    return {
        "url": f"{base}/checkin/?t={token}",
        "png_url": f"{base}/api/checkin/qr.png?t={token}",
        "svg_url": f"{base}/api/checkin/qr.svg?t={token}",
        "sheet_url": f"{base}/api/checkin/sheet?t={token}",
        "badge_url": f"{base}/api/checkin/sheet?t={token}&layout=badge",
    }


# --- what a code is for -----------------------------------------------------------------------


async def _holder_name(holder_id: uuid.UUID) -> str:
    row = await Holder.select(Holder.name).where(Holder.id == holder_id).first()
    return row["name"] if row else ""


async def _activity(ambito_id: uuid.UUID, activity_id: uuid.UUID) -> dict[str, Any] | None:
    return (
        await CommunityActivity.select(
            CommunityActivity.id,
            CommunityActivity.title,
            CommunityActivity.status,
            CommunityActivity.comune,
        )
        .where((CommunityActivity.id == activity_id) & (CommunityActivity.ambito == ambito_id))
        .first()
    )


async def _match_title(resource_id: uuid.UUID | None) -> str:
    if resource_id is None:
        return "Abbinamento"
    row = await Resource.select(Resource.title).where(Resource.id == resource_id).first()
    return row["title"] if row else "Abbinamento"


async def _title(target: TargetKind, target_id: uuid.UUID, ambito_id: uuid.UUID, res: Any) -> str:
    if target is TargetKind.ACTIVITY:
        activity = await _activity(ambito_id, target_id)
        return activity["title"] if activity else ""
    return await _match_title(res)


async def info(claims: Claims) -> CodeInfo:
    return CodeInfo(
        target=claims.target,
        target_id=claims.target_id,
        title=await _title(claims.target, claims.target_id, claims.ambito_id, claims.resource_id),
        holder_id=claims.holder_id,
        holder_name=await _holder_name(claims.holder_id),
        valid_from=claims.valid_from,
        valid_until=claims.valid_until,
    )


def _aware(moment: datetime) -> datetime:
    # A time without a zone is what a person in Italy means by it.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ROME)


async def issue_code(actor: Principal, settings: Settings, data: CodeRequest) -> CodeOut:
    if (data.activity_id is None) == (data.match_id is None):
        raise InvalidInput("give either activity_id or match_id", field="activity_id")
    moment = clock()
    valid_from = _aware(data.valid_from) if data.valid_from else moment
    valid_until = _aware(data.valid_until) if data.valid_until else valid_from + DEFAULT_WINDOW
    if valid_until <= valid_from:
        raise InvalidInput("valid_until must be after valid_from", field="valid_until")
    if valid_until <= moment:
        raise InvalidInput("valid_until is already past", field="valid_until")
    if valid_until - valid_from > MAX_WINDOW:
        raise InvalidInput("a code is valid for at most 366 days", field="valid_until")
    resource_id = data.resource_id
    plan_id: uuid.UUID | None = None
    if data.activity_id is not None:
        target, target_id = TargetKind.ACTIVITY, data.activity_id
        activity = await _activity(actor.ambito_id, data.activity_id)
        if activity is None:
            raise InvalidInput("no such activity in this ambito", field="activity_id")
        if activity["status"] != "active":
            raise InvalidInput("this activity was cancelled", field="activity_id")
        organisers = (await activities.organisers([data.activity_id]))[data.activity_id]
        if actor.role is Role.HOLDER_MANAGER:
            if actor.holder_id not in organisers:
                raise PermissionDenied("only an organiser's manager prints codes for an activity")
        else:
            actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
        holder_id = data.holder_id
        if holder_id is None:
            if actor.role is Role.HOLDER_MANAGER:
                holder_id = actor.holder_id
            elif len(organisers) == 1:
                holder_id = organisers[0]
            else:
                raise InvalidInput(
                    "the activity has several organisers: say which (holder_id)",
                    field="holder_id",
                )
        if holder_id not in organisers:
            raise InvalidInput("the holder does not organise this activity", field="holder_id")
        if actor.role is Role.HOLDER_MANAGER and holder_id != actor.holder_id:
            raise PermissionDenied("a holder manager prints codes for its own holder")
        title = activity["title"]
    else:
        assert data.match_id is not None
        target, target_id = TargetKind.MATCH, data.match_id
        link = await links.resolve(actor.ambito_id, data.match_id, None)
        assert link is not None and link.holder_id is not None
        if actor.role is Role.HOLDER_MANAGER:
            if actor.holder_id != link.holder_id:
                raise InvalidInput("no such match in this ambito", field="match_id")
        elif actor.role is Role.SOCIAL_WORKER:
            if not await links.works_on_plan(actor, link.plan_id):
                raise InvalidInput("no such match in this ambito", field="match_id")
        else:
            actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER)
        if data.holder_id is not None and data.holder_id != link.holder_id:
            raise InvalidInput("the match belongs to another holder", field="holder_id")
        holder_id = link.holder_id
        plan_id = link.plan_id
        resource_id = resource_id or link.resource_id
        title = await _match_title(resource_id)
    if resource_id is not None:
        resource = (
            await Resource.select(Resource.holder)
            .where((Resource.id == resource_id) & (Resource.ambito == actor.ambito_id))
            .first()
        )
        if resource is None or resource["holder"] != holder_id:
            raise InvalidInput("no such resource of this holder", field="resource_id")
    code_id = uuid.uuid4()
    claims: dict[str, Any] = {
        "amb": str(actor.ambito_id),
        "hld": str(holder_id),
        "nbf": int(valid_from.timestamp()),
        "cid": str(code_id),
    }
    if resource_id is not None:
        claims["res"] = str(resource_id)
    token = issue(
        settings.secret_key,
        AUDIENCE,
        f"{target.value}:{target_id}",
        claims,
        ttl=valid_until - moment,
        now=moment,
    )
    # The stored window is the token's (whole seconds), so the list says what check-in checks.
    read = read_token(settings, token) if valid_from <= moment else None
    row = CheckInCode(
        id=code_id,
        ambito=actor.ambito_id,
        holder=holder_id,
        activity=target_id if target is TargetKind.ACTIVITY else None,
        match_id=target_id if target is TargetKind.MATCH else None,
        plan_id=plan_id,
        resource=resource_id,
        title=title[:300],
        token=token,
        valid_from=read.valid_from if read else valid_from.replace(microsecond=0),
        valid_until=read.valid_until if read else valid_until.replace(microsecond=0),
        issued_by=actor.user_id,
        issued_by_role=actor.role.value,
        issued_at=moment,
    )
    async with unit_of_work():
        await CheckInCode.insert(row)
    stored = await CheckInCode.select().where(CheckInCode.id == code_id).first()
    assert stored is not None
    return (await _code_outs(settings, [stored]))[0]


# --- issued codes ---------------------------------------------------------------------------


def code_status(row: dict[str, Any], moment: datetime) -> CodeStatus:
    if row["revoked_at"] is not None:
        return CodeStatus.REVOKED
    if row["valid_until"] <= moment:
        return CodeStatus.EXPIRED
    if row["valid_from"] > moment:
        return CodeStatus.SCHEDULED
    return CodeStatus.VALID


async def _code_outs(settings: Settings, rows: list[dict[str, Any]]) -> list[CodeOut]:
    holder_ids = list({row["holder"] for row in rows})
    names: dict[uuid.UUID, str] = {}
    if holder_ids:
        found = await Holder.select(Holder.id, Holder.name).where(Holder.id.is_in(holder_ids))
        names = {holder["id"]: holder["name"] for holder in found}
    moment = clock()
    return [
        CodeOut(
            id=row["id"],
            status=code_status(row, moment),
            token=row["token"],
            **urls(settings, row["token"]),
            target=TargetKind.ACTIVITY if row["activity"] is not None else TargetKind.MATCH,
            target_id=row["activity"] if row["activity"] is not None else row["match_id"],
            title=row["title"],
            holder_id=row["holder"],
            holder_name=names.get(row["holder"], ""),
            resource_id=row["resource"],
            valid_from=row["valid_from"],
            valid_until=row["valid_until"],
            issued_at=row["issued_at"],
            issued_by_id=row["issued_by"],
            revoked_at=row["revoked_at"],
        )
        for row in rows
    ]


def _codes_visible_where(actor: Principal) -> Any:
    """The codes `actor` could have issued: the UdP all of its ambito, a holder manager those
    for its holder, a social worker those for the matches of its plans. Volunteers: 403."""
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER)
    where = CheckInCode.ambito == actor.ambito_id
    if actor.role is Role.UDP_ADMIN:
        return where
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None:
            return where & CheckInCode.id.is_null()  # nothing
        return where & (CheckInCode.holder == actor.holder_id)
    plan_ids = links.visible_plans_query(actor)
    if plan_ids is None:
        return where & CheckInCode.id.is_null()
    return where & CheckInCode.match_id.is_not_null() & CheckInCode.plan_id.is_in(plan_ids)


async def list_codes(
    actor: Principal,
    settings: Settings,
    *,
    activity_id: uuid.UUID | None = None,
    match_id: uuid.UUID | None = None,
    valid: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[CodeOut]:
    """Issued codes, latest ending first. `valid=true`: usable now or later (not expired, not
    revoked); `valid=false`: expired or revoked."""
    where = _codes_visible_where(actor)
    if activity_id is not None:
        where &= CheckInCode.activity == activity_id
    if match_id is not None:
        where &= CheckInCode.match_id == match_id
    moment = clock()
    if valid is True:
        where &= CheckInCode.revoked_at.is_null() & (CheckInCode.valid_until > moment)
    elif valid is False:
        where &= CheckInCode.revoked_at.is_not_null() | (CheckInCode.valid_until <= moment)
    rows = (
        await CheckInCode.select()
        .where(where)
        .order_by(CheckInCode.valid_until, ascending=False)
        .order_by(CheckInCode.issued_at, ascending=False)
        .order_by(CheckInCode.id)
        .limit(limit)
        .offset(offset)
    )
    total = await page_total(len(rows), limit, offset, CheckInCode.count().where(where))
    return Page(items=await _code_outs(settings, rows), total=total, limit=limit, offset=offset)


async def _code_row(actor: Principal, code_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await CheckInCode.select()
        .where((CheckInCode.id == code_id) & (CheckInCode.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such QR code")
    # Roles after the lookup (a volunteer gets 403), then what this actor may see (404).
    visible = (
        await CheckInCode.select(CheckInCode.id)
        .where(_codes_visible_where(actor) & (CheckInCode.id == code_id))
        .first()
    )
    if visible is None:
        raise NotFound("no such QR code")
    return row


async def get_code(actor: Principal, settings: Settings, code_id: uuid.UUID) -> CodeOut:
    return (await _code_outs(settings, [await _code_row(actor, code_id)]))[0]


async def revoke_code(actor: Principal, settings: Settings, code_id: uuid.UUID) -> CodeOut:
    """Revoke a code: check-ins with it are refused from now on (open presences can still be
    closed by their id). Revoking a revoked code changes nothing."""
    await _code_row(actor, code_id)
    async with unit_of_work():
        revoked = (
            await CheckInCode.update(
                {CheckInCode.revoked_at: clock(), CheckInCode.revoked_by: actor.user_id}
            )
            .where((CheckInCode.id == code_id) & CheckInCode.revoked_at.is_null())
            .returning(*CheckInCode.all_columns())
        )
        if revoked:  # only the first revocation is news, for the holder's managers
            await notify.code_revoked(actor, revoked[0])
    row = await CheckInCode.select().where(CheckInCode.id == code_id).first()
    assert row is not None
    return (await _code_outs(settings, [row]))[0]


async def printable(settings: Settings, token: str) -> tuple[Claims, CodeInfo]:
    """For the public image and sheet endpoints: the token is the capability (until it
    expires or is revoked). A code for next week can be printed today: checking in with it
    is still refused before its window opens."""
    claims = await read_valid_token(settings, token, before_start=True)
    return claims, await info(claims)


# --- presences ------------------------------------------------------------------------------


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


def local_day(moment: datetime) -> Any:
    return moment.astimezone(ROME).date()


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
    day = local_day(moment)
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
        entry = Contribution(
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
            occurred_on=local_day(row["checked_in_at"]),
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
            created_at=moment,
        )
    try:
        async with unit_of_work():
            current = await _presence(CheckIn.id == row["id"])
            if current is None or current["checked_out_at"] is not None:
                raise _already_closed(current or row)
            if entry is not None:
                await Contribution.insert(entry)
            await CheckIn.update(
                {
                    CheckIn.checked_out_at: moment,
                    CheckIn.contribution: entry.id if entry is not None else None,
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
        & ((CheckIn.day == local_day(clock())) | CheckIn.checked_out_at.is_null())
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
