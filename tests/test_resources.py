"""Resources: search, ownership, validity, availability through the API."""

from __future__ import annotations

from datetime import date

from registry.access import Role
from tests.conftest import Tenant

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


def resource(**changes) -> dict:
    return {
        "title": "Doposcuola",
        "category_code": "sostegno-scolastico",
        "unit": "places",
        "capacity": 10,
        **changes,
    }


async def create(client, tenant: Tenant, role: Role = H, **changes) -> dict:
    response = await client.post(
        "/api/resources", json=resource(**changes), headers=tenant.headers(role)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def titles(client, tenant: Tenant, query: str) -> list[str]:
    response = await client.get(f"/api/resources?{query}", headers=tenant.headers(S))
    assert response.status_code == 200, response.text
    return sorted(item["title"] for item in response.json()["items"])


async def test_holder_manager_adds_to_its_own_holder_by_default(client, tenant: Tenant) -> None:
    created = await create(client, tenant, languages=["it", "ar"], requirements=["minori"])
    assert created["holder_id"] == str(tenant.holder_id)
    assert created["holder_name"] == "Associazione Alfa"
    assert created["confirmed_at"] == created["created_at"]


async def test_category_filter_includes_sub_categories(client, tenant: Tenant) -> None:
    await create(client, tenant, title="Furgone", category_code="trasporto", unit="trips")
    await create(
        client, tenant, title="Accompagnamento", category_code="accompagnamento", unit="trips"
    )
    await create(client, tenant, title="Sala", category_code="sala-incontri", unit="room_hours")
    services = await titles(client, tenant, "category=servizi")
    # The tenant's two seeded transport resources are services too.
    assert "Furgone" in services and "Accompagnamento" in services and "Sala" not in services
    assert await titles(client, tenant, "category=sala-incontri") == ["Sala"]


async def test_comune_target_group_holder_and_text_filters(client, tenant: Tenant) -> None:
    await create(
        client,
        tenant,
        title="Italiano per adulti",
        category_code="lingua-italiana",
        comuni=[tenant.comuni[1]],
        target_groups=["immigrati"],
    )
    await create(
        client,
        tenant,
        title="Compiti insieme",
        comuni=[tenant.comuni[0]],
        target_groups=["famiglie-minori"],
    )
    assert await titles(client, tenant, f"comune={tenant.comuni[1]}") == ["Italiano per adulti"]
    assert await titles(client, tenant, "target_group=immigrati") == ["Italiano per adulti"]
    assert await titles(client, tenant, "q=COMPITI") == ["Compiti insieme"]
    by_holder = await titles(client, tenant, f"holder_id={tenant.other_holder_id}")
    assert by_holder == ["Trasporto Associazione Beta"]


async def test_pagination_is_stable_and_counts_everything(client, tenant: Tenant) -> None:
    for index in range(7):
        await create(client, tenant, title=f"Risorsa {index:02d}")
    seen: list[str] = []
    for offset in (0, 3, 6):
        page = (
            await client.get(
                f"/api/resources?q=Risorsa&limit=3&offset={offset}", headers=tenant.headers(S)
            )
        ).json()
        assert page["total"] == 7
        seen += [item["title"] for item in page["items"]]
    assert seen == [f"Risorsa {i:02d}" for i in range(7)]


async def test_validation_names_the_field_and_stores_nothing(client, tenant: Tenant) -> None:
    bad = [
        (resource(category_code="nonexistent"), "category_code"),
        (resource(comuni=["000001"]), "comuni[0]"),
        (resource(valid_from="2026-05-01", valid_until="2026-04-01"), "valid_until"),
        (resource(status="stale"), "status"),
    ]
    for body, field in bad:
        response = await client.post("/api/resources", json=body, headers=tenant.headers(H))
        assert response.status_code == 400, body
        assert response.json()["field"] == field
    assert await titles(client, tenant, "q=Doposcuola") == []


async def test_archived_resources_leave_search_but_not_history(client, tenant: Tenant) -> None:
    created = await create(client, tenant, title="Da archiviare")
    assert (
        await client.delete(f"/api/resources/{created['id']}", headers=tenant.headers(H))
    ).status_code == 204
    assert await titles(client, tenant, "q=archiviare") == []
    assert await titles(client, tenant, "q=archiviare&status=archived") == ["Da archiviare"]


async def test_availability_round_trip_and_slots(client, tenant: Tenant) -> None:
    created = await create(client, tenant)
    window = {
        "freq": "WEEKLY",
        "by_day": ["TU", "TH"],
        "start_time": "15:00",
        "end_time": "17:30",
        "valid_from": "2026-03-01",
        "capacity": 4,
        "exceptions": ["2026-03-05"],
    }
    added = await client.post(
        f"/api/resources/{created['id']}/availability", json=window, headers=tenant.headers(H)
    )
    assert added.status_code == 201, added.text
    assert added.json()["rrule"] == "FREQ=WEEKLY;BYDAY=TU,TH"
    slots = await client.get(
        f"/api/resources/{created['id']}/slots?from=2026-03-01&to=2026-03-08",
        headers=tenant.headers(V),
    )
    assert slots.status_code == 200
    assert [(s["date"], s["start"], s["end"], s["capacity"]) for s in slots.json()["slots"]] == [
        ("2026-03-03", "2026-03-03T15:00:00+01:00", "2026-03-03T17:30:00+01:00", 4)
    ]
    replaced = await client.put(
        f"/api/resources/{created['id']}/availability/{added.json()['id']}",
        json={**window, "by_day": ["FR"], "exceptions": []},
        headers=tenant.headers(H),
    )
    assert replaced.json()["by_day"] == ["FR"]
    listed = await client.get(
        f"/api/resources/{created['id']}/availability", headers=tenant.headers(S)
    )
    assert [w["by_day"] for w in listed.json()] == [["FR"]]


async def test_slots_carry_the_offset_of_their_day(client, tenant: Tenant) -> None:
    created = await create(client, tenant)
    night = {
        "freq": "DAILY",
        "start_time": "02:30",
        "end_time": "04:00",
        "valid_from": "2026-10-24",
    }
    added = await client.post(
        f"/api/resources/{created['id']}/availability", json=night, headers=tenant.headers(H)
    )
    assert added.status_code == 201, added.text
    slots = await client.get(
        f"/api/resources/{created['id']}/slots?from=2026-10-24&to=2026-10-26",
        headers=tenant.headers(V),
    )
    assert [(s["start"], s["end"]) for s in slots.json()["slots"]] == [
        ("2026-10-24T02:30:00+02:00", "2026-10-24T04:00:00+02:00"),
        # The autumn night: 02:30 summer time (the first of the two), 04:00 winter time.
        ("2026-10-25T02:30:00+02:00", "2026-10-25T04:00:00+01:00"),
        ("2026-10-26T02:30:00+01:00", "2026-10-26T04:00:00+01:00"),
    ]


async def test_an_old_window_expands_into_a_far_range(client, tenant: Tenant) -> None:
    created = await create(client, tenant)
    since_2000 = {
        "freq": "DAILY",
        "interval": 2,
        "start_time": "09:00",
        "end_time": "12:00",
        "valid_from": "2000-01-01",
    }
    added = await client.post(
        f"/api/resources/{created['id']}/availability", json=since_2000, headers=tenant.headers(H)
    )
    assert added.status_code == 201, added.text
    slots = await client.get(
        f"/api/resources/{created['id']}/slots?from=9999-01-01&to=9999-12-31",
        headers=tenant.headers(S),
    )
    assert slots.status_code == 200, slots.text
    days = [date.fromisoformat(s["date"]) for s in slots.json()["slots"]]
    # Every other day counted from 1 January 2000, through the whole year 9999.
    assert len(days) in (182, 183) and days[0] <= date(9999, 1, 2)
    assert all((day - date(2000, 1, 1)).days % 2 == 0 for day in days)
    assert slots.json()["slots"][0]["start"].endswith("T09:00:00+01:00")


async def test_slot_ranges_are_bounded(client, tenant: Tenant) -> None:
    response = await client.get(
        f"/api/resources/{tenant.resource_id}/slots?from=2026-01-01&to=2028-01-01",
        headers=tenant.headers(S),
    )
    assert response.status_code == 400 and response.json()["field"] == "to"
    assert "366 days" in response.json()["detail"]
    backwards = await client.get(
        f"/api/resources/{tenant.resource_id}/slots?from=2026-03-01&to=2026-02-01",
        headers=tenant.headers(S),
    )
    assert backwards.status_code == 400 and backwards.json()["field"] == "to"
    past_the_calendar = await client.get(
        f"/api/resources/{tenant.resource_id}/slots?from=9999-12-01&to=10000-01-01",
        headers=tenant.headers(S),
    )
    assert past_the_calendar.status_code == 400 and "to" in past_the_calendar.text
    missing = await client.get(
        f"/api/resources/{tenant.resource_id}/slots?from=2026-01-01", headers=tenant.headers(S)
    )
    assert missing.status_code == 400 and "to" in missing.text


async def test_bad_window_is_refused_and_the_old_one_survives(client, tenant: Tenant) -> None:
    url = f"/api/resources/{tenant.resource_id}/availability/{tenant.window_id}"
    bad = {
        "freq": "WEEKLY",
        "by_day": ["XX"],
        "start_time": "10:00",
        "end_time": "11:00",
        "valid_from": "2026-02-01",
    }
    response = await client.put(url, json=bad, headers=tenant.headers(H))
    assert response.status_code == 400 and response.json()["field"] == "by_day[0]"
    listed = await client.get(
        f"/api/resources/{tenant.resource_id}/availability", headers=tenant.headers(H)
    )
    assert listed.json()[0]["by_day"] == ["MO", "WE"]


async def test_confirming_refreshes_confirmed_at_and_revives_stale(client, tenant: Tenant) -> None:
    from registry.resources.tables import Resource

    await Resource.update({Resource.status: "stale"}).where(Resource.id == tenant.resource_id)
    before = (
        await client.get(f"/api/resources/{tenant.resource_id}", headers=tenant.headers(H))
    ).json()
    confirmed = await client.post(
        f"/api/resources/{tenant.resource_id}/confirm", headers=tenant.headers(H)
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "active"
    assert confirmed.json()["confirmed_at"] > before["confirmed_at"]
