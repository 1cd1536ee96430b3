"""The metric catalogue on small hand-computed data sets (pure: no database).

Every expected value is worked out in the comments from the definition in DESIGN.md
"Metrics for the Ufficio di Piano", not copied from the code's output.
"""

from __future__ import annotations

import random
import statistics
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import networkx as nx
import pytest

from registry.metrics import catalogue, compute, network
from registry.metrics.compute import (
    HoursFact,
    Inputs,
    InterventionFact,
    NeedFact,
    OfferedResource,
    Period,
    PresencePlace,
    QuantityFact,
    ResourcePlanFact,
    ResourceState,
)
from registry.metrics.coverage import MatchedHours, NeedIndex
from registry.metrics.periods import month_end
from registry.metrics.rates import Rate, default_rates, effective_rates, level_of, pick_rate
from registry.metrics.suppression import Row, Table, suppress
from registry.resources.availability import Window

YEAR = Period("2025", date(2025, 1, 1), date(2025, 12, 31))
NOW = datetime(2025, 12, 31, 12, tzinfo=UTC)
RATES = [
    Rate("B1", 2024, 2000, "test", False),  # 20.00 EUR/h
    Rate("C1", 2025, 2500, "test", False),  # 25.00 EUR/h
    Rate("E1", 2023, 3000, "test", False),  # 30.00 EUR/h
]


def hours(month: str, minutes: int, entries: int, **kw: object) -> HoursFact:
    base: dict[str, object] = {
        "holder_kind": "association",
        "sector": "third_sector",
        "comune": "000001",
        "area": "anziani",
        "category": "trasporto",
        "verified": True,
        "via_match": False,
    }
    base.update(kw)
    return HoursFact(month=month, minutes=minutes, entries=entries, **base)  # type: ignore[arg-type]


def place(
    holders: list[str], volunteers: list[str], individuals: list[str] | None = None, **kw: object
) -> PresencePlace:
    base: dict[str, object] = {
        "month": "",
        "holder_kind": "association",
        "sector": "third_sector",
        "comune": "000001",
        "area": "anziani",
    }
    base.update(kw)
    return PresencePlace(
        holders=holders,
        volunteers=volunteers,
        individuals=individuals or [],
        **base,  # type: ignore[arg-type]
    )


def intervention(ident: str, start: date, end: date, spent: int, **kw: object) -> InterventionFact:
    base: dict[str, object] = {
        "fund_source": "regional",
        "user_area": "anziani",
        "fnps_level": "home_care",
        "comuni": ("000001",),
        "delivered_minutes": 0,
        "plan_ids": frozenset(),
    }
    base.update(kw)
    return InterventionFact(
        id=ident,
        period_start=start,
        period_end=end,
        spent_cents=spent,
        **base,  # type: ignore[arg-type]
    )


@pytest.fixture
def ledger() -> Inputs:
    return Inputs(
        hours=[
            # 10 h of transport (B1) through a match: 10 x 20.00 (B1's 2024 rate, the latest
            # year not after 2025) = 200.00
            hours("2025-03", 600, 4, via_match=True, resource_unit="hours"),
            # 2 h of consulting (E1) by an individual volunteer: 2 x 30.00 (2023 rate) = 60.00
            hours(
                "2025-04",
                120,
                1,
                holder_kind="individual_volunteer",
                sector="informal",
                comune="000002",
                area=None,
                category="consulenza",
            ),
            # 5 h self-reported, never confirmed: not counted anywhere but in its own figure
            hours("2025-04", 300, 3, verified=False),
            # 20 h of accompaniment (C1) for plan P1, which intervention I1 serves; I1
            # reports 8 h delivered over 2025, so 8 h are paid: 12 h x 25.00 = 300.00
            hours(
                "2025-05",
                1200,
                10,
                holder_kind="parish",
                area="disabili",
                category="accompagnamento",
                plan_id="P1",
                day=date(2025, 5, 10),
            ),
        ],
        quantities=[
            QuantityFact(
                "2025-06",
                "company",
                "business",
                "000001",
                "anziani",
                "items",
                True,
                12,
                15000,
                2,
                2,
            ),
            # unverified goods: their 50.00 EUR do not count
            QuantityFact(
                "2025-06",
                "company",
                "business",
                "000001",
                "anziani",
                "room_hours",
                False,
                120,
                5000,
                1,
                1,
            ),
            QuantityFact(
                "2025-07",
                "association",
                "third_sector",
                "000001",
                "anziani",
                "people_reached",
                True,
                30,
                0,
                0,
                1,
            ),
        ],
        presence=[
            # H1 with users U1 and U2, and on its own (the association itself: no person)
            place(["H1"], ["U1", "U2"]),
            place(["H3"], ["U1"], holder_kind="parish"),  # U1 again, in a second association
            # holder H2 acting on its own is the same person as user U2
            place(
                ["H2"],
                [],
                ["H2"],
                holder_kind="individual_volunteer",
                sector="informal",
                comune="000002",
                area=None,
            ),
        ],
        interventions=[
            # 10,000.00 EUR over all of 2025
            intervention(
                "I1",
                date(2025, 1, 1),
                date(2025, 12, 31),
                1_000_000,
                delivered_minutes=480,
                plan_ids=frozenset({"P1"}),
            ),
            # 3,650.00 EUR over 2024-07-01..2025-06-30 (365 days); 181 of them in 2025:
            # 365,000 x 181 / 365 = 181,000 cents = 1,810.00 EUR
            intervention(
                "I2",
                date(2024, 7, 1),
                date(2025, 6, 30),
                365_000,
                user_area="disabili",
                fund_source="national",
                comuni=("000001", "000002"),
            ),
        ],
        person_of_holder={"H2": "U2"},
        rates=RATES,
    )


def totals(fig: compute.Figures) -> dict[str, object]:
    return fig.tables["totals"].rows[0].data


def test_hours_fte_value_and_double_counting(ledger: Inputs) -> None:
    t = totals(catalogue.figures(ledger, YEAR, NOW))
    assert t["hours_verified"] == 32.0  # 10 + 2 + 20
    assert t["hours_paid_by_interventions"] == 8.0
    assert t["hours_community"] == 24.0
    assert t["fte"] == round(24 / 1824, 3)
    assert t["hours_self_reported_unverified"] == 5.0
    assert t["entries_self_reported_unverified"] == 3
    assert t["entries"] == 4 + 1 + 10 + 2 + 1
    assert t["replacement_value_eur"] == 560.0  # 200 + 60 + 300
    assert t["in_kind_value_eur"] == 150.0
    assert t["community_value_eur"] == 710.0
    assert t["public_eur"] == 11_810.0  # 10,000 + 1,810
    assert t["leverage_ratio"] == round(710 / 11_810, 4)
    assert t["coproduction_share"] == round(710 / (710 + 11_810), 4)


def test_one_person_in_two_associations_counts_once(ledger: Inputs) -> None:
    fig = catalogue.figures(ledger, YEAR, NOW)
    t = totals(fig)
    assert t["persons"] == 2  # U1 (in H1 and H3) and U2 (in H1 and as holder H2)
    assert t["holders"] == 3  # H1, H2, H3; H4 had only unverified entries
    by_sector = {r.key["sector"]: r.data for r in fig.tables["by_sector"].rows}
    assert by_sector["third_sector"]["persons"] == 2
    assert by_sector["third_sector"]["holders"] == 2
    assert by_sector["informal"]["persons"] == 1
    assert by_sector["informal"]["hours_community"] == 2.0


def test_every_euro_figure_carries_method_rate_and_year(ledger: Inputs) -> None:
    fig = catalogue.figures(ledger, YEAR, NOW)
    replacement = fig.money["replacement_value_eur"]
    used = {(r.task_level, r.year, r.eur_per_hour, r.hours) for r in replacement.rates}
    assert used == {("B1", 2024, 20.0, 10.0), ("C1", 2025, 25.0, 12.0), ("E1", 2023, 30.0, 2.0)}
    assert replacement.rate_years == [2023, 2024, 2025]
    # hours-weighted: 560 EUR / 24 h
    assert replacement.rate_eur_per_hour == round(560 / 24, 2)
    assert "ILO" in replacement.method
    assert "valore normale" in fig.money["in_kind_value_eur"].method
    assert "giorni" in fig.money["public_eur"].method
    levels = {r.key["task_level"]: r.data for r in fig.tables["by_task_level"].rows}
    assert levels["C1"]["rate_eur_per_hour"] == 25.0
    assert levels["C1"]["rate_years"] == "2025"
    assert levels["C1"]["replacement_value_eur"] == 300.0


def test_public_money_by_area_and_comune(ledger: Inputs) -> None:
    fig = catalogue.figures(ledger, YEAR, NOW)
    by_area = {r.key["area"]: r.data for r in fig.tables["by_area"].rows}
    assert by_area["anziani"]["public_eur"] == 10_000.0
    assert by_area["disabili"]["public_eur"] == 1_810.0
    # disabili: 300 EUR of community value against 1,810 EUR
    assert by_area["disabili"]["leverage_ratio"] == round(300 / 1810, 4)
    by_comune = {r.key["comune"]: r.data for r in fig.tables["by_comune"].rows}
    # I1 all to 000001; I2 half each: 905.00
    assert by_comune["000001"]["public_eur"] == 10_905.0
    assert by_comune["000002"]["public_eur"] == 905.0
    sources = {
        r.key["fund_source"]: r.data["public_eur"] for r in fig.tables["public_by_fund_source"].rows
    }
    assert sources == {"regional": 10_000.0, "national": 1_810.0}
    # Filtered on comune 000002: only half of I2 is that comune's.
    ledger.comune = "000002"
    assert totals(catalogue.figures(ledger, YEAR, NOW))["public_eur"] == 905.0


def test_paid_hours_cap_is_prorated_to_the_period() -> None:
    # I1 delivered 365 h over 2025 (60 min a day): March gets 31 h of cap.
    march = Period("2025-03", date(2025, 3, 1), date(2025, 3, 31))
    facts = [
        hours("2025-03", 40 * 60, 1, plan_id="P1", day=date(2025, 3, 5)),
        hours("2025-03", 10 * 60, 1, plan_id="P2", day=date(2025, 3, 5)),  # plan not served
    ]
    i1 = intervention(
        "I1",
        date(2025, 1, 1),
        date(2025, 12, 31),
        0,
        delivered_minutes=365 * 60,
        plan_ids=frozenset({"P1"}),
    )
    assert compute.allocate_paid(facts, [i1], march) == [31 * 60, 0.0]
    # An intervention outside the entry's day pays nothing.
    i2 = intervention(
        "I2",
        date(2024, 1, 1),
        date(2024, 12, 31),
        0,
        delivered_minutes=10_000,
        plan_ids=frozenset({"P1"}),
    )
    assert compute.allocate_paid(facts, [i2], march) == [0.0, 0.0]


def needs_inputs() -> Inputs:
    def at(y: int, m: int, d: int, h: int = 0) -> datetime:
        return datetime(y, m, d, h, tzinfo=UTC)

    def need(
        ident: str,
        plan: str,
        created: datetime,
        accepted: datetime | None,
        community: bool,
        active_from: date | None = None,
    ) -> NeedFact:
        # community: a match still live since 2025-01-20 (or nothing)
        return NeedFact(
            id=ident,
            plan_id=plan,
            comune="000001",
            area="anziani",
            category="trasporto",
            created_at=created,
            active_from=active_from or created.date(),
            active_until=None,
            first_accepted_at=accepted,
            live_accepted_at=at(2025, 1, 20) if community else None,
        )

    window = Window(
        freq="WEEKLY",
        start_time=time(9),
        end_time=time(12),
        valid_from=date(2025, 1, 1),
        by_day=("MO",),
        capacity=2,
    )
    return Inputs(
        hours=[
            hours("2025-03", 600, 4, via_match=True, resource_unit="hours"),
            # 5 h logged on a resource measured in places: shown apart, not in the ratio
            hours("2025-03", 300, 2, via_match=True, resource_unit="places"),
        ],
        needs=[
            need("N1", "P1", at(2025, 1, 10), at(2025, 1, 20), True),  # both
            need("N2", "P2", at(2025, 2, 1), at(2025, 2, 4, 12), True),  # community only
            need("N3", "P1", at(2025, 3, 1), None, False),  # intervention only
            need("N4", "P3", at(2024, 12, 1), at(2025, 1, 1), False),  # none
            need("N5", "P3", at(2025, 6, 1), None, False, date(2026, 2, 1)),  # not yet active
            need("N6", "P4", at(2025, 5, 1), at(2026, 1, 5), False),  # none (I3 ended in 2024)
        ],
        interventions=[
            intervention("I1", date(2025, 1, 1), date(2025, 12, 31), 0, plan_ids=frozenset({"P1"})),
            intervention("I3", date(2024, 1, 1), date(2024, 12, 31), 0, plan_ids=frozenset({"P4"})),
        ],
        resource_plans=[
            ResourcePlanFact("R1", "P1"),
            ResourcePlanFact("R1", "P2"),
            ResourcePlanFact("R2", "P1"),
            ResourcePlanFact("R3", "P3"),
            ResourcePlanFact("R3", "P4"),
            ResourcePlanFact("R3", "P1"),
        ],
        offered=[OfferedResource("R1", (window,))],
        resources=[
            ResourceState("A", "active", at(2025, 12, 1)),
            ResourceState("B", "active", at(2025, 6, 1)),
            ResourceState("C", "paused", at(2025, 11, 1)),
            ResourceState("D", "archived", at(2025, 12, 30)),
            ResourceState("E", "stale", None),
        ],
        rates=RATES,
    )


def test_need_coverage() -> None:
    fig = catalogue.figures(needs_inputs(), YEAR, NOW)
    total = fig.tables["need_coverage"].total
    assert total is not None
    assert total.data["needs"] == 5  # N5 is not active in 2025
    assert total.data["both"] == 1
    assert total.data["community_only"] == 1
    assert total.data["intervention_only"] == 1
    assert total.data["none"] == 2
    assert total.data["share_none"] == 0.4


def test_use_not_consumption() -> None:
    use = catalogue.figures(needs_inputs(), YEAR, NOW).tables["use"].rows[0].data
    # 52 Mondays in 2025 x 3 h x 2 places = 312 h offered; 10 h given through matches
    assert use["offered_hours"] == 312.0
    assert use["matched_hours"] == 10.0
    assert use["matched_over_offered"] == round(600 / (52 * 180 * 2), 4)
    assert use["matched_hours_other_units"] == 5.0
    # R1 (P1, P2) and R3 (P3, P4, P1) in two or more plans, R2 in one
    assert use["resources_used"] == 3
    assert use["resources_used_in_2_plus_plans"] == 2
    assert use["share_resources_reused"] == round(2 / 3, 4)
    # recorded in 2025: N1 N2 N3 N5 N6; accepted by 31 Dec: N1 N2
    assert use["needs_recorded"] == 5
    assert use["needs_matched"] == 2
    assert use["share_needs_matched"] == 0.4


def test_needs_fall_on_their_day_in_italy_not_in_utc() -> None:
    """A need recorded at 23:30 UTC on 31 December 2024 was recorded at 00:30 on 1 January
    2025 in Italy: it is one of 2025's. A match accepted at 23:30 UTC on 31 December 2025
    was accepted in 2026 in Italy; one at 22:30 UTC (23:30 in Rome) still in 2025."""

    def need(ident: str, created: datetime, accepted: datetime | None) -> NeedFact:
        return NeedFact(
            id=ident,
            plan_id="P1",
            comune="000001",
            area="anziani",
            category="trasporto",
            created_at=created,
            active_from=date(2025, 1, 1),
            active_until=None,
            first_accepted_at=accepted,
            live_accepted_at=accepted,
        )

    inputs = needs_inputs()
    inputs.needs = [
        need("N1", datetime(2024, 12, 31, 23, 30, tzinfo=UTC), None),
        need("N2", datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),
        need("N3", datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 12, 31, 22, 30, tzinfo=UTC)),
    ]
    fig = catalogue.figures(inputs, YEAR, NOW)
    use = fig.tables["use"].rows[0].data
    assert use["needs_recorded"] == 3  # N1 too: 1 January in Italy
    assert use["needs_matched"] == 1  # N3 only: N2 was accepted on 1 January in Italy
    assert fig.tables["time_to_match"].rows[0].data["needs_matched"] == 1
    assert not community_met(inputs.needs[1], YEAR)
    assert community_met(inputs.needs[2], YEAR)


def community_met(need: NeedFact, period: Period) -> bool:
    """The need counted as met by the community in the period's coverage table."""
    by_area, _ = NeedIndex(Inputs(needs=[need])).coverage(period)
    assert by_area.total is not None and by_area.total.data["needs"] == 1
    return by_area.total.data["community_only"] + by_area.total.data["both"] == 1


def test_community_met_by_match_or_entries_in_the_period() -> None:
    march = Period("2025-03", date(2025, 3, 1), date(2025, 3, 31))
    base = dict(
        id="N",
        plan_id="P",
        comune=None,
        area=None,
        category="x",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        active_from=date(2025, 1, 1),
        active_until=None,
        first_accepted_at=None,
    )
    # a match accepted in April does not meet a need in March; entries in March do
    late = NeedFact(**base, live_accepted_at=datetime(2025, 4, 2, tzinfo=UTC))  # type: ignore[arg-type]
    assert not community_met(late, march)
    worked = NeedFact(**base, contributed_months=frozenset({"2025-03"}))  # type: ignore[arg-type]
    assert community_met(worked, march)
    assert not community_met(worked, Period("2025-04", date(2025, 4, 1), date(2025, 4, 30)))


def test_time_to_match_and_freshness() -> None:
    fig = catalogue.figures(needs_inputs(), YEAR, NOW)
    ttm = fig.tables["time_to_match"].rows[0].data
    # accepted in 2025: N1 after 10 days, N2 after 3.5, N4 after 31
    assert ttm["needs_matched"] == 3
    assert ttm["median_days"] == 10.0
    assert ttm["p90_days"] == 31.0  # nearest rank: ceil(0.9 x 3) = 3rd value
    fresh = fig.tables["freshness"].rows[0].data
    # A, B, C, E current (D archived); A and C confirmed after 2025-10-02
    assert fresh["resources"] == 4
    assert fresh["confirmed_last_90_days"] == 2
    assert fresh["share_confirmed"] == 0.5


def test_rate_lookup_and_defaults() -> None:
    assert pick_rate(RATES, "B1", 2025).year == 2024  # type: ignore[union-attr]
    assert pick_rate(RATES, "E1", 2020).year == 2023  # type: ignore[union-attr]
    assert pick_rate(RATES, "D2", 2025).task_level == "B1"  # type: ignore[union-attr]
    assert level_of("consulenza") == "E1"
    assert level_of("unknown-category") == "B1"
    assert level_of("trasporto", {"trasporto": "C1"}) == "C1"
    rates = effective_rates([Rate("B1", 2024, 2100, "UdP 2024", False)])
    b1 = [r for r in rates if r.task_level == "B1"]
    assert b1 == [Rate("B1", 2024, 2100, "UdP 2024", False)]
    assert all(r.is_default and "indicativo" in r.source for r in default_rates())


# --- suppression --------------------------------------------------------------------------


def sector_table() -> Table:
    rows = [("A", 12, 100.0), ("B", 3, 20.0), ("C", 7, 50.0), ("D", 0, 0.0)]
    return Table(
        name="t",
        title="t",
        keys=["sector"],
        counts=["persons"],
        values=["hours"],
        rows=[Row({"sector": s}, {"persons": p, "hours": h}) for s, p, h in rows],
        total=Row({}, {"persons": 22, "hours": 170.0}),
    )


def test_primary_and_secondary_suppression_one_way() -> None:
    safe, cells = suppress(sector_table(), 5)
    got = {(c.key.get("sector"), c.column, c.reason) for c in cells}
    # B (3 persons) is withheld with its hours; C, the smallest non-zero other row, is withheld
    # too so that B cannot be recomputed as total - A - C - D. Zero (D) stays published.
    assert got == {
        ("B", "persons", "primary"),
        ("B", "hours", "primary"),
        ("C", "persons", "secondary"),
        ("C", "hours", "secondary"),
    }
    values = {r.key["sector"]: r.data for r in safe.rows}
    assert values["A"] == {"persons": 12, "hours": 100.0}
    assert values["D"] == {"persons": 0, "hours": 0.0}
    assert values["B"]["persons"] is None and values["C"]["hours"] is None
    assert safe.total is not None and safe.total.data["persons"] == 22


def test_secondary_suppression_two_ways() -> None:
    cols = ["community_only", "intervention_only", "both", "none"]

    def row(key: dict[str, str], needs: int, parts: list[int]) -> Row:
        data: dict[str, object] = {"needs": needs, **dict(zip(cols, parts, strict=True))}
        data.update({f"share_{c}": p / needs for c, p in zip(cols, parts, strict=True)})
        return Row(key, data)

    table = Table(
        name="cov",
        title="cov",
        keys=["area"],
        counts=["needs", *cols],
        values=[],
        rows=[row({"area": "X"}, 20, [12, 5, 0, 3]), row({"area": "Y"}, 15, [6, 9, 0, 0])],
        total=row({}, 35, [18, 14, 0, 3]),
        row_sums=[("needs", cols)],
        derived={f"share_{c}": [c, "needs"] for c in cols},
    )
    safe, cells = suppress(table, 5)
    got = {(c.key.get("area", "total"), c.column, c.reason) for c in cells}
    # X.none (3) and total.none (3) are small. Row X: needs - community - intervention - both
    # would give X.none back, so X.intervention (5, the smallest non-zero) goes too; likewise
    # total.intervention (14) in the total row. Column "intervention" then has two withheld
    # cells, column "none" too: nothing else can be recomputed. Shares follow their counts.
    assert got == {
        ("X", "none", "primary"),
        ("total", "none", "primary"),
        ("X", "intervention_only", "secondary"),
        ("total", "intervention_only", "secondary"),
        ("X", "share_none", "derived"),
        ("X", "share_intervention_only", "derived"),
        ("total", "share_none", "derived"),
        ("total", "share_intervention_only", "derived"),
    }
    assert safe.rows[1].data["intervention_only"] == 9


def test_published_figures_hide_small_counts(ledger: Inputs) -> None:
    fig = catalogue.figures(ledger, YEAR, NOW)
    safe, cells = suppress(fig.tables["totals"], 5)
    data = safe.rows[0].data
    # 2 persons and 3 holders: below 5, so they and the hours and euro summed over them are
    # withheld; public spending is public and stays; the leverage (from a withheld value) goes.
    assert data["persons"] is None and data["holders"] is None
    assert data["hours_community"] is None and data["replacement_value_eur"] is None
    assert data["public_eur"] == 11_810.0
    assert data["leverage_ratio"] is None
    assert {c.column for c in cells if c.reason == "derived"} >= {"leverage_ratio"}


# --- cohesion network ---------------------------------------------------------------------


def nodes(*specs: tuple[str, str, str]) -> list[network.Node]:
    return [network.Node(i, kind, sector, date(2024, 1, 1)) for i, kind, sector in specs]


def test_network_metrics_small_graph() -> None:
    q1 = Period("2025-Q1", date(2025, 1, 1), date(2025, 3, 31))
    people = nodes(
        ("H1", "association", "third_sector"),
        ("H2", "parish", "third_sector"),
        ("H3", "public_office", "public"),
        ("H4", "individual_volunteer", "informal"),
        ("H5", "company", "business"),
    )
    participations = [
        network.Participation("H1", "plan:P1", date(2025, 1, 5)),
        network.Participation("H2", "plan:P1", date(2025, 2, 9)),
        # same plan but another quarter: no tie with H1 in Q1
        network.Participation("H5", "plan:P1", date(2025, 4, 2)),
    ]
    quarters = compute.buckets(date(2024, 10, 1), date(2025, 6, 30), "quarter")
    ties = [
        *network.derived_ties(participations, quarters),
        network.Tie("H1", "H3", date(2024, 11, 3), "interaction"),  # an old tie
        network.Tie("H1", "H3", date(2025, 2, 1), "interaction"),
        network.Tie("H2", "H3", date(2025, 3, 1), "joint_activity"),
        network.Tie("H1", "H4", date(2025, 3, 15), "interaction"),
    ]
    table, by_sector, blocks = network.network_table(people, ties, [q1])
    m = table.rows[0].data
    # 5 nodes; edges H1-H2, H1-H3, H2-H3, H1-H4
    assert (m["nodes"], m["edges"], m["person_nodes"]) == (5, 4, 1)
    assert m["density"] == 0.4  # 4 / (5 x 4 / 2)
    assert m["average_degree"] == 1.6  # 2 x 4 / 5
    assert m["components"] == 2  # {H1..H4}, {H5}
    assert m["largest_component_share"] == 0.8
    # clustering: H1 1/3 (H2-H3 among H2, H3, H4), H2 1, H3 1, H4 0, H5 0 -> 2.333 / 5
    assert m["average_clustering"] == round((1 / 3 + 2) / 5, 4)
    # external (cross-sector) ties H1-H3, H2-H3, H1-H4; internal H1-H2: (3 - 1) / 4
    assert m["ei_index"] == 0.5
    # H1-H3 existed in 2024: new are H1-H2, H2-H3, H1-H4
    assert m["new_ties"] == 3
    counts = {r.key["sector"]: r.data["nodes"] for r in by_sector.rows}
    assert counts == {"business": 1, "informal": 1, "public": 1, "third_sector": 2}
    assert {(b["from"], b["to"]): b["edges"] for b in blocks} == {
        ("informal", "third_sector"): 1,
        ("public", "third_sector"): 2,
        ("third_sector", "third_sector"): 1,
    }


def test_network_modularity_and_assortativity() -> None:
    # Two triangles of different sectors joined by one edge c-d.
    period = Period("2025", date(2025, 1, 1), date(2025, 12, 31))
    people = nodes(
        *[(x, "association", "third_sector") for x in "abc"],
        *[(x, "public_office", "public") for x in "def"],
    )
    day = date(2025, 5, 5)
    pairs = ["ab", "bc", "ac", "de", "ef", "df", "cd"]
    ties = [network.Tie(p[0], p[1], day, "interaction") for p in pairs]
    table, _, _ = network.network_table(people, ties, [period])
    m = table.rows[0].data
    # communities {a,b,c} {d,e,f}: Q = 2 x (3/7 - (7/14)^2) = 0.3571
    assert m["communities"] == 2
    assert m["modularity"] == round(2 * (3 / 7 - 0.25), 4)
    # mixing matrix e_TT = e_PP = 6/14, e_TP = e_PT = 1/14, a = b = 1/2:
    # r = (12/14 - 1/2) / (1 - 1/2) = 0.7143
    assert m["sector_assortativity"] == round((12 / 14 - 0.5) / 0.5, 4)
    assert m["ei_index"] == round((1 - 6) / 7, 4)
    assert m["density"] == round(7 / 15, 4)
    assert m["average_clustering"] == round((4 + 2 / 3) / 6, 4)


def test_network_trend() -> None:
    rows = [{"density": 0.1}, {"density": None}, {"density": 0.3}]
    # points (0, 0.1) and (2, 0.3): slope 0.1 per period
    assert network.trend(rows, "density") == {
        "first": 0.1,
        "last": 0.3,
        "change": 0.2,
        "slope_per_period": 0.1,
    }


def test_buckets() -> None:
    keys = [p.key for p in compute.buckets(date(2025, 2, 15), date(2025, 7, 3), "quarter")]
    assert keys == ["2025-Q1", "2025-Q2", "2025-Q3"]
    months = compute.buckets(date(2025, 2, 15), date(2025, 4, 10), "month")
    assert (months[0].start, months[-1].end) == (date(2025, 2, 15), date(2025, 4, 10))


def test_suppression_terminates_on_a_total_without_parts() -> None:
    # A small total with no rows (nothing else could reveal it) is withheld, once.
    table = Table(
        name="t",
        title="t",
        keys=["sector"],
        counts=["persons"],
        values=[],
        rows=[],
        total=Row({}, {"persons": 2}),
    )
    safe, cells = suppress(table, 5)
    assert [(c.column, c.reason) for c in cells] == [("persons", "primary")]
    assert safe.total is not None and safe.total.data["persons"] is None


@pytest.mark.parametrize("seed", range(6))
def test_network_structure_equals_networkx(seed: int) -> None:
    # The array-based network gives networkx's figures on random networks sparse and dense,
    # with repeated ties, isolated holders, archived and later holders, and ties to a holder
    # outside the node set; Louvain (igraph) finds communities as good as networkx's.
    rng = random.Random(seed)
    density = (0.03, 0.1, 0.3, 0.6, 0.9, 1.0)[seed]
    sectors = ("third_sector", "public", "business", "informal")
    period = Period("2025", date(2025, 1, 1), date(2025, 12, 31))
    people = [
        network.Node(
            f"H{i:03d}",
            "individual_volunteer" if i % 7 == 0 else "association",
            sectors[(i // 15 + (rng.random() < 0.2)) % 4],
            date(2024, 1, 1) if i != 5 else date(2026, 1, 1),  # registered after the period
            active=i != 3,
        )
        for i in range(64)
    ]
    ties = []
    for i in range(60):
        for j in range(i + 1, 60):
            near = i // 15 == j // 15  # four planted communities
            if rng.random() < (density if near else density / 3):
                for _ in range(rng.choice((1, 1, 2))):
                    day = date(2025, rng.randint(1, 12), 1)
                    ties.append(network.Tie(f"H{i:03d}", f"H{j:03d}", day, "interaction"))
    ties.append(network.Tie("H001", "OUTSIDE", date(2025, 3, 1), "interaction"))
    ties.append(network.Tie("H002", "H004", date(2024, 5, 1), "interaction"))  # before
    rng.shuffle(ties)

    table, _, _ = network.network_table(people, ties, [period])
    m = table.rows[0].data

    g = nx.Graph()
    known = {n.id for n in people}
    for t in ties:
        if t.a in known and t.b in known and period.start <= t.on <= period.end:
            g.add_edge(t.a, t.b)
    g.add_nodes_from(n.id for n in people if n.active and n.since <= period.end)
    nx.set_node_attributes(g, {n.id: n.sector for n in people}, "sector")
    assert (m["nodes"], m["edges"]) == (g.number_of_nodes(), g.number_of_edges())
    assert m["average_clustering"] == round(nx.average_clustering(g), 4)
    assert m["components"] == nx.number_connected_components(g)
    largest = max(len(c) for c in nx.connected_components(g))
    assert m["largest_component_share"] == round(largest / g.number_of_nodes(), 4)
    assert m["density"] == round(nx.density(g), 4)
    if density < 1.0:
        expected = nx.attribute_assortativity_coefficient(g, "sector")
        assert m["sector_assortativity"] == pytest.approx(expected, abs=1e-4)
    external = sum(1 for a, b in g.edges if g.nodes[a]["sector"] != g.nodes[b]["sector"])
    ei = (2 * external - g.number_of_edges()) / g.number_of_edges()
    assert m["ei_index"] == round(ei, 4)
    pairs = {tuple(sorted((t.a, t.b))) for t in ties if t.on < period.start}
    new = {tuple(sorted((t.a, t.b))) for t in ties if period.start <= t.on <= period.end}
    assert m["new_ties"] == len(new - pairs)
    weighted = nx.Graph()
    for t in ties:
        if t.a in known and t.b in known and period.start <= t.on <= period.end:
            w = weighted.get_edge_data(t.a, t.b, {"weight": 0})["weight"]
            weighted.add_edge(t.a, t.b, weight=w + 1)
    theirs = nx.community.modularity(
        weighted, nx.community.louvain_communities(weighted, seed=1), weight="weight"
    )
    assert m["modularity"] >= round(theirs, 4) - 0.02


def test_need_index_agrees_with_the_definitions_need_by_need() -> None:
    """The coverage, use and time-to-match tables of random needs, interventions and uses,
    for a year with its quarters and months and for odd periods, equal a plain reading of
    the definitions one need (and one use) at a time."""
    rng = random.Random(11)
    day0 = date(2024, 11, 1)

    def day(span: int = 500) -> date:
        return date.fromordinal(day0.toordinal() + rng.randrange(span))

    def moment() -> datetime:
        # Some at 23:30 UTC: the next day in Italy.
        return datetime.combine(day(), time(rng.choice([9, 23]), 30), tzinfo=UTC)

    plans = [f"P{i}" for i in range(30)]
    needs = []
    for i in range(400):
        start = day()
        first = moment() if rng.random() < 0.6 else None
        needs.append(
            NeedFact(
                id=f"N{i}",
                plan_id=rng.choice(plans),
                comune=rng.choice(["000001", "000002", None]),
                area=rng.choice(["anziani", "disabili", None]),
                category="x",
                created_at=moment(),
                active_from=start,
                active_until=rng.choice([None, start + timedelta(days=rng.randrange(200))]),
                first_accepted_at=first,
                live_accepted_at=first if first and rng.random() < 0.7 else None,
                contributed_months=frozenset(
                    compute.month_key(day()) for _ in range(rng.randrange(3))
                ),
            )
        )
    interventions = []
    for i in range(12):
        start = day()
        interventions.append(
            InterventionFact(
                id=f"I{i}",
                fund_source="FNPS",
                user_area="anziani",
                fnps_level="x",
                comuni=(),
                period_start=start,
                period_end=start + timedelta(days=rng.randrange(120)),
                spent_cents=0,
                delivered_minutes=0,
                plan_ids=frozenset(rng.sample(plans, 3)),
            )
        )
    uses = []
    for _ in range(600):
        start = day()
        uses.append(
            ResourcePlanFact(
                rng.choice([f"R{i}" for i in range(40)]),
                rng.choice(plans),
                start,
                start + timedelta(days=rng.randrange(60)),
            )
        )
    inputs = Inputs(needs=needs, interventions=interventions, resource_plans=uses)
    index = NeedIndex(inputs)

    def italy(moment: datetime | None) -> date | None:
        return None if moment is None else moment.astimezone(ROME).date()

    def expected_coverage(period: Period) -> tuple[dict, dict, dict]:
        by_area: dict = {}
        by_comune: dict = {}
        total: dict = {}
        for need in needs:
            until = need.active_until or date.max
            if not (need.active_from <= period.end and until >= period.start):
                continue
            live = italy(need.live_accepted_at)
            community = (live is not None and live <= period.end) or bool(
                need.contributed_months & period.months()
            )
            public = any(
                need.plan_id in i.plan_ids
                and max(i.period_start, need.active_from, period.start)
                <= min(i.period_end, until, period.end)
                for i in interventions
            )
            label = {
                (True, True): "both",
                (True, False): "community_only",
                (False, True): "intervention_only",
                (False, False): "none",
            }[(community, public)]
            for groups, key in ((by_area, need.area), (by_comune, need.comune)):
                group = groups.setdefault(key or compute.UNKNOWN, {})
                group[label] = group.get(label, 0) + 1
            total[label] = total.get(label, 0) + 1
        return by_area, by_comune, total

    def counts(table: Table, key: str) -> dict:
        columns = ["community_only", "intervention_only", "both", "none"]
        return {
            row.key[key]: {c: row.data[c] for c in columns if row.data[c]} for row in table.rows
        }

    periods = [YEAR, Period("odd", date(2025, 2, 11), date(2025, 5, 3))]
    periods += [Period(k, s, e) for k, s, e in _quarters_and_months(2025)]
    for period in periods:
        by_area, by_comune, total = expected_coverage(period)
        area_table, comune_table = index.coverage(period)
        assert counts(area_table, "area") == by_area
        assert counts(comune_table, "comune") == by_comune
        assert area_table.total is not None
        assert {k: v for k, v in area_table.total.data.items() if k in total} == total
        assert area_table.total.data["needs"] == sum(total.values())

        running = {
            (u.resource_id, u.plan_id)
            for u in uses
            if u.start <= period.end and u.end >= period.start
        }
        plans_of: dict = {}
        for resource, plan in running:
            plans_of.setdefault(resource, set()).add(plan)
        recorded = [n for n in needs if period.start <= italy(n.created_at) <= period.end]
        matched = [
            n for n in recorded if n.first_accepted_at and italy(n.first_accepted_at) <= period.end
        ]
        use = index.use(period, MatchedHours()).rows[0].data
        assert (use["resources_used"], use["resources_used_in_2_plus_plans"]) == (
            len(plans_of),
            sum(1 for p in plans_of.values() if len(p) >= 2),
        )
        assert (use["needs_recorded"], use["needs_matched"]) == (len(recorded), len(matched))

        waits = sorted(
            (n.first_accepted_at - n.created_at).total_seconds() / 86400
            for n in needs
            if n.first_accepted_at and period.start <= italy(n.first_accepted_at) <= period.end
        )
        row = index.time_to_match(period).rows[0].data
        assert row["needs_matched"] == len(waits)
        if waits:
            assert row["median_days"] == round(statistics.median(waits), 2)


ROME = ZoneInfo("Europe/Rome")


def _quarters_and_months(year: int) -> list[tuple[str, date, date]]:
    out = []
    for q in range(4):
        first = date(year, 3 * q + 1, 1)
        out.append((f"{year}-Q{q + 1}", first, month_end(date(year, 3 * q + 3, 1))))
    for m in range(1, 13):
        out.append((f"{year}-{m:02d}", date(year, m, 1), month_end(date(year, m, 1))))
    return out
