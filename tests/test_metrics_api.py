"""The metrics read from the real tables (SQLite or PostgreSQL), through the API.

The data set and its hand-computed figures are described in tests/metrics_data.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from registry import italian
from registry.access import Role
from registry.metrics import service
from tests.conftest import Tenant, make_tenant
from tests.metrics_data import build

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "5")


async def test_summary_from_the_ledger(client, tenant: Tenant) -> None:
    await build(tenant)
    # The UdP sets its own C1 rate for 2025: 25.00 EUR/h.
    response = await client.put(
        "/api/metrics/rates/C1/2025",
        json={"eur_per_hour": 25.0, "source": "Tabella ministeriale 2025 (test)"},
        headers=tenant.headers(U),
    )
    assert response.status_code == 200, response.text
    response = await client.get("/api/metrics/summary", params=YEAR, headers=tenant.headers(S))
    assert response.status_code == 200, response.text
    body = response.json()
    h = body["headline"]
    assert body["source"] == "live"
    assert h["hours_verified"] == 18.0
    assert h["hours_paid_by_interventions"] == 6.0
    assert h["hours_community"] == 12.0
    # V7's 4 self-reported hours are one entry: below the threshold, so withheld.
    assert h["hours_self_reported_unverified"] is None
    assert h["persons"] == 6  # V1 counted once (A, B and as holder IV)
    assert h["holders"] == 5
    assert h["fte"] == round(12 / 1824, 3)
    # PL1: 6 unpaid h x 25.00 (C1, 2025, the UdP's rate); 6 h x 19.80 (B1 default, 2024)
    replacement = h["replacement_value"]
    # The only goods are one entry (100.00 EUR of items, primary in by_unit): the in-kind
    # total would give it back, and so would community value - replacement value, so both
    # parts are withheld wherever they appear; the community value is published.
    assert replacement["amount_eur"] is None
    assert replacement["rate_years"] == [2024, 2025]
    assert replacement["uses_default_rates"] is True
    assert {(r["task_level"], r["year"], r["eur_per_hour"]) for r in replacement["rates"]} == {
        ("C1", 2025, 25.0),
        ("B1", 2024, 19.8),
    }
    assert h["in_kind_value"]["amount_eur"] is None
    assert h["community_value"]["amount_eur"] == 368.8
    assert h["public_spending"]["amount_eur"] == 12_000.0
    assert h["leverage_ratio"] == round(368.8 / 12_000, 4)
    # 2 needs: below the threshold, so the count and the coverage shares are withheld, and
    # the answer says so.
    assert h["needs"] is None
    assert h["share_needs_both"] is None
    withheld = {(c["table"], c["column"]) for c in body["suppression"]["cells"]}
    assert ("need_coverage", "needs") in withheld
    assert body["suppression"]["threshold"] == 5
    by_sector = {r["sector"]: r for r in _table(body, "by_sector")["rows"]}
    # informal: 1 holder (IV): withheld; public: 1 holder (O): withheld; the secondary rule
    # then has nothing left to hide but third_sector is still recomputable from the total...
    assert by_sector["informal"]["holders"] is None
    assert by_sector["public"]["holders"] is None

    # Before suppression: N1 has an accepted match and its plan is served by I (both); N2 has
    # nothing (none).
    period = service.check_range(date(2025, 1, 1), date(2025, 12, 31), italian.today())
    fig = await service.live_figures(tenant.ambito_id, period, service.Scope(), datetime.now(UTC))
    coverage = fig.tables["need_coverage"].total
    assert coverage is not None
    assert (coverage.data["needs"], coverage.data["both"], coverage.data["none"]) == (2, 1, 1)
    ttm = fig.tables["time_to_match"].rows[0].data
    assert (ttm["needs_matched"], ttm["median_days"]) == (1, 4.0)  # 1 Feb -> 5 Feb


def _table(body: dict, name: str) -> dict:
    return next(t for t in body["tables"] if t["name"] == name)


async def test_snapshot_and_live_agree(client, tenant: Tenant) -> None:
    await build(tenant)
    now = datetime.now(UTC)
    result = await service.take_snapshot(now, [tenant.ambito_id])
    assert result["periods"] > 0
    for period in ("2025", "2025-Q1", "2025-03"):
        params = _calendar(period)
        snap = await client.get("/api/metrics/summary", params=params, headers=tenant.headers(U))
        live = await client.get(
            "/api/metrics/summary", params={**params, "live": "true"}, headers=tenant.headers(U)
        )
        assert snap.json()["source"] == "snapshot"
        assert live.json()["source"] == "live"
        a, b = snap.json(), live.json()
        for body in (a, b):
            body.pop("source")
            body.pop("as_of")
            _drop_freshness(body)
        assert a == b, period
    # The time series from snapshots equals the one computed live.
    snap = await client.get(
        "/api/metrics/timeseries",
        params={**YEAR, "granularity": "quarter"},
        headers=tenant.headers(U),
    )
    live = await client.get(
        "/api/metrics/timeseries",
        params={**YEAR, "granularity": "quarter", "live": "true"},
        headers=tenant.headers(U),
    )
    assert snap.json()["source"] == "snapshot" and live.json()["source"] == "live"
    assert snap.json()["series"] == live.json()["series"]
    net_snap = await client.get(
        "/api/metrics/network",
        params={**YEAR, "granularity": "quarter"},
        headers=tenant.headers(U),
    )
    net_live = await client.get(
        "/api/metrics/network",
        params={**YEAR, "granularity": "quarter", "live": "true"},
        headers=tenant.headers(U),
    )
    assert net_snap.json()["source"] == "snapshot"
    assert net_snap.json()["periods"] == net_live.json()["periods"]


def _drop_freshness(body: dict) -> None:
    # "as of" the moment of computation: the snapshot's clock, not the request's.
    for table in body["tables"]:
        if table["name"] == "freshness":
            for row in table["rows"]:
                row.pop("as_of", None)


def _calendar(key: str) -> dict[str, str]:
    return {
        "2025": {"from": "2025-01-01", "to": "2025-12-31"},
        "2025-Q1": {"from": "2025-01-01", "to": "2025-03-31"},
        "2025-03": {"from": "2025-03-01", "to": "2025-03-31"},
    }[key]


async def test_timeseries(client, tenant: Tenant) -> None:
    await build(tenant)
    response = await client.get(
        "/api/metrics/timeseries",
        params={**YEAR, "granularity": "month", "live": "true"},
        headers=tenant.headers(U),
    )
    assert response.status_code == 200, response.text
    series = response.json()["series"]
    rows = {r["period"]: r for r in series["rows"]}
    assert len(rows) == 12
    assert rows["2025-03"]["hours_verified"] == 18.0
    assert rows["2025-04"]["hours_verified"] == 0.0
    # public money by days: March is 31/365 of 12,000.00
    assert rows["2025-03"]["public_eur"] == round(12_000 * 31 / 365, 2)
    # the total is the sum of the (rounded) months
    assert series["total"]["public_eur"] == pytest.approx(12_000.0, abs=0.06)
    assert response.json()["money"]["replacement_value_eur"]["method"].startswith("costo")


async def test_network_and_interactions(client, tenant: Tenant) -> None:
    s = await build(tenant)
    h = s.holders
    response = await client.post(
        "/api/interactions",
        json={
            "kind": "co_programming_table",
            "title": "Tavolo anziani",
            "occurred_on": "2025-02-20",
            "holder_ids": [str(h["A"]), str(h["O"]), str(h["P"])],
        },
        headers=tenant.headers(U),
    )
    assert response.status_code == 201, response.text
    response = await client.get(
        "/api/metrics/network",
        params={**YEAR, "granularity": "quarter"},
        headers=tenant.headers(S),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    published = body["periods"]["rows"][0]
    # 4 ties are fewer than the threshold: withheld, with what gives them back (density).
    assert published["nodes"] == 5
    assert published["edges"] is None and published["density"] is None
    # The figures before disclosure control.
    rows, _, _ = await service.network_figures(
        tenant.ambito_id,
        service.check_range(date(2025, 1, 1), date(2025, 12, 31), date(2025, 12, 31)),
        "quarter",
        service.Scope(),
        live=True,
    )
    q1 = rows[0]
    # Ties in Q1: A-O, A-P, O-P (table), B-P (joint activity), IV-A? no: IV gave to no plan.
    # Nodes: A, B, IV, P, O and the tenant's nothing else = 5 holders.
    assert q1["nodes"] == 5
    assert q1["edges"] == 4
    assert q1["density"] == round(4 / 10, 4)
    assert q1["new_ties"] == 4
    assert q1["ei_index"] == round((2 - 2) / 4, 4)  # A-O, O-P external; A-P, B-P internal
    # Individual volunteers are counted (1 < 5: withheld), never listed.
    text = response.text
    for holder in h.values():
        assert str(holder) not in text
    assert "density" in body["trend"]


async def test_coverage_endpoint(client, tenant: Tenant, monkeypatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "3")
    await build(tenant)
    response = await client.get("/api/metrics/coverage", params=YEAR, headers=tenant.headers(S))
    assert response.status_code == 200, response.text
    tables = {t["name"]: t for t in response.json()["tables"]}
    assert set(tables) == {"need_coverage", "need_coverage_by_comune", "use", "time_to_match"}
    use = tables["use"]["rows"][0]
    # 12 h through match M1 against 52 Mondays x 3 h = 156 h offered
    assert use["matched_hours"] == 12.0
    assert use["offered_hours"] == 156.0


async def test_other_ambito_never_counted(client, tenant: Tenant) -> None:
    other = await make_tenant()
    await build(other)
    response = await client.get(
        "/api/metrics/summary", params={**YEAR, "live": "true"}, headers=tenant.headers(U)
    )
    assert response.json()["headline"]["hours_verified"] == 0.0
    assert response.json()["headline"]["public_spending"]["amount_eur"] == 0.0


async def test_filters(client, tenant: Tenant) -> None:
    await build(tenant)
    response = await client.get(
        "/api/metrics/summary",
        params={**YEAR, "sector": "public", "live": "true"},
        headers=tenant.headers(U),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["filters"]["sector"] == "public"
    # A filtered answer publishes the row of the unfiltered table by that dimension only.
    assert body["headline"]["hours_verified"] is None  # public: 1 holder, withheld
    assert _table(body, "by_sector")["rows"][0]["sector"] == "public"
    assert _table(body, "by_unit")["rows"] == []
    response = await client.get(
        "/api/metrics/summary",
        params={**YEAR, "area": "disabili", "live": "true"},
        headers=tenant.headers(U),
    )
    assert response.json()["headline"]["hours_verified"] == 0.0


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/metrics/summary", {"from": "2025-05-01", "to": "2025-01-01"}, "to"),
        ("/api/metrics/summary", {"from": "2025-05-01"}, "to"),
        ("/api/metrics/summary", {"from": "2015-01-01", "to": "2025-01-01"}, "to"),
        ("/api/metrics/summary", {"from": "not-a-date", "to": "2025-01-01"}, "from"),
        ("/api/metrics/summary", {"comune": "12"}, "comune"),
        ("/api/metrics/summary", {"sector": "martian"}, "sector"),
        ("/api/metrics/timeseries", {"granularity": "week"}, "granularity"),
        ("/api/metrics/network", {"granularity": "day"}, "granularity"),
        ("/api/metrics/coverage", {"area": "nowhere"}, "area"),
    ],
)
async def test_bad_query_names_the_field(client, tenant: Tenant, path, params, field) -> None:
    response = await client.get(path, params=params, headers=tenant.headers(U))
    assert 400 <= response.status_code < 500, response.text
    assert field in response.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/metrics/rates/Z9/2025", {"eur_per_hour": 20, "source": "x y z"}, "task_level"),
        ("/api/metrics/rates/C1/2025", {"eur_per_hour": -1, "source": "x y z"}, "eur_per_hour"),
        ("/api/metrics/rates/C1/2025", {"eur_per_hour": 20}, "source"),
        ("/api/metrics/rates/C1/1800", {"eur_per_hour": 20, "source": "x y z"}, "year"),
        ("/api/metrics/task-levels/trasporto", {"task_level": "Q7"}, "task_level"),
        ("/api/metrics/task-levels/nessuna", {"task_level": "C1"}, "category_code"),
    ],
)
async def test_bad_rate_input_names_the_field(client, tenant: Tenant, path, body, field) -> None:
    response = await client.put(path, json=body, headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert field in response.text


async def test_rates_edit_and_revert(client, tenant: Tenant) -> None:
    response = await client.get("/api/metrics/rates", headers=tenant.headers(U))
    rates = response.json()["rates"]
    assert all(r["is_default"] for r in rates)
    assert "indicativ" in rates[0]["source"]
    await client.put(
        "/api/metrics/rates/B1/2025",
        json={"eur_per_hour": 21.1, "source": "CCNL 2025"},
        headers=tenant.headers(U),
    )
    response = await client.put(
        "/api/metrics/task-levels/trasporto",
        json={"task_level": "C1"},
        headers=tenant.headers(U),
    )
    body = response.json()
    mine = [r for r in body["rates"] if (r["task_level"], r["year"]) == ("B1", 2025)]
    assert mine[0]["eur_per_hour"] == 21.1 and not mine[0]["is_default"]
    levels = {c["category_code"]: c for c in body["categories"]}
    assert levels["trasporto"] == {
        "category_code": "trasporto",
        "task_level": "C1",
        "is_default": False,
    }
    response = await client.delete("/api/metrics/rates/B1/2025", headers=tenant.headers(U))
    assert response.status_code == 204
    response = await client.delete("/api/metrics/rates/B1/2025", headers=tenant.headers(U))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "kind": "co_programming_table",
                "title": "t",
                "occurred_on": "2025-01-01",
                "holder_ids": ["A"],
            },
            "holder_ids",
        ),
        (
            {
                "kind": "co_programming_table",
                "title": "t",
                "occurred_on": "2025-01-01",
                "holder_ids": ["A", "A"],
            },
            "holder_ids",
        ),
        (
            {"kind": "party", "title": "t", "occurred_on": "2025-01-01", "holder_ids": ["A", "B"]},
            "kind",
        ),
        (
            {"kind": "other", "title": "t", "occurred_on": "2999-01-01", "holder_ids": ["A", "B"]},
            "occurred_on",
        ),
        (
            {
                "kind": "other",
                "title": "t",
                "occurred_on": "2025-01-01",
                "holder_ids": ["A", "FOREIGN"],
            },
            "holder_ids",
        ),
    ],
)
async def test_bad_interaction_names_the_field(client, tenant: Tenant, body, field) -> None:
    other = await make_tenant()
    names = {"A": tenant.holder_id, "B": tenant.other_holder_id, "FOREIGN": other.holder_id}
    body = {**body, "holder_ids": [str(names[x]) for x in body["holder_ids"]]}
    response = await client.post("/api/interactions", json=body, headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert field in response.text
