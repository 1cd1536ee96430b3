"""The regional observer's API (issue 13), its accounts for platform admins, and the gap map
of an ambito's own dashboard.

- /api/region/...: only a regional_observer passes (the route-wide check in access.py answers
  403 to everyone else, and 403 to an observer anywhere but here); read-only, and only the
  ambiti of the observer's region.
- /api/platform/regional-observers: platform admins create and deactivate observers.
- /api/gap-map: the ambito's UdP and social workers.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter

from registry.access import OBSERVER_ROLE, ObserverPrincipal
from registry.api.auth import AUDIENCE, client_address
from registry.api.params import Actor, AppSettings, PathText
from registry.api.platform import Admin, provide_platform_admin
from registry.errors import PermissionDenied
from registry.metrics import service as metrics
from registry.region import accounts, service
from registry.region.regions import region_name
from registry.region.schemas import (
    AmbitoFigures,
    GapMapOut,
    ObserverCreate,
    ObserverOut,
    ObserverPatch,
    ObserverTokenResponse,
    RegionOverview,
)
from registry.security import issue
from registry.users.schemas import TokenRequest

From = Annotated[date | None, QueryParameter(name="from", description="first day (inclusive)")]
To = Annotated[date | None, QueryParameter(name="to", description="last day (inclusive)")]


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ObserverMe(msgspec.Struct, kw_only=True):
    username: str
    role: str
    region: str
    region_name: str


def provide_observer(request: Request[Any, Any, Any]) -> ObserverPrincipal:
    if not isinstance(request.user, ObserverPrincipal):
        raise PermissionDenied("this endpoint is for regional observers")
    return request.user


Observer = NamedDependency[ObserverPrincipal]

_MEDIA = {
    ExportFormat.CSV: "text/csv",  # Litestar adds "; charset=utf-8" to text/* answers
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class RegionController(Controller):
    path = "/api/region"
    tags = ["region"]
    dependencies = {"observer": Provide(provide_observer, sync_to_thread=False)}

    @post(
        "/token",
        opt={"public": True},
        status_code=200,
        summary="Log in as a regional observer: get a bearer token",
    )
    async def token(
        self, request: Request, data: JSONBody[TokenRequest], settings: AppSettings
    ) -> ObserverTokenResponse:
        principal = await accounts.authenticate_observer(
            data.username, data.password, client_address(request)
        )
        ttl = timedelta(minutes=settings.token_ttl_minutes)
        # The role claim tells the middleware to look the subject up among the observers;
        # the region is read from the account at every request, never from the token.
        token = issue(
            settings.secret_key, AUDIENCE, str(principal.user_id), {"role": OBSERVER_ROLE}, ttl=ttl
        )
        return ObserverTokenResponse(
            access_token=token,
            token_type="bearer",
            expires_in=int(ttl.total_seconds()),
            role=OBSERVER_ROLE,
            region=principal.region,
            region_name=region_name(principal.region),
        )

    @get("/me", summary="The observer and its region")
    async def me(self, observer: Observer) -> ObserverMe:
        return ObserverMe(
            username=observer.username,
            role=OBSERVER_ROLE,
            region=observer.region,
            region_name=region_name(observer.region),
        )

    @get("/ambiti", summary="The ambiti of the region side by side (published figures only)")
    async def ambiti(
        self, observer: Observer, start: From = None, end: To = None
    ) -> RegionOverview:
        period = metrics.check_range(start, end, metrics.today())
        return await service.overview(observer, period)

    @get("/ambiti/export", summary="The comparison as CSV (Italian Excel) or XLSX")
    async def export(
        self,
        observer: Observer,
        start: From = None,
        end: To = None,
        format: FromQuery[ExportFormat] = ExportFormat.CSV,
    ) -> Response[bytes]:
        period = metrics.check_range(start, end, metrics.today())
        content, filename = await service.export(observer, period, format.value)
        return Response(
            content,
            media_type=_MEDIA[format],
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )


class RegionalObserverAdminController(Controller):
    """Platform admins manage the observers (the path is under /api/platform/)."""

    path = "/api/platform/regional-observers"
    tags = ["platform"]
    dependencies = {"admin": Provide(provide_platform_admin, sync_to_thread=False)}

    @get("/", summary="Every regional observer")
    async def list_observers(self, admin: Admin) -> list[ObserverOut]:
        return await accounts.list_observers()

    @post("/", summary="Create a regional observer bound to a region (ISTAT code)")
    async def create_observer(self, admin: Admin, data: JSONBody[ObserverCreate]) -> ObserverOut:
        return await accounts.create_observer(data)

    @patch("/{username:str}", summary="Deactivate or reactivate a regional observer")
    async def update_observer(
        self, admin: Admin, username: PathText, data: JSONBody[ObserverPatch]
    ) -> ObserverOut:
        return await accounts.set_observer_active(username, data.active)


class GapMapController(Controller):
    path = "/api/gap-map"
    tags = ["metrics"]

    @get("/", summary="Open needs by category and comune per 1,000 residents (suppressed)")
    async def gap_map(self, actor: Actor, start: From = None, end: To = None) -> GapMapOut:
        period = metrics.check_range(start, end, metrics.today())
        return await service.gap_map(actor, period)

    @get("/rates", summary="The ambito's figures per 1,000 residents, as its Region sees them")
    async def rates(self, actor: Actor, start: From = None, end: To = None) -> AmbitoFigures:
        period = metrics.check_range(start, end, metrics.today())
        return await service.ambito_rates(actor, period)


# Registered in registry/app.py with one line.
REGION_CONTROLLERS = [RegionController, RegionalObserverAdminController, GapMapController]
