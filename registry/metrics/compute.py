"""The metric catalogue of the Ufficio di Piano (DESIGN.md "Metrics"), computed from plain data.

Pure: dataclasses in, tables out; no database, no HTTP. The loaders (service.py) read the
ledger, plans, matches, resources, interventions and interactions with aggregate SQL and
hand the aggregates here; the rules live here, where the tests can see them:

- only verified entries count (QR-verified, or confirmed by the social worker or holder),
  unless a figure says otherwise (the self-reported hours are shown apart, never summed in);
- hours already paid by a funded intervention are not volunteer hours (`allocate_paid`);
- one person active in two associations is one person (`person_key`);
- every euro figure carries its method, rate(s) and rate year(s) (`MoneyInfo`);
- public spending is attributed to a period by days of overlap, to a comune by equal
  shares of the intervention's comuni;
- the published tables go through suppression.py before they leave the module.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

import msgspec

from registry.metrics.rates import Rate, level_of, pick_rate
from registry.metrics.suppression import Row, Table
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


@dataclass(frozen=True, slots=True)
class HoursFact:
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


@dataclass(frozen=True, slots=True)
class QuantityFact:
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


@dataclass(frozen=True, slots=True)
class PresenceFact:
    """Who was active: one row per distinct (month, holder, volunteer, comune, area)."""

    month: str
    holder_id: str
    holder_kind: str
    sector: str
    comune: str | None
    area: str | None
    volunteer_id: str | None
    verified: bool


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


@dataclass(frozen=True, slots=True)
class NeedFact:
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


def community_met(need: NeedFact, period: Period, months: set[str] | None = None) -> bool:
    """Met by the community in the period: a match accepted by the period's end and not
    declined or withdrawn since, or verified entries for the need within the period."""
    if need.live_accepted_at is not None and need.live_accepted_at.date() <= period.end:
        return True
    return bool(need.contributed_months) and bool(
        need.contributed_months & (months if months is not None else period.months())
    )


@dataclass(frozen=True, slots=True)
class ResourcePlanFact:
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
    presence: list[PresenceFact] = field(default_factory=list)
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


def person_key(fact: PresenceFact, person_of_holder: Mapping[str, str]) -> str | None:
    """The natural person behind an active row, or None when only an organisation acted.

    A volunteer user is a person wherever they give time; an individual-volunteer holder is
    the same person as the volunteer user linked to it, so giving time through their own
    holder and through an association still counts once.
    """
    if fact.volunteer_id:
        return f"user:{fact.volunteer_id}"
    if fact.holder_kind == INDIVIDUAL:
        linked = person_of_holder.get(fact.holder_id)
        return f"user:{linked}" if linked else f"holder:{fact.holder_id}"
    return None


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
    start = max(period.start, resource.valid_from or period.start)
    end = min(period.end, resource.valid_until or period.end)
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


# --- slicing a long history into periods (the snapshot job) --------------------------------


_F = TypeVar("_F")


@dataclass(slots=True)
class MonthIndex:
    """Positions of the facts of each month: a period takes its months' facts without
    scanning the whole history, in the history's order (float sums stay the same)."""

    hours: dict[str, list[int]]
    quantities: dict[str, list[int]]
    presence: dict[str, list[int]]


def month_index(inputs: Inputs) -> MonthIndex:
    index = MonthIndex(defaultdict(list), defaultdict(list), defaultdict(list))
    for position, fact in enumerate(inputs.hours):
        index.hours[fact.month].append(position)
    for position, fact in enumerate(inputs.quantities):
        index.quantities[fact.month].append(position)
    for position, presence in enumerate(inputs.presence):
        index.presence[presence.month].append(position)
    return index


def _pick(facts: Sequence[_F], positions: dict[str, list[int]], months: list[str]) -> list[_F]:
    chosen = [p for m in months for p in positions.get(m, ())]
    if len(months) > 1:
        chosen.sort()  # sorted runs, one per month: a merge
    return [facts[p] for p in chosen]


def slice_inputs(inputs: Inputs, index: MonthIndex, period: Period) -> Inputs:
    """The part of a month-grouped history that one period needs: the same facts a query
    for that period alone would have returned."""
    months = sorted(period.months())
    return Inputs(
        hours=_pick(inputs.hours, index.hours, months),
        quantities=_pick(inputs.quantities, index.quantities, months),
        presence=_pick(inputs.presence, index.presence, months),
        interventions=[
            i
            for i in inputs.interventions
            if i.period_start <= period.end and i.period_end >= period.start
        ],
        needs=inputs.needs,
        resource_plans=inputs.resource_plans,
        offered=inputs.offered,
        resources=inputs.resources,
        person_of_holder=inputs.person_of_holder,
        rates=inputs.rates,
        category_levels=inputs.category_levels,
        comune=inputs.comune,
    )


def figures_by_period(inputs: Inputs, periods: Sequence[Period], now: datetime) -> list[Figures]:
    """The figures of several periods from one month-grouped load covering them all: each
    period reads only its months' facts (the same figures as `figures(inputs, period)`)."""
    index = month_index(inputs)
    return [figures(slice_inputs(inputs, index, p), p, now) for p in periods]


def packed_figures_by_period(
    packed: bytes, periods: Sequence[Period], now: datetime
) -> list[Figures]:
    """figures_by_period of inputs packed with msgspec (pack_inputs), for a worker process:
    tens of thousands of facts cross in a fraction of the time pickle takes (it handles
    slotted dataclasses one attribute at a time: seconds for a year of a large ledger)."""
    return figures_by_period(msgspec.msgpack.decode(packed, type=Inputs), periods, now)


def pack_inputs(inputs: Inputs) -> bytes:
    return msgspec.msgpack.encode(inputs)


# --- one period ----------------------------------------------------------------------------


def _in(month: str, months: set[str] | None) -> bool:
    return months is None or month in months


@dataclass(slots=True)
class _Cell:
    persons: set[str] = field(default_factory=set)
    holders: set[str] = field(default_factory=set)
    entries: int = 0
    verified_minutes: float = 0.0
    paid_minutes: float = 0.0
    replacement_cents: float = 0.0
    in_kind_cents: float = 0.0
    public_cents: float = 0.0

    @property
    def community_minutes(self) -> float:
        return self.verified_minutes - self.paid_minutes

    @property
    def community_cents(self) -> float:
        return self.replacement_cents + self.in_kind_cents


_DIMENSIONS: dict[str, tuple[list[str], Callable[..., tuple[str, ...]]]] = {
    "by_sector": (["sector"], lambda f: (f.sector,)),
    "by_kind": (["sector", "holder_kind"], lambda f: (f.sector, f.holder_kind)),
    "by_comune": (["comune"], lambda f: (f.comune or UNKNOWN,)),
    "by_area": (["area"], lambda f: (f.area or UNKNOWN,)),
    # Not published on its own: the reference of the holder_kind filter (publication.py).
    "by_holder_kind": (["holder_kind"], lambda f: (f.holder_kind,)),
}

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

_VALUE_COLUMNS = [
    "hours_verified",
    "hours_paid_by_interventions",
    "hours_community",
    "fte",
    "replacement_value_eur",
    "in_kind_value_eur",
    "community_value_eur",
]
_COUNT_COLUMNS = ["persons", "holders", "entries"]


def figures(inputs: Inputs, period: Period, now: datetime) -> Figures:
    """Every metric of the catalogue for one period (facts outside its months are ignored)."""
    months = period.months()
    hours = [f for f in inputs.hours if _in(f.month, months)]
    quantities = [f for f in inputs.quantities if _in(f.month, months)]
    presence = [f for f in inputs.presence if not f.month or _in(f.month, months)]
    paid = allocate_paid(hours, inputs.interventions, period)

    cells: dict[str, dict[tuple[str, ...], _Cell]] = {
        name: defaultdict(_Cell) for name in ("totals", *_DIMENSIONS, "by_task_level")
    }
    rate_hours: dict[tuple[str, int], list] = {}
    level_rates: dict[str, dict[tuple[str, int], list]] = defaultdict(dict)
    unverified_minutes = 0.0
    unverified_entries = 0

    def each_cell(fact: object) -> Iterable[_Cell]:
        yield cells["totals"][()]
        for name, (_, dim) in _DIMENSIONS.items():
            yield cells[name][dim(fact)]

    # The level and rate of each (category, year), looked up once: facts number in the
    # tens of thousands, categories and years in the tens.
    chosen: dict[tuple[str | None, str], tuple[str, Rate | None]] = {}
    for fact, paid_minutes in zip(hours, paid, strict=True):
        if not fact.verified:
            unverified_minutes += fact.minutes
            unverified_entries += fact.entries
            continue
        found = chosen.get((fact.category, fact.month[:4]))
        if found is None:
            level = level_of(fact.category, inputs.category_levels)
            found = (level, pick_rate(inputs.rates, level, int(fact.month[:4])))
            chosen[(fact.category, fact.month[:4])] = found
        level, rate = found
        community = fact.minutes - paid_minutes
        cents = community / 60 * rate.cents_per_hour if rate else 0.0
        targets = [*each_cell(fact), cells["by_task_level"][(level,)]]
        for cell in targets:
            cell.entries += fact.entries
            cell.verified_minutes += fact.minutes
            cell.paid_minutes += paid_minutes
            cell.replacement_cents += cents
        if rate is not None:
            slot = rate_hours.setdefault((rate.task_level, rate.year), [rate, 0.0])
            slot[1] += community / 60
            level_slot = level_rates[level].setdefault((rate.task_level, rate.year), [rate, 0.0])
            level_slot[1] += community / 60

    by_unit: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])
    for fact in quantities:
        if not fact.verified:
            continue
        in_kind = fact.value_cents if fact.unit in IN_KIND_UNITS else 0
        for cell in each_cell(fact):
            cell.entries += fact.entries
            cell.in_kind_cents += in_kind
        slot = by_unit[fact.unit]
        slot[0] += fact.entries
        slot[1] += fact.quantity
        slot[2] += in_kind
        slot[3] += fact.valued_entries

    # The largest loop (one fact per person, holder and month): holders and persons are
    # first gathered by the four columns every dimension is keyed on, then each group's
    # sets are merged into its cells (set unions, not a dozen lookups per fact).
    totals_cell = cells["totals"][()]
    dimensions = [(cells[name], dim) for name, (_, dim) in _DIMENSIONS.items()]
    groups: dict[tuple[str, str, str | None, str | None], tuple[PresenceFact, set, set]] = {}
    for fact in presence:
        if not fact.verified:
            continue
        key = (fact.sector, fact.holder_kind, fact.comune, fact.area)
        group = groups.get(key)
        if group is None:
            group = groups[key] = (fact, set(), set())
        group[1].add(fact.holder_id)
        person = person_key(fact, inputs.person_of_holder)
        if person:
            group[2].add(person)
    for fact, holders, persons in groups.values():
        for cell in [totals_cell, *(table[dim(fact)] for table, dim in dimensions)]:
            cell.holders |= holders
            cell.persons |= persons

    # Public spending: the whole ambito (or the filtered comune), by area and by comune.
    public_by_source: dict[str, float] = defaultdict(float)
    for intervention in inputs.interventions:
        amount = public_cents(intervention, period, inputs.comune)
        if amount <= 0:
            continue
        cells["totals"][()].public_cents += amount
        cells["by_area"][(intervention.user_area,)].public_cents += amount
        public_by_source[intervention.fund_source] += amount
        shares = intervention.comuni or (AMBITO_WIDE,)
        for comune in shares:
            if inputs.comune is not None and comune != inputs.comune:
                continue
            cells["by_comune"][(comune,)].public_cents += public_cents(intervention, period) / len(
                shares
            )

    replacement = MoneyInfo(
        METHOD_REPLACEMENT,
        [
            RateUse(
                r.task_level, r.year, r.cents_per_hour / 100, r.source, r.is_default, round(h, 2)
            )
            for (r, h) in sorted(rate_hours.values(), key=lambda s: (s[0].task_level, s[0].year))
        ],
    )
    money = {
        "replacement_value_eur": replacement,
        "in_kind_value_eur": MoneyInfo(METHOD_IN_KIND),
        "community_value_eur": MoneyInfo(METHOD_COMMUNITY, list(replacement.rates)),
        "public_eur": MoneyInfo(METHOD_PUBLIC),
    }

    tables: dict[str, Table] = {}
    tables["totals"] = _contribution_table(
        "totals", [], {(): cells["totals"][()]}, with_public=True, replacement=replacement
    )
    total_cell = cells["totals"][()]
    tables["totals"].total = None  # one row: the row is the total
    tables["totals"].rows[0].data["hours_self_reported_unverified"] = _hours(unverified_minutes)
    tables["totals"].rows[0].data["entries_self_reported_unverified"] = unverified_entries
    tables["totals"].values.append("hours_self_reported_unverified")
    tables["totals"].counts.append("entries_self_reported_unverified")
    tables["totals"].guards["hours_self_reported_unverified"] = ["entries_self_reported_unverified"]
    for name, (keys, _) in _DIMENSIONS.items():
        tables[name] = _contribution_table(
            name,
            keys,
            cells[name],
            with_public=name in ("by_comune", "by_area"),
            total=total_cell,
            replacement=replacement,
        )
    tables["by_task_level"] = _task_level_table(
        cells["by_task_level"], level_rates, total_cell, replacement
    )
    tables["by_unit"] = _unit_table(by_unit)
    tables["public_by_fund_source"] = _public_table(public_by_source)
    coverage_by_area, coverage_by_comune = _coverage_tables(inputs, period)
    tables["need_coverage"] = coverage_by_area
    tables["need_coverage_by_comune"] = coverage_by_comune
    tables["use"] = _use_table(inputs, period, hours, months)
    tables["time_to_match"] = _time_to_match_table(inputs, period)
    tables["freshness"] = _freshness_table(inputs, now)
    notes = [
        "Contano solo le voci verificate (QR o conferma); le ore autodichiarate non verificate "
        "sono indicate a parte e non entrano in nessun totale.",
        "Le ore già pagate da un intervento finanziato (fino alle ore erogate dichiarate, per "
        "i piani serviti e nel suo periodo) non sono conteggiate come volontariato.",
        "Una persona attiva in più organizzazioni è contata una volta.",
        f"FTE = ore / {FTE_HOURS} (38 h x 48 settimane, convenzione CNEL-ISTAT).",
    ]
    if replacement.uses_defaults:
        notes.append(
            "Il valore di sostituzione usa tariffe di default indicative: l'Ufficio di Piano "
            "deve sostituirle con le tabelle in vigore."
        )
    return Figures(period=period, as_of=now, tables=tables, money=money, notes=notes)


def _contribution_row(cell: _Cell, with_public: bool) -> dict[str, object]:
    data: dict[str, object] = {
        "persons": len(cell.persons),
        "holders": len(cell.holders),
        "entries": cell.entries,
        "hours_verified": _hours(cell.verified_minutes),
        "hours_paid_by_interventions": _hours(cell.paid_minutes),
        "hours_community": _hours(cell.community_minutes),
        "fte": round(cell.community_minutes / 60 / FTE_HOURS, 3),
        "replacement_value_eur": _eur(cell.replacement_cents),
        "in_kind_value_eur": _eur(cell.in_kind_cents),
        "community_value_eur": _eur(cell.community_cents),
    }
    if with_public:
        public = _eur(cell.public_cents)
        data["public_eur"] = public
        data["leverage_ratio"] = _ratio(data["community_value_eur"], public)  # type: ignore[arg-type]
        data["coproduction_share"] = _ratio(
            data["community_value_eur"],  # type: ignore[arg-type]
            data["community_value_eur"] + public,  # type: ignore[operator]
        )
    return data


def _contribution_table(
    name: str,
    keys: list[str],
    cells: Mapping[tuple[str, ...], _Cell],
    *,
    with_public: bool,
    replacement: MoneyInfo,
    total: _Cell | None = None,
) -> Table:
    rows = [
        Row(dict(zip(keys, key, strict=True)), _contribution_row(cell, with_public))
        for key, cell in sorted(cells.items())
    ]
    table = Table(
        name=name,
        title=_TITLES[name],
        keys=keys,
        counts=list(_COUNT_COLUMNS),
        values=[c for c in _VALUE_COLUMNS if c != "fte"],
        rows=rows,
        total=Row({}, _contribution_row(total, with_public)) if total is not None else None,
        info=["value_method", "rate_eur_per_hour", "rate_years"],
        guards={column: list(_COUNT_COLUMNS) for column in _VALUE_COLUMNS},
        # Identities within a row: a withheld part must not come back by difference.
        row_sums=[
            ("hours_verified", ["hours_paid_by_interventions", "hours_community"]),
            ("community_value_eur", ["replacement_value_eur", "in_kind_value_eur"]),
        ],
        derived={"fte": ["hours_community"]},
        notes=[
            "persons e holders sono conteggi distinti: una persona in due righe conta una "
            "volta nel totale"
        ],
    )
    for row in table.all_rows():
        row.data["value_method"] = "replacement_cost+declared_in_kind"
        row.data["rate_eur_per_hour"] = replacement.rate_eur_per_hour
        row.data["rate_years"] = ", ".join(str(y) for y in replacement.rate_years)
    if with_public:
        table.values.append("public_eur")
        table.exempt.append("public_eur")
        table.derived["leverage_ratio"] = ["community_value_eur", "public_eur"]
        table.derived["coproduction_share"] = ["community_value_eur", "public_eur"]
    # Hours and euro are summed over the row's persons, holders and entries.
    return table


def _task_level_table(
    cells: Mapping[tuple[str, ...], _Cell],
    level_rates: Mapping[str, Mapping[tuple[str, int], list]],
    total: _Cell,
    replacement: MoneyInfo,
) -> Table:
    rows = []
    for (level,), cell in sorted(cells.items()):
        used = list(level_rates.get(level, {}).values())
        info = MoneyInfo(
            METHOD_REPLACEMENT,
            [
                RateUse(r.task_level, r.year, r.cents_per_hour / 100, r.source, r.is_default, h)
                for r, h in used
            ],
        )
        rows.append(
            Row(
                {"task_level": level},
                {
                    "entries": cell.entries,
                    "hours_community": _hours(cell.community_minutes),
                    "replacement_value_eur": _eur(cell.replacement_cents),
                    "rate_eur_per_hour": info.rate_eur_per_hour,
                    "rate_years": ", ".join(str(y) for y in info.rate_years),
                    "rate_is_default": info.uses_defaults,
                    "value_method": "replacement_cost",
                },
            )
        )
    return Table(
        name="by_task_level",
        title=_TITLES["by_task_level"],
        keys=["task_level"],
        counts=["entries"],
        values=["hours_community", "replacement_value_eur"],
        rows=rows,
        total=Row(
            {},
            {
                "entries": total.entries,
                "hours_community": _hours(total.community_minutes),
                "replacement_value_eur": _eur(total.replacement_cents),
                "rate_eur_per_hour": replacement.rate_eur_per_hour,
                "rate_years": ", ".join(str(y) for y in replacement.rate_years),
                "rate_is_default": replacement.uses_defaults,
                "value_method": "replacement_cost",
            },
        ),
        info=["rate_eur_per_hour", "rate_years", "rate_is_default", "value_method"],
    )


def _unit_table(by_unit: Mapping[str, list[float]]) -> Table:
    rows = []
    totals = [0, 0.0, 0]
    for unit, (entries, quantity, cents, valued) in sorted(by_unit.items()):
        amount = quantity / 60 if unit == "room_hours" else quantity
        rows.append(
            Row(
                {"unit": unit},
                {
                    "entries": int(entries),
                    "valued_entries": int(valued),
                    "quantity": round(amount, 2),
                    "in_kind_value_eur": _eur(cents),
                    "value_method": "declared_fair_value" if unit in IN_KIND_UNITS else "",
                },
            )
        )
        totals[0] += int(entries)
        totals[1] += cents
        totals[2] += int(valued)
    return Table(
        name="by_unit",
        title=_TITLES["by_unit"],
        keys=["unit"],
        counts=["entries", "valued_entries"],
        values=["quantity", "in_kind_value_eur"],
        rows=rows,
        total=Row(
            {},
            {
                "entries": totals[0],
                "valued_entries": totals[2],
                "quantity": None,  # different units: no total
                "in_kind_value_eur": _eur(totals[1]),
                "value_method": "declared_fair_value",
            },
        ),
        guards={"quantity": ["entries"], "in_kind_value_eur": ["entries", "valued_entries"]},
        info=["value_method"],
        notes=["room_hours in ore; le altre unità in pezzi, pasti, viaggi, persone raggiunte"],
    )


def _public_table(by_source: Mapping[str, float]) -> Table:
    rows = [
        Row({"fund_source": source}, {"public_eur": _eur(cents), "value_method": "spent_prorated"})
        for source, cents in sorted(by_source.items())
    ]
    return Table(
        name="public_by_fund_source",
        title=_TITLES["public_by_fund_source"],
        keys=["fund_source"],
        counts=[],
        values=["public_eur"],
        rows=rows,
        total=Row(
            {}, {"public_eur": _eur(sum(by_source.values())), "value_method": "spent_prorated"}
        ),
        exempt=["public_eur"],
        info=["value_method"],
    )


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


def _use_table(
    inputs: Inputs, period: Period, hours: Sequence[HoursFact], months: set[str]
) -> Table:
    # Like with like: offered hours come from resources measured in hours, so only the
    # matched hours on those resources are compared with them; hours logged on resources
    # measured in places, trips or room-hours are shown apart, never added in.
    matched = [f for f in hours if f.verified and f.via_match]
    matched_minutes = sum(f.minutes for f in matched if f.resource_unit == TIME_UNIT)
    matched_entries = sum(f.entries for f in matched if f.resource_unit == TIME_UNIT)
    other_minutes = sum(f.minutes for f in matched if f.resource_unit != TIME_UNIT)
    other_entries = sum(f.entries for f in matched if f.resource_unit != TIME_UNIT)
    offered = sum(offered_minutes(r, period) for r in inputs.offered)
    plans_of: dict[str, set[str]] = defaultdict(set)
    for use in inputs.resource_plans:
        if use.start <= period.end and use.end >= period.start:
            plans_of[use.resource_id].add(use.plan_id)
    used = len(plans_of)
    reused = sum(1 for plans in plans_of.values() if len(plans) >= 2)
    recorded = [n for n in inputs.needs if period.start <= n.created_at.date() <= period.end]
    horizon = period.end
    needs_matched = [
        n
        for n in recorded
        if n.first_accepted_at is not None and n.first_accepted_at.date() <= horizon
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
        and period.start <= n.first_accepted_at.date() <= period.end
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
                    "as_of": now.date().isoformat(),
                },
            )
        ],
        derived={"share_confirmed": ["resources", "confirmed_last_90_days"]},
        info=["as_of"],
        notes=["stato attuale delle conferme (la storia delle conferme non è conservata)"],
    )


# --- time series ---------------------------------------------------------------------------

SERIES_COUNTS = ["persons", "holders", "entries"]
SERIES_VALUES = [
    "hours_verified",
    "hours_paid_by_interventions",
    "hours_community",
    "fte",
    "replacement_value_eur",
    "in_kind_value_eur",
    "community_value_eur",
    "public_eur",
]


def series_row(fig: Figures) -> dict[str, object]:
    """The time-series columns of one period's figures."""
    data = fig.tables["totals"].rows[0].data
    row = {c: data[c] for c in (*SERIES_COUNTS, *SERIES_VALUES)}
    row["leverage_ratio"] = data["leverage_ratio"]
    row["coproduction_share"] = data["coproduction_share"]
    row["period_start"] = fig.period.start.isoformat()
    row["period_end"] = fig.period.end.isoformat()
    return row


def series_table(per_period: Sequence[Figures], granularity: str) -> Table:
    """Rows = periods; total = their sum for the additive columns (hours, entries, euro), so
    that a withheld period cannot be recovered by subtracting the others from it. Persons and
    holders are distinct counts, not additive: the total leaves them out."""
    rows = [Row({"period": f.period.key}, series_row(f)) for f in per_period]
    total: dict[str, object] = {"persons": None, "holders": None}
    for column in ("entries", *SERIES_VALUES):
        total[column] = round(sum(float(r.data[column] or 0) for r in rows), 3)  # type: ignore[arg-type]
    total["entries"] = int(total["entries"])  # type: ignore[call-overload]
    total["leverage_ratio"] = _ratio(total["community_value_eur"], total["public_eur"])  # type: ignore[arg-type]
    total["coproduction_share"] = _ratio(
        total["community_value_eur"],  # type: ignore[arg-type]
        float(total["community_value_eur"]) + float(total["public_eur"]),  # type: ignore[arg-type]
    )
    if per_period:
        total["period_start"] = per_period[0].period.start.isoformat()
        total["period_end"] = per_period[-1].period.end.isoformat()
    return Table(
        name=f"timeseries_{granularity}",
        title=f"Serie storica per {'mese' if granularity == 'month' else 'trimestre'}",
        keys=["period"],
        counts=list(SERIES_COUNTS),
        values=list(SERIES_VALUES),
        rows=rows,
        total=Row({}, total),
        guards={column: list(SERIES_COUNTS) for column in SERIES_VALUES},
        derived={
            "leverage_ratio": ["community_value_eur", "public_eur"],
            "coproduction_share": ["community_value_eur", "public_eur"],
        },
        exempt=["public_eur"],
        info=["period_start", "period_end"],
    )
