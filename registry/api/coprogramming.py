"""Co-programming procedures (issue 16): the UdP's, the organisations', and the public page."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import OrderedDict
from typing import Annotated, Literal

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry.api.openapi import answers
from registry.api.params import Actor, CodeQuery, PathText
from registry.coprogramming import (
    applications,
    contributions,
    document,
    minutes,
    objectives,
    procedures,
    public,
    sessions,
    summary,
)
from registry.coprogramming.schemas import (
    ApplicationCreate,
    ApplicationOut,
    ApplicationPatch,
    AttendanceIn,
    AttendanceOut,
    ContributionCreate,
    ContributionOut,
    ContributionPatch,
    DocumentEdit,
    DocumentOut,
    ObjectiveCreate,
    ObjectiveOut,
    ObjectivePatch,
    ProcedureCreate,
    ProcedureOut,
    ProcedureOverview,
    ProcedurePatch,
    PublicProcedure,
    PublicProcedureItem,
    SessionCreate,
    SessionOut,
    SessionPatch,
    TableCreate,
    TableOut,
    TablePatch,
)
from registry.offload import in_worker_process
from registry.vocabularies import GuidingQuestion

ExportFormat = Annotated[
    Literal["html", "pdf", "odt"],
    QueryParameter(description="html (default), pdf (A4) or odt (editable, LibreOffice/Word)"),
]
MEDIA_TYPES = {
    # Litestar adds the charset to text/* types itself.
    "html": "text/html",
    "pdf": "application/pdf",
    "odt": document.ODT_MEDIA_TYPE,
}


# Rendered documents by a hash of what they render: approved versions never change, and a
# summary at the scale of seed 002 (5 sessions, 160 answers each) takes WeasyPrint ~10 s; the
# public downloads need no login, so each approved version is rendered once, not per request.
_RENDERED: OrderedDict[str, bytes] = OrderedDict()
_RENDERED_KEEP = 16


async def _rendered(format: str, title: str, content: str) -> bytes:
    key = hashlib.sha256(f"{format}\0{title}\0{content}".encode()).hexdigest()
    if key in _RENDERED:
        _RENDERED.move_to_end(key)
        return _RENDERED[key]
    # CPU-heavy (WeasyPrint above all): a worker process, so /health is not kept waiting.
    if format == "pdf":
        rendered = await in_worker_process(document.render_pdf, title, content)
    elif format == "odt":
        rendered = await in_worker_process(document.render_odt, title, content)
    else:
        rendered = (await in_worker_process(document.render_html, title, content)).encode()
    _RENDERED[key] = rendered
    while len(_RENDERED) > _RENDERED_KEEP:
        _RENDERED.popitem(last=False)
    return rendered


async def _export(title: str, content: str, name: str, format: str) -> Response[bytes]:
    filename = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}.{format}"',
        "Cache-Control": "no-store",
    }
    return Response(
        await _rendered(format, title, content), media_type=MEDIA_TYPES[format], headers=headers
    )


class CoprogrammingController(Controller):
    path = "/api/coprogramming"
    tags = ["co-programming"]

    # --- procedures ---

    @get("/procedures", summary="Co-programming and co-design procedures of the ambito")
    async def list_procedures(self, actor: Actor) -> list[ProcedureOut]:
        return await procedures.list_procedures(actor)

    @post("/procedures", summary="Create a procedure (as a draft)")
    async def create_procedure(self, actor: Actor, data: JSONBody[ProcedureCreate]) -> ProcedureOut:
        return await procedures.create_procedure(actor, data)

    @get("/procedures/{procedure_id:uuid}")
    async def get_procedure(self, actor: Actor, procedure_id: FromPath[uuid.UUID]) -> ProcedureOut:
        return await procedures.get_procedure(actor, procedure_id)

    @get(
        "/procedures/{procedure_id:uuid}/overview",
        summary="The whole procedure in one read, as far as the caller may see it",
    )
    async def get_overview(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID]
    ) -> ProcedureOverview:
        return await procedures.get_overview(actor, procedure_id)

    @patch("/procedures/{procedure_id:uuid}", summary="Edit a procedure, or move its status")
    async def update_procedure(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID], data: JSONBody[ProcedurePatch]
    ) -> ProcedureOut:
        return await procedures.update_procedure(actor, procedure_id, data)

    # --- applications ---

    @get("/procedures/{procedure_id:uuid}/applications", summary="Organisations that applied")
    async def list_applications(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID]
    ) -> list[ApplicationOut]:
        return await applications.list_applications(actor, procedure_id)

    @post(
        "/procedures/{procedure_id:uuid}/applications",
        summary="Apply to take part (a registered holder, or one registered on the way)",
    )
    async def create_application(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID], data: JSONBody[ApplicationCreate]
    ) -> ApplicationOut:
        return await applications.create_application(actor, procedure_id, data)

    @get("/applications/{application_id:uuid}")
    async def get_application(
        self, actor: Actor, application_id: FromPath[uuid.UUID]
    ) -> ApplicationOut:
        return await applications.get_application(actor, application_id)

    @patch("/applications/{application_id:uuid}", summary="Admit, reject, withdraw, name people")
    async def update_application(
        self,
        actor: Actor,
        application_id: FromPath[uuid.UUID],
        data: JSONBody[ApplicationPatch],
    ) -> ApplicationOut:
        return await applications.update_application(actor, application_id, data)

    # --- sessions, tables, attendance ---

    @get("/procedures/{procedure_id:uuid}/sessions", summary="The calendar of sessions")
    async def list_sessions(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID]
    ) -> list[SessionOut]:
        return await sessions.list_sessions(actor, procedure_id)

    @post("/procedures/{procedure_id:uuid}/sessions", summary="Add a session to the calendar")
    async def create_session(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID], data: JSONBody[SessionCreate]
    ) -> SessionOut:
        return await sessions.create_session(actor, procedure_id, data)

    @get("/sessions/{session_id:uuid}")
    async def get_session(self, actor: Actor, session_id: FromPath[uuid.UUID]) -> SessionOut:
        return await sessions.get_session(actor, session_id)

    @patch("/sessions/{session_id:uuid}")
    async def update_session(
        self, actor: Actor, session_id: FromPath[uuid.UUID], data: JSONBody[SessionPatch]
    ) -> SessionOut:
        return await sessions.update_session(actor, session_id, data)

    @post("/sessions/{session_id:uuid}/tables", summary="Add a working table (tavolo)")
    async def create_table(
        self, actor: Actor, session_id: FromPath[uuid.UUID], data: JSONBody[TableCreate]
    ) -> TableOut:
        return await sessions.create_table(actor, session_id, data)

    @patch("/tables/{table_id:uuid}")
    async def update_table(
        self, actor: Actor, table_id: FromPath[uuid.UUID], data: JSONBody[TablePatch]
    ) -> TableOut:
        return await sessions.update_table(actor, table_id, data)

    @get("/sessions/{session_id:uuid}/attendance", summary="Organisations present and people")
    async def list_attendance(
        self, actor: Actor, session_id: FromPath[uuid.UUID]
    ) -> list[AttendanceOut]:
        return await sessions.list_attendance(actor, session_id)

    @put(
        "/sessions/{session_id:uuid}/attendance",
        summary="Record (or correct) one organisation's presence",
    )
    async def record_attendance(
        self, actor: Actor, session_id: FromPath[uuid.UUID], data: JSONBody[AttendanceIn]
    ) -> AttendanceOut:
        return await sessions.record_attendance(actor, session_id, data)

    @delete("/attendance/{attendance_id:uuid}")
    async def delete_attendance(self, actor: Actor, attendance_id: FromPath[uuid.UUID]) -> None:
        await sessions.delete_attendance(actor, attendance_id)

    # --- the four guiding questions ---

    @get("/tables/{table_id:uuid}/contributions", summary="What a table recorded")
    async def list_table_contributions(
        self, actor: Actor, table_id: FromPath[uuid.UUID]
    ) -> list[ContributionOut]:
        return await contributions.list_table_contributions(actor, table_id)

    @post("/tables/{table_id:uuid}/contributions", summary="Answer one of the four questions")
    async def create_contribution(
        self, actor: Actor, table_id: FromPath[uuid.UUID], data: JSONBody[ContributionCreate]
    ) -> ContributionOut:
        return await contributions.create_contribution(actor, table_id, data)

    @patch("/contributions/{contribution_id:uuid}")
    async def update_contribution(
        self,
        actor: Actor,
        contribution_id: FromPath[uuid.UUID],
        data: JSONBody[ContributionPatch],
    ) -> ContributionOut:
        return await contributions.update_contribution(actor, contribution_id, data)

    @delete("/contributions/{contribution_id:uuid}")
    async def delete_contribution(self, actor: Actor, contribution_id: FromPath[uuid.UUID]) -> None:
        await contributions.delete_contribution(actor, contribution_id)

    @get(
        "/procedures/{procedure_id:uuid}/contributions",
        summary="Every answer of the procedure, by question, session or category",
    )
    async def list_contributions(
        self,
        actor: Actor,
        procedure_id: FromPath[uuid.UUID],
        question: FromQuery[GuidingQuestion | None] = None,
        session_id: FromQuery[uuid.UUID | None] = None,
        category_code: CodeQuery = None,
    ) -> list[ContributionOut]:
        return await contributions.list_contributions(
            actor,
            procedure_id,
            question=question,
            session_id=session_id,
            category_code=category_code,
        )

    @get("/procedures/{procedure_id:uuid}/proposals", summary="The concrete proposals")
    async def list_proposals(
        self,
        actor: Actor,
        procedure_id: FromPath[uuid.UUID],
        category_code: CodeQuery = None,
    ) -> list[ContributionOut]:
        return await contributions.list_contributions(
            actor, procedure_id, question=GuidingQuestion.PROPOSALS, category_code=category_code
        )

    # --- minutes ---

    @get("/sessions/{session_id:uuid}/minutes", summary="Versions of a session's minutes")
    async def list_minutes(
        self, actor: Actor, session_id: FromPath[uuid.UUID]
    ) -> list[DocumentOut]:
        return await minutes.list_minutes(actor, session_id)

    @post(
        "/sessions/{session_id:uuid}/minutes/draft",
        summary="Draft the minutes from what the tables recorded",
    )
    async def draft_minutes(self, actor: Actor, session_id: FromPath[uuid.UUID]) -> DocumentOut:
        return await minutes.draft_minutes(actor, session_id)

    @put(
        "/sessions/{session_id:uuid}/minutes",
        summary="Edit the draft (after approval, opens the next version)",
    )
    async def edit_minutes(
        self, actor: Actor, session_id: FromPath[uuid.UUID], data: JSONBody[DocumentEdit]
    ) -> DocumentOut:
        return await minutes.edit_minutes(actor, session_id, data.content)

    @get("/minutes/{minutes_id:uuid}")
    async def get_minutes(self, actor: Actor, minutes_id: FromPath[uuid.UUID]) -> DocumentOut:
        return await minutes.get_minutes(actor, minutes_id)

    @post(
        "/minutes/{minutes_id:uuid}/approve",
        summary="Approve and freeze this version",
        status_code=200,
    )
    async def approve_minutes(self, actor: Actor, minutes_id: FromPath[uuid.UUID]) -> DocumentOut:
        return await minutes.approve_minutes(actor, minutes_id)

    @get(
        "/minutes/{minutes_id:uuid}/document",
        summary="The minutes as a document (HTML, PDF or ODT)",
        operation_class=answers(*MEDIA_TYPES.values()),
    )
    async def minutes_document(
        self, actor: Actor, minutes_id: FromPath[uuid.UUID], format: ExportFormat = "html"
    ) -> Response[bytes]:
        title, content = await minutes.minutes_document(actor, minutes_id)
        return await _export(title, content, f"verbale-{minutes_id}", format)

    # --- the summary document ---

    @get("/procedures/{procedure_id:uuid}/summary", summary="Versions of the summary document")
    async def list_summary(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID]
    ) -> list[DocumentOut]:
        return await summary.list_summary(actor, procedure_id)

    @post(
        "/procedures/{procedure_id:uuid}/summary/draft",
        summary="Assemble the summary document from the approved minutes",
    )
    async def draft_summary(self, actor: Actor, procedure_id: FromPath[uuid.UUID]) -> DocumentOut:
        return await summary.draft_summary(actor, procedure_id)

    @put("/procedures/{procedure_id:uuid}/summary", summary="Edit the summary draft")
    async def edit_summary(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID], data: JSONBody[DocumentEdit]
    ) -> DocumentOut:
        return await summary.edit_summary(actor, procedure_id, data.content)

    @get("/summary/{summary_id:uuid}")
    async def get_summary(self, actor: Actor, summary_id: FromPath[uuid.UUID]) -> DocumentOut:
        return await summary.get_summary(actor, summary_id)

    @post(
        "/summary/{summary_id:uuid}/approve",
        summary="Approve and freeze this version",
        status_code=200,
    )
    async def approve_summary(self, actor: Actor, summary_id: FromPath[uuid.UUID]) -> DocumentOut:
        return await summary.approve_summary(actor, summary_id)

    @get(
        "/summary/{summary_id:uuid}/document",
        summary="The summary as a document (HTML, PDF or ODT)",
        operation_class=answers(*MEDIA_TYPES.values()),
    )
    async def summary_document(
        self, actor: Actor, summary_id: FromPath[uuid.UUID], format: ExportFormat = "html"
    ) -> Response[bytes]:
        title, content = await summary.summary_document(actor, summary_id)
        return await _export(title, content, f"sintesi-{summary_id}", format)

    # --- Piano objectives ---

    @get("/procedures/{procedure_id:uuid}/objectives", summary="Objectives of the Piano")
    async def list_objectives(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID]
    ) -> list[ObjectiveOut]:
        return await objectives.list_objectives(actor, procedure_id)

    @post(
        "/procedures/{procedure_id:uuid}/objectives",
        summary="Record an objective, linked to its proposals and sessions",
    )
    async def create_objective(
        self, actor: Actor, procedure_id: FromPath[uuid.UUID], data: JSONBody[ObjectiveCreate]
    ) -> ObjectiveOut:
        return await objectives.create_objective(actor, procedure_id, data)

    @patch("/objectives/{objective_id:uuid}")
    async def update_objective(
        self, actor: Actor, objective_id: FromPath[uuid.UUID], data: JSONBody[ObjectivePatch]
    ) -> ObjectiveOut:
        return await objectives.update_objective(actor, objective_id, data)

    @delete("/objectives/{objective_id:uuid}")
    async def delete_objective(self, actor: Actor, objective_id: FromPath[uuid.UUID]) -> None:
        await objectives.delete_objective(actor, objective_id)


class PublicCoprogrammingController(Controller):
    """No login: the transparency page of each procedure, without personal data."""

    path = "/api/public/coprogramming"
    tags = ["co-programming (public)"]
    opt = {"public": True}
    security = []

    @get("/ambiti/{ambito_code:str}/procedures", summary="Published procedures of an ambito")
    async def list_public(self, ambito_code: PathText) -> list[PublicProcedureItem]:
        return await public.list_public(ambito_code)

    @get("/procedures/{procedure_id:uuid}", summary="A procedure's public page")
    async def public_procedure(self, procedure_id: FromPath[uuid.UUID]) -> PublicProcedure:
        return await public.public_procedure(procedure_id)

    @get(
        "/minutes/{minutes_id:uuid}/document",
        summary="Approved minutes as a document (HTML, PDF or ODT)",
        operation_class=answers(*MEDIA_TYPES.values()),
    )
    async def public_minutes_document(
        self, minutes_id: FromPath[uuid.UUID], format: ExportFormat = "html"
    ) -> Response[bytes]:
        title, content = await public.public_minutes_document(minutes_id)
        return await _export(title, content, f"verbale-{minutes_id}", format)

    @get(
        "/summary/{summary_id:uuid}/document",
        summary="The approved summary document (HTML, PDF or ODT)",
        operation_class=answers(*MEDIA_TYPES.values()),
    )
    async def public_summary_document(
        self, summary_id: FromPath[uuid.UUID], format: ExportFormat = "html"
    ) -> Response[bytes]:
        title, content = await public.public_summary_document(summary_id)
        return await _export(title, content, f"sintesi-{summary_id}", format)
