"""Operating the service: /health answers for the database, /metrics (Prometheus, behind a
token, routes by template), compression and caching rules of static files and JSON."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from litestar import Litestar, Response, get
from piccolo.engine.postgres import PostgresEngine

from registry import db
from registry.access import Role
from registry.app import WEB_DIR, create_app
from registry.db import PooledSQLiteEngine
from registry.notifications.tables import OutboxMessage
from registry.ops.http import default_cache_control
from registry.scheduled_jobs import JobRun, run_job
from tests.conftest import SETTINGS, Tenant

TOKEN = secrets.token_urlsafe(32)


@pytest.fixture
async def metrics_client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a metrics token; create_app() binds its own engine: the session's comes
    back afterwards."""
    original = db.engine()
    application = create_app(replace(SETTINGS, metrics_token=TOKEN), migrate_on_start=False)
    db.bind(original)  # the session's engine (and its pool) serves this app's queries too
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    db.bind(original)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + ("{" if labels else " ")):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.rpartition("} ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_health_says_whether_the_database_answers(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    answered = await client.get("/health")
    assert answered.status_code == 200
    assert answered.json()["status"] == "ok"

    original = db.engine()
    if isinstance(original, PostgresEngine):
        # Nothing listens on port 1: the connection is refused.
        gone = PostgresEngine(config={"dsn": "postgresql://registry:registry@127.0.0.1:1/none"})
    else:
        gone = PooledSQLiteEngine(path=str(tmp_path / "removed" / "registry.sqlite"))
    db.bind(gone)
    try:
        down = await client.get("/health")
    finally:
        db.bind(original)
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert (await client.get("/health")).status_code == 200


async def test_metrics_need_their_token(metrics_client: httpx.AsyncClient, client) -> None:
    assert (await metrics_client.get("/metrics")).status_code == 401
    wrong = await metrics_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "Bearer" in wrong.headers.get("www-authenticate", "")
    # A user's JWT is not the metrics token either.
    ok = await metrics_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("text/plain")
    assert ok.headers["cache-control"] == "no-store"
    # Without a configured token the endpoint is off.
    assert (await client.get("/metrics", headers={"Authorization": "Bearer x"})).status_code == 404


async def test_metrics_count_requests_by_route_template_never_the_raw_path(
    metrics_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    template = "/api/holders/{holder_id}"
    before = await metrics_client.get("/metrics", headers=headers)
    ok = {"path": template, "method": "GET", "status_code": "200"}
    seen = sample(before.text, "registry_http_requests_total", **ok)
    for _ in range(3):
        response = await metrics_client.get(
            f"/api/holders/{tenant.holder_id}", headers=tenant.headers(Role.UDP_ADMIN)
        )
        assert response.status_code == 200
    secret = secrets.token_urlsafe(24)
    await metrics_client.get(f"/reconfirm/{secret}")  # a token in the path

    after = (await metrics_client.get("/metrics", headers=headers)).text
    assert (
        sample(
            after, "registry_http_requests_total", path=template, method="GET", status_code="200"
        )
        == seen + 3
    )
    assert sample(after, "registry_http_request_duration_seconds_count", **ok) >= seen + 3
    assert str(tenant.holder_id) not in after
    assert secret not in after
    assert 'path="/reconfirm/{token}"' in after
    # Refused requests count with their status (the JWT check is a middleware).
    refused = await metrics_client.get(f"/api/holders/{tenant.holder_id}")
    assert refused.status_code == 401
    final = (await metrics_client.get("/metrics", headers=headers)).text
    assert sample(final, "registry_http_requests_total", path=template, status_code="401") >= 1


async def test_metrics_report_job_runs_and_the_outbox(
    metrics_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    before = (await metrics_client.get("/metrics", headers=headers)).text
    run = await run_job("expiry", SETTINGS, ambito_ids=[tenant.ambito_id])
    assert run.status == "ok"
    old = datetime.now(UTC) - timedelta(hours=2)

    def message(status: str, created: datetime) -> OutboxMessage:
        return OutboxMessage(
            ambito=tenant.ambito_id,
            event_id=uuid.uuid4(),
            event_type="resource.updated",
            channel="webhook",
            body="{}",
            status=status,
            next_attempt_at=created,
            created_at=created,
            updated_at=created,
        )

    await OutboxMessage.insert(message("dead", old), message("pending", old))
    try:
        after = (await metrics_client.get("/metrics", headers=headers)).text
    finally:
        await OutboxMessage.delete().where(OutboxMessage.ambito == tenant.ambito_id)
    runs = {"job": "expiry", "status": "ok"}
    assert sample(after, "registry_job_runs_total", **runs) == (
        sample(before, "registry_job_runs_total", **runs) + 1
    )
    last = sample(after, "registry_job_last_success_timestamp_seconds", job="expiry")
    assert abs(last - run.started_at.timestamp()) < 1
    for status in ("dead", "pending"):
        assert sample(after, "registry_outbox_messages", status=status) == (
            sample(before, "registry_outbox_messages", status=status) + 1
        )
    assert sample(after, "registry_outbox_oldest_pending_seconds") >= 2 * 3600 - 60
    await JobRun.delete().where(JobRun.job == "expiry")


async def test_static_files_are_compressed_and_revalidated(client: httpx.AsyncClient) -> None:
    source = (WEB_DIR / "app.js").read_text()
    for encoding in ("br", "gzip"):
        response = await client.get("/app.js", headers={"Accept-Encoding": encoding})
        assert response.status_code == 200
        assert response.headers["content-encoding"] == encoding
        assert response.text == source  # httpx decoded it
        assert response.headers["cache-control"] == "no-cache"
    etag, modified = response.headers["etag"], response.headers["last-modified"]

    unchanged = await client.get("/app.js", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    weak = await client.get("/app.js", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    assert (await client.get("/app.js", headers={"If-Modified-Since": modified})).status_code == 304
    changed = await client.get("/app.js", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.text == source
    older = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert (await client.get("/app.js", headers={"If-Modified-Since": older})).status_code == 200
    # The page itself (html_mode) follows the same rule.
    page = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-cache"


async def test_api_json_is_not_stored_and_is_compressed(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(
        "/api/holders?limit=50",
        headers={**tenant.headers(Role.UDP_ADMIN), "Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    if len(response.content) >= 500:
        assert response.headers["content-encoding"] == "gzip"
    # A handler's own rule wins: the public HSDS directory may be cached for a minute.
    public = await client.get(f"/api/hsds/{tenant.code}/")
    assert public.status_code == 200, public.text
    assert sorted(public.headers["cache-control"].split(", ")) == ["max-age=60", "public"]


async def test_a_handlers_own_cache_control_is_sent_alone() -> None:
    """The default `no-store` is only a default: a feed's own rule is not doubled or beaten."""

    @get("/feed", sync_to_thread=False)
    def feed() -> Response[str]:
        return Response("x", headers={"Cache-Control": "public, max-age=300"})

    @get("/plain", sync_to_thread=False)
    def plain() -> dict[str, int]:
        return {"x": 1}

    application = Litestar([feed, plain], before_send=[default_cache_control])
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        own = await http.get("/feed")
        assert own.headers.get_list("cache-control") == ["public, max-age=300"]
        default = await http.get("/plain")
        assert default.headers.get_list("cache-control") == ["no-store"]
