"""Community activities: the events and shared initiatives ledger entries can be for, and
their organising holders."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from registry.access import Principal, Role
from registry.ambiti.service import check_comuni
from registry.common import Page, now, set_fields
from registry.contributions.schemas import ActivityCreate, ActivityOut, ActivityPatch
from registry.contributions.tables import ActivityOrganiser, CommunityActivity
from registry.db import unit_of_work
from registry.errors import InvalidInput, NotFound, PermissionDenied
from registry.holders.tables import Holder


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
