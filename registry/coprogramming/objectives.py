"""Co-programming: the objectives of the Piano, linked to the proposals and sessions they
come from."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.common import now as current_time
from registry.common import set_fields
from registry.coprogramming.access import READERS, _in_ambito, _procedure
from registry.coprogramming.schemas import ObjectiveCreate, ObjectiveOut, ObjectivePatch
from registry.coprogramming.tables import (
    Objective,
    ObjectiveLink,
    ProcedureSession,
    TableContribution,
)
from registry.db import unit_of_work
from registry.errors import InvalidInput
from registry.vocabularies import GuidingQuestion

# --- Piano objectives -----------------------------------------------------------------------


async def _check_links(
    actor: Principal,
    procedure_id: uuid.UUID,
    proposal_ids: list[uuid.UUID],
    session_ids: list[uuid.UUID],
) -> None:
    for proposal_id in proposal_ids:
        ok = await TableContribution.exists().where(
            (TableContribution.id == proposal_id)
            & (TableContribution.ambito == actor.ambito_id)
            & (TableContribution.question == GuidingQuestion.PROPOSALS.value)
            & (TableContribution.working_table.session.procedure == procedure_id)
        )
        if not ok:
            raise InvalidInput(
                f"{proposal_id} is not a proposal recorded in this procedure", field="proposal_ids"
            )
    for session_id in session_ids:
        ok = await ProcedureSession.exists().where(
            (ProcedureSession.id == session_id) & (ProcedureSession.procedure == procedure_id)
        )
        if not ok:
            raise InvalidInput(
                f"{session_id} is not a session of this procedure", field="session_ids"
            )


async def _set_links(
    actor: Principal,
    objective_id: uuid.UUID,
    proposal_ids: list[uuid.UUID] | None,
    session_ids: list[uuid.UUID] | None,
) -> None:
    for column, ids in (
        (ObjectiveLink.proposal, proposal_ids),
        (ObjectiveLink.session, session_ids),
    ):
        if ids is None:
            continue  # not given: those links stay as they are
        await ObjectiveLink.delete().where(
            (ObjectiveLink.objective == objective_id) & column.is_not_null()
        )
        for linked_id in dict.fromkeys(ids):
            await ObjectiveLink(
                ambito=actor.ambito_id, objective=objective_id, **{column._meta.name: linked_id}
            ).save()


async def list_objectives(actor: Principal, procedure_id: uuid.UUID) -> list[ObjectiveOut]:
    await _procedure(actor, procedure_id)
    actor.require(*READERS)
    rows = await Objective.select().where(Objective.procedure == procedure_id)
    links = (
        await ObjectiveLink.select().where(ObjectiveLink.objective.is_in([r["id"] for r in rows]))
        if rows
        else []
    )
    proposals: dict[Any, list[uuid.UUID]] = defaultdict(list)
    sessions: dict[Any, list[uuid.UUID]] = defaultdict(list)
    for link in links:
        if link["proposal"] is not None:
            proposals[link["objective"]].append(link["proposal"])
        if link["session"] is not None:
            sessions[link["objective"]].append(link["session"])
    out = [
        ObjectiveOut(
            id=r["id"],
            procedure_id=procedure_id,
            code=r["code"],
            title=r["title"],
            description=r["description"],
            area=r["area"],
            adopted_on=r["adopted_on"],
            proposal_ids=proposals[r["id"]],
            session_ids=sessions[r["id"]],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )
        for r in rows
    ]
    return sorted(out, key=lambda o: (o.code, o.title))


async def _objective(actor: Principal, objective_id: uuid.UUID) -> dict[str, Any]:
    row = await _in_ambito(actor, Objective, objective_id, "objective")
    await _procedure(actor, row["procedure"])
    return row


async def _objective_out(actor: Principal, objective_id: uuid.UUID) -> ObjectiveOut:
    row = await _objective(actor, objective_id)
    return next(o for o in await list_objectives(actor, row["procedure"]) if o.id == objective_id)


async def create_objective(
    actor: Principal, procedure_id: uuid.UUID, data: ObjectiveCreate, *, now: datetime | None = None
) -> ObjectiveOut:
    at = now or current_time()
    await _procedure(actor, procedure_id)
    actor.require(Role.UDP_ADMIN)
    await _check_links(actor, procedure_id, data.proposal_ids, data.session_ids)
    async with unit_of_work():
        row = Objective(
            ambito=actor.ambito_id,
            procedure=procedure_id,
            code=data.code,
            title=data.title,
            description=data.description,
            area=data.area.value if data.area else None,
            adopted_on=data.adopted_on,
            created_at=at,
            updated_at=at,
        )
        await row.save()
        await _set_links(actor, row.id, data.proposal_ids, data.session_ids)
    return await _objective_out(actor, row.id)


async def update_objective(
    actor: Principal, objective_id: uuid.UUID, patch: ObjectivePatch, *, now: datetime | None = None
) -> ObjectiveOut:
    at = now or current_time()
    row = await _objective(actor, objective_id)
    actor.require(Role.UDP_ADMIN)
    values = set_fields(patch)
    proposal_ids = values.pop("proposal_ids", None)
    session_ids = values.pop("session_ids", None)
    await _check_links(actor, row["procedure"], proposal_ids or [], session_ids or [])
    if "area" in values:
        values["area"] = values["area"].value if values["area"] else None
    async with unit_of_work():
        if values:
            values["updated_at"] = at
            await Objective.update(values).where(Objective.id == objective_id)
        await _set_links(actor, objective_id, proposal_ids, session_ids)
    return await _objective_out(actor, objective_id)


async def delete_objective(actor: Principal, objective_id: uuid.UUID) -> None:
    await _objective(actor, objective_id)
    actor.require(Role.UDP_ADMIN)
    await Objective.delete().where(Objective.id == objective_id)
