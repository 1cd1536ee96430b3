"""The outbox and its dispatcher, against a real HTTP receiver on loopback (and a real SMTP
server for e-mail): atomic with the event, signed, retried with backoff, then dead."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from registry.access import Role
from registry.db import unit_of_work
from registry.notifications.dispatcher import Dispatcher, backoff_seconds
from registry.notifications.events import EventType
from registry.notifications.service import Event, emit
from registry.notifications.tables import Notification, OutboxMessage, WebhookEndpoint
from registry.resources.tables import Resource
from tests.conftest import SETTINGS, Tenant

FAST = replace(
    SETTINGS,
    webhook_timeout_seconds=1.0,
    outbox_lease_seconds=5.0,
    outbox_backoff_seconds=10.0,
    outbox_max_attempts=4,
)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request, answers as `respond` says.

    `respond(path, n)` gets the path and how many requests that path had before this one,
    and returns (HTTP status, seconds to wait before answering).
    """

    def __init__(self, respond: Callable[[str, int], tuple[int, float]] | None = None) -> None:
        self.respond = respond or (lambda path, n: (200, 0.0))
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    seen = sum(1 for r in receiver.requests if r.path == self.path)
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                status, delay = receiver.respond(self.path, seen)
                if delay:
                    threading.Event().wait(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up (timeout): nothing to answer to

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def keys(self, path: str | None = None) -> list[str]:
        return [
            r.headers["Idempotency-Key"] for r in self.requests if path is None or r.path == path
        ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


async def add_endpoint(
    tenant: Tenant, url: str, secret: str = "whsec_abc", events: list[str] | None = None
) -> uuid.UUID:
    moment = datetime.now(UTC)
    row = WebhookEndpoint(
        ambito=tenant.ambito_id,
        url=url,
        events=events or [],
        secret=secret,
        created_at=moment,
        updated_at=moment,
    )
    await row.save()
    return row.id


def event(tenant: Tenant, kind: EventType = EventType.RESOURCE_STALE, **extra: Any) -> Event:
    values: dict[str, Any] = {
        "title": "Risorsa non più proposta",
        "body": "Testo dell'avviso",
        "data": {"resource_id": str(tenant.resource_id)},
        "link": "http://127.0.0.1:8000/reconfirm/x",
        "users": [tenant.users[Role.HOLDER_MANAGER]],
    }
    return Event(ambito_id=tenant.ambito_id, type=kind, **{**values, **extra})


async def messages(tenant: Tenant) -> list[dict[str, Any]]:
    return await OutboxMessage.select().where(OutboxMessage.ambito == tenant.ambito_id)


async def test_outbox_is_written_with_the_event_or_not_at_all(tenant: Tenant) -> None:
    await add_endpoint(tenant, "http://127.0.0.1:9/hook")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with unit_of_work():
            await Resource.update({Resource.status: "stale"}).where(
                Resource.id == tenant.resource_id
            )
            await emit(event(tenant), SETTINGS)
            raise Boom  # anything after the event fails: the whole unit rolls back
    assert await messages(tenant) == []
    assert await Notification.count().where(Notification.ambito == tenant.ambito_id) == 0
    resource = await Resource.select(Resource.status).where(Resource.id == tenant.resource_id)
    assert resource[0]["status"] == "active"

    async with unit_of_work():
        await Resource.update({Resource.status: "stale"}).where(Resource.id == tenant.resource_id)
        await emit(event(tenant), SETTINGS)
    assert [m["status"] for m in await messages(tenant)] == ["pending"]
    assert await Notification.count().where(Notification.ambito == tenant.ambito_id) == 1


async def test_emit_outside_a_transaction_is_refused(tenant: Tenant) -> None:
    with pytest.raises(RuntimeError, match="unit_of_work"):
        await emit(event(tenant), SETTINGS)


async def test_delivery_is_signed_and_the_receiver_can_verify_it(
    tenant: Tenant, receiver: Receiver
) -> None:
    secret = "whsec_receiver_knows_this"
    await add_endpoint(tenant, receiver.url(), secret)
    await add_endpoint(tenant, receiver.url("/only-expired"), events=["resource.expired"])
    async with unit_of_work():
        await emit(event(tenant), SETTINGS)
    result = await Dispatcher(FAST).run(ambito_ids=[tenant.ambito_id])
    assert (result.delivered, result.retrying, result.dead) == (1, 0, 0)
    [got] = receiver.requests  # the endpoint not subscribed to resource.stale got nothing
    # What a receiver does, with nothing but the standard library and the secret:
    expected = "sha256=" + hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, got.headers["X-Registry-Signature-256"])
    payload = json.loads(got.body)
    assert payload["id"] == got.headers["Idempotency-Key"]
    assert payload["type"] == got.headers["X-Registry-Event"] == "resource.stale"
    assert payload["ambito"]["code"] == tenant.code
    assert payload["data"] == {"resource_id": str(tenant.resource_id)}
    tampered = got.body.replace(b"stale", b"fresh")
    forged = "sha256=" + hmac.new(secret.encode(), tampered, hashlib.sha256).hexdigest()
    assert forged != got.headers["X-Registry-Signature-256"]

    [row] = await messages(tenant)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 200)
    assert row["locked_until"] is None and str(row["id"]) == payload["id"]
    # Delivered is final: another run sends nothing again.
    again = await Dispatcher(FAST).run(ambito_ids=[tenant.ambito_id])
    assert again.attempted == 0 and len(receiver.requests) == 1


def test_backoff_is_exponential_with_jitter() -> None:
    low = [backoff_seconds(FAST, n, rng=lambda: 0.0) for n in (1, 2, 3, 4)]
    high = [backoff_seconds(FAST, n, rng=lambda: 1.0) for n in (1, 2, 3, 4)]
    assert low == [5.0, 10.0, 20.0, 40.0] and high == [10.0, 20.0, 40.0, 80.0]
    capped = replace(FAST, outbox_backoff_max_seconds=15.0)
    assert backoff_seconds(capped, 10, rng=lambda: 1.0) == 15.0


async def test_retries_with_backoff_then_dead() -> None:
    from tests.conftest import make_tenant

    tenant = await make_tenant()
    with Receiver(lambda path, n: (503, 0.0)) as failing:
        await add_endpoint(tenant, failing.url())
        async with unit_of_work():
            await emit(event(tenant), SETTINGS)
        clock = datetime.now(UTC)
        dispatcher = Dispatcher(FAST)
        gaps = []
        for attempt in range(1, 5):
            result = await dispatcher.run(clock, [tenant.ambito_id])
            assert result.attempted == 1
            [row] = await messages(tenant)
            assert row["attempts"] == attempt and row["last_status_code"] == 503
            assert "503" in row["last_error"]
            if attempt < 4:
                assert row["status"] == "retrying"
                gap = (row["next_attempt_at"] - clock).total_seconds()
                ceiling = FAST.outbox_backoff_seconds * 2 ** (attempt - 1)
                assert ceiling / 2 <= gap <= ceiling + 1, gap
                gaps.append(gap)
                # Not due yet: nothing is attempted before its time.
                early = await dispatcher.run(clock + timedelta(seconds=gap / 2), [tenant.ambito_id])
                assert early.attempted == 0
                clock = row["next_attempt_at"]
            else:
                assert row["status"] == "dead" and row["locked_until"] is None
        assert gaps[0] < gaps[2]
        # Every attempt carried the same idempotency key: the message id.
        assert set(failing.keys()) == {str(row["id"])} and len(failing.keys()) == 4
        late = await dispatcher.run(clock + timedelta(days=1), [tenant.ambito_id])
        assert late.attempted == 0  # dead stays dead until the UdP retries it


async def test_a_receiver_that_recovers_gets_the_message(tenant: Tenant) -> None:
    with Receiver(lambda path, n: (500, 0.0) if n < 2 else (204, 0.0)) as flaky:
        await add_endpoint(tenant, flaky.url())
        async with unit_of_work():
            await emit(event(tenant), SETTINGS)
        clock = datetime.now(UTC)
        for _ in range(3):
            await Dispatcher(FAST).run(clock, [tenant.ambito_id])
            clock += timedelta(hours=1)
        [row] = await messages(tenant)
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 3, 204)
        assert row["last_error"] == ""


async def test_gone_removed_and_disabled_endpoints_go_dead(tenant: Tenant) -> None:
    with Receiver(lambda path, n: (410, 0.0)) as gone:
        await add_endpoint(tenant, gone.url())
        removed = await add_endpoint(tenant, gone.url("/removed"))
        disabled = await add_endpoint(tenant, gone.url("/disabled"))
        async with unit_of_work():
            await emit(event(tenant), SETTINGS)
        await WebhookEndpoint.delete().where(WebhookEndpoint.id == removed)
        await WebhookEndpoint.update({WebhookEndpoint.active: False}).where(
            WebhookEndpoint.id == disabled
        )
        result = await Dispatcher(FAST).run(ambito_ids=[tenant.ambito_id])
        assert result.dead == 3
        errors = sorted(m["last_error"] for m in await messages(tenant))
        assert any("410" in e for e in errors)
        assert any("removed" in e for e in errors) and any("disabled" in e for e in errors)
        assert all(m["attempts"] == 1 for m in await messages(tenant))
        assert [r.path for r in gone.requests] == ["/hook"]


async def test_a_slow_receiver_times_out_and_is_retried(tenant: Tenant) -> None:
    quick = replace(FAST, webhook_timeout_seconds=0.3, outbox_lease_seconds=2.0)
    with Receiver(lambda path, n: (200, 1.0)) as slow:
        await add_endpoint(tenant, slow.url())
        async with unit_of_work():
            await emit(event(tenant), SETTINGS)
        result = await Dispatcher(quick).run(ambito_ids=[tenant.ambito_id])
        assert result.retrying == 1
        [row] = await messages(tenant)
        assert row["status"] == "retrying" and "Timeout" in row["last_error"]


async def test_two_dispatchers_never_send_the_same_message(tenant: Tenant) -> None:
    with Receiver(lambda path, n: (200, 0.02)) as hook:
        await add_endpoint(tenant, hook.url())
        async with unit_of_work():
            for _ in range(30):
                await emit(event(tenant, users=[]), SETTINGS)
        small = replace(FAST, outbox_batch_size=4, outbox_concurrency=2)
        first, second = await asyncio.gather(
            Dispatcher(small).run(ambito_ids=[tenant.ambito_id]),
            Dispatcher(small).run(ambito_ids=[tenant.ambito_id]),
        )
        assert first.delivered + second.delivered == 30
        assert len(hook.keys()) == len(set(hook.keys())) == 30
        assert {m["status"] for m in await messages(tenant)} == {"delivered"}


async def test_a_dead_dispatchers_claim_expires_and_is_taken_over(
    tenant: Tenant, receiver: Receiver
) -> None:
    await add_endpoint(tenant, receiver.url())
    async with unit_of_work():
        await emit(event(tenant), SETTINGS)
    now = datetime.now(UTC)
    # A dispatcher claimed the message and died (no delivery, no release).
    await OutboxMessage.update(
        {OutboxMessage.locked_until: now + timedelta(seconds=60), OutboxMessage.locked_by: "dead"}
    ).where(OutboxMessage.ambito == tenant.ambito_id)
    assert (await Dispatcher(FAST).run(now, [tenant.ambito_id])).attempted == 0
    later = await Dispatcher(FAST).run(now + timedelta(seconds=61), [tenant.ambito_id])
    assert later.delivered == 1 and len(receiver.requests) == 1


async def test_email_is_sent_over_smtp(tenant: Tenant) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[Any] = []

    class Collect(Message):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    with socket.socket() as probe:  # a free port: aiosmtpd's readiness check needs a real one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(Collect(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        smtp = replace(
            FAST,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
            smtp_from="registro@ambito.example",
        )
        async with unit_of_work():
            await emit(event(tenant, emails=["alfa@example.org", "alfa@example.org"]), smtp)
        [row] = [m for m in await messages(tenant) if m["channel"] == "email"]
        result = await Dispatcher(smtp).run(ambito_ids=[tenant.ambito_id])
        assert result.delivered == 1
        [mail] = received
        assert mail["To"] == "alfa@example.org"
        assert str(make_header(decode_header(mail["Subject"]))) == "Risorsa non più proposta"
        assert str(row["id"]) in mail["Message-ID"]
        assert "/reconfirm/x" in mail.get_payload(decode=True).decode()
    finally:
        server.stop()
    # Without SMTP settings no e-mail is queued at all.
    async with unit_of_work():
        await emit(event(tenant, emails=["beta@example.org"]), SETTINGS)
    assert [m["recipient"] for m in await messages(tenant)] == ["alfa@example.org"]


async def test_an_unreachable_smtp_server_means_retrying(tenant: Tenant) -> None:
    smtp = replace(FAST, smtp_host="127.0.0.1", smtp_port=9, smtp_starttls=False)
    async with unit_of_work():
        await emit(event(tenant, emails=["gamma@example.org"]), smtp)
    result = await Dispatcher(smtp).run(ambito_ids=[tenant.ambito_id])
    assert result.retrying == 1
    [row] = await messages(tenant)
    assert row["status"] == "retrying" and "EmailError" in row["last_error"]
