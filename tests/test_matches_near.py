"""Near misses through the API: when little fits, what nearly fits comes apart from the
suggestions, each with what differs and by how much.

Real comuni of the demo ambito for distances (see tests/test_matches_distance.py for why
the plan is moved to them directly).
"""

from __future__ import annotations

import uuid
from datetime import date

from registry.holders.tables import Holder
from registry.plans.tables import Plan
from registry.resources.tables import Resource
from tests.conftest import Tenant
from tests.test_plans_support import S, add_resource, create_need, create_plan

BIZZARONE, OLGIATE, LIMIDO = "013024", "013165", "013128"


async def _holder(tenant: Tenant, seat: str) -> uuid.UUID:
    holder = Holder(
        ambito=tenant.ambito_id,
        kind="association",
        sector="third_sector",
        name=f"Associazione di {seat}",
        seat_comune=seat,
        comuni=[seat],
        areas=["anziani"],
        contacts="[]",
    )
    await holder.save()
    return holder.id


async def _suggestions(client, tenant: Tenant, plan: dict, need: dict) -> dict:
    response = await client.get(
        f"/api/plans/{plan['id']}/needs/{need['id']}/suggestions",
        headers=tenant.headers(S),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_nothing_fits_but_a_neighbouring_comune_and_a_later_start(
    client, tenant: Tenant
) -> None:
    plan = await create_plan(client, tenant)
    await Plan.update({Plan.comune: BIZZARONE}).where(Plan.id == plan["id"])
    # Serves only Olgiate (5,9 km away): not the need's comune.
    neighbour = await add_resource(
        tenant,
        holder_id=await _holder(tenant, OLGIATE),
        title="Accompagnamento a Olgiate",
        category="sollievo",
        comuni=[OLGIATE],
    )
    # Serves Bizzarone, but from 17 km away with a 10 km limit: 6,8 km beyond.
    beyond = await add_resource(
        tenant,
        holder_id=await _holder(tenant, LIMIDO),
        title="Sollievo da Limido",
        category="sollievo",
        comuni=[BIZZARONE],
    )
    # Unrelated category in the very comune: not near at all.
    await add_resource(
        tenant, holder_id=await _holder(tenant, BIZZARONE), category="orto", comuni=[BIZZARONE]
    )
    need = await create_need(
        client,
        tenant,
        plan["id"],
        category_code="sollievo",
        max_distance_km=10,
        end_date="2026-06-30",
    )
    body = await _suggestions(client, tenant, plan, need)
    assert body["suggestions"] == []
    assert body["note"]  # why nothing fits, as before
    near = {m["resource_id"]: m for m in body["near_misses"]}
    assert set(near) == {str(neighbour), str(beyond)}
    assert near[str(neighbour)]["difference"]["code"] == "comune"
    assert near[str(neighbour)]["difference"]["unit"] == "km"
    assert near[str(neighbour)]["difference"]["amount"] == 5.9
    assert near[str(neighbour)]["difference"]["reason"].startswith(
        "Non opera nel comune del bisogno: ha sede a 5,9 km di distanza"
    )
    assert near[str(neighbour)]["resource_title"] == "Accompagnamento a Olgiate"
    far = near[str(beyond)]["difference"]
    assert far["code"] == "distance" and 6 < far["amount"] < 8
    assert "oltre il limite di 10 km" in far["reason"]
    scores = [m["score"] for m in body["near_misses"]]
    assert scores == sorted(scores, reverse=True)
    # «Proponi comunque»: people decide; the match says the engine would not suggest it.
    response = await client.post(
        "/api/matches",
        json={"need_id": need["id"], "resource_id": str(neighbour)},
        headers=tenant.headers(S),
    )
    assert response.status_code == 201, response.text
    assert response.json()["warning"] == "Non suggerita dal motore: non serve il comune"

    # Another time: a resource that starts ten days after the need ends.
    later = await add_resource(
        tenant,
        holder_id=await _holder(tenant, BIZZARONE),
        category="sollievo",
        comuni=[BIZZARONE],
    )
    await Resource.update({Resource.valid_from: date(2026, 7, 10)}).where(Resource.id == later)
    body = await _suggestions(client, tenant, plan, need)
    period = {m["resource_id"]: m["difference"] for m in body["near_misses"]}[str(later)]
    assert (period["code"], period["amount"], period["unit"]) == ("period", 10.0, "giorni")
    assert period["reason"] == (
        "Disponibile dal 10/07/2026: 10 giorni dopo la fine del periodo richiesto (30/06/2026)"
    )


async def test_a_related_category_nearly_fits_and_enough_suggestions_hide_them(
    client, tenant: Tenant
) -> None:
    plan = await create_plan(client, tenant)
    need = await create_need(client, tenant, plan["id"], category_code="accompagnamento")
    # The tenant's fixture resources are "trasporto", a sibling of "accompagnamento".
    body = await _suggestions(client, tenant, plan, need)
    assert body["suggestions"] == []
    codes = {m["resource_id"]: m["difference"]["code"] for m in body["near_misses"]}
    assert codes.get(str(tenant.resource_id)) == "category"
    reason = next(
        m["difference"]["reason"]
        for m in body["near_misses"]
        if m["resource_id"] == str(tenant.resource_id)
    )
    assert reason.startswith("Categoria affine: «Trasporto» invece di «Accompagnamento")

    # Three resources that fit: the near misses are no longer offered.
    for _ in range(3):
        await add_resource(tenant, category="accompagnamento")
    body = await _suggestions(client, tenant, plan, need)
    assert len(body["suggestions"]) == 3
    assert body["near_misses"] == []
    # Never mixed: no near miss is ever among the suggestions.
    assert str(tenant.resource_id) not in {s["resource_id"] for s in body["suggestions"]}
