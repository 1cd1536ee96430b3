"""Co-programming: the calendar of sessions, their working tables and attendance."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.common import now as current_time
from registry.common import set_fields
from registry.coprogramming.access import READERS, _in_ambito, _procedure, _session, _table
from registry.coprogramming.schemas import (
    AttendanceIn,
    AttendanceOut,
    SessionCreate,
    SessionOut,
    SessionPatch,
    TableCreate,
    TableOut,
    TablePatch,
)
from registry.coprogramming.tables import (
    Application,
    Attendance,
    Minutes,
    Participant,
    ProcedureSession,
    WorkingTable,
)
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput
from registry.vocabularies import ApplicationStatus, DocumentStatus, SessionKind

# --- sessions, tables, attendance -----------------------------------------------------------


async def _tables_out(session_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[TableOut]]:
    if not session_ids:
        return {}
    tables = (
        await WorkingTable.select(
            WorkingTable.all_columns(),
            WorkingTable.spokesperson.name.as_alias("spokesperson_name"),
            WorkingTable.spokesperson.application.holder.name.as_alias("spokesperson_holder"),
        )
        .where(WorkingTable.session.is_in(session_ids))
        .order_by(WorkingTable.created_at, WorkingTable.theme, WorkingTable.id)
    )
    attendance = await Attendance.select(Attendance.working_table, Attendance.people).where(
        Attendance.session.is_in(session_ids)
    )
    counts: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for a in attendance:
        counts[a["working_table"]][0] += 1
        counts[a["working_table"]][1] += a["people"]
    out: dict[uuid.UUID, list[TableOut]] = defaultdict(list)
    for t in tables:
        organisations, people = counts.get(t["id"], [0, 0])
        out[t["session"]].append(
            TableOut(
                id=t["id"],
                session_id=t["session"],
                theme=t["theme"],
                spokesperson_id=t["spokesperson"],
                spokesperson_name=t["spokesperson_name"],
                spokesperson_holder=t["spokesperson_holder"],
                organisations=organisations,
                people=people,
            )
        )
    return out


async def _sessions_out(actor: Principal, rows: list[dict[str, Any]]) -> list[SessionOut]:
    ids = [r["id"] for r in rows]
    tables = await _tables_out(ids)
    attendance = (
        await Attendance.select(Attendance.session, Attendance.people).where(
            Attendance.session.is_in(ids)
        )
        if ids
        else []
    )
    totals: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for a in attendance:
        totals[a["session"]][0] += 1
        totals[a["session"]][1] += a["people"]
    latest: dict[Any, str] = {}
    if ids:
        for m in (
            await Minutes.select(Minutes.session, Minutes.version, Minutes.status)
            .where(Minutes.session.is_in(ids))
            .order_by(Minutes.version)
        ):
            latest[m["session"]] = m["status"]
    out = []
    for r in rows:
        organisations, people = totals.get(r["id"], [0, 0])
        session_tables = tables.get(r["id"], [])
        if actor.role is not Role.UDP_ADMIN:
            # Names of spokespersons stay within the UdP's view (the organisation is enough).
            session_tables = [
                TableOut(**{**_fields(t), "spokesperson_id": None, "spokesperson_name": None})
                for t in session_tables
            ]
        out.append(
            SessionOut(
                id=r["id"],
                procedure_id=r["procedure"],
                number=r["number"],
                kind=SessionKind(r["kind"]),
                title=r["title"],
                theme=r["theme"],
                starts_at=r["starts_at"],
                place=r["place"],
                agenda=r["agenda"],
                tables=session_tables,
                organisations=organisations,
                people=people,
                minutes_status=DocumentStatus(latest[r["id"]]) if r["id"] in latest else None,
            )
        )
    return out


def _fields(struct: Any) -> dict[str, Any]:
    return {name: getattr(struct, name) for name in struct.__struct_fields__}


async def list_sessions(actor: Principal, procedure_id: uuid.UUID) -> list[SessionOut]:
    await _procedure(actor, procedure_id)
    actor.require(*READERS)
    rows = (
        await ProcedureSession.select()
        .where(ProcedureSession.procedure == procedure_id)
        .order_by(ProcedureSession.number)
    )
    return await _sessions_out(actor, rows)


async def get_session(actor: Principal, session_id: uuid.UUID) -> SessionOut:
    row = await _session(actor, session_id)
    actor.require(*READERS)
    return (await _sessions_out(actor, [row]))[0]


async def _check_number_free(
    procedure_id: uuid.UUID, number: int, session_id: uuid.UUID | None = None
) -> None:
    where = (ProcedureSession.procedure == procedure_id) & (ProcedureSession.number == number)
    if session_id is not None:
        where &= ProcedureSession.id != session_id
    if await ProcedureSession.exists().where(where):
        raise Conflict(f"the calendar already has a session number {number}")


async def create_session(
    actor: Principal, procedure_id: uuid.UUID, data: SessionCreate, *, now: datetime | None = None
) -> SessionOut:
    at = now or current_time()
    await _procedure(actor, procedure_id)
    actor.require(Role.UDP_ADMIN)
    if data.starts_at.tzinfo is None:
        raise InvalidInput("give the time zone of starts_at (e.g. +01:00)", field="starts_at")
    async with unit_of_work():
        await _check_number_free(procedure_id, data.number)
        values = set_fields(data)
        values["kind"] = data.kind.value
        row = ProcedureSession(
            **values, ambito=actor.ambito_id, procedure=procedure_id, created_at=at
        )
        await row.save()
    return await get_session(actor, row.id)


async def update_session(
    actor: Principal, session_id: uuid.UUID, patch: SessionPatch
) -> SessionOut:
    current = await _session(actor, session_id)
    actor.require(Role.UDP_ADMIN)
    values = set_fields(patch)
    if "kind" in values:
        values["kind"] = values["kind"].value
    starts_at = values.get("starts_at")
    if starts_at is not None and starts_at.tzinfo is None:
        raise InvalidInput("give the time zone of starts_at (e.g. +01:00)", field="starts_at")
    async with unit_of_work():
        if "number" in values:
            await _check_number_free(current["procedure"], values["number"], session_id)
        if values:
            await ProcedureSession.update(values).where(ProcedureSession.id == session_id)
    return await get_session(actor, session_id)


async def _check_spokesperson(
    actor: Principal, procedure_id: uuid.UUID, participant_id: uuid.UUID | None
) -> None:
    if participant_id is None:
        return
    ok = await Participant.exists().where(
        (Participant.id == participant_id)
        & (Participant.ambito == actor.ambito_id)
        & (Participant.application.procedure == procedure_id)
        & (Participant.application.status == ApplicationStatus.ADMITTED.value)
    )
    if not ok:
        raise InvalidInput(
            "the spokesperson must be a person named by an admitted organisation of this procedure",
            field="spokesperson_id",
        )


async def create_table(
    actor: Principal, session_id: uuid.UUID, data: TableCreate, *, now: datetime | None = None
) -> TableOut:
    at = now or current_time()
    session = await _session(actor, session_id)
    actor.require(Role.UDP_ADMIN)
    await _check_spokesperson(actor, session["procedure"], data.spokesperson_id)
    row = WorkingTable(
        ambito=actor.ambito_id,
        session=session_id,
        theme=data.theme,
        spokesperson=data.spokesperson_id,
        created_at=at,
    )
    await row.save()
    return await _table_out(row.id, session_id)


async def _table_out(table_id: uuid.UUID, session_id: uuid.UUID) -> TableOut:
    return next(t for t in (await _tables_out([session_id]))[session_id] if t.id == table_id)


async def update_table(actor: Principal, table_id: uuid.UUID, patch: TablePatch) -> TableOut:
    table = await _table(actor, table_id)
    actor.require(Role.UDP_ADMIN)
    values = set_fields(patch)
    if "spokesperson_id" in values:
        await _check_spokesperson(actor, table["procedure"], values["spokesperson_id"])
        values["spokesperson"] = values.pop("spokesperson_id")
    if values:
        await WorkingTable.update(values).where(WorkingTable.id == table_id)
    return await _table_out(table_id, table["session"])


async def _attendance_out(rows: list[dict[str, Any]]) -> list[AttendanceOut]:
    return [
        AttendanceOut(
            id=r["id"],
            session_id=r["session"],
            application_id=r["application"],
            holder_id=r["holder_id"],
            holder_name=r["holder_name"],
            table_id=r["working_table"],
            people=r["people"],
        )
        for r in rows
    ]


def _attendance_query() -> Any:
    return Attendance.select(
        Attendance.all_columns(),
        Attendance.application.holder.as_alias("holder_id"),
        Attendance.application.holder.name.as_alias("holder_name"),
    )


async def list_attendance(actor: Principal, session_id: uuid.UUID) -> list[AttendanceOut]:
    await _session(actor, session_id)
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    where = Attendance.session == session_id
    if actor.role is Role.HOLDER_MANAGER:
        where &= Attendance.application.holder == actor.holder_id
    rows = await _attendance_query().where(where)
    return sorted(await _attendance_out(rows), key=lambda a: a.holder_name.casefold())


async def record_attendance(
    actor: Principal, session_id: uuid.UUID, data: AttendanceIn, *, now: datetime | None = None
) -> AttendanceOut:
    at = now or current_time()
    session = await _session(actor, session_id)
    actor.require(Role.UDP_ADMIN)
    application = (
        await Application.select()
        .where(
            (Application.id == data.application_id)
            & (Application.procedure == session["procedure"])
            & (Application.ambito == actor.ambito_id)
        )
        .first()
    )
    if application is None:
        raise InvalidInput("no such application in this procedure", field="application_id")
    if application["status"] != ApplicationStatus.ADMITTED:
        raise InvalidInput(
            "the organisation is not admitted to the procedure", field="application_id"
        )
    if data.table_id is not None:
        in_session = await WorkingTable.exists().where(
            (WorkingTable.id == data.table_id) & (WorkingTable.session == session_id)
        )
        if not in_session:
            raise InvalidInput("no such table in this session", field="table_id")
    async with unit_of_work():
        existing = (
            await Attendance.select(Attendance.id)
            .where(
                (Attendance.session == session_id) & (Attendance.application == data.application_id)
            )
            .first()
        )
        if existing:
            attendance_id = existing["id"]
            await Attendance.update(
                {
                    Attendance.working_table: data.table_id,
                    Attendance.people: data.people,
                    Attendance.recorded_at: at,
                }
            ).where(Attendance.id == attendance_id)
        else:
            row = Attendance(
                ambito=actor.ambito_id,
                session=session_id,
                application=data.application_id,
                working_table=data.table_id,
                people=data.people,
                recorded_at=at,
            )
            await row.save()
            attendance_id = row.id
    rows = await _attendance_query().where(Attendance.id == attendance_id)
    return (await _attendance_out(rows))[0]


async def delete_attendance(actor: Principal, attendance_id: uuid.UUID) -> None:
    row = await _in_ambito(actor, Attendance, attendance_id, "attendance")
    await _session(actor, row["session"])
    actor.require(Role.UDP_ADMIN)
    await Attendance.delete().where(Attendance.id == attendance_id)
