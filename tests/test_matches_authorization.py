"""Every plans / matches / matching-runs / audit endpoint × every role × own / other ambito.

Same style as tests/test_authorization_matrix.py. "own" runs the request against records
of the caller's ambito (the plan belongs to the tenant's social worker, the proposed match
to the resource of the tenant's holder manager); "other" against the same records of
another ambito, which must never be visible (404) nor usable (400 for references in a
body). Holder managers and volunteers never reach a plan (403 before any lookup).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from registry.access import Role
from tests.conftest import Tenant, make_tenant
from tests.test_plans_support import H, S, U, V, add_user, plan_body

PLAN_SIDE = {U: 200, S: 200, H: 403, V: 403}


def everyone(status: int) -> dict[Role, int]:
    return dict.fromkeys(Role, status)


PLAN_OTHER = {U: 404, S: 404, H: 403, V: 403}
MATCH_OTHER = everyone(404)


@dataclass
class World:
    """The records of one ambito the cases point at, built only when a case needs them."""

    tenant: Tenant
    client: Any
    made: dict[str, str] = field(default_factory=dict)

    async def get(self, key: str) -> str:
        if key not in self.made:
            self.made[key] = await getattr(self, f"_{key}")()
        return self.made[key]

    async def _post(self, url: str, body: dict, role: Role = S) -> dict:
        response = await self.client.post(url, json=body, headers=self.tenant.headers(role))
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def _plan_id(self) -> str:
        return (await self._post("/api/plans", plan_body(self.tenant)))["id"]

    async def _new_need(self) -> str:
        plan_id = await self.get("plan_id")
        body = {"category_code": "trasporto", "unit": "trips_per_week", "quantity": 2}
        return (await self._post(f"/api/plans/{plan_id}/needs", body))["id"]

    async def _need_id(self) -> str:
        return await self._new_need()

    async def _match(self, resource: Any, *steps: tuple[str, Role]) -> str:
        body = {"need_id": await self._new_need(), "resource_id": str(resource)}
        match_id = (await self._post("/api/matches", body))["id"]
        for action, role in steps:
            await self._post(f"/api/matches/{match_id}/{action}", {}, role)
        return match_id

    async def _match_id(self) -> str:
        return await self._match(self.tenant.resource_id)

    async def _other_holder_match_id(self) -> str:
        return await self._match(self.tenant.other_resource_id)

    async def _accepted_match_id(self) -> str:
        return await self._match(self.tenant.resource_id, ("accept", H))

    async def _active_match_id(self) -> str:
        return await self._match(self.tenant.resource_id, ("accept", H), ("confirm", S))

    async def _run_id(self) -> str:
        await self.get("need_id")
        run = await self._post("/api/matching/runs", {}, U)
        self.made["pair_id"] = run["pairs"][0]["id"]
        return run["id"]

    async def _pair_id(self) -> str:
        await self.get("run_id")
        return self.made["pair_id"]

    async def _colleague_plan_id(self) -> str:
        colleague = await add_user(self.tenant, S)
        response = await self.client.post(
            "/api/plans", json=plan_body(self.tenant), headers=colleague["headers"]
        )
        return response.json()["id"]

    async def fill(self, template: str) -> str:
        template = template.split("#")[0]
        keys = [part.split("}")[0] for part in template.split("{")[1:]]
        return template.format(**{key: await self.get(key) for key in keys})


Body = Callable[[World], Any]


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    own: dict[Role, int]
    other: dict[Role, int] | None  # None: the path names no record of an ambito
    body: Body | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


async def _plan_create(w: World) -> dict:
    return {**plan_body(w.tenant), "owner_id": str(w.tenant.users[S])}


async def _need(_: World) -> dict:
    return {"category_code": "trasporto", "unit": "trips_per_week"}


async def _proposal(w: World) -> dict:
    return {"need_id": await w.get("need_id"), "resource_id": str(w.tenant.resource_id)}


async def _run_for_plan(w: World) -> dict:
    return {"plan_id": await w.get("plan_id")}


async def _pairs(w: World) -> dict:
    return {"pair_ids": [await w.get("pair_id")]}


async def _empty(_: World) -> dict:
    return {}


async def _reason(_: World) -> dict:
    return {"reason": "Nessun volontario libero"}


async def _sharing(_: World) -> dict:
    return {"shared_with": []}


async def _patch_plan(_: World) -> dict:
    return {"goals": ["Aggiornato"]}


async def _patch_need(_: World) -> dict:
    return {"priority": 4}


CASES = [
    # plans
    Case("GET", "/api/plans", PLAN_SIDE, None),
    Case(
        "POST",
        "/api/plans",
        {U: 201, S: 201, H: 403, V: 403},
        # another ambito's comune and social worker: a bad reference (U) / not yourself (S)
        {U: 400, S: 403, H: 403, V: 403},
        _plan_create,
    ),
    Case("GET", "/api/plans/{plan_id}", PLAN_SIDE, PLAN_OTHER),
    Case("GET", "/api/plans/{colleague_plan_id}", {U: 200, S: 404, H: 403, V: 403}, PLAN_OTHER),
    Case("PATCH", "/api/plans/{plan_id}", PLAN_SIDE, PLAN_OTHER, _patch_plan),
    Case(
        "PATCH",
        "/api/plans/{colleague_plan_id}",
        {U: 200, S: 404, H: 403, V: 403},
        PLAN_OTHER,
        _patch_plan,
    ),
    Case(
        "PUT",
        "/api/plans/{plan_id}/sharing",
        {U: 200, S: 403, H: 403, V: 403},
        PLAN_OTHER,
        _sharing,
    ),
    Case("GET", "/api/plans/{plan_id}/needs", PLAN_SIDE, PLAN_OTHER),
    Case("POST", "/api/plans/{plan_id}/needs", {U: 201, S: 201, H: 403, V: 403}, PLAN_OTHER, _need),
    Case("GET", "/api/plans/{plan_id}/needs/{need_id}", PLAN_SIDE, PLAN_OTHER),
    Case("PATCH", "/api/plans/{plan_id}/needs/{need_id}", PLAN_SIDE, PLAN_OTHER, _patch_need),
    Case("GET", "/api/plans/{plan_id}/needs/{need_id}/suggestions", PLAN_SIDE, PLAN_OTHER),
    # matches
    Case("GET", "/api/matches", {U: 200, S: 200, H: 200, V: 403}, None),
    Case(
        "POST",
        "/api/matches",
        {U: 201, S: 201, H: 403, V: 403},
        {U: 400, S: 400, H: 403, V: 403},
        _proposal,
    ),
    Case("GET", "/api/matches/{match_id}", {U: 200, S: 200, H: 200, V: 403}, MATCH_OTHER),
    Case("GET", "/api/matches/{match_id}/history", {U: 200, S: 200, H: 200, V: 403}, MATCH_OTHER),
    Case(
        "GET",
        "/api/matches/{other_holder_match_id}",
        {U: 200, S: 200, H: 404, V: 403},
        MATCH_OTHER,
    ),
    Case("POST", "/api/matches/{match_id}/accept", {U: 200, S: 403, H: 200, V: 403}, MATCH_OTHER),
    Case(
        "POST",
        "/api/matches/{other_holder_match_id}/accept",
        {U: 200, S: 403, H: 404, V: 403},
        MATCH_OTHER,
    ),
    Case(
        "POST",
        "/api/matches/{match_id}/decline",
        {U: 200, S: 403, H: 200, V: 403},
        MATCH_OTHER,
        _reason,
    ),
    Case(
        "POST",
        "/api/matches/{accepted_match_id}/confirm",
        {U: 200, S: 200, H: 403, V: 403},
        MATCH_OTHER,
    ),
    Case(
        "POST",
        "/api/matches/{active_match_id}/complete",
        {U: 200, S: 200, H: 403, V: 403},
        MATCH_OTHER,
        _empty,
    ),
    Case(
        "POST",
        "/api/matches/{match_id}/withdraw",
        {U: 200, S: 200, H: 403, V: 403},
        MATCH_OTHER,
        _reason,
    ),
    # matching runs
    Case("POST", "/api/matching/runs", {U: 201, S: 201, H: 403, V: 403}, None, _empty),
    Case(
        "POST",
        "/api/matching/runs#one-plan",
        {U: 201, S: 201, H: 403, V: 403},
        {U: 400, S: 400, H: 403, V: 403},
        _run_for_plan,
    ),
    Case("GET", "/api/matching/runs", {U: 200, S: 200, H: 403, V: 403}, None),
    Case("GET", "/api/matching/runs/{run_id}", {U: 200, S: 200, H: 403, V: 403}, MATCH_OTHER),
    Case(
        "POST",
        "/api/matching/runs/{run_id}/propose",
        {U: 201, S: 201, H: 403, V: 403},
        MATCH_OTHER,
        _pairs,
    ),
    # audit
    Case("GET", "/api/audit", {U: 200, S: 403, H: 403, V: 403}, None),
]


@pytest.fixture(scope="module")
async def foreign(app: object) -> Tenant:
    return await make_tenant()


@pytest.fixture(scope="module")
def foreign_world() -> dict[str, World]:
    return {}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_own_ambito(client, case: Case, role: Role) -> None:
    world = World(await make_tenant(), client)
    url = await world.fill(case.path)
    body = await case.body(world) if case.body else None
    response = await client.request(case.method, url, json=body, headers=world.tenant.headers(role))
    assert response.status_code == case.own[role], response.text


OTHER_CASES = [case for case in CASES if case.other is not None]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", OTHER_CASES, ids=lambda c: c.id)
async def test_other_ambito(
    client, foreign: Tenant, foreign_world: dict[str, World], case: Case, role: Role
) -> None:
    # Every record in the path (and body) is `foreign`'s; the caller belongs to `tenant`.
    # None of these requests may change anything, so the foreign records are shared.
    world = foreign_world.setdefault("world", World(foreign, client))
    world.client = client
    tenant = await make_tenant()
    url = await world.fill(case.path)
    body = await case.body(world) if case.body else None
    response = await client.request(case.method, url, json=body, headers=tenant.headers(role))
    assert case.other is not None
    assert response.status_code == case.other[role], response.text
    if response.status_code in (403, 404):
        assert str(foreign.ambito_id) not in response.text
        assert str(foreign.holder_id) not in response.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_anonymous_is_refused(client, case: Case) -> None:
    world = World(await make_tenant(), client)
    url = await world.fill(case.path)
    body = await case.body(world) if case.body else None
    response = await client.request(case.method, url, json=body)
    assert response.status_code == 401


async def test_lists_never_leak_another_ambito(client, foreign: Tenant) -> None:
    mine, theirs = World(await make_tenant(), client), World(foreign, client)
    leaked = [await theirs.get(k) for k in ("plan_id", "match_id", "run_id")]
    await mine.get("match_id")
    await mine.get("run_id")
    for path, role in (
        ("/api/plans", U),
        ("/api/plans", S),
        ("/api/matches", U),
        ("/api/matches", S),
        ("/api/matches", H),
        ("/api/matching/runs", U),
        ("/api/audit", U),
    ):
        response = await client.get(path, headers=mine.tenant.headers(role))
        assert response.status_code == 200, path
        for value in (*leaked, str(foreign.ambito_id), str(foreign.resource_id)):
            assert value not in response.text, f"{path} leaks {value}"
