"""Personal data's life (issue 19): requests of data subjects, the own-data download,
retention, the register of processing and the access log for the DPO."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry.api.openapi import answers
from registry.api.params import Actor, AppSettings, Limit, Offset, text_path
from registry.audit.schemas import AuditAction
from registry.common import Page
from registry.offload import in_worker_process
from registry.privacy import records, retention_settings, subject_requests
from registry.privacy.schemas import (
    DeclineIn,
    EventOut,
    RegisterOut,
    RequestIn,
    RequestKind,
    RequestOut,
    RetentionIn,
    RetentionOut,
)
from registry.text import END

ExportFormat = Annotated[
    str,
    QueryParameter(
        pattern="^(json|text)" + END,
        description="json: everything, machine-readable (art. 20); text: the Italian summary",
    ),
]
From = Annotated[date | None, QueryParameter(name="from", description="first day (inclusive)")]
To = Annotated[date | None, QueryParameter(name="to", description="last day (inclusive)")]
KindPath = Annotated[str, text_path(32)]


def _download(content: bytes, filename: str, media_type: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


async def _export_response(data: dict[str, Any], format: str, name: str) -> Response[bytes]:
    if format == "text":
        text = await subject_requests.summary_of(data)
        return _download(text.encode(), f"{name}.txt", "text/plain")
    return _download(msgspec.json.encode(data), f"{name}.json", "application/json")


class PrivacyController(Controller):
    path = "/api/privacy"
    tags = ["privacy"]

    @get(
        "/me/export",
        summary="Everything the registry holds about me (JSON, or the Italian summary)",
        operation_class=answers("application/json", "text/plain"),
    )
    async def my_export(self, actor: Actor, format: ExportFormat = "json") -> Response[bytes]:
        data = await subject_requests.my_export(actor)
        return await _export_response(data, format, "miei-dati")

    @get("/requests", summary="Data subjects' requests of the ambito and their outcome (UdP)")
    async def list_requests(
        self,
        actor: Actor,
        kind: FromQuery[RequestKind | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[RequestOut]:
        return await subject_requests.list_requests(actor, kind=kind, limit=limit, offset=offset)

    @post("/requests", summary="Record a request (access, erasure, consent withdrawal) and do it")
    async def create_request(self, actor: Actor, data: JSONBody[RequestIn]) -> RequestOut:
        return await subject_requests.create_request(actor, data)

    @post("/me/erasure", summary="A volunteer asks to be erased (waits for the UdP)")
    async def ask_erasure(self, actor: Actor) -> RequestOut:
        return await subject_requests.ask_erasure(actor)

    @get("/me/requests", summary="The requests about me and where they stand")
    async def my_requests(self, actor: Actor) -> list[RequestOut]:
        return await subject_requests.my_requests(actor)

    @post(
        "/requests/{request_id:uuid}/execute",
        status_code=200,
        summary="Carry out a request the subject made in the app (UdP)",
    )
    async def execute_request(self, actor: Actor, request_id: FromPath[uuid.UUID]) -> RequestOut:
        return await subject_requests.execute_request(actor, request_id)

    @post(
        "/requests/{request_id:uuid}/decline",
        status_code=200,
        summary="Decline a request the subject made in the app, with the reason (UdP)",
    )
    async def decline_request(
        self, actor: Actor, request_id: FromPath[uuid.UUID], data: JSONBody[DeclineIn]
    ) -> RequestOut:
        return await subject_requests.decline_request(actor, request_id, data)

    @get(
        "/requests/{request_id:uuid}/export",
        summary="The subject's data for an access request (JSON, or the Italian summary)",
        operation_class=answers("application/json", "text/plain"),
    )
    async def request_export(
        self, actor: Actor, request_id: FromPath[uuid.UUID], format: ExportFormat = "json"
    ) -> Response[bytes]:
        data = await subject_requests.request_export(actor, request_id)
        return await _export_response(data, format, f"dati-richiesta-{str(request_id)[:8]}")

    @get("/retention", summary="How long each kind of record is kept here (defaults marked)")
    async def retention(self, actor: Actor) -> list[RetentionOut]:
        return await retention_settings.retention_settings(actor)

    @put("/retention/{kind:str}", summary="Set this ambito's retention of one kind of record")
    async def set_retention(
        self, actor: Actor, kind: KindPath, data: JSONBody[RetentionIn]
    ) -> list[RetentionOut]:
        return await retention_settings.set_retention(actor, kind, data.days)

    @post("/retention/run", status_code=200, summary="Apply the retention now (UdP)")
    async def run_retention(self, actor: Actor) -> dict[str, Any]:
        return await retention_settings.run_retention(actor)

    @get("/events", summary="The execution log: erasures, exports, retention runs (counts)")
    async def events(self, actor: Actor, limit: Limit = 50, offset: Offset = 0) -> Page[EventOut]:
        return await records.list_events(actor, limit=limit, offset=offset)

    @get("/register", summary="The register of processing activities (art. 30), in Italian")
    async def register(self, actor: Actor, settings: AppSettings) -> RegisterOut:
        return await records.processing_register(actor, settings)

    @get(
        "/register.csv",
        summary="The register of processing activities as CSV",
        operation_class=answers("text/csv"),
    )
    async def register_csv(self, actor: Actor, settings: AppSettings) -> Response[bytes]:
        register = await records.processing_register(actor, settings)
        name = f"registro-trattamenti-{register.ambito_code.lower()}.csv"
        return _download(records.register_csv(register), name, "text/csv")

    @get(
        "/access-log.csv",
        summary="The access log of plans, filtered, as CSV (for the DPO)",
        operation_class=answers("text/csv"),
    )
    async def access_log(
        self,
        actor: Actor,
        settings: AppSettings,
        start: From = None,
        end: To = None,
        user_id: FromQuery[uuid.UUID | None] = None,
        plan_id: FromQuery[uuid.UUID | None] = None,
        action: FromQuery[AuditAction | None] = None,
    ) -> Response[bytes]:
        rows = await records.access_log_rows(
            actor,
            ZoneInfo(settings.timezone),
            start=start,
            end=end,
            user_id=user_id,
            plan_id=plan_id,
            action=action,
        )
        content = await in_worker_process(records.access_log_csv, rows)
        return _download(content, "registro-accessi.csv", "text/csv")
