"""Co-programming: organisations applying to a procedure, and the people they name."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.common import now as current_time
from registry.common import set_fields
from registry.coprogramming.access import _application, _procedure
from registry.coprogramming.schemas import (
    ApplicationCreate,
    ApplicationOut,
    ApplicationPatch,
    ParticipantIn,
    ParticipantOut,
)
from registry.coprogramming.tables import Application, Participant, Procedure
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, PermissionDenied
from registry.holders import service as holders
from registry.holders.tables import Holder
from registry.italian import today
from registry.notifications import workflow
from registry.vocabularies import (
    ApplicationStatus,
    HolderKind,
    ParticipantRole,
    ProcedureStatus,
    Sector,
)

# --- applications ---------------------------------------------------------------------------


async def _application_out(row: dict[str, Any], holder: dict[str, Any]) -> ApplicationOut:
    people = (
        await Participant.select()
        .where(Participant.application == row["id"])
        .order_by(Participant.name)
    )
    return ApplicationOut(
        id=row["id"],
        procedure_id=row["procedure"],
        holder_id=row["holder"],
        holder_name=holder["name"],
        holder_kind=HolderKind(holder["kind"]),
        sector=Sector(holder["sector"]),
        runts_number=holder["runts_number"],
        status=ApplicationStatus(row["status"]),
        note=row["note"],
        applied_at=row["applied_at"],
        decided_at=row["decided_at"],
        participants=[
            ParticipantOut(
                id=p["id"], name=p["name"], role=ParticipantRole(p["role"]), contact=p["contact"]
            )
            for p in people
        ],
        people_by_role=dict(sorted(Counter(p["role"] for p in people).items())),
    )


async def _holder_row(holder_id: uuid.UUID) -> dict[str, Any]:
    row = await Holder.select().where(Holder.id == holder_id).first()
    assert row is not None  # a foreign key
    return row


async def _replace_people(
    actor: Principal, application_id: uuid.UUID, people: list[ParticipantIn]
) -> None:
    """The organisation's list of people becomes `people`. A person already there (same
    name) keeps its row, so a table whose spokesperson they are still names them."""
    existing = await Participant.select(Participant.id, Participant.name).where(
        Participant.application == application_id
    )
    free: dict[str, list[uuid.UUID]] = defaultdict(list)
    for row in existing:
        free[row["name"]].append(row["id"])
    kept: set[uuid.UUID] = set()
    new_rows = []
    for person in people:
        name = person.name.strip()
        values = {"role": person.role.value, "contact": (person.contact or "").strip() or None}
        if free[name]:
            row_id = free[name].pop(0)
            kept.add(row_id)
            await Participant.update(values).where(Participant.id == row_id)
        else:
            new_rows.append(
                Participant(ambito=actor.ambito_id, application=application_id, name=name, **values)
            )
    gone = [row["id"] for row in existing if row["id"] not in kept]
    if gone:
        await Participant.delete().where(Participant.id.is_in(gone))
    if new_rows:
        await Participant.insert(*new_rows)


async def create_application(
    actor: Principal,
    procedure_id: uuid.UUID,
    data: ApplicationCreate,
    *,
    now: datetime | None = None,
) -> ApplicationOut:
    at = now or current_time()
    procedure = await _procedure(actor, procedure_id)
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    if (data.holder_id is None) == (data.new_holder is None):
        raise InvalidInput(
            "give either holder_id (a registered holder) or new_holder (to register it)",
            field="holder_id",
        )
    if actor.role is Role.HOLDER_MANAGER:
        if procedure["status"] != ProcedureStatus.OPEN:
            raise Conflict("applications are accepted only while the procedure is open")
        closes = procedure["applications_close_on"]
        if closes is not None and today(at) > closes:
            raise Conflict(f"applications closed on {closes.isoformat()}")
        if data.holder_id is not None and data.holder_id != actor.holder_id:
            raise PermissionDenied("a holder manager applies only for its own holder")
    elif procedure["status"] == ProcedureStatus.CLOSED:
        raise Conflict("the procedure is closed")
    async with unit_of_work():
        if data.new_holder is not None:
            # Registered on the way through the holders' own rules (RUNTS number optional;
            # a manager without a holder becomes the manager of the new one).
            holder_id = (await holders.create_holder(actor, data.new_holder)).id
        else:
            assert data.holder_id is not None
            found = await Holder.exists().where(
                (Holder.id == data.holder_id)
                & (Holder.ambito == actor.ambito_id)
                & (Holder.status != "archived")
            )
            if not found:
                raise InvalidInput("no such (active) holder in this ambito", field="holder_id")
            holder_id = data.holder_id
        taken = await Application.exists().where(
            (Application.procedure == procedure_id) & (Application.holder == holder_id)
        )
        if taken:
            raise Conflict("this organisation has already applied to the procedure")
        # The UdP enrolling an organisation itself admits it at once.
        admitted = actor.role is Role.UDP_ADMIN
        row = Application(
            ambito=actor.ambito_id,
            procedure=procedure_id,
            holder=holder_id,
            status=(ApplicationStatus.ADMITTED if admitted else ApplicationStatus.SUBMITTED).value,
            note=data.note,
            applied_at=at,
            decided_at=at if admitted else None,
        )
        await row.save()
        await _replace_people(actor, row.id, data.participants)
    return await get_application(_as_manager_of(actor, holder_id), row.id)


def _as_manager_of(actor: Principal, holder_id: uuid.UUID) -> Principal:
    """The principal after create_holder linked a manager to its new holder (this request's
    principal was read before the link)."""
    if actor.role is Role.HOLDER_MANAGER and actor.holder_id is None:
        return Principal(
            user_id=actor.user_id,
            username=actor.username,
            role=actor.role,
            ambito_id=actor.ambito_id,
            holder_id=holder_id,
        )
    return actor


async def get_application(actor: Principal, application_id: uuid.UUID) -> ApplicationOut:
    row = await _application(actor, application_id)
    return await _application_out(row, await _holder_row(row["holder"]))


async def list_applications(actor: Principal, procedure_id: uuid.UUID) -> list[ApplicationOut]:
    await _procedure(actor, procedure_id)
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    where = Application.procedure == procedure_id
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None:
            return []
        where &= Application.holder == actor.holder_id
    rows = await Application.select().where(where)
    holder_rows = {
        h["id"]: h
        for h in await Holder.select().where(Holder.id.is_in([r["holder"] for r in rows] or [None]))
    }
    out = [await _application_out(r, holder_rows[r["holder"]]) for r in rows]
    return sorted(out, key=lambda a: a.holder_name.casefold())


async def update_application(
    actor: Principal,
    application_id: uuid.UUID,
    patch: ApplicationPatch,
    *,
    now: datetime | None = None,
) -> ApplicationOut:
    at = now or current_time()
    row = await _application(actor, application_id)
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    values: dict[str, Any] = {}
    fields = set_fields(patch)
    if "status" in fields:
        status: ApplicationStatus = fields["status"]
        if actor.role is Role.HOLDER_MANAGER and status is not ApplicationStatus.WITHDRAWN:
            raise PermissionDenied("the UdP admits or rejects; an organisation can withdraw")
        if status is ApplicationStatus.SUBMITTED:
            raise InvalidInput("an application cannot go back to submitted", field="status")
        values["status"] = status.value
        values["decided_at"] = at
    if "note" in fields:
        values["note"] = fields["note"]
    decided = values.get("status") in (ApplicationStatus.ADMITTED, ApplicationStatus.REJECTED)
    async with unit_of_work():
        if values:
            await Application.update(values).where(Application.id == application_id)
        if "participants" in fields:
            await _replace_people(actor, application_id, fields["participants"])
        if decided and values["status"] != row["status"]:
            procedure = (
                await Procedure.select(Procedure.title)
                .where(Procedure.id == row["procedure"])
                .first()
            )
            await workflow.coprogramming_application_decided(
                actor,
                procedure_id=row["procedure"],
                procedure_title=procedure["title"] if procedure else "",
                holder_id=row["holder"],
                admitted=values["status"] == ApplicationStatus.ADMITTED,
            )
    return await get_application(actor, row["id"])
