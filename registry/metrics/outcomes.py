"""Outcome indicators for the Ufficio di Piano (issue 15): what changes for the persons of the
plans, aggregated by user area, comune and period, with the same disclosure control as every
other figure (disclosure.py: whole months, linked tables, parts of a longer period, one
filter at a time).

The rules are pure (facts in, tables out) and run in a worker process; `load_outcome_inputs`
reads the facts of one ambito from the outcomes tables (registry/outcomes), the plans, the
ledger and the funded interventions. The definitions the UdP reads are in labels.py
(EXPLANATIONS) and in `DEFINITIONS` below, the same words in the API, the dashboard, the
exports and the report.
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar

import msgspec

from registry.access import Principal, Role
from registry.common import now as utcnow
from registry.errors import InvalidInput
from registry.metrics import compute, disclosure, labels
from registry.metrics.compute import Period
from registry.metrics.loading import _VERIFIED, _d, _raw, _u, load_interventions
from registry.metrics.loading import Scope as LoadScope
from registry.metrics.periods import ROME, min_count
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
from registry.metrics.suppression import TOTAL, Row, Suppressed, Table
from registry.offload import in_worker_process
from registry.outcomes.gas import t_score

_F = TypeVar("_F")

# --- the facts (what the loader hands over) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanFact:
    id: str
    comune: str
    area: str
    start: date
    # The day the plan ended (its closure, else its end date); None while it runs.
    end: date | None


@dataclass(frozen=True, slots=True)
class GoalFact:
    id: str
    plan_id: str
    weight: int
    baseline: int
    active: bool  # a dropped goal leaves the T-score


@dataclass(frozen=True, slots=True)
class LevelFact:
    goal_id: str
    plan_id: str
    held_on: date
    level: int
    order: str = ""  # ties on the same day: the later recorded review wins


@dataclass(frozen=True, slots=True)
class DueFact:
    """A review due on `due_on` (the next-review date in force before it), held on `held_on`;
    None: not held yet."""

    plan_id: str
    due_on: date
    held_on: date | None


@dataclass(frozen=True, slots=True)
class ClosureFact:
    plan_id: str
    closed_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class ActivationFact:
    plan_id: str
    started_on: date


@dataclass(frozen=True, slots=True)
class OwnTimeFact:
    """Time the person or the family brings: minutes a week between two days (None: the
    plan's own start or end)."""

    plan_id: str
    minutes_per_week: int
    start: date | None
    end: date | None


@dataclass(frozen=True, slots=True)
class LedgerFact:
    """Verified ledger minutes given to a plan on one day."""

    plan_id: str
    day: date
    minutes: int
    # Only verified minutes are loaded (compute.allocate_paid reads it of every fact).
    verified: ClassVar[bool] = True


@dataclass(slots=True)
class OutcomeInputs:
    today: date
    plans: list[PlanFact] = field(default_factory=list)
    goals: list[GoalFact] = field(default_factory=list)
    levels: list[LevelFact] = field(default_factory=list)
    dues: list[DueFact] = field(default_factory=list)
    closures: list[ClosureFact] = field(default_factory=list)
    activations: list[ActivationFact] = field(default_factory=list)
    own_time: list[OwnTimeFact] = field(default_factory=list)
    ledger: list[LedgerFact] = field(default_factory=list)
    interventions: list[compute.InterventionFact] = field(default_factory=list)


# --- the tables ------------------------------------------------------------------------------

BY_AREA = "outcomes_by_area"
BY_COMUNE = "outcomes_by_comune"
CLOSURES = "outcome_closures"
OUTCOME_TABLES = (BY_AREA, BY_COMUNE, CLOSURES)
SERIES = "outcomes_by_month"
REFERENCE = {"area": BY_AREA, "comune": BY_COMUNE}

COUNTS = [
    "plans",
    "reviews_due",
    "reviews_on_time",
    "goals_rated",
    "goals_attained",
    "plans_scored",
    "closures",
    "plans_activated",
    "plans_with_support",
]
VALUES = ["support_hours_own", "support_hours_community", "support_hours_funded"]
DERIVED = {
    "share_reviews_on_time": ["reviews_due", "reviews_on_time"],
    "share_goals_attained": ["goals_rated", "goals_attained"],
    "mean_t_change": ["plans_scored"],
    "share_plans_activated": ["plans", "plans_activated"],
    "mean_share_own": ["plans_with_support", *VALUES],
    "mean_share_community": ["plans_with_support", *VALUES],
    "mean_share_funded": ["plans_with_support", *VALUES],
}
_SOURCES = ("own", "community", "funded")


@dataclass(slots=True)
class _Acc:
    plans: int = 0
    reviews_due: int = 0
    reviews_on_time: int = 0
    goals_rated: int = 0
    goals_attained: int = 0
    t_changes: list[float] = field(default_factory=list)
    closures: int = 0
    plans_activated: int = 0
    hours: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_SOURCES, 0.0))
    shares: list[tuple[float, float, float]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        def mean(values: Iterable[float], digits: int = 4) -> float | None:
            values = list(values)
            return round(sum(values) / len(values), digits) if values else None

        return {
            "plans": self.plans,
            "reviews_due": self.reviews_due,
            "reviews_on_time": self.reviews_on_time,
            "goals_rated": self.goals_rated,
            "goals_attained": self.goals_attained,
            "plans_scored": len(self.t_changes),
            "closures": self.closures,
            "plans_activated": self.plans_activated,
            "plans_with_support": len(self.shares),
            "support_hours_own": round(self.hours["own"], 1),
            "support_hours_community": round(self.hours["community"], 1),
            "support_hours_funded": round(self.hours["funded"], 1),
            "share_reviews_on_time": ratio(self.reviews_on_time, self.reviews_due),
            "share_goals_attained": ratio(self.goals_attained, self.goals_rated),
            "mean_t_change": mean(self.t_changes, 2),
            "share_plans_activated": ratio(self.plans_activated, self.plans),
            "mean_share_own": mean(s[0] for s in self.shares),
            "mean_share_community": mean(s[1] for s in self.shares),
            "mean_share_funded": mean(s[2] for s in self.shares),
        }


def _in(day: date | None, period: Period) -> bool:
    return day is not None and period.start <= day <= period.end


def _active(plan: PlanFact, period: Period) -> bool:
    return plan.start <= period.end and (plan.end is None or plan.end >= period.start)


class _Groups:
    """The accumulators a plan's figures go to: the whole ambito, its area, its comune."""

    def __init__(self, plans: Mapping[str, PlanFact]) -> None:
        self.plans = plans
        self.whole = _Acc()
        self.by_area: dict[str, _Acc] = defaultdict(_Acc)
        self.by_comune: dict[str, _Acc] = defaultdict(_Acc)

    def of(self, plan_id: str) -> tuple[_Acc, _Acc, _Acc]:
        plan = self.plans[plan_id]
        return self.whole, self.by_area[plan.area], self.by_comune[plan.comune]


def _figures(inputs: OutcomeInputs, period: Period) -> _Groups:
    """The period's figures, each plan counted in its area and its comune (see DEFINITIONS)."""
    plans = {p.id: p for p in inputs.plans}
    groups = _Groups(plans)
    for plan in inputs.plans:
        if _active(plan, period):
            for a in groups.of(plan.id):
                a.plans += 1
    # Reviews due in the period: on time when held on or before the due day; a due day
    # already past (before today) with no review held counts as late. One due day counts
    # once, with the first review held for it.
    first_held: dict[tuple[str, date], date | None] = {}
    for due in inputs.dues:
        if due.plan_id not in plans or not _in(due.due_on, period):
            continue
        key = (due.plan_id, due.due_on)
        held = [d for d in (first_held.get(key), due.held_on) if d is not None]
        first_held[key] = min(held) if held else None
    for (plan_id, due_on), held_on in first_held.items():
        if held_on is None and due_on >= inputs.today:
            continue  # still on time: not yet due
        on_time = held_on is not None and held_on <= due_on
        for a in groups.of(plan_id):
            a.reviews_due += 1
            a.reviews_on_time += on_time
    # Goals: the latest level of each goal recorded in the period.
    latest: dict[str, LevelFact] = {}
    for level in inputs.levels:
        if not _in(level.held_on, period) or level.plan_id not in plans:
            continue
        seen = latest.get(level.goal_id)
        if seen is None or (level.held_on, level.order) > (seen.held_on, seen.order):
            latest[level.goal_id] = level
    goals = {g.id: g for g in inputs.goals}
    scored: dict[str, list[GoalFact]] = defaultdict(list)
    for goal_id, level in latest.items():
        goal = goals.get(goal_id)
        if goal is None:
            continue
        for a in groups.of(level.plan_id):
            a.goals_rated += 1
            a.goals_attained += level.level >= 0
        if goal.active:
            scored[level.plan_id].append(goal)
    for plan_id, rated in scored.items():
        now = t_score([(latest[g.id].level, g.weight) for g in rated])
        before = t_score([(g.baseline, g.weight) for g in rated])
        if now is not None and before is not None:
            for a in groups.of(plan_id):
                a.t_changes.append(now - before)
    for closure in inputs.closures:
        if closure.plan_id in plans and _in(closure.closed_on, period):
            for a in groups.of(closure.plan_id):
                a.closures += 1
    activated = {a.plan_id for a in inputs.activations if _in(a.started_on, period)}
    for plan_id in activated & plans.keys():
        for a in groups.of(plan_id):
            a.plans_activated += 1
    _support(inputs, period, groups)
    return groups


def _support(inputs: OutcomeInputs, period: Period, groups: _Groups) -> None:
    """Hours of support of each plan in the period by source: the person or the family (own
    time, minutes a week over the days it covers), the community (verified ledger hours,
    less those a funded intervention already pays for, as in the contribution figures) and
    funded interventions (hours delivered, prorated to the period, in equal parts among the
    plans they serve)."""
    plans = groups.plans
    minutes: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(_SOURCES, 0.0))
    for own in inputs.own_time:
        plan = plans.get(own.plan_id)
        if plan is None or own.minutes_per_week <= 0:
            continue
        start = max(own.start or plan.start, plan.start)
        ends = [d for d in (own.end, plan.end, period.end) if d is not None]
        days = compute.overlap_days(start, min(ends), period.start, period.end)
        if days:
            minutes[own.plan_id]["own"] += own.minutes_per_week * days / 7
    facts = [f for f in inputs.ledger if f.plan_id in plans and _in(f.day, period)]
    paid = compute.allocate_paid(facts, inputs.interventions, period)
    for fact, taken in zip(facts, paid, strict=True):
        minutes[fact.plan_id]["community"] += fact.minutes - taken
    for intervention in inputs.interventions:
        served = [p for p in intervention.plan_ids if p in plans]
        if not served:
            continue
        share = compute.prorated_cap(intervention, period) / len(intervention.plan_ids)
        for plan_id in served:
            minutes[plan_id]["funded"] += share
    for plan_id, by_source in minutes.items():
        total = sum(by_source.values())
        if total <= 0:
            continue
        shares = tuple(by_source[source] / total for source in _SOURCES)
        for a in groups.of(plan_id):
            for source in _SOURCES:
                a.hours[source] += by_source[source] / 60
            a.shares.append(shares)  # type: ignore[arg-type]


def _table(name: str, key: str, groups: Mapping[str, _Acc], whole: _Acc) -> Table:
    empty = _Acc().row()
    rows = [(value, acc.row()) for value, acc in sorted(groups.items())]
    return Table(
        name=name,
        title=TITLES[name],
        keys=[key],
        counts=list(COUNTS),
        values=list(VALUES),
        rows=[Row({key: value}, row) for value, row in rows if row != empty],
        total=Row({}, whole.row()),
        guards={v: ["plans_with_support"] for v in VALUES},
        derived={k: list(v) for k, v in DERIVED.items()},
    )


def outcome_tables(inputs: OutcomeInputs, period: Period) -> dict[str, Table]:
    """The period's outcome tables before disclosure control."""
    groups = _figures(inputs, period)
    reasons: dict[str, int] = defaultdict(int)
    for closure in inputs.closures:
        if closure.plan_id in groups.plans and _in(closure.closed_on, period):
            reasons[closure.reason] += 1
    closures = Table(
        name=CLOSURES,
        title=TITLES[CLOSURES],
        keys=["closure_reason"],
        counts=["closures"],
        values=[],
        rows=[Row({"closure_reason": r}, {"closures": n}) for r, n in sorted(reasons.items())],
        total=Row({}, {"closures": sum(reasons.values())}),
    )
    return {
        BY_AREA: _table(BY_AREA, "area", groups.by_area, groups.whole),
        BY_COMUNE: _table(BY_COMUNE, "comune", groups.by_comune, groups.whole),
        CLOSURES: closures,
    }


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


TITLES = {name: labels.TABLES[name].title for name in OUTCOME_TABLES}
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


# --- loading ---------------------------------------------------------------------------------


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def load_outcome_inputs(ambito_id: uuid.UUID, period: Period, today: date) -> OutcomeInputs:
    """The facts of the ambito's plans that can fall in `period` (any of its months): the
    outcome tables hold a few rows a plan a year; the levels and the ledger, the long ones,
    are read for the period only, the ledger summed by plan and day."""
    a = _u(ambito_id)
    start, end = _d(period.start), _d(period.end)
    plan_rows = await _raw(
        "SELECT CAST(p.id AS TEXT) AS id, p.comune, p.target_group, p.start_date, "
        "p.end_date, pc.closed_on FROM care_plan p "
        "LEFT JOIN plan_closure pc ON pc.plan = p.id "
        "WHERE p.ambito = {} AND p.status <> 'draft'",
        a,
    )
    plans = []
    for r in plan_rows:
        ends = [d for d in (_date(r["closed_on"]), _date(r["end_date"])) if d is not None]
        plans.append(
            PlanFact(
                id=str(uuid.UUID(r["id"])),
                comune=r["comune"],
                area=r["target_group"],
                start=_date(r["start_date"]) or today,
                end=min(ends) if ends else None,
            )
        )
    goal_rows = await _raw(
        "SELECT CAST(id AS TEXT) AS id, CAST(plan AS TEXT) AS plan, weight, baseline, status "
        "FROM plan_goal WHERE ambito = {}",
        a,
    )
    goals = [
        GoalFact(
            id=str(uuid.UUID(r["id"])),
            plan_id=str(uuid.UUID(r["plan"])),
            weight=int(r["weight"] or 1),
            baseline=int(r["baseline"] if r["baseline"] is not None else -1),
            active=r["status"] != "dropped",
        )
        for r in goal_rows
    ]
    level_rows = await _raw(
        "SELECT CAST(l.goal AS TEXT) AS goal, CAST(r.plan AS TEXT) AS plan, r.held_on, "
        "l.level, CAST(r.created_at AS TEXT) AS created FROM plan_review_level l "
        "JOIN plan_review r ON r.id = l.review "
        "WHERE l.ambito = {} AND r.held_on >= {} AND r.held_on <= {}",
        a,
        start,
        end,
    )
    levels = [
        LevelFact(
            goal_id=str(uuid.UUID(r["goal"])),
            plan_id=str(uuid.UUID(r["plan"])),
            held_on=_date(r["held_on"]),  # type: ignore[arg-type]
            level=int(r["level"]),
            order=str(r["created"] or ""),
        )
        for r in level_rows
    ]
    review_rows = await _raw(
        "SELECT CAST(plan AS TEXT) AS plan, due_on, held_on FROM plan_review "
        "WHERE ambito = {} AND due_on IS NOT NULL",
        a,
    )
    dues = [
        DueFact(str(uuid.UUID(r["plan"])), _date(r["due_on"]), _date(r["held_on"]))  # type: ignore[arg-type]
        for r in review_rows
    ]
    # The due day still pending (no review held for it yet), unless the plan was closed.
    pending = await _raw(
        "SELECT CAST(f.plan AS TEXT) AS plan, f.next_review_on FROM plan_follow_up f "
        "WHERE f.ambito = {} AND f.next_review_on IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM plan_closure pc WHERE pc.plan = f.plan)",
        a,
    )
    dues.extend(
        DueFact(str(uuid.UUID(r["plan"])), _date(r["next_review_on"]), None)  # type: ignore[arg-type]
        for r in pending
    )
    closure_rows = await _raw(
        "SELECT CAST(plan AS TEXT) AS plan, closed_on, reason FROM plan_closure WHERE ambito = {}",
        a,
    )
    closures = [
        ClosureFact(str(uuid.UUID(r["plan"])), _date(r["closed_on"]), r["reason"])  # type: ignore[arg-type]
        for r in closure_rows
    ]
    activation_rows = await _raw(
        "SELECT CAST(plan AS TEXT) AS plan, started_on FROM plan_activation WHERE ambito = {}",
        a,
    )
    activations = [
        ActivationFact(str(uuid.UUID(r["plan"])), _date(r["started_on"]))  # type: ignore[arg-type]
        for r in activation_rows
    ]
    own_rows = await _raw(
        "SELECT CAST(plan AS TEXT) AS plan, minutes_per_week, start_date, end_date "
        "FROM plan_own_resource WHERE ambito = {} AND minutes_per_week > 0",
        a,
    )
    own_time = [
        OwnTimeFact(
            str(uuid.UUID(r["plan"])),
            int(r["minutes_per_week"]),
            _date(r["start_date"]),
            _date(r["end_date"]),
        )
        for r in own_rows
    ]
    ledger_rows = await _raw(
        "SELECT CAST(c.plan_id AS TEXT) AS plan, c.occurred_on AS day, "
        "SUM(c.quantity) AS minutes FROM contribution c "
        "WHERE c.ambito = {} AND c.plan_id IS NOT NULL AND c.unit = {} "
        "AND c.kind <> 'cancellation' "
        "AND NOT EXISTS (SELECT 1 FROM contribution s WHERE s.corrects = c.id) "
        f"AND c.occurred_on >= {{}} AND c.occurred_on <= {{}} AND {_VERIFIED} GROUP BY 1, 2",
        a,
        compute.TIME_UNIT,
        start,
        end,
    )
    ledger = [
        LedgerFact(str(uuid.UUID(r["plan"])), _date(r["day"]), int(r["minutes"] or 0))  # type: ignore[arg-type]
        for r in ledger_rows
    ]
    interventions = await load_interventions(ambito_id, period, LoadScope())
    return OutcomeInputs(
        today=today,
        plans=plans,
        goals=goals,
        levels=levels,
        dues=dues,
        closures=closures,
        activations=activations,
        own_time=own_time,
        ledger=ledger,
        interventions=interventions,
    )


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
    today = moment.astimezone(ROME).date()
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
