"""Co-design projects and patti di collaborazione: partners and parties, commitments, the
timeline, renewals, periodic reports, and monitoring against the contribution ledger.

Rules
- The UdP manages projects and patti (create, change, add partners, commitments, milestones,
  renewals, reports). A holder manager sees the projects and patti its holder takes part in,
  with its own commitments and the public side's (not the other partners'), and the reports
  of its patti; it records ledger entries under its own holder's commitments. Social workers
  and volunteers: nothing (403). Another ambito's record is a 404.
- Hours and goods given under a commitment are ordinary ledger entries (registry/contributions:
  the same checks, idempotency, confirmation, corrections), so they count in every figure as
  contributions; `CommitmentEntry` says which commitment an entry was given under.
- Monitoring compares what was committed with the effective entries given under it: a
  corrected entry counts in its latest version, a cancelled one not at all. `verified` (QR or
  confirmed) is what the metrics count; `self_reported` is shown apart.
- A renewal is a new period of the patto linked to the previous one (`renews`), which becomes
  `renewed`; at most one renewal per period.
"""

from __future__ import annotations

import calendar
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from asyncpg.exceptions import InFailedSQLTransactionError, IntegrityConstraintViolationError

from registry.access import Principal, Role
from registry.ambiti.service import check_comuni
from registry.common import now, set_fields
from registry.contributions import service as ledger
from registry.contributions.schemas import ContributionOut
from registry.contributions.tables import Contribution, ContributionConfirmation
from registry.coprogramming.tables import Procedure, TableContribution
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.holders.tables import Holder
from registry.partnerships.schemas import (
    CommitmentContribution,
    CommitmentCreate,
    CommitmentFigures,
    CommitmentOut,
    GivenOut,
    MilestoneCreate,
    MilestoneOut,
    MilestonePatch,
    MonitoringOut,
    PartnerIn,
    PartnerMonitoring,
    PartnerOut,
    PartnerRole,
    PartyIn,
    PartyOut,
    PattoCreate,
    PattoOut,
    PattoPatch,
    PattoRenewal,
    PattoReportCreate,
    PattoReportOut,
    PattoStatus,
    ProjectCreate,
    ProjectOut,
    ProjectPatch,
    ProjectStatus,
    PublicParty,
    ReportFigures,
    UnitFigures,
)
from registry.partnerships.tables import (
    CodesignMilestone,
    CodesignPartner,
    CodesignProject,
    Commitment,
    CommitmentEntry,
    Patto,
    PattoParty,
    PattoReport,
)
from registry.resources.tables import Resource
from registry.vocabularies import ContributionUnit, GuidingQuestion, Verification

_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)
_MANAGERS = (Role.UDP_ADMIN, Role.HOLDER_MANAGER)
ROME = ZoneInfo("Europe/Rome")

# --- small helpers --------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


FIRST_YEAR, LAST_YEAR = 1950, 2200


def _in_range(field: str, *days: date | None) -> None:
    """Dates a patto or project can have: arithmetic on them (renewals, reporting periods)
    must not leave the calendar (year 9999 + a day is an OverflowError, a 500)."""
    for day in days:
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise InvalidInput(
                f"the year must be between {FIRST_YEAR} and {LAST_YEAR}", field=field
            )


def _share(given: float, committed: float | None) -> float | None:
    if not committed:
        return None
    return round(given / committed, 4)


async def _holders(ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    if not ids:
        return {}
    rows = await Holder.select(Holder.id, Holder.name, Holder.kind, Holder.sector).where(
        Holder.id.is_in(list(set(ids)))
    )
    return {r["id"]: r for r in rows}


async def _check_holders(actor: Principal, ids: list[uuid.UUID], field: str) -> None:
    found = (
        {
            r["id"]
            for r in await Holder.select(Holder.id).where(
                Holder.id.is_in(list(set(ids))) & (Holder.ambito == actor.ambito_id)
            )
        }
        if ids
        else set()
    )
    for index, holder_id in enumerate(ids):
        if holder_id not in found:
            raise InvalidInput("no such holder in this ambito", field=f"{field}[{index}]")


def _only_roles(actor: Principal) -> None:
    actor.require(*_MANAGERS)


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
    where = Contribution.id.is_in(list(commitment_of)) & ledger.effective_where(ambito_id)
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
        verified=ledger.shown_quantity(unit, b["verified"]),
        self_reported=ledger.shown_quantity(unit, b["self_reported"]),
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
            ledger.shown_quantity(unit, r["quantity"])
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


async def _new_commitment(
    actor: Principal,
    data: CommitmentCreate,
    *,
    project_id: uuid.UUID | None = None,
    patto_id: uuid.UUID | None = None,
    members: set[uuid.UUID],
) -> Commitment:
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
        ledger.stored_quantity(data.unit, data.quantity)
        if data.unit is not None and data.quantity is not None
        else None
    )
    return Commitment(
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
    key = ledger.check_key(idempotency_key, required=True)
    assert key is not None
    digest = ledger.request_digest(actor, data, f"commitment:{commitment_id}")
    existing = await ledger._by_key(actor.ambito_id, key)
    if existing is not None:
        return await ledger.get_contribution(actor, ledger._replayed(existing, digest, key)), False
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
    row = await ledger._prepare(actor, values)
    await ledger._may_record(actor, row)
    try:
        # The entry and its link together: an entry is never left outside its commitment.
        async with unit_of_work():
            entry_id, created = await ledger.append(actor, row, key=key, digest=digest)
            if created:
                await CommitmentEntry.insert(
                    CommitmentEntry(
                        ambito=actor.ambito_id, commitment=commitment_id, contribution=entry_id
                    )
                )
    except (*_INTEGRITY_ERRORS, InFailedSQLTransactionError):
        # PostgreSQL: a concurrent copy of this request took the key first (the ledger's own
        # retry cannot read inside the aborted transaction); its entry is the answer.
        existing = await ledger._by_key(actor.ambito_id, key)
        if existing is None:
            raise
        entry_id, created = ledger._replayed(existing, digest, key), False
    return await ledger.get_contribution(actor, entry_id), created


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


# --- co-design projects ---------------------------------------------------------------------


async def _project_row(actor: Principal, project_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await CodesignProject.select()
        .where((CodesignProject.id == project_id) & (CodesignProject.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such co-design project")
    return row


async def _partners(project_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    found: dict[uuid.UUID, list[dict[str, Any]]] = {p: [] for p in project_ids}
    if project_ids:
        for r in await CodesignPartner.select().where(CodesignPartner.project.is_in(project_ids)):
            found[r["project"]].append(r)
    return found


async def _may_see_project(actor: Principal, project_id: uuid.UUID) -> None:
    _only_roles(actor)
    if actor.role is Role.HOLDER_MANAGER:
        partners = (await _partners([project_id]))[project_id]
        if actor.holder_id not in {p["holder"] for p in partners}:
            raise PermissionDenied("only the UdP and the project's partners see it")


async def _project_out(actor: Principal, row: dict[str, Any]) -> ProjectOut:
    partners = (await _partners([row["id"]]))[row["id"]]
    holders = await _holders([p["holder"] for p in partners])
    milestones = (
        await CodesignMilestone.select()
        .where(CodesignMilestone.project == row["id"])
        .order_by(CodesignMilestone.due_on)
        .order_by(CodesignMilestone.id)
    )
    return ProjectOut(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        procedure_id=row["procedure_id"],
        proposal_id=row["proposal_id"],
        status=ProjectStatus(row["status"]),
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        partners=[
            PartnerOut(
                holder_id=p["holder"],
                holder_name=holders[p["holder"]]["name"],
                holder_kind=holders[p["holder"]]["kind"],
                sector=holders[p["holder"]]["sector"],
                role=PartnerRole(p["role"]),
                joined_on=p["joined_on"],
            )
            for p in sorted(partners, key=lambda p: (p["role"] != "lead", str(p["holder"])))
        ],
        milestones=[_milestone_out(m) for m in milestones],
        commitments=await _commitment_outs(actor, Commitment.project == row["id"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _milestone_out(row: dict[str, Any]) -> MilestoneOut:
    return MilestoneOut(
        id=row["id"],
        title=row["title"],
        due_on=row["due_on"],
        done_on=row["done_on"],
        note=row["note"],
    )


async def _origin(
    actor: Principal, procedure_id: uuid.UUID | None, proposal_id: uuid.UUID | None
) -> uuid.UUID | None:
    """Checks the procedure and the proposal; the procedure follows from the proposal."""
    if proposal_id is not None:
        proposal = (
            await TableContribution.select(
                TableContribution.question,
                TableContribution.working_table.session.procedure.as_alias("procedure"),
            )
            .where(
                (TableContribution.id == proposal_id)
                & (TableContribution.ambito == actor.ambito_id)
            )
            .first()
        )
        if proposal is None or proposal["question"] != GuidingQuestion.PROPOSALS:
            raise InvalidInput("no such proposal in this ambito", field="proposal_id")
        if procedure_id is not None and procedure_id != proposal["procedure"]:
            raise InvalidInput("the proposal belongs to another procedure", field="procedure_id")
        return proposal["procedure"]
    if procedure_id is not None:
        found = await Procedure.exists().where(
            (Procedure.id == procedure_id) & (Procedure.ambito == actor.ambito_id)
        )
        if not found:
            raise InvalidInput("no such procedure in this ambito", field="procedure_id")
    return procedure_id


def _check_period(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput("ends_on must not be before starts_on", field="ends_on")


def _partner_rows(
    project_id: uuid.UUID, partners: list[PartnerIn], starts_on: date, field: str
) -> list[CodesignPartner]:
    seen: set[uuid.UUID] = set()
    rows = []
    for index, p in enumerate(partners):
        if p.holder_id in seen:
            raise InvalidInput("this holder is already a partner", field=f"{field}[{index}]")
        seen.add(p.holder_id)
        rows.append(
            CodesignPartner(
                project=project_id,
                holder=p.holder_id,
                role=p.role.value,
                joined_on=p.joined_on or starts_on,
            )
        )
    return rows


async def create_project(actor: Principal, data: ProjectCreate) -> ProjectOut:
    actor.require(Role.UDP_ADMIN)
    _in_range("starts_on", data.starts_on)
    _in_range("ends_on", data.ends_on)
    _check_period(data.starts_on, data.ends_on)
    procedure_id = await _origin(actor, data.procedure_id, data.proposal_id)
    await _check_holders(actor, [p.holder_id for p in data.partners], "partners")
    moment = now()
    project = CodesignProject(
        ambito=actor.ambito_id,
        title=data.title,
        description=data.description,
        procedure_id=procedure_id,
        proposal_id=data.proposal_id,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        created_by=actor.user_id,
        created_at=moment,
        updated_at=moment,
    )
    partners = _partner_rows(project.id, data.partners, data.starts_on, "partners")
    async with unit_of_work():
        await project.save()
        await CodesignPartner.insert(*partners)
    return await get_project(actor, project.id)


async def get_project(actor: Principal, project_id: uuid.UUID) -> ProjectOut:
    row = await _project_row(actor, project_id)
    await _may_see_project(actor, project_id)
    return await _project_out(actor, row)


async def list_projects(
    actor: Principal, *, procedure_id: uuid.UUID | None = None
) -> list[ProjectOut]:
    _only_roles(actor)
    where = CodesignProject.ambito == actor.ambito_id
    if procedure_id is not None:
        where &= CodesignProject.procedure_id == procedure_id
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None:
            return []  # an account not yet tied to its organisation takes part in nothing
        where &= CodesignProject.id.is_in(
            CodesignPartner.select(CodesignPartner.project).where(
                CodesignPartner.holder == actor.holder_id
            )
        )
    rows = (
        await CodesignProject.select()
        .where(where)
        .order_by(CodesignProject.starts_on, ascending=False)
        .order_by(CodesignProject.id)
        .limit(200)
    )
    return [await _project_out(actor, r) for r in rows]


async def update_project(
    actor: Principal, project_id: uuid.UUID, patch: ProjectPatch
) -> ProjectOut:
    current = await _project_row(actor, project_id)
    actor.require(Role.UDP_ADMIN)
    values = set_fields(patch)
    _in_range("ends_on", values.get("ends_on"))
    _check_period(current["starts_on"], values.get("ends_on", current["ends_on"]))
    if "status" in values:
        values["status"] = values["status"].value
    await CodesignProject.update({**values, "updated_at": now()}).where(
        CodesignProject.id == project_id
    )
    return await get_project(actor, project_id)


async def add_partner(actor: Principal, project_id: uuid.UUID, data: PartnerIn) -> ProjectOut:
    current = await _project_row(actor, project_id)
    actor.require(Role.UDP_ADMIN)
    _in_range("joined_on", data.joined_on)
    await _check_holders(actor, [data.holder_id], "holder_id")
    if await CodesignPartner.exists().where(
        (CodesignPartner.project == project_id) & (CodesignPartner.holder == data.holder_id)
    ):
        raise Conflict("this holder is already a partner", field="holder_id")
    async with unit_of_work():
        await CodesignPartner.insert(*_partner_rows(project_id, [data], current["starts_on"], "x"))
        # The metrics' fingerprint reads the project's time: a new partner is a new tie.
        await CodesignProject.update({"updated_at": now()}).where(CodesignProject.id == project_id)
    return await get_project(actor, project_id)


async def add_project_commitment(
    actor: Principal, project_id: uuid.UUID, data: CommitmentCreate
) -> CommitmentOut:
    await _project_row(actor, project_id)
    actor.require(Role.UDP_ADMIN)
    members = {p["holder"] for p in (await _partners([project_id]))[project_id]}
    commitment = await _new_commitment(actor, data, project_id=project_id, members=members)
    await commitment.save()
    return (await _commitment_outs(actor, Commitment.id == commitment.id))[0]


async def add_milestone(
    actor: Principal, project_id: uuid.UUID, data: MilestoneCreate
) -> MilestoneOut:
    await _project_row(actor, project_id)
    actor.require(Role.UDP_ADMIN)
    milestone = CodesignMilestone(
        project=project_id, title=data.title, due_on=data.due_on, note=data.note
    )
    await milestone.save()
    return _milestone_out(milestone.to_dict())


async def update_milestone(
    actor: Principal, project_id: uuid.UUID, milestone_id: uuid.UUID, patch: MilestonePatch
) -> MilestoneOut:
    await _project_row(actor, project_id)
    row = (
        await CodesignMilestone.select()
        .where((CodesignMilestone.id == milestone_id) & (CodesignMilestone.project == project_id))
        .first()
    )
    if row is None:
        raise NotFound("no such milestone")
    actor.require(Role.UDP_ADMIN)
    values = set_fields(patch)
    if values:
        await CodesignMilestone.update(values).where(CodesignMilestone.id == milestone_id)
    return _milestone_out({**row, **values})


async def project_monitoring(actor: Principal, project_id: uuid.UUID) -> MonitoringOut:
    await _project_row(actor, project_id)
    await _may_see_project(actor, project_id)
    commitments = await _commitment_outs(actor, Commitment.project == project_id)
    return MonitoringOut(commitments=commitments, partners=_partners_monitoring(commitments))


# --- patti di collaborazione ----------------------------------------------------------------


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
    commitment = await _new_commitment(actor, data, patto_id=patto_id, members=members)
    await commitment.save()
    return (await _commitment_outs(actor, Commitment.id == commitment.id))[0]


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
    commitments = await _commitment_outs(actor, Commitment.patto == patto_id)
    return MonitoringOut(commitments=commitments, partners=_partners_monitoring(commitments))


async def _report_figures(
    actor: Principal, patto_id: uuid.UUID, start: date, end: date
) -> ReportFigures:
    # The figures are the whole patto's, whoever asks (a report is the patto's own).
    udp = Principal(actor.user_id, actor.username, Role.UDP_ADMIN, actor.ambito_id)
    commitments = await _commitment_outs(udp, Commitment.patto == patto_id, start=start, end=end)
    totals = await given(actor.ambito_id, [c.id for c in commitments], start=start, end=end)
    by_unit: dict[str, dict[str, int]] = {}
    for per_unit in totals.values():
        for unit, b in per_unit.items():
            sums = by_unit.setdefault(
                unit, {"verified": 0, "self_reported": 0, "entries": 0, "value_cents": 0}
            )
            for name, value in b.items():
                sums[name] += value
    order = list(ContributionUnit)
    return ReportFigures(
        by_unit=[
            UnitFigures(
                unit=ContributionUnit(unit),
                verified=ledger.shown_quantity(unit, b["verified"]),
                self_reported=ledger.shown_quantity(unit, b["self_reported"]),
                entries=b["entries"],
                value_cents=b["value_cents"],
            )
            for unit, b in sorted(by_unit.items(), key=lambda item: order.index(item[0]))
        ],
        commitments=[
            CommitmentFigures(
                commitment_id=c.id,
                description=c.description,
                holder_name=c.holder_name,
                unit=c.unit,
                committed=c.quantity,
                verified=c.given.verified,
                self_reported=c.given.self_reported,
            )
            for c in commitments
        ],
    )


def _report_out(row: dict[str, Any]) -> PattoReportOut:
    figures = row["figures"]
    if isinstance(figures, str):
        figures = msgspec.json.decode(figures)
    return PattoReportOut(
        id=row["id"],
        patto_id=row["patto"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        text=row["text"],
        figures=msgspec.convert(figures, ReportFigures),
        created_at=row["created_at"],
    )


async def add_report(
    actor: Principal, patto_id: uuid.UUID, data: PattoReportCreate
) -> PattoReportOut:
    current = await _patto_row(actor, patto_id)
    actor.require(Role.UDP_ADMIN)
    if data.period_end < data.period_start:
        raise InvalidInput("period_end must not be before period_start", field="period_end")
    if data.period_start < current["starts_on"] or data.period_end > current["ends_on"]:
        raise InvalidInput("the period falls outside the patto's", field="period_start")
    if data.period_end > now().date():
        raise InvalidInput("a report covers a period that has ended", field="period_end")
    figures = await _report_figures(actor, patto_id, data.period_start, data.period_end)
    report = PattoReport(
        ambito=actor.ambito_id,
        patto=patto_id,
        period_start=data.period_start,
        period_end=data.period_end,
        text=data.text,
        figures=msgspec.json.encode(figures).decode(),
        created_by=actor.user_id,
        created_at=now(),
    )
    await report.save()
    return _report_out(report.to_dict())


async def list_reports(actor: Principal, patto_id: uuid.UUID) -> list[PattoReportOut]:
    await _patto_row(actor, patto_id)
    await _may_see_patto(actor, patto_id)
    rows = (
        await PattoReport.select()
        .where(PattoReport.patto == patto_id)
        .order_by(PattoReport.period_start)
        .order_by(PattoReport.created_at)
    )
    return [_report_out(r) for r in rows]


# --- the report-due job ----------------------------------------------------------------------


async def notify_due_reports(moment: datetime, ambito_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    """Tell the UdP of each active patto whose reporting period ended (Europe/Rome day)
    without a report, once per period (the patto remembers the period it told about).
    Idempotent: a second run the same day tells nobody."""
    from registry.notifications import workflow

    if not ambito_ids:
        return {"reports_due_told": 0}
    today = moment.astimezone(ROME).date()
    rows = await Patto.select().where(
        Patto.ambito.is_in(list(ambito_ids)) & (Patto.status == PattoStatus.ACTIVE.value)
    )
    told = 0
    for row in rows:
        covered = await _covered(row)
        # The latest period that has ended without a report: one reminder per period.
        ended = [end for end in _period_ends(row) if covered < end < today]
        if not ended or row["report_notified_for"] == ended[-1]:
            continue
        due = ended[-1]
        async with unit_of_work():
            await workflow.patto_report_due(row["ambito"], row["id"], row["title"], due)
            await Patto.update({Patto.report_notified_for: due}).where(Patto.id == row["id"])
        told += 1
    return {"reports_due_told": told}
