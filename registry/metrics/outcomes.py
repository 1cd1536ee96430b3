"""Outcome indicators for the Ufficio di Piano (issue 15): what changes for the persons of the
plans, aggregated by user area, comune and period, with the same disclosure control as every
other figure (disclosure.py: whole months, linked tables, parts of a longer period, one
filter at a time).

The rules are pure (facts in, tables out: outcome_figures.py) and run in a worker process;
outcome_loading.py reads the facts of one ambito from the outcomes tables (registry/outcomes),
the plans, the ledger and the funded interventions. This module protects and publishes the
tables and gives the answer. The definitions the UdP reads are in labels.py
(EXPLANATIONS) and in `DEFINITIONS` below, the same words in the API, the dashboard, the
exports and the report.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import msgspec

from registry import italian
from registry.access import Principal, Role
from registry.common import now as utcnow
from registry.errors import InvalidInput
from registry.metrics import compute, disclosure, labels
from registry.metrics.compute import Period
from registry.metrics.outcome_figures import (
    BY_AREA,
    BY_COMUNE,
    CLOSURES,
    COUNTS,
    DERIVED,
    OUTCOME_TABLES,
    REFERENCE,
    SERIES,
    VALUES,
    OutcomeInputs,
    outcome_tables,
)
from registry.metrics.outcome_loading import load_outcome_inputs
from registry.metrics.periods import min_count
from registry.metrics.publication import (
    _ambito_code,
    _filtered,
    _parts,
    _published,
    _suppression,
    one_filter,
    period_out,
)
from registry.metrics.schemas import FiltersOut, PeriodOut, PublishedTable, Suppression
from registry.metrics.suppression import TOTAL, Suppressed, Table
from registry.offload import in_worker_process

_F = TypeVar("_F")

# --- disclosure control ----------------------------------------------------------------------


def _lines(tables: Mapping[str, Table]) -> list[tuple[disclosure.Cell, list[disclosure.Cell]]]:
    """The same totals in the two breakdowns, and the closures by reason."""
    lines: list[tuple[disclosure.Cell, list[disclosure.Cell]]] = [
        ((BY_AREA, TOTAL, c), [(BY_COMUNE, TOTAL, c)]) for c in (*COUNTS, *VALUES)
    ]
    lines.append(((BY_AREA, TOTAL, "closures"), [(CLOSURES, TOTAL, "closures")]))
    return lines


def _parts_of(period: Period, today: date) -> tuple[list[Period], bool]:
    if period.start.year == period.end.year and period.start.month == period.end.month:
        return [], False
    return _parts(period, today)


class _Index:
    """The inputs sorted by day once, so that each period (a year asks for its quarters and
    months too) reads only its own facts."""

    def __init__(self, inputs: OutcomeInputs) -> None:
        self.inputs = inputs
        self.levels = sorted(inputs.levels, key=lambda f: f.held_on)
        self.dues = sorted(inputs.dues, key=lambda f: f.due_on)
        self.ledger = sorted(inputs.ledger, key=lambda f: f.day)
        self.closures = sorted(inputs.closures, key=lambda f: f.closed_on)
        self.activations = sorted(inputs.activations, key=lambda f: f.started_on)

    @staticmethod
    def _between(facts: list[_F], day: Callable[[_F], date], period: Period) -> list[_F]:
        low = bisect.bisect_left(facts, period.start, key=day)
        high = bisect.bisect_right(facts, period.end, key=day)
        return facts[low:high]

    def slice(self, period: Period) -> OutcomeInputs:
        i = self.inputs
        return OutcomeInputs(
            today=i.today,
            plans=i.plans,
            goals=i.goals,
            levels=self._between(self.levels, lambda f: f.held_on, period),
            dues=self._between(self.dues, lambda f: f.due_on, period),
            closures=self._between(self.closures, lambda f: f.closed_on, period),
            activations=self._between(self.activations, lambda f: f.started_on, period),
            own_time=i.own_time,
            ledger=self._between(self.ledger, lambda f: f.day, period),
            interventions=[
                x
                for x in i.interventions
                if x.period_start <= period.end and x.period_end >= period.start
            ],
        )


def protect_outcomes(
    inputs: OutcomeInputs | _Index,
    period: Period,
    threshold: int,
    done: dict[str, tuple[dict[str, Table], disclosure.Protected]] | None = None,
) -> tuple[dict[str, Table], disclosure.Protected]:
    """The period's tables and their protected version: a longer period is protected from
    its months (or a calendar year from its quarters), like every other figure."""
    done = {} if done is None else done
    if period.key in done:
        return done[period.key]
    index = inputs if isinstance(inputs, _Index) else _Index(inputs)
    parts, calendar = _parts_of(period, index.inputs.today)
    inside = [protect_outcomes(index, p, threshold, done)[1] for p in parts]
    tables = outcome_tables(index.slice(period), period)
    protected = disclosure._protect(
        dict(tables), _lines(tables), threshold, inside, calendar=calendar
    )
    done[period.key] = (tables, protected)
    return tables, protected


# --- publication -----------------------------------------------------------------------------

FILTER_NOTE = (
    "Con un filtro per comune o per area di utenza si pubblica solo la riga del valore "
    "filtrato nella tabella senza filtri dello stesso periodo (con le stesse celle nascoste); "
    "i motivi di chiusura non sono pubblicati per un solo comune o area. Gli esiti non hanno "
    "filtri per settore o tipo di soggetto."
)


def published(
    inputs: OutcomeInputs, period: Period, threshold: int, chosen: tuple[str, str] | None
) -> tuple[list[PublishedTable], Suppression]:
    """The outcome tables as published, and the series by month (pure; run in a worker
    process)."""
    done: dict[str, tuple[dict[str, Table], disclosure.Protected]] = {}
    raw, protected = protect_outcomes(inputs, period, threshold, done)
    tables = (
        protected.tables
        if chosen is None
        else _filtered(protected, *chosen, reference=REFERENCE, note=FILTER_NOTE)
    )
    out, suppression = _published(tables, raw, protected, OUTCOME_TABLES, threshold)
    series, cells = _series(period, done, chosen)
    out.append(series)
    suppression = _suppression([*_cells(suppression), *cells], threshold)
    return out, suppression


def _cells(suppression: Suppression) -> list[Suppressed]:
    return [Suppressed(c.table, dict(c.key), c.column, c.reason) for c in suppression.cells]


def _series(
    period: Period,
    done: Mapping[str, tuple[dict[str, Table], disclosure.Protected]],
    chosen: tuple[str, str] | None,
) -> tuple[PublishedTable, list[Suppressed]]:
    """The figures of each month of the period: each month's total (or, with a filter, its
    row of the filtered value) as that month's own disclosure control publishes it; the
    longer period was protected from these same months (disclosure.py, rule 3)."""
    measures = [*COUNTS, *VALUES, *DERIVED]
    rows: list[dict[str, Any]] = []
    cells: list[Suppressed] = []
    for month in compute.buckets(period.start, period.end, "month"):
        key = month.key if month.key in done else period.key
        _, protected = done[key]
        if chosen is None:
            name, rid = BY_AREA, TOTAL
            data = protected.tables[BY_AREA].total.data  # type: ignore[union-attr]
        else:
            name = REFERENCE[chosen[0]]
            rid = ((chosen[0], chosen[1]),)
            found = protected.row(name, {chosen[0]: chosen[1]})
            data = found.data if found is not None else dict.fromkeys(measures, 0)
            if found is None:
                data.update(dict.fromkeys(DERIVED))
        reasons = {
            column: why for r, column, why in disclosure.withheld_keys(protected, name) if r == rid
        }
        rows.append({"period": month.key, **{c: data.get(c) for c in measures}})
        cells.extend(
            Suppressed(SERIES, {"period": month.key}, column, why)
            for column, why in reasons.items()
        )
    table = PublishedTable(
        name=SERIES,
        title=labels.TABLES[SERIES].title,
        columns=["period", *measures],
        rows=rows,
        notes=[
            "Ogni mese con le sue celle nascoste; i piani attivi in più mesi contano in ognuno, "
            "quindi la somma dei mesi non è il dato del periodo."
        ],
    )
    return table, cells


# What each indicator means, in the words the UdP reads (labels.py: the same in the
# dashboard, the exports and the report).
EXPLAINED = (
    "plans",
    "share_reviews_on_time",
    "share_goals_attained",
    "mean_t_change",
    "closures",
    "share_plans_activated",
    "mean_share_own",
)
DEFINITIONS: dict[str, str] = {c: labels.EXPLANATIONS[c] for c in EXPLAINED}


# --- the answer ------------------------------------------------------------------------------


class OutcomesOut(msgspec.Struct, kw_only=True):
    """Outcome indicators of a period, aggregated and suppressed like every other figure."""

    ambito_code: str
    period: PeriodOut
    filters: FiltersOut
    as_of: datetime
    tables: list[PublishedTable]
    suppression: Suppression
    definitions: dict[str, str]
    notes: list[str]


def chosen_filter(scope: Any) -> tuple[str, str] | None:
    """The one filter of the query (comune or area); sector and holder kind do not apply to
    the persons of the plans."""
    chosen = one_filter(scope)
    if chosen is not None and chosen[0] not in REFERENCE:
        raise InvalidInput("outcomes are published by comune or user area only", field=chosen[0])
    return chosen


async def outcomes(
    actor: Principal,
    period: Period,
    scope: Any,
    *,
    now: datetime | None = None,
    strict: bool = True,
) -> OutcomesOut:
    """The outcome indicators of the period (UdP and social workers of the ambito, like the
    other metrics). `strict=False` (the exports) answers a sector or holder-kind filter with
    empty tables instead of refusing it."""
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)
    moment = now or utcnow()
    today = italian.today(moment)
    try:
        chosen = chosen_filter(scope)
        foreign = False
    except InvalidInput:
        if strict:
            raise
        chosen, foreign = None, True
    inputs = await load_outcome_inputs(actor.ambito_id, period, today)
    threshold = min_count()
    tables, suppression = await in_worker_process(published, inputs, period, threshold, chosen)
    if foreign:
        tables = [
            PublishedTable(
                name=t.name,
                title=t.title,
                columns=t.columns,
                rows=[],
                total=None,
                notes=[FILTER_NOTE],
            )
            for t in tables
        ]
        suppression = _suppression([], threshold)
    return OutcomesOut(
        ambito_code=await _ambito_code(actor.ambito_id),
        period=period_out(period, today),
        filters=scope.out(),
        as_of=moment,
        tables=tables,
        suppression=suppression,
        definitions=dict(DEFINITIONS),
        notes=[
            "Gli esiti sono calcolati dai piani del periodo: ogni piano conta nell'area di "
            "utenza e nel comune del piano.",
            "Controllo della divulgazione come per gli altri indicatori: periodi di mesi "
            "interi, celle nascoste in modo coerente tra le tabelle e tra i mesi del periodo, "
            "un filtro alla volta.",
        ],
    )
