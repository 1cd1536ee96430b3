"""Every metrics and interactions endpoint × every role × own / other ambito.

Metrics have no record in their path: "other" asks for them with an ambito's token and checks
that nothing of another ambito comes back; records that do have ids (interactions, rates)
answer another ambito's id with 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from registry.access import Role
from tests.conftest import Tenant, make_tenant

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
READERS = {U: 200, S: 200, H: 403, V: 403}
Q = "?from=2025-01-01&to=2025-12-31"


def everyone(status: int) -> dict[Role, int]:
    return dict.fromkeys(Role, status)


def interaction_body(t: Tenant) -> dict[str, Any]:
    return {
        "kind": "co_programming_table",
        "title": "Tavolo",
        "occurred_on": "2025-02-01",
        "holder_ids": [str(t.holder_id), str(t.other_holder_id)],
    }


def foreign_pair(t: Tenant) -> dict[str, Any]:
    return {**interaction_body(t), "holder_ids": [str(t.other_holder_id), str(t.holder_id)]}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    own: dict[Role, int]
    other: dict[Role, int] | None
    body: Callable[[Tenant], dict[str, Any]] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


CASES = [
    Case("GET", "/api/metrics/summary" + Q, READERS, None),
    Case("GET", "/api/metrics/timeseries" + Q + "&granularity=quarter", READERS, None),
    Case("GET", "/api/metrics/network" + Q, READERS, None),
    Case("GET", "/api/metrics/coverage" + Q, READERS, None),
    Case("GET", "/api/metrics/export.xlsx" + Q, READERS, None),
    Case("GET", "/api/metrics/export/totals.csv" + Q, READERS, None),
    Case("GET", "/api/metrics/report.pdf" + Q, READERS, None),
    Case("GET", "/api/metrics/labels", everyone(200), None),
    Case("GET", "/api/metrics/report.html" + Q, READERS, None),
    Case("GET", "/api/metrics/rates", READERS, None),
    Case(
        "PUT",
        "/api/metrics/rates/C1/2025",
        {U: 200, S: 403, H: 403, V: 403},
        None,
        lambda t: {"eur_per_hour": 22.5, "source": "tabella di prova"},
    ),
    Case("DELETE", "/api/metrics/rates/C1/2024", {U: 404, S: 403, H: 403, V: 403}, None),
    Case(
        "PUT",
        "/api/metrics/task-levels/trasporto",
        {U: 200, S: 403, H: 403, V: 403},
        None,
        lambda t: {"task_level": "C1"},
    ),
    Case("POST", "/api/metrics/snapshots", {U: 200, S: 403, H: 403, V: 403}, None),
    Case("GET", "/api/interactions", {U: 200, S: 200, H: 200, V: 403}, None),
    Case(
        "POST",
        "/api/interactions",
        {U: 201, S: 201, H: 201, V: 403},
        # another ambito's holders are unknown here: a bad reference
        {U: 400, S: 400, H: 400, V: 403},
        interaction_body,
    ),
    Case(
        "GET", "/api/interactions/{interaction_id}", {U: 200, S: 200, H: 200, V: 403}, everyone(404)
    ),
    Case(
        "DELETE",
        "/api/interactions/{interaction_id}",
        {U: 204, S: 403, H: 403, V: 403},
        everyone(404),
    ),
]


async def _interaction(client, t: Tenant) -> str:
    response = await client.post(
        "/api/interactions", json=interaction_body(t), headers=t.headers(U)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def fill(client, path: str, t: Tenant) -> str:
    if "{interaction_id}" in path:
        path = path.replace("{interaction_id}", await _interaction(client, t))
    return path


@pytest.fixture(scope="module")
async def foreign(app: object) -> Tenant:
    return await make_tenant()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_own_ambito(client, case: Case, role: Role) -> None:
    tenant = await make_tenant()
    body = case.body(tenant) if case.body else None
    path = await fill(client, case.path, tenant)
    response = await client.request(case.method, path, json=body, headers=tenant.headers(role))
    assert response.status_code == case.own[role], response.text
    if response.status_code == 200 and case.method == "GET":
        if "report.html" in path:
            assert "<svg" in response.text
        elif "report.pdf" in path:
            assert response.content.startswith(b"%PDF-")
        elif path.endswith("/labels"):
            assert response.json()["columns"]["ei_index"] == "Indice E-I tra settori"
        elif "export" not in path and "interactions" not in path and "rates" not in path:
            assert response.json()["suppression"]["threshold"] >= 3


OTHER = [c for c in CASES if c.other is not None]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", OTHER, ids=lambda c: c.id)
async def test_other_ambito(client, foreign: Tenant, case: Case, role: Role) -> None:
    tenant = await make_tenant()
    body = case.body(foreign) if case.body else None
    path = await fill(client, case.path, foreign)
    response = await client.request(case.method, path, json=body, headers=tenant.headers(role))
    assert case.other is not None
    assert response.status_code == case.other[role], response.text
    assert str(foreign.holder_id) not in response.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_anonymous_is_refused(client, case: Case) -> None:
    response = await client.request(case.method, case.path.replace("{interaction_id}", "x"))
    assert response.status_code in (401, 404)
    if "{" not in case.path:
        assert response.status_code == 401


async def test_holder_manager_records_only_its_own_holder(client) -> None:
    tenant = await make_tenant()
    third = await client.post(
        "/api/holders",
        json={"kind": "association", "sector": "third_sector", "name": "Terza"},
        headers=tenant.headers(U),
    )
    assert third.status_code == 201, third.text
    # the tenant's holder manager manages holder_id: a pair without it is refused
    body = {
        **interaction_body(tenant),
        "holder_ids": [str(tenant.other_holder_id), third.json()["id"]],
    }
    response = await client.post("/api/interactions", json=body, headers=tenant.headers(H))
    assert response.status_code == 403, response.text
    listed = await client.get("/api/interactions", headers=tenant.headers(H))
    assert listed.json() == []
