"""Bad input gets a clear 4xx naming what is wrong, never a 500, and stores nothing."""

from __future__ import annotations

import pytest

from registry.access import Role
from tests.conftest import Tenant

U = Role.UDP_ADMIN
GOOD = {"kind": "association", "sector": "third_sector", "name": "Associazione Gamma"}


@pytest.mark.parametrize(
    ("body", "status", "mentions"),
    [
        (b'{"kind": "association", "name": ', 400, "JSON"),
        (b"not json at all", 400, "JSON"),
        (b"[]", 400, "object"),
        (
            b'{"kind": "association", "sector": "third_sector", "name": "X", "colour": 1}',
            400,
            "colour",
        ),
        (b'{"kind": "association", "sector": "third_sector", "name": 42}', 400, "name"),
        (b'{"kind": "charity", "sector": "third_sector", "name": "X"}', 400, "kind"),
        (b'{"sector": "third_sector", "name": "X"}', 400, "kind"),
        (b'{"kind": "association", "sector": "third_sector", "name": ""}', 400, "name"),
        (
            b'{"kind": "association", "sector": "third_sector", "name": "X", "consent": '
            b'{"given_by": "a", "given_at": "yesterday", "text_version": "1"}}',
            400,
            "consent.given_at",
        ),
        (
            b'{"kind": "association", "sector": "third_sector", "name": "X", "comuni": ["13"]}',
            400,
            "comuni",
        ),
    ],
)
async def test_holder_bodies(
    client, tenant: Tenant, body: bytes, status: int, mentions: str
) -> None:
    response = await client.post(
        "/api/holders",
        content=body,
        headers={**tenant.headers(U), "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert mentions in response.text
    assert (await client.get("/api/holders?q=X", headers=tenant.headers(U))).json()["total"] == 0


async def test_oversized_body_is_refused(client, tenant: Tenant) -> None:
    huge = {**GOOD, "description": "x" * 2_000_000}
    response = await client.post("/api/holders", json=huge, headers=tenant.headers(U))
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("status=sleeping", "status"),
        ("target_group=everyone", "target_group"),
        ("comune=12", "comune"),
        ("holder_id=not-a-uuid", "holder_id"),
    ],
)
async def test_bad_query_parameters(client, tenant: Tenant, query: str, mentions: str) -> None:
    response = await client.get(f"/api/resources?{query}", headers=tenant.headers(U))
    assert response.status_code == 400
    assert mentions in response.text


@pytest.mark.parametrize(
    ("window", "mentions"),
    [
        (
            {
                "freq": "WEEKLY",
                "start_time": "25:00",
                "end_time": "26:00",
                "valid_from": "2026-01-01",
            },
            "start_time",
        ),
        (
            {
                "freq": "WEEKLY",
                "start_time": "10:00",
                "end_time": "11:00",
                "valid_from": "2026-02-30",
            },
            "valid_from",
        ),
        (
            {
                "freq": "YEARLY",
                "start_time": "10:00",
                "end_time": "11:00",
                "valid_from": "2026-01-01",
            },
            "freq",
        ),
        (
            {
                "freq": "WEEKLY",
                "start_time": "10:00",
                "end_time": "11:00",
                "valid_from": "2026-01-01",
                "capacity": -3,
            },
            "capacity",
        ),
    ],
)
async def test_bad_windows(client, tenant: Tenant, window: dict, mentions: str) -> None:
    response = await client.post(
        f"/api/resources/{tenant.resource_id}/availability", json=window, headers=tenant.headers(U)
    )
    assert response.status_code == 400
    assert mentions in response.text


async def test_unknown_ids_and_paths(client, tenant: Tenant) -> None:
    headers = tenant.headers(U)
    assert (
        await client.get("/api/resources/00000000-0000-0000-0000-000000000000", headers=headers)
    ).status_code == 404
    assert (await client.get("/api/resources/not-a-uuid", headers=headers)).status_code in (
        400,
        404,
    )
    assert (await client.get("/api/taxonomy/nothing-like-this", headers=headers)).status_code == 404


async def test_duplicate_username_is_a_conflict(client, tenant: Tenant) -> None:
    body = {
        "username": tenant.usernames[Role.VOLUNTEER],
        "password": "password-lunga",
        "role": "volunteer",
    }
    response = await client.post("/api/users", json=body, headers=tenant.headers(U))
    assert response.status_code == 409 and response.json()["field"] == "username"
