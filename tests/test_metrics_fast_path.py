"""The fast path of the live metrics (one month-grouped load for a whole span, each period
computed from its own months: catalogue.figures_by_period) gives the same figures as
computing each period alone from its own load, on randomized ledgers, with and without
filters, for months, calendar and non-calendar periods."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from registry.access import Role
from registry.contributions.tables import CommunityActivity, Contribution
from registry.metrics import catalogue, compute, publication
from registry.metrics.compute import Figures, Period
from registry.metrics.loading import Scope
from registry.metrics.reference_loading import load_inputs
from registry.plans.tables import Plan
from tests.conftest import Tenant
from tests.metrics_data import Scenario, _entry, _holder, build

SPAN = Period("span", date(2024, 11, 1), date(2025, 6, 30))
PERIODS = [
    *compute.buckets(SPAN.start, SPAN.end, "month"),
    Period("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)),
    # Not a calendar period: across a year's end, five months.
    Period("2024-12-01/2025-04-30", date(2024, 12, 1), date(2025, 4, 30)),
    SPAN,
]


async def _random_ledger(t: Tenant, s: Scenario, rng: random.Random) -> None:
    """Entries over eight months by holders of several kinds and sectors, for plans of two
    comuni and areas and for an activity; verified, confirmed, self-reported, corrected."""
    holders = [
        s.holders["A"],
        s.holders["B"],
        s.holders["IV"],
        s.holders["P"],
        await _holder(t, "Cooperativa", "social_cooperative", "third_sector"),
        await _holder(t, "Impresa", "company", "business"),
    ]
    activity = CommunityActivity(
        ambito=t.ambito_id,
        title="Laboratorio",
        comune=t.comuni[1],
        starts_on=SPAN.start,
        created_by=t.users[Role.UDP_ADMIN],
    )
    await activity.save()
    third = Plan(
        ambito=t.ambito_id,
        owner=t.users[Role.SOCIAL_WORKER],
        shared_with=[],
        case_code=f"PL-3-{t.code}",
        comune=t.comuni[1],
        target_group="famiglie-minori",
        goals="[]",
        start_date=date(2024, 10, 1),
        status="active",
    )
    await third.save()
    plans = [*s.plan_ids, third.id]
    days = (SPAN.end - SPAN.start).days + 1
    for _ in range(90):
        day = SPAN.start + timedelta(days=rng.randrange(days))
        links: dict[str, Any] = {}
        roll = rng.random()
        if roll < 0.45:
            links["plan_id"] = rng.choice(plans)
        elif roll < 0.75:
            links["activity"] = activity.id
        unit, value = ("hours", None) if rng.random() < 0.8 else ("meals", rng.randrange(100, 5000))
        verification = "qr_verified" if rng.random() < 0.6 else "self_reported"
        entry = await _entry(
            t,
            rng.choice(holders),
            rng.choice([30, 60, 90, 120]) if unit == "hours" else rng.randrange(1, 9),
            volunteer=rng.choice([None, *s.volunteers]) if unit == "hours" else None,
            verification=verification,
            confirm=verification == "self_reported" and rng.random() < 0.5,
            unit=unit,
            value_cents=value,
            **links,
        )
        if rng.random() < 0.1:
            await _entry(t, s.holders["A"], 45, kind="correction", corrects=entry, confirm=True)
        await _move(entry, day)


async def _move(entry: uuid.UUID, day: date) -> None:
    await Contribution.update({Contribution.occurred_on: day}).where(Contribution.id == entry)


def _shape(fig: Figures) -> dict[str, Any]:
    return {
        "tables": {
            name: (
                [(r.key, r.data) for r in table.rows],
                table.total.data if table.total is not None else None,
            )
            for name, table in fig.tables.items()
        },
        "money": {name: info.rates for name, info in fig.money.items()},
    }


SCOPES = [
    Scope(),
    Scope(comune="first"),
    Scope(area="anziani"),
    Scope(sector="third_sector"),
    Scope(holder_kind="individual_volunteer"),
]


@pytest.mark.parametrize("seed", [1, 2])
async def test_fast_path_equals_each_period_computed_alone(tenant: Tenant, seed: int) -> None:
    rng = random.Random(seed)
    scenario = await build(tenant)
    await _random_ledger(tenant, scenario, rng)
    now = datetime(2025, 7, 15, tzinfo=UTC)
    compared = 0
    for scope in SCOPES:
        if scope.comune == "first":
            scope = Scope(comune=tenant.comuni[0])
        span = await load_inputs(tenant.ambito_id, SPAN, scope, by_month=True)
        fast = catalogue.figures_by_period(span, PERIODS, now)
        for period, got in zip(PERIODS, fast, strict=True):
            alone = await load_inputs(tenant.ambito_id, period, scope)
            expected = catalogue.figures(alone, period, now)
            assert _shape(got) == _shape(expected), (scope, period)
            compared += 1
        # Not vacuous: the span has verified hours and distinct persons under this scope.
        totals = fast[-1].tables["totals"].rows[0].data
        assert totals["entries"] > 0 and totals["holders"] > 0, scope
    assert compared == len(SCOPES) * len(PERIODS)


async def test_snapshot_figures_travel_to_a_worker_only_when_it_lacks_their_protection(
    tenant: Tenant,
) -> None:
    """The protection of a year whose months and quarters come from snapshots: a process
    that has not protected them answers None when their figures are left out, the caller
    sends them, and the next light call gives the same tables without them."""
    rng = random.Random(3)
    scenario = await build(tenant)
    await _random_ledger(tenant, scenario, rng)
    now = datetime(2025, 7, 15, tzinfo=UTC)
    year = Period("2025", date(2025, 1, 1), date(2025, 12, 31))
    months = compute.buckets(year.start, year.end, "month")
    quarters = compute.buckets(year.start, year.end, "quarter")
    wanted = [*months, *quarters, year]
    span = await load_inputs(tenant.ambito_id, year, Scope(), by_month=True)
    figures = catalogue.figures_by_period(span, wanted, now)
    # All from snapshots but July, its quarter and the year (computed after a new entry).
    fresh = {"2025-07", "2025-Q3", "2025"}
    stamps = [None if p.key in fresh else f"{uuid.uuid4()}/{p.key}" for p in wanted]
    light = [f if s is None else None for f, s in zip(figures, stamps, strict=True)]
    today = date(2025, 7, 15)
    rest = (months, 5, today, [year, quarters[0]])
    assert publication._protect_periods(wanted, light, stamps, *rest) is None
    full = publication._protect_periods(wanted, figures, stamps, *rest)
    assert full is not None
    again = publication._protect_periods(wanted, light, stamps, *rest)
    assert again is not None
    assert [(p.tables, p.withheld) for p in again] == [(p.tables, p.withheld) for p in full]
    # Not vacuous: the year's tables have rows, and the same periods protected from scratch
    # (no stamp, nothing kept) give the same tables.
    assert full[0].tables["totals"].rows
    scratch = publication._protect_periods(wanted, figures, [None] * len(wanted), *rest)
    assert [(p.tables, p.withheld) for p in scratch] == [(p.tables, p.withheld) for p in full]
