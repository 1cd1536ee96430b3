"""The contribution ledger: append-only entries, verification, idempotency; and the
community activities entries can be for.

Rules
- Entries are only ever inserted. A correction is a new entry (kind `correction`) that
  replaces the one it names in `corrects`; a cancellation (kind `cancellation`) withdraws
  it. An entry has at most one successor (unique index), so two people correcting the same
  entry at once cannot fork its history. The *effective* entries, the ones totals count,
  are those nobody corrected or cancelled, minus the cancellations themselves.
- Verification: `self_reported` when recorded by hand, `qr_verified` when measured by a QR
  check-in (registry/checkin), `confirmed` once someone accountable confirmed it: the
  social worker of the plan for entries tied to a plan, the holder manager for the other
  entries of its holder (community activities included), or the UdP. A confirmation is its
  own row (who, role, when), at most one per entry. Corrections start unconfirmed again.
- Who records: a volunteer only its own entries (the volunteer is always itself); a holder
  manager its holder's entries; a social worker entries tied to plans it works on; the UdP
  anything in its ambito.
- Who sees: the UdP the whole ambito; a holder manager its holder's entries; a volunteer
  its own; a social worker the entries of the plans it works on and those it recorded.
  Anything else answers 404. Plan and need ids are shown to the plan side only.
- Idempotency: every new entry carries the client's Idempotency-Key, unique per ambito.
  A replay of the same request (same user, same body) returns the entry the first copy
  created; the same key with another body is a 409.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import uuid
from datetime import date, timedelta
from typing import Any

import msgspec
from asyncpg.exceptions import IntegrityConstraintViolationError
from piccolo.query.methods.select import Count, Sum

from registry.access import Principal, Role
from registry.ambiti.service import check_comuni
from registry.common import Page, now, set_fields
from registry.contributions import links
from registry.contributions.schemas import (
    ActivityCreate,
    ActivityOut,
    ActivityPatch,
    Cancellation,
    ConfirmationIn,
    ConfirmationOut,
    ContributionCorrection,
    ContributionCreate,
    ContributionOut,
    SummaryOut,
    TotalOut,
)
from registry.contributions.tables import (
    ActivityOrganiser,
    CommunityActivity,
    Contribution,
    ContributionConfirmation,
)
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.holders.tables import Holder
from registry.notifications import workflow as notify
from registry.resources.tables import Resource
from registry.users.tables import User
from registry.vocabularies import (
    IN_KIND_UNITS,
    TIME_UNITS,
    ContributionUnit,
    EntryKind,
    Verification,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
RESERVED_KEY_PREFIX = "checkin:"
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")
_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)
_PLAN_SIDE = (Role.UDP_ADMIN, Role.SOCIAL_WORKER)

# --- quantities -----------------------------------------------------------------------------


def stored_quantity(unit: ContributionUnit, quantity: float) -> int:
    """Time is stored in whole minutes, everything else as a whole count."""
    if unit in TIME_UNITS:
        minutes = round(quantity * 60)
        if minutes < 1:
            raise InvalidInput("the time must be at least one minute", field="quantity")
        return minutes
    if quantity != int(quantity):
        raise InvalidInput(f"a number of {unit.value} must be a whole number", field="quantity")
    return int(quantity)


def shown_quantity(unit: str, stored: int) -> float:
    return round(stored / 60, 4) if unit in TIME_UNITS else float(stored)


# --- community activities -------------------------------------------------------------------


def _activity_out(row: dict[str, Any], holder_ids: list[uuid.UUID]) -> ActivityOut:
    return ActivityOut(
        id=row["id"],
        ambito_id=row["ambito"],
        title=row["title"],
        description=row["description"],
        comune=row["comune"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        status=row["status"],
        holder_ids=holder_ids,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def organisers(activity_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = {a: [] for a in activity_ids}
    if activity_ids:
        rows = await ActivityOrganiser.select(
            ActivityOrganiser.activity, ActivityOrganiser.holder
        ).where(ActivityOrganiser.activity.is_in(activity_ids))
        for row in rows:
            found[row["activity"]].append(row["holder"])
    for holders in found.values():
        holders.sort(key=str)
    return found


async def activity_row(actor: Principal, activity_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await CommunityActivity.select()
        .where(
            (CommunityActivity.id == activity_id) & (CommunityActivity.ambito == actor.ambito_id)
        )
        .first()
    )
    if row is None:
        raise NotFound("no such activity")
    return row


async def get_activity(actor: Principal, activity_id: uuid.UUID) -> ActivityOut:
    row = await activity_row(actor, activity_id)
    return _activity_out(row, (await organisers([row["id"]]))[row["id"]])


async def list_activities(
    actor: Principal,
    *,
    holder_id: uuid.UUID | None = None,
    comune: str | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ActivityOut]:
    where = CommunityActivity.ambito == actor.ambito_id
    if holder_id:
        where &= CommunityActivity.id.is_in(
            ActivityOrganiser.select(ActivityOrganiser.activity).where(
                ActivityOrganiser.holder == holder_id
            )
        )
    if comune:
        where &= CommunityActivity.comune == comune
    if from_date:
        where &= CommunityActivity.starts_on >= from_date
    if to_date:
        where &= CommunityActivity.starts_on <= to_date
    rows = (
        await CommunityActivity.select()
        .where(where)
        .order_by(CommunityActivity.starts_on, ascending=False)
        .order_by(CommunityActivity.id)
        .limit(limit)
        .offset(offset)
    )
    total = await CommunityActivity.count().where(where)
    found = await organisers([r["id"] for r in rows])
    return Page(
        items=[_activity_out(r, found[r["id"]]) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


async def _check_organisers(actor: Principal, holder_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    unique = list(dict.fromkeys(holder_ids))
    if not unique:
        raise InvalidInput("an activity needs at least one organising holder", field="holder_ids")
    rows = await Holder.select(Holder.id).where(
        Holder.id.is_in(unique) & (Holder.ambito == actor.ambito_id)
    )
    known = {r["id"] for r in rows}
    for index, holder_id in enumerate(unique):
        if holder_id not in known:
            raise InvalidInput("no such holder in this ambito", field=f"holder_ids[{index}]")
    if actor.role is Role.HOLDER_MANAGER and actor.holder_id not in known:
        raise PermissionDenied("a holder manager organises activities of its own holder")
    return unique


def _check_dates(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput("ends_on must not be before starts_on", field="ends_on")


async def create_activity(actor: Principal, data: ActivityCreate) -> ActivityOut:
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    holder_ids = list(data.holder_ids)
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None:
            raise PermissionDenied("register your organisation first (POST /api/holders)")
        if not holder_ids:
            holder_ids = [actor.holder_id]
    holder_ids = await _check_organisers(actor, holder_ids)
    _check_dates(data.starts_on, data.ends_on)
    if data.comune:
        await check_comuni(actor.ambito_id, [data.comune], "comune")
    moment = now()
    activity = CommunityActivity(
        ambito=actor.ambito_id,
        title=data.title,
        description=data.description,
        comune=data.comune,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        created_by=actor.user_id,
        created_at=moment,
        updated_at=moment,
    )
    async with unit_of_work():
        await activity.save()
        await ActivityOrganiser.insert(
            *[ActivityOrganiser(activity=activity.id, holder=h) for h in holder_ids]
        )
    return await get_activity(actor, activity.id)


async def update_activity(
    actor: Principal, activity_id: uuid.UUID, patch: ActivityPatch
) -> ActivityOut:
    current = await activity_row(actor, activity_id)
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    current_holders = (await organisers([activity_id]))[activity_id]
    if actor.role is Role.HOLDER_MANAGER and actor.holder_id not in current_holders:
        raise PermissionDenied("only the UdP or an organiser's manager can change this activity")
    values = set_fields(patch)
    holder_ids = values.pop("holder_ids", None)
    if holder_ids is not None:
        holder_ids = await _check_organisers(actor, holder_ids)
    _check_dates(
        values.get("starts_on", current["starts_on"]), values.get("ends_on", current["ends_on"])
    )
    if values.get("comune"):
        await check_comuni(actor.ambito_id, [values["comune"]], "comune")
    async with unit_of_work():
        await CommunityActivity.update({**values, "updated_at": now()}).where(
            CommunityActivity.id == activity_id
        )
        if holder_ids is not None:
            await ActivityOrganiser.delete().where(ActivityOrganiser.activity == activity_id)
            await ActivityOrganiser.insert(
                *[ActivityOrganiser(activity=activity_id, holder=h) for h in holder_ids]
            )
    return await get_activity(actor, activity_id)


# --- reading the ledger ---------------------------------------------------------------------

_COLUMNS = (
    *Contribution.all_columns(),
    Contribution.holder.name.as_alias("holder_name"),
    Contribution.volunteer.username.as_alias("volunteer_username"),
)


def _successors(ambito_id: uuid.UUID) -> Any:
    return Contribution.select(Contribution.corrects).where(
        (Contribution.ambito == ambito_id) & Contribution.corrects.is_not_null()
    )


def effective_where(ambito_id: uuid.UUID) -> Any:
    """The entries totals count: not replaced or cancelled, and not a cancellation."""
    return (
        (Contribution.ambito == ambito_id)
        & Contribution.id.not_in(_successors(ambito_id))
        & (Contribution.kind != EntryKind.CANCELLATION.value)
    )


def _confirmed_ids(ambito_id: uuid.UUID) -> Any:
    return ContributionConfirmation.select(ContributionConfirmation.contribution).where(
        ContributionConfirmation.ambito == ambito_id
    )


def verified_where(ambito_id: uuid.UUID) -> Any:
    """qr_verified or confirmed: the entries the metrics count."""
    return (Contribution.verification == Verification.QR_VERIFIED.value) | Contribution.id.is_in(
        _confirmed_ids(ambito_id)
    )


def unverified_where(ambito_id: uuid.UUID) -> Any:
    return (Contribution.verification == Verification.SELF_REPORTED.value) & (
        Contribution.id.not_in(_confirmed_ids(ambito_id))
    )


def awaiting_where(actor: Principal) -> Any:
    """The self-reported entries nobody confirmed yet that `actor` is the one to confirm:
    for a social worker those of the plans it owns or that are shared with it, for a holder
    manager its holder's entries not tied to a plan, for the UdP all; a volunteer none."""
    where = unverified_where(actor.ambito_id)
    if actor.role is Role.UDP_ADMIN:
        return where
    if actor.role is Role.SOCIAL_WORKER:
        plan_ids = links.visible_plans_query(actor)
        if plan_ids is None:
            return where & Contribution.id.is_null()
        return where & Contribution.plan_id.is_in(plan_ids)
    if actor.role is Role.HOLDER_MANAGER and actor.holder_id is not None:
        return where & (Contribution.holder == actor.holder_id) & Contribution.plan_id.is_null()
    return where & Contribution.id.is_null()  # nothing


def visible_where(actor: Principal) -> Any:
    where = Contribution.ambito == actor.ambito_id
    if actor.role is Role.UDP_ADMIN:
        return where
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None:
            return where & Contribution.id.is_null()  # nothing
        return where & (Contribution.holder == actor.holder_id)
    if actor.role is Role.VOLUNTEER:
        return where & (Contribution.volunteer == actor.user_id)
    own = Contribution.created_by == actor.user_id
    plan_ids = links.visible_plans_query(actor)
    if plan_ids is None:
        return where & own
    return where & (own | Contribution.plan_id.is_in(plan_ids))


async def _confirmations(ids: list[uuid.UUID]) -> dict[uuid.UUID, ConfirmationOut]:
    if not ids:
        return {}
    rows = await ContributionConfirmation.select(
        *ContributionConfirmation.all_columns(),
        ContributionConfirmation.confirmed_by.username.as_alias("username"),
    ).where(ContributionConfirmation.contribution.is_in(ids))
    return {
        row["contribution"]: ConfirmationOut(
            confirmed_by=row["confirmed_by"],
            confirmed_by_username=row["username"],
            role=row["role"],
            confirmed_at=row["confirmed_at"],
            note=row["note"],
        )
        for row in rows
    }


async def _successor_of(ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    if not ids:
        return {}
    rows = await Contribution.select(Contribution.id, Contribution.corrects).where(
        Contribution.corrects.is_in(ids)
    )
    return {row["corrects"]: row["id"] for row in rows}


async def _outs(actor: Principal, rows: list[dict[str, Any]]) -> list[ContributionOut]:
    ids = [row["id"] for row in rows]
    confirmations = await _confirmations(ids)
    successors = await _successor_of(ids)
    plan_side = actor.role in _PLAN_SIDE
    outs = []
    for row in rows:
        confirmation = confirmations.get(row["id"])
        successor = successors.get(row["id"])
        if confirmation is not None:
            verification = Verification.CONFIRMED
        else:
            verification = Verification(row["verification"])
        outs.append(
            ContributionOut(
                id=row["id"],
                ambito_id=row["ambito"],
                holder_id=row["holder"],
                holder_name=row["holder_name"],
                volunteer_id=row["volunteer"],
                volunteer_username=row["volunteer_username"],
                resource_id=row["resource"],
                activity_id=row["activity"],
                match_id=row["match_id"],
                # A plan or need id would let the holder side link the needs of one person.
                need_id=row["need_id"] if plan_side else None,
                plan_id=row["plan_id"] if plan_side else None,
                kind=EntryKind(row["kind"]),
                corrects_id=row["corrects"],
                superseded_by=successor,
                effective=successor is None and row["kind"] != EntryKind.CANCELLATION,
                unit=ContributionUnit(row["unit"]),
                quantity=shown_quantity(row["unit"], row["quantity"]),
                minutes=row["quantity"] if row["unit"] in TIME_UNITS else None,
                value_cents=row["value_cents"],
                occurred_on=row["occurred_on"],
                started_at=row["started_at"],
                ended_at=row["ended_at"],
                comune=row["comune"],
                note=row["note"],
                verification=verification,
                confirmation=confirmation,
                created_by=row["created_by"],
                created_by_role=row["created_by_role"],
                created_at=row["created_at"],
            )
        )
    return outs


async def _row(actor: Principal, contribution_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await Contribution.select(*_COLUMNS)
        .where((Contribution.id == contribution_id) & visible_where(actor))
        .first()
    )
    if row is None:
        raise NotFound("no such contribution")
    return row


async def get_contribution(actor: Principal, contribution_id: uuid.UUID) -> ContributionOut:
    return (await _outs(actor, [await _row(actor, contribution_id)]))[0]


async def list_contributions(
    actor: Principal,
    *,
    holder_id: uuid.UUID | None = None,
    volunteer_id: uuid.UUID | None = None,
    activity_id: uuid.UUID | None = None,
    match_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
    unit: ContributionUnit | None = None,
    verification: Verification | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    include_superseded: bool = False,
    awaiting_confirmation: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[ContributionOut]:
    where = _filters(
        actor,
        holder_id=holder_id,
        volunteer_id=volunteer_id,
        activity_id=activity_id,
        match_id=match_id,
        plan_id=plan_id,
        from_date=from_date,
        to_date=to_date,
    )
    if not include_superseded or awaiting_confirmation:
        where &= effective_where(actor.ambito_id)
    if awaiting_confirmation:
        where &= awaiting_where(actor)
    if unit:
        where &= Contribution.unit == unit.value
    if verification is Verification.CONFIRMED:
        where &= Contribution.id.is_in(_confirmed_ids(actor.ambito_id))
    elif verification is Verification.QR_VERIFIED:
        where &= (Contribution.verification == Verification.QR_VERIFIED.value) & (
            Contribution.id.not_in(_confirmed_ids(actor.ambito_id))
        )
    elif verification is Verification.SELF_REPORTED:
        where &= unverified_where(actor.ambito_id)
    rows = (
        await Contribution.select(*_COLUMNS)
        .where(where)
        .order_by(Contribution.occurred_on, ascending=False)
        .order_by(Contribution.created_at, ascending=False)
        .order_by(Contribution.id)
        .limit(limit)
        .offset(offset)
    )
    total = await Contribution.count().where(where)
    return Page(items=await _outs(actor, rows), total=total, limit=limit, offset=offset)


def _filters(
    actor: Principal,
    *,
    holder_id: uuid.UUID | None = None,
    volunteer_id: uuid.UUID | None = None,
    activity_id: uuid.UUID | None = None,
    match_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> Any:
    if from_date and to_date and to_date < from_date:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    where = visible_where(actor)
    if holder_id:
        where &= Contribution.holder == holder_id
    if volunteer_id:
        where &= Contribution.volunteer == volunteer_id
    if activity_id:
        where &= Contribution.activity == activity_id
    if match_id:
        where &= Contribution.match_id == match_id
    if plan_id:
        if actor.role not in _PLAN_SIDE:
            raise PermissionDenied("only the plan side filters by plan")
        where &= Contribution.plan_id == plan_id
    if from_date:
        where &= Contribution.occurred_on >= from_date
    if to_date:
        where &= Contribution.occurred_on <= to_date
    return where


async def history(actor: Principal, contribution_id: uuid.UUID) -> list[ContributionOut]:
    """Every version of an entry, oldest first: the original, its corrections, and the
    cancellation if there is one."""
    row = await _row(actor, contribution_id)
    chain = [row]
    seen = {row["id"]}
    # Walk back to the original...
    while chain[0]["corrects"] is not None and chain[0]["corrects"] not in seen:
        previous = (
            await Contribution.select(*_COLUMNS)
            .where(
                (Contribution.id == chain[0]["corrects"]) & (Contribution.ambito == actor.ambito_id)
            )
            .first()
        )
        if previous is None:
            break
        seen.add(previous["id"])
        chain.insert(0, previous)
    # ...and forward to the latest version.
    while True:
        following = (
            await Contribution.select(*_COLUMNS)
            .where(
                (Contribution.corrects == chain[-1]["id"])
                & (Contribution.ambito == actor.ambito_id)
            )
            .first()
        )
        if following is None or following["id"] in seen:
            break
        seen.add(following["id"])
        chain.append(following)
    return await _outs(actor, chain)


async def summary(
    actor: Principal,
    *,
    holder_id: uuid.UUID | None = None,
    volunteer_id: uuid.UUID | None = None,
    activity_id: uuid.UUID | None = None,
    match_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> SummaryOut:
    """Totals of the effective entries the caller may see, per unit, verified apart."""
    where = _filters(
        actor,
        holder_id=holder_id,
        volunteer_id=volunteer_id,
        activity_id=activity_id,
        match_id=match_id,
        plan_id=plan_id,
        from_date=from_date,
        to_date=to_date,
    ) & effective_where(actor.ambito_id)
    totals: dict[str, dict[str, int]] = {}
    for is_verified, condition in (
        (True, verified_where(actor.ambito_id)),
        (False, unverified_where(actor.ambito_id)),
    ):
        rows = (
            await Contribution.select(
                Contribution.unit,
                Sum(Contribution.quantity).as_alias("quantity"),
                Sum(Contribution.value_cents).as_alias("value_cents"),
                Count().as_alias("entries"),
            )
            .where(where & condition)
            .group_by(Contribution.unit)
        )
        for row in rows:
            bucket = totals.setdefault(
                row["unit"],
                {"verified": 0, "self_reported": 0, "entries": 0, "value": 0, "verified_value": 0},
            )
            bucket["verified" if is_verified else "self_reported"] += int(row["quantity"] or 0)
            bucket["entries"] += int(row["entries"])
            bucket["value"] += int(row["value_cents"] or 0)
            if is_verified:
                bucket["verified_value"] += int(row["value_cents"] or 0)
    order = list(ContributionUnit)
    return SummaryOut(
        from_date=from_date,
        to_date=to_date,
        totals=[
            TotalOut(
                unit=ContributionUnit(unit),
                verified=shown_quantity(unit, b["verified"]),
                self_reported=shown_quantity(unit, b["self_reported"]),
                entries=b["entries"],
                value_cents=b["value"],
                verified_value_cents=b["verified_value"],
            )
            for unit, b in sorted(totals.items(), key=lambda item: order.index(item[0]))
        ],
    )


# --- recording ------------------------------------------------------------------------------


async def _holder_in_ambito(actor: Principal, holder_id: uuid.UUID) -> None:
    found = await Holder.exists().where(
        (Holder.id == holder_id) & (Holder.ambito == actor.ambito_id)
    )
    if not found:
        raise InvalidInput("no such holder in this ambito", field="holder_id")


async def _prepare(actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    """Check an entry's content and references; returns the row's column values.
    `values` uses the API's names (holder_id, activity_id...)."""
    unit = ContributionUnit(values["unit"])
    holder_id = values["holder_id"]
    row: dict[str, Any] = {
        "holder": holder_id,
        "volunteer": values.get("volunteer_id"),
        "resource": values.get("resource_id"),
        "activity": values.get("activity_id"),
        "match_id": values.get("match_id"),
        "need_id": values.get("need_id"),
        "plan_id": None,
        "unit": unit.value,
        "quantity": stored_quantity(unit, values["quantity"]),
        "value_cents": values.get("value_cents"),
        "occurred_on": values["occurred_on"],
        "started_at": values.get("started_at"),
        "ended_at": values.get("ended_at"),
        "comune": values.get("comune"),
        "note": values.get("note", ""),
    }
    if row["value_cents"] is not None and unit not in IN_KIND_UNITS:
        raise InvalidInput(
            "a declared value is for goods and spaces; time is valued by the metrics "
            "(replacement cost), not declared",
            field="value_cents",
        )
    if row["occurred_on"] > (now() + timedelta(days=1)).date():
        raise InvalidInput("occurred_on is in the future", field="occurred_on")
    started, ended = row["started_at"], row["ended_at"]
    if started is not None and ended is not None and ended <= started:
        raise InvalidInput("ended_at must be after started_at", field="ended_at")
    if row["activity"] is not None and (row["match_id"] or row["need_id"]):
        raise InvalidInput(
            "an entry is for a community activity or for a match/need, not both",
            field="activity_id",
        )
    await _holder_in_ambito(actor, holder_id)
    if row["volunteer"] is not None:
        found = await User.exists().where(
            (User.id == row["volunteer"]) & (User.ambito == actor.ambito_id)
        )
        if not found:
            raise InvalidInput("no such user in this ambito", field="volunteer_id")
    link = await links.resolve(actor.ambito_id, row["match_id"], row["need_id"])
    if link is not None:
        row["plan_id"], row["need_id"] = link.plan_id, link.need_id
        if link.holder_id is not None and link.holder_id != holder_id:
            raise InvalidInput("the match belongs to another holder", field="holder_id")
        if row["resource"] is None:
            row["resource"] = link.resource_id
    if row["resource"] is not None:
        resource = (
            await Resource.select(Resource.holder)
            .where((Resource.id == row["resource"]) & (Resource.ambito == actor.ambito_id))
            .first()
        )
        if resource is None:
            raise InvalidInput("no such resource in this ambito", field="resource_id")
        if resource["holder"] != holder_id:
            raise InvalidInput("the resource belongs to another holder", field="resource_id")
    if row["activity"] is not None:
        await _activity_of_holder(actor, row["activity"], holder_id)
    if row["comune"] is not None:
        await check_comuni(actor.ambito_id, [row["comune"]], "comune")
    return row


async def _activity_of_holder(
    actor: Principal, activity_id: uuid.UUID, holder_id: uuid.UUID
) -> None:
    activity = (
        await CommunityActivity.select(CommunityActivity.id)
        .where(
            (CommunityActivity.id == activity_id) & (CommunityActivity.ambito == actor.ambito_id)
        )
        .first()
    )
    if activity is None:
        raise InvalidInput("no such activity in this ambito", field="activity_id")
    if holder_id not in (await organisers([activity_id]))[activity_id]:
        raise InvalidInput(
            "the holder does not organise this activity (add it to the organisers first)",
            field="holder_id",
        )


async def _may_record(actor: Principal, row: dict[str, Any]) -> None:
    """Who may record (or correct) an entry with this content."""
    if actor.role is Role.UDP_ADMIN:
        return
    if actor.role is Role.VOLUNTEER:
        if row["volunteer"] != actor.user_id:
            raise PermissionDenied("a volunteer records only its own contributions")
        return
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None or row["holder"] != actor.holder_id:
            raise PermissionDenied("a holder manager records contributions of its own holder")
        return
    # social worker
    if row["plan_id"] is None:
        raise PermissionDenied(
            "a social worker records contributions to the plans it works on (match_id or need_id)"
        )
    if not await links.works_on_plan(actor, row["plan_id"]):
        # The plans it owns or the UdP shared with it; another's is as if it did not exist.
        field = "match_id" if row["match_id"] is not None else "need_id"
        raise InvalidInput("no such match or need among your plans", field=field)


def request_digest(actor: Principal, body: msgspec.Struct, scope: str) -> str:
    """What makes two requests "the same": who sent it, to which endpoint, with which body."""
    payload = msgspec.json.encode(body, order="deterministic")
    return hashlib.sha256(f"{actor.user_id}|{scope}|".encode() + payload).hexdigest()


def check_key(key: str | None, *, required: bool) -> str | None:
    if key is None or key == "":
        if required:
            raise InvalidInput(
                "the Idempotency-Key header is required: send a new unique value (e.g. a "
                "UUID) for each entry, and the same value when retrying it",
                field=IDEMPOTENCY_HEADER,
            )
        return None
    if not _KEY_PATTERN.match(key):
        raise InvalidInput(
            "the Idempotency-Key must be 1 to 128 visible ASCII characters",
            field=IDEMPOTENCY_HEADER,
        )
    if key.startswith(RESERVED_KEY_PREFIX):
        # The QR check-out derives its entry's key from the presence: never a client's.
        raise InvalidInput(
            f"an Idempotency-Key cannot start with '{RESERVED_KEY_PREFIX}'",
            field=IDEMPOTENCY_HEADER,
        )
    return key


async def _by_key(ambito_id: uuid.UUID, key: str) -> dict[str, Any] | None:
    return (
        await Contribution.select(Contribution.id, Contribution.request_hash)
        .where((Contribution.ambito == ambito_id) & (Contribution.idempotency_key == key))
        .first()
    )


def _replayed(existing: dict[str, Any], digest: str, key: str) -> uuid.UUID:
    if existing["request_hash"] != digest:
        raise Conflict(
            f"the Idempotency-Key '{key}' was already used for a different request: use a "
            "new key for a new entry (the same key only to retry the same request)",
            field=IDEMPOTENCY_HEADER,
        )
    return existing["id"]


async def append(
    actor: Principal,
    row: dict[str, Any],
    *,
    key: str | None,
    digest: str | None,
    kind: EntryKind = EntryKind.ENTRY,
    corrects: uuid.UUID | None = None,
    verification: Verification = Verification.SELF_REPORTED,
    reason: str = "",
) -> tuple[uuid.UUID, bool]:
    """Insert one ledger entry; returns its id and whether it was created now (False: the
    request was a replay of an earlier one with the same Idempotency-Key)."""
    if key is not None:
        existing = await _by_key(actor.ambito_id, key)
        if existing is not None:
            return _replayed(existing, digest or "", key), False
    entry = Contribution(
        **row,
        ambito=actor.ambito_id,
        kind=kind.value,
        corrects=corrects,
        verification=verification.value,
        reason=reason,
        idempotency_key=key,
        request_hash=digest,
        created_by=actor.user_id,
        created_by_role=actor.role.value,
        created_at=now(),
    )
    try:
        async with unit_of_work():
            if key is not None:
                # Checked again under the write lock: on SQLite this settles every race.
                existing = await _by_key(actor.ambito_id, key)
                if existing is not None:
                    return _replayed(existing, digest or "", key), False
            if corrects is not None and await Contribution.exists().where(
                Contribution.corrects == corrects
            ):
                raise Conflict(
                    "this entry was already corrected or cancelled: act on its latest version",
                    field="id",
                )
            await Contribution.insert(entry)
            # Whoever can confirm a self-reported entry (registry/notifications/workflow.py).
            await notify.contribution_recorded(actor, entry.to_dict())
    except _INTEGRITY_ERRORS:
        # PostgreSQL: a concurrent copy of this request (or a concurrent correction) won.
        if key is not None:
            existing = await _by_key(actor.ambito_id, key)
            if existing is not None:
                return _replayed(existing, digest or "", key), False
        if corrects is not None:
            raise Conflict(
                "this entry was already corrected or cancelled: act on its latest version",
                field="id",
            ) from None
        raise
    return entry.id, True


async def record(
    actor: Principal, data: ContributionCreate, idempotency_key: str | None
) -> tuple[ContributionOut, bool]:
    key = check_key(idempotency_key, required=True)
    digest = request_digest(actor, data, "record")
    existing = await _by_key(actor.ambito_id, key) if key else None
    if existing is not None:
        # A replay answers with the entry the first copy created, before any re-validation.
        return await get_contribution(actor, _replayed(existing, digest, key or "")), False
    values = set_fields(data)
    if actor.role is Role.VOLUNTEER:
        if values.get("volunteer_id") not in (None, actor.user_id):
            raise PermissionDenied("a volunteer records only its own contributions")
        values["volunteer_id"] = actor.user_id
    values["holder_id"] = values.get("holder_id") or actor.holder_id
    if values["holder_id"] is None and values.get("match_id") is not None:
        # A social worker (or the UdP) recording for a match: the match names the holder.
        link = await links.resolve(actor.ambito_id, values["match_id"], values.get("need_id"))
        values["holder_id"] = link.holder_id if link is not None else None
    if values["holder_id"] is None:
        raise InvalidInput(
            "holder_id is required (or a match_id, whose holder is taken)", field="holder_id"
        )
    row = await _prepare(actor, values)
    await _may_record(actor, row)
    entry_id, created = await append(actor, row, key=key, digest=digest)
    return await get_contribution(actor, entry_id), created


def _api_values(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row back in the API's names, to re-validate it with changes."""
    unit = row["unit"]
    return {
        "holder_id": row["holder"],
        "volunteer_id": row["volunteer"],
        "resource_id": row["resource"],
        "activity_id": row["activity"],
        "match_id": row["match_id"],
        "need_id": row["need_id"] if row["match_id"] is None else None,
        "unit": unit,
        "quantity": shown_quantity(unit, row["quantity"]),
        "value_cents": row["value_cents"],
        "occurred_on": row["occurred_on"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "comune": row["comune"],
        "note": row["note"],
    }


async def _confirmed(contribution_id: uuid.UUID) -> bool:
    return await ContributionConfirmation.exists().where(
        ContributionConfirmation.contribution == contribution_id
    )


async def _amendable(actor: Principal, contribution_id: uuid.UUID) -> dict[str, Any]:
    """The entry if `actor` may correct or cancel it now."""
    row = await _row(actor, contribution_id)
    if row["kind"] == EntryKind.CANCELLATION:
        raise Conflict("a cancellation cannot be changed: record a new entry instead", field="id")
    successor = await Contribution.select(Contribution.id).where(Contribution.corrects == row["id"])
    if successor:
        raise Conflict(
            f"this entry was already corrected or cancelled by {successor[0]['id']}: "
            "act on its latest version",
            field="id",
        )
    if actor.role is Role.VOLUNTEER and (
        row["created_by"] != actor.user_id
        or row["verification"] != Verification.SELF_REPORTED
        or await _confirmed(row["id"])
    ):
        raise PermissionDenied(
            "a volunteer corrects only its own self-reported entries nobody has confirmed yet; "
            "ask the holder manager"
        )
    if actor.role is Role.SOCIAL_WORKER and (
        row["plan_id"] is None or not await links.works_on_plan(actor, row["plan_id"])
    ):
        raise PermissionDenied("a social worker corrects only entries of the plans it works on")
    return row


async def correct(
    actor: Principal,
    contribution_id: uuid.UUID,
    data: ContributionCorrection,
    idempotency_key: str | None = None,
) -> tuple[ContributionOut, bool]:
    key = check_key(idempotency_key, required=False)
    if key is not None:
        existing = await _by_key(actor.ambito_id, key)
        if existing is not None:
            digest = request_digest(actor, data, f"correct:{contribution_id}")
            return await get_contribution(actor, _replayed(existing, digest, key)), False
    current = await _amendable(actor, contribution_id)
    changes = set_fields(data)
    reason = changes.pop("reason")
    if not changes:
        raise InvalidInput("a correction must change at least one field", field="quantity")
    values = {**_api_values(current), **changes}
    if "match_id" in changes and "need_id" not in changes:
        values["need_id"] = None  # follows the new match
    row = await _prepare(actor, values)
    await _may_record(actor, row)
    entry_id, created = await append(
        actor,
        row,
        key=key,
        digest=request_digest(actor, data, f"correct:{contribution_id}"),
        kind=EntryKind.CORRECTION,
        corrects=current["id"],
        reason=reason,
    )
    return await get_contribution(actor, entry_id), created


# What a correction or a cancellation repeats of the entry it replaces, so that the ledger
# reads on its own (a cancellation repeats the quantity too; a correction sets its own).
CARRIED_OVER = (
    "holder",
    "volunteer",
    "resource",
    "activity",
    "match_id",
    "need_id",
    "plan_id",
    "unit",
    "value_cents",
    "occurred_on",
    "started_at",
    "ended_at",
    "comune",
    "note",
)


async def cancel(
    actor: Principal,
    contribution_id: uuid.UUID,
    data: Cancellation,
    idempotency_key: str | None = None,
) -> tuple[ContributionOut, bool]:
    key = check_key(idempotency_key, required=False)
    digest = request_digest(actor, data, f"cancel:{contribution_id}")
    if key is not None:
        existing = await _by_key(actor.ambito_id, key)
        if existing is not None:
            return await get_contribution(actor, _replayed(existing, digest, key)), False
    current = await _amendable(actor, contribution_id)
    # The cancellation repeats what it withdraws, so the ledger reads on its own.
    row = {name: current[name] for name in (*CARRIED_OVER, "quantity")}
    entry_id, created = await append(
        actor,
        row,
        key=key,
        digest=digest,
        kind=EntryKind.CANCELLATION,
        corrects=current["id"],
        verification=Verification(current["verification"]),
        reason=data.reason,
    )
    return await get_contribution(actor, entry_id), created


async def confirm(
    actor: Principal, contribution_id: uuid.UUID, data: ConfirmationIn
) -> ContributionOut:
    row = await _row(actor, contribution_id)
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER)
    if row["plan_id"] is not None:
        if not await links.works_on_plan(actor, row["plan_id"]):
            raise PermissionDenied(
                "an entry for a plan is confirmed by the social worker of the plan (or the UdP)"
            )
    elif not actor.manages_holder(row["holder"]):
        raise PermissionDenied(
            "an entry not tied to a plan is confirmed by the holder's manager (or the UdP)"
        )
    if row["kind"] == EntryKind.CANCELLATION:
        raise Conflict("a cancellation is not confirmed", field="id")
    if await Contribution.exists().where(Contribution.corrects == row["id"]):
        raise Conflict(
            "this entry was corrected or cancelled: confirm its latest version", field="id"
        )
    existing = (await _confirmations([row["id"]])).get(row["id"])
    if existing is not None:
        raise Conflict(
            f"already confirmed by {existing.confirmed_by_username} on "
            f"{existing.confirmed_at:%Y-%m-%d %H:%M} UTC",
            field="id",
        )
    try:
        async with unit_of_work():
            await ContributionConfirmation.insert(
                ContributionConfirmation(
                    ambito=actor.ambito_id,
                    contribution=row["id"],
                    confirmed_by=actor.user_id,
                    role=actor.role.value,
                    confirmed_at=now(),
                    note=data.note,
                )
            )
            await notify.contribution_confirmed(actor, row)  # the volunteer
    except _INTEGRITY_ERRORS:
        raise Conflict("this entry was confirmed a moment ago", field="id") from None
    return await get_contribution(actor, row["id"])
