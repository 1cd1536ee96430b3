"""Needs and resources in the figures of a period: need coverage (community, funded
interventions, both, none), use not consumption, time to match, freshness of the resources."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple

from registry import italian
from registry.metrics.compute import (
    _TITLES,
    FRESH_DAYS,
    TIME_UNIT,
    UNKNOWN,
    Figures,
    HoursFact,
    Inputs,
    InterventionFact,
    NeedFact,
    Period,
    ResourceState,
    _hours,
    _ratio,
    community_met,
    day_in_italy,
    median,
    offered_minutes,
    percentile,
)
from registry.metrics.suppression import Row, Table

# --- needs: coverage, use, time to match --------------------------------------------------


def need_in_period(need: NeedFact, period: Period) -> bool:
    until = need.active_until or date.max
    return need.active_from <= period.end and until >= period.start


def intervention_covers(
    need: NeedFact, interventions: Iterable[InterventionFact], period: Period
) -> bool:
    """A need is covered by public money when an intervention serving its plan runs during
    both the need's active interval and the period."""
    need_end = need.active_until or date.max
    for intervention in interventions:
        if need.plan_id not in intervention.plan_ids:
            continue  # (callers pass only the interventions of the need's plan when many)
        start = max(intervention.period_start, need.active_from, period.start)
        end = min(intervention.period_end, need_end, period.end)
        if start <= end:
            return True
    return False


COVERAGE_COLUMNS = ["community_only", "intervention_only", "both", "none"]


def coverage_class(
    need: NeedFact,
    interventions: Sequence[InterventionFact],
    period: Period,
    months: set[str] | None = None,
) -> str:
    community = community_met(need, period, months)
    public = intervention_covers(need, interventions, period)
    if community and public:
        return "both"
    if community:
        return "community_only"
    if public:
        return "intervention_only"
    return "none"


def _coverage_table(
    name: str, key: str, groups: Mapping[str, Mapping[str, int]], total: Mapping[str, int]
) -> Table:
    def data(counts: Mapping[str, int]) -> dict[str, object]:
        needs = sum(counts.get(c, 0) for c in COVERAGE_COLUMNS)
        row: dict[str, object] = {"needs": needs}
        for column in COVERAGE_COLUMNS:
            row[column] = counts.get(column, 0)
        for column in COVERAGE_COLUMNS:
            row[f"share_{column}"] = _ratio(counts.get(column, 0), needs)
        return row

    table = Table(
        name=name,
        title=_TITLES[name],
        keys=[key],
        counts=["needs", *COVERAGE_COLUMNS],
        values=[],
        rows=[Row({key: k}, data(v)) for k, v in sorted(groups.items())],
        total=Row({}, data(total)),
        row_sums=[("needs", list(COVERAGE_COLUMNS))],
        derived={f"share_{c}": [c, "needs"] for c in COVERAGE_COLUMNS},
    )
    return table


def _coverage_tables(inputs: Inputs, period: Period) -> tuple[Table, Table]:
    by_area: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_comune: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, int] = defaultdict(int)
    months = period.months()
    serving: dict[str, list[InterventionFact]] = defaultdict(list)
    for intervention in inputs.interventions:
        for plan in intervention.plan_ids:
            serving[plan].append(intervention)
    for need in inputs.needs:
        if not need_in_period(need, period):
            continue
        label = coverage_class(need, serving.get(need.plan_id, []), period, months)
        by_area[need.area or UNKNOWN][label] += 1
        by_comune[need.comune or UNKNOWN][label] += 1
        total[label] += 1
    return (
        _coverage_table("need_coverage", "area", by_area, total),
        _coverage_table("need_coverage_by_comune", "comune", by_comune, total),
    )


class MatchedHours(NamedTuple):
    """The verified hours given through matches: on resources measured in hours, and on the
    others (places, trips, room-hours), apart. Sums of whole minutes: the same in any order,
    so a period's are its months' added up."""

    minutes: int = 0
    entries: int = 0
    other_minutes: int = 0
    other_entries: int = 0

    def __add__(self, other: tuple[int, ...]) -> MatchedHours:  # type: ignore[override]
        return MatchedHours(*(a + b for a, b in zip(self, other, strict=True)))


def matched_hours(hours: Iterable[HoursFact]) -> MatchedHours:
    # Like with like: offered hours come from resources measured in hours, so only the
    # matched hours on those resources are compared with them; hours logged on resources
    # measured in places, trips or room-hours are shown apart, never added in.
    minutes = entries = other_minutes = other_entries = 0
    for f in hours:
        if not (f.verified and f.via_match):
            continue
        if f.resource_unit == TIME_UNIT:
            minutes += f.minutes
            entries += f.entries
        else:
            other_minutes += f.minutes
            other_entries += f.entries
    return MatchedHours(minutes, entries, other_minutes, other_entries)


def _use_table(inputs: Inputs, period: Period, matched: MatchedHours) -> Table:
    matched_minutes, matched_entries, other_minutes, other_entries = matched
    offered = sum(offered_minutes(r, period) for r in inputs.offered)
    plans_of: dict[str, set[str]] = defaultdict(set)
    for use in inputs.resource_plans:
        if use.start <= period.end and use.end >= period.start:
            plans_of[use.resource_id].add(use.plan_id)
    used = len(plans_of)
    reused = sum(1 for plans in plans_of.values() if len(plans) >= 2)
    recorded = [n for n in inputs.needs if period.start <= day_in_italy(n.created_at) <= period.end]
    horizon = period.end
    needs_matched = [
        n
        for n in recorded
        if n.first_accepted_at is not None and day_in_italy(n.first_accepted_at) <= horizon
    ]
    row = {
        "matched_entries": matched_entries,
        "matched_hours": _hours(matched_minutes),
        "matched_entries_other_units": other_entries,
        "matched_hours_other_units": _hours(other_minutes),
        "offered_hours": _hours(offered),
        "matched_over_offered": _ratio(matched_minutes, offered),
        "resources_used": used,
        "resources_used_in_2_plus_plans": reused,
        "share_resources_reused": _ratio(reused, used),
        "needs_recorded": len(recorded),
        "needs_matched": len(needs_matched),
        "share_needs_matched": _ratio(len(needs_matched), len(recorded)),
    }
    return Table(
        name="use",
        title=_TITLES["use"],
        keys=[],
        counts=[
            "matched_entries",
            "matched_entries_other_units",
            "resources_used",
            "resources_used_in_2_plus_plans",
            "needs_recorded",
            "needs_matched",
        ],
        values=["matched_hours", "offered_hours", "matched_hours_other_units"],
        rows=[Row({}, row)],
        guards={
            "matched_hours": ["matched_entries"],
            "offered_hours": [],
            "matched_hours_other_units": ["matched_entries_other_units"],
        },
        derived={
            "matched_over_offered": ["matched_hours", "offered_hours"],
            "share_resources_reused": ["resources_used", "resources_used_in_2_plus_plans"],
            "share_needs_matched": ["needs_recorded", "needs_matched"],
        },
        notes=[
            "matched_over_offered confronta grandezze omogenee: ore abbinate su risorse misurate "
            "in ore / ore offerte dalle loro disponibilità; le ore registrate su risorse misurate "
            "in posti, viaggi o ore-sala sono indicate a parte e non entrano nel rapporto"
        ],
    )


def _time_to_match_table(inputs: Inputs, period: Period) -> Table:
    days = [
        (n.first_accepted_at - n.created_at).total_seconds() / 86400
        for n in inputs.needs
        if n.first_accepted_at is not None
        and period.start <= day_in_italy(n.first_accepted_at) <= period.end
    ]
    middle, p90 = median(days), percentile(days, 90)
    return Table(
        name="time_to_match",
        title=_TITLES["time_to_match"],
        keys=[],
        counts=["needs_matched"],
        values=["median_days", "p90_days"],
        rows=[
            Row(
                {},
                {
                    "needs_matched": len(days),
                    "median_days": round(middle, 2) if middle is not None else None,
                    "p90_days": round(p90, 2) if p90 is not None else None,
                },
            )
        ],
        notes=[
            "dalla registrazione del bisogno alla prima accettazione di un abbinamento; "
            "p90 per rango (nearest rank)"
        ],
    )


def with_clock(fig: Figures, resources: Sequence[ResourceState], now: datetime) -> Figures:
    """A period's figures as of another moment: only the freshness table and `as_of` read
    the clock (the rest depends on the data alone), so unchanged months are not recomputed."""
    tables = dict(fig.tables)
    tables["freshness"] = _freshness_table(Inputs(resources=list(resources)), now)
    return Figures(period=fig.period, as_of=now, tables=tables, money=fig.money, notes=fig.notes)


def _freshness_table(inputs: Inputs, now: datetime) -> Table:
    current = [r for r in inputs.resources if r.status not in ("archived", "expired")]
    since = now - timedelta(days=FRESH_DAYS)
    fresh = [r for r in current if r.confirmed_at is not None and r.confirmed_at >= since]
    return Table(
        name="freshness",
        title=_TITLES["freshness"],
        keys=[],
        counts=["resources", "confirmed_last_90_days"],
        values=[],
        rows=[
            Row(
                {},
                {
                    "resources": len(current),
                    "confirmed_last_90_days": len(fresh),
                    "share_confirmed": _ratio(len(fresh), len(current)),
                    "as_of": italian.today(now).isoformat(),
                },
            )
        ],
        derived={"share_confirmed": ["resources", "confirmed_last_90_days"]},
        info=["as_of"],
        notes=["stato attuale delle conferme (la storia delle conferme non è conservata)"],
    )
