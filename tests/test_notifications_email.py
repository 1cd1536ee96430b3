"""Each user's e-mail choices (issue 17): which notifications arrive by e-mail, one by one at
the dispatcher's next run or together in the daily digest, delivered over real SMTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import httpx
import pytest

from registry.access import Role
from registry.common import now as utcnow
from registry.config import Settings
from registry.notifications.dispatcher import Dispatcher
from registry.notifications.tables import Notification, OutboxMessage
from registry.scheduled_jobs import run_job
from tests.conftest import SETTINGS, Tenant
from tests.test_notifications_workflow import proposal
from tests.test_plans_support import add_user

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
PREFERENCES = "/api/notifications/preferences"


class Mailbox:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.received: list[Message] = []

    def to(self, address: str) -> list[Message]:
        return [m for m in self.received if m["To"] == address]


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def text(message: Message) -> str:
    return message.get_payload(decode=True).decode()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on loopback, and settings that send to it."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as Collector

    box: Mailbox

    class Collect(Collector):
        def handle_message(self, message: Any) -> None:
            box.received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(Collect(), hostname="127.0.0.1", port=port)
    server.start()
    box = Mailbox(
        replace(
            SETTINGS,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
            smtp_from="registro@ambito.example",
            public_base_url="https://registro.example",
        )
    )
    try:
        yield box
    finally:
        server.stop()


async def choose(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict:
    response = await client.put(PREFERENCES, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_preferences_start_empty_and_are_checked(client, tenant: Tenant) -> None:
    start = (await client.get(PREFERENCES, headers=tenant.headers(V))).json()
    assert start == {
        "email": "",
        "email_events": ["contribution.confirmed"],
        "digest": False,
        "available_events": ["contribution.confirmed"],
        "email_configured": False,  # the tests' settings have no SMTP server
    }
    holder_side = (await client.get(PREFERENCES, headers=tenant.headers(H))).json()
    assert "match.proposed" in holder_side["available_events"]
    assert "match.accepted" not in holder_side["available_events"]

    bad = await client.put(
        PREFERENCES, json={"email": "non-un-indirizzo"}, headers=tenant.headers(V)
    )
    assert bad.status_code == 400 and "email" in bad.text
    wrong = await client.put(
        PREFERENCES,
        json={"email": "v@example.org", "email_events": ["match.proposed"]},
        headers=tenant.headers(V),
    )
    assert (wrong.status_code, wrong.json()["field"]) == (400, "email_events[0]")
    ping = await client.put(
        PREFERENCES, json={"email_events": ["webhook.ping"]}, headers=tenant.headers(U)
    )
    assert ping.status_code == 400

    saved = await choose(
        client, tenant.headers(V), email="Volontaria@Example.ORG", digest=True, email_events=[]
    )
    assert (saved["email"], saved["email_events"], saved["digest"]) == (
        "Volontaria@example.org",
        [],
        True,
    )
    again = await choose(
        client, tenant.headers(V), email="v@example.org", email_events=["contribution.confirmed"]
    )
    assert (again["email"], again["email_events"], again["digest"]) == (
        "v@example.org",
        ["contribution.confirmed"],
        False,
    )


async def test_chosen_events_arrive_by_email_at_the_next_dispatch(
    client, tenant: Tenant, mailbox: Mailbox
) -> None:
    quiet = await add_user(tenant, H, holder_id=tenant.holder_id)
    await choose(
        client, tenant.headers(H), email="alfa@example.org", email_events=["match.proposed"]
    )
    await choose(client, quiet["headers"], email="quiet@example.org", email_events=[])
    made = await proposal(client, tenant)

    result = await Dispatcher(mailbox.settings).run(ambito_ids=[tenant.ambito_id])
    assert (result.emails_queued, result.delivered) == (1, 1)
    [mail] = mailbox.to("alfa@example.org")
    assert subject(mail) == "Nuova proposta: «Accompagnamento del lunedì»"
    body = text(mail)
    assert "https://registro.example/#/proposte" in body
    assert made["plan"]["case_code"] not in body
    assert mailbox.to("quiet@example.org") == []  # in the app only, as chosen

    again = await Dispatcher(mailbox.settings).run(ambito_ids=[tenant.ambito_id])
    assert (again.emails_queued, again.delivered) == (0, 0)
    assert len(mailbox.received) == 1


async def test_the_daily_digest_gathers_what_is_still_unread(
    client, tenant: Tenant, mailbox: Mailbox
) -> None:
    await choose(
        client,
        tenant.headers(H),
        email="alfa@example.org",
        email_events=["match.proposed"],
        digest=True,
    )
    await proposal(client, tenant, title="Prima risorsa")
    await proposal(client, tenant, title="Seconda risorsa")
    third = await proposal(client, tenant, title="Terza risorsa")
    # Read in the app before the digest: not repeated by e-mail.
    [seen] = await Notification.select(Notification.id).where(
        (Notification.user == tenant.users[H]) & Notification.title.like("%Terza%")
    )
    read = await client.post(f"/api/notifications/{seen['id']}/read", headers=tenant.headers(H))
    assert read.status_code == 200 and third

    # The dispatcher sends nothing one by one.
    assert (await Dispatcher(mailbox.settings).run(ambito_ids=[tenant.ambito_id])).delivered == 0

    clock = utcnow() + timedelta(minutes=1)
    run = await run_job(
        "digest", mailbox.settings, now=clock, trigger="test", ambito_ids=[tenant.ambito_id]
    )
    assert (run.status, run.summary["digests"], run.summary["notifications"]) == ("ok", 1, 2)
    again = await run_job(
        "digest", mailbox.settings, now=clock, trigger="test", ambito_ids=[tenant.ambito_id]
    )
    assert again.summary["digests"] == 0  # idempotent: nothing is sent twice

    await Dispatcher(mailbox.settings).run(clock, ambito_ids=[tenant.ambito_id])
    [mail] = mailbox.to("alfa@example.org")
    assert subject(mail) == "Riepilogo del registro: 2 notifiche"
    body = text(mail)
    assert body.index("Prima risorsa") < body.index("Seconda risorsa")
    assert "Terza risorsa" not in body


async def test_without_smtp_nothing_is_owed(client, tenant: Tenant) -> None:
    await choose(
        client, tenant.headers(H), email="alfa@example.org", email_events=["match.proposed"]
    )
    await proposal(client, tenant)
    result = await Dispatcher(SETTINGS).run(ambito_ids=[tenant.ambito_id])
    assert result.emails_queued == 0
    owed = await Notification.count().where(
        (Notification.ambito == tenant.ambito_id) & (Notification.email_due != "")
    )
    assert owed == 0  # a server configured later does not mail out the backlog
    emails = await OutboxMessage.count().where(
        (OutboxMessage.ambito == tenant.ambito_id) & (OutboxMessage.channel == "email")
    )
    assert emails == 0
