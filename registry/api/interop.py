"""Exchange formats: HSDS export/import and the public HSDS directory, iCalendar feeds,
GeoJSON for maps, spreadsheet imports and exports. Thin: the rules live in
registry/interop/."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.datastructures import CacheControlHeader, UploadFile
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry.api.openapi import answers
from registry.api.params import (
    Actor,
    AppSettings,
    CodeQuery,
    IstatQuery,
    PageNumber,
    PathText,
    PathToken,
    TextQuery,
)
from registry.errors import InvalidInput
from registry.interop import geojson, ical, spreadsheet_exports, spreadsheets
from registry.interop import service as hsds_service
from registry.interop.hsds_import import import_hsds
from registry.interop.schemas import HsdsImportReport
from registry.tabular.validating import ImportReport, import_status
from registry.tabular.writing import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from registry.text import END
from registry.vocabularies import HolderKind, ResourceStatus, Sector, UserArea

# Uploads may be larger than an ordinary JSON body (REGISTRY_MAX_BODY_BYTES).
UPLOAD_MAX_BYTES = 50_000_000
GEOJSON = "application/geo+json"
ICALENDAR = "text/calendar"  # Litestar adds "; charset=utf-8" to text/* answers
PerPage = Annotated[int, QueryParameter(ge=1, le=200, description="records per page")]


async def uploaded(request: Request[Any, Any, Any]) -> tuple[bytes, str]:
    """The uploaded file: a multipart form's `file` field, or the raw request body."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("send the file in a form field named 'file'", field="file")
        data = await upload.read()
        return data, upload.filename or "upload"
    data = await request.body()
    name = request.query_params.get("filename") or "upload"
    return data, name


@dataclass
class _JsonOrZip(Operation):
    """The HSDS export answers an object (format=json) or a zip (format=datapackage): the
    success response declares both media types."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content["application/zip"] = OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
            )


def _download(content: bytes, filename: str, media_type: str) -> Response[Any]:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class InteropController(Controller):
    path = "/api/interop"
    tags = ["interop"]

    @get(
        "/hsds/export",
        summary="The ambito as HSDS 3.1 (JSON, or the CSV data package)",
        operation_class=_JsonOrZip,
    )
    async def export_hsds(
        self,
        actor: Actor,
        format: Annotated[
            str,
            QueryParameter(pattern="^(json|datapackage)" + END, description="json or datapackage"),
        ] = "json",
    ) -> Response[dict[str, Any]]:
        if format == "datapackage":
            filename, content = await hsds_service.export_datapackage(actor)
            return _download(content, filename, "application/zip")
        document = await hsds_service.export_document(actor)
        code = (document["ambito"]["code"] or "ambito").lower()
        return _download(msgspec.json.encode(document), f"hsds-{code}.json", MediaType.JSON)

    @post(
        "/hsds/import",
        status_code=200,
        request_max_body_size=UPLOAD_MAX_BYTES,
        summary="Import HSDS JSON or a zipped CSV data package (dry_run reports only)",
        responses={
            422: ResponseSpec(
                HsdsImportReport, description="strict: records rejected, nothing written"
            )
        },
    )
    async def import_hsds(
        self,
        actor: Actor,
        request: Request[Any, Any, Any],
        dry_run: FromQuery[bool] = False,
        strict: FromQuery[bool] = False,
    ) -> Response[HsdsImportReport]:
        data, filename = await uploaded(request)
        report = await import_hsds(actor, data, filename, dry_run=dry_run, strict=strict)
        # Not strict: what is good is applied, the rest reported (200); strict: all or nothing.
        return Response(report, status_code=import_status(report.rejected, all_or_nothing=strict))

    @get(
        "/geojson/resources",
        summary="Resources by comune (GeoJSON) for the ambito's map",
        operation_class=answers(GEOJSON),
    )
    async def geojson_resources(self, actor: Actor) -> Response[bytes]:
        collection = await geojson.for_actor(actor)
        return Response(msgspec.json.encode(collection), media_type=GEOJSON)

    @get("/feeds", summary="Calendar feeds the caller can manage (never their secret URL)")
    async def list_feeds(self, actor: Actor) -> list[ical.FeedOut]:
        return await ical.list_feeds(actor)

    @post("/feeds", summary="Create a secret calendar-feed URL (shown only in this answer)")
    async def create_feed(
        self, actor: Actor, data: JSONBody[ical.FeedCreate], settings: AppSettings
    ) -> ical.FeedCreated:
        return await ical.create_feed(actor, data, settings)

    @delete("/feeds/{feed_id:uuid}", summary="Revoke a feed: its URL stops working")
    async def revoke_feed(self, actor: Actor, feed_id: FromPath[uuid.UUID]) -> None:
        await ical.revoke_feed(actor, feed_id)

    @post(
        "/holders/import",
        status_code=200,
        request_max_body_size=UPLOAD_MAX_BYTES,
        summary="Bulk import of holders from CSV/XLSX (all or nothing; dry_run reports only)",
        responses={422: ResponseSpec(ImportReport, description="rows rejected: nothing written")},
    )
    async def import_holders(
        self, actor: Actor, request: Request[Any, Any, Any], dry_run: FromQuery[bool] = False
    ) -> Response[ImportReport]:
        data, filename = await uploaded(request)
        report = await spreadsheets.import_holders(actor, data, filename, dry_run=dry_run)
        return Response(report, status_code=import_status(report.rejected))

    @post(
        "/resources/import",
        status_code=200,
        request_max_body_size=UPLOAD_MAX_BYTES,
        summary="Bulk import of resources from CSV/XLSX (all or nothing; dry_run reports only)",
        responses={422: ResponseSpec(ImportReport, description="rows rejected: nothing written")},
    )
    async def import_resources(
        self, actor: Actor, request: Request[Any, Any, Any], dry_run: FromQuery[bool] = False
    ) -> Response[ImportReport]:
        data, filename = await uploaded(request)
        report = await spreadsheets.import_resources(actor, data, filename, dry_run=dry_run)
        return Response(report, status_code=import_status(report.rejected))

    @get(
        "/export/{name:str}",
        summary="A list as CSV or XLSX: holders, resources, availability, comuni, taxonomy, users",
        operation_class=answers(CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE),
    )
    async def export_list(
        self,
        actor: Actor,
        name: PathText,
        format: Annotated[str, QueryParameter(pattern="^(csv|xlsx)" + END)] = "csv",
        kind: FromQuery[HolderKind | None] = None,
        sector: FromQuery[Sector | None] = None,
        comune: IstatQuery = None,
        q: TextQuery = None,
        category: CodeQuery = None,
        target_group: FromQuery[UserArea | None] = None,
        holder_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[ResourceStatus | None] = None,
        include_archived: FromQuery[bool] = False,
    ) -> Response[bytes]:
        filters: dict[str, Any] = {}
        if name == "holders":
            filters = {
                "kind": kind,
                "sector": sector,
                "comune": comune,
                "q": q,
                "include_archived": include_archived,
            }
        elif name in ("resources", "availability"):
            filters = {
                "category": category,
                "comune": comune,
                "target_group": target_group,
                "holder_id": holder_id,
                "q": q,
                "status": status,
            }
        filename, media_type, content = await spreadsheet_exports.export_list(
            actor, name, format, filters
        )
        return _download(content, filename, media_type)


class PublicDirectoryController(Controller):
    """The HSDS-compatible read-only directory: no login, one ambito per URL, only what
    holders chose to publish and never personal data."""

    path = "/api/hsds/{ambito_code:str}"
    tags = ["public directory (HSDS)"]
    opt = {"public": True}
    cache_control = CacheControlHeader(max_age=60, public=True)
    security = []

    @get("/", summary="About this HSDS API")
    async def root(self, ambito_code: PathText, settings: AppSettings) -> dict[str, str]:
        await hsds_service.public_ambito(ambito_code)
        return hsds_service.api_root(settings.public_base_url, ambito_code)

    @get("/services", summary="Services (resources) of the public directory")
    async def services(
        self,
        ambito_code: PathText,
        page: PageNumber = 1,
        per_page: PerPage = 50,
        search: TextQuery = None,
        taxonomy_term_id: CodeQuery = None,
        organization_id: CodeQuery = None,
        modified_after: FromQuery[datetime | None] = None,
        full: FromQuery[bool] = False,
    ) -> dict[str, Any]:
        return await hsds_service.public_services(
            ambito_code,
            number=page,
            per_page=per_page,
            search=search,
            taxonomy_term_id=taxonomy_term_id,
            organization_id=organization_id,
            modified_after=modified_after,
            full=full,
        )

    @get("/services/{service_id:str}")
    async def service(self, ambito_code: PathText, service_id: PathText) -> dict[str, Any]:
        return await hsds_service.public_service(ambito_code, service_id)

    @get("/organizations", summary="Organizations (holders) of the public directory")
    async def organizations(
        self,
        ambito_code: PathText,
        page: PageNumber = 1,
        per_page: PerPage = 50,
        search: TextQuery = None,
        full: FromQuery[bool] = False,
        full_service: FromQuery[bool] = False,
    ) -> dict[str, Any]:
        return await hsds_service.public_organizations(
            ambito_code, number=page, per_page=per_page, search=search, full=full or full_service
        )

    @get("/organizations/{organization_id:str}")
    async def organization(
        self, ambito_code: PathText, organization_id: PathText
    ) -> dict[str, Any]:
        return await hsds_service.public_organization(ambito_code, organization_id)

    @get("/locations")
    async def locations(
        self, ambito_code: PathText, page: PageNumber = 1, per_page: PerPage = 50
    ) -> dict[str, Any]:
        return await hsds_service.public_locations(ambito_code, number=page, per_page=per_page)

    @get("/locations/{location_id:str}")
    async def location(self, ambito_code: PathText, location_id: PathText) -> dict[str, Any]:
        return await hsds_service.public_location(ambito_code, location_id)

    @get("/service_at_locations")
    async def service_at_locations(
        self, ambito_code: PathText, page: PageNumber = 1, per_page: PerPage = 50
    ) -> dict[str, Any]:
        return await hsds_service.public_service_at_locations(
            ambito_code, number=page, per_page=per_page
        )

    @get("/service_at_locations/{entry_id:str}")
    async def service_at_location(
        self, ambito_code: PathText, entry_id: PathText
    ) -> dict[str, Any]:
        return await hsds_service.public_service_at_location(ambito_code, entry_id)

    @get("/taxonomies")
    async def taxonomies(self, ambito_code: PathText) -> dict[str, Any]:
        return await hsds_service.public_taxonomies(ambito_code)

    @get("/taxonomies/{taxonomy_id:str}")
    async def taxonomy(self, ambito_code: PathText, taxonomy_id: PathText) -> dict[str, Any]:
        return await hsds_service.public_taxonomy(ambito_code, taxonomy_id)

    @get("/taxonomy_terms")
    async def taxonomy_terms(
        self,
        ambito_code: PathText,
        page: PageNumber = 1,
        per_page: PerPage = 50,
        taxonomy_id: CodeQuery = None,
        parent_id: CodeQuery = None,
        top_only: FromQuery[bool] = False,
    ) -> dict[str, Any]:
        return await hsds_service.public_taxonomy_terms(
            ambito_code,
            number=page,
            per_page=per_page,
            taxonomy_id=taxonomy_id,
            parent_id=parent_id,
            top_only=top_only,
        )

    @get("/taxonomy_terms/{term_id:str}")
    async def taxonomy_term(self, ambito_code: PathText, term_id: PathText) -> dict[str, Any]:
        return await hsds_service.public_taxonomy_term(ambito_code, term_id)


class PublicFeedsController(Controller):
    """What needs no login besides the directory: calendar feeds (the URL is the secret)
    and the public map."""

    path = "/api"
    tags = ["public feeds"]
    opt = {"public": True}
    security = []

    @get(
        "/ical/{token:str}",
        summary="A calendar feed (RFC 5545) at its secret URL",
        operation_class=answers(ICALENDAR),
    )
    async def calendar(self, token: PathToken, settings: AppSettings) -> Response[bytes]:
        content = await ical.render_feed(token, settings)
        return Response(
            content,
            media_type=ICALENDAR,
            headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
        )

    @get(
        "/geo/{ambito_code:str}/resources.geojson",
        summary="The public map: resources by comune",
        operation_class=answers(GEOJSON),
    )
    async def public_geojson(self, ambito_code: PathText) -> Response[bytes]:
        collection = await geojson.for_public(ambito_code)
        return Response(
            msgspec.json.encode(collection),
            media_type=GEOJSON,
            headers={"Cache-Control": "public, max-age=300"},
        )
