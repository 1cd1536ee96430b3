"""Patti di collaborazione: parties, commitments, renewals, monitoring, reporting periods.

Rules
- A renewal is a new period of the patto linked to the previous one (`renews`), which becomes
  `renewed`; at most one renewal per period.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from registry.access import Principal, Role
from registry.ambiti.service import check_comuni
from registry.common import now, set_fields
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.partnerships._common import (
    _INTEGRITY_ERRORS,
    _check_holders,
    _holders,
    _in_range,
    _only_roles,
)
from registry.partnerships.commitments import _add_commitment, _commitment_outs, _monitoring
from registry.partnerships.schemas import (
    CommitmentCreate,
    CommitmentOut,
    MonitoringOut,
    PartyIn,
    PartyOut,
    PattoCreate,
    PattoOut,
    PattoPatch,
    PattoRenewal,
    PattoStatus,
    PublicParty,
)
from registry.partnerships.tables import Commitment, Patto, PattoParty, PattoReport


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def _patto_row(actor: Principal, patto_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await Patto.select()
        .where((Patto.id == patto_id) & (Patto.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such patto")
    return row


async def _parties(patto_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = {p: [] for p in patto_ids}
    if patto_ids:
        for r in await PattoParty.select(PattoParty.patto, PattoParty.holder).where(
            PattoParty.patto.is_in(patto_ids)
        ):
            found[r["patto"]].append(r["holder"])
    return found


async def _may_see_patto(actor: Principal, patto_id: uuid.UUID) -> None:
    _only_roles(actor)
    if (
        actor.role is Role.HOLDER_MANAGER
        and actor.holder_id not in (await _parties([patto_id]))[patto_id]
    ):
        raise PermissionDenied("only the UdP and the patto's parties see it")


def _period_ends(row: dict[str, Any]) -> Iterator[date]:
    """The last day of each reporting period of the patto, in order."""
    k = 1
    while True:
        period_end = min(
            add_months(row["starts_on"], k * row["report_every_months"]) - timedelta(days=1),
            row["ends_on"],
        )
        yield period_end
        if period_end >= row["ends_on"]:
            return
        k += 1


async def _covered(row: dict[str, Any]) -> date:
    """The last day the patto's reports cover (the day before it starts if none)."""
    latest = (
        await PattoReport.select(PattoReport.period_end)
        .where(PattoReport.patto == row["id"])
        .order_by(PattoReport.period_end, ascending=False)
        .first()
    )
    return latest["period_end"] if latest else row["starts_on"] - timedelta(days=1)


async def _next_report_due(row: dict[str, Any]) -> date | None:
    """The end of the first reporting period not covered by a report yet."""
    covered = await _covered(row)
    return next((end for end in _period_ends(row) if end > covered), None)


async def _patto_out(actor: Principal, row: dict[str, Any]) -> PattoOut:
    parties = (await _parties([row["id"]]))[row["id"]]
    holders = await _holders(parties)
    renewal = await Patto.select(Patto.id).where(Patto.renews == row["id"]).first()
    return PattoOut(
        id=row["id"],
        title=row["title"],
        object=row["object"],
        public_party=PublicParty(row["public_party"]),
        comune=row["comune"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        status=PattoStatus(row["status"]),
        report_every_months=row["report_every_months"],
        next_report_due=await _next_report_due(row),
        renews_id=row["renews"],
        renewed_by_id=renewal["id"] if renewal else None,
        parties=[
            PartyOut(
                holder_id=h,
                holder_name=holders[h]["name"],
                holder_kind=holders[h]["kind"],
                sector=holders[h]["sector"],
            )
            for h in sorted(parties, key=lambda h: (holders[h]["name"], str(h)))
        ],
        commitments=await _commitment_outs(actor, Commitment.patto == row["id"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def create_patto(actor: Principal, data: PattoCreate) -> PattoOut:
    actor.require(Role.UDP_ADMIN)
    _in_range("starts_on", data.starts_on)
    _in_range("ends_on", data.ends_on)
    if data.ends_on < data.starts_on:
        raise InvalidInput("ends_on must not be before starts_on", field="ends_on")
    if data.public_party is PublicParty.COMUNE:
        if data.comune is None:
            raise InvalidInput("name the comune that is party to the patto", field="comune")
        await check_comuni(actor.ambito_id, [data.comune], "comune")
    elif data.comune is not None:
        raise InvalidInput("a comune is given only when the comune is the party", field="comune")
    parties = list(dict.fromkeys(data.parties))
    if len(parties) != len(data.parties):
        raise InvalidInput("a holder is listed twice", field="parties")
    await _check_holders(actor, parties, "parties")
    moment = now()
    patto = Patto(
        ambito=actor.ambito_id,
        title=data.title,
        object=data.object,
        public_party=data.public_party.value,
        comune=data.comune,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        report_every_months=data.report_every_months,
        created_by=actor.user_id,
        created_at=moment,
        updated_at=moment,
    )
    async with unit_of_work():
        await patto.save()
        await PattoParty.insert(*[PattoParty(patto=patto.id, holder=h) for h in parties])
    return await get_patto(actor, patto.id)


async def get_patto(actor: Principal, patto_id: uuid.UUID) -> PattoOut:
    row = await _patto_row(actor, patto_id)
    await _may_see_patto(actor, patto_id)
    return await _patto_out(actor, row)


async def list_patti(actor: Principal, *, status: PattoStatus | None = None) -> list[PattoOut]:
    _only_roles(actor)
    where = Patto.ambito == actor.ambito_id
    if status is not None:
        where &= Patto.status == status.value
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None:
            return []
        where &= Patto.id.is_in(
            PattoParty.select(PattoParty.patto).where(PattoParty.holder == actor.holder_id)
        )
    rows = (
        await Patto.select()
        .where(where)
        .order_by(Patto.starts_on, ascending=False)
        .order_by(Patto.id)
        .limit(200)
    )
    return [await _patto_out(actor, r) for r in rows]


async def update_patto(actor: Principal, patto_id: uuid.UUID, patch: PattoPatch) -> PattoOut:
    current = await _patto_row(actor, patto_id)
    actor.require(Role.UDP_ADMIN)
    values = set_fields(patch)
    _in_range("ends_on", values.get("ends_on"))
    if values.get("ends_on", current["ends_on"]) < current["starts_on"]:
        raise InvalidInput("ends_on must not be before starts_on", field="ends_on")
    if "status" in values:
        if values["status"] is PattoStatus.RENEWED:
            raise InvalidInput("a patto is renewed with POST …/renewal", field="status")
        values["status"] = values["status"].value
    await Patto.update({**values, "updated_at": now()}).where(Patto.id == patto_id)
    return await get_patto(actor, patto_id)


async def add_party(actor: Principal, patto_id: uuid.UUID, data: PartyIn) -> PattoOut:
    current = await _patto_row(actor, patto_id)
    actor.require(Role.UDP_ADMIN)
    if current["status"] != PattoStatus.ACTIVE:
        raise Conflict("a holder joins only a patto in force", field="status")
    await _check_holders(actor, [data.holder_id], "holder_id")
    if data.holder_id in (await _parties([patto_id]))[patto_id]:
        raise Conflict("this holder is already a party", field="holder_id")
    async with unit_of_work():
        await PattoParty.insert(PattoParty(patto=patto_id, holder=data.holder_id))
        await Patto.update({"updated_at": now()}).where(Patto.id == patto_id)
    return await get_patto(actor, patto_id)


async def add_patto_commitment(
    actor: Principal, patto_id: uuid.UUID, data: CommitmentCreate
) -> CommitmentOut:
    await _patto_row(actor, patto_id)
    actor.require(Role.UDP_ADMIN)
    members = set((await _parties([patto_id]))[patto_id])
    return await _add_commitment(actor, data, patto_id=patto_id, members=members)


async def renew_patto(actor: Principal, patto_id: uuid.UUID, data: PattoRenewal) -> PattoOut:
    current = await _patto_row(actor, patto_id)
    actor.require(Role.UDP_ADMIN)
    if current["status"] in (PattoStatus.TERMINATED, PattoStatus.RENEWED):
        raise Conflict(f"a {current['status']} patto cannot be renewed", field="status")
    _in_range("starts_on", data.starts_on)
    _in_range("ends_on", data.ends_on)
    starts_on = data.starts_on or current["ends_on"] + timedelta(days=1)
    if starts_on <= current["starts_on"]:
        raise InvalidInput("the renewal starts after the current period starts", field="starts_on")
    if data.ends_on < starts_on:
        raise InvalidInput("ends_on must not be before starts_on", field="ends_on")
    moment = now()
    renewal = Patto(
        ambito=actor.ambito_id,
        title=current["title"],
        object=current["object"],
        public_party=current["public_party"],
        comune=current["comune"],
        starts_on=starts_on,
        ends_on=data.ends_on,
        report_every_months=current["report_every_months"],
        renews=current["id"],
        created_by=actor.user_id,
        created_at=moment,
        updated_at=moment,
    )
    parties = (await _parties([patto_id]))[patto_id]
    commitments = (
        await Commitment.select().where(Commitment.patto == patto_id)
        if data.copy_commitments
        else []
    )
    try:
        async with unit_of_work():
            await renewal.save()
            await PattoParty.insert(*[PattoParty(patto=renewal.id, holder=h) for h in parties])
            if commitments:
                await Commitment.insert(
                    *[
                        Commitment(
                            ambito=actor.ambito_id,
                            patto=renewal.id,
                            holder=c["holder"],
                            description=c["description"],
                            unit=c["unit"],
                            quantity=c["quantity"],
                            resource=c["resource"],
                            created_at=moment,
                        )
                        for c in commitments
                    ]
                )
            await Patto.update({"status": PattoStatus.RENEWED.value, "updated_at": moment}).where(
                Patto.id == patto_id
            )
    except _INTEGRITY_ERRORS:
        raise Conflict("this period was renewed a moment ago", field="id") from None
    return await get_patto(actor, renewal.id)


async def patto_monitoring(actor: Principal, patto_id: uuid.UUID) -> MonitoringOut:
    await _patto_row(actor, patto_id)
    await _may_see_patto(actor, patto_id)
    return await _monitoring(actor, Commitment.patto == patto_id)
