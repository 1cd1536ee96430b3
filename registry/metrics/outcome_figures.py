"""Outcome indicators (issue 15), the figures: the facts the loader hands over
(outcome_loading.py) and the pure rules that make the outcome tables of a period, before
disclosure control (outcomes.py). They run in a worker process."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from registry.metrics import compute, labels
from registry.metrics.compute import Period
from registry.metrics.suppression import Row, Table
from registry.outcomes.gas import t_score

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


TITLES = {name: labels.TABLES[name].title for name in OUTCOME_TABLES}
