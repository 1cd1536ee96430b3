"""Every endpoint × every role × own / other ambito, and the outcome each must have.

"own" runs the request against the caller's ambito; "other" against the same kind of record
in another ambito, which must never be visible (404) nor usable.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from registry.access import Role
from tests.conftest import Tenant, make_tenant, new_code
from tests.test_ambiti_admin import free_comuni, platform_headers

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
ALL_OK = {U: 200, S: 200, H: 200, V: 200}


def everyone(status: int) -> dict[Role, int]:
    return dict.fromkeys(Role, status)


def holder_body(_: Tenant) -> dict[str, Any]:
    return {"kind": "association", "sector": "third_sector", "name": "Nuova associazione"}


def resource_body(holder: str) -> Callable[[Tenant], dict[str, Any]]:
    def body(t: Tenant) -> dict[str, Any]:
        return {
            "holder_id": str(getattr(t, holder)),
            "title": "Sala",
            "category_code": "sala-incontri",
            "unit": "room_hours",
            "capacity": 1,
        }

    return body


def window_body(_: Tenant) -> dict[str, Any]:
    return {
        "freq": "WEEKLY",
        "by_day": ["TU"],
        "start_time": "10:00",
        "end_time": "11:00",
        "valid_from": "2026-02-01",
    }


async def comune_body(_: Tenant) -> dict[str, Any]:
    # A real comune of today (the endpoint checks the ISTAT list) that no ambito has yet.
    return {"istat_code": (await free_comuni(1))[0], "name": "Comune nuovo"}


def ambito_body(_: Tenant) -> dict[str, Any]:
    return {"code": f"ATS-{new_code()}", "name": "Nuovo ambito", "region": "Lombardia"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    own: dict[Role, int]
    other: dict[Role, int] | None  # None: the path names no record of an ambito
    # A callable of the tenant, or a coroutine function of it (awaited by `body_for`).
    body: Callable[[Tenant], Any] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


CASES = [
    Case("GET", "/api/holders", ALL_OK, None),
    Case("POST", "/api/holders", {U: 201, S: 403, H: 403, V: 403}, None, holder_body),
    Case("GET", "/api/holders/{holder_id}", ALL_OK, everyone(404)),
    Case(
        "PATCH",
        "/api/holders/{holder_id}",
        {U: 200, S: 403, H: 200, V: 403},
        everyone(404),
        lambda t: {"description": "aggiornata"},
    ),
    Case(
        "PATCH",
        "/api/holders/{other_holder_id}",
        {U: 200, S: 403, H: 403, V: 403},
        everyone(404),
        lambda t: {"description": "aggiornata"},
    ),
    Case("DELETE", "/api/holders/{holder_id}", {U: 204, S: 403, H: 403, V: 403}, everyone(404)),
    Case("GET", "/api/resources", ALL_OK, None),
    Case("GET", "/api/resources/freshness", ALL_OK, None),
    Case(
        "POST",
        "/api/resources",
        {U: 201, S: 403, H: 201, V: 403},
        # another ambito's holder is unknown here: a bad reference, not a permission
        {U: 400, S: 403, H: 400, V: 403},
        resource_body("holder_id"),
    ),
    Case(
        "POST",
        "/api/resources#other-holder",
        {U: 201, S: 403, H: 403, V: 403},
        {U: 400, S: 403, H: 400, V: 403},
        resource_body("other_holder_id"),
    ),
    Case("GET", "/api/resources/{resource_id}", ALL_OK, everyone(404)),
    Case(
        "PATCH",
        "/api/resources/{resource_id}",
        {U: 200, S: 403, H: 200, V: 403},
        everyone(404),
        lambda t: {"capacity": 5},
    ),
    Case(
        "PATCH",
        "/api/resources/{other_resource_id}",
        {U: 200, S: 403, H: 403, V: 403},
        everyone(404),
        lambda t: {"capacity": 5},
    ),
    Case("DELETE", "/api/resources/{resource_id}", {U: 204, S: 403, H: 204, V: 403}, everyone(404)),
    Case(
        "DELETE",
        "/api/resources/{other_resource_id}",
        {U: 204, S: 403, H: 403, V: 403},
        everyone(404),
    ),
    Case(
        "POST",
        "/api/resources/{resource_id}/confirm",
        {U: 200, S: 403, H: 200, V: 403},
        everyone(404),
    ),
    Case("GET", "/api/resources/{resource_id}/availability", ALL_OK, everyone(404)),
    Case(
        "POST",
        "/api/resources/{resource_id}/availability",
        {U: 201, S: 403, H: 201, V: 403},
        everyone(404),
        window_body,
    ),
    Case(
        "POST",
        "/api/resources/{other_resource_id}/availability",
        {U: 201, S: 403, H: 403, V: 403},
        everyone(404),
        window_body,
    ),
    Case(
        "PUT",
        "/api/resources/{resource_id}/availability/{window_id}",
        {U: 200, S: 403, H: 200, V: 403},
        everyone(404),
        window_body,
    ),
    Case(
        "DELETE",
        "/api/resources/{resource_id}/availability/{window_id}",
        {U: 204, S: 403, H: 204, V: 403},
        everyone(404),
    ),
    Case(
        "GET",
        "/api/resources/{resource_id}/slots?from=2026-03-01&to=2026-03-31",
        ALL_OK,
        everyone(404),
    ),
    Case("GET", "/api/ambiti", ALL_OK, None),
    Case("GET", "/api/ambiti/{code}", ALL_OK, everyone(404)),
    Case(
        "PATCH",
        "/api/ambiti/{code}",
        {U: 200, S: 403, H: 403, V: 403},
        everyone(404),
        lambda t: {"name": "Ambito rinominato"},
    ),
    Case(
        "POST",
        "/api/ambiti/{code}/comuni",
        {U: 201, S: 403, H: 403, V: 403},
        everyone(404),
        comune_body,
    ),
    Case("GET", "/api/taxonomy", ALL_OK, None),
    Case("GET", "/api/taxonomy/trasporto", ALL_OK, None),
    Case("GET", "/api/users/me", ALL_OK, None),
    Case("GET", "/api/users", {U: 200, S: 403, H: 403, V: 403}, None),
    Case(
        "POST",
        "/api/users",
        {U: 201, S: 403, H: 403, V: 403},
        None,
        lambda t: {
            "username": f"nuovo-{new_code()}",
            "password": "una-password-lunga",
            "role": "volunteer",
        },
    ),
    Case(
        "PATCH",
        "/api/users/{volunteer_id}",
        {U: 200, S: 403, H: 403, V: 403},
        {U: 404, S: 403, H: 403, V: 403},
        lambda t: {"active": True},
    ),
    # The platform admin's endpoints (issue 14): no ambito role may use them, not even on
    # its own ambito; a platform_admin's own access is in tests/test_ambiti_admin.py.
    Case("POST", "/api/platform/ambiti", everyone(403), None, ambito_body),
    Case("GET", "/api/platform/ambiti", everyone(403), None),
    Case("GET", "/api/platform/ambiti/{code}", everyone(403), None),
    Case("PATCH", "/api/platform/ambiti/{code}", everyone(403), None, lambda t: {"active": False}),
    Case(
        "POST",
        "/api/platform/ambiti/{code}/udp-admin",
        everyone(403),
        None,
        lambda t: {"username": f"udp-{new_code()}", "password": "una-password-lunga"},
    ),
    Case(
        "POST",
        "/api/platform/comuni/move",
        everyone(403),
        None,
        lambda t: {"comuni": t.comuni[:1], "to": t.code},
    ),
    Case(
        "POST",
        "/api/platform/ambiti/{code}/merge",
        everyone(403),
        None,
        lambda t: {"into": t.code},
    ),
    Case(
        "POST",
        "/api/platform/ambiti/{code}/split",
        everyone(403),
        None,
        lambda t: {"code": f"ATS-{new_code()}", "name": "Parte", "comuni": t.comuni[:1]},
    ),
    # Issue 13: the Region's endpoints refuse every ambito role (a regional observer's own
    # access is in tests/test_region.py), so do the observer accounts of the platform admin;
    # the gap map is the UdP's and the social workers'.
    Case("GET", "/api/region/me", everyone(403), None),
    Case("GET", "/api/region/ambiti", everyone(403), None),
    Case("GET", "/api/region/ambiti/export", everyone(403), None),
    Case("GET", "/api/platform/regional-observers", everyone(403), None),
    Case(
        "POST",
        "/api/platform/regional-observers",
        everyone(403),
        None,
        lambda t: {"username": f"r-{new_code()}", "password": "una-password-lunga", "region": "03"},
    ),
    Case(
        "PATCH",
        "/api/platform/regional-observers/{code}",
        everyone(403),
        None,
        lambda t: {"active": False},
    ),
    Case("GET", "/api/gap-map", {U: 200, S: 200, H: 403, V: 403}, None),
    Case("GET", "/api/gap-map/rates", {U: 200, S: 200, H: 403, V: 403}, None),
]


async def body_for(case: Case, tenant: Tenant) -> Any:
    if case.body is None:
        return None
    body = case.body(tenant)
    return await body if inspect.isawaitable(body) else body


def fill(path: str, tenant: Tenant) -> str:
    path = path.split("#")[0]
    return path.format(
        holder_id=tenant.holder_id,
        other_holder_id=tenant.other_holder_id,
        resource_id=tenant.resource_id,
        other_resource_id=tenant.other_resource_id,
        window_id=tenant.window_id,
        code=tenant.code,
        volunteer_id=tenant.users[V],
    )


@pytest.fixture(scope="module")
async def foreign(app: object) -> Tenant:
    return await make_tenant()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_own_ambito(client, case: Case, role: Role) -> None:
    tenant = await make_tenant()
    body = await body_for(case, tenant)
    response = await client.request(
        case.method, fill(case.path, tenant), json=body, headers=tenant.headers(role)
    )
    assert response.status_code == case.own[role], response.text


OTHER_CASES = [case for case in CASES if case.other is not None]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", OTHER_CASES, ids=lambda c: c.id)
async def test_other_ambito(client, foreign: Tenant, case: Case, role: Role) -> None:
    tenant = await make_tenant()
    # The caller belongs to `tenant`; every record in the path (and body) is `foreign`'s.
    body = await body_for(case, foreign)
    response = await client.request(
        case.method, fill(case.path, foreign), json=body, headers=tenant.headers(role)
    )
    assert case.other is not None
    assert response.status_code == case.other[role], response.text
    if response.status_code == 404:
        assert str(foreign.holder_id) not in response.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_anonymous_is_refused(client, case: Case) -> None:
    tenant = await make_tenant()
    body = await body_for(case, tenant)
    response = await client.request(case.method, fill(case.path, tenant), json=body)
    assert response.status_code == 401


async def test_lists_never_leak_another_ambito(client, tenant: Tenant, foreign: Tenant) -> None:
    for path in ("/api/holders", "/api/resources", "/api/users", "/api/ambiti"):
        response = await client.get(path, headers=tenant.headers(U))
        assert response.status_code == 200
        text = response.text
        for leaked in (foreign.holder_id, foreign.resource_id, foreign.code, foreign.ambito_id):
            assert str(leaked) not in text, f"{path} leaks {leaked}"


def _authenticated_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path template) of the app that needs a login (public ones and the
    static web app excluded), read from the app itself so new endpoints are covered."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            if handler.opt.get("public"):
                continue
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path))
    return sorted(found)


_SAMPLE = {"uuid": lambda: str(uuid.uuid4()), "int": lambda: "1", "date": lambda: "2026-03-02"}


def _sample_path(template: str) -> str:
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: _SAMPLE.get(m.group(2), lambda: "x")(), template)


async def test_platform_admin_is_refused_by_every_ambito_endpoint(app: Any, client) -> None:
    """A platform_admin belongs to no ambito: 403 on every endpoint but its own."""
    headers = await platform_headers(client)
    routes = [r for r in _authenticated_routes(app) if not r[1].startswith("/api/platform")]
    assert len(routes) > 50
    wrong = {}
    for method, template in routes:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = await client.request(method, _sample_path(template), json=body, headers=headers)
        if response.status_code != 403:
            wrong[f"{method} {template}"] = response.status_code
    assert wrong == {}
    platform_routes = [r for r in _authenticated_routes(app) if r[1].startswith("/api/platform")]
    covered = {(c.method, re.sub(r"\{\w+\}", "", c.path)) for c in CASES}
    for method, template in platform_routes:
        assert (method, re.sub(r"\{[^}]+\}", "", template)) in covered, (
            f"{method} {template} has no row in CASES"
        )
