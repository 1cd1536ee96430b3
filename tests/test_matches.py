"""Suggestions on real data, the match lifecycle with its history, the holder's view of a
need, capacity held and released, and batch runs that never accept anything by themselves."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from registry.access import Role
from registry.holders.tables import Holder
from registry.matches.tables import Match, ResourceCapacity
from registry.resources.tables import Resource
from tests.conftest import Tenant
from tests.test_plans_support import (
    H,
    S,
    U,
    V,
    add_resource,
    add_user,
    create_need,
    create_plan,
    propose,
)

MO_9_12 = [(["MO"], 9, 12)]


async def _accompagnamento(client, tenant: Tenant) -> tuple[dict, dict]:
    """A plan with one need of accompaniment on Monday 9-11, in the tenant's first comune;
    the tenant's own fixture resources are transport, so they never interfere."""
    plan = await create_plan(client, tenant)
    need = await create_need(client, tenant, plan["id"], category_code="accompagnamento")
    return plan, need


async def _suggest(client, tenant: Tenant, plan: dict, need: dict, **params) -> dict:
    response = await client.get(
        f"/api/plans/{plan['id']}/needs/{need['id']}/suggestions",
        params=params,
        headers=tenant.headers(S),
    )
    assert response.status_code == 200, response.text
    return response.json()


# --- suggestions ---------------------------------------------------------------------------


async def test_best_resource_comes_first_with_explanations(client, tenant: Tenant) -> None:
    plan, need = await _accompagnamento(client, tenant)
    best = await add_resource(
        tenant,
        title="Accompagnamento il lunedì",
        category="accompagnamento",
        windows=MO_9_12,
        capacity=2,
    )
    general = await add_resource(  # the parent category, no schedule given
        tenant, title="Servizi vari", category="servizi", holder_id=tenant.other_holder_id
    )
    evening = await add_resource(  # right category, wrong time of the week
        tenant,
        title="Accompagnamento serale",
        category="accompagnamento",
        windows=[(["FR"], 18, 21)],
        holder_id=tenant.other_holder_id,
    )
    excluded = [
        await add_resource(tenant, category="accompagnamento", status="stale"),
        await add_resource(tenant, category="accompagnamento", status="archived"),
        await add_resource(tenant, category="accompagnamento", status="paused"),
        await add_resource(tenant, category="accompagnamento", valid_until=date(2020, 1, 1)),
        await add_resource(tenant, category="accompagnamento", comuni=tenant.comuni[1:]),
        await add_resource(tenant, category="trasporto"),  # a sibling category
    ]
    # A resource with every place taken by an accepted match is left out too.
    full = await add_resource(tenant, category="accompagnamento", capacity=1, windows=MO_9_12)
    other_plan = await create_plan(client, tenant)
    other_need = await create_need(
        client, tenant, other_plan["id"], category_code="accompagnamento"
    )
    taken = await propose(client, tenant, other_need["id"], full)
    accepted = await client.post(f"/api/matches/{taken['id']}/accept", headers=tenant.headers(H))
    assert accepted.status_code == 200

    result = await _suggest(client, tenant, plan, need)
    ranked = [s["resource_id"] for s in result["suggestions"]]
    assert ranked == [str(best), str(evening), str(general)]
    for resource_id in [*excluded, full]:
        assert str(resource_id) not in ranked
    # Three fit: nothing "nearly fits" is offered.
    assert result["near_misses"] == []

    top = result["suggestions"][0]
    assert top["rank"] == 1 and top["resource_title"] == "Accompagnamento il lunedì"
    assert top["holder_name"] == "Associazione Alfa"
    assert top["remaining_capacity"] == 2
    components = {c["name"]: c for c in top["components"]}
    assert set(components) == {
        "category_fit",
        "schedule_overlap",
        "capacity",
        "proximity",
        "language",
        "continuity",
        "load_spread",
        "new_tie",
        "freshness",
    }
    for component in components.values():
        assert 0 <= component["value"] <= 1 and component["weight"] >= 0 and component["reason"]
    assert components["category_fit"]["value"] == 1.0
    assert components["schedule_overlap"]["value"] == 1.0
    assert "lunedì" in components["schedule_overlap"]["reason"]
    # Counts in agreement: the holder's one accepted match (the full resource's), two places.
    assert components["capacity"]["reason"] == "2 posti disponibili"
    assert components["load_spread"]["reason"] == "Il titolare ha già 1 abbinamento attivo"
    second = {c["name"]: c for c in result["suggestions"][1]["components"]}
    assert second["capacity"]["reason"] == "1 posto disponibile"
    assert top["explanation"].startswith("Stessa categoria")
    scores = [s["score"] for s in result["suggestions"]]
    assert scores == sorted(scores, reverse=True)
    general_fit = {c["name"]: c for c in result["suggestions"][2]["components"]}["category_fit"]
    assert general_fit["value"] < 1 and "più generale" in general_fit["reason"]

    limited = await _suggest(client, tenant, plan, need, limit=1)
    assert [s["resource_id"] for s in limited["suggestions"]] == [str(best)]


async def test_clearances_filter_and_language_only_ranks(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    need = await create_need(
        client,
        tenant,
        plan["id"],
        category_code="accompagnamento",
        requirements=["patente-b"],
        languages=["ar", "fr"],
    )
    cleared = await add_resource(
        tenant, category="accompagnamento", requirements=["patente-b"], languages=["it", "ar"]
    )
    await add_resource(tenant, category="accompagnamento", languages=["it", "ar"])
    italian_only = await add_resource(
        tenant, category="accompagnamento", requirements=["patente-b"]
    )
    result = await _suggest(client, tenant, plan, need)
    # The clearance is a rule; a language in common is a weighted component: the resource
    # speaking only Italian still comes, below the one that speaks Arabic, and says why.
    assert [s["resource_id"] for s in result["suggestions"]] == [str(cleared), str(italian_only)]
    first, second = (
        {c["name"]: c for c in s["components"]}["language"] for s in result["suggestions"]
    )
    assert first["value"] == 1.0 and "arabo" in first["reason"]
    assert second["value"] == 0.0
    assert second["reason"] == "Nessuna lingua in comune (richieste: arabo, francese)"


async def test_an_unconfirmed_resource_ranks_lower_with_a_warning(client, tenant: Tenant) -> None:
    """Last confirmed 99 days ago (past the 90-day policy, not yet marked stale by the job):
    it is still shown, below an equal resource confirmed recently, and the answer says so."""
    plan, need = await _accompagnamento(client, tenant)
    now = datetime.now(UTC)
    old = await add_resource(
        tenant, category="accompagnamento", confirmed_at=now - timedelta(days=99)
    )
    aging = await add_resource(
        tenant, category="accompagnamento", confirmed_at=now - timedelta(days=75)
    )
    fresh = await add_resource(
        tenant, category="accompagnamento", confirmed_at=now - timedelta(days=2)
    )
    result = await _suggest(client, tenant, plan, need)
    assert [s["resource_id"] for s in result["suggestions"]] == [str(fresh), str(aging), str(old)]
    by_id = {s["resource_id"]: s for s in result["suggestions"]}
    freshness = {
        key: {c["name"]: c for c in by_id[str(rid)]["components"]}["freshness"]
        for key, rid in (("old", old), ("aging", aging), ("fresh", fresh))
    }
    assert freshness["fresh"]["value"] == 1.0 and by_id[str(fresh)]["warning"] is None
    assert 0.0 < freshness["aging"]["value"] < 1.0
    assert "conferma richiesta al titolare" in by_id[str(aging)]["warning"]
    assert freshness["old"]["value"] == 0.0
    assert "non confermata da" in by_id[str(old)]["warning"]
    assert "oltre i 90 previsti" in by_id[str(old)]["explanation"]


async def test_a_need_has_its_own_target_group(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)  # target group: anziani
    for_elderly = await add_resource(tenant, category="accompagnamento")
    for_minors = await add_resource(
        tenant, category="accompagnamento", target_groups=["famiglie-minori"]
    )
    need = await create_need(
        client, tenant, plan["id"], category_code="accompagnamento", target_group="famiglie-minori"
    )
    assert need["target_group"] == "famiglie-minori"
    found = [s["resource_id"] for s in (await _suggest(client, tenant, plan, need))["suggestions"]]
    assert found == [str(for_minors)]
    # Back to null: the plan's target group applies again.
    url = f"/api/plans/{plan['id']}/needs/{need['id']}"
    response = await client.patch(url, json={"target_group": None}, headers=tenant.headers(S))
    assert response.status_code == 200 and response.json()["target_group"] is None
    found = [s["resource_id"] for s in (await _suggest(client, tenant, plan, need))["suggestions"]]
    assert found == [str(for_elderly)]
    # Not a target group of the vocabulary: 400 naming the field.
    response = await client.patch(url, json={"target_group": "tutti"}, headers=tenant.headers(S))
    assert response.status_code == 400 and "target_group" in response.text


async def test_continuity_and_new_tie_come_from_the_plans_matches(client, tenant: Tenant) -> None:
    plan, need = await _accompagnamento(client, tenant)
    first = await add_resource(tenant, category="accompagnamento", holder_id=tenant.holder_id)
    second = await add_resource(
        tenant, category="accompagnamento", holder_id=tenant.other_holder_id
    )
    before = await _suggest(client, tenant, plan, need)
    for suggestion in before["suggestions"]:
        parts = {c["name"]: c["value"] for c in suggestion["components"]}
        assert (parts["continuity"], parts["new_tie"]) == (0.0, 1.0)

    # The other holder is engaged in this plan through another need.
    transport = await create_need(client, tenant, plan["id"])
    match = await propose(client, tenant, transport["id"], tenant.other_resource_id)
    udp = tenant.headers(U)  # the UdP answers for a holder without a manager account
    assert (await client.post(f"/api/matches/{match['id']}/accept", headers=udp)).status_code == 200

    after = await _suggest(client, tenant, plan, need)
    by_id = {
        s["resource_id"]: {c["name"]: c for c in s["components"]} for s in after["suggestions"]
    }
    assert by_id[str(second)]["continuity"]["value"] == 1.0
    assert by_id[str(second)]["new_tie"]["value"] == 0.0
    assert by_id[str(second)]["load_spread"]["value"] < 1.0
    assert by_id[str(first)]["continuity"]["value"] == 0.0
    assert after["suggestions"][0]["resource_id"] == str(second)


async def test_no_suggestion_says_why(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    need = await create_need(client, tenant, plan["id"], category_code="orto")
    result = await _suggest(client, tenant, plan, need)
    assert result["suggestions"] == []
    # No resource of the category anywhere in the ambito: the need's comune is not the reason.
    assert result["note"] == (
        "Nessuna risorsa attiva della categoria «Orto e spazi verdi» (o più generale) "
        "disponibile nell'ambito"
    )
    # One in another comune of the ambito: now the need's comune is why (the tests' comuni are
    # synthetic codes with no ISTAT name, so the code stands in for it).
    await add_resource(tenant, category="orto", comuni=tenant.comuni[1:])
    result = await _suggest(client, tenant, plan, need)
    assert result["note"] == (
        "Nessuna risorsa attiva della categoria «Orto e spazi verdi» (o più generale) "
        f"disponibile nel comune di {tenant.comuni[0]}"
    )


async def test_suggestions_follow_plan_visibility(client, tenant: Tenant) -> None:
    plan, need = await _accompagnamento(client, tenant)
    url = f"/api/plans/{plan['id']}/needs/{need['id']}/suggestions"
    colleague = await add_user(tenant, S)
    denied = await client.get(url, headers=colleague["headers"])
    assert denied.status_code == 404
    # A need that is not in the plan reads the same to whoever may not see the plan: its
    # needs are not probed through the answer.
    other = f"/api/plans/{plan['id']}/needs/{uuid.uuid4()}/suggestions"
    unknown = await client.get(other, headers=colleague["headers"])
    assert (unknown.status_code, unknown.json()) == (404, denied.json())
    assert (await client.get(other, headers=tenant.headers(S))).status_code == 404
    assert (await client.get(url, headers=tenant.headers(U))).status_code == 200
    for role in (H, V):
        assert (await client.get(url, headers=tenant.headers(role))).status_code == 403
    assert (
        await client.get(url, params={"limit": 0}, headers=tenant.headers(S))
    ).status_code == 400


# --- lifecycle -----------------------------------------------------------------------------


async def _held(resource_id) -> int:
    row = (
        await ResourceCapacity.select(ResourceCapacity.reserved)
        .where(ResourceCapacity.resource == resource_id)
        .first()
    )
    return row["reserved"] if row else 0


async def test_full_lifecycle_with_history(client, tenant: Tenant) -> None:
    plan, need = await _accompagnamento(client, tenant)
    resource = await add_resource(tenant, category="accompagnamento", capacity=1, windows=MO_9_12)
    match = await propose(client, tenant, need["id"], resource)
    assert match["status"] == "proposed"
    assert match["score"] > 0.8 and match["warning"] == "" and match["components"]
    url = f"/api/matches/{match['id']}"

    # The social worker cannot answer for the holder, the holder cannot confirm.
    assert (await client.post(f"{url}/accept", headers=tenant.headers(S))).status_code == 403
    assert (await client.post(f"{url}/confirm", headers=tenant.headers(H))).status_code == 403
    # Not yet accepted: nothing to confirm.
    response = await client.post(f"{url}/confirm", headers=tenant.headers(S))
    assert response.status_code == 409 and "only from accepted" in response.json()["detail"]

    response = await client.post(f"{url}/accept", headers=tenant.headers(H))
    assert (response.status_code, response.json()["status"]) == (200, "accepted")
    assert await _held(resource) == 1
    assert (await client.post(f"{url}/accept", headers=tenant.headers(H))).status_code == 409

    response = await client.post(f"{url}/confirm", headers=tenant.headers(S))
    assert (response.status_code, response.json()["status"]) == (200, "active")
    needs = await client.get(f"/api/plans/{plan['id']}/needs", headers=tenant.headers(S))
    assert needs.json()[0]["status"] == "matched"

    response = await client.post(
        f"{url}/complete", json={"reason": "obiettivo raggiunto"}, headers=tenant.headers(S)
    )
    assert (response.status_code, response.json()["status"]) == (200, "completed")
    assert await _held(resource) == 0
    for action in ("accept", "confirm", "complete", "withdraw"):
        response = await client.post(
            f"{url}/{action}", headers=tenant.headers(S if action != "accept" else H)
        )
        assert response.status_code == 409, action

    history = (await client.get(f"{url}/history", headers=tenant.headers(S))).json()
    steps = [(h["from_status"], h["to_status"]) for h in history]
    assert steps == [
        (None, "proposed"),
        ("proposed", "accepted"),
        ("accepted", "active"),
        ("active", "completed"),
    ]
    who = [h["actor_id"] for h in history]
    assert who == [str(tenant.users[r]) for r in (S, H, S, S)]
    assert history[-1]["reason"] == "obiettivo raggiunto"
    assert all(h["at"] for h in history)


async def test_decline_needs_a_reason_and_releases_an_accepted_place(
    client, tenant: Tenant
) -> None:
    _, need = await _accompagnamento(client, tenant)
    resource = await add_resource(tenant, category="accompagnamento", capacity=1)
    match = await propose(client, tenant, need["id"], resource)
    url = f"/api/matches/{match['id']}"
    response = await client.post(f"{url}/decline", json={"reason": "  "}, headers=tenant.headers(H))
    assert (response.status_code, response.json()["field"]) == (400, "reason")
    response = await client.post(f"{url}/decline", json={}, headers=tenant.headers(H))
    assert response.status_code == 400
    await client.post(f"{url}/accept", headers=tenant.headers(H))
    assert await _held(resource) == 1
    response = await client.post(
        f"{url}/decline",
        json={"reason": "Volontario non più disponibile"},
        headers=tenant.headers(H),
    )
    assert response.status_code == 200
    assert response.json()["decline_reason"] == "Volontario non più disponibile"
    assert await _held(resource) == 0
    history = (await client.get(f"{url}/history", headers=tenant.headers(H))).json()
    assert history[-1]["reason"] == "Volontario non più disponibile"


async def test_withdraw_releases_and_reopens_the_need(client, tenant: Tenant) -> None:
    plan, need = await _accompagnamento(client, tenant)
    resource = await add_resource(tenant, category="accompagnamento", capacity=1)
    first = await propose(client, tenant, need["id"], resource)
    await client.post(f"/api/matches/{first['id']}/accept", headers=tenant.headers(H))
    await client.post(f"/api/matches/{first['id']}/confirm", headers=tenant.headers(S))
    # The only place is held: a second need's acceptance is refused.
    other = await create_need(client, tenant, plan["id"], category_code="accompagnamento")
    second = await propose(client, tenant, other["id"], resource)
    response = await client.post(f"/api/matches/{second['id']}/accept", headers=tenant.headers(H))
    assert response.status_code == 409
    assert "no capacity left" in response.json()["detail"]

    response = await client.post(
        f"/api/matches/{first['id']}/withdraw",
        json={"reason": "trasferita in RSA"},
        headers=tenant.headers(S),
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    url = f"/api/matches/{first['id']}/history"
    assert (await client.get(url, headers=tenant.headers(S))).json()[-1]["reason"] == (
        "trasferita in RSA"
    )
    # The holder side learns that the match was withdrawn, not why.
    holder_view = await client.get(url, headers=tenant.headers(H))
    assert holder_view.json()[-1]["to_status"] == "withdrawn"
    assert "RSA" not in holder_view.text
    got = await client.get(f"/api/plans/{plan['id']}/needs/{need['id']}", headers=tenant.headers(S))
    assert got.json()["status"] == "open"
    response = await client.post(f"/api/matches/{second['id']}/accept", headers=tenant.headers(H))
    assert response.status_code == 200


async def test_capacity_follows_the_resource(client, tenant: Tenant) -> None:
    """Remaining = capacity - accepted/active, even after the holder changes capacity."""
    plan, need = await _accompagnamento(client, tenant)
    resource = await add_resource(tenant, category="accompagnamento", capacity=2)
    needs = [need, await create_need(client, tenant, plan["id"], category_code="accompagnamento")]
    needs.append(await create_need(client, tenant, plan["id"], category_code="accompagnamento"))
    made = [await propose(client, tenant, n["id"], resource) for n in needs]
    codes = [
        (await client.post(f"/api/matches/{m['id']}/accept", headers=tenant.headers(H))).status_code
        for m in made
    ]
    assert codes == [200, 200, 409]
    await Resource.update({Resource.capacity: 3}).where(Resource.id == resource)
    response = await client.post(f"/api/matches/{made[2]['id']}/accept", headers=tenant.headers(H))
    assert response.status_code == 200
    held = await Match.count().where(
        (Match.resource == resource) & Match.status.is_in(["accepted", "active"])
    )
    assert held == await _held(resource) == 3


async def test_holder_manager_sees_only_the_need_details(client, tenant: Tenant) -> None:
    plan, need = await _accompagnamento(client, tenant)
    resource = await add_resource(tenant, category="accompagnamento")
    match = await propose(client, tenant, need["id"], resource)
    for url in (f"/api/matches/{match['id']}", "/api/matches"):
        response = await client.get(url, headers=tenant.headers(H))
        assert response.status_code == 200
        text = response.text
        for secret in (plan["case_code"], plan["notes"], plan["goals"][0], plan["id"], need["id"]):
            assert secret not in text, secret
        assert "case_code" not in text and "notes" not in text and "goals" not in text
    view = (await client.get(f"/api/matches/{match['id']}", headers=tenant.headers(H))).json()
    assert view["plan_id"] is None and view["need_id"] is None
    assert view["need"] == {
        "category_code": "accompagnamento",
        "schedule": [{"weekday": "MO", "start": "09:00", "end": "11:00"}],
        "comune": tenant.comuni[0],
        "quantity": 120,
        "unit": "minutes_per_week",
        "start_date": None,
        "end_date": None,
        "languages": ["it"],
        "requirements": [],
        "max_distance_km": None,
    }
    # The social worker's view of the same match links back to the plan, still without
    # personal details.
    own = (await client.get(f"/api/matches/{match['id']}", headers=tenant.headers(S))).json()
    assert own["plan_id"] == plan["id"] and plan["case_code"] not in str(own)


async def test_holder_manager_sees_only_its_holders_matches(client, tenant: Tenant) -> None:
    _, need = await _accompagnamento(client, tenant)
    mine = await propose(client, tenant, need["id"], tenant.resource_id)
    theirs = await propose(client, tenant, need["id"], tenant.other_resource_id)
    listed = await client.get("/api/matches", headers=tenant.headers(H))
    assert [m["id"] for m in listed.json()["items"]] == [mine["id"]]
    response = await client.get(f"/api/matches/{theirs['id']}", headers=tenant.headers(H))
    assert response.status_code == 404
    response = await client.post(f"/api/matches/{theirs['id']}/accept", headers=tenant.headers(H))
    assert response.status_code == 404
    # A manager without a holder yet sees nothing.
    newcomer = await add_user(tenant, Role.HOLDER_MANAGER)
    empty = await client.get("/api/matches", headers=newcomer["headers"])
    assert empty.json()["items"] == []


async def test_social_worker_sees_matches_of_visible_plans_only(client, tenant: Tenant) -> None:
    colleague = await add_user(tenant, S)
    _, need = await _accompagnamento(client, tenant)
    match = await propose(client, tenant, need["id"], tenant.resource_id)
    assert (
        await client.get(f"/api/matches/{match['id']}", headers=colleague["headers"])
    ).status_code == 404
    listed = await client.get("/api/matches", headers=colleague["headers"])
    assert listed.json()["items"] == []
    response = await client.post(
        "/api/matches",
        json={"need_id": need["id"], "resource_id": str(tenant.resource_id)},
        headers=colleague["headers"],
    )
    assert (response.status_code, response.json()["field"]) == (400, "need_id")
    mine = await client.get(
        "/api/matches", params={"need_id": need["id"]}, headers=tenant.headers(S)
    )
    assert [m["id"] for m in mine.json()["items"]] == [match["id"]]


async def test_bad_proposals(client, tenant: Tenant, other_tenant: Tenant) -> None:
    plan, need = await _accompagnamento(client, tenant)
    headers = tenant.headers(S)

    async def attempt(body: dict) -> tuple[int, str | None]:
        response = await client.post("/api/matches", json=body, headers=headers)
        return response.status_code, response.json().get("field")

    good = {"need_id": need["id"], "resource_id": str(tenant.resource_id)}
    assert await attempt({**good, "resource_id": str(other_tenant.resource_id)}) == (
        400,
        "resource_id",
    )
    assert await attempt({**good, "resource_id": "not-a-uuid"}) == (400, None)
    foreign_plan = await create_plan(client, other_tenant)
    foreign_need = await create_need(client, other_tenant, foreign_plan["id"])
    assert await attempt({**good, "need_id": foreign_need["id"]}) == (400, "need_id")
    paused = await add_resource(tenant, category="accompagnamento", status="paused")
    assert await attempt({**good, "resource_id": str(paused)}) == (409, "resource_id")

    # An off-engine proposal is allowed (people decide) but says why it was not suggested.
    response = await client.post("/api/matches", json=good, headers=headers)
    assert response.status_code == 201
    assert response.json()["warning"] == "Non suggerita dal motore: categoria diversa"
    assert await attempt(good) == (409, "resource_id")  # already proposed

    await client.patch(f"/api/plans/{plan['id']}", json={"status": "suspended"}, headers=headers)
    assert (await attempt({**good, "resource_id": str(tenant.other_resource_id)}))[0] == 409


# --- batch runs ----------------------------------------------------------------------------


async def test_batch_run_is_a_draft_and_accepts_nothing(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    needs = [
        await create_need(client, tenant, plan["id"], category_code="accompagnamento", priority=p)
        for p in (5, 1)
    ]
    unmatched = await create_need(client, tenant, plan["id"], category_code="orto")
    # One place for two needs: the urgent one gets it.
    only = await add_resource(tenant, category="accompagnamento", capacity=1, windows=MO_9_12)
    before = await Match.count().where(Match.ambito == tenant.ambito_id)

    response = await client.post("/api/matching/runs", json={}, headers=tenant.headers(U))
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "draft"
    assert run["needs_considered"] == 3
    assert run["max_candidates_per_need"] is None  # no need lost a candidate to a cap
    by_need = {p["need_id"]: p for p in run["pairs"]}
    assert by_need[needs[0]["id"]]["resource_id"] == str(only)
    assert needs[1]["id"] not in by_need
    assert all(p["match_id"] is None and p["components"] and p["explanation"] for p in run["pairs"])
    reasons = {u["need_id"]: u for u in run["unassigned"]}
    assert reasons[needs[1]["id"]]["code"] == "capacity_exhausted"
    assert reasons[unmatched["id"]]["code"] == "no_candidates"
    assert run["total_score"] == sum(p["score"] for p in run["pairs"])

    # Stored, readable again, and nothing was accepted or even proposed.
    again = await client.get(f"/api/matching/runs/{run['id']}", headers=tenant.headers(U))
    assert again.json()["pairs"] == run["pairs"]
    assert await Match.count().where(Match.ambito == tenant.ambito_id) == before
    listed = await client.get("/api/matching/runs", headers=tenant.headers(U))
    assert listed.json()[0]["id"] == run["id"] and listed.json()[0]["assigned"] == len(run["pairs"])

    # Turning a pair into a proposal creates a *proposed* match, nothing more.
    pair = by_need[needs[0]["id"]]
    url = f"/api/matching/runs/{run['id']}/propose"
    response = await client.post(url, json={"pair_ids": [pair["id"]]}, headers=tenant.headers(S))
    assert response.status_code == 201, response.text
    [match] = response.json()
    assert match["status"] == "proposed" and match["run_id"] == run["id"]
    assert match["score"] == pair["score"]
    assert await _held(only) == 0
    again = (await client.get(f"/api/matching/runs/{run['id']}", headers=tenant.headers(U))).json()
    assert again["status"] == "proposed"
    assert again["pairs"][0]["match_id"] == match["id"]
    response = await client.post(url, json={"pair_ids": [pair["id"]]}, headers=tenant.headers(S))
    assert (response.status_code, response.json()["field"]) == (409, "pair_ids[0]")
    response = await client.post(url, json={"pair_ids": [run["id"]]}, headers=tenant.headers(S))
    assert (response.status_code, response.json()["field"]) == (400, "pair_ids[0]")


async def test_social_worker_runs_for_its_own_plans(client, tenant: Tenant) -> None:
    colleague = await add_user(tenant, S)
    mine = await create_plan(client, tenant)
    theirs = await create_plan(client, tenant, headers=colleague["headers"])
    my_need = await create_need(client, tenant, mine["id"], category_code="trasporto")
    await create_need(client, tenant, theirs["id"], headers=colleague["headers"])

    response = await client.post("/api/matching/runs", json={}, headers=tenant.headers(S))
    assert response.status_code == 201
    run = response.json()
    assert run["needs_considered"] == 1
    assert {p["need_id"] for p in run["pairs"]} == {my_need["id"]}
    # The colleague may look at the run, but sees none of my plan's pairs.
    seen = await client.get(f"/api/matching/runs/{run['id']}", headers=colleague["headers"])
    assert seen.status_code == 200
    assert seen.json()["pairs"] == [] and my_need["id"] not in seen.text
    response = await client.post(
        "/api/matching/runs", json={"plan_id": theirs["id"]}, headers=tenant.headers(S)
    )
    assert (response.status_code, response.json()["field"]) == (400, "plan_id")
    # The UdP's run covers both plans; a social worker may not propose the colleague's pair.
    udp_run = (await client.post("/api/matching/runs", json={}, headers=tenant.headers(U))).json()
    assert udp_run["needs_considered"] >= 2
    foreign_pair = next(p for p in udp_run["pairs"] if p["plan_id"] == theirs["id"])
    url = f"/api/matching/runs/{udp_run['id']}/propose"
    body = {"pair_ids": [foreign_pair["id"]]}
    response = await client.post(url, json=body, headers=tenant.headers(S))
    assert (response.status_code, response.json()["field"]) == (400, "pair_ids[0]")
    own = await client.get(f"/api/matching/runs/{udp_run['id']}", headers=tenant.headers(S))
    assert {p["plan_id"] for p in own.json()["pairs"]} == {mine["id"]}
    response = await client.post(url, json=body, headers=colleague["headers"])
    assert response.status_code == 201


async def test_run_for_one_plan_with_weights(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    await create_need(client, tenant, plan["id"])
    other = await create_plan(client, tenant)
    await create_need(client, tenant, other["id"])
    body = {
        "plan_id": plan["id"],
        "weights": {"schedule_overlap": 10},
        "max_candidates_per_need": 5,
    }
    response = await client.post("/api/matching/runs", json=body, headers=tenant.headers(S))
    assert response.status_code == 201
    run = response.json()
    assert run["plan_id"] == plan["id"] and run["needs_considered"] == 1
    assert run["weights"]["schedule_overlap"] == 10
    bad = await client.post(
        "/api/matching/runs", json={"weights": {"charisma": 1}}, headers=tenant.headers(U)
    )
    assert bad.status_code == 400
    zero = {name: 0 for name in run["weights"]}
    bad = await client.post("/api/matching/runs", json={"weights": zero}, headers=tenant.headers(U))
    assert (bad.status_code, bad.json()["field"]) == (400, "weights")


async def test_archived_holder_resources_are_not_suggested(client, tenant: Tenant) -> None:
    plan, need = await _accompagnamento(client, tenant)
    resource = await add_resource(tenant, category="accompagnamento")
    await Holder.update({Holder.status: "archived"}).where(Holder.id == tenant.holder_id)
    result = await _suggest(client, tenant, plan, need)
    assert str(resource) not in [s["resource_id"] for s in result["suggestions"]]
