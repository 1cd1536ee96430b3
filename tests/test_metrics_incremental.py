"""Month by month snapshots: a change in the ledger makes stale only the months it falls in
(and their quarter and year), the job recomputes only those, and an answer that combines
stored months with months computed live equals the answer computed all live."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from registry.contributions.tables import Contribution
from registry.metrics import compute, disclosure, publication, snapshots
from registry.metrics.compute import Period
from registry.metrics.periods import calendar_key
from registry.metrics.tables import MetricsSnapshot
from tests.conftest import Tenant
from tests.metrics_data import _confirm, _entry, build
from tests.test_metrics_fast_path import _move, _random_ledger, _shape

NOW = datetime(2025, 7, 15, 10, tzinfo=UTC)
# Every calendar period the job stores for the randomized ledger (November 2024 to today).
# (A running quarter of one month is that month: the dashboard never asks for it.)
PERIODS = [
    p
    for g in ("month", "quarter", "year")
    for p in compute.buckets(date(2024, 1, 1), NOW.date(), g)
    if calendar_key(p.start, p.end, p.end) == p.key
]
ALL = {p.key for p in PERIODS}


async def _figured_at(t: Tenant) -> dict[str, Any]:
    rows = await MetricsSnapshot.select(MetricsSnapshot.period_key, MetricsSnapshot.payload).where(
        MetricsSnapshot.ambito == t.ambito_id
    )
    return {r["period_key"]: msgspec.json.decode(r["payload"])["figured_at"] for r in rows}


async def _entries(t: Tenant, key: str) -> int:
    (fig,), _, _ = await snapshots.figures_of(
        t.ambito_id, [p for p in PERIODS if p.key == key], PERIODS[0], NOW, live=False
    )
    return fig.tables["totals"].rows[0].data["entries"]


async def test_a_change_in_one_month_leaves_the_other_months_untouched(tenant: Tenant) -> None:
    scenario = await build(tenant)
    await _random_ledger(tenant, scenario, random.Random(3))
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    assert set(await snapshots.fresh_figures(tenant.ambito_id, PERIODS)) == ALL
    first = await _figured_at(tenant)
    february = await _entries(tenant, "2025-02")

    # A verified entry of February is written after the snapshots.
    entry = await _entry(tenant, scenario.holders["A"], 60)
    await _move(entry, date(2025, 2, 10))
    fresh = set(await snapshots.fresh_figures(tenant.ambito_id, PERIODS))
    assert ALL - fresh == {"2025-02", "2025-Q1", "2025"}

    # The job recomputes those three; every other period keeps the figures it had.
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    second = await _figured_at(tenant)
    assert {k for k in ALL if second[k] != first[k]} == {"2025-02", "2025-Q1", "2025"}
    assert set(await snapshots.fresh_figures(tenant.ambito_id, PERIODS)) == ALL
    assert await _entries(tenant, "2025-02") == february + 1

    # A correction dated in June of an entry of December 2024 changes both months; a late
    # confirmation of a self-reported entry of April changes April.
    december = await _entry(tenant, scenario.holders["B"], 30)
    await _move(december, date(2024, 12, 5))
    april = await _entry(tenant, scenario.holders["B"], 90, verification="self_reported")
    await _move(april, date(2025, 4, 7))
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    correction = await _entry(
        tenant, scenario.holders["A"], 45, kind="correction", corrects=december
    )
    await _move(correction, date(2025, 6, 20))
    await _confirm(tenant, april)
    fresh = set(await snapshots.fresh_figures(tenant.ambito_id, PERIODS))
    assert ALL - fresh == {
        *("2024-12", "2024-Q4", "2024"),
        *("2025-04", "2025-06", "2025-Q2", "2025"),
    }


async def test_snapshot_and_live_months_together_equal_the_all_live_answer(
    tenant: Tenant,
) -> None:
    scenario = await build(tenant)
    await _random_ledger(tenant, scenario, random.Random(4))
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    # Changes after the snapshot: an entry of March, a correction of a January entry.
    entry = await _entry(tenant, scenario.holders["IV"], 120, plan_id=scenario.plan_ids[0])
    await _move(entry, date(2025, 3, 3))
    january = (
        await Contribution.select(Contribution.id)
        .where(
            (Contribution.ambito == tenant.ambito_id)
            & (Contribution.occurred_on >= date(2025, 1, 1))
            & (Contribution.occurred_on <= date(2025, 1, 31))
            & (Contribution.kind == "entry")
        )
        .first()
    )
    assert january is not None
    await _entry(tenant, scenario.holders["A"], 15, kind="correction", corrects=january["id"])

    span = Period("span", date(2024, 1, 1), NOW.date())
    fresh = set(await snapshots.fresh_figures(tenant.ambito_id, PERIODS))
    assert fresh and fresh != ALL  # the answer below really mixes the two
    mixed, _, source = await snapshots.figures_of(tenant.ambito_id, PERIODS, span, NOW, live=False)
    live, _, _ = await snapshots.figures_of(tenant.ambito_id, PERIODS, span, NOW, live=True)
    assert source == "live"
    for period, got, expected in zip(PERIODS, mixed, live, strict=True):
        assert _shape(got) == _shape(expected), period
    assert (
        mixed[PERIODS.index(next(p for p in PERIODS if p.key == "2025"))]
        .tables["totals"]
        .rows[0]
        .data["entries"]
        > 0
    )


async def test_protections_reused_from_snapshots_follow_every_change(tenant: Tenant) -> None:
    # The worker process keeps the protection of each period served from its snapshot; a
    # change in the ledger, then the job run again at the very same clock, must still give
    # the protection computed all live, not the one kept.
    scenario = await build(tenant)
    await _random_ledger(tenant, scenario, random.Random(5))
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    year = Period("2025", date(2025, 1, 1), NOW.date())

    async def published(live: bool) -> disclosure.Protected:
        ((_, protected),), _ = await publication.protected_periods(
            tenant.ambito_id, [year], year, NOW, live=live
        )
        return protected

    kept = await published(live=False)
    assert await published(live=False) == kept == await published(live=True)

    for day in (3, 4, 5):
        entry = await _entry(tenant, scenario.holders["A"], 60)
        await _move(entry, date(2025, 2, day))
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    again = await published(live=False)
    assert again == await published(live=True)
    assert again != kept
