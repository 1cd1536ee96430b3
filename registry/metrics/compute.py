"""The metric catalogue of the Ufficio di Piano (DESIGN.md "Metrics"), computed from plain data.

Pure: dataclasses in, tables out; no database, no HTTP. The loaders (service.py) read the
ledger, plans, matches, resources, interventions and interactions with aggregate SQL and
hand the aggregates here; the rules live here, where the tests can see them:

- only verified entries count (QR-verified, or confirmed by the social worker or holder),
  unless a figure says otherwise (the self-reported hours are shown apart, never summed in);
- hours already paid by a funded intervention are not volunteer hours (`allocate_paid`);
- one person active in two associations is one person (`person_of_individual`);
- every euro figure carries its method, rate(s) and rate year(s) (`MoneyInfo`);
- public spending is attributed to a period by days of overlap, to a comune by equal
  shares of the intervention's comuni;
- the published tables go through suppression.py before they leave the module.

This module holds the periods, the facts and those rules; catalogue.py makes the tables of a
period from them (coverage.py those of needs and resources) and the time series.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

import msgspec

from registry import italian
from registry.metrics.rates import Rate
from registry.metrics.suppression import Table
from registry.resources.availability import Window, occurrences

FTE_HOURS = 1824  # 38 h x 48 weeks: the CNEL-ISTAT convention for one full-time equivalent
FRESH_DAYS = 90
IN_KIND_UNITS = frozenset({"room_hours", "items", "meals", "trips"})
TIME_UNIT = "hours"
INDIVIDUAL = "individual_volunteer"
UNKNOWN = "non indicato"
AMBITO_WIDE = "tutto l'ambito"
LIVE_MATCH = frozenset({"accepted", "active", "completed"})

METHOD_REPLACEMENT = (
    "costo di sostituzione: ore verificate non pagate da interventi finanziati x tariffa "
    "oraria del livello di mansione equivalente (ILO Manual on the Measurement of Volunteer "
    "Work; art. 17 CTS e DM 107/2021, costi figurativi)"
)
METHOD_IN_KIND = (
    "valore normale dichiarato di beni e spazi (voci verificate), tenuto distinto dal tempo"
)
METHOD_PUBLIC = (
    "spesa pubblica degli interventi finanziati (euro spesi), attribuita al periodo per giorni "
    "di sovrapposizione e al comune in quote uguali tra i comuni dell'intervento"
)
METHOD_COMMUNITY = "valore di sostituzione del tempo + valore dichiarato in natura"


# --- periods -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    key: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> set[str]:
        keys, cursor = set(), self.start.replace(day=1)
        while cursor <= self.end:
            keys.add(month_key(cursor))
            cursor = _next_month(cursor)
        return keys


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def bucket_key(day: date, granularity: str) -> str:
    if granularity == "month":
        return month_key(day)
    if granularity == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


def buckets(start: date, end: date, granularity: str) -> list[Period]:
    """Calendar months / quarters / years covering [start, end], clipped to it."""
    step = {"month": 1, "quarter": 3, "year": 12}[granularity]
    out: list[Period] = []
    first_month = ((start.month - 1) // step) * step + 1
    cursor = date(start.year, first_month, 1)
    while cursor <= end:
        month = cursor.month - 1 + step
        following = date(cursor.year + month // 12, month % 12 + 1, 1)
        out.append(
            Period(
                bucket_key(cursor, granularity),
                max(cursor, start),
                min(following - timedelta(days=1), end),
            )
        )
        cursor = following
    return out


def overlap_days(a_start: date, a_end: date, b_start: date, b_end: date) -> int:
    return max(0, (min(a_end, b_end) - max(a_start, b_start)).days + 1)


# --- inputs (what the loaders hand over) ---------------------------------------------------
# The facts counted in tens of thousands are msgspec Structs: built and decoded in C (a month's
# stored facts decode straight into them), packed as arrays, and left out of the cyclic
# garbage collector (gc=False: they hold only atoms, dates and frozensets).


class HoursFact(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """Effective ledger entries in hours, summed by month and dimensions.

    `plan_id` and `day` are set only for entries given to a plan that some funded
    intervention serves: the paid-hours rule needs them, nothing else does.
    """

    month: str
    holder_kind: str
    sector: str
    comune: str | None
    area: str | None
    category: str | None
    verified: bool
    via_match: bool
    minutes: int
    entries: int
    plan_id: str | None = None
    day: date | None = None
    # Unit of the matched resource (set for matched entries only).
    resource_unit: str | None = None


class QuantityFact(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """Effective ledger entries in other units (room-hours in minutes, items, meals...)."""

    month: str
    holder_kind: str
    sector: str
    comune: str | None
    area: str | None
    unit: str
    verified: bool
    quantity: int
    value_cents: int
    valued_entries: int
    entries: int


class PresencePlace(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """Who was active in one month at one place of every table's keys (holder kind, sector,
    comune, area), verified entries only: the distinct holders, the volunteer users, and the
    individual-volunteer holders that acted without a volunteer user (their person is read
    from `Inputs.person_of_holder`). A period's persons and holders per cell are unions of
    these sets: a year is a few thousand places, not hundreds of thousands of facts."""

    month: str
    holder_kind: str
    sector: str
    comune: str | None
    area: str | None
    holders: list[str]
    volunteers: list[str]
    individuals: list[str]


@dataclass(frozen=True, slots=True)
class InterventionFact:
    id: str
    fund_source: str
    user_area: str
    fnps_level: str
    comuni: tuple[str, ...]
    period_start: date
    period_end: date
    spent_cents: int
    delivered_minutes: int
    plan_ids: frozenset[str] = frozenset()


class NeedFact(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A plan need and what happened to it.

    `first_accepted_at`: the first acceptance of any match of the need (time to match);
    `live_accepted_at`: the first acceptance of a match still accepted, active or completed;
    `contributed_months`: months ("YYYY-MM") with verified ledger entries for the need.
    """

    id: str
    plan_id: str
    comune: str | None
    area: str | None
    category: str
    created_at: datetime
    active_from: date
    active_until: date | None
    first_accepted_at: datetime | None
    live_accepted_at: datetime | None = None
    contributed_months: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=1 << 16)
def day_in_italy(moment: datetime) -> date:
    """italian.today(moment), remembered: each period of a request asks it again of the same
    needs' times (a year with its months and quarters: a quarter of a million times)."""
    return italian.today(moment)


class ResourcePlanFact(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A resource used for a plan from `start` to `end` (a live match running then, or
    verified entries in that month)."""

    resource_id: str
    plan_id: str
    start: date = date.min
    end: date = date.max


@dataclass(frozen=True, slots=True)
class OfferedResource:
    resource_id: str
    windows: tuple[Window, ...]
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class ResourceState:
    resource_id: str
    status: str
    confirmed_at: datetime | None


@dataclass(slots=True)
class Inputs:
    hours: list[HoursFact] = field(default_factory=list)
    quantities: list[QuantityFact] = field(default_factory=list)
    presence: list[PresencePlace] = field(default_factory=list)
    interventions: list[InterventionFact] = field(default_factory=list)
    needs: list[NeedFact] = field(default_factory=list)
    resource_plans: list[ResourcePlanFact] = field(default_factory=list)
    offered: list[OfferedResource] = field(default_factory=list)
    resources: list[ResourceState] = field(default_factory=list)
    # individual-volunteer holder id -> the volunteer user who is that same person
    person_of_holder: dict[str, str] = field(default_factory=dict)
    rates: list[Rate] = field(default_factory=list)
    category_levels: dict[str, str] = field(default_factory=dict)
    # The comune the figures are filtered on, if any (public spending is shared by comune).
    comune: str | None = None


# --- outputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateUse:
    task_level: str
    year: int
    eur_per_hour: float
    source: str
    is_default: bool
    hours: float


@dataclass(slots=True)
class MoneyInfo:
    """How a euro figure was computed: shown next to every euro figure."""

    method: str
    rates: list[RateUse] = field(default_factory=list)

    @property
    def rate_eur_per_hour(self) -> float | None:
        hours = sum(r.hours for r in self.rates)
        if not self.rates or hours <= 0:
            return None
        return round(sum(r.eur_per_hour * r.hours for r in self.rates) / hours, 2)

    @property
    def rate_years(self) -> list[int]:
        return sorted({r.year for r in self.rates})

    @property
    def uses_defaults(self) -> bool:
        return any(r.is_default for r in self.rates)


@dataclass(slots=True)
class Figures:
    """Every metric of one period, before suppression (what a snapshot stores)."""

    period: Period
    as_of: datetime
    tables: dict[str, Table]
    money: dict[str, MoneyInfo]
    notes: list[str] = field(default_factory=list)


# --- the rules -----------------------------------------------------------------------------


def person_of_individual(holder_id: str, person_of_holder: Mapping[str, str]) -> str:
    """The natural person behind an individual-volunteer holder that acted on its own.

    A volunteer user is a person wherever they give time (counted by their user id); an
    individual-volunteer holder is the same person as the volunteer user linked to it, so
    giving time through their own holder and through an association still counts once. An
    organisation's own entries (no volunteer user) are no person.
    """
    return person_of_holder.get(holder_id) or f"holder:{holder_id}"


def prorated_cap(intervention: InterventionFact, period: Period) -> float:
    days = (intervention.period_end - intervention.period_start).days + 1
    share = overlap_days(
        intervention.period_start, intervention.period_end, period.start, period.end
    )
    return intervention.delivered_minutes * share / days if days > 0 else 0.0


class PayableFact(Protocol):
    """What the paid-hours rule reads of a ledger fact (HoursFact here, the outcomes'
    LedgerFact): minutes given to a plan on a day, verified or not."""

    @property
    def plan_id(self) -> str | None: ...
    @property
    def day(self) -> date | None: ...
    @property
    def minutes(self) -> int: ...
    @property
    def verified(self) -> bool: ...


def allocate_paid(
    hours: Sequence[PayableFact], interventions: Iterable[InterventionFact], period: Period
) -> list[float]:
    """Minutes of each fact already paid by a funded intervention.

    An intervention that serves a plan (its `plan_ids`) and reports delivered hours paid for
    up to those hours (spread evenly over its own period, so a month gets its share) of the
    verified hours given to its plans inside its period. Those hours are taken out of the
    volunteer figures, proportionally across the eligible entries; interventions are applied
    in order of start date, each on what the previous ones left.
    """
    paid = [0.0] * len(hours)
    remaining = [float(f.minutes) if f.verified and f.plan_id and f.day else 0.0 for f in hours]
    # Only facts of a served plan can ever be paid: they are indexed by plan, so that each
    # intervention looks at its own plans' facts, in the order of the facts.
    by_plan: dict[str, list[int]] = defaultdict(list)
    for index, fact in enumerate(hours):
        if remaining[index] > 0:
            by_plan[fact.plan_id].append(index)  # type: ignore[index]
    ordered = sorted(interventions, key=lambda i: (i.period_start, i.id))
    for intervention in ordered:
        cap = prorated_cap(intervention, period)
        if cap <= 0 or not intervention.plan_ids:
            continue
        eligible = sorted(
            index
            for plan_id in intervention.plan_ids
            for index in by_plan.get(plan_id, ())
            if remaining[index] > 0
            and intervention.period_start <= hours[index].day <= intervention.period_end  # type: ignore[operator]
        )
        pool = sum(remaining[i] for i in eligible)
        if pool <= 0:
            continue
        fraction = min(cap, pool) / pool
        for index in eligible:
            taken = remaining[index] * fraction
            paid[index] += taken
            remaining[index] -= taken
    return paid


def public_cents(
    intervention: InterventionFact, period: Period, comune: str | None = None
) -> float:
    """Euro cents of an intervention attributed to a period (and to one comune)."""
    days = (intervention.period_end - intervention.period_start).days + 1
    if days <= 0:
        return 0.0
    share = overlap_days(
        intervention.period_start, intervention.period_end, period.start, period.end
    )
    amount = intervention.spent_cents * share / days
    if comune is not None:
        # Ambito-wide interventions (no comuni listed) are not attributed to any one comune.
        if comune not in intervention.comuni:
            return 0.0
        amount /= len(intervention.comuni)
    return amount


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least q% of values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def offered_minutes(resource: OfferedResource, period: Period) -> int:
    """Minutes a resource's availability windows offer in the period (x window capacity)."""
    return _offered_minutes(resource, period.start, period.end)


# The same resources and periods come back with every summary of an ambito, and expanding
# their windows' recurrences took a tenth of a summary's work in the worker processes.
@functools.lru_cache(maxsize=65_536)
def _offered_minutes(resource: OfferedResource, first: date, last: date) -> int:
    start = max(first, resource.valid_from or first)
    end = min(last, resource.valid_until or last)
    total = 0
    while start <= end:
        # occurrences() expands at most a year at a time.
        chunk_end = min(end, start + timedelta(days=365))
        for window in resource.windows:
            length = (
                window.end_time.hour * 60
                + window.end_time.minute
                - window.start_time.hour * 60
                - window.start_time.minute
            )
            total += len(occurrences(window, start, chunk_end)) * max(0, length) * window.capacity
        start = chunk_end + timedelta(days=1)
    return total


def _eur(cents: float) -> float:
    return round(cents / 100, 2)


def _hours(minutes: float) -> float:
    return round(minutes / 60, 2)


def _ratio(numerator: float | None, denominator: float | None, digits: int = 4) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


# The titles of the tables of a period (catalogue.py and coverage.py).
_TITLES = {
    "totals": "Indicatori principali",
    "by_sector": "Contributi per settore dei detentori",
    "by_kind": "Contributi per tipo di detentore",
    "by_comune": "Contributi e leva per comune",
    "by_area": "Contributi e leva per area di utenza",
    "by_holder_kind": "Contributi per tipo di detentore (solo tipo)",
    "by_task_level": "Ore e valore di sostituzione per livello di mansione",
    "by_unit": "Contributi in natura per unità",
    "public_by_fund_source": "Spesa pubblica per fonte di finanziamento",
    "need_coverage": "Copertura dei bisogni per area di utenza",
    "need_coverage_by_comune": "Copertura dei bisogni per comune",
    "use": "Uso, non consumo",
    "time_to_match": "Tempo di abbinamento (giorni)",
    "freshness": "Aggiornamento delle risorse",
}
