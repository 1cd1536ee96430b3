"""Co-design projects: partners, milestones, commitments and their monitoring."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from registry.access import Principal, Role
from registry.common import now, set_fields
from registry.coprogramming.tables import Procedure, TableContribution
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.partnerships._common import _check_holders, _holders, _in_range, _only_roles
from registry.partnerships.commitments import _add_commitment, _commitment_outs, _monitoring
from registry.partnerships.schemas import (
    CommitmentCreate,
    CommitmentOut,
    MilestoneCreate,
    MilestoneOut,
    MilestonePatch,
    MonitoringOut,
    PartnerIn,
    PartnerOut,
    PartnerRole,
    ProjectCreate,
    ProjectOut,
    ProjectPatch,
    ProjectStatus,
)
from registry.partnerships.tables import (
    CodesignMilestone,
    CodesignPartner,
    CodesignProject,
    Commitment,
)
from registry.vocabularies import GuidingQuestion


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
    return await _add_commitment(actor, data, project_id=project_id, members=members)


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
    return await _monitoring(actor, Commitment.project == project_id)
