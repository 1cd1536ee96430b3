"""Co-programming: the summary document (documento istruttorio di sintesi), assembled from
the approved minutes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.common import now as current_time
from registry.coprogramming import document
from registry.coprogramming.access import READERS, _in_ambito, _procedure
from registry.coprogramming.minutes import _latest_approved_minutes
from registry.coprogramming.objectives import list_objectives
from registry.coprogramming.schemas import DocumentOut
from registry.coprogramming.tables import SummaryDocument
from registry.coprogramming.versions import _approve, _document_out, _json_list, _write_version
from registry.errors import Conflict, NotFound
from registry.vocabularies import DocumentStatus


async def list_summary(actor: Principal, procedure_id: uuid.UUID) -> list[DocumentOut]:
    await _procedure(actor, procedure_id)
    actor.require(*READERS)
    where = SummaryDocument.procedure == procedure_id
    if actor.role is not Role.UDP_ADMIN:
        where &= SummaryDocument.status == DocumentStatus.APPROVED.value
    rows = await SummaryDocument.select().where(where).order_by(SummaryDocument.version)
    return [_document_out(r, procedure_id) for r in rows]


async def _save(
    actor: Principal, procedure_id: uuid.UUID, content: str, at: datetime, sources: list[Any]
) -> DocumentOut:
    """Save `content` as the summary's draft (see _write_version); `sources`: its minutes' ids."""
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
    return await _save(actor, procedure_id, content, at, [str(m["id"]) for m in minutes])


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
    return await _save(actor, procedure_id, content, at, sources)


async def _summary_row(actor: Principal, summary_id: uuid.UUID) -> dict[str, Any]:
    row = await _in_ambito(actor, SummaryDocument, summary_id, "summary document")
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


async def summary_document(actor: Principal, summary_id: uuid.UUID) -> tuple[str, str]:
    row = await _summary_row(actor, summary_id)
    actor.require(*READERS)
    return "Documento istruttorio di sintesi", document.with_footer(row)
