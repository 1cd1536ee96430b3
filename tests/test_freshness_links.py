"""Reconfirmation without a password: a signed single-use link, refused clearly once used,
expired or tampered with."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from registry.access import Role
from registry.db import unit_of_work
from registry.freshness.links import AUDIENCE, issue_link
from registry.freshness.tables import ReconfirmLink
from registry.notifications.tables import OutboxMessage
from registry.resources.tables import Resource
from registry.security import issue
from tests.conftest import SETTINGS, Tenant, token_for
from tests.test_notifications_api import add_webhook

H = Role.HOLDER_MANAGER


async def new_link(tenant: Tenant, now: datetime | None = None) -> str:
    async with unit_of_work():
        url = await issue_link(
            SETTINGS,
            resource_id=tenant.resource_id,
            ambito_id=tenant.ambito_id,
            reason="reminder",
            now=now or datetime.now(UTC),
        )
    return url.rsplit("/", 1)[1]


async def resource(tenant: Tenant) -> dict:
    row = await Resource.select().where(Resource.id == tenant.resource_id).first()
    assert row is not None
    return row


async def test_get_shows_and_changes_nothing_post_confirms_once(client, tenant: Tenant) -> None:
    await add_webhook(tenant)
    old = datetime.now(UTC) - timedelta(days=95)
    await Resource.update({Resource.confirmed_at: old, Resource.status: "stale"}).where(
        Resource.id == tenant.resource_id
    )
    token = await new_link(tenant)
    for _ in range(2):  # e.g. a mail scanner fetched it first: still usable afterwards
        shown = await client.get(f"/api/reconfirm/{token}")
        assert shown.status_code == 200, shown.text
    view = shown.json()
    assert view["title"] == "Trasporto Associazione Alfa" and view["status"] == "stale"
    assert [w["rrule"] for w in view["windows"]] == ["FREQ=WEEKLY;BYDAY=MO,WE"]
    assert (await resource(tenant))["status"] == "stale"

    confirmed = await client.post(f"/api/reconfirm/{token}", json={})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "active"
    row = await resource(tenant)
    assert row["status"] == "active" and row["confirmed_at"] > old + timedelta(days=90)
    [link] = await ReconfirmLink.select().where(ReconfirmLink.resource == tenant.resource_id)
    assert link["used_at"] is not None and link["used_action"] == "confirm"
    # The confirmation is announced, in the same transaction.
    [message] = await OutboxMessage.select().where(OutboxMessage.ambito == tenant.ambito_id)
    assert message["event_type"] == "resource.reconfirmed"

    for method in ("GET", "POST"):
        again = await client.request(method, f"/api/reconfirm/{token}", json={})
        assert again.status_code == 410
        assert "già stato usato" in again.json()["detail"]
        assert again.json()["field"] == "token"


async def test_pause_and_update_through_the_link(client, tenant: Tenant) -> None:
    token = await new_link(tenant)
    paused = await client.post(f"/api/reconfirm/{token}", json={"action": "pause"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert (await resource(tenant))["status"] == "paused"
    token = await new_link(tenant)
    until = (datetime.now(UTC) + timedelta(days=200)).date().isoformat()
    updated = await client.post(
        f"/api/reconfirm/{token}", json={"capacity": 7, "valid_until": until}
    )
    assert updated.status_code == 200, updated.text
    row = await resource(tenant)
    assert (row["status"], row["capacity"], row["valid_until"].isoformat()) == (
        "active",
        7,
        until,
    )


async def test_an_expired_resource_needs_a_new_end_date(client, tenant: Tenant) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=2)).date()
    await Resource.update({Resource.valid_until: yesterday, Resource.status: "expired"}).where(
        Resource.id == tenant.resource_id
    )
    token = await new_link(tenant)
    refused = await client.post(f"/api/reconfirm/{token}", json={})
    assert refused.status_code == 400 and refused.json()["field"] == "valid_until"
    # Refused before anything was spent: the same link works with a new end date.
    until = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    fixed = await client.post(f"/api/reconfirm/{token}", json={"valid_until": until})
    assert fixed.status_code == 200 and fixed.json()["status"] == "active"


async def test_expired_tampered_and_foreign_tokens_are_refused(client, tenant: Tenant) -> None:
    expired = await new_link(tenant, now=datetime.now(UTC) - timedelta(days=31))
    response = await client.get(f"/api/reconfirm/{expired}")
    assert response.status_code == 410 and "scaduto" in response.json()["detail"]
    assert (await client.post(f"/api/reconfirm/{expired}", json={})).status_code == 410

    good = await new_link(tenant)
    header, payload, signature = good.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for bad in (
        f"{header}.{payload}.{flipped}",  # signature changed
        f"{header}.{payload[:-3]}xyz.{signature}",  # claims changed
        token_for(tenant.users[H], H, tenant.code),  # a login token: another audience
        issue("another-key-of-at-least-32-characters!!", AUDIENCE, str(tenant.resource_id)),
        # Properly signed but never sent by the registry (no recorded jti).
        issue(SETTINGS.secret_key, AUDIENCE, str(tenant.resource_id)),
        "not-a-token-at-all-but-long-enough",
    ):
        for method in ("GET", "POST"):
            response = await client.request(method, f"/api/reconfirm/{bad}", json={})
            assert response.status_code == 400, (bad, response.text)
            assert response.json()["field"] == "token"
    assert (await client.get(f"/api/reconfirm/{good}")).status_code == 200  # untouched


async def test_archived_resource_link_is_gone(client, tenant: Tenant) -> None:
    token = await new_link(tenant)
    await Resource.update({Resource.status: "archived"}).where(Resource.id == tenant.resource_id)
    response = await client.post(f"/api/reconfirm/{token}", json={})
    assert response.status_code == 410 and "archiviata" in response.json()["detail"]


async def test_two_clicks_at_once_confirm_once(client, tenant: Tenant) -> None:
    token = await new_link(tenant)
    answers = await asyncio.gather(
        *(client.post(f"/api/reconfirm/{token}", json={}) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [200, 410, 410]


async def test_the_page_a_person_sees(client, tenant: Tenant) -> None:
    token = await new_link(tenant)
    page = await client.get(f"/reconfirm/{token}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "Trasporto Associazione Alfa" in page.text and 'method="post"' in page.text
    done = await client.post(
        f"/reconfirm/{token}", data={"action": "confirm", "capacity": "3", "valid_until": ""}
    )
    assert done.status_code == 200 and "Grazie" in done.text
    used = await client.get(f"/reconfirm/{token}")
    assert used.status_code == 410 and "già stato usato" in used.text
    bad = await client.get("/reconfirm/not-a-token-at-all-but-long-enough")
    assert bad.status_code == 400 and "non valido" in bad.text

    token = await new_link(tenant)
    wrong = await client.post(f"/reconfirm/{token}", data={"capacity": "tanti"})
    assert wrong.status_code == 400 and "capacity" in wrong.text
    paused = await client.post(f"/reconfirm/{token}", data={"action": "pause", "capacity": "3"})
    assert paused.status_code == 200 and "sospesa" in paused.text
    assert (await resource(tenant))["status"] == "paused"
