"""The notification endpoints: in-app notifications, webhook endpoints, the outbox, and the
public reconfirmation link, each × role × own / other ambito, plus bad inputs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from registry.access import Role
from registry.db import unit_of_work
from registry.freshness.links import issue_link
from registry.notifications.tables import Notification, OutboxMessage, WebhookEndpoint
from tests.conftest import SETTINGS, Tenant, make_tenant

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
ALL_OK = dict.fromkeys(Role, 200)
# Port 9 (discard) on loopback: nothing listens, so nothing is ever delivered by accident.
NOWHERE = "http://127.0.0.1:9/hook"


def only_udp(status: int) -> dict[Role, int]:
    return {U: status, S: 403, H: 403, V: 403}


def everyone(status: int) -> dict[Role, int]:
    return dict.fromkeys(Role, status)


async def add_notification(tenant: Tenant, role: Role, title: str = "Avviso") -> uuid.UUID:
    row = Notification(
        ambito=tenant.ambito_id,
        user=tenant.users[role],
        event_id=uuid.uuid4(),
        event_type="resource.stale",
        title=title,
        body="testo",
        created_at=datetime.now(UTC),
    )
    await row.save()
    return row.id


async def add_webhook(tenant: Tenant, url: str = NOWHERE, **values: Any) -> uuid.UUID:
    moment = datetime.now(UTC)
    row = WebhookEndpoint(
        ambito=tenant.ambito_id,
        url=url,
        events=values.pop("events", []),
        secret=values.pop("secret", "whsec_test_secret"),
        created_at=moment,
        updated_at=moment,
        **values,
    )
    await row.save()
    return row.id


async def add_message(tenant: Tenant, status: str = "dead") -> uuid.UUID:
    moment = datetime.now(UTC)
    row = OutboxMessage(
        ambito=tenant.ambito_id,
        event_id=uuid.uuid4(),
        event_type="resource.stale",
        channel="webhook",
        endpoint=await add_webhook(tenant, active=False),
        body="{}",
        status=status,
        attempts=3,
        next_attempt_at=moment,
        created_at=moment,
        updated_at=moment,
    )
    await row.save()
    return row.id


async def reconfirm_token(tenant: Tenant) -> str:
    async with unit_of_work():
        url = await issue_link(
            SETTINGS,
            resource_id=tenant.resource_id,
            ambito_id=tenant.ambito_id,
            reason="reminder",
            now=datetime.now(UTC),
        )
    return url.rsplit("/", 1)[1]


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    own: dict[Role, int]
    other: dict[Role, int] | None  # None: the path names no record of an ambito
    body: Callable[[], dict[str, Any]] | None = None
    public: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


CASES = [
    Case("GET", "/api/notifications", ALL_OK, None),
    Case("GET", "/api/notifications?unread=true&limit=5", ALL_OK, None),
    Case("POST", "/api/notifications/{notification_id}/read", ALL_OK, everyone(404)),
    Case("POST", "/api/notifications/read-all", ALL_OK, None),
    # Issue 17: unread counts per event type, and each user's own e-mail preferences.
    Case("GET", "/api/notifications/counts", ALL_OK, None),
    Case("GET", "/api/notifications/preferences", ALL_OK, None),
    Case(
        "PUT",
        "/api/notifications/preferences",
        ALL_OK,
        None,
        lambda: {"email": "persona@example.org", "email_events": [], "digest": True},
    ),
    Case("GET", "/api/notifications/outbox", only_udp(200), None),
    Case("GET", "/api/notifications/outbox?status=dead", only_udp(200), None),
    Case("POST", "/api/notifications/outbox/{message_id}/retry", only_udp(200), everyone(404)),
    Case("GET", "/api/notifications/webhooks", only_udp(200), None),
    Case(
        "POST",
        "/api/notifications/webhooks",
        only_udp(201),
        None,
        lambda: {"url": NOWHERE, "events": ["resource.stale"]},
    ),
    Case("GET", "/api/notifications/webhooks/{webhook_id}", only_udp(200), everyone(404)),
    Case(
        "PATCH",
        "/api/notifications/webhooks/{webhook_id}",
        only_udp(200),
        everyone(404),
        lambda: {"description": "gestionale del Comune"},
    ),
    Case("DELETE", "/api/notifications/webhooks/{webhook_id}", only_udp(204), everyone(404)),
    Case("POST", "/api/notifications/webhooks/{webhook_id}/ping", only_udp(202), everyone(404)),
    # The reconfirmation link is public: the token is the authorisation, whoever holds it.
    Case("GET", "/api/reconfirm/{token}", ALL_OK, None, public=True),
    Case("POST", "/api/reconfirm/{token}", ALL_OK, None, lambda: {}, public=True),
]


async def fill(path: str, records: Tenant, role: Role) -> str:
    """Create the records the path names, in `records`' ambito (for `role`'s own ones)."""
    values: dict[str, Any] = {}
    if "{notification_id}" in path:
        values["notification_id"] = await add_notification(records, role)
    if "{message_id}" in path:
        values["message_id"] = await add_message(records)
    if "{webhook_id}" in path:
        values["webhook_id"] = await add_webhook(records)
    if "{token}" in path:
        values["token"] = await reconfirm_token(records)
    return path.format(**values)


@pytest.fixture(scope="module")
async def home(app: object) -> Tenant:
    # Shared by the matrix: every case creates the records it touches, so none interfere.
    return await make_tenant()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_own_ambito(client, home: Tenant, case: Case, role: Role) -> None:
    tenant = home
    path = await fill(case.path, tenant, role)
    body = case.body() if case.body else None
    response = await client.request(case.method, path, json=body, headers=tenant.headers(role))
    assert response.status_code == case.own[role], response.text


@pytest.fixture(scope="module")
async def foreign(app: object) -> Tenant:
    return await make_tenant()


OTHER_CASES = [case for case in CASES if case.other is not None]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", OTHER_CASES, ids=lambda c: c.id)
async def test_other_ambito(client, home: Tenant, foreign: Tenant, case: Case, role: Role) -> None:
    tenant = home
    path = await fill(case.path, foreign, role)
    body = case.body() if case.body else None
    response = await client.request(case.method, path, json=body, headers=tenant.headers(role))
    assert case.other is not None
    assert response.status_code == case.other[role], response.text
    assert str(foreign.ambito_id) not in response.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_anonymous(client, home: Tenant, case: Case) -> None:
    tenant = home
    path = await fill(case.path, tenant, U)
    body = case.body() if case.body else None
    response = await client.request(case.method, path, json=body)
    assert response.status_code == (200 if case.public else 401), response.text


async def test_someone_elses_notification_in_the_same_ambito_is_not_found(
    client, tenant: Tenant
) -> None:
    theirs = await add_notification(tenant, S)
    response = await client.post(f"/api/notifications/{theirs}/read", headers=tenant.headers(V))
    assert response.status_code == 404
    mine = await client.get("/api/notifications", headers=tenant.headers(V))
    assert str(theirs) not in mine.text


async def test_list_and_mark_read(client, tenant: Tenant) -> None:
    first = await add_notification(tenant, H, "Primo")
    await add_notification(tenant, H, "Secondo")
    headers = tenant.headers(H)
    page = (await client.get("/api/notifications", headers=headers)).json()
    assert (page["total"], page["unread"]) == (2, 2)
    assert {n["title"] for n in page["items"]} == {"Primo", "Secondo"}
    read = (await client.post(f"/api/notifications/{first}/read", headers=headers)).json()
    assert read["read_at"] is not None
    again = (await client.post(f"/api/notifications/{first}/read", headers=headers)).json()
    assert again["read_at"] == read["read_at"]  # marking twice keeps the first time
    unread = (await client.get("/api/notifications?unread=true", headers=headers)).json()
    assert [n["title"] for n in unread["items"]] == ["Secondo"]
    marked = (await client.post("/api/notifications/read-all", headers=headers)).json()
    assert marked == {"marked": 1}
    assert (await client.get("/api/notifications", headers=headers)).json()["unread"] == 0


async def test_webhook_lifecycle_shows_the_secret_once(client, tenant: Tenant) -> None:
    headers = tenant.headers(U)
    created = await client.post(
        "/api/notifications/webhooks",
        json={"url": NOWHERE, "description": "CRM", "events": ["resource.stale", "resource.stale"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["resource.stale"]
    assert hook["signature_header"] == "X-Registry-Signature-256"
    shown = (await client.get(f"/api/notifications/webhooks/{hook['id']}", headers=headers)).json()
    assert "secret" not in shown and shown["secret_hint"] == "…" + hook["secret"][-4:]
    listed = (await client.get("/api/notifications/webhooks", headers=headers)).text
    assert hook["secret"] not in listed
    patched = await client.patch(
        f"/api/notifications/webhooks/{hook['id']}", json={"active": False}, headers=headers
    )
    assert patched.json()["active"] is False
    ping = await client.post(f"/api/notifications/webhooks/{hook['id']}/ping", headers=headers)
    assert ping.status_code == 202
    outbox = (await client.get("/api/notifications/outbox", headers=headers)).json()
    assert outbox["counts"]["pending"] == 1
    assert outbox["items"][0]["event_type"] == "webhook.ping"
    assert "body" not in outbox["items"][0]
    deleted = await client.delete(f"/api/notifications/webhooks/{hook['id']}", headers=headers)
    assert deleted.status_code == 204
    # The message outlives its endpoint, as history.
    outbox = (await client.get("/api/notifications/outbox", headers=headers)).json()
    assert outbox["items"][0]["endpoint_id"] is None


async def test_retry_revives_only_dead_messages(client, tenant: Tenant) -> None:
    headers = tenant.headers(U)
    dead = await add_message(tenant, "dead")
    retried = await client.post(f"/api/notifications/outbox/{dead}/retry", headers=headers)
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    again = await client.post(f"/api/notifications/outbox/{dead}/retry", headers=headers)
    assert again.status_code == 409 and again.json()["field"] == "status"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/notifications/webhooks", {"url": "ftp://example.org/x"}, "url"),
        ("POST", "/api/notifications/webhooks", {"url": "http://"}, "url"),
        ("POST", "/api/notifications/webhooks", {"url": "https://u:p@example.org/x"}, "url"),
        ("POST", "/api/notifications/webhooks", {"url": "short"}, "url"),
        ("POST", "/api/notifications/webhooks", {"url": NOWHERE, "events": ["nope"]}, "events"),
        ("POST", "/api/notifications/webhooks", {"url": NOWHERE, "colour": 1}, "colour"),
        ("POST", "/api/notifications/webhooks", {}, "url"),
        ("PATCH", "/api/notifications/webhooks/{webhook_id}", {"url": "gopher://x.org/"}, "url"),
        ("PATCH", "/api/notifications/webhooks/{webhook_id}", {"active": "yes"}, "active"),
        ("GET", "/api/notifications/outbox?status=lost", None, "status"),
        ("GET", "/api/notifications/outbox?event_type=x", None, "event_type"),
        ("GET", "/api/notifications?limit=0", None, "limit"),
        ("GET", "/api/notifications?unread=perhaps", None, "unread"),
        ("POST", "/api/reconfirm/{token}", {"capacity": -1}, "capacity"),
        ("POST", "/api/reconfirm/{token}", {"valid_until": "presto"}, "valid_until"),
        ("POST", "/api/reconfirm/{token}", {"action": "delete"}, "action"),
        ("POST", "/api/reconfirm/{token}", {"valid_until": "2000-01-01"}, "valid_until"),
    ],
)
async def test_bad_input_names_the_field(
    client, tenant: Tenant, method: str, path: str, body: Any, field: str
) -> None:
    path = await fill(path, tenant, U)
    response = await client.request(method, path, json=body, headers=tenant.headers(U))
    assert 400 <= response.status_code < 500, response.text
    assert field in response.text, response.text
    if "{token}" not in path and "/reconfirm/" in path:
        # A refused confirmation does not spend the link.
        token = path.rsplit("/", 1)[1]
        assert (await client.get(f"/api/reconfirm/{token}")).status_code == 200


async def test_private_webhook_targets_are_refused_in_production(client, tenant: Tenant) -> None:
    from dataclasses import replace

    from registry.errors import InvalidInput
    from registry.notifications.webhooks import check_url

    strict = replace(SETTINGS, webhook_allow_private=False)
    refused_urls = (
        "http://example.org/x",
        "https://127.0.0.1/x",
        "https://10.0.0.8/x",
        "https://localhost/x",
    )
    for url in refused_urls:
        with pytest.raises(InvalidInput) as refused:
            check_url(url, allow_private=strict.webhook_allow_private)
        assert refused.value.field == "url"
    assert check_url("https://example.org/hook", allow_private=False) == "https://example.org/hook"
