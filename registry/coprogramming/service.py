"""Co-programming procedures (art. 55 CTS, DM 72/2021): the rules.

Who does what: the UdP (udp_admin) runs the procedure; a holder manager applies for its own
holder, names its people, sees the sessions and records contributions at the tables of the
sessions its holder attends; social workers and volunteers read what is public anyway.
People named by an organisation are personal data: only the UdP and that organisation's
manager see them; everything else counts them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

from registry.access import Principal, Role
from registry.common import now as current_time
from registry.common import set_fields
from registry.coprogramming import document
from registry.coprogramming.schemas import (
    ApplicationCreate,
    ApplicationOut,
    ApplicationPatch,
    AttendanceIn,
    AttendanceOut,
    ContributionCreate,
    ContributionOut,
    ContributionPatch,
    DocumentOut,
    ObjectiveCreate,
    ObjectiveOut,
    ObjectivePatch,
    ParticipantIn,
    ParticipantOut,
    ProcedureCreate,
    ProcedureOut,
    ProcedureOverview,
    ProcedurePatch,
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
    Objective,
    ObjectiveLink,
    Participant,
    Procedure,
    ProcedureSession,
    SummaryDocument,
    TableContribution,
    WorkingTable,
)
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.holders import service as holders
from registry.holders.tables import Holder
from registry.italian import ROME
from registry.notifications import workflow
from registry.resources.tables import Resource
from registry.taxonomy import service as taxonomy
from registry.vocabularies import (
    ApplicationStatus,
    DocumentStatus,
    GuidingQuestion,
    HolderKind,
    ParticipantRole,
    ProcedureKind,
    ProcedureStatus,
    Sector,
    SessionKind,
)

READERS = (Role.UDP_ADMIN, Role.HOLDER_MANAGER, Role.SOCIAL_WORKER, Role.VOLUNTEER)


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def today(at: datetime | None = None) -> date:
    return (at or current_time()).astimezone(ROME).date()


# --- lookups: another ambito's record (or a draft procedure for non-UdP) is a 404 ----------


async def _procedure(actor: Principal, procedure_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await Procedure.select()
        .where((Procedure.id == procedure_id) & (Procedure.ambito == actor.ambito_id))
        .first()
    )
    # A draft is the UdP's work in progress: nobody else learns it exists.
    if row is None or (row["status"] == ProcedureStatus.DRAFT and actor.role is not Role.UDP_ADMIN):
        raise NotFound("no such procedure")
    return row


async def _session(actor: Principal, session_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ProcedureSession.select()
        .where((ProcedureSession.id == session_id) & (ProcedureSession.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such session")
    await _procedure(actor, row["procedure"])
    return row


async def _table(actor: Principal, table_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await WorkingTable.select()
        .where((WorkingTable.id == table_id) & (WorkingTable.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such table")
    session = await _session(actor, row["session"])
    return {**row, "procedure": session["procedure"]}


async def _application(actor: Principal, application_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await Application.select()
        .where((Application.id == application_id) & (Application.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such application")
    await _procedure(actor, row["procedure"])
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    # Another organisation's application (and its people) is not the manager's to see.
    if not actor.manages_holder(row["holder"]):
        raise NotFound("no such application")
    return row


async def _own_admitted_application(
    actor: Principal, procedure_id: uuid.UUID
) -> dict[str, Any] | None:
    if actor.holder_id is None:
        return None
    return (
        await Application.select()
        .where(
            (Application.procedure == procedure_id)
            & (Application.holder == actor.holder_id)
            & (Application.status == ApplicationStatus.ADMITTED.value)
        )
        .first()
    )


async def _attends(actor: Principal, session_id: uuid.UUID) -> bool:
    """Whether the manager's holder is recorded as present at the session."""
    if actor.holder_id is None:
        return False
    rows = await Attendance.select(Attendance.id).where(
        (Attendance.session == session_id) & (Attendance.application.holder == actor.holder_id)
    )
    return bool(rows)


async def _require_participant(actor: Principal, procedure_id: uuid.UUID) -> None:
    """The UdP, or the manager of an admitted organisation of this procedure."""
    if actor.role is Role.UDP_ADMIN:
        return
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    if await _own_admitted_application(actor, procedure_id) is None:
        raise PermissionDenied("only organisations admitted to the procedure can do this")


# --- procedures -----------------------------------------------------------------------------


async def _procedure_out(row: dict[str, Any]) -> ProcedureOut:
    admitted = (Application.procedure == row["id"]) & (
        Application.status == ApplicationStatus.ADMITTED.value
    )
    organisations = await Application.count().where(admitted)
    people = await Participant.count().where(
        (Participant.application.procedure == row["id"])
        & (Participant.application.status == ApplicationStatus.ADMITTED.value)
    )
    sessions = await ProcedureSession.count().where(ProcedureSession.procedure == row["id"])
    return ProcedureOut(
        id=row["id"],
        ambito_id=row["ambito"],
        kind=ProcedureKind(row["kind"]),
        title=row["title"],
        description=row["description"],
        notice_text=row["notice_text"],
        notice_url=row["notice_url"],
        notice_published_on=row["notice_published_on"],
        applications_close_on=row["applications_close_on"],
        piano_period=row["piano_period"],
        status=ProcedureStatus(row["status"]),
        organisations=organisations,
        people=people,
        sessions=sessions,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _check_dates(values: dict[str, Any]) -> None:
    published, closes = values.get("notice_published_on"), values.get("applications_close_on")
    if published and closes and closes < published:
        raise InvalidInput(
            "applications cannot close before the notice is published",
            field="applications_close_on",
        )


async def list_procedures(actor: Principal) -> list[ProcedureOut]:
    actor.require(*READERS)
    where = Procedure.ambito == actor.ambito_id
    if actor.role is not Role.UDP_ADMIN:
        where &= Procedure.status != ProcedureStatus.DRAFT.value
    rows = await Procedure.select().where(where).order_by(Procedure.created_at, ascending=False)
    return [await _procedure_out(r) for r in rows]


async def get_procedure(actor: Principal, procedure_id: uuid.UUID) -> ProcedureOut:
    row = await _procedure(actor, procedure_id)
    actor.require(*READERS)
    return await _procedure_out(row)


async def create_procedure(
    actor: Principal, data: ProcedureCreate, *, now: datetime | None = None
) -> ProcedureOut:
    at = now or current_time()
    actor.require(Role.UDP_ADMIN)
    values = set_fields(data)
    _check_dates(values)
    values["kind"] = data.kind.value
    row = Procedure(
        **values,
        ambito=actor.ambito_id,
        status=ProcedureStatus.DRAFT.value,
        created_at=at,
        updated_at=at,
    )
    await row.save()
    return await get_procedure(actor, row.id)


async def update_procedure(
    actor: Principal, procedure_id: uuid.UUID, patch: ProcedurePatch, *, now: datetime | None = None
) -> ProcedureOut:
    at = now or current_time()
    current = await _procedure(actor, procedure_id)
    actor.require(Role.UDP_ADMIN)
    values = set_fields(patch)
    _check_dates({**current, **values})
    if "status" in values:
        values["status"] = values["status"].value
        if values["status"] != ProcedureStatus.DRAFT and not (
            values.get("notice_published_on") or current["notice_published_on"]
        ):
            raise InvalidInput(
                "publish the notice (notice_published_on) before opening the procedure",
                field="status",
            )
        if values["status"] == ProcedureStatus.DRAFT and current["status"] != ProcedureStatus.DRAFT:
            # A published notice stays public: the procedure cannot be hidden again.
            raise Conflict("a procedure whose notice is published cannot go back to draft")
        if values["status"] == ProcedureStatus.CLOSED:
            summary_approved = await SummaryDocument.exists().where(
                (SummaryDocument.procedure == procedure_id)
                & (SummaryDocument.status == DocumentStatus.APPROVED.value)
            )
            if not summary_approved:
                raise Conflict("approve the summary document before closing the procedure")
    if values:
        values["updated_at"] = at
        await Procedure.update(values).where(Procedure.id == procedure_id)
    return await get_procedure(actor, procedure_id)


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
    row = (
        await Attendance.select()
        .where((Attendance.id == attendance_id) & (Attendance.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such attendance")
    await _session(actor, row["session"])
    actor.require(Role.UDP_ADMIN)
    await Attendance.delete().where(Attendance.id == attendance_id)


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
    row = (
        await TableContribution.select()
        .where(
            (TableContribution.id == contribution_id)
            & (TableContribution.ambito == actor.ambito_id)
        )
        .first()
    )
    if row is None:
        raise NotFound("no such contribution")
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


# --- minutes and the summary document -------------------------------------------------------


def _json_list(value: Any) -> list[Any]:
    # Piccolo hands JSON columns back as text unless the query asked to load them.
    return json.loads(value) if isinstance(value, str) else list(value or [])


def _document_out(row: dict[str, Any], procedure_id: uuid.UUID) -> DocumentOut:
    return DocumentOut(
        id=row["id"],
        procedure_id=procedure_id,
        session_id=row.get("session"),
        version=row["version"],
        status=DocumentStatus(row["status"]),
        content=row["content"],
        content_hash=row["content_hash"],
        approved_at=row["approved_at"],
        approved_by=row["approved_by"],
        sources=[uuid.UUID(str(s)) for s in _json_list(row.get("sources"))],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _session_material(session: dict[str, Any]) -> document.SessionMaterial:
    """What the tables of a session recorded, as the minutes draft reads it."""
    procedure = await Procedure.select().where(Procedure.id == session["procedure"]).first()
    assert procedure is not None
    tables = await _tables_out([session["id"]])
    attendance = await _attendance_query().where(Attendance.session == session["id"])
    contributions = await _contribution_query().where(
        TableContribution.working_table.session == session["id"]
    )
    by_table: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    # Stable order (ties under one injected moment): a redraft reads the same text.
    for c in sorted(contributions, key=lambda r: (r["created_at"], str(r["id"]))):
        by_table[c["working_table"]].append(c)
    return document.SessionMaterial(
        procedure_title=procedure["title"],
        number=session["number"],
        kind=SessionKind(session["kind"]),
        title=session["title"],
        theme=session["theme"],
        starts_at=session["starts_at"],
        place=session["place"],
        agenda=session["agenda"],
        attendance=sorted(
            ((a["holder_name"], a["people"]) for a in attendance), key=lambda x: x[0].casefold()
        ),
        tables=[
            document.TableMaterial(
                theme=t.theme,
                spokesperson_holder=t.spokesperson_holder,
                answers=[
                    document.Answer(
                        question=GuidingQuestion(c["question"]),
                        text=c["text"],
                        holder=c["holder_name"],
                        resource=c["resource_title"],
                    )
                    for c in by_table.get(t.id, [])
                ],
            )
            for t in tables.get(session["id"], [])
        ],
    )


async def _write_version(
    table: Any,
    parent: Any,
    parent_id: uuid.UUID,
    actor: Principal,
    content: str,
    at: datetime,
    **extra: Any,
) -> dict[str, Any]:
    """Edit the latest draft, or open version n+1 as a draft when n is approved: an approved
    version is never written again."""
    async with unit_of_work():
        latest = (
            await table.select()
            .where(parent == parent_id)
            .order_by(table.version, ascending=False)
            .first()
        )
        if latest is not None and latest["status"] == DocumentStatus.DRAFT:
            await table.update(
                {
                    table.content: content,
                    table.updated_at: at,
                    **{getattr(table, k): v for k, v in extra.items()},
                }
            ).where(table.id == latest["id"])
            row_id = latest["id"]
        else:
            row = table(
                ambito=actor.ambito_id,
                version=(latest["version"] + 1) if latest else 1,
                status=DocumentStatus.DRAFT.value,
                content=content,
                created_at=at,
                updated_at=at,
                **{parent._meta.name: parent_id},
                **extra,
            )
            await row.save()
            row_id = row.id
    return await table.select().where(table.id == row_id).first()


async def list_minutes(actor: Principal, session_id: uuid.UUID) -> list[DocumentOut]:
    session = await _session(actor, session_id)
    actor.require(*READERS)
    where = Minutes.session == session_id
    if actor.role is not Role.UDP_ADMIN:
        where &= Minutes.status == DocumentStatus.APPROVED.value
    rows = await Minutes.select().where(where).order_by(Minutes.version)
    return [_document_out(r, session["procedure"]) for r in rows]


async def draft_minutes(
    actor: Principal, session_id: uuid.UUID, *, now: datetime | None = None
) -> DocumentOut:
    at = now or current_time()
    session = await _session(actor, session_id)
    actor.require(Role.UDP_ADMIN)
    content = document.minutes_text(await _session_material(session))
    row = await _write_version(Minutes, Minutes.session, session_id, actor, content, at)
    return _document_out(row, session["procedure"])


async def edit_minutes(
    actor: Principal, session_id: uuid.UUID, content: str, *, now: datetime | None = None
) -> DocumentOut:
    at = now or current_time()
    session = await _session(actor, session_id)
    actor.require(Role.UDP_ADMIN)
    row = await _write_version(Minutes, Minutes.session, session_id, actor, content, at)
    return _document_out(row, session["procedure"])


async def _approve(
    table: Any, parent: Any, row: dict[str, Any], actor: Principal, at: datetime
) -> None:
    async with unit_of_work():
        latest = (
            await table.select(table.id, table.status)
            .where(parent == row[parent._meta.name])
            .order_by(table.version, ascending=False)
            .first()
        )
        if row["status"] == DocumentStatus.APPROVED:
            raise Conflict(f"version {row['version']} is already approved (it is frozen)")
        if latest["id"] != row["id"]:
            raise Conflict("only the latest version can be approved")
        await table.update(
            {
                table.status: DocumentStatus.APPROVED.value,
                table.content_hash: content_hash(row["content"]),
                table.approved_at: at,
                table.approved_by: actor.user_id,
                table.updated_at: at,
            }
        ).where((table.id == row["id"]) & (table.status == DocumentStatus.DRAFT.value))


async def _minutes_row(
    actor: Principal, minutes_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any]]:
    row = (
        await Minutes.select()
        .where((Minutes.id == minutes_id) & (Minutes.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such minutes")
    session = await _session(actor, row["session"])
    if row["status"] != DocumentStatus.APPROVED and actor.role is not Role.UDP_ADMIN:
        raise NotFound("no such minutes")  # drafts are the UdP's
    return row, session


async def approve_minutes(
    actor: Principal, minutes_id: uuid.UUID, *, now: datetime | None = None
) -> DocumentOut:
    at = now or current_time()
    row, session = await _minutes_row(actor, minutes_id)
    actor.require(Role.UDP_ADMIN)
    async with unit_of_work():
        await _approve(Minutes, Minutes.session, row, actor, at)
        present = await Attendance.select(Attendance.application.holder.as_alias("holder")).where(
            Attendance.session == session["id"]
        )
        await workflow.coprogramming_minutes_approved(
            actor,
            procedure_id=session["procedure"],
            session_id=session["id"],
            session_label=f"sessione {session['number']} – {session['title']}",
            version=row["version"],
            holder_ids=[p["holder"] for p in present],
        )
    fresh = await Minutes.select().where(Minutes.id == minutes_id).first()
    return _document_out(fresh, session["procedure"])


async def get_minutes(actor: Principal, minutes_id: uuid.UUID) -> DocumentOut:
    row, session = await _minutes_row(actor, minutes_id)
    actor.require(*READERS)
    return _document_out(row, session["procedure"])


async def _latest_approved_minutes(procedure_id: uuid.UUID) -> list[dict[str, Any]]:
    """The latest approved version of each session's minutes, in calendar order."""
    rows = await Minutes.select(
        Minutes.all_columns(),
        Minutes.session.number.as_alias("session_number"),
        Minutes.session.title.as_alias("session_title"),
    ).where(
        (Minutes.session.procedure == procedure_id)
        & (Minutes.status == DocumentStatus.APPROVED.value)
    )
    latest: dict[Any, dict[str, Any]] = {}
    for r in rows:
        if r["session"] not in latest or r["version"] > latest[r["session"]]["version"]:
            latest[r["session"]] = r
    return sorted(latest.values(), key=lambda r: r["session_number"])


async def list_summary(actor: Principal, procedure_id: uuid.UUID) -> list[DocumentOut]:
    await _procedure(actor, procedure_id)
    actor.require(*READERS)
    where = SummaryDocument.procedure == procedure_id
    if actor.role is not Role.UDP_ADMIN:
        where &= SummaryDocument.status == DocumentStatus.APPROVED.value
    rows = await SummaryDocument.select().where(where).order_by(SummaryDocument.version)
    return [_document_out(r, procedure_id) for r in rows]


async def draft_summary(
    actor: Principal, procedure_id: uuid.UUID, *, now: datetime | None = None
) -> DocumentOut:
    """Assemble the summary document from the approved minutes only (drafts are left out)."""
    at = now or current_time()
    procedure = await _procedure(actor, procedure_id)
    actor.require(Role.UDP_ADMIN)
    minutes = await _latest_approved_minutes(procedure_id)
    if not minutes:
        raise Conflict("no approved minutes yet: approve the minutes of a session first")
    objectives = await list_objectives(actor, procedure_id)
    content = document.summary_text(
        procedure_title=procedure["title"],
        piano_period=procedure["piano_period"],
        minutes=[
            document.ApprovedMinutes(
                session_number=m["session_number"],
                session_title=m["session_title"],
                version=m["version"],
                approved_at=m["approved_at"],
                content_hash=m["content_hash"],
                content=m["content"],
            )
            for m in minutes
        ],
        objectives=[(o.code, o.title) for o in objectives],
    )
    row = await _write_version(
        SummaryDocument,
        SummaryDocument.procedure,
        procedure_id,
        actor,
        content,
        at,
        sources=[str(m["id"]) for m in minutes],
    )
    return _document_out(row, procedure_id)


async def edit_summary(
    actor: Principal, procedure_id: uuid.UUID, content: str, *, now: datetime | None = None
) -> DocumentOut:
    at = now or current_time()
    await _procedure(actor, procedure_id)
    actor.require(Role.UDP_ADMIN)
    latest = (
        await SummaryDocument.select(SummaryDocument.sources)
        .where(SummaryDocument.procedure == procedure_id)
        .order_by(SummaryDocument.version, ascending=False)
        .first()
    )
    # A hand edit keeps the provenance: the minutes the text was assembled from.
    sources = _json_list(latest["sources"]) if latest else []
    row = await _write_version(
        SummaryDocument,
        SummaryDocument.procedure,
        procedure_id,
        actor,
        content,
        at,
        sources=sources,
    )
    return _document_out(row, procedure_id)


async def _summary_row(actor: Principal, summary_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await SummaryDocument.select()
        .where((SummaryDocument.id == summary_id) & (SummaryDocument.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such summary document")
    await _procedure(actor, row["procedure"])
    if row["status"] != DocumentStatus.APPROVED and actor.role is not Role.UDP_ADMIN:
        raise NotFound("no such summary document")
    return row


async def approve_summary(
    actor: Principal, summary_id: uuid.UUID, *, now: datetime | None = None
) -> DocumentOut:
    at = now or current_time()
    row = await _summary_row(actor, summary_id)
    actor.require(Role.UDP_ADMIN)
    await _approve(SummaryDocument, SummaryDocument.procedure, row, actor, at)
    fresh = await SummaryDocument.select().where(SummaryDocument.id == summary_id).first()
    return _document_out(fresh, row["procedure"])


async def get_summary(actor: Principal, summary_id: uuid.UUID) -> DocumentOut:
    row = await _summary_row(actor, summary_id)
    actor.require(*READERS)
    return _document_out(row, row["procedure"])


async def minutes_document(actor: Principal, minutes_id: uuid.UUID) -> tuple[str, str]:
    """(title, content) of minutes to export as a document."""
    row, session = await _minutes_row(actor, minutes_id)
    actor.require(*READERS)
    title = f"Verbale della sessione {session['number']} – {session['title']}"
    return title, document.with_footer(row)


async def summary_document(actor: Principal, summary_id: uuid.UUID) -> tuple[str, str]:
    row = await _summary_row(actor, summary_id)
    actor.require(*READERS)
    return "Documento istruttorio di sintesi", document.with_footer(row)


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
    if proposal_ids is not None:
        await ObjectiveLink.delete().where(
            (ObjectiveLink.objective == objective_id) & ObjectiveLink.proposal.is_not_null()
        )
        for proposal_id in dict.fromkeys(proposal_ids):
            await ObjectiveLink(
                ambito=actor.ambito_id, objective=objective_id, proposal=proposal_id
            ).save()
    if session_ids is not None:
        await ObjectiveLink.delete().where(
            (ObjectiveLink.objective == objective_id) & ObjectiveLink.session.is_not_null()
        )
        for session_id in dict.fromkeys(session_ids):
            await ObjectiveLink(
                ambito=actor.ambito_id, objective=objective_id, session=session_id
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
    row = (
        await Objective.select()
        .where((Objective.id == objective_id) & (Objective.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such objective")
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


# --- the whole procedure in one read (the UdP's page) ---------------------------------------


async def get_overview(actor: Principal, procedure_id: uuid.UUID) -> ProcedureOverview:
    row = await _procedure(actor, procedure_id)
    actor.require(*READERS)
    sessions = await list_sessions(actor, procedure_id)
    participant = actor.role is Role.UDP_ADMIN or (
        actor.role is Role.HOLDER_MANAGER
        and await _own_admitted_application(actor, procedure_id) is not None
    )
    applications: list[ApplicationOut] = []
    attendance: list[AttendanceOut] = []
    contributions: list[ContributionOut] = []
    if actor.role in (Role.UDP_ADMIN, Role.HOLDER_MANAGER):
        applications = await list_applications(actor, procedure_id)
        where = Attendance.session.procedure == procedure_id
        if actor.role is Role.HOLDER_MANAGER:
            where &= Attendance.application.holder == actor.holder_id
        attendance = await _attendance_out(await _attendance_query().where(where))
    if participant:
        contributions = await list_contributions(actor, procedure_id)
    minutes: list[DocumentOut] = []
    for session in sessions:
        versions = await list_minutes(actor, session.id)
        if versions:
            minutes.append(versions[-1])
    summaries = await list_summary(actor, procedure_id)
    return ProcedureOverview(
        procedure=await _procedure_out(row),
        applications=applications,
        sessions=sessions,
        attendance=attendance,
        contributions=contributions,
        minutes=minutes,
        summary=summaries[-1] if summaries else None,
        objectives=await list_objectives(actor, procedure_id),
    )
