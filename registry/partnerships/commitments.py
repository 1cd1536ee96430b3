"""Commitments of co-design projects and patti, and the ledger entries given under them.

Rules
- Hours and goods given under a commitment are ordinary ledger entries (registry/contributions:
  the same checks, idempotency, confirmation, corrections), so they count in every figure as
  contributions; `CommitmentEntry` says which commitment an entry was given under.
- Monitoring compares what was committed with the effective entries given under it: a
  corrected entry counts in its latest version, a cancelled one not at all. `verified` (QR or
  confirmed) is what the metrics count; `self_reported` is shown apart.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

import msgspec
from asyncpg.exceptions import InFailedSQLTransactionError

from registry.access import Principal, Role
from registry.common import now
from registry.contributions import quantities, reading, recording
from registry.contributions.schemas import ContributionOut
from registry.contributions.tables import Contribution, ContributionConfirmation
from registry.db import unit_of_work
from registry.errors import InvalidInput, NotFound, PermissionDenied
from registry.partnerships._common import _INTEGRITY_ERRORS, _holders, _only_roles
from registry.partnerships.schemas import (
    CommitmentContribution,
    CommitmentCreate,
    CommitmentOut,
    GivenOut,
    MonitoringOut,
    PartnerMonitoring,
)
from registry.partnerships.tables import CodesignProject, Commitment, CommitmentEntry, Patto
from registry.resources.tables import Resource
from registry.vocabularies import ContributionUnit, Verification


def _share(given: float, committed: float | None) -> float | None:
    if not committed:
        return None
    return round(given / committed, 4)


# --- the ledger under commitments -----------------------------------------------------------


async def given(
    ambito_id: uuid.UUID,
    commitment_ids: list[uuid.UUID],
    *,
    start: date | None = None,
    end: date | None = None,
) -> dict[uuid.UUID, dict[str, dict[str, int]]]:
    """Per commitment and unit: the effective entries given under it (stored quantities:
    minutes for time), verified and self-reported apart, with their count and value."""
    out: dict[uuid.UUID, dict[str, dict[str, int]]] = {c: {} for c in commitment_ids}
    if not commitment_ids:
        return out
    commitment_of = {
        r["contribution"]: r["commitment"]
        for r in await CommitmentEntry.select(
            CommitmentEntry.commitment, CommitmentEntry.contribution
        ).where(
            CommitmentEntry.commitment.is_in(commitment_ids) & (CommitmentEntry.ambito == ambito_id)
        )
    }
    # Follow each linked entry through its corrections: the latest version is the one counted.
    frontier = list(commitment_of)
    while frontier:
        rows = await Contribution.select(Contribution.id, Contribution.corrects).where(
            Contribution.corrects.is_in(frontier) & (Contribution.ambito == ambito_id)
        )
        frontier = []
        for r in rows:
            if r["id"] not in commitment_of:
                commitment_of[r["id"]] = commitment_of[r["corrects"]]
                frontier.append(r["id"])
    if not commitment_of:
        return out
    where = Contribution.id.is_in(list(commitment_of)) & reading.effective_where(ambito_id)
    if start is not None:
        where &= Contribution.occurred_on >= start
    if end is not None:
        where &= Contribution.occurred_on <= end
    rows = await Contribution.select(
        Contribution.id,
        Contribution.unit,
        Contribution.quantity,
        Contribution.value_cents,
        Contribution.verification,
    ).where(where)
    confirmed = (
        {
            r["contribution"]
            for r in await ContributionConfirmation.select(
                ContributionConfirmation.contribution
            ).where(ContributionConfirmation.contribution.is_in([r["id"] for r in rows]))
        }
        if rows
        else set()
    )
    for r in rows:
        bucket = out[commitment_of[r["id"]]].setdefault(
            r["unit"], {"verified": 0, "self_reported": 0, "entries": 0, "value_cents": 0}
        )
        verified = r["verification"] == Verification.QR_VERIFIED or r["id"] in confirmed
        bucket["verified" if verified else "self_reported"] += int(r["quantity"])
        bucket["entries"] += 1
        bucket["value_cents"] += int(r["value_cents"] or 0)
    return out


def _given_out(unit: str | None, totals: dict[str, dict[str, int]]) -> GivenOut:
    if unit is None:
        return GivenOut(verified=0.0, self_reported=0.0, entries=0, value_cents=0)
    b = totals.get(unit, {"verified": 0, "self_reported": 0, "entries": 0, "value_cents": 0})
    return GivenOut(
        verified=quantities.shown_quantity(unit, b["verified"]),
        self_reported=quantities.shown_quantity(unit, b["self_reported"]),
        entries=b["entries"],
        value_cents=b["value_cents"],
    )


async def _commitment_outs(
    actor: Principal, where: Any, *, start: date | None = None, end: date | None = None
) -> list[CommitmentOut]:
    where &= Commitment.ambito == actor.ambito_id
    if actor.role is Role.HOLDER_MANAGER:
        # Its own commitments and the public side's; not the other partners'.
        where &= (Commitment.holder == actor.holder_id) | Commitment.holder.is_null()
    rows = (
        await Commitment.select()
        .where(where)
        .order_by(Commitment.created_at)
        .order_by(Commitment.id)
    )
    totals = await given(actor.ambito_id, [r["id"] for r in rows], start=start, end=end)
    names = await _holders([r["holder"] for r in rows if r["holder"] is not None])
    outs = []
    for r in rows:
        unit = r["unit"]
        committed = (
            quantities.shown_quantity(unit, r["quantity"])
            if unit is not None and r["quantity"] is not None
            else None
        )
        given_out = _given_out(unit, totals[r["id"]])
        outs.append(
            CommitmentOut(
                id=r["id"],
                project_id=r["project"],
                patto_id=r["patto"],
                holder_id=r["holder"],
                holder_name=names[r["holder"]]["name"] if r["holder"] is not None else None,
                description=r["description"],
                unit=ContributionUnit(unit) if unit is not None else None,
                quantity=committed,
                resource_id=r["resource"],
                due_by=r["due_by"],
                given=given_out,
                kept_share=_share(given_out.verified, committed),
                created_at=r["created_at"],
            )
        )
    return outs


def _partners_monitoring(commitments: list[CommitmentOut]) -> list[PartnerMonitoring]:
    sums: dict[tuple[uuid.UUID, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for c in commitments:
        if c.holder_id is None or c.unit is None:
            continue
        bucket = sums[(c.holder_id, c.holder_name or "", c.unit.value)]
        bucket[0] += c.quantity or 0.0
        bucket[1] += c.given.verified
        bucket[2] += c.given.self_reported
    return [
        PartnerMonitoring(
            holder_id=holder_id,
            holder_name=name,
            unit=ContributionUnit(unit),
            committed=round(committed, 4),
            verified=round(verified, 4),
            self_reported=round(reported, 4),
            kept_share=_share(verified, committed),
        )
        for (holder_id, name, unit), (committed, verified, reported) in sorted(
            sums.items(), key=lambda item: (item[0][1], str(item[0][0]), item[0][2])
        )
    ]


async def _add_commitment(
    actor: Principal,
    data: CommitmentCreate,
    *,
    project_id: uuid.UUID | None = None,
    patto_id: uuid.UUID | None = None,
    members: set[uuid.UUID],
) -> CommitmentOut:
    """A new commitment of a project or a patto, among whose partners or parties (`members`)
    the holder must be."""
    if data.holder_id is None:
        if project_id is not None:
            raise InvalidInput("a co-design commitment names its partner", field="holder_id")
    elif data.holder_id not in members:
        raise InvalidInput("the holder is not a partner or party: add it first", field="holder_id")
    if data.quantity is not None and data.unit is None:
        raise InvalidInput("a committed quantity needs its unit", field="unit")
    if data.resource_id is not None:
        resource = (
            await Resource.select(Resource.holder)
            .where((Resource.id == data.resource_id) & (Resource.ambito == actor.ambito_id))
            .first()
        )
        if resource is None:
            raise InvalidInput("no such resource in this ambito", field="resource_id")
        if resource["holder"] != data.holder_id:
            raise InvalidInput("the resource belongs to another holder", field="resource_id")
    quantity = (
        quantities.stored_quantity(data.unit, data.quantity)
        if data.unit is not None and data.quantity is not None
        else None
    )
    commitment = Commitment(
        ambito=actor.ambito_id,
        project=project_id,
        patto=patto_id,
        holder=data.holder_id,
        description=data.description,
        unit=data.unit.value if data.unit is not None else None,
        quantity=quantity,
        resource=data.resource_id,
        due_by=data.due_by,
        created_at=now(),
    )
    await commitment.save()
    return (await _commitment_outs(actor, Commitment.id == commitment.id))[0]


async def _monitoring(actor: Principal, where: Any) -> MonitoringOut:
    """What was committed and given under the commitments `where` selects, per partner too."""
    commitments = await _commitment_outs(actor, where)
    return MonitoringOut(commitments=commitments, partners=_partners_monitoring(commitments))


async def _commitment_row(actor: Principal, commitment_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await Commitment.select()
        .where((Commitment.id == commitment_id) & (Commitment.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such commitment")
    return row


async def list_commitments(
    actor: Principal, *, holder_id: uuid.UUID | None = None
) -> list[CommitmentOut]:
    """The commitments of every project and patto: the UdP all of them (or one holder's), a
    holder manager its own holder's."""
    _only_roles(actor)
    where = Commitment.holder.is_not_null()
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None:
            return []
        where &= Commitment.holder == actor.holder_id
    elif holder_id is not None:
        where &= Commitment.holder == holder_id
    return await _commitment_outs(actor, where)


async def record_contribution(
    actor: Principal,
    commitment_id: uuid.UUID,
    data: CommitmentContribution,
    idempotency_key: str | None,
) -> tuple[ContributionOut, bool]:
    """A ledger entry given under a commitment (Idempotency-Key required, as every entry)."""
    commitment = await _commitment_row(actor, commitment_id)
    _only_roles(actor)
    if actor.role is Role.HOLDER_MANAGER and (
        actor.holder_id is None or commitment["holder"] != actor.holder_id
    ):
        raise PermissionDenied("a holder manager records under its own holder's commitments")
    key = recording.check_key(idempotency_key, required=True)
    assert key is not None
    digest = recording.request_digest(actor, data, f"commitment:{commitment_id}")
    existing = await recording._by_key(actor.ambito_id, key)
    if existing is not None:
        return await reading.get_contribution(
            actor, recording._replayed(existing, digest, key)
        ), False
    if commitment["holder"] is None:
        raise InvalidInput(
            "the public side's commitments are not entries of the community ledger",
            field="commitment_id",
        )
    if commitment["unit"] is None:
        raise InvalidInput(
            "this commitment has no unit: give it one to count what is given under it",
            field="commitment_id",
        )
    starts_on, ends_on = await _parent_period(commitment)
    if data.occurred_on < starts_on or (ends_on is not None and data.occurred_on > ends_on):
        raise InvalidInput(
            f"outside the period of the project or patto ({starts_on} – {ends_on or '…'})",
            field="occurred_on",
        )
    values = {
        "holder_id": commitment["holder"],
        "resource_id": commitment["resource"],
        "unit": commitment["unit"],
        **{k: v for k, v in msgspec.structs.asdict(data).items() if k != "unit"},
    }
    row = await recording._prepare(actor, values)
    await recording._may_record(actor, row)
    try:
        # The entry and its link together: an entry is never left outside its commitment.
        async with unit_of_work():
            entry_id, created = await recording.append(actor, row, key=key, digest=digest)
            if created:
                await CommitmentEntry.insert(
                    CommitmentEntry(
                        ambito=actor.ambito_id, commitment=commitment_id, contribution=entry_id
                    )
                )
    except (*_INTEGRITY_ERRORS, InFailedSQLTransactionError):
        # PostgreSQL: a concurrent copy of this request took the key first (the ledger's own
        # retry cannot read inside the aborted transaction); its entry is the answer.
        existing = await recording._by_key(actor.ambito_id, key)
        if existing is None:
            raise
        entry_id, created = recording._replayed(existing, digest, key), False
    return await reading.get_contribution(actor, entry_id), created


async def _parent_period(commitment: dict[str, Any]) -> tuple[date, date | None]:
    if commitment["project"] is not None:
        row = (
            await CodesignProject.select(CodesignProject.starts_on, CodesignProject.ends_on)
            .where(CodesignProject.id == commitment["project"])
            .first()
        )
    else:
        row = (
            await Patto.select(Patto.starts_on, Patto.ends_on)
            .where(Patto.id == commitment["patto"])
            .first()
        )
    assert row is not None
    return row["starts_on"], row["ends_on"]
