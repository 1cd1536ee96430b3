"""Needs and resources in the figures of a period: need coverage (community, funded
interventions, both, none), use not consumption, time to match, freshness of the resources."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple

import numpy as np

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
    Period,
    ResourceState,
    _hours,
    _ratio,
    day_in_italy,
    median,
    offered_minutes,
    percentile,
)
from registry.metrics.suppression import Row, Table

# --- needs: coverage, use, time to match --------------------------------------------------


COVERAGE_COLUMNS = ["community_only", "intervention_only", "both", "none"]
# A need's coverage class as 2·(met by the community) + (covered by public money).
_CLASS_OF_CODE = ("none", "intervention_only", "community_only", "both")
# A day after every date: a time that never came (a need never matched).
_NEVER = date.max.toordinal() + 1


class NeedIndex:
    """The needs, the interventions serving their plans and the resources used for plans, as
    arrays built once for every period of a load: a year with its quarters and months is 17
    passes over thousands of needs and tens of thousands of uses, which as Python loops took
    most of a request's time after a need was recorded.

    Definitions (each period, from its first to its last day):
    - a need counts in a period when active on one of its days;
    - it is met by the community when a match still accepted was accepted by the period's end
      (its first acceptance), or verified entries for it fall in one of the period's months;
    - it is covered by public money when an intervention serving its plan runs on a day of
      both the need's active interval and the period."""

    def __init__(self, inputs: Inputs) -> None:
        needs = inputs.needs
        self.areas, area = _codes(n.area or UNKNOWN for n in needs)
        self.comuni, comune = _codes(n.comune or UNKNOWN for n in needs)
        self._area = np.array(area, dtype=np.intp)
        self._comune = np.array(comune, dtype=np.intp)
        self._from = _ordinals(n.active_from for n in needs)
        self._until = _ordinals(n.active_until or date.max for n in needs)
        self._live = np.array([_day_or_never(n.live_accepted_at) for n in needs], dtype=np.int64)
        self._created = _ordinals(day_in_italy(n.created_at) for n in needs)
        self._first = np.array([_day_or_never(n.first_accepted_at) for n in needs], dtype=np.int64)
        self._wait_days = np.array(
            [
                (n.first_accepted_at - n.created_at).total_seconds() / 86400
                if n.first_accepted_at is not None
                else 0.0
                for n in needs
            ],
            dtype=np.float64,
        )
        # Months with verified entries for each need: one column per month seen.
        months = sorted(set().union(*(n.contributed_months for n in needs)))
        self._month_column = {m: i for i, m in enumerate(months)}
        self._contributed = np.zeros((len(needs), len(months)), dtype=bool)
        for row, need in enumerate(needs):
            for month in need.contributed_months:
                self._contributed[row, self._month_column[month]] = True
        # Each (need, intervention serving its plan) pair.
        serving: dict[str, list[InterventionFact]] = defaultdict(list)
        for intervention in inputs.interventions:
            for plan in intervention.plan_ids:
                serving[plan].append(intervention)
        pairs = [
            (row, i.period_start, i.period_end)
            for row, need in enumerate(needs)
            for i in serving.get(need.plan_id, ())
        ]
        self._pair_need = np.array([p[0] for p in pairs], dtype=np.intp)
        self._pair_start = _ordinals(p[1] for p in pairs)
        self._pair_end = _ordinals(p[2] for p in pairs)
        # The resources used for plans: (resource, plan) codes and their interval.
        uses = inputs.resource_plans
        _, resource = _codes(u.resource_id for u in uses)
        plans, plan = _codes(u.plan_id for u in uses)
        self._use_pair = np.array(resource, dtype=np.int64) * max(len(plans), 1) + np.array(
            plan, dtype=np.int64
        )
        self._use_plans = max(len(plans), 1)
        self._use_start = _ordinals(u.start for u in uses)
        self._use_end = _ordinals(u.end for u in uses)
        self._offered = inputs.offered

    def coverage(self, period: Period) -> tuple[Table, Table]:
        """need_coverage (by area) and need_coverage_by_comune of the period."""
        first, last = period.start.toordinal(), period.end.toordinal()
        active = (self._from <= last) & (self._until >= first)
        community = self._live <= last
        columns = [self._month_column[m] for m in period.months() if m in self._month_column]
        if columns:
            community |= self._contributed[:, columns].any(axis=1)
        public = np.zeros(len(active), dtype=bool)
        if len(self._pair_need):
            need = self._pair_need
            runs = np.maximum(np.maximum(self._pair_start, self._from[need]), first) <= np.minimum(
                np.minimum(self._pair_end, self._until[need]), last
            )
            public[need[runs]] = True
        code = (community.astype(np.intp) * 2 + public)[active]
        total = _class_counts(np.bincount(code, minlength=4))
        return (
            _coverage_table(
                "need_coverage", "area", _grouped(self.areas, self._area[active], code), total
            ),
            _coverage_table(
                "need_coverage_by_comune",
                "comune",
                _grouped(self.comuni, self._comune[active], code),
                total,
            ),
        )

    def use(self, period: Period, matched: MatchedHours) -> Table:
        """Use, not consumption: hours given through matches (`matched`, the period's) over
        the hours offered, resources used for plans (in two or more), needs recorded in the
        period and those of them matched by its end."""
        first, last = period.start.toordinal(), period.end.toordinal()
        offered = sum(offered_minutes(r, period) for r in self._offered)
        running = (self._use_start <= last) & (self._use_end >= first)
        pairs = np.unique(self._use_pair[running])
        _, plans_per_resource = np.unique(pairs // self._use_plans, return_counts=True)
        recorded = (self._created >= first) & (self._created <= last)
        matched_needs = recorded & (self._first <= last)
        return _use_table(
            _use_row(
                matched,
                offered,
                used=len(plans_per_resource),
                reused=int((plans_per_resource >= 2).sum()),
                recorded=int(recorded.sum()),
                needs_matched=int(matched_needs.sum()),
            )
        )

    def time_to_match(self, period: Period) -> Table:
        """Days from recording to first acceptance of the needs first accepted in the period."""
        first, last = period.start.toordinal(), period.end.toordinal()
        chosen = (self._first >= first) & (self._first <= last)
        return _time_to_match_table(self._wait_days[chosen].tolist())


def _codes(values: Iterable[str]) -> tuple[list[str], list[int]]:
    """The distinct values (in order of first appearance) and each value's position."""
    seen: dict[str, int] = {}
    codes = [seen.setdefault(v, len(seen)) for v in values]
    return list(seen), codes


def _ordinals(days: Iterable[date]) -> np.ndarray:
    return np.array([d.toordinal() for d in days], dtype=np.int64)


def _day_or_never(moment: datetime | None) -> int:
    return _NEVER if moment is None else day_in_italy(moment).toordinal()


def _class_counts(counts: np.ndarray) -> dict[str, int]:
    return {_CLASS_OF_CODE[c]: int(counts[c]) for c in range(4) if counts[c]}


def _grouped(names: list[str], group: np.ndarray, code: np.ndarray) -> dict[str, dict[str, int]]:
    """Coverage class counts by group, for the groups with a need in the period."""
    counts = np.bincount(group * 4 + code, minlength=len(names) * 4).reshape(-1, 4)
    return {names[g]: _class_counts(counts[g]) for g in range(len(names)) if counts[g].any()}


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


def _use_row(
    matched: MatchedHours,
    offered: int,
    *,
    used: int,
    reused: int,
    recorded: int,
    needs_matched: int,
) -> dict[str, object]:
    matched_minutes, matched_entries, other_minutes, other_entries = matched
    return {
        "matched_entries": matched_entries,
        "matched_hours": _hours(matched_minutes),
        "matched_entries_other_units": other_entries,
        "matched_hours_other_units": _hours(other_minutes),
        "offered_hours": _hours(offered),
        "matched_over_offered": _ratio(matched_minutes, offered),
        "resources_used": used,
        "resources_used_in_2_plus_plans": reused,
        "share_resources_reused": _ratio(reused, used),
        "needs_recorded": recorded,
        "needs_matched": needs_matched,
        "share_needs_matched": _ratio(needs_matched, recorded),
    }


def _use_table(row: dict[str, object]) -> Table:
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


def _time_to_match_table(days: Sequence[float]) -> Table:
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
