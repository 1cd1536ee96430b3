"""The nightly metrics snapshot through the job registry (registry/scheduled_jobs.py), and what the
dashboard then reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from registry import scheduled_jobs
from registry.access import Role
from registry.metrics.tables import MetricsSnapshot
from tests.conftest import SETTINGS, Tenant
from tests.metrics_data import build


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "5")


async def test_the_job_writes_snapshots_and_is_idempotent(client, tenant: Tenant) -> None:
    await build(tenant)
    now = datetime.now(UTC)
    first = await scheduled_jobs.run_job(
        "metrics_snapshot", SETTINGS, now=now, trigger="test", ambito_ids=[tenant.ambito_id]
    )
    assert first.status == "ok", first.error
    assert first.summary["ambiti"] == 1 and first.summary["periods"] > 0
    count = await MetricsSnapshot.count().where(MetricsSnapshot.ambito == tenant.ambito_id)
    again = await scheduled_jobs.run_job(
        "metrics_snapshot", SETTINGS, now=now, trigger="test", ambito_ids=[tenant.ambito_id]
    )
    assert again.status == "ok"
    # A second run rewrites the same periods: one row per (granularity, period).
    assert await MetricsSnapshot.count().where(MetricsSnapshot.ambito == tenant.ambito_id) == count
    keys = {
        (r["granularity"], r["period_key"])
        for r in await MetricsSnapshot.select(
            MetricsSnapshot.granularity, MetricsSnapshot.period_key
        ).where(MetricsSnapshot.ambito == tenant.ambito_id)
    }
    assert {("year", "2025"), ("quarter", "2025-Q1"), ("month", "2025-03")} <= keys
    response = await client.get(
        "/api/metrics/summary",
        params={"from": "2025-03-01", "to": "2025-03-31"},
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    body = response.json()
    assert body["source"] == "snapshot"
    # March's share of the intervention's 6 delivered hours is 6 x 31/365 h: 18 - 0.51
    assert body["headline"]["hours_community"] == round(18 - 6 * 31 / 365, 2)


async def test_snapshot_endpoint_for_the_udp(client, tenant: Tenant) -> None:
    await build(tenant)
    response = await client.post("/api/metrics/snapshots", headers=tenant.headers(Role.UDP_ADMIN))
    assert response.status_code == 200, response.text
    assert response.json()["periods"] > 0
    # A filtered answer is the row of the unfiltered table: served from the snapshots too,
    # and equal to that row.
    params = {"from": "2025-01-01", "to": "2025-12-31"}
    whole = await client.get(
        "/api/metrics/summary", params=params, headers=tenant.headers(Role.UDP_ADMIN)
    )
    response = await client.get(
        "/api/metrics/summary",
        params={**params, "sector": "third_sector"},
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    assert response.json()["source"] == "snapshot"
    row = next(
        r
        for t in whole.json()["tables"]
        if t["name"] == "by_sector"
        for r in t["rows"]
        if r["sector"] == "third_sector"
    )
    totals = next(t for t in response.json()["tables"] if t["name"] == "totals")["rows"][0]
    assert all(totals[c] == row[c] for c in ("persons", "entries", "hours_verified"))


async def test_a_new_rate_drops_the_snapshots(client, tenant: Tenant) -> None:
    await build(tenant)
    await client.post("/api/metrics/snapshots", headers=tenant.headers(Role.UDP_ADMIN))
    response = await client.put(
        "/api/metrics/rates/C1/2025",
        json={"eur_per_hour": 30.0, "source": "nuova tabella"},
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    assert response.status_code == 200
    response = await client.get(
        "/api/metrics/summary",
        params={"from": "2025-01-01", "to": "2025-12-31"},
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    body = response.json()
    # euro figures never mix old snapshots with new rates: computed live with 30.00 EUR/h
    assert body["source"] == "live"
    assert ("C1", 2025, 30.0) in {
        (r["task_level"], r["year"], r["eur_per_hour"])
        for r in body["headline"]["replacement_value"]["rates"]
    }


async def test_a_change_after_the_snapshot_is_never_hidden(client, tenant: Tenant) -> None:
    await build(tenant)
    udp = tenant.headers(Role.UDP_ADMIN)
    year = {"from": "2025-01-01", "to": "2025-12-31"}
    await client.post("/api/metrics/snapshots", headers=udp)
    before = (await client.get("/api/metrics/summary", params=year, headers=udp)).json()
    assert before["source"] == "snapshot"

    # The UdP records a funded intervention of 2025 after the snapshot was taken.
    response = await client.post(
        "/api/interventions",
        json={
            "code": "SNAP-1",
            "title": "Trasporto sociale",
            "fund_source": "municipal",
            "user_area": "anziani",
            "fnps_level": "home_care",
            "comuni": tenant.comuni,
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "committed_cents": 1_000_000,
            "spent_cents": 1_000_000,
        },
        headers=udp,
    )
    assert response.status_code == 201, response.text
    after = (await client.get("/api/metrics/summary", params=year, headers=udp)).json()
    assert after["source"] == "live"
    spending = [b["headline"]["public_spending"]["amount_eur"] or 0 for b in (before, after)]
    assert spending[1] - spending[0] == 10_000.0

    # The next run of the job refreshes this ambito only, and the snapshot is served again.
    run = await scheduled_jobs.run_job(
        "metrics_snapshot", SETTINGS, trigger="test", ambito_ids=[tenant.ambito_id]
    )
    assert run.summary["periods"] > 0 and run.summary["unchanged"] == 0
    again = (await client.get("/api/metrics/summary", params=year, headers=udp)).json()
    assert again["source"] == "snapshot"
    assert again["headline"]["public_spending"] == after["headline"]["public_spending"]
    idle = await scheduled_jobs.run_job(
        "metrics_snapshot", SETTINGS, trigger="test", ambito_ids=[tenant.ambito_id]
    )
    assert (idle.summary["periods"], idle.summary["unchanged"]) == (0, 1)


async def test_a_slow_ambito_is_not_recomputed_back_to_back(client, tenant: Tenant) -> None:
    await build(tenant)
    now = datetime.now(UTC)
    await scheduled_jobs.run_job(
        "metrics_snapshot", SETTINGS, now=now, ambito_ids=[tenant.ambito_id]
    )
    # Pretend its last run took two minutes, as with a ledger of millions of entries.
    year = (MetricsSnapshot.ambito == tenant.ambito_id) & (
        MetricsSnapshot.period_key == str(now.year)
    )
    row = await MetricsSnapshot.select(MetricsSnapshot.payload).where(year).first()
    payload = json.loads(row["payload"])
    payload["took_seconds"] = 120.0
    await MetricsSnapshot.update({MetricsSnapshot.payload: json.dumps(payload)}).where(year)
    response = await client.post(
        "/api/interactions",
        json={
            "kind": "co_programming_table",
            "title": "Tavolo anziani",
            "occurred_on": now.date().isoformat(),
            "holder_ids": [str(tenant.holder_id), str(tenant.other_holder_id)],
        },
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    assert response.status_code == 201, response.text

    soon = await scheduled_jobs.run_job(
        "metrics_snapshot", SETTINGS, now=now + timedelta(minutes=5), ambito_ids=[tenant.ambito_id]
    )
    assert (soon.summary["periods"], soon.summary["unchanged"]) == (0, 1)
    later = await scheduled_jobs.run_job(
        "metrics_snapshot", SETTINGS, now=now + timedelta(minutes=7), ambito_ids=[tenant.ambito_id]
    )
    assert later.summary["periods"] > 0 and later.summary["unchanged"] == 0
