"""The platform administrator's API: ambiti and their first UdP account.

Only a platform_admin passes the `admin` dependency (everyone else gets 403); a
platform_admin in turn gets 403 from every ambito-scoped endpoint (the `actor` dependency).
No endpoint here reads or writes an ambito's records: only the ambito, its comuni and state.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from registry.access import PlatformPrincipal, PlatformRole
from registry.ambiti import platform
from registry.ambiti import service as ambiti
from registry.ambiti.schemas import (
    AccountOut,
    AmbitoCreate,
    AmbitoDetail,
    AmbitoMerge,
    AmbitoSplit,
    AmbitoStatePatch,
    AmbitoSummary,
    ComuniMove,
    FirstUdpCreate,
    MoveOut,
    PlatformTokenResponse,
)
from registry.api.auth import AUDIENCE, client_address
from registry.api.params import AppSettings, PathText
from registry.errors import InvalidInput, PermissionDenied
from registry.security import issue
from registry.users.schemas import TokenRequest


def provide_platform_admin(request: Request[Any, Any, Any]) -> PlatformPrincipal:
    if not isinstance(request.user, PlatformPrincipal):
        raise PermissionDenied("this endpoint is for platform administrators")
    return request.user


Admin = NamedDependency[PlatformPrincipal]


class PlatformController(Controller):
    path = "/api/platform"
    tags = ["platform"]
    dependencies = {"admin": Provide(provide_platform_admin, sync_to_thread=False)}

    @post(
        "/token",
        opt={"public": True},
        status_code=200,
        summary="Log in as a platform administrator: get a bearer token",
    )
    async def token(
        self, request: Request, data: JSONBody[TokenRequest], settings: AppSettings
    ) -> PlatformTokenResponse:
        principal = await platform.authenticate_platform_admin(
            data.username, data.password, client_address(request)
        )
        ttl = timedelta(minutes=settings.token_ttl_minutes)
        token = issue(
            settings.secret_key,
            AUDIENCE,
            str(principal.user_id),
            # The role claim tells the middleware to look the subject up among platform admins.
            {"role": PlatformRole.PLATFORM_ADMIN.value},
            ttl=ttl,
        )
        return PlatformTokenResponse(
            access_token=token,
            token_type="bearer",
            expires_in=int(ttl.total_seconds()),
            role=PlatformRole.PLATFORM_ADMIN.value,
        )

    @get("/ambiti", summary="Every ambito, its number of comuni and its state")
    async def list_ambiti(self, admin: Admin) -> list[AmbitoSummary]:
        return await ambiti.list_all_ambiti()

    @post("/ambiti", summary="Create an ambito with its comuni (ISTAT codes and/or a province)")
    async def create_ambito(self, admin: Admin, data: JSONBody[AmbitoCreate]) -> AmbitoDetail:
        return await ambiti.open_ambito(data)

    @get("/ambiti/{code:str}", summary="An ambito, its comuni, their history, its user counts")
    async def get_ambito(self, admin: Admin, code: PathText) -> AmbitoDetail:
        return await ambiti.ambito_detail(code)

    @patch("/ambiti/{code:str}", summary="Rename, deactivate or reactivate an ambito")
    async def update_ambito(
        self, admin: Admin, code: PathText, data: JSONBody[AmbitoStatePatch]
    ) -> AmbitoSummary:
        if data.active is msgspec.UNSET and data.name is msgspec.UNSET:
            raise InvalidInput("nothing to change: send 'active' and/or 'name'")
        return await ambiti.set_ambito_state(
            code,
            active=None if data.active is msgspec.UNSET else data.active,
            name=None if data.name is msgspec.UNSET else data.name,
        )

    @post("/ambiti/{code:str}/udp-admin", summary="The ambito's first udp_admin")
    async def create_first_udp(
        self, admin: Admin, code: PathText, data: JSONBody[FirstUdpCreate]
    ) -> AccountOut:
        return await ambiti.create_first_udp(code, data.username, data.password)

    @post("/comuni/move", status_code=200, summary="Move comuni to an ambito (history kept)")
    async def move_comuni(self, admin: Admin, data: JSONBody[ComuniMove]) -> MoveOut:
        return await ambiti.move_comuni(data.comuni, data.to, data.on)

    @post(
        "/ambiti/{code:str}/merge",
        status_code=200,
        summary="Move every comune of this ambito into another and deactivate it",
    )
    async def merge(self, admin: Admin, code: PathText, data: JSONBody[AmbitoMerge]) -> MoveOut:
        return await ambiti.merge_ambiti(code, data.into, data.on)

    @post("/ambiti/{code:str}/split", summary="A new ambito from some comuni of this one")
    async def split(self, admin: Admin, code: PathText, data: JSONBody[AmbitoSplit]) -> MoveOut:
        return await ambiti.split_ambito(
            code, data.code, data.name, data.comuni, region=data.region, on=data.on
        )
