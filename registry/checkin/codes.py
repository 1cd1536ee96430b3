"""QR check-in codes: issuing one for an activity or a match, and the codes issued.

Every issued code is stored (`checkin_code`, with its token, so a reprint is the same QR):
its issuers list it again and may revoke it. A revoked code is refused like an expired one.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from registry.access import Principal, Role
from registry.checkin.qr import ROME
from registry.checkin.schemas import CodeInfo, CodeOut, CodeRequest, CodeStatus, TargetKind
from registry.checkin.tables import CheckInCode
from registry.checkin.tokens import (
    AUDIENCE,
    Claims,
    _activity,
    _match_title,
    clock,
    info,
    read_token,
    read_valid_token,
    urls,
)
from registry.common import Page, page_total
from registry.config import Settings
from registry.contributions import activities, links
from registry.db import unit_of_work
from registry.errors import InvalidInput, NotFound, PermissionDenied
from registry.holders.tables import Holder
from registry.notifications import workflow as notify
from registry.resources.tables import Resource
from registry.security import issue

DEFAULT_WINDOW = timedelta(hours=12)
MAX_WINDOW = timedelta(days=366)


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
