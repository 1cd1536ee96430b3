"""The freshness, expiry and re-matching jobs, driven by a controlled clock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from registry.access import Role
from registry.freshness.rematch import NeedCandidates, run_rematch
from registry.freshness.service import run_expiry, run_freshness
from registry.freshness.tables import CandidateNotice, ReconfirmLink
from registry.holders.tables import Holder
from registry.notifications.tables import Notification, OutboxMessage
from registry.resources.tables import AvailabilityWindow, Resource
from tests.conftest import SETTINGS, Tenant
from tests.test_notifications_api import add_webhook

H, S, U = Role.HOLDER_MANAGER, Role.SOCIAL_WORKER, Role.UDP_ADMIN
NOW = datetime.now(UTC).replace(microsecond=0)


async def confirmed(resource_id: uuid.UUID, at: datetime) -> None:
    await Resource.update({Resource.confirmed_at: at}).where(Resource.id == resource_id)


async def status(resource_id: uuid.UUID) -> str:
    row = await Resource.select(Resource.status).where(Resource.id == resource_id).first()
    assert row is not None  # never deleted
    return row["status"]


async def inbox(tenant: Tenant, role: Role) -> list[dict[str, Any]]:
    return await Notification.select().where(Notification.user == tenant.users[role])


async def outbox(tenant: Tenant) -> list[dict[str, Any]]:
    return await OutboxMessage.select().where(OutboxMessage.ambito == tenant.ambito_id)


def days(n: float) -> timedelta:
    return timedelta(days=n)


async def test_reminder_after_n_days_once_per_confirmation(tenant: Tenant) -> None:
    await add_webhook(tenant)
    await confirmed(tenant.resource_id, NOW - days(61))
    await confirmed(tenant.other_resource_id, NOW - days(59))
    scope = [tenant.ambito_id]

    assert await run_freshness(NOW, SETTINGS, scope) == {"reminded": 1, "stale": 0}
    assert await status(tenant.resource_id) == "active"
    [note] = await inbox(tenant, H)
    assert note["event_type"] == "resource.reconfirmation_requested"
    assert "/reconfirm/" in note["link"] and note["link"].startswith(SETTINGS.public_base_url)
    [message] = await outbox(tenant)
    assert note["link"] in message["body"]
    [link] = await ReconfirmLink.select().where(ReconfirmLink.resource == tenant.resource_id)
    assert link["reason"] == "reminder" and link["used_at"] is None

    # Idempotent: the same or a later clock sends nothing new until it is confirmed again...
    assert await run_freshness(NOW, SETTINGS, scope) == {"reminded": 0, "stale": 0}
    assert await run_freshness(NOW + days(1), SETTINGS, scope) == {"reminded": 1, "stale": 0}
    # (that one was the other resource, now at 60 days: another holder, so not H's inbox)
    assert len(await inbox(tenant, H)) == 1
    links = await ReconfirmLink.select(ReconfirmLink.resource).where(
        ReconfirmLink.ambito == tenant.ambito_id
    )
    assert sorted(str(r["resource"]) for r in links) == sorted(
        [str(tenant.resource_id), str(tenant.other_resource_id)]
    )
    # ...and after a new confirmation, 60 days later, it is reminded again.
    await confirmed(tenant.resource_id, NOW + days(2))
    later = NOW + days(2 + 60)
    assert (await run_freshness(later, SETTINGS, scope))["reminded"] == 1


async def test_stale_after_m_days_leaves_suggestions_but_is_kept(
    client, tenant: Tenant, other_tenant: Tenant
) -> None:
    await confirmed(tenant.resource_id, NOW - days(91))
    await confirmed(other_tenant.resource_id, NOW - days(91))
    result = await run_freshness(NOW, SETTINGS, [tenant.ambito_id])
    assert result == {"reminded": 0, "stale": 1}
    assert await status(tenant.resource_id) == "stale"
    assert await status(other_tenant.resource_id) == "active"  # another scope: untouched
    [note] = await inbox(tenant, H)
    assert note["event_type"] == "resource.stale" and "/reconfirm/" in note["link"]
    headers = tenant.headers(U)
    shown = await client.get(f"/api/resources/{tenant.resource_id}", headers=headers)
    assert shown.status_code == 200 and shown.json()["status"] == "stale"
    active = (await client.get("/api/resources?status=active", headers=headers)).json()
    assert str(tenant.resource_id) not in {r["id"] for r in active["items"]}
    assert await run_freshness(NOW + days(30), SETTINGS, [tenant.ambito_id]) == {
        "reminded": 0,
        "stale": 0,
    }


async def test_a_confirmation_racing_the_job_wins(tenant: Tenant) -> None:
    await confirmed(tenant.resource_id, NOW - days(91))
    await confirmed(tenant.resource_id, NOW)  # confirmed after the job would have looked
    assert await run_freshness(NOW, SETTINGS, [tenant.ambito_id]) == {"reminded": 0, "stale": 0}


async def test_reminders_go_to_the_holders_email_when_smtp_is_configured(tenant: Tenant) -> None:
    from dataclasses import replace

    await Holder.update(
        {Holder.contacts: '[{"kind": "email", "value": "alfa@example.org", "label": ""}]'}
    ).where(Holder.id == tenant.holder_id)
    await confirmed(tenant.resource_id, NOW - days(65))
    smtp = replace(SETTINGS, smtp_host="127.0.0.1", smtp_port=9)
    await run_freshness(NOW, smtp, [tenant.ambito_id])
    [mail] = await outbox(tenant)
    assert (mail["channel"], mail["recipient"]) == ("email", "alfa@example.org")
    assert mail["subject"].startswith("Conferma la disponibilità") and "/reconfirm/" in mail["body"]


async def test_expiry_of_resources(tenant: Tenant) -> None:
    today = NOW.date()
    await Resource.update({Resource.valid_until: today - days(1)}).where(
        Resource.id == tenant.resource_id
    )
    await Resource.update(
        {Resource.valid_until: today - days(1), Resource.status: "archived"}
    ).where(Resource.id == tenant.other_resource_id)
    result = await run_expiry(NOW, SETTINGS, [tenant.ambito_id])
    assert result["resources_expired"] == 1
    assert await status(tenant.resource_id) == "expired"
    assert await status(tenant.other_resource_id) == "archived"
    [note] = await inbox(tenant, H)
    assert note["event_type"] == "resource.expired" and "/reconfirm/" in note["link"]
    assert (await run_expiry(NOW, SETTINGS, [tenant.ambito_id]))["resources_expired"] == 0


async def test_a_resource_valid_until_today_is_not_expired_yet(tenant: Tenant) -> None:
    await Resource.update({Resource.valid_until: NOW.date() + days(3)}).where(
        Resource.id == tenant.resource_id
    )
    assert (await run_expiry(NOW, SETTINGS, [tenant.ambito_id]))["resources_expired"] == 0
    later = NOW + days(4)  # the clock moves on; the job follows it
    assert (await run_expiry(later, SETTINGS, [tenant.ambito_id]))["resources_expired"] == 1


async def test_expiry_of_availability_windows(tenant: Tenant) -> None:
    today = NOW.date()

    async def window(until: date) -> uuid.UUID:
        row = AvailabilityWindow(
            resource=tenant.resource_id,
            freq="WEEKLY",
            by_day=["FR"],
            start_time=time(15),
            end_time=time(17),
            valid_from=date(2025, 1, 3),
            valid_until=until,
            exceptions=[],
        )
        await row.save()
        return row.id

    ended = await window(today + days(5))
    await window(today - days(45))  # ended long ago: old news, not announced
    scope = [tenant.ambito_id]
    assert (await run_expiry(NOW, SETTINGS, scope))["windows_expired"] == 0
    result = await run_expiry(NOW + days(6), SETTINGS, scope)
    assert result == {"resources_expired": 0, "windows_expired": 1}
    assert await status(tenant.resource_id) == "active"  # its window is what ended
    assert await run_expiry(NOW + days(7), SETTINGS, scope) == {
        "resources_expired": 0,
        "windows_expired": 0,
    }
    # Extended, then ended again: announced again.
    await AvailabilityWindow.update({AvailabilityWindow.valid_until: today + days(10)}).where(
        AvailabilityWindow.id == ended
    )
    assert (await run_expiry(NOW + days(11), SETTINGS, scope))["windows_expired"] == 1
    notes = await inbox(tenant, H)
    assert [n["event_type"] for n in notes] == ["availability.expired"] * 2
    # One ended, one left (the tenant's weekly window): singular, in agreement.
    assert "Una fascia di disponibilità" in notes[0]["body"]
    assert "è terminata" in notes[0]["body"]
    assert "Resta 1 fascia in corso" in notes[0]["body"]


async def test_rematch_tells_the_social_worker_once_per_pair(tenant: Tenant) -> None:
    need = uuid.uuid4()
    asked: list[tuple[uuid.UUID, list[uuid.UUID]]] = []

    async def finder(ambito: uuid.UUID, resources: Sequence[uuid.UUID]) -> list[NeedCandidates]:
        asked.append((ambito, list(resources)))
        return [
            NeedCandidates(
                need_id=need,
                social_worker_id=tenant.users[S],
                # An unknown resource and one not confirmed lately are ignored.
                resource_ids=[*resources, uuid.uuid4()],
                label="caso AB12 · trasporto",
            )
        ]

    await confirmed(tenant.resource_id, NOW - timedelta(minutes=5))
    await confirmed(tenant.other_resource_id, NOW - days(3))
    since = NOW - timedelta(minutes=15)
    scope = [tenant.ambito_id]
    result = await run_rematch(NOW, SETTINGS, since=since, finder=finder, ambito_ids=scope)
    assert result == {"resources_considered": 1, "needs_notified": 1, "new_pairs": 1}
    assert asked == [(tenant.ambito_id, [tenant.resource_id])]
    [note] = await inbox(tenant, S)
    assert note["event_type"] == "need.new_candidates" and "AB12" in note["title"]
    # Confirmed again: the same (need, resource) pair is not news any more.
    await confirmed(tenant.resource_id, NOW + timedelta(minutes=1))
    again = await run_rematch(
        NOW + timedelta(minutes=2), SETTINGS, since=NOW, finder=finder, ambito_ids=scope
    )
    assert again["needs_notified"] == 0 and len(await inbox(tenant, S)) == 1
    # The other resource's availability is added now: a new candidate for the same need.
    await confirmed(tenant.other_resource_id, NOW + timedelta(minutes=3))
    third = await run_rematch(
        NOW + timedelta(minutes=4),
        SETTINGS,
        since=NOW + timedelta(minutes=2),
        finder=finder,
        ambito_ids=scope,
    )
    assert third["new_pairs"] == 1
    pairs = await CandidateNotice.count().where(CandidateNotice.need_id == need)
    assert pairs == 2


async def test_rematch_with_the_matching_engine(client, tenant: Tenant) -> None:
    """The built-in finder: the plans and the matching engine as they are."""
    from tests.test_plans_support import create_need, create_plan

    plan = await create_plan(client, tenant)  # the tenant's social worker owns it
    await create_need(client, tenant, plan["id"])  # transport on Monday morning, in Italian
    await confirmed(tenant.resource_id, NOW - timedelta(minutes=5))  # transport, Mon 9-12
    scope = [tenant.ambito_id]
    since = NOW - timedelta(minutes=15)
    result = await run_rematch(NOW, SETTINGS, since=since, ambito_ids=scope)
    assert result == {"resources_considered": 1, "needs_notified": 1, "new_pairs": 1}
    [note] = await inbox(tenant, S)
    assert note["event_type"] == "need.new_candidates"
    assert plan["case_code"] in note["title"] and "Trasporto Associazione Alfa" in note["body"]
    assert (await run_rematch(NOW, SETTINGS, since=since, ambito_ids=scope))["new_pairs"] == 0
    # A stale resource is out of the suggestions, so it is never news.
    await Resource.update({Resource.status: "stale"}).where(Resource.id == tenant.other_resource_id)
    await confirmed(tenant.other_resource_id, NOW)
    later = await run_rematch(NOW, SETTINGS, since=since, ambito_ids=scope)
    assert later["resources_considered"] == 1 and later["new_pairs"] == 0


async def test_rematch_without_plans_is_skipped_not_failed(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    import registry.freshness.rematch as rematch

    monkeypatch.setattr(rematch, "default_finder", lambda today: None)
    result = await run_rematch(NOW, SETTINGS, since=NOW - days(1), ambito_ids=[tenant.ambito_id])
    assert "skipped" in result


async def _states(client, tenant: Tenant) -> dict[str, str | None]:
    page = (await client.get("/api/resources", headers=tenant.headers(U))).json()
    return {r["id"]: r["freshness"] for r in page["items"]}


async def test_to_reconfirm_is_counted_before_the_nightly_job_as_the_badges_show(
    client, tenant: Tenant, other_tenant: Tenant
) -> None:
    # Confirmed 117 days ago and the job has not run yet: the resource is still 'active'.
    await confirmed(tenant.resource_id, NOW - days(117))
    await confirmed(tenant.other_resource_id, NOW - days(SETTINGS.freshness_reminder_days + 1))
    await confirmed(other_tenant.resource_id, NOW - days(200))  # another ambito: not counted
    assert await status(tenant.resource_id) == "active"

    states = await _states(client, tenant)
    assert states == {str(tenant.resource_id): "stale", str(tenant.other_resource_id): "aging"}
    answer = await client.get("/api/resources/freshness", headers=tenant.headers(U))
    assert answer.status_code == 200
    assert answer.json() == {
        "total": 2,
        "fresh": 0,
        "aging": 1,
        "to_reconfirm": 1,
        "reminder_days": SETTINGS.freshness_reminder_days,
        "stale_days": SETTINGS.freshness_stale_days,
    }
    one = await client.get(f"/api/resources/{tenant.resource_id}", headers=tenant.headers(H))
    assert one.json()["freshness"] == "stale"

    # A holder's own count, for its home.
    mine = await client.get(
        f"/api/resources/freshness?holder_id={tenant.holder_id}", headers=tenant.headers(H)
    )
    assert (mine.json()["to_reconfirm"], mine.json()["total"]) == (1, 1)

    # After the job the same resource is still counted once; a confirmation clears it.
    await run_freshness(NOW, SETTINGS, [tenant.ambito_id])
    assert await status(tenant.resource_id) == "stale"
    again = (await client.get("/api/resources/freshness", headers=tenant.headers(U))).json()
    assert again["to_reconfirm"] == 1
    confirm = await client.post(
        f"/api/resources/{tenant.resource_id}/confirm", headers=tenant.headers(H)
    )
    assert confirm.json()["freshness"] == "fresh"
    after = (await client.get("/api/resources/freshness", headers=tenant.headers(S))).json()
    assert (after["fresh"], after["aging"], after["to_reconfirm"]) == (1, 1, 0)


async def test_expired_and_archived_resources_are_not_to_reconfirm(client, tenant: Tenant) -> None:
    await confirmed(tenant.resource_id, NOW - days(200))
    await Resource.update({Resource.status: "expired"}).where(Resource.id == tenant.resource_id)
    await Resource.update({Resource.status: "archived"}).where(
        Resource.id == tenant.other_resource_id
    )
    shown = await client.get(f"/api/resources/{tenant.resource_id}", headers=tenant.headers(U))
    assert shown.json()["freshness"] is None
    counted = (await client.get("/api/resources/freshness", headers=tenant.headers(U))).json()
    assert (counted["total"], counted["to_reconfirm"]) == (0, 0)
