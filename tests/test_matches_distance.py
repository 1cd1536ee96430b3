"""A need's max distance, and proximity by distance, through the API on real comuni.

The comuni are three of the demo ambito (the Olgiatese, registry/data/demo_comuni.json) and
the distances come from the centroid file the registry uses, not from memory.

A comune belongs to one ambito, and tests/test_demo.py loads the demo ambito into the same
database: so these comuni are not registered in the test tenant's ambito (either test would
then fail, depending on the order). Holders' seats and resources' comuni are plain columns;
the plan is created through the API in a comune of the tenant, then moved to the real comune
directly, since the API rightly refuses a comune of another ambito.
"""

from __future__ import annotations

import uuid

from registry.geo import comune_location
from registry.holders.tables import Holder
from registry.matching.geo import distance_km, km_it
from registry.plans.tables import Plan
from tests.conftest import Tenant
from tests.test_plans_support import S, U, add_resource, create_need, create_plan, named

BIZZARONE, OLGIATE, LIMIDO = "013024", "013165", "013128"
LIMIT_KM = 10


def _km(a: str, b: str) -> float:
    here, there = comune_location(a), comune_location(b)
    assert here is not None and there is not None, "comuni missing from the centroid file"
    return distance_km(here, there)


async def _holder(tenant: Tenant, name: str, seat: str | None) -> uuid.UUID:
    holder = Holder(
        ambito=tenant.ambito_id,
        kind="association",
        sector="third_sector",
        name=name,
        seat_comune=seat,
        comuni=[BIZZARONE],
        areas=["anziani"],
        contacts="[]",
    )
    await holder.save()
    return holder.id


async def _plan_in(client, tenant: Tenant, comune: str) -> dict:
    plan = await create_plan(client, tenant)
    await Plan.update({Plan.comune: comune}).where(Plan.id == plan["id"])
    return plan


async def _suggestions(client, tenant: Tenant, plan: dict, need: dict) -> dict:
    response = await client.get(
        f"/api/plans/{plan['id']}/needs/{need['id']}/suggestions",
        params={"limit": 50},
        headers=tenant.headers(S),
    )
    assert response.status_code == 200, response.text
    return response.json()


def _by_resource(body: dict) -> dict[str, dict]:
    return {s["resource_id"]: s for s in body["suggestions"]}


def _proximity(suggestion: dict) -> dict:
    return next(c for c in suggestion["components"] if c["name"] == "proximity")


async def test_max_distance_keeps_near_and_excludes_far_resources(client, tenant: Tenant) -> None:
    near_km, far_km = _km(BIZZARONE, OLGIATE), _km(BIZZARONE, LIMIDO)
    assert near_km < LIMIT_KM < far_km  # ~5.9 and ~16.8 km
    # Every resource serves Bizzarone; they differ by where their holder has its seat.
    resource = {}
    for key, seat in (
        ("local", BIZZARONE),
        ("near", OLGIATE),
        ("far", LIMIDO),
        ("unknown", None),
    ):
        holder = await _holder(tenant, f"Associazione {key}", seat)
        served = [BIZZARONE, OLGIATE] if seat is None else [BIZZARONE]
        resource[key] = str(
            await add_resource(tenant, holder_id=holder, category="accompagnamento", comuni=served)
        )

    plan = await _plan_in(client, tenant, BIZZARONE)
    need = await create_need(
        client, tenant, plan["id"], category_code="accompagnamento", max_distance_km=LIMIT_KM
    )
    assert need["max_distance_km"] == LIMIT_KM
    url = f"/api/plans/{plan['id']}/needs/{need['id']}"
    assert (await client.get(url, headers=tenant.headers(S))).json()["max_distance_km"] == 10

    found = _by_resource(await _suggestions(client, tenant, plan, need))
    assert set(found) == {resource["local"], resource["near"], resource["unknown"]}
    assert _proximity(found[resource["local"]])["reason"] == "Ha sede nel comune del bisogno"
    near = _proximity(found[resource["near"]])
    # The seat by its ISTAT name, not its code.
    assert (
        near["reason"]
        == f"Ha sede a {km_it(near_km)} dal comune del bisogno (sede: Olgiate Comasco)"
    )
    assert "a 5,9 km" in near["reason"]
    assert 0.5 < near["value"] < 1.0
    # The seat of the holder is unknown: no distance, the comune-based value as before.
    unknown = _proximity(found[resource["unknown"]])
    assert (unknown["value"], unknown["reason"]) == (
        0.5,
        "Serve il comune del bisogno insieme a un altro comune",
    )
    # Nearer ranks higher, everything else being equal.
    ranked = [
        s["resource_id"] for s in (await _suggestions(client, tenant, plan, need))["suggestions"]
    ]
    assert ranked.index(resource["local"]) < ranked.index(resource["near"])

    # A wider limit (or none) lets the far one in, with its distance said.
    for limit in (20, None):
        response = await client.patch(
            url, json={"max_distance_km": limit}, headers=tenant.headers(S)
        )
        assert response.status_code == 200, response.text
        assert response.json()["max_distance_km"] == limit
        found = _by_resource(await _suggestions(client, tenant, plan, need))
        assert resource["far"] in found
        far = _proximity(found[resource["far"]])
        assert far["reason"] == (
            f"Ha sede a {km_it(far_km)} dal comune del bisogno (sede: Limido Comasco)"
        )
        assert km_it(far_km) == "17 km"
        assert far["value"] < near["value"]

    # A tight limit: only the local one and the one based nobody knows where remain.
    response = await client.patch(url, json={"max_distance_km": 3}, headers=tenant.headers(S))
    assert response.status_code == 200, response.text
    found = _by_resource(await _suggestions(client, tenant, plan, need))
    assert set(found) == {resource["local"], resource["unknown"]}

    # Proposing the far resource anyway is allowed (people decide), with the engine's why.
    response = await client.post(
        "/api/matches",
        json={"need_id": need["id"], "resource_id": resource["far"]},
        headers=tenant.headers(S),
    )
    assert response.status_code == 201, response.text
    assert response.json()["warning"] == "Non suggerita dal motore: troppo lontano"
    # The holder side learns the limit with the rest of the need (never the plan).
    assert response.json()["need"]["max_distance_km"] == 3

    # The batch allocation applies the same rule.
    other = await create_need(
        client, tenant, plan["id"], category_code="accompagnamento", max_distance_km=LIMIT_KM
    )
    response = await client.post(
        "/api/matching/runs", json={"plan_id": plan["id"]}, headers=tenant.headers(U)
    )
    assert response.status_code == 201, response.text
    pairs = {p["need_id"]: p["resource_id"] for p in response.json()["pairs"]}
    assert pairs[other["id"]] in {resource["local"], resource["near"], resource["unknown"]}


async def test_no_suggestion_says_too_far(client, tenant: Tenant) -> None:
    """A need whose only resource is too far says so; in a comune without a centroid (the
    tests' synthetic codes) the limit cannot apply and excludes nothing."""
    comune = "013232"  # Valmorea, in the demo ambito
    far_seat = "013068"  # Cirimido, at the other end of it
    assert _km(comune, far_seat) > 12
    holder = await _holder(tenant, "Associazione lontana", far_seat)
    await add_resource(tenant, holder_id=holder, category="sollievo", comuni=[comune])
    plan = await _plan_in(client, tenant, comune)
    need = await create_need(
        client, tenant, plan["id"], category_code="sollievo", max_distance_km=12
    )
    body = await _suggestions(client, tenant, plan, need)
    assert body["suggestions"] == []
    assert body["note"] == (
        "L'unica risorsa della categoria «Sollievo per chi assiste un familiare» (o più "
        "generale) disponibile nel comune di Valmorea non è compatibile: troppo lontano"
    )
    # Two, both too far: counted, in the plural.
    await add_resource(tenant, holder_id=holder, category="sollievo", comuni=[comune])
    body = await _suggestions(client, tenant, plan, need)
    assert body["note"] == (
        "Nessuna delle 2 risorse della categoria «Sollievo per chi assiste un familiare» (o più "
        "generale) disponibili nel comune di Valmorea è compatibile: 2 per troppo lontano"
    )
    # Synthetic comuni have no centroid: the same limit excludes nothing there.
    synthetic = await create_plan(client, tenant)
    await add_resource(tenant, holder_id=holder, category="sollievo")
    need = await create_need(
        client, tenant, synthetic["id"], category_code="sollievo", max_distance_km=1
    )
    assert len((await _suggestions(client, tenant, synthetic, need))["suggestions"]) == 1


async def test_no_suggestion_names_the_needs_comune(client, tenant: Tenant) -> None:
    """The category exists in the ambito but not for the need's comune: named, not coded."""
    holder = await _holder(tenant, "Associazione di Olgiate", OLGIATE)
    await add_resource(tenant, holder_id=holder, category="orto", comuni=[OLGIATE])
    plan = await _plan_in(client, tenant, BIZZARONE)
    need = await create_need(client, tenant, plan["id"], category_code="orto")
    body = await _suggestions(client, tenant, plan, need)
    assert body["suggestions"] == []
    assert body["note"] == (
        "Nessuna risorsa attiva della categoria «Orto e spazi verdi» (o più generale) "
        "disponibile nel comune di Bizzarone"
    )


async def test_bad_max_distance_names_the_field(client, tenant: Tenant) -> None:
    plan = await create_plan(client, tenant)
    need = await create_need(client, tenant, plan["id"], max_distance_km=5.5)
    assert need["max_distance_km"] == 5.5
    url = f"/api/plans/{plan['id']}/needs/{need['id']}"
    for raw in ("0", "-1", "200.5", '"dieci"', "true", "[10]", "1e400", "NaN"):
        response = await client.patch(
            url,
            content=f'{{"max_distance_km": {raw}}}',
            headers={**tenant.headers(S), "Content-Type": "application/json"},
        )
        assert response.status_code == 400, (raw, response.text)
        if raw not in ("1e400", "NaN"):  # the JSON decoder's own errors name no field
            assert "max_distance_km" in named(response.json()), (raw, response.text)
    assert (await client.get(url, headers=tenant.headers(S))).json()["max_distance_km"] == 5.5
