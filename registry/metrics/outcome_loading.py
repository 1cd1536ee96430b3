"""Outcome indicators (issue 15), the loader: the facts of one ambito's plans from the
outcomes tables (registry/outcomes), the plans, the ledger and the funded interventions."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from registry.metrics import compute
from registry.metrics.compute import Period
from registry.metrics.loading import _VERIFIED, _d, _raw, _u
from registry.metrics.loading import Scope as LoadScope
from registry.metrics.outcome_figures import (
    ActivationFact,
    ClosureFact,
    DueFact,
    GoalFact,
    LedgerFact,
    LevelFact,
    OutcomeInputs,
    OwnTimeFact,
    PlanFact,
)
from registry.metrics.reference_loading import load_interventions


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
