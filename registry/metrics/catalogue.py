"""The figures of a period (the metric catalogue of compute.py): `figures` makes every table
of one period from the facts, `figures_by_period` several periods from one month-grouped load
(the snapshot job), `series_table` the time series."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import msgspec
import numpy as np

from registry.metrics.compute import (
    _TITLES,
    AMBITO_WIDE,
    FTE_HOURS,
    IN_KIND_UNITS,
    METHOD_COMMUNITY,
    METHOD_IN_KIND,
    METHOD_PUBLIC,
    METHOD_REPLACEMENT,
    UNKNOWN,
    Figures,
    HoursFact,
    Inputs,
    MoneyInfo,
    Period,
    PresencePlace,
    QuantityFact,
    RateUse,
    _eur,
    _hours,
    _ratio,
    allocate_paid,
    person_of_individual,
    public_cents,
)
from registry.metrics.coverage import (
    MatchedHours,
    NeedIndex,
    _freshness_table,
    matched_hours,
)
from registry.metrics.rates import Rate, level_of, pick_rate
from registry.metrics.suppression import Row, Table

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
    """The part of a month-grouped history that one period needs: the same ledger facts a
    query for that period alone would have returned."""
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
        # The need tables take the uses running in the period themselves (NeedIndex).
        resource_plans=inputs.resource_plans,
        offered=inputs.offered,
        resources=inputs.resources,
        person_of_holder=inputs.person_of_holder,
        rates=inputs.rates,
        category_levels=inputs.category_levels,
        comune=inputs.comune,
    )


def figures_by_period(
    inputs: Inputs, periods: Sequence[Period], now: datetime, *, with_needs: bool = True
) -> list[Figures]:
    """The figures of several periods from one month-grouped load covering them all: each
    period reads only its months' facts (the same figures as `figures(inputs, period)`).
    Without `with_needs`, the NEED_TABLES are left out (another process makes them)."""
    if len(periods) == 1:
        # figures() reads only the period's months
        return [figures(inputs, periods[0], now, with_needs=with_needs)]
    index = month_index(inputs)
    return [figures(slice_inputs(inputs, index, p), p, now, with_needs=with_needs) for p in periods]


# The tables that read the needs, matches and resources (with the verified hours given
# through matches, and the clock): the others read only the ledger's facts, the funded
# interventions and the rates, and hold while those do.
NEED_TABLES = ("need_coverage", "need_coverage_by_comune", "use", "time_to_match", "freshness")


def need_tables(
    inputs: Inputs,
    period: Period,
    matched: MatchedHours,
    now: datetime,
    index: NeedIndex | None = None,
) -> dict[str, Table]:
    """The NEED_TABLES of one period; `matched`: the period's hours given through matches;
    `index`: the inputs' NeedIndex, when several periods share it."""
    index = index or NeedIndex(inputs)
    by_area, by_comune = index.coverage(period)
    return {
        "need_coverage": by_area,
        "need_coverage_by_comune": by_comune,
        "use": index.use(period, matched),
        "time_to_match": index.time_to_match(period),
        "freshness": _freshness_table(inputs, now),
    }


def need_tables_by_period(
    inputs: Inputs,
    periods: Sequence[Period],
    matched: Mapping[str, MatchedHours],
    now: datetime,
) -> list[dict[str, Table]]:
    """need_tables of several periods from the needs, the resources used for plans over
    them all and the hours given through matches by month (`matched`): no ledger fact."""

    def matched_in(p: Period) -> MatchedHours:
        return sum((matched.get(m, MatchedHours()) for m in p.months()), MatchedHours())

    # Each period takes the needs active and the resources used within it from one index.
    index = NeedIndex(inputs)
    return [need_tables(inputs, p, matched_in(p), now, index) for p in periods]


def figures_of_packed(packed: bytes, period: Period, now: datetime) -> Figures:
    """figures() from pack_inputs' bytes, for a worker process."""
    return figures(msgspec.msgpack.decode(packed, type=Inputs), period, now)


def pack_inputs(inputs: Inputs) -> bytes:
    """Inputs for a worker process: msgspec packs tens of thousands of facts in a fraction of
    the time pickle takes (it handles slotted dataclasses one attribute at a time)."""
    return msgspec.msgpack.encode(inputs)


# --- one period ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Cell:
    # The distinct persons and holders active, as bit masks over the period's ids (_IdBits).
    persons: int = 0
    holders: int = 0
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


def figures(inputs: Inputs, period: Period, now: datetime, *, with_needs: bool = True) -> Figures:
    """Every metric of the catalogue for one period (facts outside its months are ignored);
    without `with_needs`, all but the NEED_TABLES."""
    months = period.months()
    hours = [f for f in inputs.hours if f.month in months]
    quantities = [f for f in inputs.quantities if f.month in months]
    presence = [p for p in inputs.presence if not p.month or p.month in months]
    paid = allocate_paid(hours, inputs.interventions, period)

    cells: dict[str, dict[tuple[str, ...], _Cell]] = {
        name: defaultdict(_Cell) for name in ("totals", *_DIMENSIONS, "by_task_level")
    }
    rate_hours: dict[tuple[str, int], list] = {}
    level_rates: dict[str, dict[tuple[str, int], list]] = defaultdict(dict)
    unverified_minutes = 0.0
    unverified_entries = 0

    # The cells of every dimension a fact counts in, by its place (the columns the
    # dimensions are keyed on): looked up once per place, not once per fact.
    at_place: dict[tuple[str, str, str | None, str | None], list[_Cell]] = {}

    def each_cell(fact: HoursFact | QuantityFact | PresencePlace) -> list[_Cell]:
        place = (fact.holder_kind, fact.sector, fact.comune, fact.area)
        found = at_place.get(place)
        if found is None:
            found = at_place[place] = [
                cells["totals"][()],
                *(cells[name][dim(fact)] for name, (_, dim) in _DIMENSIONS.items()),
            ]
        return found

    # Facts of the same place, category and year (so the same cells, level and rate) are
    # summed first, then each group goes to its cells.
    # group key -> [a fact of the group, entries, minutes, paid minutes]
    groups: dict[tuple, list] = {}
    for fact, paid_minutes in zip(hours, paid, strict=True):
        if not fact.verified:
            unverified_minutes += fact.minutes
            unverified_entries += fact.entries
            continue
        key = (
            fact.holder_kind,
            fact.sector,
            fact.comune,
            fact.area,
            fact.category,
            fact.month[:4],
        )
        slot = groups.get(key)
        if slot is None:
            slot = groups[key] = [fact, 0, 0.0, 0.0]
        slot[1] += fact.entries
        slot[2] += fact.minutes
        slot[3] += paid_minutes
    # The level and rate of each (category, year), looked up once.
    chosen: dict[tuple[str | None, str], tuple[str, Rate | None]] = {}
    for (*_, category, year), (fact, entries, minutes, paid_minutes) in groups.items():
        found = chosen.get((category, year))
        if found is None:
            level = level_of(category, inputs.category_levels)
            found = (level, pick_rate(inputs.rates, level, int(year)))
            chosen[(category, year)] = found
        level, rate = found
        community = minutes - paid_minutes
        cents = community / 60 * rate.cents_per_hour if rate else 0.0
        targets = [*each_cell(fact), cells["by_task_level"][(level,)]]
        for cell in targets:
            cell.entries += entries
            cell.verified_minutes += minutes
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

    # Holders and persons are gathered by the four columns every dimension is keyed on, from
    # the months' places (set unions), then each group's sets are merged into its cells.
    places: dict[tuple[str, str, str | None, str | None], tuple[PresencePlace, set, set]] = {}
    aliases = inputs.person_of_holder
    for place in presence:
        key = (place.sector, place.holder_kind, place.comune, place.area)
        found = places.get(key)
        if found is None:
            found = places[key] = (place, set(), set())
        found[1].update(place.holders)
        found[2].update(place.volunteers)
        for holder_id in place.individuals:
            found[2].add(person_of_individual(holder_id, aliases))
    bits = _IdBits(set().union(*(h | p for _, h, p in places.values())))
    for place, holders, persons in places.values():
        holders_mask, persons_mask = bits.mask(holders), bits.mask(persons)
        for cell in each_cell(place):
            cell.holders |= holders_mask
            cell.persons |= persons_mask

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
    if with_needs:
        tables.update(need_tables(inputs, period, matched_hours(hours), now))
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


class _IdBits:
    """A bit for each id of a period: a set of ids becomes an int whose unions (|) and counts
    (bit_count) take microseconds. Every cell of every dimension is the union of its places'
    sets, and a year of a large ledger is hundreds of thousands of ids in thousands of places:
    as unions of Python sets they took a quarter of the year's figures."""

    def __init__(self, ids: set[str]) -> None:
        self._bit = {identifier: position for position, identifier in enumerate(ids)}

    def mask(self, ids: set[str]) -> int:
        flags = np.zeros(len(self._bit), dtype=np.uint8)
        flags[np.fromiter(map(self._bit.__getitem__, ids), dtype=np.intp, count=len(ids))] = 1
        return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def _contribution_row(cell: _Cell, with_public: bool) -> dict[str, object]:
    data: dict[str, object] = {
        "persons": cell.persons.bit_count(),
        "holders": cell.holders.bit_count(),
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


# --- time series ---------------------------------------------------------------------------

# The counts and values of a period's totals, and its public spending.
SERIES_COUNTS = list(_COUNT_COLUMNS)
SERIES_VALUES = [*_VALUE_COLUMNS, "public_eur"]


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
