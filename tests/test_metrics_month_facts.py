"""Month facts (issue 13, "fast with any filter"): the snapshot job stores each month's
ledger facts, and any period of whole months that no snapshot serves (a period that is not
a calendar one, a year after one new entry; filtered answers publish rows of these) is
computed from them, reading the ledger only for the months changed since. The figures must
equal the definition: each period computed alone from its own read of the ledger."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from registry.access import Principal, Role
from registry.contributions.tables import Contribution, ContributionConfirmation
from registry.holders.tables import Holder
from registry.interventions.tables import FundedIntervention
from registry.metrics import catalogue, compute, network_publication, service, snapshots
from registry.metrics import month_facts as month_facts_module
from registry.metrics.compute import Figures, Period
from registry.metrics.loading import Scope, Written
from registry.metrics.month_facts import (
    Unsent,
    figures_from_months,
    ledger_attributes,
    load_ledger_months,
    month_facts,
    reference_inputs,
    stored_texts,
)
from registry.metrics.month_form import LedgerMonth, MonthsMoved, decode_month, encode_month
from registry.metrics.reference_loading import load_inputs
from registry.metrics.snapshot_store import _state
from registry.metrics.tables import MetricsMonthFacts, MetricsSnapshot
from registry.plans.tables import Need
from registry.resources.tables import Resource
from tests.conftest import Tenant
from tests.metrics_data import Scenario, _confirm, _entry, build
from tests.test_metrics_fast_path import _move, _random_ledger, _shape

NOW = datetime(2025, 7, 15, 10, tzinfo=UTC)
PERIODS = [
    *compute.buckets(date(2024, 11, 1), date(2025, 6, 30), "month"),
    Period("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)),
    # Not calendar periods: no snapshot of their own, whatever the job stored.
    Period("2024-12-01/2025-04-30", date(2024, 12, 1), date(2025, 4, 30)),
    Period("2025-03-01/2025-06-30", date(2025, 3, 1), date(2025, 6, 30)),
    # The running year to today, its running month too.
    Period("2025", date(2025, 1, 1), NOW.date()),
]
SPAN = Period("span", date(2024, 11, 1), NOW.date())


async def _alone(t: Tenant, period: Period) -> Figures:
    """The definition: the period read alone from the ledger and computed."""
    inputs = await load_inputs(t.ambito_id, period, Scope())
    return catalogue.figures(inputs, period, NOW)


async def _snapshotted(t: Tenant, seed: int) -> Scenario:
    """The test scenario with a random ledger, and the snapshot job run on it."""
    scenario = await build(t)
    await _random_ledger(t, scenario, random.Random(seed))
    await snapshots.take_snapshot(NOW, [t.ambito_id])
    return scenario


async def _answer(t: Tenant, period: Period, *, live: bool) -> Figures:
    (fig,), _, _ = await snapshots.figures_of(t.ambito_id, [period], period, NOW, live=live)
    return fig


async def _stored_months(t: Tenant) -> dict[str, dict[str, object]]:
    rows = await MetricsMonthFacts.select().where(MetricsMonthFacts.ambito == t.ambito_id)
    return {r["month"]: r for r in rows}


async def _record_need(t: Tenant, plan: uuid.UUID) -> None:
    """A need of March 2025 recorded now (reference data: not the ledger)."""
    await Need(
        ambito=t.ambito_id,
        plan=plan,
        category_code="trasporto",
        schedule="[]",
        quantity=1,
        unit="trips",
        languages=[],
        requirements=[],
        status="open",
        start_date=date(2025, 3, 1),
        created_at=datetime(2025, 3, 1, tzinfo=UTC),
    ).save()


async def _empty_stored_april(t: Tenant) -> int:
    """April 2025's stored facts without their entries (the uses kept): the verified entries
    dropped, so an answer shows whether the store is what it read. Written as the job writes
    a month, with the time it stored it: the same identity would be the same facts (worker
    processes keep what they decoded by it)."""
    where = (MetricsMonthFacts.ambito == t.ambito_id) & (MetricsMonthFacts.month == "2025-04")
    row = await MetricsMonthFacts.select(MetricsMonthFacts.payload).where(where).first()
    assert row is not None
    april = decode_month(row["payload"])
    dropped = sum(h.entries for h in april.hours if h.verified) + sum(
        q.entries for q in april.quantities if q.verified
    )
    assert dropped > 0
    emptied = LedgerMonth(uses=april.uses)
    await MetricsMonthFacts.update(
        {
            MetricsMonthFacts.payload: encode_month("2025-04", emptied),
            MetricsMonthFacts.computed_at: datetime.now(UTC),
        }
    ).where(where)
    return dropped


async def test_periods_from_month_facts_equal_each_period_computed_alone(tenant: Tenant) -> None:
    scenario = await _snapshotted(tenant, 5)
    stored = await _stored_months(tenant)
    # Every month from the first data (2024) to the running month, the running one to today.
    assert set(stored) == {m.key for m in compute.buckets(date(2024, 1, 1), NOW.date(), "month")}
    assert stored["2025-07"]["period_end"] == NOW.date()

    got, _, source = await snapshots.figures_of(tenant.ambito_id, PERIODS, SPAN, NOW, live=False)
    assert source == "live"  # the non-calendar periods are computed (from the month facts)
    for period, figures in zip(PERIODS, got, strict=True):
        assert _shape(figures) == _shape(await _alone(tenant, period)), period.key

    # After the job, new entries only (March, a plan's hours; May, a volunteer's self-reported
    # hours): those months are their stored facts and the entries written since.
    entry = await _entry(tenant, scenario.holders["IV"], 120, plan_id=scenario.plan_ids[0])
    await _move(entry, date(2025, 3, 3))
    may = await _entry(
        tenant,
        scenario.holders["A"],
        45,
        volunteer=scenario.volunteers[0],
        verification="self_reported",
    )
    await _move(may, date(2025, 5, 20))
    got, _, _ = await snapshots.figures_of(tenant.ambito_id, PERIODS, SPAN, NOW, live=False)
    for period, figures in zip(PERIODS, got, strict=True):
        assert _shape(figures) == _shape(await _alone(tenant, period)), period.key

    # Then a correction of a January entry: January and March are read from the ledger
    # again, the other months still from their facts.
    january = await Contribution.select(Contribution.id).where(
        (Contribution.ambito == tenant.ambito_id)
        & (Contribution.occurred_on >= date(2025, 1, 1))
        & (Contribution.occurred_on <= date(2025, 1, 31))
        & (Contribution.kind == "entry")
    )
    corrected = {
        r["corrects"]
        for r in await Contribution.select(Contribution.corrects).where(
            (Contribution.ambito == tenant.ambito_id) & Contribution.corrects.is_not_null()
        )
    }
    target = min(r["id"] for r in january if r["id"] not in corrected)  # not corrected yet
    await _entry(tenant, scenario.holders["A"], 15, kind="correction", corrects=target)
    got, _, _ = await snapshots.figures_of(tenant.ambito_id, PERIODS, SPAN, NOW, live=False)
    for period, figures in zip(PERIODS, got, strict=True):
        assert _shape(figures) == _shape(await _alone(tenant, period)), period.key
    march = next(i for i, p in enumerate(PERIODS) if p.key == "2025-03")
    assert (
        got[march].tables["totals"].rows[0].data["entries"]
        == (await _alone(tenant, PERIODS[march])).tables["totals"].rows[0].data["entries"]
    )

    # The rerun of the job stores January, March and May again, and leaves February's facts.
    before = await _stored_months(tenant)
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    after = await _stored_months(tenant)
    changed = {k for k in after if after[k]["computed_at"] != before[k]["computed_at"]}
    assert changed == {"2025-01", "2025-03", "2025-05"}


async def test_stored_month_facts_are_read_while_they_hold_and_never_after(
    tenant: Tenant,
) -> None:
    scenario = await _snapshotted(tenant, 6)
    period = Period("2025-02-01/2025-05-31", date(2025, 2, 1), date(2025, 5, 31))
    expected = await _answer(tenant, period, live=True)
    entries = expected.tables["totals"].rows[0].data["entries"]

    # April's stored facts lose their entries: the answer shows it, so the store is what is
    # read (not the ledger)...
    dropped = await _empty_stored_april(tenant)
    tampered = await _answer(tenant, period, live=False)
    assert tampered.tables["totals"].rows[0].data["entries"] == entries - dropped

    # A new entry in April: the stored facts still hold, completed with the entry written
    # since (the tampered store is still what is read, plus one entry).
    entry = await _entry(tenant, scenario.holders["A"], 60)
    await _move(entry, date(2025, 4, 9))
    grown = await _answer(tenant, period, live=False)
    assert grown.tables["totals"].rows[0].data["entries"] == entries - dropped + 1

    # ... until a correction falls in April: then April is read from the ledger again.
    correction = await _entry(tenant, scenario.holders["A"], 30, kind="correction", corrects=entry)
    await _move(correction, date(2025, 4, 9))
    fresh = await _answer(tenant, period, live=False)
    assert fresh.tables["totals"].rows[0].data["entries"] == entries + 1
    assert _shape(fresh) == _shape(await _alone(tenant, period))


async def test_filtered_answers_of_a_non_calendar_period_equal_the_live_ones(
    tenant: Tenant,
) -> None:
    await _snapshotted(tenant, 7)
    actor = Principal(tenant.users[Role.UDP_ADMIN], "udp", Role.UDP_ADMIN, tenant.ambito_id)
    six = Period("2025-01-01/2025-06-30", date(2025, 1, 1), date(2025, 6, 30))
    for scope in (Scope(), Scope(sector="third_sector"), Scope(comune=tenant.comuni[0])):
        fast = await service.summary(actor, six, scope, live=False, now=NOW)
        live = await service.summary(actor, six, scope, live=True, now=NOW)
        assert msgspec.to_builtins(fast.tables) == msgspec.to_builtins(live.tables), scope
        assert fast.suppression == live.suppression, scope
        assert fast.headline == live.headline, scope


async def _networks(t: Tenant) -> dict[tuple[str, str], dict[str, object]]:
    rows = await MetricsSnapshot.select(
        MetricsSnapshot.granularity, MetricsSnapshot.period_key, MetricsSnapshot.payload
    ).where(MetricsSnapshot.ambito == t.ambito_id)
    return {(r["granularity"], r["period_key"]): json.loads(r["payload"]) for r in rows}


async def test_the_job_recomputes_the_network_from_the_first_changed_month_only(
    tenant: Tenant,
) -> None:
    scenario = await _snapshotted(tenant, 8)
    first = await _networks(tenant)
    # A new co-contribution in February 2025: holder B joins plan PL1's givers.
    entry = await _entry(tenant, scenario.holders["B"], 60, plan_id=scenario.plan_ids[0])
    await _move(entry, date(2025, 2, 12))
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    second = await _networks(tenant)
    redone = {
        key
        for key in second
        if second[key]["network_entry_mark"] != first[key]["network_entry_mark"]
    }
    # Every period ending from February 2025 on, none that ends before it.
    assert redone == {
        (g, p.key)
        for g in ("month", "quarter", "year")
        for p in compute.buckets(date(2024, 1, 1), NOW.date(), g)
        if p.end >= date(2025, 2, 1)
    }
    # And the kept and recomputed networks equal a run from scratch.
    await MetricsSnapshot.delete().where(MetricsSnapshot.ambito == tenant.ambito_id)
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    scratch = await _networks(tenant)
    assert set(scratch) == set(second)
    assert {k: second[k]["network"] for k in second} == {k: scratch[k]["network"] for k in scratch}
    assert second[("year", "2025")]["network"] != first[("year", "2025")]["network"]


async def test_a_new_need_reaches_the_next_answer_through_the_kept_reference_data(
    tenant: Tenant,
) -> None:
    # The reference data of a request is kept for the next ones at the same data marks: a
    # need recorded in between changes the marks, and the next answer counts it.
    scenario = await _snapshotted(tenant, 8)
    period = Period("2025-01-01/2025-06-30", date(2025, 1, 1), date(2025, 6, 30))

    def needs(fig: Figures) -> int:
        total = fig.tables["need_coverage"].total
        assert total is not None
        return int(total.data["needs"])  # type: ignore[arg-type]

    before = await _answer(tenant, period, live=False)
    await _record_need(tenant, scenario.plan_ids[0])
    after = await _answer(tenant, period, live=False)
    assert needs(after) == needs(before) + 1
    live = await _answer(tenant, period, live=True)
    assert _shape(after) == _shape(live)


async def test_an_entry_written_while_the_job_reads_the_ledger_counts_once(
    tenant: Tenant,
) -> None:
    scenario = await build(tenant)
    await _random_ledger(tenant, scenario, random.Random(8))
    period = Period("2025-02-01/2025-05-31", date(2025, 2, 1), date(2025, 5, 31))
    # The job reads the ledger's marks, then the ledger: an entry written in between is
    # after the marks the month is stored with.
    marks = await _state(tenant.ambito_id)
    entry = await _entry(tenant, scenario.holders["A"], 90)
    await _move(entry, date(2025, 4, 9))
    await month_facts(tenant.ambito_id, period, marks, live=False, store=True)
    # A request completes April's stored facts with the entries written since its marks.
    got = await _answer(tenant, period, live=False)
    assert _shape(got) == _shape(await _alone(tenant, period))


async def test_figures_computed_for_a_request_serve_the_next_ones_until_the_data_changes(
    tenant: Tenant,
) -> None:
    scenario = await _snapshotted(tenant, 9)
    period = Period("2025-02-01/2025-05-31", date(2025, 2, 1), date(2025, 5, 31))
    (first,), _, source = await snapshots.figures_of(
        tenant.ambito_id, [period], period, NOW, live=False
    )
    assert source == "live"  # not a calendar period: computed, then kept
    (again,), _, source = await snapshots.figures_of(
        tenant.ambito_id, [period], period, NOW, live=False
    )
    assert source == "live" and _shape(again) == _shape(first)

    # A new entry changes the data's marks: the next answer is computed again and counts it.
    entry = await _entry(tenant, scenario.holders["A"], 60)
    await _move(entry, date(2025, 4, 9))
    after = await _answer(tenant, period, live=False)
    entries = first.tables["totals"].rows[0].data["entries"]
    assert after.tables["totals"].rows[0].data["entries"] == entries + 1  # type: ignore[operator]
    assert _shape(after) == _shape(await _alone(tenant, period))


async def test_month_facts_hold_across_edits_of_data_they_take_nothing_from(
    tenant: Tenant,
) -> None:
    scenario = await _snapshotted(tenant, 10)
    period = Period("2025-02-01/2025-05-31", date(2025, 2, 1), date(2025, 5, 31))
    # April's stored facts lose their entries, so the answer shows whether they are read.
    dropped = await _empty_stored_april(tenant)
    expected = await _answer(tenant, period, live=True)
    entries = expected.tables["totals"].rows[0].data["entries"]

    # A need recorded and a resource confirmed: the reference data changed, not what the
    # ledger's facts take from it. The stored months still hold (April as stored).
    await _record_need(tenant, scenario.plan_ids[0])
    await Resource.update(
        {Resource.confirmed_at: datetime.now(UTC), Resource.updated_at: datetime.now(UTC)}
    ).where(Resource.ambito == tenant.ambito_id)
    kept = await _answer(tenant, period, live=False)
    assert kept.tables["totals"].rows[0].data["entries"] == entries - dropped  # type: ignore[operator]

    # A holder moves to another sector: every month is read from the ledger again, and the
    # answer is the definition's.
    await Holder.update({Holder.sector: "business", Holder.updated_at: datetime.now(UTC)}).where(
        Holder.id == scenario.holders["B"]
    )
    moved = await _answer(tenant, period, live=False)
    assert moved.tables["totals"].rows[0].data["entries"] == entries
    assert _shape(moved) == _shape(await _alone(tenant, period))
    sectors = {r.key["sector"] for r in moved.tables["by_sector"].rows}
    assert "business" in sectors


async def _add_to_stored_entries(t: Tenant, key: str, extra: int) -> None:
    """A stored month's snapshot with `extra` entries more in its totals, so an answer shows
    whether that snapshot's tables are what it served."""
    where = (MetricsSnapshot.ambito == t.ambito_id) & (MetricsSnapshot.period_key == key)
    row = await MetricsSnapshot.select(MetricsSnapshot.payload).where(where).first()
    assert row is not None
    payload = json.loads(row["payload"])
    payload["figures"]["tables"]["totals"]["rows"][0]["data"]["entries"] += extra
    await MetricsSnapshot.update({MetricsSnapshot.payload: json.dumps(payload)}).where(where)


def _needs(fig: Figures) -> int:
    total = fig.tables["need_coverage"].total
    assert total is not None
    return int(total.data["needs"])  # type: ignore[arg-type]


async def test_a_need_edit_recomputes_only_the_tables_that_read_the_needs(
    tenant: Tenant,
) -> None:
    # A need recorded after the job changes the reference data: the snapshots no longer hold
    # as a whole, but their tables that read only the ledger, the interventions and the rates
    # still do. Those come from the snapshot, the need tables are computed again; a change
    # of the funded interventions makes every table computed again.
    scenario = await _snapshotted(tenant, 11)
    quarter = [
        *compute.buckets(date(2025, 1, 1), date(2025, 3, 31), "month"),
        Period("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)),
    ]
    (expected, *_, expected_quarter), _, _ = await snapshots.figures_of(
        tenant.ambito_id, quarter, quarter[-1], NOW, live=True
    )
    entries = expected.tables["totals"].rows[0].data["entries"]
    await _add_to_stored_entries(tenant, "2025-01", 1000)

    await _record_need(tenant, scenario.plan_ids[0])
    got, stamps, source = await snapshots.figures_of(
        tenant.ambito_id, quarter, quarter[-1], NOW, live=False
    )
    live, _, _ = await snapshots.figures_of(tenant.ambito_id, quarter, quarter[-1], NOW, live=True)
    assert source == "live" and stamps == [None] * len(quarter)
    # January's contribution tables are its snapshot's (tampered), its need tables are new.
    assert got[0].tables["totals"].rows[0].data["entries"] == entries + 1000  # type: ignore[operator]
    for fig, definition in zip(got, live, strict=True):
        for name in catalogue.NEED_TABLES:
            assert _shape(fig)["tables"][name] == _shape(definition)["tables"][name], name
    for fig, definition in zip(got[1:], live[1:], strict=True):
        assert _shape(fig) == _shape(definition), fig.period.key
    # The quarter counts the new need.
    assert _needs(got[-1]) == _needs(expected_quarter) + 1

    # A funded intervention edited: public spending and paid hours may change, so no stored
    # table holds any more: January is the definition's again.
    await FundedIntervention.update({FundedIntervention.updated_at: datetime.now(UTC)}).where(
        FundedIntervention.ambito == tenant.ambito_id
    )
    got, _, _ = await snapshots.figures_of(tenant.ambito_id, quarter, quarter[-1], NOW, live=False)
    assert got[0].tables["totals"].rows[0].data["entries"] == entries
    for fig, definition in zip(got, live, strict=True):
        assert _shape(fig) == _shape(definition), fig.period.key


async def test_filtered_answers_after_a_need_edit_equal_the_live_ones(tenant: Tenant) -> None:
    scenario = await _snapshotted(tenant, 12)
    await _record_need(tenant, scenario.plan_ids[1])
    actor = Principal(tenant.users[Role.UDP_ADMIN], "udp", Role.UDP_ADMIN, tenant.ambito_id)
    quarter = Period("2025-Q1", date(2025, 1, 1), date(2025, 3, 31))
    for scope in (Scope(), Scope(area="anziani"), Scope(comune=tenant.comuni[0])):
        fast = await service.summary(actor, quarter, scope, live=False, now=NOW)
        live = await service.summary(actor, quarter, scope, live=True, now=NOW)
        assert msgspec.to_builtins(fast.tables) == msgspec.to_builtins(live.tables), scope
        assert fast.suppression == live.suppression, scope
        assert fast.headline == live.headline, scope
        # The time series reads no need table: it is still served by the snapshots.
        series = await service.timeseries(actor, quarter, "month", scope, live=False, now=NOW)
        again = await service.timeseries(actor, quarter, "month", scope, live=True, now=NOW)
        assert series.source == "snapshot", scope
        assert series.series == again.series and series.suppression == again.suppression


def test_a_worker_process_answers_unsent_for_months_it_has_not_decoded() -> None:
    # Stored months travel to a worker process by their identity alone once it has decoded
    # them (a year of a large ledger is tens of MB of text); one it does not hold is asked
    # for again, never guessed.
    facts = LedgerMonth(
        hours=[
            compute.HoursFact(
                "2025-03",
                "association",
                "third_sector",
                "001",
                "anziani",
                "x",
                True,
                True,
                90,
                2,
                resource_unit="hours",
            ),
        ]
    )
    text = encode_month("2025-03", facts)
    identity = f"{uuid.uuid4()}/2025-03"
    reference = catalogue.pack_inputs(compute.Inputs())
    march = Period("2025-03", date(2025, 3, 1), date(2025, 3, 31))

    def figures(months: list[tuple[str | None, str | None]]) -> object:
        return figures_from_months(reference, None, months, march, [march], NOW, ["ledger"])

    assert figures([(identity, None)]) == Unsent([identity])
    (sent,) = figures([(identity, text)]).figures  # type: ignore[attr-defined]
    (again,) = figures([(identity, None)]).figures  # type: ignore[attr-defined]
    assert sent.tables["totals"].rows[0].data["entries"] == 2
    assert _shape(again) == _shape(sent)


async def test_kept_reference_data_is_read_again_when_its_own_tables_change(
    tenant: Tenant,
) -> None:
    # The needs and the rest of the reference data are kept apart: a need recorded reads
    # the needs again, a resource confirmed the resources (the freshness counts it).
    scenario = await _snapshotted(tenant, 13)
    period = Period("2025-02-01/2025-05-31", date(2025, 2, 1), date(2025, 5, 31))

    before = await _answer(tenant, period, live=False)
    await _record_need(tenant, scenario.plan_ids[0])
    after_need = await _answer(tenant, period, live=False)
    assert _needs(after_need) == _needs(before) + 1
    await Resource.update(
        {Resource.confirmed_at: NOW, Resource.updated_at: datetime.now(UTC)}
    ).where(Resource.ambito == tenant.ambito_id)
    confirmed = await _answer(tenant, period, live=False)
    fresh = confirmed.tables["freshness"].rows[0].data
    assert fresh["confirmed_last_90_days"] == fresh["resources"] != 0
    assert _shape(confirmed) == _shape(await _answer(tenant, period, live=True))


async def test_the_job_after_a_need_edit_recomputes_only_the_need_tables(tenant: Tenant) -> None:
    scenario = await _snapshotted(tenant, 14)
    march = Period("2025-03", date(2025, 3, 1), date(2025, 3, 31))
    before = await _alone(tenant, march)
    entries = before.tables["totals"].rows[0].data["entries"]
    await _add_to_stored_entries(tenant, "2025-03", 1000)

    async def stored_march() -> Figures:
        return (await snapshots.fresh_figures(tenant.ambito_id, [march]))["2025-03"]

    # A need of March recorded: the job keeps March's ledger tables (tampered) and computes
    # its need tables again; the stored snapshot then holds as a whole.
    await _record_need(tenant, scenario.plan_ids[0])
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    kept = await stored_march()
    definition = await _alone(tenant, march)
    assert kept.tables["totals"].rows[0].data["entries"] == entries + 1000  # type: ignore[operator]
    assert _needs(kept) == _needs(definition) == _needs(before) + 1
    for name in catalogue.NEED_TABLES:
        assert _shape(kept)["tables"][name] == _shape(definition)["tables"][name], name

    # The funded interventions edited: every table of March is computed again.
    await FundedIntervention.update({FundedIntervention.updated_at: datetime.now(UTC)}).where(
        FundedIntervention.ambito == tenant.ambito_id
    )
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    assert _shape(await stored_march()) == _shape(await _alone(tenant, march))


async def test_stored_networks_hold_across_needs_and_later_entries(tenant: Tenant) -> None:
    # A network reads holders, the ledger, activities and interactions, no need and no match:
    # its snapshot serves after a need is recorded and after an entry of a later month, not
    # after an entry of one of its months.
    scenario = await _snapshotted(tenant, 15)
    quarter = Period("2025-Q1", date(2025, 1, 1), date(2025, 3, 31))

    async def source() -> str:
        rows, _, how = await network_publication.network_figures(
            tenant.ambito_id, quarter, "month", Scope(), live=False
        )
        assert len(rows) == 3
        return how

    assert await source() == "snapshot"
    await _record_need(tenant, scenario.plan_ids[0])
    assert await source() == "snapshot"
    may = await _entry(tenant, scenario.holders["B"], 60, plan_id=scenario.plan_ids[0])
    await _move(may, date(2025, 5, 6))
    assert await source() == "snapshot"
    february = await _entry(tenant, scenario.holders["B"], 60, plan_id=scenario.plan_ids[0])
    await _move(february, date(2025, 2, 6))
    assert await source() == "live"
    # The job then recomputes the networks from February on, equal to the live ones.
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    assert await source() == "snapshot"
    stored, _, _ = await network_publication.network_figures(
        tenant.ambito_id, quarter, "month", Scope(), live=False
    )
    live, _, _ = await network_publication.network_figures(
        tenant.ambito_id, quarter, "month", Scope(), live=True
    )
    assert stored == live


async def test_months_the_job_stores_go_by_the_identity_requests_read_them_back_with(
    tenant: Tenant,
) -> None:
    """A worker process keeps the months it decoded by their stored row's identity: the job's
    own months must carry the identity a request reads back, or every request after the
    job's first run sends and decodes the months again."""
    scenario = await build(tenant)
    await _random_ledger(tenant, scenario, random.Random(3))
    span = Period("span", date(2025, 1, 1), date(2025, 3, 31))
    state = await _state(tenant.ambito_id)
    stored = await month_facts(tenant.ambito_id, span, state, live=False, store=True)
    read_back = await month_facts(tenant.ambito_id, span, state, live=False)
    sent = {key: [(p.identity, p.text) for p in payloads] for key, payloads in stored.items()}
    assert all(identity for payloads in sent.values() for identity, _ in payloads)
    # Read back without their texts, which are read when a worker process asks for them.
    assert all(p.text is None for payloads in read_back.values() for p in payloads)
    texts = await stored_texts([p for payloads in read_back.values() for p in payloads])
    assert sent == {
        key: [(p.identity, texts[p.identity]) for p in ps] for key, ps in read_back.items()
    }  # type: ignore[index]


async def test_a_month_written_again_before_its_text_is_read_is_read_from_the_ledger(
    tenant: Tenant,
) -> None:
    """A request reads which stored months hold, then their texts when a worker process
    asks for them: a month the job wrote again in between is not taken for the one whose
    marks were read, and the answer is the definition's."""
    await _snapshotted(tenant, 11)
    period = Period("2025-02-01/2025-05-31", date(2025, 2, 1), date(2025, 5, 31))
    # April rewritten (emptied: the answer shows which facts it counts), so that no worker
    # process holds it by the identity read next.
    await _empty_stored_april(tenant)
    state = await _state(tenant.ambito_id)
    months = await month_facts(tenant.ambito_id, period, state, live=False)
    april = months["2025-04"]
    assert [p.text for p in april] == [None]
    # Written again by the job: another identity.
    await MetricsMonthFacts.update({MetricsMonthFacts.computed_at: datetime.now(UTC)}).where(
        (MetricsMonthFacts.ambito == tenant.ambito_id) & (MetricsMonthFacts.month == "2025-04")
    )
    with pytest.raises(MonthsMoved):
        await stored_texts(april)

    inputs, need_rows = await reference_inputs(tenant.ambito_id)
    computed = await snapshots._computed_figures(
        (tenant.ambito_id, state), inputs, need_rows, months, period, [period], NOW, {}
    )
    assert _shape(computed[period.key]) == _shape(await _alone(tenant, period))


async def _unconfirmed(t: Tenant) -> list[dict[str, Any]]:
    """The self-reported entries in effect that nobody has confirmed, oldest first."""
    confirmed = {
        r["contribution"]
        for r in await ContributionConfirmation.select(ContributionConfirmation.contribution)
    }
    corrected = {
        r["corrects"]
        for r in await Contribution.select(Contribution.corrects).where(
            Contribution.corrects.is_not_null()
        )
    }
    rows = await Contribution.select(
        Contribution.id, Contribution.occurred_on, Contribution.unit, Contribution.quantity
    ).where(
        (Contribution.ambito == t.ambito_id)
        & (Contribution.kind == "entry")
        & Contribution.corrects.is_null()
        & (Contribution.verification == "self_reported")
    )
    return sorted(
        (r for r in rows if r["id"] not in confirmed and r["id"] not in corrected),
        key=lambda r: (r["occurred_on"], str(r["id"])),
    )


async def test_entries_confirmed_since_their_month_was_stored_count_as_verified_once(
    tenant: Tenant,
) -> None:
    scenario = await _snapshotted(tenant, 11)
    waiting = await _unconfirmed(tenant)
    by_month: dict[str, dict[str, Any]] = {}
    for r in waiting:
        by_month.setdefault(compute.month_key(r["occurred_on"]), r)
    assert len(by_month) >= 3, by_month
    for r in by_month.values():
        await _confirm(tenant, r["id"])

    # Each month with a confirmation is its stored facts, moved by what was confirmed since
    # (not read from the ledger again)...
    state = await _state(tenant.ambito_id)
    months = await month_facts(tenant.ambito_id, SPAN, state, live=False)
    for key in by_month:
        stored, *since = months[key]
        assert stored.text is None and stored.identity is not None, key
        assert any(p.text and decode_month(p.text).retract for p in since), key
    # ... and every period equals its definition: the entries verified, counted once.
    got, _, _ = await snapshots.figures_of(tenant.ambito_id, PERIODS, SPAN, NOW, live=False)
    for period, figures in zip(PERIODS, got, strict=True):
        assert _shape(figures) == _shape(await _alone(tenant, period)), period.key

    # A later correction of a confirmed entry: its month is read from the ledger again.
    target = next(iter(by_month.values()))
    correction = await _entry(
        tenant, scenario.holders["A"], 15, kind="correction", corrects=target["id"]
    )
    await _move(correction, target["occurred_on"])
    got, _, _ = await snapshots.figures_of(tenant.ambito_id, PERIODS, SPAN, NOW, live=False)
    for period, figures in zip(PERIODS, got, strict=True):
        assert _shape(figures) == _shape(await _alone(tenant, period)), period.key


async def test_a_confirmation_written_while_the_job_reads_the_ledger_counts_once(
    tenant: Tenant,
) -> None:
    scenario = await build(tenant)
    await _random_ledger(tenant, scenario, random.Random(12))
    entry = next(r for r in await _unconfirmed(tenant) if r["unit"] == "hours")
    month = compute.month_key(entry["occurred_on"])
    period = compute.buckets(entry["occurred_on"], entry["occurred_on"], "month")[0]
    # The job reads the ledger's marks, then the ledger: the entry confirmed in between is
    # stored unverified, as it was at the marks, and moved to verified when read back.
    marks = await _state(tenant.ambito_id)
    await _confirm(tenant, entry["id"])
    await month_facts(tenant.ambito_id, period, marks, live=False, store=True)
    stored = await _stored_months(tenant)
    facts = decode_month(stored[month]["payload"])  # type: ignore[arg-type]
    verified_minutes = sum(h.minutes for h in facts.hours if h.verified)
    expected = await _alone(tenant, period)
    answer = await _answer(tenant, period, live=False)
    assert _shape(answer) == _shape(expected)
    hours = answer.tables["totals"].rows[0].data["hours_verified"]
    assert abs(hours - (verified_minutes + entry["quantity"]) / 60) < 0.01


async def test_a_stored_month_that_lacks_a_confirmed_entry_is_read_from_the_ledger(
    tenant: Tenant,
) -> None:
    await _snapshotted(tenant, 13)
    period = Period("2025-02-01/2025-05-31", date(2025, 2, 1), date(2025, 5, 31))
    # April's stored facts lose their entries, then one of April's is confirmed: what is
    # stored cannot be moved (the entry is not there), so April is read from the ledger.
    await _empty_stored_april(tenant)
    waiting = await _unconfirmed(tenant)
    april = [r for r in waiting if compute.month_key(r["occurred_on"]) == "2025-04"]
    assert april
    await _confirm(tenant, april[0]["id"])
    assert _shape(await _answer(tenant, period, live=False)) == _shape(await _alone(tenant, period))


async def test_a_month_a_request_completed_is_completed_from_there_by_the_next(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = await build(tenant)
    await _random_ledger(tenant, scenario, random.Random(14))
    early, waiting = [
        await _entry(tenant, scenario.holders["A"], minutes, verification="self_reported")
        for minutes in (60, 75)
    ]
    for entry in (early, waiting):
        await _move(entry, date(2025, 7, 10))
    await snapshots.take_snapshot(NOW, [tenant.ambito_id])
    july = compute.buckets(date(2025, 7, 1), NOW.date(), "month")[0]

    # Since the job: an entry confirmed, another written. A request reads its marks; then,
    # before it reads the ledger, the one written and one stored are confirmed.
    await _confirm(tenant, early)
    first = await _entry(tenant, scenario.holders["B"], 30, verification="self_reported")
    await _move(first, date(2025, 7, 11))
    marks = await _state(tenant.ambito_id)
    await _confirm(tenant, waiting)
    await _confirm(tenant, first)
    monkeypatch.setattr(snapshots, "_state", lambda ambito_id: _async(marks))
    await snapshots.figures_of(tenant.ambito_id, PERIODS, SPAN, NOW, live=False)
    monkeypatch.undo()

    # The month it completed holds the data at its marks, without those confirmations...
    settled = month_facts_module._SETTLED.get((tenant.ambito_id, "2025-07"))
    assert settled is not None and settled.entry_mark == marks.entry_mark
    assert settled.payload.text is not None
    served = (await ledger_attributes(tenant.ambito_id, marks)).served
    at_marks = Written(until=marks.entry_mark, confirmed_by=marks.confirmation_mark)
    read = (await load_ledger_months(tenant.ambito_id, july, served, at_marks))["2025-07"]

    def minutes(month: LedgerMonth) -> tuple[int, int]:
        return (
            sum(h.minutes for h in month.hours if h.verified),
            sum(h.minutes for h in month.hours if not h.verified),
        )

    assert minutes(decode_month(settled.payload.text)) == minutes(read)

    # ... and the next request completes it from there: one more entry and the two
    # confirmations, each counted once, the month made one again at the new marks.
    second = await _entry(tenant, scenario.holders["B"], 45)
    await _move(second, date(2025, 7, 12))
    state = await _state(tenant.ambito_id)
    months = await month_facts(tenant.ambito_id, july, state, live=False)
    assert months["2025-07"][0] == settled.payload
    got, _, _ = await snapshots.figures_of(tenant.ambito_id, PERIODS, SPAN, NOW, live=False)
    for period, figures in zip(PERIODS, got, strict=True):
        assert _shape(figures) == _shape(await _alone(tenant, period)), period.key
    again = month_facts_module._SETTLED.get((tenant.ambito_id, "2025-07"))
    assert again is not None and again.confirmation_mark == state.confirmation_mark


async def _async(value: Any) -> Any:
    return value
