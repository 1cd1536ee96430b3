"""Co-programming: the answers to the four guiding questions recorded at the tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.common import now as current_time
from registry.common import set_fields
from registry.coprogramming.access import (
    _attends,
    _in_ambito,
    _own_admitted_application,
    _procedure,
    _require_participant,
    _table,
)
from registry.coprogramming.schemas import ContributionCreate, ContributionOut, ContributionPatch
from registry.coprogramming.tables import Attendance, TableContribution
from registry.errors import InvalidInput, PermissionDenied
from registry.resources.tables import Resource
from registry.taxonomy import service as taxonomy
from registry.vocabularies import GuidingQuestion

# --- contributions to the four guiding questions --------------------------------------------


def _contribution_query() -> Any:
    return TableContribution.select(
        TableContribution.all_columns(),
        TableContribution.working_table.theme.as_alias("table_theme"),
        TableContribution.working_table.session.as_alias("session_id"),
        TableContribution.working_table.session.procedure.as_alias("procedure_id"),
        TableContribution.working_table.session.number.as_alias("session_number"),
        TableContribution.holder.name.as_alias("holder_name"),
        TableContribution.resource.title.as_alias("resource_title"),
    )


def _contribution_out(r: dict[str, Any]) -> ContributionOut:
    return ContributionOut(
        id=r["id"],
        procedure_id=r["procedure_id"],
        session_id=r["session_id"],
        table_id=r["working_table"],
        table_theme=r["table_theme"],
        question=GuidingQuestion(r["question"]),
        text=r["text"],
        holder_id=r["holder"],
        holder_name=r["holder_name"],
        resource_id=r["resource"],
        resource_title=r["resource_title"],
        category_code=r["category_code"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


async def _check_resource(
    actor: Principal, question: GuidingQuestion, resource_id: uuid.UUID | None
) -> None:
    if resource_id is None:
        return
    if question is not GuidingQuestion.EXISTING_RESOURCES:
        raise InvalidInput(
            "only answers about existing resources link to a resource", field="resource_id"
        )
    same_ambito = await Resource.exists().where(
        (Resource.id == resource_id) & (Resource.ambito == actor.ambito_id)
    )
    if not same_ambito:
        raise InvalidInput("no such resource in this ambito's registry", field="resource_id")


async def _may_contribute(actor: Principal, table: dict[str, Any]) -> None:
    if actor.role is Role.UDP_ADMIN:
        return
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    if await _own_admitted_application(actor, table["procedure"]) is None or not await _attends(
        actor, table["session"]
    ):
        raise PermissionDenied("only organisations present at the session contribute to its tables")


async def list_table_contributions(actor: Principal, table_id: uuid.UUID) -> list[ContributionOut]:
    table = await _table(actor, table_id)
    await _may_contribute(actor, table)
    rows = await _contribution_query().where(TableContribution.working_table == table_id)
    return [
        _contribution_out(r) for r in sorted(rows, key=lambda r: (r["created_at"], str(r["id"])))
    ]


async def create_contribution(
    actor: Principal, table_id: uuid.UUID, data: ContributionCreate, *, now: datetime | None = None
) -> ContributionOut:
    at = now or current_time()
    table = await _table(actor, table_id)
    await _may_contribute(actor, table)
    holder_id = data.holder_id
    if actor.role is Role.HOLDER_MANAGER:
        if holder_id not in (None, actor.holder_id):
            raise PermissionDenied("a holder manager speaks for its own holder only")
        holder_id = actor.holder_id
    elif holder_id is not None:
        speaks = await Attendance.exists().where(
            (Attendance.session == table["session"]) & (Attendance.application.holder == holder_id)
        )
        if not speaks:
            raise InvalidInput(
                "the organisation is not recorded as present at this session", field="holder_id"
            )
    await _check_resource(actor, data.question, data.resource_id)
    if data.category_code is not None:
        await taxonomy.require_leaf_or_term(data.category_code)
    row = TableContribution(
        ambito=actor.ambito_id,
        working_table=table_id,
        question=data.question.value,
        text=data.text.strip(),
        holder=holder_id,
        resource=data.resource_id,
        category_code=data.category_code,
        created_by=actor.user_id,
        created_at=at,
        updated_at=at,
    )
    await row.save()
    return await _get_contribution(row.id)


async def _get_contribution(contribution_id: uuid.UUID) -> ContributionOut:
    rows = await _contribution_query().where(TableContribution.id == contribution_id)
    return _contribution_out(rows[0])


async def _own_contribution(actor: Principal, contribution_id: uuid.UUID) -> dict[str, Any]:
    row = await _in_ambito(actor, TableContribution, contribution_id, "contribution")
    table = await _table(actor, row["working_table"])
    await _may_contribute(actor, table)
    if actor.role is not Role.UDP_ADMIN and row["holder"] != actor.holder_id:
        raise PermissionDenied("an organisation edits only what it contributed")
    return row


async def update_contribution(
    actor: Principal,
    contribution_id: uuid.UUID,
    patch: ContributionPatch,
    *,
    now: datetime | None = None,
) -> ContributionOut:
    at = now or current_time()
    row = await _own_contribution(actor, contribution_id)
    values = set_fields(patch)
    if values.get("category_code") is not None:
        await taxonomy.require_leaf_or_term(values["category_code"])
    if values.get("resource_id") is not None:
        await _check_resource(actor, GuidingQuestion(row["question"]), values["resource_id"])
    if "resource_id" in values:
        values["resource"] = values.pop("resource_id")
    if "text" in values:
        values["text"] = values["text"].strip()
    if values:
        values["updated_at"] = at
        await TableContribution.update(values).where(TableContribution.id == contribution_id)
    return await _get_contribution(contribution_id)


async def delete_contribution(actor: Principal, contribution_id: uuid.UUID) -> None:
    await _own_contribution(actor, contribution_id)
    await TableContribution.delete().where(TableContribution.id == contribution_id)


async def list_contributions(
    actor: Principal,
    procedure_id: uuid.UUID,
    *,
    question: GuidingQuestion | None = None,
    session_id: uuid.UUID | None = None,
    category_code: str | None = None,
) -> list[ContributionOut]:
    """Every answer of a procedure (the proposals with question=proposals): what the UdP reads
    beside the gap map when it prepares a session."""
    await _procedure(actor, procedure_id)
    await _require_participant(actor, procedure_id)
    where = (TableContribution.ambito == actor.ambito_id) & (
        TableContribution.working_table.session.procedure == procedure_id
    )
    if question is not None:
        where &= TableContribution.question == question.value
    if session_id is not None:
        where &= TableContribution.working_table.session == session_id
    if category_code is not None:
        where &= TableContribution.category_code == category_code
    rows = await _contribution_query().where(where)
    rows.sort(key=lambda r: (r["session_number"], r["table_theme"], r["created_at"], str(r["id"])))
    return [_contribution_out(r) for r in rows]
