"""The access log: every read of a plan's personal details leaves a row only the UdP reads."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.test_plans_support import H, S, U, V, add_user, create_need, create_plan


async def _log(client, tenant: Tenant, **params: str) -> list[dict]:
    response = await client.get("/api/audit", params=params, headers=tenant.headers(U))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_reads_of_plan_and_needs_are_logged(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    need = await create_need(client, tenant, plan["id"])
    base = f"/api/plans/{plan['id']}"
    for url in (base, f"{base}/needs", f"{base}/needs/{need['id']}"):
        assert (await client.get(url, headers=tenant.headers(S))).status_code == 200
    assert (await client.get(base, headers=tenant.headers(U))).status_code == 200

    rows = await _log(client, tenant, plan_id=plan["id"])
    actions = [(r["action"], r["user_id"]) for r in rows]
    social, udp = str(tenant.users[S]), str(tenant.users[U])
    # Newest first.
    assert actions == [
        ("plan.read", udp),
        ("need.read", social),
        ("needs.read", social),
        ("plan.read", social),
        ("need.create", social),
        ("plan.create", social),
    ]
    need_read = rows[1]
    assert need_read["need_id"] == need["id"]
    assert need_read["username"] == tenant.usernames[S]
    assert need_read["role"] == "social_worker"
    assert need_read["at"]
    # The log says who looked, never what they saw.
    text = str(rows)
    assert plan["case_code"] not in text and plan["notes"] not in text


async def test_writes_and_refused_reads_are_logged(client, tenant: Tenant) -> None:
    colleague = await add_user(tenant, S)
    plan = await create_plan(client, tenant)
    await client.patch(
        f"/api/plans/{plan['id']}", json={"goals": ["Altro"]}, headers=tenant.headers(S)
    )
    refused = await client.get(f"/api/plans/{plan['id']}", headers=colleague["headers"])
    assert refused.status_code == 404
    rows = await _log(client, tenant, plan_id=plan["id"])
    assert rows[0]["action"] == "plan.denied"
    assert rows[0]["user_id"] == str(colleague["id"])
    assert rows[1]["action"] == "plan.update"
    assert rows[1]["detail"] == "goals"


async def test_list_reads_are_logged_without_plan(client, tenant: Tenant) -> None:
    await create_plan(client, tenant)
    await client.get("/api/plans", headers=tenant.headers(S))
    rows = await _log(client, tenant, action="plan.list")
    assert rows and rows[0]["plan_id"] is None and rows[0]["user_id"] == str(tenant.users[S])


async def test_filters_and_only_own_ambito(client, tenant: Tenant, other_tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    foreign = await create_plan(client, other_tenant)
    await client.get(f"/api/plans/{foreign['id']}", headers=other_tenant.headers(S))
    rows = await _log(client, tenant)
    assert foreign["id"] not in str(rows)
    assert plan["id"] in str(rows)
    by_user = await _log(client, tenant, user_id=str(tenant.users[U]))
    assert all(r["user_id"] == str(tenant.users[U]) for r in by_user)
    response = await client.get(
        "/api/audit", params={"action": "plan.eaten"}, headers=tenant.headers(U)
    )
    assert response.status_code == 400


async def test_only_the_udp_reads_the_log(client, tenant: Tenant) -> None:
    for role in (S, H, V):
        response = await client.get("/api/audit", headers=tenant.headers(role))
        assert response.status_code == 403


async def test_refused_roles_leave_no_personal_read(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    for role in (H, V):
        response = await client.get(f"/api/plans/{plan['id']}", headers=tenant.headers(role))
        assert response.status_code == 403
    rows = await _log(client, tenant, plan_id=plan["id"])
    assert [r["action"] for r in rows] == ["plan.create"]
