"""Metrics loaders: aggregate SQL over the ledger, plans, matches, resources, interventions
and interactions, filtered by the caller's ambito and the query's scope.

Reads of the ledger are GROUP BY queries, never row by row: the ledger can hold millions of
entries. The rules are in compute.py and network.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any

import msgspec
from piccolo.columns import Column, ForeignKey
from piccolo.columns.combination import Combinable
from piccolo.table import Table as PiccoloTable

from registry import db
from registry.contributions.tables import ActivityOrganiser, Contribution
from registry.db import array_contains
from registry.holders.tables import Holder
from registry.interventions.tables import FundedIntervention
from registry.metrics import catalogue, compute, network
from registry.metrics.compute import Figures, Inputs, Period
from registry.metrics.periods import _natural
from registry.metrics.rates import (
    Rate,
    effective_rates,
)
from registry.metrics.schemas import (
    FiltersOut,
)
from registry.metrics.suppression import Table
from registry.metrics.tables import (
    InteractionParticipant,
    TaskLevelOverride,
    ValueRate,
)
from registry.partnerships.network import partnership_ties
from registry.resources.availability import Window, window_from_row
from registry.resources.tables import AvailabilityWindow, Resource

# --- the query's scope ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    comune: str | None = None
    area: str | None = None
    holder_kind: str | None = None
    sector: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.comune or self.area or self.holder_kind or self.sector)

    def out(self) -> FiltersOut:
        return FiltersOut(
            comune=self.comune, area=self.area, holder_kind=self.holder_kind, sector=self.sector
        )


# --- SQL helpers (the same statements on SQLite and PostgreSQL) ----------------------------


def _d(value: date) -> Any:
    return value.isoformat() if db.is_sqlite() else value


def _u(value: uuid.UUID) -> Any:
    return str(value) if db.is_sqlite() else value


def _month(column: str) -> str:
    return f"substr({column}, 1, 7)" if db.is_sqlite() else f"to_char({column}, 'YYYY-MM')"


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def _text(column: str) -> str:
    # Ids read as text: the SQLite driver would build a uuid.UUID per row from the column's
    # declared type, and the facts keep strings (a million conversions on a large ledger).
    return f"CAST({column} AS TEXT)"


async def _raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await Contribution.raw(sql, *args)


_LEDGER_FROM = (
    "FROM contribution c "
    "JOIN holder h ON h.id = c.holder "
    "LEFT JOIN care_plan p ON p.id = c.plan_id "
    "LEFT JOIN community_activity a ON a.id = c.activity "
)


def _ledger_from(scope: Scope) -> str:
    """The ledger with only the joins the scope's filters read (reads that take no column of
    holders, plans or activities skip three lookups per entry)."""
    if scope.comune:
        return _LEDGER_FROM
    sql = "FROM contribution c "
    if scope.holder_kind or scope.sector:
        sql += "JOIN holder h ON h.id = c.holder "
    if scope.area:
        sql += "LEFT JOIN care_plan p ON p.id = c.plan_id "
    return sql


_VERIFIED = (
    "(c.verification = 'qr_verified' OR EXISTS "
    "(SELECT 1 FROM contribution_confirmation cc WHERE cc.contribution = c.id))"
)
_COMUNE = "COALESCE(c.comune, p.comune, a.comune)"


def _ledger_where(
    ambito_id: uuid.UUID, period: Period, scope: Scope, *, holders: bool = True
) -> tuple[str, list[Any]]:
    """Effective entries (not corrected, not cancelled, not a cancellation) of the period."""
    sql = (
        "c.ambito = {} AND c.occurred_on >= {} AND c.occurred_on <= {} "
        "AND c.kind <> 'cancellation' "
        "AND NOT EXISTS (SELECT 1 FROM contribution s WHERE s.corrects = c.id)"
    )
    args: list[Any] = [_u(ambito_id), _d(period.start), _d(period.end)]
    if scope.comune:
        sql += f" AND {_COMUNE} = {{}}"
        args.append(scope.comune)
    if scope.area:
        sql += " AND p.target_group = {}"
        args.append(scope.area)
    if holders and scope.holder_kind:
        sql += " AND h.kind = {}"
        args.append(scope.holder_kind)
    if holders and scope.sector:
        sql += " AND h.sector = {}"
        args.append(scope.sector)
    return sql, args


def _uuid_list(values: Sequence[str]) -> str:
    # Literal list of validated UUIDs (never user text): plan ids of funded interventions.
    return ", ".join(f"'{uuid.UUID(v)}'" for v in values)


# --- loaders -------------------------------------------------------------------------------


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


async def load_ledger(
    ambito_id: uuid.UUID,
    period: Period,
    scope: Scope,
    served_plans: Sequence[str],
) -> tuple[list[compute.HoursFact], list[compute.QuantityFact]]:
    where, args = _ledger_where(ambito_id, period, scope)
    if served_plans:
        served = f"c.plan_id IN ({_uuid_list(sorted(served_plans))})"
        plan_sql = f"CASE WHEN {served} THEN {_text('c.plan_id')} END"
        day_sql = f"CASE WHEN {served} THEN c.occurred_on END"
    else:
        plan_sql = day_sql = "NULL"
    sql = (
        f"SELECT {_month('c.occurred_on')} AS month, h.kind AS holder_kind, h.sector AS sector, "
        f"{_COMUNE} AS comune, p.target_group AS area, c.unit AS unit, "
        "CASE WHEN c.unit = 'hours' THEN r.category_code END AS category, "
        # The unit of the resource behind matched hours: "use, not consumption" compares
        # like with like (hours on resources measured in hours).
        "CASE WHEN c.unit = 'hours' AND c.match_id IS NOT NULL THEN r.unit END "
        "AS resource_unit, "
        f"{_VERIFIED} AS verified, (c.match_id IS NOT NULL) AS via_match, "
        f"{plan_sql} AS plan_id, {day_sql} AS day, "
        "SUM(c.quantity) AS quantity, SUM(COALESCE(c.value_cents, 0)) AS value_cents, "
        "COUNT(c.value_cents) AS valued, COUNT(*) AS entries "
        # One join, not a subquery per entry for each of the resource's two columns.
        f"{_LEDGER_FROM} LEFT JOIN resource r ON r.id = c.resource WHERE {where} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"
    )
    hours: list[compute.HoursFact] = []
    quantities: list[compute.QuantityFact] = []
    for r in await _raw(sql, *args):
        if r["unit"] == compute.TIME_UNIT:
            hours.append(
                compute.HoursFact(
                    month=r["month"],
                    holder_kind=r["holder_kind"],
                    sector=r["sector"],
                    comune=r["comune"],
                    area=r["area"],
                    category=r["category"],
                    verified=bool(r["verified"]),
                    via_match=bool(r["via_match"]),
                    minutes=int(r["quantity"] or 0),
                    entries=int(r["entries"]),
                    plan_id=_s(r["plan_id"]),
                    day=_date(r["day"]),
                    resource_unit=r["resource_unit"],
                )
            )
        else:
            quantities.append(
                compute.QuantityFact(
                    month=r["month"],
                    holder_kind=r["holder_kind"],
                    sector=r["sector"],
                    comune=r["comune"],
                    area=r["area"],
                    unit=r["unit"],
                    verified=bool(r["verified"]),
                    quantity=int(r["quantity"] or 0),
                    value_cents=int(r["value_cents"] or 0),
                    valued_entries=int(r["valued"] or 0),
                    entries=int(r["entries"]),
                )
            )
    return hours, quantities


async def load_presence(
    ambito_id: uuid.UUID, period: Period, scope: Scope, *, by_month: bool
) -> list[compute.PresenceFact]:
    where, args = _ledger_where(ambito_id, period, scope)
    month = _month("c.occurred_on") if by_month else "''"
    # Verified rows only: persons and holders are counted over verified entries (compute.py),
    # and this is the largest read of the metrics (one row per person, holder and month).
    sql = (
        f"SELECT {month} AS month, {_text('c.holder')} AS holder_id, h.kind AS holder_kind, "
        f"h.sector AS sector, {_COMUNE} AS comune, p.target_group AS area, "
        f"{_text('c.volunteer')} AS volunteer_id "
        f"{_LEDGER_FROM} WHERE {where} AND {_VERIFIED} GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )
    return [
        compute.PresenceFact(
            month=r["month"],
            holder_id=r["holder_id"],
            holder_kind=r["holder_kind"],
            sector=r["sector"],
            comune=r["comune"],
            area=r["area"],
            volunteer_id=r["volunteer_id"],
            verified=True,
        )
        for r in await _raw(sql, *args)
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


async def load_needs(
    ambito_id: uuid.UUID,
    period: Period,
    scope: Scope,
    uses: Sequence[tuple[str | None, str | None, str, str]] | None = None,
) -> tuple[list[compute.NeedFact], list[compute.ResourcePlanFact]]:
    """The needs of the period and the resources used by plans; `uses` (load_uses) when
    the caller has them from the month facts."""
    sql = (
        "SELECT n.id AS id, n.plan AS plan_id, COALESCE(n.comune, p.comune) AS comune, "
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
    needs = await _raw(sql, *args)

    holder_sql, holder_args = _holder_filter(scope)
    accepted_sql = (
        "SELECT m.need AS need_id, MIN(e.at) AS first_at, "
        "MIN(CASE WHEN m.status IN ('accepted', 'active', 'completed') THEN e.at END) AS live_at "
        "FROM resource_match m JOIN match_event e ON e.match = m.id "
        "JOIN holder h ON h.id = m.holder "
        f"WHERE m.ambito = {{}} AND e.to_status = 'accepted'{holder_sql} GROUP BY m.need"
    )
    accepted = {
        str(r["need_id"]): (_dt(r["first_at"]), _dt(r["live_at"]))
        for r in await _raw(accepted_sql, _u(ambito_id), *holder_args)
    }
    # Which needs got help in which month, and which resources served which plans in which
    # month: one pass over the plan-linked verified entries.
    if uses is None:
        uses = await load_uses(ambito_id, period, scope)
    return await _needs_from(ambito_id, period, scope, needs, accepted, holder_args, uses)


async def load_uses(
    ambito_id: uuid.UUID, period: Period, scope: Scope
) -> list[tuple[str | None, str | None, str, str]]:
    """(need, resource, plan, month) of the verified plan-linked entries of the period."""
    where, args = _ledger_where(ambito_id, period, scope)
    return [
        (_s(r["need_id"]), _s(r["resource_id"]), str(r["plan_id"]), r["month"])
        for r in await _raw(
            f"SELECT {_text('c.need_id')} AS need_id, {_text('c.resource')} AS resource_id, "
            f"{_text('c.plan_id')} AS plan_id, "
            f"{_month('c.occurred_on')} AS month {_ledger_from(scope)} WHERE {where} "
            f"AND c.plan_id IS NOT NULL AND {_VERIFIED} GROUP BY 1, 2, 3, 4",
            *args,
        )
    ]


async def _needs_from(
    ambito_id: uuid.UUID,
    period: Period,
    scope: Scope,
    needs: list[dict[str, Any]],
    accepted: dict[str, tuple[datetime | None, datetime | None]],
    holder_args: list[Any],
    uses: Sequence[tuple[str | None, str | None, str, str]],
) -> tuple[list[compute.NeedFact], list[compute.ResourcePlanFact]]:
    holder_sql, _ = _holder_filter(scope)
    months_of: dict[str, set[str]] = defaultdict(set)
    pairs: set[tuple[str, str, date, date]] = set()
    bounds: dict[str, tuple[date, date]] = {}  # a month's first and last day, once each
    for need_id, resource_id, plan_id, month in uses:
        if need_id is not None:
            months_of[need_id].add(month)
        if resource_id is not None:
            if month not in bounds:
                first = date.fromisoformat(f"{month}-01")
                bounds[month] = (first, _natural(first, "month").end)
            pairs.add((resource_id, plan_id, *bounds[month]))
    # Live matches, over the time they ran (timestamps are text on SQLite: compared here).
    match_sql = (
        "SELECT m.resource AS resource_id, m.plan AS plan_id, m.created_at AS created_at, "
        "m.updated_at AS updated_at FROM resource_match m JOIN holder h ON h.id = m.holder "
        f"WHERE m.ambito = {{}} AND m.status IN ('accepted', 'active', 'completed'){holder_sql}"
    )
    for r in await _raw(match_sql, _u(ambito_id), *holder_args):
        created, updated = _dt(r["created_at"]), _dt(r["updated_at"])
        assert created is not None and updated is not None
        pairs.add((str(r["resource_id"]), str(r["plan_id"]), created.date(), updated.date()))

    facts = []
    for r in needs:
        need_id = str(r["id"])
        created = _dt(r["created_at"])
        assert created is not None
        first_at, live_at = accepted.get(need_id, (None, None))
        active_from = _date(r["need_start"]) or _date(r["plan_start"]) or created.date()
        if active_from > period.end and created.date() > period.end:
            continue
        facts.append(
            compute.NeedFact(
                id=need_id,
                plan_id=str(r["plan_id"]),
                comune=r["comune"],
                area=r["area"],
                category=r["category"],
                created_at=created,
                active_from=active_from,
                active_until=_date(r["active_until"]),
                first_accepted_at=first_at,
                live_accepted_at=live_at,
                contributed_months=frozenset(months_of.get(need_id, ())),
            )
        )
    return facts, [compute.ResourcePlanFact(*pair) for pair in sorted(pairs)]


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
    presence = await load_presence(ambito_id, period, scope, by_month=by_month)
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


# --- month facts: the mergeable part of a period's inputs ------------------------------------


@dataclass(slots=True)
class LedgerMonth:
    """The ledger's facts of one calendar month without filters, exactly the month's share
    of what load_inputs(by_month=True) reads from the ledger: a period of whole months is
    the concatenation of its months' facts (every fact belongs to one month)."""

    hours: list[compute.HoursFact] = field(default_factory=list)
    quantities: list[compute.QuantityFact] = field(default_factory=list)
    presence: list[compute.PresenceFact] = field(default_factory=list)
    # (need, resource, plan, month) of the verified plan-linked entries (load_uses).
    uses: list[tuple[str | None, str | None, str, str]] = field(default_factory=list)


def _after_month(cls: type) -> attrgetter[Any]:
    # Every field but the first, the month, in order: the stored row of a fact.
    names = [f.name for f in fields(cls)]
    assert names[0] == "month"
    return attrgetter(*names[1:])


_HOURS_FIELDS = _after_month(compute.HoursFact)
_QUANTITY_FIELDS = _after_month(compute.QuantityFact)
_PRESENCE_FIELDS = _after_month(compute.PresenceFact)
_S = str | None


class _MonthRows(msgspec.Struct, array_like=True):
    """A LedgerMonth as stored: rows as arrays, without the month each fact repeats (a
    month of a large ledger is tens of thousands of facts: decoding named fields for each
    cost more than reading the ledger)."""

    month: str
    hours: list[tuple[str, str, _S, _S, _S, bool, bool, int, int, _S, date | None, _S]]
    quantities: list[tuple[str, str, _S, _S, str, bool, int, int, int, int]]
    presence: list[tuple[str, str, str, _S, _S, _S, bool]]
    uses: list[tuple[_S, _S, str, str]]


def encode_month(month: str, facts: LedgerMonth) -> str:
    rows = _MonthRows(
        month=month,
        hours=[_HOURS_FIELDS(f) for f in facts.hours],
        quantities=[_QUANTITY_FIELDS(f) for f in facts.quantities],
        presence=[_PRESENCE_FIELDS(f) for f in facts.presence],
        uses=facts.uses,
    )
    return msgspec.json.encode(rows).decode()


def decode_month(raw: str | bytes) -> LedgerMonth:
    rows = msgspec.json.decode(raw, type=_MonthRows)
    m = rows.month
    return LedgerMonth(
        hours=[compute.HoursFact(m, *r) for r in rows.hours],
        quantities=[compute.QuantityFact(m, *r) for r in rows.quantities],
        presence=[compute.PresenceFact(m, *r) for r in rows.presence],
        uses=rows.uses,
    )


_EVER = Period("ever", date(1, 1, 1), date(9999, 12, 31))


async def served_plans(ambito_id: uuid.UUID) -> list[str]:
    """Plans served by any funded intervention that reports delivered hours, whatever its
    dates: month facts then hold the same whichever period they are merged into (a plan
    that no intervention of that period serves only splits a sum; allocate_paid takes
    nothing from it)."""
    interventions = await load_interventions(ambito_id, _EVER, Scope())
    return sorted({p for i in interventions if i.delivered_minutes > 0 for p in i.plan_ids})


async def load_ledger_months(
    ambito_id: uuid.UUID, span: Period, served: Sequence[str]
) -> dict[str, LedgerMonth]:
    """The month facts of every month of `span` (a range of whole months, the last one
    possibly running to today): three grouped reads of the ledger for the whole span."""
    months = {m.key: LedgerMonth() for m in compute.buckets(span.start, span.end, "month")}
    hours, quantities = await load_ledger(ambito_id, span, Scope(), served)
    for h in hours:
        months[h.month].hours.append(h)
    for q in quantities:
        months[q.month].quantities.append(q)
    for p in await load_presence(ambito_id, span, Scope(), by_month=True):
        months[p.month].presence.append(p)
    for use in await load_uses(ambito_id, span, Scope()):
        months[use[3]].uses.append(use)
    return months


async def inputs_from_months(
    ambito_id: uuid.UUID, span: Period, months: Sequence[LedgerMonth], *, full: bool = True
) -> Inputs:
    """A span's month-grouped inputs from its months' facts, with the reference data (plans,
    needs, resources, interventions, rates: small tables) read now."""
    rates, levels = await stored_rates(ambito_id)
    inputs = Inputs(
        hours=[h for m in months for h in m.hours],
        quantities=[q for m in months for q in m.quantities],
        presence=[p for m in months for p in m.presence],
        interventions=await load_interventions(ambito_id, span, Scope()),
        person_of_holder=await load_person_aliases(ambito_id),
        rates=effective_rates(rates),
        category_levels=levels,
    )
    if full:
        uses = [u for m in months for u in m.uses]
        inputs.needs, inputs.resource_plans = await load_needs(ambito_id, span, Scope(), uses)
        inputs.offered, inputs.resources = await load_resources(ambito_id, Scope())
    return inputs


async def live_figures(
    ambito_id: uuid.UUID, period: Period, scope: Scope, now: datetime
) -> Figures:
    inputs = await load_inputs(ambito_id, period, scope)
    return await asyncio.to_thread(catalogue.figures, inputs, period, now)


# --- network loaders -----------------------------------------------------------------------


async def load_network(
    ambito_id: uuid.UUID, end: date, scope: Scope
) -> tuple[list[network.Node], list[network.Participation], list[network.Tie]]:
    where = Holder.ambito == ambito_id
    if scope.holder_kind:
        where &= Holder.kind == scope.holder_kind
    if scope.sector:
        where &= Holder.sector == scope.sector
    if scope.comune:
        where &= array_contains(Holder.comuni, scope.comune)
    nodes = [
        network.Node(
            id=str(r["id"]),
            kind=r["kind"],
            sector=r["sector"],
            since=_dt(r["created_at"]).date(),  # type: ignore[union-attr]
            active=r["status"] != "archived",
        )
        for r in await Holder.select(
            Holder.id, Holder.kind, Holder.sector, Holder.created_at, Holder.status
        ).where(where)
    ]
    # Participations of the whole history up to `end`: "new ties" need to know the old ones.
    everything = Period("history", date(1900, 1, 1), end)
    where_sql, args = _ledger_where(ambito_id, everything, Scope())
    sql = (
        "SELECT c.holder AS holder_id, c.plan_id AS plan_id, c.activity AS activity_id, "
        f"{_month('c.occurred_on')} AS month, MIN(c.occurred_on) AS first_on "
        f"{_LEDGER_FROM} WHERE {where_sql} AND {_VERIFIED} "
        "AND (c.plan_id IS NOT NULL OR c.activity IS NOT NULL) GROUP BY 1, 2, 3, 4"
    )
    participations = []
    for r in await _raw(sql, *args):
        day = _date(r["first_on"])
        assert day is not None
        if r["plan_id"] is not None:
            participations.append(
                network.Participation(str(r["holder_id"]), f"plan:{r['plan_id']}", day)
            )
        if r["activity_id"] is not None:
            participations.append(
                network.Participation(str(r["holder_id"]), f"activity:{r['activity_id']}", day)
            )
    ties = await _occasion_ties(
        ActivityOrganiser,
        ActivityOrganiser.activity,
        ActivityOrganiser.activity.starts_on,
        (ActivityOrganiser.activity.ambito == ambito_id)
        & (ActivityOrganiser.activity.starts_on <= end)
        & (ActivityOrganiser.activity.status != "cancelled"),
        "joint_activity",
    )
    by_hand = await _occasion_ties(
        InteractionParticipant,
        InteractionParticipant.interaction,
        InteractionParticipant.interaction.occurred_on,
        (InteractionParticipant.interaction.ambito == ambito_id)
        & (InteractionParticipant.interaction.occurred_on <= end),
        "interaction",
    )
    ties.extend(by_hand)
    # Co-programming attendance and co-design partners (issue 16), less what was tied by hand.
    ties.extend(await partnership_ties(ambito_id, end, by_hand))
    return nodes, participations, ties


async def _occasion_ties(
    link: type[PiccoloTable], occasion: ForeignKey, day: Column, where: Combinable, kind: str
) -> list[network.Tie]:
    """Ties among the holders of each occasion (an activity's organisers, an interaction's
    participants: `link` rows with a `holder`), on the occasion's day."""
    grouped: dict[str, tuple[date, list[str]]] = {}
    for r in await link.select(occasion, link.holder, day.as_alias("day")).where(where):  # type: ignore[attr-defined]
        on = _date(r["day"])
        grouped.setdefault(str(r[occasion._meta.name]), (on, []))[1].append(str(r["holder"]))  # type: ignore[arg-type]
    return [t for on, holders in grouped.values() for t in _clique(holders, on, kind)]


def _clique(holders: Sequence[str], day: date, kind: str) -> list[network.Tie]:
    ordered = sorted(set(holders))
    return [network.Tie(a, b, day, kind) for i, a in enumerate(ordered) for b in ordered[i + 1 :]]


def _all_ties(
    participations: Sequence[network.Participation],
    ties: Sequence[network.Tie],
    periods: Sequence[Period],
    granularity: str,
) -> list[network.Tie]:
    """Recorded ties and the ties derived period by period over the whole history (new ties
    need the old ones)."""
    first_day = min([p.on for p in participations] + [t.on for t in ties] + [periods[0].start])
    history = compute.buckets(first_day, periods[-1].end, granularity)
    return [*ties, *network.derived_ties(participations, history)]


def network_periods(
    nodes: Sequence[network.Node],
    participations: Sequence[network.Participation],
    ties: Sequence[network.Tie],
    periods: Sequence[Period],
    granularity: str,
) -> tuple[Table, Table, list[dict[str, Any]]]:
    everything = _all_ties(participations, ties, periods, granularity)
    return network.network_table(nodes, everything, periods)
