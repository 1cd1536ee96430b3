"""Metrics loaders, the reference data: funded interventions, persons behind holders, needs
and the resources used by plans, offered resources, value rates; and a period's inputs (the
ledger's reads are in loading.py), filtered by the caller's ambito and the query's scope."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from registry import italian
from registry.db import array_contains
from registry.interventions.tables import FundedIntervention
from registry.metrics import catalogue, compute
from registry.metrics.compute import Figures, Inputs, Period
from registry.metrics.loading import (
    Scope,
    _date,
    _dt,
    _raw,
    _text,
    _u,
    load_ledger,
    load_places,
    load_uses,
)
from registry.metrics.periods import _natural
from registry.metrics.rates import Rate, effective_rates
from registry.metrics.tables import TaskLevelOverride, ValueRate
from registry.offload import in_worker_process
from registry.resources.availability import Window, window_from_row
from registry.resources.tables import AvailabilityWindow, Resource


async def load_interventions(
    ambito_id: uuid.UUID, period: Period, scope: Scope
) -> list[compute.InterventionFact]:
    where = (
        (FundedIntervention.ambito == ambito_id)
        & (FundedIntervention.period_start <= period.end)
        & (FundedIntervention.period_end >= period.start)
    )
    if scope.area:
        where &= FundedIntervention.user_area == scope.area
    rows = await FundedIntervention.select(
        FundedIntervention.id,
        FundedIntervention.fund_source,
        FundedIntervention.user_area,
        FundedIntervention.fnps_level,
        FundedIntervention.comuni,
        FundedIntervention.period_start,
        FundedIntervention.period_end,
        FundedIntervention.spent_cents,
        FundedIntervention.delivered_minutes,
        FundedIntervention.plan_ids,
    ).where(where)
    return [
        compute.InterventionFact(
            id=str(r["id"]),
            fund_source=r["fund_source"],
            user_area=r["user_area"],
            fnps_level=r["fnps_level"],
            comuni=tuple(r["comuni"] or ()),
            period_start=_date(r["period_start"]),  # type: ignore[arg-type]
            period_end=_date(r["period_end"]),  # type: ignore[arg-type]
            spent_cents=int(r["spent_cents"] or 0),
            delivered_minutes=int(r["delivered_minutes"] or 0),
            plan_ids=frozenset(str(uuid.UUID(p)) for p in (r["plan_ids"] or ())),
        )
        for r in rows
    ]


async def load_person_aliases(ambito_id: uuid.UUID) -> dict[str, str]:
    rows = await _raw(
        "SELECT u.holder AS holder_id, u.id AS user_id FROM app_user u "
        "JOIN holder h ON h.id = u.holder "
        "WHERE u.ambito = {} AND h.kind = 'individual_volunteer'",
        _u(ambito_id),
    )
    return {str(r["holder_id"]): str(r["user_id"]) for r in rows}


def _holder_filter(scope: Scope, alias: str = "h") -> tuple[str, list[Any]]:
    sql, args = "", []
    if scope.holder_kind:
        sql += f" AND {alias}.kind = {{}}"
        args.append(scope.holder_kind)
    if scope.sector:
        sql += f" AND {alias}.sector = {{}}"
        args.append(scope.sector)
    return sql, args


# (id, plan, comune, area, category, created_at, need_start, plan_start, active_until)
_NeedRow = tuple[
    str, str, str | None, str | None, str, datetime, date | None, date | None, date | None
]


class NeedRows(msgspec.Struct, array_like=True):
    """What the needs' facts are made of, as read: the needs, the first acceptances of their
    matches and the live matches, plain values that travel to a worker process."""

    needs: list[_NeedRow]
    # need -> (first acceptance, first acceptance of a match still live)
    accepted: dict[str, tuple[datetime | None, datetime | None]]
    # (resource, plan, created_at, updated_at) of the live matches
    matches: list[tuple[str, str, date, date]]


async def load_need_rows(ambito_id: uuid.UUID, scope: Scope) -> NeedRows:
    sql = (
        f"SELECT {_text('n.id')} AS id, {_text('n.plan')} AS plan_id, "
        "COALESCE(n.comune, p.comune) AS comune, "
        "p.target_group AS area, n.category_code AS category, n.created_at AS created_at, "
        "n.start_date AS need_start, p.start_date AS plan_start, "
        "COALESCE(n.end_date, p.end_date) AS active_until "
        "FROM plan_need n JOIN care_plan p ON p.id = n.plan "
        "WHERE n.ambito = {} AND p.status <> 'draft'"
    )
    args: list[Any] = [_u(ambito_id)]
    if scope.comune:
        sql += " AND COALESCE(n.comune, p.comune) = {}"
        args.append(scope.comune)
    if scope.area:
        sql += " AND p.target_group = {}"
        args.append(scope.area)
    holder_sql, holder_args = _holder_filter(scope)
    accepted_sql = (
        f"SELECT {_text('m.need')} AS need_id, MIN(e.at) AS first_at, "
        "MIN(CASE WHEN m.status IN ('accepted', 'active', 'completed') THEN e.at END) AS live_at "
        "FROM resource_match m JOIN match_event e ON e.match = m.id "
        "JOIN holder h ON h.id = m.holder "
        f"WHERE m.ambito = {{}} AND e.to_status = 'accepted'{holder_sql} GROUP BY m.need"
    )
    # Live matches, over the time they ran (timestamps are text on SQLite: compared here).
    match_sql = (
        f"SELECT {_text('m.resource')} AS resource_id, {_text('m.plan')} AS plan_id, "
        "m.created_at AS created_at, "
        "m.updated_at AS updated_at FROM resource_match m JOIN holder h ON h.id = m.holder "
        f"WHERE m.ambito = {{}} AND m.status IN ('accepted', 'active', 'completed'){holder_sql}"
    )
    # The three reads together, each on its own connection (a need recorded reads them again
    # before the next filtered answer).
    needs, accepted_rows, match_rows = await asyncio.gather(
        _raw(sql, *args),
        _raw(accepted_sql, _u(ambito_id), *holder_args),
        _raw(match_sql, _u(ambito_id), *holder_args),
    )
    accepted = {str(r["need_id"]): (_dt(r["first_at"]), _dt(r["live_at"])) for r in accepted_rows}
    matches = []
    for r in match_rows:
        created, updated = _dt(r["created_at"]), _dt(r["updated_at"])
        assert created is not None and updated is not None
        matches.append(
            (
                str(r["resource_id"]),
                str(r["plan_id"]),
                italian.today(created),
                italian.today(updated),
            )
        )
    rows = []
    for r in needs:
        created = _dt(r["created_at"])
        assert created is not None
        rows.append(
            (
                str(r["id"]),
                str(r["plan_id"]),
                r["comune"],
                r["area"],
                r["category"],
                created,
                _date(r["need_start"]),
                _date(r["plan_start"]),
                _date(r["active_until"]),
            )
        )
    return NeedRows(rows, accepted, matches)


async def load_needs(
    ambito_id: uuid.UUID, period: Period, scope: Scope
) -> tuple[list[compute.NeedFact], list[compute.ResourcePlanFact]]:
    """The needs of the period and the resources used by plans, read from the ledger."""
    rows = await load_need_rows(ambito_id, scope)
    return needs_from(rows, period, await load_uses(ambito_id, period, scope))


def needs_from(
    rows: NeedRows, period: Period, uses: Sequence[tuple[str | None, str | None, str, str]]
) -> tuple[list[compute.NeedFact], list[compute.ResourcePlanFact]]:
    """The needs' facts of the period and the resources used by plans (pure: a worker
    process runs it beside the figures); `uses` are the verified plan-linked entries
    (need, resource, plan, month), from the ledger or from the months' facts."""
    months_of: dict[str, set[str]] = defaultdict(set)
    pairs: set[tuple[str, str, date, date]] = set(rows.matches)
    bounds: dict[str, tuple[date, date]] = {}  # a month's first and last day, once each
    for need_id, resource_id, plan_id, month in uses:
        if need_id is not None:
            months_of[need_id].add(month)
        if resource_id is not None:
            if month not in bounds:
                first = date.fromisoformat(f"{month}-01")
                bounds[month] = (first, _natural(first, "month").end)
            pairs.add((resource_id, plan_id, *bounds[month]))
    facts = []
    for (
        need_id,
        plan_id,
        comune,
        area,
        category,
        created,
        need_start,
        plan_start,
        until,
    ) in rows.needs:
        first_at, live_at = rows.accepted.get(need_id, (None, None))
        created_on = compute.day_in_italy(created)
        active_from = need_start or plan_start or created_on
        if active_from > period.end and created_on > period.end:
            continue
        facts.append(
            compute.NeedFact(
                id=need_id,
                plan_id=plan_id,
                comune=comune,
                area=area,
                category=category,
                created_at=created,
                active_from=active_from,
                active_until=until,
                first_accepted_at=first_at,
                live_accepted_at=live_at,
                contributed_months=frozenset(months_of.get(need_id, ())),
            )
        )
    # In no particular order: what reads them counts plans per resource (sorting a year's
    # pairs of a large ledger took half of this function's time).
    return facts, [compute.ResourcePlanFact(*pair) for pair in pairs]


async def load_resources(
    ambito_id: uuid.UUID, scope: Scope
) -> tuple[list[compute.OfferedResource], list[compute.ResourceState]]:
    where = Resource.ambito == ambito_id
    if scope.comune:
        where &= array_contains(Resource.comuni, scope.comune)
    if scope.holder_kind:
        where &= Resource.holder.kind == scope.holder_kind
    if scope.sector:
        where &= Resource.holder.sector == scope.sector
    rows = await Resource.select(
        Resource.id,
        Resource.unit,
        Resource.status,
        Resource.confirmed_at,
        Resource.valid_from,
        Resource.valid_until,
    ).where(where)
    states = [
        compute.ResourceState(str(r["id"]), r["status"], _dt(r["confirmed_at"])) for r in rows
    ]
    timed = {
        r["id"]: r
        for r in rows
        if r["unit"] == "hours" and r["status"] not in ("archived", "expired")
    }
    windows: dict[Any, list[Window]] = defaultdict(list)
    if timed:
        for w in await AvailabilityWindow.select().where(
            AvailabilityWindow.resource.is_in(list(timed))
        ):
            windows[w["resource"]].append(window_from_row(w))
    offered = [
        compute.OfferedResource(
            str(rid), tuple(windows[rid]), _date(r["valid_from"]), _date(r["valid_until"])
        )
        for rid, r in timed.items()
        if windows.get(rid)
    ]
    return offered, states


async def stored_rates(ambito_id: uuid.UUID) -> tuple[list[Rate], dict[str, str]]:
    rates = [
        Rate(r["task_level"], r["year"], r["cents_per_hour"], r["source"], False)
        for r in await ValueRate.select().where(ValueRate.ambito == ambito_id)
    ]
    levels = {
        r["category_code"]: r["task_level"]
        for r in await TaskLevelOverride.select().where(TaskLevelOverride.ambito == ambito_id)
    }
    return rates, levels


async def load_inputs(
    ambito_id: uuid.UUID, period: Period, scope: Scope, *, full: bool = True, by_month: bool = False
) -> Inputs:
    interventions = await load_interventions(ambito_id, period, scope)
    served = sorted({p for i in interventions if i.delivered_minutes > 0 for p in i.plan_ids})
    hours, quantities = await load_ledger(ambito_id, period, scope, served)
    presence = await load_places(ambito_id, period, scope, by_month=by_month)
    rates, levels = await stored_rates(ambito_id)
    inputs = Inputs(
        hours=hours,
        quantities=quantities,
        presence=presence,
        interventions=interventions,
        person_of_holder=await load_person_aliases(ambito_id),
        rates=effective_rates(rates),
        category_levels=levels,
        comune=scope.comune,
    )
    if full:
        inputs.needs, inputs.resource_plans = await load_needs(ambito_id, period, scope)
        inputs.offered, inputs.resources = await load_resources(ambito_id, scope)
    return inputs


async def live_figures(
    ambito_id: uuid.UUID, period: Period, scope: Scope, now: datetime
) -> Figures:
    inputs = await load_inputs(ambito_id, period, scope)
    return await in_worker_process(
        catalogue.figures_of_packed, catalogue.pack_inputs(inputs), period, now
    )
