"""Co-programming procedures (art. 55 CTS, DM 72/2021): who may see and do what.

Who does what: the UdP (udp_admin) runs the procedure; a holder manager applies for its own
holder, names its people, sees the sessions and records contributions at the tables of the
sessions its holder attends; social workers and volunteers read what is public anyway.
People named by an organisation are personal data: only the UdP and that organisation's
manager see them; everything else counts them.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from registry.access import Principal, Role
from registry.coprogramming.tables import (
    Application,
    Attendance,
    Procedure,
    ProcedureSession,
    WorkingTable,
)
from registry.errors import NotFound, PermissionDenied
from registry.vocabularies import ApplicationStatus, ProcedureStatus

READERS = (Role.UDP_ADMIN, Role.HOLDER_MANAGER, Role.SOCIAL_WORKER, Role.VOLUNTEER)


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


# --- lookups: another ambito's record (or a draft procedure for non-UdP) is a 404 ----------


async def _in_ambito(actor: Principal, table: Any, row_id: uuid.UUID, what: str) -> dict[str, Any]:
    """The row of `table` with that id in the actor's ambito, else a 404 naming `what`."""
    row = (
        await table.select().where((table.id == row_id) & (table.ambito == actor.ambito_id)).first()
    )
    if row is None:
        raise NotFound(f"no such {what}")
    return row


async def _procedure(actor: Principal, procedure_id: uuid.UUID) -> dict[str, Any]:
    row = await _in_ambito(actor, Procedure, procedure_id, "procedure")
    # A draft is the UdP's work in progress: nobody else learns it exists.
    if row["status"] == ProcedureStatus.DRAFT and actor.role is not Role.UDP_ADMIN:
        raise NotFound("no such procedure")
    return row


async def _session(actor: Principal, session_id: uuid.UUID) -> dict[str, Any]:
    row = await _in_ambito(actor, ProcedureSession, session_id, "session")
    await _procedure(actor, row["procedure"])
    return row


async def _table(actor: Principal, table_id: uuid.UUID) -> dict[str, Any]:
    row = await _in_ambito(actor, WorkingTable, table_id, "table")
    session = await _session(actor, row["session"])
    return {**row, "procedure": session["procedure"]}


async def _application(actor: Principal, application_id: uuid.UUID) -> dict[str, Any]:
    row = await _in_ambito(actor, Application, application_id, "application")
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
