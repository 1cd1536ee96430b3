"""The public page of a procedure (no login): the notice, the calendar, the organisations
taking part, the approved minutes, the summary document and the objectives adopted.

Transparency without personal data: organisations are named (they are legal persons acting
in a public procedure), people are only counted; drafts and procedures still in draft are
not there at all (a 404, as if they did not exist).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from typing import Any

from registry.coprogramming import document
from registry.coprogramming.procedures import notice_fields
from registry.coprogramming.schemas import (
    PublicDocument,
    PublicObjective,
    PublicOrganisation,
    PublicProcedure,
    PublicProcedureItem,
    PublicSession,
    PublicTable,
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
    WorkingTable,
)
from registry.errors import NotFound
from registry.interop.service import public_ambito
from registry.vocabularies import (
    ApplicationStatus,
    DocumentStatus,
    HolderKind,
    ProcedureKind,
    ProcedureStatus,
    Sector,
    SessionKind,
)


async def list_public(ambito_code: str) -> list[PublicProcedureItem]:
    ambito = await public_ambito(ambito_code)  # a deactivated ambito's page is gone too
    rows = (
        await Procedure.select()
        .where(
            (Procedure.ambito == ambito["id"]) & (Procedure.status != ProcedureStatus.DRAFT.value)
        )
        .order_by(Procedure.notice_published_on, ascending=False)
    )
    return [
        PublicProcedureItem(
            id=r["id"],
            kind=ProcedureKind(r["kind"]),
            title=r["title"],
            status=ProcedureStatus(r["status"]),
            notice_published_on=r["notice_published_on"],
            piano_period=r["piano_period"],
        )
        for r in rows
    ]


def _document(row: dict[str, Any]) -> PublicDocument:
    return PublicDocument(
        id=row["id"],
        session_id=row.get("session"),
        version=row["version"],
        content=row["content"],
        content_hash=row["content_hash"],
        approved_at=row["approved_at"],
    )


async def public_procedure(procedure_id: uuid.UUID) -> PublicProcedure:
    procedure = (
        await Procedure.select(
            Procedure.all_columns(), Procedure.ambito.name.as_alias("ambito_name")
        )
        .where(
            (Procedure.id == procedure_id)
            & (Procedure.status != ProcedureStatus.DRAFT.value)
            & (Procedure.ambito.active == True)  # noqa: E712
        )
        .first()
    )
    if procedure is None:
        raise NotFound("no such procedure")
    applications = await Application.select(
        Application.id,
        Application.holder.name.as_alias("name"),
        Application.holder.kind.as_alias("kind"),
        Application.holder.sector.as_alias("sector"),
    ).where(
        (Application.procedure == procedure_id)
        & (Application.status == ApplicationStatus.ADMITTED.value)
    )
    named = Counter(
        p["application"]
        for p in await Participant.select(Participant.application).where(
            Participant.application.is_in([a["id"] for a in applications] or [None])
        )
    )
    organisations = sorted(
        (
            PublicOrganisation(
                name=a["name"],
                kind=HolderKind(a["kind"]),
                sector=Sector(a["sector"]),
                people=named[a["id"]],
            )
            for a in applications
        ),
        key=lambda o: o.name.casefold(),
    )
    sessions = (
        await ProcedureSession.select()
        .where(ProcedureSession.procedure == procedure_id)
        .order_by(ProcedureSession.number)
    )
    session_ids = [s["id"] for s in sessions] or [None]
    tables = (
        await WorkingTable.select()
        .where(WorkingTable.session.is_in(session_ids))
        .order_by(WorkingTable.created_at, WorkingTable.theme, WorkingTable.id)
    )
    attendance = await Attendance.select().where(Attendance.session.is_in(session_ids))
    by_session: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    by_table: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for a in attendance:
        for key, counts in ((a["session"], by_session), (a["working_table"], by_table)):
            counts[key][0] += 1
            counts[key][1] += a["people"]
    public_sessions = [
        PublicSession(
            id=s["id"],
            number=s["number"],
            kind=SessionKind(s["kind"]),
            title=s["title"],
            theme=s["theme"],
            starts_at=s["starts_at"],
            place=s["place"],
            agenda=s["agenda"],
            tables=[
                PublicTable(
                    theme=t["theme"],
                    organisations=by_table[t["id"]][0],
                    people=by_table[t["id"]][1],
                )
                for t in tables
                if t["session"] == s["id"]
            ],
            organisations=by_session[s["id"]][0],
            people=by_session[s["id"]][1],
        )
        for s in sessions
    ]
    minutes = await Minutes.select().where(
        Minutes.session.is_in(session_ids) & (Minutes.status == DocumentStatus.APPROVED.value)
    )
    latest: dict[Any, dict[str, Any]] = {}
    for m in minutes:
        if m["session"] not in latest or m["version"] > latest[m["session"]]["version"]:
            latest[m["session"]] = m
    number_of = {s["id"]: s["number"] for s in sessions}
    summary = (
        await SummaryDocument.select()
        .where(
            (SummaryDocument.procedure == procedure_id)
            & (SummaryDocument.status == DocumentStatus.APPROVED.value)
        )
        .order_by(SummaryDocument.version, ascending=False)
        .first()
    )
    objectives = await Objective.select().where(Objective.procedure == procedure_id)
    links = await ObjectiveLink.select(
        ObjectiveLink.objective,
        ObjectiveLink.session,
        ObjectiveLink.proposal.working_table.session.as_alias("proposal_session"),
    ).where(ObjectiveLink.objective.is_in([o["id"] for o in objectives] or [None]))
    origins: dict[Any, set[int]] = defaultdict(set)
    for link in links:
        for session_id in (link["session"], link["proposal_session"]):
            if session_id in number_of:
                origins[link["objective"]].add(number_of[session_id])
    return PublicProcedure(
        **notice_fields(procedure),
        ambito_name=procedure["ambito_name"],
        sessions=public_sessions,
        organisations=organisations,
        organisations_by_sector=dict(
            sorted(Counter(o.sector.value for o in organisations).items())
        ),
        people=sum(o.people for o in organisations),
        minutes=[
            _document(m) for m in sorted(latest.values(), key=lambda m: number_of[m["session"]])
        ],
        summary=_document(summary) if summary else None,
        objectives=sorted(
            (
                PublicObjective(
                    code=o["code"],
                    title=o["title"],
                    description=o["description"],
                    area=o["area"],
                    sessions=sorted(origins[o["id"]]),
                )
                for o in objectives
            ),
            key=lambda o: (o.code, o.title),
        ),
    )


async def _published(table: Any, document_id: uuid.UUID) -> dict[str, Any]:
    """An approved version of a published procedure of an active ambito, else 404."""
    row = (
        await table.select()
        .where(
            (table.id == document_id)
            & (table.status == DocumentStatus.APPROVED.value)
            & (table.ambito.active == True)  # noqa: E712
        )
        .first()
    )
    if row is None:
        raise NotFound("no such document")
    return row


async def public_minutes_document(minutes_id: uuid.UUID) -> tuple[str, str]:
    """(title, text) of approved minutes, as the public page links them for download."""
    row = await _published(Minutes, minutes_id)
    session = (
        await ProcedureSession.select(
            ProcedureSession.number,
            ProcedureSession.title,
            ProcedureSession.procedure.status.as_alias("procedure_status"),
        )
        .where(ProcedureSession.id == row["session"])
        .first()
    )
    if session is None or session["procedure_status"] == ProcedureStatus.DRAFT:
        raise NotFound("no such document")
    title = f"Verbale della sessione {session['number']} – {session['title']}"
    return title, document.with_footer(row)


async def public_summary_document(summary_id: uuid.UUID) -> tuple[str, str]:
    row = await _published(SummaryDocument, summary_id)
    procedure = (
        await Procedure.select(Procedure.status).where(Procedure.id == row["procedure"]).first()
    )
    if procedure is None or procedure["status"] == ProcedureStatus.DRAFT:
        raise NotFound("no such document")
    return "Documento istruttorio di sintesi", document.with_footer(row)
