"""Personalised plans and their needs: pseudonymisation, validation, visibility, sharing."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant, make_tenant
from tests.test_plans_support import (
    H,
    S,
    U,
    V,
    add_user,
    create_need,
    create_plan,
    named,
    need_body,
    plan_body,
)


@pytest.mark.parametrize(
    ("case_code", "looks_like"),
    [
        ("RSSMRA85T10A562S", "codice fiscale"),  # valid codice fiscale
        ("rss mra 85t10 a562s", "codice fiscale"),  # spaced, lower case
        ("RSSMRA85T10A562X", "codice fiscale"),  # the shape, wrong check letter
        ("ASC-RSSMRA85T10A562S", "codice fiscale"),  # hidden inside a code
        ("mario.rossi@example.org", "e-mail"),
        ("caso@asl", "e-mail"),
        ("+39 333 1234567", "phone"),
        ("3331234567", "phone"),
        ("0331-123456", "phone"),
        ("Mario Rossi", "only letters, digits"),
        ("RossiMario", "at least one digit"),
    ],
)
async def test_case_code_that_identifies_a_person_is_refused(
    client, tenant: Tenant, case_code: str, looks_like: str
) -> None:
    response = await client.post(
        "/api/plans", json=plan_body(tenant, case_code=case_code), headers=tenant.headers(S)
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == "case_code"
    assert looks_like in body["detail"]
    assert case_code not in body["detail"], "the error must not echo the identifier back"


@pytest.mark.parametrize("case_code", ["ASC-2026-014", "FAM/12/2026", "PL.2026.77", "C42"])
async def test_pseudonymous_case_codes_are_accepted(client, tenant: Tenant, case_code: str) -> None:
    plan = await create_plan(client, tenant, case_code=case_code)
    assert plan["case_code"] == case_code


async def test_plan_fields_are_stored(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant, goals=["Autonomia negli spostamenti"])
    assert plan["owner_id"] == str(tenant.users[S])
    assert plan["comune"] == tenant.comuni[0]
    assert plan["target_group"] == "anziani"
    assert plan["goals"] == ["Autonomia negli spostamenti"]
    assert (plan["start_date"], plan["end_date"]) == ("2026-01-01", "2026-12-31")
    assert plan["status"] == "active"
    assert plan["shared_with"] == []


async def test_comune_of_another_ambito_is_refused(
    client, tenant: Tenant, other_tenant: Tenant
) -> None:
    response = await client.post(
        "/api/plans",
        json=plan_body(tenant, comune=other_tenant.comuni[0]),
        headers=tenant.headers(S),
    )
    assert response.status_code == 400
    assert response.json()["field"] == "comune"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"comune": "12345"}, "comune"),
        ({"target_group": "bambini"}, "target_group"),
        ({"end_date": "2025-12-31"}, "end_date"),
        ({"start_date": "non una data"}, "start_date"),
        ({"goals": ["x" * 501]}, "goals"),
        ({"status": "boh"}, "status"),
        ({"case_code": "AB"}, "case_code"),
        ({"surname": "Rossi"}, "surname"),
    ],
)
async def test_bad_plan_input_names_the_field(
    client, tenant: Tenant, overrides: dict, field: str
) -> None:
    response = await client.post(
        "/api/plans", json=plan_body(tenant, **overrides), headers=tenant.headers(S)
    )
    assert response.status_code == 400, response.text
    assert field in named(response.json())


async def test_patch_validates_case_code_and_period(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    url = f"/api/plans/{plan['id']}"
    response = await client.patch(url, json={"case_code": "x@y.it"}, headers=tenant.headers(S))
    assert (response.status_code, response.json()["field"]) == (400, "case_code")
    response = await client.patch(url, json={"end_date": "2025-01-01"}, headers=tenant.headers(S))
    assert (response.status_code, response.json()["field"]) == (400, "end_date")
    response = await client.patch(url, json={"status": "suspended"}, headers=tenant.headers(S))
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"


async def test_udp_creates_a_plan_for_a_social_worker_only(client, tenant: Tenant) -> None:
    body = plan_body(tenant)
    response = await client.post("/api/plans", json=body, headers=tenant.headers(U))
    assert (response.status_code, response.json()["field"]) == (400, "owner_id")
    body["owner_id"] = str(tenant.users[V])
    response = await client.post("/api/plans", json=body, headers=tenant.headers(U))
    assert (response.status_code, response.json()["field"]) == (400, "owner_id")
    body["owner_id"] = str(tenant.users[S])
    response = await client.post("/api/plans", json=body, headers=tenant.headers(U))
    assert response.status_code == 201
    assert response.json()["owner_id"] == str(tenant.users[S])


async def test_social_worker_cannot_create_for_someone_else(client, tenant: Tenant) -> None:
    colleague = await add_user(tenant, S)
    body = plan_body(tenant, owner_id=str(colleague["id"]))
    response = await client.post("/api/plans", json=body, headers=tenant.headers(S))
    assert response.status_code == 403


# --- visibility ----------------------------------------------------------------------------


async def test_visibility_own_shared_udp_other_social_worker_other_ambito(
    client, tenant: Tenant
) -> None:
    colleague = await add_user(tenant, S)
    stranger = await make_tenant()
    plan = await create_plan(client, tenant)
    url = f"/api/plans/{plan['id']}"

    assert (await client.get(url, headers=tenant.headers(S))).status_code == 200
    assert (await client.get(url, headers=tenant.headers(U))).status_code == 200
    # Another social worker of the same ambito: the plan does not exist for it.
    response = await client.get(url, headers=colleague["headers"])
    assert response.status_code == 404
    assert plan["case_code"] not in response.text
    patch = await client.patch(url, json={"goals": []}, headers=colleague["headers"])
    assert patch.status_code == 404
    # Another ambito, whatever the role.
    for role in (U, S):
        assert (await client.get(url, headers=stranger.headers(role))).status_code == 404
    # Holder managers and volunteers never see plans.
    for role in (H, V):
        assert (await client.get(url, headers=tenant.headers(role))).status_code == 403

    # Shared by the UdP: the colleague sees and edits it.
    share = await client.put(
        f"{url}/sharing", json={"shared_with": [str(colleague["id"])]}, headers=tenant.headers(U)
    )
    assert share.status_code == 200, share.text
    assert share.json()["shared_with"] == [str(colleague["id"])]
    assert (await client.get(url, headers=colleague["headers"])).status_code == 200
    patch = await client.patch(url, json={"goals": ["Nuovo"]}, headers=colleague["headers"])
    assert patch.status_code == 200
    need = await create_need(client, tenant, plan["id"], headers=colleague["headers"])
    assert need["plan_id"] == plan["id"]

    # Unshared again: gone for the colleague.
    await client.put(f"{url}/sharing", json={"shared_with": []}, headers=tenant.headers(U))
    assert (await client.get(url, headers=colleague["headers"])).status_code == 404


async def test_lists_show_only_visible_plans_without_notes_or_goals(
    client, tenant: Tenant, other_tenant: Tenant
) -> None:
    colleague = await add_user(tenant, S)
    mine = await create_plan(client, tenant)
    theirs = await create_plan(client, tenant, headers=colleague["headers"])
    foreign = await create_plan(client, other_tenant)

    listed = await client.get("/api/plans", headers=tenant.headers(S))
    assert listed.status_code == 200
    ids = {p["id"] for p in listed.json()["items"]}
    assert mine["id"] in ids
    assert theirs["id"] not in ids
    assert foreign["id"] not in ids
    assert "notes" not in listed.text and mine["notes"] not in listed.text
    assert mine["goals"][0] not in listed.text

    udp = await client.get("/api/plans", headers=tenant.headers(U))
    ids = {p["id"] for p in udp.json()["items"]}
    assert {mine["id"], theirs["id"]} <= ids
    assert foreign["id"] not in ids

    await client.put(
        f"/api/plans/{theirs['id']}/sharing",
        json={"shared_with": [str(tenant.users[S])]},
        headers=tenant.headers(U),
    )
    listed = await client.get("/api/plans", headers=tenant.headers(S))
    assert theirs["id"] in {p["id"] for p in listed.json()["items"]}

    filtered = await client.get(
        "/api/plans",
        params={"q": mine["case_code"][:8], "status": "active"},
        headers=tenant.headers(S),
    )
    assert mine["id"] in {p["id"] for p in filtered.json()["items"]}


async def test_sharing_is_for_social_workers_of_the_ambito_and_for_the_udp_to_decide(
    client, tenant: Tenant, other_tenant: Tenant
) -> None:
    plan = await create_plan(client, tenant)
    url = f"/api/plans/{plan['id']}/sharing"
    colleague = await add_user(tenant, S)
    body = {"shared_with": [str(colleague["id"])]}
    assert (await client.put(url, json=body, headers=tenant.headers(S))).status_code == 403
    for bad in (tenant.users[H], other_tenant.users[S], tenant.users[S]):
        response = await client.put(
            url,
            json={"shared_with": [str(colleague["id"]), str(bad)]},
            headers=tenant.headers(U),
        )
        assert (response.status_code, response.json()["field"]) == (400, "shared_with[1]")


async def test_udp_hands_a_plan_over(client, tenant: Tenant) -> None:
    colleague = await add_user(tenant, S)
    plan = await create_plan(client, tenant)
    url = f"/api/plans/{plan['id']}"
    owner = {"owner_id": str(colleague["id"])}
    assert (await client.patch(url, json=owner, headers=tenant.headers(S))).status_code == 403
    response = await client.patch(url, json=owner, headers=tenant.headers(U))
    assert response.status_code == 200
    assert response.json()["owner_id"] == str(colleague["id"])
    assert (await client.get(url, headers=tenant.headers(S))).status_code == 404
    assert (await client.get(url, headers=colleague["headers"])).status_code == 200


# --- needs ---------------------------------------------------------------------------------


async def test_need_fields_are_stored(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    need = await create_need(
        client,
        tenant,
        plan["id"],
        schedule=[
            {"weekday": "MO", "start": "09:00", "end": "11:00"},
            {"weekday": "TH", "start": "15:30", "end": "17:00"},
        ],
        quantity=2,
        unit="hours_per_week",
        start_date="2026-02-01",
        end_date="2026-06-30",
        languages=["it", "ar"],
        requirements=["patente-b"],
        comune=tenant.comuni[1],
        max_distance_km=7.5,
        priority=5,
    )
    assert need["status"] == "open"
    assert need["max_distance_km"] == 7.5
    assert need["schedule"][1] == {"weekday": "TH", "start": "15:30", "end": "17:00"}
    assert (need["quantity"], need["unit"], need["priority"]) == (2, "hours_per_week", 5)
    assert need["comune"] == tenant.comuni[1]
    listed = await client.get(f"/api/plans/{plan['id']}/needs", headers=tenant.headers(S))
    assert [n["id"] for n in listed.json()] == [need["id"]]
    flexible = await create_need(client, tenant, plan["id"], schedule=[])
    assert flexible["schedule"] == []
    assert flexible["max_distance_km"] is None  # no limit unless asked


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category_code": "astronavi"}, "category_code"),
        ({"schedule": [{"weekday": "MO", "start": "11:00", "end": "09:00"}]}, "schedule[0].end"),
        ({"schedule": [{"weekday": "XX", "start": "09:00", "end": "10:00"}]}, "schedule"),
        ({"schedule": [{"weekday": "MO", "start": "9", "end": "10:00"}]}, "schedule"),
        ({"priority": 6}, "priority"),
        ({"priority": 0}, "priority"),
        ({"quantity": 0}, "quantity"),
        ({"unit": "litri"}, "unit"),
        ({"languages": ["italiano"]}, "languages"),
        ({"comune": "999999"}, "comune"),
        ({"max_distance_km": 0}, "max_distance_km"),
        ({"max_distance_km": -2.5}, "max_distance_km"),
        ({"max_distance_km": 250}, "max_distance_km"),
        ({"start_date": "2025-06-01"}, "start_date"),
        ({"end_date": "2027-06-01"}, "end_date"),
        ({"start_date": "2026-05-01", "end_date": "2026-04-01"}, "end_date"),
        ({"status": "matched"}, "status"),
    ],
)
async def test_bad_need_input_names_the_field(
    client, tenant: Tenant, overrides: dict, field: str
) -> None:
    plan = await create_plan(client, tenant)
    body = need_body(**overrides)
    if "status" in overrides:
        need = await create_need(client, tenant, plan["id"])
        response = await client.patch(
            f"/api/plans/{plan['id']}/needs/{need['id']}",
            json={"status": overrides["status"]},
            headers=tenant.headers(S),
        )
    else:
        response = await client.post(
            f"/api/plans/{plan['id']}/needs", json=body, headers=tenant.headers(S)
        )
    assert response.status_code == 400, response.text
    assert named(response.json()).startswith(field), response.text


async def test_need_of_a_closed_plan_cannot_change(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    need = await create_need(client, tenant, plan["id"])
    closed = await client.post(
        f"/api/plans/{plan['id']}/closure",
        json={"closed_on": plan["start_date"], "reason": "goals_reached"},
        headers=tenant.headers(S),
    )
    assert closed.status_code == 201, closed.text
    response = await client.post(
        f"/api/plans/{plan['id']}/needs", json=need_body(), headers=tenant.headers(S)
    )
    assert response.status_code == 409
    response = await client.patch(
        f"/api/plans/{plan['id']}/needs/{need['id']}",
        json={"priority": 1},
        headers=tenant.headers(S),
    )
    assert response.status_code == 409


async def test_need_of_another_plan_is_not_found(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    other = await create_plan(client, tenant)
    need = await create_need(client, tenant, other["id"])
    response = await client.get(
        f"/api/plans/{plan['id']}/needs/{need['id']}", headers=tenant.headers(S)
    )
    assert response.status_code == 404


async def test_need_patch_closes_and_reopens(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    need = await create_need(client, tenant, plan["id"])
    url = f"/api/plans/{plan['id']}/needs/{need['id']}"
    response = await client.patch(url, json={"status": "closed"}, headers=tenant.headers(S))
    assert response.json()["status"] == "closed"
    response = await client.patch(
        url, json={"status": "open", "schedule": []}, headers=tenant.headers(S)
    )
    assert (response.json()["status"], response.json()["schedule"]) == ("open", [])
