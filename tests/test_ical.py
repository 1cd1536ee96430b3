"""iCalendar feeds: parsed back with `icalendar`, RRULE and EXDATE as stored, accepted
matches, the volunteer's commitments, hashed and revocable tokens."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dateutil import rrule as dateutil_rrule
from icalendar import Calendar

from registry.access import Role
from registry.common import now
from registry.interop.tables import FeedToken
from registry.users.tables import User
from tests.conftest import Tenant, make_tenant
from tests.fixtures.interop import rich_data

ROME = ZoneInfo("Europe/Rome")
U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


async def create_feed(client, tenant: Tenant, role: Role, body: dict) -> dict:
    response = await client.post("/api/interop/feeds", json=body, headers=tenant.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


async def fetch(client, url: str) -> Calendar:
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = await client.get("/" + path)
    assert response.status_code == 200, response.text
    # Exactly one charset (it was once sent twice: "...; charset=utf-8; charset=utf-8").
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> list:
    return [c for c in calendar.walk("VEVENT")]


async def test_holder_feed_has_the_availability_as_rrules(client, tenant: Tenant) -> None:
    created = await create_feed(
        client, tenant, H, {"kind": "holder", "holder_id": str(tenant.holder_id), "label": "Google"}
    )
    assert created["url"].endswith(".ics") and created["token"] in created["url"]
    calendar = await fetch(client, created["url"])
    assert calendar["VERSION"] == "2.0"
    assert calendar.walk("VTIMEZONE"), "times are zoned: the calendar carries its VTIMEZONE"
    [event] = events(calendar)
    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO", "WE"]
    start = event.decoded("DTSTART")
    assert start == datetime(2026, 1, 5, 9, 0, tzinfo=ROME)
    assert event.decoded("DTEND") == datetime(2026, 1, 5, 12, 0, tzinfo=ROME)
    assert str(event["SUMMARY"]).startswith("Disponibilità: Trasporto")


async def test_every_window_shape_round_trips_through_icalendar(client, tenant: Tenant) -> None:
    rich = await rich_data(tenant)
    created = await create_feed(
        client, tenant, U, {"kind": "holder", "holder_id": str(rich.association)}
    )
    calendar = await fetch(client, created["url"])
    by_rule = {str(e["RRULE"].to_ical().decode()): e for e in events(calendar)}
    weekly = next(e for r, e in by_rule.items() if "BYDAY=MO,TH" in r)
    assert weekly["RRULE"]["UNTIL"][0] == datetime(2026, 12, 31, 12, 30, tzinfo=ROME).astimezone(
        ZoneInfo("UTC")
    )
    exdates = [
        d.dt
        for x in (
            [weekly["EXDATE"]] if not isinstance(weekly["EXDATE"], list) else weekly["EXDATE"]
        )
        for d in x.dts
    ]
    assert {d.date() for d in exdates} == {date(2026, 4, 6), date(2026, 6, 1)}
    monthly = next(e for r, e in by_rule.items() if "FREQ=MONTHLY" in r)
    assert monthly["RRULE"]["INTERVAL"] == [2]
    assert monthly["RRULE"]["BYDAY"] == ["1SA", "-1FR"]
    # DTSTART is itself an occurrence of the rule (RFC 5545 counts it in any case).
    first = monthly.decoded("DTSTART")
    expanded = dateutil_rrule.rrulestr(
        monthly["RRULE"].to_ical().decode(),
        dtstart=datetime.combine(date(2026, 2, 1), time(15)),
    )
    assert first.replace(tzinfo=None) == next(iter(expanded))
    daily = next(e for r, e in by_rule.items() if "FREQ=DAILY" in r)
    assert daily["RRULE"]["INTERVAL"] == [2]
    assert len(events(calendar)) == 3  # transport x2 + room (paused still offers its slots)


async def _accepted_match(
    tenant: Tenant, resource_id: uuid.UUID, holder_id: uuid.UUID
) -> uuid.UUID:
    from registry.matches.tables import Match
    from registry.plans.tables import Need, Plan

    moment = now()
    plan = Plan(
        ambito=tenant.ambito_id,
        owner=tenant.users[S],
        shared_with=[],
        case_code="ASC-2026-001",
        comune=tenant.comuni[0],
        target_group="anziani",
        goals=[],
        start_date=date(2026, 3, 1),
        end_date=date(2026, 6, 30),
        status="active",
        created_at=moment,
        updated_at=moment,
    )
    await plan.save()
    need = Need(
        ambito=tenant.ambito_id,
        plan=plan.id,
        category_code="trasporto",
        schedule=[
            {"weekday": "TU", "start": "10:00", "end": "11:00"},
            {"weekday": "FR", "start": "10:00", "end": "11:00"},
        ],
        quantity=1,
        unit="trips",
        start_date=date(2026, 3, 2),
        languages=[],
        requirements=[],
        status="matched",
        created_at=moment,
        updated_at=moment,
    )
    await need.save()
    match = Match(
        ambito=tenant.ambito_id,
        plan=plan.id,
        need=need.id,
        resource=resource_id,
        holder=holder_id,
        status="accepted",
        proposed_by=tenant.users[S],
        created_at=moment,
        updated_at=moment,
    )
    await match.save()
    return match.id


async def test_accepted_matches_are_in_the_holder_feed(client, tenant: Tenant) -> None:
    match_id = await _accepted_match(tenant, tenant.resource_id, tenant.holder_id)
    created = await create_feed(
        client, tenant, U, {"kind": "holder", "holder_id": str(tenant.holder_id)}
    )
    calendar = await fetch(client, created["url"])
    commitments = [e for e in events(calendar) if str(e["UID"]).startswith(f"match-{match_id}")]
    assert len(commitments) == 1
    event = commitments[0]
    assert event["RRULE"]["BYDAY"] == ["TU", "FR"]
    assert event.decoded("DTSTART") == datetime(2026, 3, 3, 10, 0, tzinfo=ROME)
    assert event["RRULE"]["UNTIL"][0] == datetime(2026, 6, 30, 11, 0, tzinfo=ROME).astimezone(
        ZoneInfo("UTC")
    )
    # The plan's case code is not published to an external calendar.
    assert b"ASC-2026-001" not in calendar.to_ical()


async def test_volunteer_feed_has_its_commitments(client, tenant: Tenant) -> None:
    rich = await rich_data(tenant)
    await User.update({User.holder: rich.volunteer}).where(User.id == tenant.users[V])
    match_id = await _accepted_match(tenant, rich.resources["company"], rich.volunteer)
    created = await create_feed(client, tenant, V, {"kind": "volunteer"})
    calendar = await fetch(client, created["url"])
    uids = [str(e["UID"]) for e in events(calendar)]
    assert uids and all(uid.startswith(f"match-{match_id}") for uid in uids)
    # Another volunteer's feed does not show them.
    other = await make_tenant()
    empty = await create_feed(client, other, V, {"kind": "volunteer"})
    assert events(await fetch(client, empty["url"])) == []


async def test_tokens_are_hashed_listed_without_secret_and_revocable(
    client, tenant: Tenant
) -> None:
    created = await create_feed(
        client, tenant, H, {"kind": "holder", "holder_id": str(tenant.holder_id)}
    )
    token = created["token"]
    row = await FeedToken.select().where(FeedToken.id == uuid.UUID(created["feed"]["id"])).first()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)
    listing = await client.get("/api/interop/feeds", headers=tenant.headers(H))
    assert listing.status_code == 200
    assert token not in listing.text and created["feed"]["id"] in listing.text
    await fetch(client, created["url"])
    response = await client.delete(
        f"/api/interop/feeds/{created['feed']['id']}", headers=tenant.headers(H)
    )
    assert response.status_code == 204
    path = "/" + created["url"].split("://", 1)[1].split("/", 1)[1]
    assert (await client.get(path)).status_code == 404
    assert (await client.get(path.replace(token, token[:-2] + "xx"))).status_code == 404
    assert (await client.get("/api/ical/not-a-token.ics")).status_code == 404
    listing = await client.get("/api/interop/feeds", headers=tenant.headers(H))
    assert listing.json()[0]["revoked_at"] is not None


async def test_feed_rules(client, tenant: Tenant) -> None:
    # A holder manager publishes only its own holder; a volunteer feed is for volunteers.
    response = await client.post(
        "/api/interop/feeds",
        json={"kind": "holder", "holder_id": str(tenant.other_holder_id)},
        headers=tenant.headers(H),
    )
    assert response.status_code == 403
    response = await client.post(
        "/api/interop/feeds", json={"kind": "volunteer"}, headers=tenant.headers(S)
    )
    assert response.status_code == 403
    response = await client.post(
        "/api/interop/feeds", json={"kind": "calendar"}, headers=tenant.headers(U)
    )
    assert response.status_code == 400 and "kind" in response.text
    response = await client.post(
        "/api/interop/feeds",
        json={"kind": "volunteer", "user_id": str(tenant.users[S])},
        headers=tenant.headers(U),
    )
    assert response.status_code == 400 and response.json()["field"] == "user_id"
    # The UdP may publish a volunteer's feed on its behalf.
    created = await create_feed(
        client, tenant, U, {"kind": "volunteer", "user_id": str(tenant.users[V])}
    )
    assert created["feed"]["user_id"] == str(tenant.users[V])
