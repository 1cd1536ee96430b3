"""The outbox and its dispatcher, against a real HTTP receiver on loopback (and a real SMTP
server for e-mail): atomic with the event, signed, retried with backoff, then dead."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import ssl
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
from registry.notifications.tables import (
    Notification,
    NotificationSettings,
    OutboxMessage,
    WebhookEndpoint,
)
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
    and returns (HTTP status, seconds to wait before answering); a 3xx carries a Location.
    With `tls` (a server SSL context) it speaks HTTPS and records the SNI names it was sent.
    `connections` counts every TCP connection accepted, answered or not.
    """

    def __init__(
        self,
        respond: Callable[[str, int], tuple[int, float]] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.respond = respond or (lambda path, n: (200, 0.0))
        self.requests: list[Received] = []
        self.connections = 0
        self.sni: list[str | None] = []
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
                    if 300 <= status < 400:
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up (timeout): nothing to answer to

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                with receiver._lock:
                    receiver.connections += 1
                return True

            def finish_request(self, request: Any, client_address: Any) -> None:
                if tls is not None:
                    try:
                        request = tls.wrap_socket(request, server_side=True)
                    except (ssl.SSLError, OSError):
                        return  # the client refused our certificate, or hung up
                super().finish_request(request, client_address)

        if tls is not None:
            tls.sni_callback = lambda sock, name, context: receiver.sni.append(name)
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hook", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

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


async def test_users_email_is_owed_by_their_preferences_not_queued_at_the_event(
    tenant: Tenant,
) -> None:
    """A domain emits without settings: webhooks are queued with the change, and each
    recipient's e-mail is owed on the notification, as that user chose, for the dispatcher."""
    holder = tenant.users[Role.HOLDER_MANAGER]
    udp = tenant.users[Role.UDP_ADMIN]
    await NotificationSettings(
        ambito=tenant.ambito_id,
        user=holder,
        email="alfa@example.org",
        email_events=[EventType.RESOURCE_STALE.value],
        digest=True,
        updated_at=datetime.now(UTC),
    ).save()
    await NotificationSettings(
        ambito=tenant.ambito_id,
        user=udp,
        email="udp@example.org",
        email_events=[EventType.RESOURCE_EXPIRED.value],  # not this event
        updated_at=datetime.now(UTC),
    ).save()
    await add_endpoint(tenant, "http://127.0.0.1:9/hook")
    async with unit_of_work():
        await emit(event(tenant, users=[holder, udp], emails=["contatto@example.org"]))
    assert [m["channel"] for m in await messages(tenant)] == ["webhook"]
    owed = await Notification.select(Notification.user, Notification.email_due).where(
        Notification.ambito == tenant.ambito_id
    )
    assert {row["user"]: row["email_due"] for row in owed} == {holder: "digest", udp: ""}


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


@pytest.mark.serial
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


# --- webhook targets: every notation of an inside address, checked where the socket opens --

STRICT = replace(FAST, webhook_allow_private=False)
PUBLIC = "93.184.216.34"  # any global address: the tests never connect to it


class Names:
    """A resolver the tests inject: answers from a table (a list of answers is used one
    after the other, the last one repeated), counting the questions."""

    def __init__(self, **table: list[str] | list[list[str]]) -> None:
        self.table = {name.replace("_", "."): answers for name, answers in table.items()}
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        answers = self.table.get(host)
        if answers is None:
            raise OSError(f"unknown name {host}")
        if answers and isinstance(answers[0], list):
            seen = self.asked.count(host)
            return list(answers[min(seen, len(answers)) - 1])  # type: ignore[arg-type]
        return list(answers)  # type: ignore[arg-type]


def tls_pair(name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate valid for `name` only, and a client context that
    trusts it: the client's check succeeds only if it verifies against the name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    moment = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - timedelta(days=1))
        .not_valid_after(moment + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert_file.write_bytes(pem)
        key_file.write_bytes(key_pem)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


@pytest.mark.parametrize(
    "url",
    [
        "https://0x7f000001/x",
        "https://2130706433/x",
        "https://127.1/x",
        "https://0177.0.0.1/x",
        "https://0xa9fea9fe/latest/meta-data",
        "https://169.254.169.254/",
        "https://localhost./x",
        "https://LOCALHOST/x",
        "https://api.localhost/x",
        "https://0.0.0.0/x",
        "https://0/x",
        "https://10.1.2.3/x",
        "https://100.64.0.1/x",
        "https://192.168.1.1./x",
        "https://224.0.0.1/x",
        "https://240.0.0.1/x",
        "https://[::1]/x",
        "https://[::]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:7f00:1]/x",
        "https://[::ffff:a9fe:a9fe]/x",
        "https://[fe80::1]/x",
        "https://[fc00::1]/x",
        "https://[ff0e::1]/x",
        "https://[2002:7f00:1::]/x",
        "https://[64:ff9b::a9fe:a9fe]/x",
        "https://[2001:db8::1]/x",
        "http://example.org/x",
        "https://user:pw@example.org/x",
    ],
)
def test_inside_targets_are_refused_in_every_notation(url: str) -> None:
    from registry.errors import InvalidInput
    from registry.notifications.webhooks import check_url

    with pytest.raises(InvalidInput) as refused:
        check_url(url, allow_private=False)
    assert refused.value.field == "url"
    # A development server may post to itself.
    if url.startswith("https://") and "@" not in url:
        assert check_url(url, allow_private=True) == url


async def test_names_are_resolved_and_every_address_checked() -> None:
    from registry.errors import InvalidInput
    from registry.notifications.webhooks import check_target, vet_host

    names = Names(
        inside_example=["10.1.2.3"],
        mixed_example=[PUBLIC, "127.0.0.1"],
        mapped_example=["::ffff:169.254.169.254"],
        hooks_example=[PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"],
    )
    for host in ("inside.example", "mixed.example", "mapped.example", "nowhere.example"):
        with pytest.raises(InvalidInput) as refused:
            await check_target(f"https://{host}/h", allow_private=False, resolver=names)
        assert refused.value.field == "url" and host in refused.value.message
    url = "https://hooks.example/h"
    assert await check_target(url, allow_private=False, resolver=names) == url
    assert await vet_host("hooks.example", 443, names) == names.table["hooks.example"]
    # The operating system's own resolver (no network needed for these names).
    with pytest.raises(InvalidInput):
        await check_target("https://localhost./h", allow_private=False)
    from registry.notifications.webhooks import TargetRefused

    with pytest.raises(TargetRefused):
        await vet_host("localhost", 443)


async def test_delivery_connects_to_the_checked_address_keeping_name_host_and_sni(
    tenant: Tenant,
) -> None:
    from registry.notifications import webhooks

    server_tls, client_tls = tls_pair("hooks.example")
    names = Names(hooks_example=["127.0.0.1"])
    with Receiver(tls=server_tls) as hook:
        await add_endpoint(tenant, hook.url(host="hooks.example", scheme="https"))
        async with unit_of_work():
            await emit(event(tenant), SETTINGS)
        # A development setting (loopback allowed) so the receiver can be on this machine;
        # the name is still resolved by our resolver and dialled at the address it gave.
        client = webhooks.client(timeout=1.0, allow_private=True, resolver=names, verify=client_tls)
        try:
            result = await Dispatcher(FAST, client=client).run(ambito_ids=[tenant.ambito_id])
        finally:
            await client.aclose()
        assert result.delivered == 1, result.errors
        [got] = hook.requests
        assert got.headers["Host"] == f"hooks.example:{hook.port}"
        assert hook.sni == ["hooks.example"]  # and the certificate was checked for the name
        assert names.asked == ["hooks.example"]


async def test_a_name_that_turns_inside_after_the_check_is_never_connected(
    tenant: Tenant,
) -> None:
    from registry.notifications.webhooks import check_target

    server_tls, _ = tls_pair("rebind.example")
    # Public when the endpoint is saved, loopback when the delivery resolves it again.
    names = Names(rebind_example=[[PUBLIC], ["127.0.0.1"]])
    with Receiver(tls=server_tls) as hook:
        url = hook.url(host="rebind.example", scheme="https")
        assert await check_target(url, allow_private=False, resolver=names) == url
        await add_endpoint(tenant, url)
        # Saved before the rules were tightened: literal inside addresses in odd notations.
        await add_endpoint(tenant, hook.url(host="0x7f000001", scheme="https"))
        await add_endpoint(tenant, hook.url(host="127.1", scheme="https"))
        async with unit_of_work():
            await emit(event(tenant), SETTINGS)
        result = await Dispatcher(STRICT, resolver=names).run(ambito_ids=[tenant.ambito_id])
        assert (result.delivered, result.dead) == (0, 3)
        assert hook.connections == 0 and hook.requests == []
        errors = sorted(m["last_error"] for m in await messages(tenant))
        assert all("not allowed" in e for e in errors), errors
        assert any("127.0.0.1" in e and "rebind.example" in e for e in errors), errors


async def test_redirects_are_not_followed(tenant: Tenant) -> None:
    with Receiver(lambda path, n: (307, 0.0)) as moved:
        await add_endpoint(tenant, moved.url())
        async with unit_of_work():
            await emit(event(tenant), SETTINGS)
        result = await Dispatcher(FAST).run(ambito_ids=[tenant.ambito_id])
        assert result.retrying == 1
        assert [r.path for r in moved.requests] == ["/hook"]
        [row] = await messages(tenant)
        assert row["last_status_code"] == 307
