"""The contribution ledger: append-only entries, totals, verification, idempotency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from registry import italian
from registry.access import Role
from registry.contributions.tables import Contribution
from registry.matches.tables import Match
from registry.plans.tables import Need, Plan
from registry.users.tables import User
from tests.conftest import PASSWORD, Tenant, token_for

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
TODAY = italian.today()


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def entry(tenant: Tenant, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "holder_id": str(tenant.holder_id),
        "unit": "hours",
        "quantity": 2,
        "occurred_on": TODAY.isoformat(),
    }
    body.update(extra)
    return body


async def post_entry(
    client: httpx.AsyncClient, tenant: Tenant, role: Role, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/contributions",
        json=entry(tenant, **extra),
        headers={**tenant.headers(role), **key()},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def totals(client: httpx.AsyncClient, tenant: Tenant, role: Role, **query: str) -> dict:
    response = await client.get(
        "/api/contributions/summary", params=query, headers=tenant.headers(role)
    )
    assert response.status_code == 200, response.text
    return {t["unit"]: t for t in response.json()["totals"]}


async def add_user(tenant: Tenant, role: Role, holder: uuid.UUID | None = None) -> dict:
    user = User(
        username=f"extra-{uuid.uuid4().hex[:10]}",
        password_hash="x",
        role=role.value,
        ambito=tenant.ambito_id,
        holder=holder,
    )
    await user.save()
    return {"Authorization": f"Bearer {token_for(user.id, role, tenant.code)}", "id": user.id}


async def make_match(tenant: Tenant, status: str = "active") -> dict[str, uuid.UUID]:
    """A plan of the tenant's social worker with one need matched to the tenant's holder."""
    plan = Plan(
        ambito=tenant.ambito_id,
        owner=tenant.users[S],
        shared_with=[],
        case_code=f"ASC-{uuid.uuid4().hex[:6]}",
        comune=tenant.comuni[0],
        target_group="anziani",
        start_date=TODAY - timedelta(days=30),
    )
    await plan.save()
    need = Need(
        ambito=tenant.ambito_id,
        plan=plan.id,
        category_code="trasporto",
        unit="trips_per_week",
        languages=[],
        requirements=[],
    )
    await need.save()
    match = Match(
        ambito=tenant.ambito_id,
        plan=plan.id,
        need=need.id,
        resource=tenant.resource_id,
        holder=tenant.holder_id,
        status=status,
        proposed_by=tenant.users[S],
    )
    await match.save()
    return {"plan": plan.id, "need": need.id, "match": match.id}


# --- recording and reading --------------------------------------------------------------------


async def test_volunteer_self_reports_its_own_hours(client, tenant: Tenant) -> None:
    body = await post_entry(client, tenant, V, quantity=2.5, note="doposcuola")
    assert body["volunteer_id"] == str(tenant.users[V])
    assert body["verification"] == "self_reported"
    assert (body["quantity"], body["minutes"], body["unit"]) == (2.5, 150, "hours")
    assert body["effective"] is True and body["kind"] == "entry"
    mine = await client.get("/api/contributions", headers=tenant.headers(V))
    assert [e["id"] for e in mine.json()["items"]] == [body["id"]]
    assert (await totals(client, tenant, V))["hours"]["self_reported"] == 2.5


async def test_volunteer_reports_only_for_itself(client, tenant: Tenant) -> None:
    response = await client.post(
        "/api/contributions",
        json=entry(tenant, volunteer_id=str(tenant.users[H])),
        headers={**tenant.headers(V), **key()},
    )
    assert response.status_code == 403


async def test_each_role_sees_its_part_of_the_ledger(client, tenant: Tenant) -> None:
    mine = await post_entry(client, tenant, V)
    other_holder = await post_entry(client, tenant, U, holder_id=str(tenant.other_holder_id))
    other_volunteer = await add_user(tenant, V)
    theirs = await client.post(
        "/api/contributions",
        json=entry(tenant),
        headers={"Authorization": other_volunteer["Authorization"], **key()},
    )
    assert theirs.status_code == 201

    async def ids(role: Role) -> set[str]:
        response = await client.get("/api/contributions", headers=tenant.headers(role))
        return {e["id"] for e in response.json()["items"]}

    assert await ids(U) == {mine["id"], other_holder["id"], theirs.json()["id"]}
    assert await ids(H) == {mine["id"], theirs.json()["id"]}  # its own holder only
    assert await ids(V) == {mine["id"]}
    assert await ids(S) == set()  # no plan of its own
    for role in (H, V, S):
        response = await client.get(
            f"/api/contributions/{other_holder['id']}", headers=tenant.headers(role)
        )
        assert response.status_code == 404, role


async def test_holder_manager_records_for_its_holder_only(client, tenant: Tenant) -> None:
    body = await post_entry(client, tenant, H, volunteer_id=str(tenant.users[V]))
    assert body["volunteer_id"] == str(tenant.users[V])
    response = await client.post(
        "/api/contributions",
        json=entry(tenant, holder_id=str(tenant.other_holder_id)),
        headers={**tenant.headers(H), **key()},
    )
    assert response.status_code == 403


async def test_goods_and_spaces_carry_a_value_apart_from_time(client, tenant: Tenant) -> None:
    await post_entry(client, tenant, H, unit="items", quantity=40, value_cents=12_000)
    await post_entry(client, tenant, H, unit="room_hours", quantity=3, value_cents=4_500)
    await post_entry(client, tenant, H, unit="hours", quantity=1.25)
    result = await totals(client, tenant, U)
    assert result["items"]["self_reported"] == 40 and result["items"]["value_cents"] == 12_000
    assert result["room_hours"]["self_reported"] == 3
    assert result["hours"]["value_cents"] == 0 and result["hours"]["self_reported"] == 1.25


# --- append-only: corrections and cancellations --------------------------------------------


async def test_a_correction_replaces_the_entry_in_the_totals(client, tenant: Tenant) -> None:
    original = await post_entry(client, tenant, V, quantity=2)
    response = await client.post(
        f"/api/contributions/{original['id']}/corrections",
        json={"quantity": 3, "reason": "ho sbagliato a scrivere"},
        headers=tenant.headers(V),
    )
    assert response.status_code == 201, response.text
    correction = response.json()
    assert correction["kind"] == "correction" and correction["corrects_id"] == original["id"]
    assert correction["note"] == original["note"] and correction["quantity"] == 3
    assert (await totals(client, tenant, V))["hours"]["self_reported"] == 3

    listed = await client.get("/api/contributions", headers=tenant.headers(V))
    assert [e["id"] for e in listed.json()["items"]] == [correction["id"]]
    everything = await client.get(
        "/api/contributions", params={"include_superseded": "true"}, headers=tenant.headers(V)
    )
    assert {e["id"] for e in everything.json()["items"]} == {original["id"], correction["id"]}
    old = await client.get(f"/api/contributions/{original['id']}", headers=tenant.headers(V))
    assert old.json()["superseded_by"] == correction["id"]
    assert old.json()["effective"] is False and old.json()["quantity"] == 2  # never edited

    history = await client.get(
        f"/api/contributions/{original['id']}/history", headers=tenant.headers(V)
    )
    assert [e["id"] for e in history.json()] == [original["id"], correction["id"]]

    again = await client.post(
        f"/api/contributions/{original['id']}/corrections",
        json={"quantity": 4, "reason": "ancora"},
        headers=tenant.headers(V),
    )
    assert again.status_code == 409
    assert (await totals(client, tenant, V))["hours"]["self_reported"] == 3


async def test_a_cancellation_withdraws_the_entry(client, tenant: Tenant) -> None:
    kept = await post_entry(client, tenant, H, quantity=1)
    dropped = await post_entry(client, tenant, H, quantity=5)
    response = await client.post(
        f"/api/contributions/{dropped['id']}/cancellation",
        json={"reason": "registrata due volte"},
        headers=tenant.headers(H),
    )
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "cancellation" and response.json()["effective"] is False
    assert (await totals(client, tenant, H))["hours"]["self_reported"] == 1
    listed = await client.get("/api/contributions", headers=tenant.headers(H))
    assert [e["id"] for e in listed.json()["items"]] == [kept["id"]]
    cancellation = response.json()["id"]
    for path in (
        f"/api/contributions/{cancellation}/corrections",
        f"/api/contributions/{dropped['id']}/corrections",
    ):
        retry = await client.post(
            path, json={"quantity": 2, "reason": "x"}, headers=tenant.headers(H)
        )
        assert retry.status_code == 409


async def test_concurrent_corrections_cannot_fork_the_history(client, tenant: Tenant) -> None:
    original = await post_entry(client, tenant, H, quantity=2)
    replies = await asyncio.gather(
        *[
            client.post(
                f"/api/contributions/{original['id']}/corrections",
                json={"quantity": n, "reason": "correzione"},
                headers=tenant.headers(H),
            )
            for n in (3, 4, 5, 6, 7)
        ]
    )
    assert sorted(r.status_code for r in replies) == [201, 409, 409, 409, 409]
    assert len(await totals(client, tenant, H)) == 1
    assert await Contribution.count().where(Contribution.corrects == original["id"]) == 1


async def test_there_is_no_way_to_edit_or_delete_an_entry(client, tenant: Tenant) -> None:
    body = await post_entry(client, tenant, U)
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.request(
            method,
            f"/api/contributions/{body['id']}",
            json={"quantity": 9},
            headers=tenant.headers(U),
        )
        assert response.status_code == 405, method


async def test_volunteer_cannot_correct_a_confirmed_entry(client, tenant: Tenant) -> None:
    body = await post_entry(client, tenant, V)
    confirmed = await client.post(
        f"/api/contributions/{body['id']}/confirm", headers=tenant.headers(H)
    )
    assert confirmed.status_code == 200
    response = await client.post(
        f"/api/contributions/{body['id']}/corrections",
        json={"quantity": 8, "reason": "di più"},
        headers=tenant.headers(V),
    )
    assert response.status_code == 403
    # The holder manager may still correct it; the correction needs confirming again.
    response = await client.post(
        f"/api/contributions/{body['id']}/corrections",
        json={"quantity": 3, "reason": "orario corretto"},
        headers=tenant.headers(H),
    )
    assert response.status_code == 201
    assert response.json()["verification"] == "self_reported"


# --- verification ---------------------------------------------------------------------------


async def test_holder_manager_confirms_its_holders_entries(client, tenant: Tenant) -> None:
    body = await post_entry(client, tenant, V, quantity=4)
    # The volunteer sees its entry but cannot confirm it; the social worker does not see it.
    for role, status in ((V, 403), (S, 404)):
        refused = await client.post(
            f"/api/contributions/{body['id']}/confirm", headers=tenant.headers(role)
        )
        assert refused.status_code == status, role
    response = await client.post(
        f"/api/contributions/{body['id']}/confirm",
        json={"note": "presente alla festa"},
        headers=tenant.headers(H),
    )
    assert response.status_code == 200, response.text
    confirmation = response.json()["confirmation"]
    assert response.json()["verification"] == "confirmed"
    assert confirmation["confirmed_by"] == str(tenant.users[H])
    assert confirmation["role"] == "holder_manager" and confirmation["confirmed_at"]
    hours = (await totals(client, tenant, V))["hours"]
    assert (hours["verified"], hours["self_reported"]) == (4, 0)
    again = await client.post(f"/api/contributions/{body['id']}/confirm", headers=tenant.headers(U))
    assert again.status_code == 409
    pending = await client.get(
        "/api/contributions", params={"verification": "self_reported"}, headers=tenant.headers(H)
    )
    assert pending.json()["items"] == []
    done = await client.get(
        "/api/contributions", params={"verification": "confirmed"}, headers=tenant.headers(H)
    )
    assert [e["id"] for e in done.json()["items"]] == [body["id"]]
    # The confirmation's answer is the entry as it is stored now, field by field.
    stored = await client.get(f"/api/contributions/{body['id']}", headers=tenant.headers(H))
    assert stored.json() == response.json()


async def test_another_holders_manager_cannot_confirm(client, tenant: Tenant) -> None:
    body = await post_entry(client, tenant, U, holder_id=str(tenant.other_holder_id))
    response = await client.post(
        f"/api/contributions/{body['id']}/confirm", headers=tenant.headers(H)
    )
    assert response.status_code == 404  # not even visible to it


async def test_plan_entries_are_confirmed_by_the_social_worker_of_the_plan(
    client, tenant: Tenant
) -> None:
    link = await make_match(tenant)
    body = await post_entry(
        client, tenant, V, match_id=str(link["match"]), unit="trips", quantity=2
    )
    assert body["plan_id"] is None and body["need_id"] is None  # hidden from the holder side
    assert body["resource_id"] == str(tenant.resource_id)
    refused = await client.post(
        f"/api/contributions/{body['id']}/confirm", headers=tenant.headers(H)
    )
    assert refused.status_code == 403
    stranger = await add_user(tenant, S)
    hidden = await client.post(
        f"/api/contributions/{body['id']}/confirm",
        headers={"Authorization": stranger["Authorization"]},
    )
    assert hidden.status_code == 404  # another social worker's plan is invisible

    seen = await client.get(
        "/api/contributions", params={"plan_id": str(link["plan"])}, headers=tenant.headers(S)
    )
    assert [e["id"] for e in seen.json()["items"]] == [body["id"]]
    assert seen.json()["items"][0]["plan_id"] == str(link["plan"])
    response = await client.post(
        f"/api/contributions/{body['id']}/confirm", headers=tenant.headers(S)
    )
    assert response.status_code == 200
    assert response.json()["confirmation"]["role"] == "social_worker"
    trips = (await totals(client, tenant, S, plan_id=str(link["plan"])))["trips"]
    assert trips["verified"] == 2


async def test_social_worker_records_for_its_plans_only(client, tenant: Tenant) -> None:
    link = await make_match(tenant)
    ok = await client.post(
        "/api/contributions",
        json=entry(tenant, need_id=str(link["need"])),
        headers={**tenant.headers(S), **key()},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["plan_id"] == str(link["plan"])
    general = await client.post(
        "/api/contributions", json=entry(tenant), headers={**tenant.headers(S), **key()}
    )
    assert general.status_code == 403


async def test_match_must_be_running_and_of_the_holder(client, tenant: Tenant) -> None:
    proposed = await make_match(tenant, status="proposed")
    response = await client.post(
        "/api/contributions",
        json=entry(tenant, match_id=str(proposed["match"])),
        headers={**tenant.headers(H), **key()},
    )
    assert response.status_code == 400 and response.json()["field"] == "match_id"
    active = await make_match(tenant)
    response = await client.post(
        "/api/contributions",
        json=entry(tenant, match_id=str(active["match"]), holder_id=str(tenant.other_holder_id)),
        headers={**tenant.headers(U), **key()},
    )
    assert response.status_code == 400 and response.json()["field"] == "holder_id"


# --- idempotency ----------------------------------------------------------------------------


async def test_idempotency_key_is_required(client, tenant: Tenant) -> None:
    response = await client.post(
        "/api/contributions", json=entry(tenant), headers=tenant.headers(V)
    )
    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key"


async def test_check_in_keys_are_reserved(client, tenant: Tenant) -> None:
    response = await client.post(
        "/api/contributions",
        json=entry(tenant),
        headers={**tenant.headers(V), "Idempotency-Key": f"checkin:{uuid.uuid4()}"},
    )
    assert response.status_code == 400 and response.json()["field"] == "Idempotency-Key"


async def test_same_key_with_another_body_is_a_conflict(client, tenant: Tenant) -> None:
    headers = {**tenant.headers(V), **key()}
    first = await client.post("/api/contributions", json=entry(tenant), headers=headers)
    assert first.status_code == 201
    same = await client.post("/api/contributions", json=entry(tenant), headers=headers)
    assert same.status_code == 200 and same.json()["id"] == first.json()["id"]
    other = await client.post("/api/contributions", json=entry(tenant, quantity=7), headers=headers)
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["detail"]
    # Another user replaying someone's key does not get their entry either.
    stolen = await client.post(
        "/api/contributions",
        json=entry(tenant),
        headers={**tenant.headers(H), "Idempotency-Key": headers["Idempotency-Key"]},
    )
    assert stolen.status_code == 409


async def test_one_hundred_concurrent_replays_record_one_entry(client, tenant: Tenant) -> None:
    headers = {**tenant.headers(V), **key()}
    body = entry(tenant, quantity=1.5, note="turno mensa")
    replies = await asyncio.gather(
        *[client.post("/api/contributions", json=body, headers=headers) for _ in range(100)]
    )
    codes = [r.status_code for r in replies]
    assert set(codes) <= {200, 201}, {r.text for r in replies if r.status_code >= 300}
    assert codes.count(201) == 1
    assert len({r.json()["id"] for r in replies}) == 1
    stored = await Contribution.count().where(
        Contribution.idempotency_key == headers["Idempotency-Key"]
    )
    assert stored == 1
    assert (await totals(client, tenant, V))["hours"]["self_reported"] == 1.5


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit": "litres"}, "unit"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"unit": "items", "quantity": 1.5}, "quantity"),
        ({"unit": "hours", "value_cents": 100}, "value_cents"),
        ({"occurred_on": "2026-02-30"}, "occurred_on"),
        ({"occurred_on": (TODAY + timedelta(days=5)).isoformat()}, "occurred_on"),
        ({"holder_id": str(uuid.uuid4())}, "holder_id"),
        ({"resource_id": "other_resource"}, "resource_id"),
        ({"activity_id": str(uuid.uuid4())}, "activity_id"),
        ({"match_id": str(uuid.uuid4())}, "match_id"),
        ({"comune": "999999"}, "comune[0]"),
        ({"colour": "red"}, "colour"),
        ({"started_at": "2026-03-01T10:00:00Z", "ended_at": "2026-03-01T09:00:00Z"}, "ended_at"),
    ],
)
async def test_bad_input_names_the_field(
    client, tenant: Tenant, change: dict[str, Any], field: str
) -> None:
    if change.get("resource_id") == "other_resource":
        change = {"resource_id": str(tenant.other_resource_id)}
    response = await client.post(
        "/api/contributions",
        json=entry(tenant, **change),
        headers={**tenant.headers(U), **key()},
    )
    assert 400 <= response.status_code < 500, response.text
    assert field in response.text, response.text
    assert await Contribution.count().where(Contribution.ambito == tenant.ambito_id) == 0


# --- community activities -------------------------------------------------------------------


async def test_activity_entries_need_an_organising_holder(client, tenant: Tenant) -> None:
    response = await client.post(
        "/api/activities",
        json={
            "title": "Festa di quartiere",
            "starts_on": TODAY.isoformat(),
            "comune": tenant.comuni[0],
        },
        headers=tenant.headers(H),
    )
    assert response.status_code == 201, response.text
    activity = response.json()
    assert activity["holder_ids"] == [str(tenant.holder_id)]
    body = await post_entry(
        client, tenant, V, activity_id=activity["id"], unit="people_reached", quantity=80
    )
    assert body["activity_id"] == activity["id"]
    refused = await client.post(
        "/api/contributions",
        json=entry(tenant, activity_id=activity["id"], holder_id=str(tenant.other_holder_id)),
        headers={**tenant.headers(U), **key()},
    )
    assert refused.status_code == 400 and refused.json()["field"] == "holder_id"
    # Adding the second holder as co-organiser makes it a joint activity.
    joint = await client.patch(
        f"/api/activities/{activity['id']}",
        json={"holder_ids": [str(tenant.holder_id), str(tenant.other_holder_id)]},
        headers=tenant.headers(H),
    )
    assert joint.status_code == 200 and len(joint.json()["holder_ids"]) == 2
    listed = await client.get(
        "/api/activities",
        params={"holder_id": str(tenant.other_holder_id)},
        headers=tenant.headers(V),
    )
    assert [a["id"] for a in listed.json()["items"]] == [activity["id"]]
    bad = await client.post(
        "/api/activities",
        json={"title": "X", "starts_on": "2026-05-02", "ends_on": "2026-05-01"},
        headers=tenant.headers(H),
    )
    assert bad.status_code == 400 and bad.json()["field"] == "ends_on"


async def test_login_then_record(client, tenant: Tenant) -> None:
    login = await client.post(
        "/api/auth/token", json={"username": tenant.usernames[V], "password": PASSWORD}
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}", **key()}
    response = await client.post("/api/contributions", json=entry(tenant), headers=headers)
    assert response.status_code == 201


async def test_the_list_and_the_summary_filter_alike(client, tenant: Tenant) -> None:
    """Both read one set of filters: the same entries are listed and totalled, and a bad
    filter is refused alike, naming it."""
    week_ago = (TODAY - timedelta(days=7)).isoformat()
    await post_entry(client, tenant, U, quantity=1, occurred_on=week_ago)
    kept = await post_entry(client, tenant, U, quantity=2)
    await post_entry(client, tenant, U, quantity=4, holder_id=str(tenant.other_holder_id))
    query = {
        "holder_id": str(tenant.holder_id),
        "from": (TODAY - timedelta(days=1)).isoformat(),
        "to": TODAY.isoformat(),
    }
    listed = await client.get("/api/contributions", params=query, headers=tenant.headers(U))
    assert [e["id"] for e in listed.json()["items"]] == [kept["id"]]
    summed = await client.get("/api/contributions/summary", params=query, headers=tenant.headers(U))
    assert (summed.json()["from_date"], summed.json()["to_date"]) == (query["from"], query["to"])
    assert [(t["unit"], t["self_reported"], t["entries"]) for t in summed.json()["totals"]] == [
        ("hours", 2.0, 1)
    ]
    for path in ("/api/contributions", "/api/contributions/summary"):
        for bad, field in (
            ({"holder_id": "x"}, "holder_id"),
            ({"from": "2026-13-01"}, "from_date"),
            ({"from": TODAY.isoformat(), "to": week_ago}, "to"),
        ):
            response = await client.get(path, params=bad, headers=tenant.headers(U))
            assert response.status_code == 400, response.text
            body = response.json()
            assert field in [e["key"] for e in body.get("errors", [])] + [body.get("field")], body
        response = await client.get(
            path, params={"plan_id": str(uuid.uuid4())}, headers=tenant.headers(H)
        )
        assert response.status_code == 403, response.text
