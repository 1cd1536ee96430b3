from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody

from registry.api.openapi import answers
from registry.api.params import Actor, IstatQuery, Limit, Offset, TextQuery, text_query
from registry.common import Page
from registry.interventions import service
from registry.interventions.schemas import (
    InterventionCreate,
    InterventionOut,
    InterventionPatch,
)
from registry.tabular.validating import ImportReport
from registry.tabular.writing import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from registry.vocabularies import FnpsLevel, FundSource, UserArea

Format = Annotated[Literal["csv", "xlsx"], QueryParameter(description="csv or xlsx")]
Year = Annotated[int | None, QueryParameter(ge=1990, le=2100, description="running that year")]


def _file(content: bytes, fmt: str, stem: str) -> Response[bytes]:
    return Response(
        content,
        media_type=CSV_MEDIA_TYPE if fmt == "csv" else XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


class InterventionController(Controller):
    path = "/api/interventions"
    tags = ["interventions"]

    @get("/", summary="Funded interventions of the ambito (UdP, social workers)")
    async def list_interventions(
        self,
        actor: Actor,
        fund_source: FromQuery[FundSource | None] = None,
        user_area: FromQuery[UserArea | None] = None,
        fnps_level: FromQuery[FnpsLevel | None] = None,
        comune: IstatQuery = None,
        year: Year = None,
        q: TextQuery = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[InterventionOut]:
        return await service.list_interventions(
            actor,
            fund_source=fund_source,
            user_area=user_area,
            fnps_level=fnps_level,
            comune=comune,
            year=year,
            q=q,
            limit=limit,
            offset=offset,
        )

    @post("/", summary="Add a funded intervention (UdP)")
    async def create_intervention(
        self, actor: Actor, data: JSONBody[InterventionCreate]
    ) -> InterventionOut:
        return await service.create_intervention(actor, data)

    @post(
        "/import",
        status_code=200,
        summary="Import a CSV or XLSX file (UdP): all rows or none",
        description="The request body is the file itself (Content-Type text/csv or the XLSX "
        "media type; the format is recognised from the content). Every bad row is reported "
        "with its line number and reason, and then nothing is imported (422). A row whose "
        "`code` matches an existing intervention updates it. `dry_run=true` only checks.",
    )
    async def import_file(
        self,
        actor: Actor,
        body: RawBody,
        dry_run: FromQuery[bool] = False,
        filename: Annotated[str | None, text_query(200)] = None,
    ) -> Response[ImportReport]:
        report = await service.import_file(actor, bytes(body), filename=filename, dry_run=dry_run)
        return Response(report, status_code=422 if report.errors else 200)

    @get(
        "/export",
        summary="The interventions as CSV or XLSX, in the import's format",
        operation_class=answers(CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE),
    )
    async def export(
        self,
        actor: Actor,
        format: Format = "xlsx",
        fund_source: FromQuery[FundSource | None] = None,
        user_area: FromQuery[UserArea | None] = None,
        fnps_level: FromQuery[FnpsLevel | None] = None,
        comune: IstatQuery = None,
        year: Year = None,
    ) -> Response[bytes]:
        filters: dict[str, Any] = {
            "fund_source": fund_source,
            "user_area": user_area,
            "fnps_level": fnps_level,
            "comune": comune,
            "year": year,
        }
        return _file(await service.export(actor, format, **filters), format, "interventi")

    @get(
        "/template",
        summary="An empty spreadsheet to fill in, with the allowed values",
        operation_class=answers(CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE),
    )
    async def template(
        self,
        actor: Actor,
        format: Format = "xlsx",
    ) -> Response[bytes]:
        actor.require(*service.READERS)
        return _file(service.template(format), format, "interventi-modello")

    @get("/{intervention_id:uuid}")
    async def get_intervention(
        self, actor: Actor, intervention_id: FromPath[uuid.UUID]
    ) -> InterventionOut:
        return await service.get_intervention(actor, intervention_id)

    @patch("/{intervention_id:uuid}")
    async def update_intervention(
        self,
        actor: Actor,
        intervention_id: FromPath[uuid.UUID],
        data: JSONBody[InterventionPatch],
    ) -> InterventionOut:
        return await service.update_intervention(actor, intervention_id, data)

    @delete("/{intervention_id:uuid}")
    async def delete_intervention(self, actor: Actor, intervention_id: FromPath[uuid.UUID]) -> None:
        await service.delete_intervention(actor, intervention_id)
