from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, MediaType, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry.api.params import Actor, AppSettings, Limit, Offset, text_query
from registry.checkin import codes, presences, qr, tokens
from registry.checkin.schemas import (
    CheckInOut,
    CheckInRequest,
    CheckOutRequest,
    CodeOut,
    CodeRequest,
    StatusOut,
)
from registry.common import Page

TokenQuery = Annotated[str, text_query(4000, name="t", min_length=1, description="check-in token")]
_IMAGE_HEADERS = {"Cache-Control": "private, max-age=3600"}


class CheckInController(Controller):
    path = "/api/checkin"
    tags = ["check-in"]

    @post(
        "/codes",
        summary="A signed QR code for an activity or a match (holder manager, social worker, UdP)",
    )
    async def issue_code(
        self, actor: Actor, settings: AppSettings, data: JSONBody[CodeRequest]
    ) -> CodeOut:
        return await codes.issue_code(actor, settings, data)

    @get(
        "/codes",
        summary="The issued QR codes the caller could have issued (holder manager, social "
        "worker, UdP), with their links to reprint them",
    )
    async def list_codes(
        self,
        actor: Actor,
        settings: AppSettings,
        activity_id: FromQuery[uuid.UUID | None] = None,
        match_id: FromQuery[uuid.UUID | None] = None,
        valid: Annotated[
            bool | None,
            QueryParameter(
                description="true: not expired nor revoked (also the ones not valid yet); "
                "false: expired or revoked"
            ),
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[CodeOut]:
        return await codes.list_codes(
            actor,
            settings,
            activity_id=activity_id,
            match_id=match_id,
            valid=valid,
            limit=limit,
            offset=offset,
        )

    @get("/codes/{code_id:uuid}", summary="One issued QR code")
    async def get_code(
        self, actor: Actor, settings: AppSettings, code_id: FromPath[uuid.UUID]
    ) -> CodeOut:
        return await codes.get_code(actor, settings, code_id)

    @post(
        "/codes/{code_id:uuid}/revoke",
        status_code=200,
        summary="Revoke a QR code: check-ins with it are refused from now on",
    )
    async def revoke_code(
        self, actor: Actor, settings: AppSettings, code_id: FromPath[uuid.UUID]
    ) -> CodeOut:
        return await codes.revoke_code(actor, settings, code_id)

    @get(
        "/qr.png",
        opt={"public": True},
        summary="The QR image (PNG) of a check-in token",
        media_type="image/png",
    )
    async def png(
        self,
        settings: AppSettings,
        t: TokenQuery,
        scale: Annotated[int, QueryParameter(ge=2, le=40, description="pixels per module")] = 10,
    ) -> Response[bytes]:
        await codes.printable(settings, t)
        content = await qr.render_png(tokens.urls(settings, t)["url"], box_size=scale)
        return Response(content, media_type="image/png", headers=_IMAGE_HEADERS)

    @get(
        "/qr.svg",
        opt={"public": True},
        summary="The QR image (SVG) of a check-in token",
        media_type="image/svg+xml",
    )
    async def svg(self, settings: AppSettings, t: TokenQuery) -> Response[str]:
        await codes.printable(settings, t)
        content = await qr.render_svg(tokens.urls(settings, t)["url"])
        return Response(content, media_type="image/svg+xml", headers=_IMAGE_HEADERS)

    @get(
        "/sheet",
        opt={"public": True},
        summary="A printable A4 sheet (or badge) with the QR code and instructions",
        media_type=MediaType.HTML,
    )
    async def sheet(
        self,
        settings: AppSettings,
        t: TokenQuery,
        layout: FromQuery[Literal["a4", "badge"]] = "a4",
    ) -> Response[str]:
        _, info = await codes.printable(settings, t)
        page = await qr.render_sheet(
            url=tokens.urls(settings, t)["url"],
            title=info.title,
            holder=info.holder_name,
            valid_from=info.valid_from,
            valid_until=info.valid_until,
            layout=layout,
        )
        return Response(page, media_type=MediaType.HTML)

    @get("/status", summary="What a code is for, and the caller's presence with it today")
    async def status(self, actor: Actor, settings: AppSettings, t: TokenQuery) -> StatusOut:
        return await presences.status(actor, settings, t)

    @get("/open", summary="The caller's presences not checked out yet")
    async def open_presences(self, actor: Actor) -> list[CheckInOut]:
        return await presences.open_presences(actor)

    @post("/in", summary="Check in with a QR token (201; 200 if already checked in today)")
    async def check_in(
        self, actor: Actor, settings: AppSettings, data: JSONBody[CheckInRequest]
    ) -> Response[CheckInOut]:
        presence, created = await presences.check_in(actor, settings, data.token)
        return Response(presence, status_code=201 if created else 200)

    @post(
        "/out",
        status_code=200,
        summary="Check out: closes the presence once and records a qr_verified entry",
    )
    async def check_out(
        self, actor: Actor, settings: AppSettings, data: JSONBody[CheckOutRequest]
    ) -> CheckInOut:
        return await presences.check_out(actor, settings, data)
