"""The gap map of an ambito (issue 13): open needs by category and comune per 1,000
residents, small cells withheld so that none can be recomputed from a total, and the
categories for which no resource exists anywhere in the ambito."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from registry.access import Role
from registry.plans.tables import Need, Plan
from registry.resources.tables import Resource
from tests.conftest import Tenant, make_tenant
from tests.test_region import regional_tenant

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "5")


async def add_needs(
    t: Tenant, category: str, comune: str, count: int, *, plan_status: str = "active",
    need_status: str = "open", on_plan: bool = False,
) -> None:  # fmt: skip
    """`count` needs of one category, each on a plan of its own in `comune` (the need names
    the comune itself unless `on_plan`, when it takes the plan's)."""
    for _ in range(count):
        plan = Plan(
            ambito=t.ambito_id,
            owner=t.users[S],
            shared_with=[],
            case_code="CASO",
            comune=comune,
            target_group="anziani",
            goals="[]",
            start_date=date(2025, 1, 1),
            status=plan_status,
        )
        await plan.save()
        await Need(
            ambito=t.ambito_id,
            plan=plan.id,
            category_code=category,
            schedule="[]",
            quantity=1,
            unit="hours_per_week",
            languages=[],
            requirements=[],
            comune=None if on_plan else comune,
            status=need_status,
        ).save()


async def gap_map(client, t: Tenant, role: Role = S) -> dict[str, Any]:
    response = await client.get("/api/gap-map", headers=t.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


def row(body: dict[str, Any], category: str) -> dict[str, Any]:
    return next(r for r in body["rows"] if r["category_code"] == category)


async def scenario() -> Tenant:
    """Comune A (3,000 residents), B (1,000). Open needs: trasporto 1 + 1 (the tenant has a
    trasporto resource), sollievo 6 + 5 and compagnia-ascolto 7 + 8 (no resource)."""
    t = await regional_tenant("AO", (3000, 1000))
    a, b = t.comuni
    await add_needs(t, "trasporto", a, 1)
    await add_needs(t, "trasporto", b, 1, on_plan=True)
    await add_needs(t, "sollievo", a, 6)
    await add_needs(t, "sollievo", b, 5)
    await add_needs(t, "compagnia-ascolto", a, 7)
    await add_needs(t, "compagnia-ascolto", b, 8)
    return t


async def test_open_needs_by_category_and_comune_per_1000_residents(client) -> None:
    t = await scenario()
    a, b = t.comuni
    body = await gap_map(client, t)
    company = row(body, "compagnia-ascolto")
    assert company["counts"] == {a: 7, b: 8} and company["total"] == 15
    assert company["per_1000"] == {a: 2.33, b: 8.0}
    assert company["total_per_1000"] == 3.75  # 15 over 4,000 residents
    comuni = {c["istat_code"]: c for c in body["comuni"]}
    assert (comuni[a]["open_needs"], comuni[a]["per_1000"]) == (14, 4.67)
    assert (comuni[b]["open_needs"], comuni[b]["per_1000"]) == (14, 14.0)
    assert comuni[a]["lat"] is not None and comuni[a]["population"] == 3000
    assert (body["total_open_needs"], body["total_per_1000"]) == (28, 7.0)


async def test_small_cells_are_withheld_and_cannot_be_recomputed(client) -> None:
    t = await scenario()
    a, b = t.comuni
    body = await gap_map(client, t)
    transport = row(body, "trasporto")
    # One need each: withheld, and its rate with it.
    assert transport["counts"] == {a: None, b: None} and transport["total"] is None
    assert transport["per_1000"] == {a: None, b: None}
    # No line (a category across comuni, a comune across categories) has exactly one cell
    # withheld: the total would give it back.
    for r in body["rows"]:
        hidden = [v for v in [*r["counts"].values(), r["total"]] if v is None]
        assert len(hidden) != 1, r
    comuni = {c["istat_code"]: c["open_needs"] for c in body["comuni"]}
    for code in (a, b):
        cells = [r["counts"][code] for r in body["rows"]] + [comuni[code]]
        assert sum(v is None for v in cells) != 1, code
    totals = [r["total"] for r in body["rows"]] + [body["total_open_needs"]]
    assert sum(v is None for v in totals) != 1
    # What is published is the true count, and no withheld count shows up as a rate.
    relief = row(body, "sollievo")
    for code, true in ((a, 6), (b, 5)):
        assert relief["counts"][code] in (true, None)
        assert (relief["per_1000"][code] is None) == (relief["counts"][code] is None)
    assert body["withheld_cells"] >= 5


async def test_categories_without_any_resource_in_the_ambito(client) -> None:
    t = await scenario()
    body = await gap_map(client, t)
    uncovered = {u["category_code"]: u["open_needs"] for u in body["uncovered"]}
    assert uncovered == {"sollievo": None, "compagnia-ascolto": 15}
    assert row(body, "trasporto")["no_resource"] is False
    # An archived resource does not exist; a broader one (the category's parent) serves it.
    for category, status in (("sollievo", "archived"), ("tempo-competenze", "active")):
        await Resource(
            ambito=t.ambito_id,
            holder=t.holder_id,
            title="Nuova risorsa",
            category_code=category,
            unit="hours",
            capacity=1,
            comuni=t.comuni,
            target_groups=[],
            languages=[],
            requirements=[],
            status=status,
        ).save()
    body = await gap_map(client, t)
    assert {u["category_code"] for u in body["uncovered"]} == {"sollievo"}


async def test_only_open_needs_of_active_plans_of_this_ambito(client) -> None:
    t = await scenario()
    a = t.comuni[0]
    await add_needs(t, "consulenza", a, 6, plan_status="closed")
    await add_needs(t, "consulenza", a, 6, need_status="matched")
    other = await make_tenant()
    await add_needs(other, "pasti", other.comuni[0], 9)
    body = await gap_map(client, t)
    assert {r["category_code"] for r in body["rows"]} == {
        "trasporto",
        "sollievo",
        "compagnia-ascolto",
    }
    assert body["total_open_needs"] == 28
    assert "pasti" not in str(body)


async def test_who_may_read_the_gap_map(client) -> None:
    t = await scenario()
    assert (await gap_map(client, t, U))["ambito_code"] == t.code
    for role in (H, V):
        response = await client.get("/api/gap-map", headers=t.headers(role))
        assert response.status_code == 403, role
    response = await client.get("/api/gap-map", params={"from": "2025-02-03", "to": "2025-03-31"},
                                headers=t.headers(S))  # fmt: skip
    assert response.status_code == 400
