"""Co-programming procedures: the procedure itself (notice, dates, status) and the whole
procedure in one read (the UdP's page)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.common import now as current_time
from registry.common import set_fields
from registry.coprogramming.access import READERS, _own_admitted_application, _procedure
from registry.coprogramming.applications import list_applications
from registry.coprogramming.contributions import list_contributions
from registry.coprogramming.minutes import list_minutes
from registry.coprogramming.objectives import list_objectives
from registry.coprogramming.schemas import (
    ApplicationOut,
    AttendanceOut,
    ContributionOut,
    DocumentOut,
    ProcedureCreate,
    ProcedureOut,
    ProcedureOverview,
    ProcedurePatch,
)
from registry.coprogramming.sessions import _attendance_out, _attendance_query, list_sessions
from registry.coprogramming.summary import list_summary
from registry.coprogramming.tables import (
    Application,
    Attendance,
    Participant,
    Procedure,
    ProcedureSession,
    SummaryDocument,
)
from registry.errors import Conflict, InvalidInput
from registry.vocabularies import ApplicationStatus, DocumentStatus, ProcedureKind, ProcedureStatus

# --- procedures -----------------------------------------------------------------------------


def notice_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The fields of `ProcedureNotice` from a procedure's row."""
    return {
        "id": row["id"],
        "kind": ProcedureKind(row["kind"]),
        "title": row["title"],
        "description": row["description"],
        "notice_text": row["notice_text"],
        "notice_url": row["notice_url"],
        "notice_published_on": row["notice_published_on"],
        "applications_close_on": row["applications_close_on"],
        "piano_period": row["piano_period"],
        "status": ProcedureStatus(row["status"]),
    }


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
        **notice_fields(row),
        ambito_id=row["ambito"],
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
