"""Co-programming: the minutes of each session, drafted from what its tables recorded."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.common import now as current_time
from registry.coprogramming import document
from registry.coprogramming.access import READERS, _in_ambito, _session
from registry.coprogramming.contributions import _contribution_query
from registry.coprogramming.schemas import DocumentOut
from registry.coprogramming.sessions import _attendance_query, _tables_out
from registry.coprogramming.tables import Attendance, Minutes, Procedure, TableContribution
from registry.coprogramming.versions import _approve, _document_out, _write_version
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.notifications import workflow
from registry.vocabularies import DocumentStatus, GuidingQuestion, SessionKind


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


async def _minutes_row(
    actor: Principal, minutes_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, Any]]:
    row = await _in_ambito(actor, Minutes, minutes_id, "minutes")
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


async def minutes_document(actor: Principal, minutes_id: uuid.UUID) -> tuple[str, str]:
    """(title, content) of minutes to export as a document."""
    row, session = await _minutes_row(actor, minutes_id)
    actor.require(*READERS)
    title = f"Verbale della sessione {session['number']} – {session['title']}"
    return title, document.with_footer(row)
