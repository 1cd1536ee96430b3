"""One small co-programming procedure of a tenant, built through the services (not HTTP, to
keep the matrix fast): what the authorization tests and the network tests start from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from registry.access import Principal, Role
from registry.common import now
from registry.coprogramming.applications import create_application
from registry.coprogramming.contributions import create_contribution
from registry.coprogramming.minutes import approve_minutes, draft_minutes, edit_minutes
from registry.coprogramming.objectives import create_objective
from registry.coprogramming.procedures import create_procedure, update_procedure
from registry.coprogramming.schemas import (
    ApplicationCreate,
    AttendanceIn,
    ContributionCreate,
    ObjectiveCreate,
    ParticipantIn,
    ProcedureCreate,
    ProcedurePatch,
    SessionCreate,
    TableCreate,
)
from registry.coprogramming.sessions import create_session, create_table, record_attendance
from registry.coprogramming.summary import approve_summary, draft_summary, edit_summary
from registry.italian import ROME
from registry.vocabularies import GuidingQuestion, ProcedureStatus, SessionKind
from tests.conftest import Tenant


def principal(tenant: Tenant, role: Role) -> Principal:
    return Principal(
        user_id=tenant.users[role],
        username=tenant.usernames[role],
        role=role,
        ambito_id=tenant.ambito_id,
        holder_id=tenant.holder_id if role is Role.HOLDER_MANAGER else None,
    )


@dataclass
class Procedure:
    tenant: Tenant
    procedure: uuid.UUID
    application: uuid.UUID  # the managed holder's (admitted, attends session 1)
    other_application: uuid.UUID  # the other holder's (admitted, attends session 1)
    participant: uuid.UUID  # a person of the managed holder, spokesperson of the table
    session: uuid.UUID
    table: uuid.UUID
    attendance: uuid.UUID
    proposal: uuid.UUID  # a proposal of the managed holder at the table
    approved_minutes: uuid.UUID  # version 1
    draft_minutes: uuid.UUID  # version 2
    approved_summary: uuid.UUID  # version 1
    draft_summary: uuid.UUID  # version 2
    objective: uuid.UUID


async def seed_procedure(tenant: Tenant, *, starts_at: datetime | None = None) -> Procedure:
    udp = principal(tenant, Role.UDP_ADMIN)
    today = now().astimezone(ROME).date()
    procedure = await create_procedure(
        udp,
        ProcedureCreate(
            title="Co-programmazione del Piano di Zona",
            notice_text="Avviso pubblico",
            notice_published_on=today,
            applications_close_on=today + timedelta(days=30),
            piano_period="2025-2027",
        ),
    )
    await update_procedure(udp, procedure.id, ProcedurePatch(status=ProcedureStatus.OPEN))
    application = await create_application(
        udp,
        procedure.id,
        ApplicationCreate(
            holder_id=tenant.holder_id,
            participants=[ParticipantIn(name="Maria Rossi", contact="maria@example.org")],
        ),
    )
    other = await create_application(
        udp, procedure.id, ApplicationCreate(holder_id=tenant.other_holder_id)
    )
    session = await create_session(
        udp,
        procedure.id,
        SessionCreate(
            number=1,
            kind=SessionKind.THEMATIC,
            title="Anziani",
            starts_at=starts_at or datetime.now(UTC) - timedelta(days=1),
        ),
    )
    participant = application.participants[0].id
    table = await create_table(
        udp, session.id, TableCreate(theme="Domiciliarità", spokesperson_id=participant)
    )
    attendance = await record_attendance(
        udp, session.id, AttendanceIn(application_id=application.id, table_id=table.id, people=2)
    )
    await record_attendance(
        udp, session.id, AttendanceIn(application_id=other.id, table_id=table.id, people=1)
    )
    proposal = await create_contribution(
        principal(tenant, Role.HOLDER_MANAGER),
        table.id,
        ContributionCreate(question=GuidingQuestion.PROPOSALS, text="Un punto di ascolto"),
    )
    first = await draft_minutes(udp, session.id)
    await approve_minutes(udp, first.id)
    second = await edit_minutes(udp, session.id, first.content + "\nRettifica.\n")
    summary = await draft_summary(udp, procedure.id)
    await approve_summary(udp, summary.id)
    summary_2 = await edit_summary(udp, procedure.id, summary.content + "\nNota.\n")
    objective = await create_objective(
        udp,
        procedure.id,
        ObjectiveCreate(code="OB1", title="Domiciliarità", proposal_ids=[proposal.id]),
    )
    return Procedure(
        tenant=tenant,
        procedure=procedure.id,
        application=application.id,
        other_application=other.id,
        participant=participant,
        session=session.id,
        table=table.id,
        attendance=attendance.id,
        proposal=proposal.id,
        approved_minutes=first.id,
        draft_minutes=second.id,
        approved_summary=summary.id,
        draft_summary=summary_2.id,
        objective=objective.id,
    )
