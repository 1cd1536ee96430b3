"""Concurrent acceptances never overbook a resource (SQLite and PostgreSQL alike).

The requests go through the real HTTP stack (httpx ASGITransport, the app in this event
loop), each in its own task, so they interleave at every await just as concurrent
requests of a server do.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from registry.matches.tables import Match, ResourceCapacity
from tests.conftest import Tenant
from tests.test_plans_support import H, S, U, add_resource, create_need, create_plan, propose

CONTENDERS = 50


async def _proposals(client, tenant: Tenant, resource_id, count: int) -> list[str]:
    plan = await create_plan(client, tenant)
    ids = []
    for _ in range(count):
        need = await create_need(client, tenant, plan["id"], category_code="accompagnamento")
        ids.append((await propose(client, tenant, need["id"], resource_id))["id"])
    return ids


async def _accept_all(client, tenant: Tenant, match_ids: list[str]) -> list:
    async def accept(match_id: str):
        return await client.post(f"/api/matches/{match_id}/accept", headers=tenant.headers(H))

    return await asyncio.gather(*(accept(m) for m in match_ids))


async def _stored(resource_id) -> tuple[int, int]:
    accepted = await Match.count().where(
        (Match.resource == resource_id) & Match.status.is_in(["accepted", "active"])
    )
    row = (
        await ResourceCapacity.select(ResourceCapacity.reserved)
        .where(ResourceCapacity.resource == resource_id)
        .first()
    )
    return accepted, row["reserved"]


async def test_fifty_acceptances_compete_for_the_last_place(client, tenant: Tenant) -> None:
    resource = await add_resource(tenant, category="accompagnamento", capacity=2)
    # One place is already held, so exactly one remains.
    [held] = await _proposals(client, tenant, resource, 1)
    assert (
        await client.post(f"/api/matches/{held}/accept", headers=tenant.headers(H))
    ).status_code == 200
    match_ids = await _proposals(client, tenant, resource, CONTENDERS)

    started = time.perf_counter()
    responses = await _accept_all(client, tenant, match_ids)
    print(f"{CONTENDERS} concurrent acceptances: {time.perf_counter() - started:.2f} s")

    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 1, 409: CONTENDERS - 1}, codes
    for response in responses:
        if response.status_code == 409:
            assert "no capacity left" in response.json()["detail"]
    assert await _stored(resource) == (2, 2)
    winner = next(r.json()["id"] for r in responses if r.status_code == 200)
    statuses = Counter(
        row["status"] for row in await Match.select(Match.status).where(Match.id.is_in(match_ids))
    )
    assert statuses == {"accepted": 1, "proposed": CONTENDERS - 1}
    history = await client.get(f"/api/matches/{winner}/history", headers=tenant.headers(S))
    assert [h["to_status"] for h in history.json()] == ["proposed", "accepted"]


async def test_concurrent_acceptances_fill_capacity_exactly(client, tenant: Tenant) -> None:
    resource = await add_resource(tenant, category="accompagnamento", capacity=3)
    match_ids = await _proposals(client, tenant, resource, 20)
    responses = await _accept_all(client, tenant, match_ids)
    assert Counter(r.status_code for r in responses) == {200: 3, 409: 17}
    assert await _stored(resource) == (3, 3)


async def test_two_answers_to_one_proposal(client, tenant: Tenant) -> None:
    """The holder manager and the UdP accept the same proposal at once: one wins, the
    other is told the match is no longer proposed, and one place is held."""
    resource = await add_resource(tenant, category="accompagnamento", capacity=5)
    for _ in range(5):
        [match_id] = await _proposals(client, tenant, resource, 1)
        url = f"/api/matches/{match_id}/accept"
        first, second = await asyncio.gather(
            client.post(url, headers=tenant.headers(H)),
            client.post(url, headers=tenant.headers(U)),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert await _stored(resource) == (5, 5)


async def test_accept_racing_withdraw_keeps_the_count_true(client, tenant: Tenant) -> None:
    """Either order is legal (accepted -> withdrawn too); whatever happens, the place is
    held exactly when the final state holds it."""
    for _ in range(5):
        resource = await add_resource(tenant, category="accompagnamento", capacity=1)
        [match_id] = await _proposals(client, tenant, resource, 1)
        url = f"/api/matches/{match_id}"
        accept, withdraw = await asyncio.gather(
            client.post(f"{url}/accept", headers=tenant.headers(H)),
            client.post(f"{url}/withdraw", headers=tenant.headers(S)),
        )
        assert withdraw.status_code == 200
        assert accept.status_code in (200, 409)
        final = (await client.get(url, headers=tenant.headers(S))).json()["status"]
        assert final == "withdrawn"
        assert await _stored(resource) == (0, 0)
