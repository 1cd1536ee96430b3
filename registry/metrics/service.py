"""Metrics for the Ufficio di Piano: the loaders (aggregate SQL over the ledger, plans,
matches, resources, interventions and interactions), publication with suppression, the
period snapshots and the value-rate table.

The rules are in compute.py and network.py; this module only reads, filters by the caller's
ambito and the query's filters, and hands aggregates over. Reads of the ledger are GROUP BY
queries, never row by row: the ledger can hold millions of entries.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from registry import db
from registry.access import Principal, Role
from registry.ambiti.tables import Ambito
from registry.common import now as utcnow
from registry.contributions.tables import ActivityOrganiser, CommunityActivity, Contribution
from registry.db import array_contains, unit_of_work
from registry.errors import InvalidInput, NotFound
from registry.holders.tables import Holder
from registry.interventions.tables import FundedIntervention
from registry.metrics import compute, network
from registry.metrics.compute import Figures, Inputs, Period
from registry.metrics.rates import (
    DEFAULT_CATEGORY_LEVELS,
    DEFAULT_TASK_LEVEL,
    TASK_LEVELS,
    Rate,
    effective_rates,
)
from registry.metrics.schemas import (
    CategoryLevelOut,
    CoverageOut,
    FiltersOut,
    Headline,
    Money,
    NetworkOut,
    PeriodOut,
    PublishedTable,
    RateIn,
    RateOut,
    RateTableOut,
    RateUseOut,
    SectorBlock,
    SummaryOut,
    SuppressedCell,
    Suppression,
    TimeseriesOut,
    TrendOut,
)
from registry.metrics.suppression import Row, Suppressed, Table, suppress
from registry.metrics.tables import (
    Interaction,
    InteractionParticipant,
    MetricsSnapshot,
    TaskLevelOverride,
    ValueRate,
)
from registry.resources.availability import Window, window_from_row
from registry.resources.tables import AvailabilityWindow, Resource

SNAPSHOT_VERSION = 2
# A snapshot older than this is not served: the dashboard computes live instead.
SNAPSHOT_MAX_AGE = timedelta(hours=36)
# The snapshot job recomputes an unchanged ambito once this old (see take_snapshot).
SNAPSHOT_REFRESH = timedelta(hours=20)
# A run this long (a ledger of millions of entries) waits three times its length before the
# next refresh of a changed ambito.
SLOW_SNAPSHOT_SECONDS = 60.0
MAX_RANGE_DAYS = 366 * 5
SISTAN_MINIMUM = 3


def min_count() -> int:
    """The suppression threshold (REGISTRY_METRICS_MIN_COUNT, default 5, never below the
    Sistan minimum of 3)."""
    raw = os.environ.get("REGISTRY_METRICS_MIN_COUNT", "").strip()
    if not raw:
        return 5
    try:
        value = int(raw)
    except ValueError as error:
        raise RuntimeError("REGISTRY_METRICS_MIN_COUNT must be a whole number") from error
    return max(SISTAN_MINIMUM, value)


# --- the query ---------------------------------------------------------------------------


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


def check_range(start: date | None, end: date | None, today: date) -> Period:
    """The period asked (default: the current calendar year), validated."""
    if start is None and end is None:
        start, end = date(today.year, 1, 1), date(today.year, 12, 31)
    elif start is None:
        raise InvalidInput("give 'from' together with 'to'", field="from")
    elif end is None:
        raise InvalidInput("give 'to' together with 'from'", field="to")
    if end < start:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput("the period can span at most five years", field="to")
    return Period(calendar_key(start, end) or f"{start.isoformat()}/{end.isoformat()}", start, end)


def calendar_key(start: date, end: date) -> str | None:
    """'2025', '2025-Q2' or '2025-03' when [start, end] is exactly that calendar period."""
    if start.day != 1:
        return None
    for granularity, months in (("year", (1,)), ("quarter", (1, 4, 7, 10)), ("month", None)):
        if months is not None and start.month not in months:
            continue
        natural = _natural(start, granularity)
        if natural.end == end:
            return natural.key
    return None


def _natural(start: date, granularity: str) -> Period:
    step = {"month": 1, "quarter": 3, "year": 12}[granularity]
    month = start.month - 1 + step
    following = date(start.year + month // 12, month % 12 + 1, 1)
    return Period(compute.bucket_key(start, granularity), start, following - timedelta(days=1))


def _require_reader(actor: Principal) -> None:
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)


async def _ambito_code(ambito_id: uuid.UUID) -> str:
    row = await Ambito.select(Ambito.code).where(Ambito.id == ambito_id).first()
    if row is None:
        raise NotFound("no such ambito")
    return row["code"]


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


async def _raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await Contribution.raw(sql, *args)


_LEDGER_FROM = (
    "FROM contribution c "
    "JOIN holder h ON h.id = c.holder "
    "LEFT JOIN care_plan p ON p.id = c.plan_id "
    "LEFT JOIN community_activity a ON a.id = c.activity "
)
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
        plan_sql = f"CASE WHEN {served} THEN c.plan_id END"
        day_sql = f"CASE WHEN {served} THEN c.occurred_on END"
    else:
        plan_sql = day_sql = "NULL"
    sql = (
        f"SELECT {_month('c.occurred_on')} AS month, h.kind AS holder_kind, h.sector AS sector, "
        f"{_COMUNE} AS comune, p.target_group AS area, c.unit AS unit, "
        "CASE WHEN c.unit = 'hours' THEN "
        "(SELECT r.category_code FROM resource r WHERE r.id = c.resource) END AS category, "
        f"{_VERIFIED} AS verified, (c.match_id IS NOT NULL) AS via_match, "
        f"{plan_sql} AS plan_id, {day_sql} AS day, "
        "SUM(c.quantity) AS quantity, SUM(COALESCE(c.value_cents, 0)) AS value_cents, "
        "COUNT(c.value_cents) AS valued, COUNT(*) AS entries "
        f"{_LEDGER_FROM} WHERE {where} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
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
    sql = (
        f"SELECT {month} AS month, c.holder AS holder_id, h.kind AS holder_kind, "
        f"h.sector AS sector, {_COMUNE} AS comune, p.target_group AS area, "
        f"c.volunteer AS volunteer_id, {_VERIFIED} AS verified "
        f"{_LEDGER_FROM} WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
    )
    return [
        compute.PresenceFact(
            month=r["month"],
            holder_id=str(r["holder_id"]),
            holder_kind=r["holder_kind"],
            sector=r["sector"],
            comune=r["comune"],
            area=r["area"],
            volunteer_id=_s(r["volunteer_id"]),
            verified=bool(r["verified"]),
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
    ambito_id: uuid.UUID, period: Period, scope: Scope
) -> tuple[list[compute.NeedFact], list[compute.ResourcePlanFact]]:
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
    # One pass over the plan-linked verified entries: which needs got help in which month,
    # and which resources served which plans in which month.
    where, args = _ledger_where(ambito_id, period, scope)
    months_of: dict[str, set[str]] = defaultdict(set)
    pairs: set[tuple[str, str, date, date]] = set()
    for r in await _raw(
        f"SELECT c.need_id AS need_id, c.resource AS resource_id, c.plan_id AS plan_id, "
        f"{_month('c.occurred_on')} AS month {_LEDGER_FROM} WHERE {where} "
        f"AND c.plan_id IS NOT NULL AND {_VERIFIED} GROUP BY 1, 2, 3, 4",
        *args,
    ):
        if r["need_id"] is not None:
            months_of[str(r["need_id"])].add(r["month"])
        if r["resource_id"] is not None:
            first = date.fromisoformat(f"{r['month']}-01")
            pairs.add(
                (str(r["resource_id"]), str(r["plan_id"]), first, _natural(first, "month").end)
            )
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


async def live_figures(
    ambito_id: uuid.UUID, period: Period, scope: Scope, now: datetime
) -> Figures:
    inputs = await load_inputs(ambito_id, period, scope)
    return await asyncio.to_thread(compute.figures, inputs, period, now)


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
    ties: list[network.Tie] = []
    organisers: dict[str, tuple[date, list[str]]] = {}
    for r in await ActivityOrganiser.select(
        ActivityOrganiser.activity,
        ActivityOrganiser.holder,
        ActivityOrganiser.activity.starts_on.as_alias("starts_on"),
    ).where(
        (ActivityOrganiser.activity.ambito == ambito_id)
        & (ActivityOrganiser.activity.starts_on <= end)
        & (ActivityOrganiser.activity.status != "cancelled")
    ):
        day = _date(r["starts_on"])
        organisers.setdefault(str(r["activity"]), (day, []))[1].append(str(r["holder"]))  # type: ignore[arg-type]
    for day, holders in organisers.values():
        ties.extend(_clique(holders, day, "joint_activity"))
    recorded: dict[str, tuple[date, list[str]]] = {}
    for r in await InteractionParticipant.select(
        InteractionParticipant.interaction,
        InteractionParticipant.holder,
        InteractionParticipant.interaction.occurred_on.as_alias("occurred_on"),
    ).where(
        (InteractionParticipant.interaction.ambito == ambito_id)
        & (InteractionParticipant.interaction.occurred_on <= end)
    ):
        day = _date(r["occurred_on"])
        recorded.setdefault(str(r["interaction"]), (day, []))[1].append(str(r["holder"]))  # type: ignore[arg-type]
    for day, holders in recorded.values():
        ties.extend(_clique(holders, day, "interaction"))
    return nodes, participations, ties


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


# --- publication ---------------------------------------------------------------------------


def publish(tables: Sequence[Table], threshold: int) -> tuple[list[PublishedTable], Suppression]:
    published: list[PublishedTable] = []
    cells: list[Suppressed] = []
    for table in tables:
        safe, withheld = suppress(table, threshold)
        cells.extend(withheld)
        published.append(
            PublishedTable(
                name=safe.name,
                title=safe.title,
                columns=safe.columns,
                rows=[{**r.key, **r.data} for r in safe.rows],
                total=dict(safe.total.data) if safe.total is not None else None,
                notes=list(safe.notes),
            )
        )
    return published, _suppression(cells, threshold)


def _suppression(cells: Sequence[Suppressed], threshold: int) -> Suppression:
    return Suppression(
        threshold=threshold,
        cells=[
            SuppressedCell(table=c.table, key=c.key, column=c.column, reason=c.reason)
            for c in cells
        ],
        note=(
            f"Valori nascosti (null): conteggi tra 1 e {threshold - 1} e le somme su di essi "
            "(primaria); celle che permetterebbero di ricalcolarli dai totali (secondaria); "
            "rapporti calcolati da valori nascosti (derivata). "
            f"{len(cells)} celle nascoste."
            if cells
            else f"Nessun valore nascosto (soglia {threshold})."
        ),
    )


def money(info: compute.MoneyInfo, amount: float | None) -> Money:
    years = info.rate_years
    return Money(
        amount_eur=amount,
        method=info.method,
        rate_eur_per_hour=info.rate_eur_per_hour,
        rate_year=years[-1] if years else None,
        rate_years=years,
        rates=[
            RateUseOut(
                task_level=r.task_level,
                year=r.year,
                eur_per_hour=r.eur_per_hour,
                source=r.source,
                is_default=r.is_default,
                hours=r.hours,
            )
            for r in info.rates
        ],
        uses_default_rates=info.uses_defaults,
    )


def _headline(fig: Figures, tables: dict[str, PublishedTable]) -> Headline:
    totals = tables["totals"].rows[0]
    coverage = tables["need_coverage"].total or {}
    use = tables["use"].rows[0]
    ttm = tables["time_to_match"].rows[0]
    fresh = tables["freshness"].rows[0]
    return Headline(
        persons=totals["persons"],
        holders=totals["holders"],
        entries=totals["entries"],
        hours_verified=totals["hours_verified"],
        hours_paid_by_interventions=totals["hours_paid_by_interventions"],
        hours_community=totals["hours_community"],
        fte=totals["fte"],
        hours_self_reported_unverified=totals["hours_self_reported_unverified"],
        replacement_value=money(
            fig.money["replacement_value_eur"], totals["replacement_value_eur"]
        ),
        in_kind_value=money(fig.money["in_kind_value_eur"], totals["in_kind_value_eur"]),
        community_value=money(fig.money["community_value_eur"], totals["community_value_eur"]),
        public_spending=money(fig.money["public_eur"], totals["public_eur"]),
        leverage_ratio=totals["leverage_ratio"],
        coproduction_share=totals["coproduction_share"],
        needs=coverage.get("needs"),
        share_needs_community_only=coverage.get("share_community_only"),
        share_needs_intervention_only=coverage.get("share_intervention_only"),
        share_needs_both=coverage.get("share_both"),
        share_needs_none=coverage.get("share_none"),
        matched_over_offered_hours=use["matched_over_offered"],
        share_resources_reused=use["share_resources_reused"],
        share_needs_matched=use["share_needs_matched"],
        time_to_match_median_days=ttm["median_days"],
        time_to_match_p90_days=ttm["p90_days"],
        share_resources_confirmed_90_days=fresh["share_confirmed"],
    )


SUMMARY_TABLES = (
    "totals",
    "by_sector",
    "by_kind",
    "by_comune",
    "by_area",
    "by_task_level",
    "by_unit",
    "public_by_fund_source",
    "need_coverage",
    "need_coverage_by_comune",
    "use",
    "time_to_match",
    "freshness",
)
COVERAGE_TABLES = ("need_coverage", "need_coverage_by_comune", "use", "time_to_match")


# --- snapshots -----------------------------------------------------------------------------


class _NetworkPayload(msgspec.Struct):
    row: dict[str, Any]
    by_sector: list[dict[str, Any]]
    blocks: list[dict[str, Any]]


class _Payload(msgspec.Struct):
    figures: Figures
    network: _NetworkPayload | None = None
    # data_fingerprint() when the figures were computed: a snapshot whose data has changed
    # since is not served.
    fingerprint: str = ""
    took_seconds: float = 0.0


# What the figures are computed from, per table: the ledger and its confirmations are
# append-only, so their latest row (an index lookup on (ambito, time)) moves with every
# change; the other tables are small, edited in place or deleted from: their count and
# latest update together.
_APPEND_ONLY = {"contribution", "contribution_confirmation"}
_FINGERPRINT_PARTS = (
    ("contribution", "created_at"),
    ("contribution_confirmation", "confirmed_at"),
    ("funded_intervention", "updated_at"),
    ("holder_interaction", "created_at"),
    ("community_activity", "updated_at"),
    ("resource_match", "updated_at"),
    ("care_plan", "updated_at"),
    ("plan_need", "updated_at"),
    ("holder", "updated_at"),
    ("resource", "updated_at"),
    ("resource", "confirmed_at"),
    ("metrics_value_rate", "updated_at"),
    ("metrics_task_level", "updated_at"),
)


async def data_fingerprint(ambito_id: uuid.UUID) -> str:
    """A short text that changes whenever data the metrics read changes in the ambito:
    index lookups on `ambito`, far cheaper than reading the ledger."""
    parts = []
    for table, column in _FINGERPRINT_PARTS:
        # As text: one UNION column for the timestamps of every table, on both databases.
        count = "0" if table in _APPEND_ONLY else "COUNT(*)"
        parts.append(
            f"SELECT {count} AS n, CAST(MAX({column}) AS TEXT) AS latest "
            f"FROM {table} WHERE ambito = {{}}"
        )
    sql = " UNION ALL ".join(parts)
    rows = await _raw(sql, *([_u(ambito_id)] * len(parts)))
    return "|".join(f"{r['n']}:{_s(r['latest']) or ''}" for r in rows)


async def _snapshots(
    ambito_id: uuid.UUID, granularity: str, periods: Sequence[Period]
) -> list[_Payload] | None:
    """The snapshot of every period, in order (one query), or None when a period is not a
    whole calendar period or its snapshot is missing, of another version, too old, or older
    than a change of the data."""
    if any(calendar_key(p.start, p.end) != p.key for p in periods):
        return None
    rows = await MetricsSnapshot.select(
        MetricsSnapshot.period_key,
        MetricsSnapshot.payload,
        MetricsSnapshot.computed_at,
        MetricsSnapshot.version,
    ).where(
        (MetricsSnapshot.ambito == ambito_id)
        & (MetricsSnapshot.granularity == granularity)
        & MetricsSnapshot.period_key.is_in([p.key for p in periods] or [""])
    )
    by_key = {r["period_key"]: r for r in rows}
    fingerprint = await data_fingerprint(ambito_id)
    found = []
    for p in periods:
        row = by_key.get(p.key)
        if row is None or row["version"] != SNAPSHOT_VERSION:
            return None
        if utcnow() - _dt(row["computed_at"]) > SNAPSHOT_MAX_AGE:  # type: ignore[operator]
            return None
        payload = msgspec.json.decode(row["payload"], type=_Payload)
        if payload.fingerprint != fingerprint:
            return None  # the data changed after the snapshot: compute live
        found.append(payload)
    return found


def _granularity_of(key: str) -> str:
    if "-Q" in key:
        return "quarter"
    return "month" if "-" in key else "year"


async def period_figures(
    ambito_id: uuid.UUID, period: Period, scope: Scope, now: datetime, *, live: bool
) -> tuple[Figures, str]:
    """The figures of a period: from its snapshot when it is a whole calendar period without
    filters and a fresh snapshot exists, computed live otherwise."""
    key = calendar_key(period.start, period.end)
    if not live and scope.empty and key is not None:
        found = await _snapshots(
            ambito_id, _granularity_of(key), [Period(key, period.start, period.end)]
        )
        if found is not None:
            return found[0].figures, "snapshot"
    return await live_figures(ambito_id, period, scope, now), "live"


async def take_snapshot(
    now: datetime,
    ambito_ids: Sequence[uuid.UUID] | None = None,
    *,
    years: int = 5,
    only_changed: bool = False,
) -> dict[str, Any]:
    """The snapshot job: figures and network of every month, quarter and year from the
    first data (at most `years` calendar years back) to the current period, for every ambito.

    `only_changed` skips an ambito whose data has not changed since its snapshots, unless
    they are older than SNAPSHOT_REFRESH (the figures of the current period move with the
    clock too)."""
    started = time.perf_counter()
    query = Ambito.select(Ambito.id)
    if ambito_ids is not None:
        query = query.where(Ambito.id.is_in(list(ambito_ids)))
    ambiti = [r["id"] for r in await query]
    written = skipped = 0
    for ambito_id in ambiti:
        fingerprint = await data_fingerprint(ambito_id)
        if only_changed and await _up_to_date(ambito_id, fingerprint, now):
            skipped += 1
            continue
        written += await _snapshot_ambito(ambito_id, now, years, fingerprint)
    return {
        "ambiti": len(ambiti),
        "unchanged": skipped,
        "periods": written,
        "seconds": round(time.perf_counter() - started, 2),
    }


async def _up_to_date(ambito_id: uuid.UUID, fingerprint: str, now: datetime) -> bool:
    key = str(now.date().year)
    row = (
        await MetricsSnapshot.select(MetricsSnapshot.payload, MetricsSnapshot.clock)
        .where(
            (MetricsSnapshot.ambito == ambito_id)
            & (MetricsSnapshot.granularity == "year")
            & (MetricsSnapshot.period_key == key)
            & (MetricsSnapshot.version == SNAPSHOT_VERSION)
        )
        .first()
    )
    if row is None:
        return False
    age = now - _dt(row["clock"])  # type: ignore[operator]
    if age > SNAPSHOT_REFRESH:
        return False
    payload = msgspec.json.decode(row["payload"], type=_Payload)
    if payload.fingerprint == fingerprint:
        return True
    # Changed, but the last run was long compared with its age: a very large ambito is not
    # recomputed back to back (the dashboard answers live meanwhile, never stale).
    slow = payload.took_seconds >= SLOW_SNAPSHOT_SECONDS
    return slow and age.total_seconds() < 3 * payload.took_seconds


async def _first_day(ambito_id: uuid.UUID) -> date | None:
    candidates = []
    for sql in (
        "SELECT MIN(occurred_on) AS d FROM contribution WHERE ambito = {}",
        "SELECT MIN(period_start) AS d FROM funded_intervention WHERE ambito = {}",
        "SELECT MIN(starts_on) AS d FROM community_activity WHERE ambito = {}",
        "SELECT MIN(occurred_on) AS d FROM holder_interaction WHERE ambito = {}",
    ):
        rows = await _raw(sql, _u(ambito_id))
        if rows and rows[0]["d"] is not None:
            candidates.append(_date(rows[0]["d"]))
    return min(candidates) if candidates else None  # type: ignore[type-var]


def _period_figures(history: Inputs, index: Any, period: Period, now: datetime) -> Figures:
    return compute.figures(compute.slice_inputs(history, index, period), period, now)


async def _snapshot_ambito(
    ambito_id: uuid.UUID, now: datetime, years: int, fingerprint: str
) -> int:
    started = time.perf_counter()
    today = now.date()
    first = await _first_day(ambito_id)
    earliest = date(today.year - years + 1, 1, 1)
    start = max(first, earliest) if first else date(today.year, 1, 1)
    start = min(start, date(today.year, 1, 1))
    nodes, participations, ties = await load_network(ambito_id, today, Scope())
    # One pass over the ledger for the whole history, grouped by month; every period is
    # then computed from its months (the same facts a query for that period would return).
    span = Period("history", date(start.year, 1, 1), date(today.year, 12, 31))
    history = await load_inputs(ambito_id, span, Scope(), by_month=True)
    index = compute.month_index(history)
    written = 0
    year_end = date(today.year, 12, 31)
    for granularity in ("month", "quarter", "year"):
        # Whole calendar periods (the current one too), as the dashboard asks for them.
        periods = [
            p
            for p in compute.buckets(date(start.year, 1, 1), year_end, granularity)
            if p.start <= today
        ]
        everything = _all_ties(participations, ties, periods, granularity)
        table, pictures = await asyncio.to_thread(
            network.network_tables, nodes, everything, periods
        )
        net = {row.key["period"]: row.data for row in table.rows}
        by_sector_all = {p.key: picture for p, picture in zip(periods, pictures, strict=True)}
        for period in periods:
            fig = await asyncio.to_thread(_period_figures, history, index, period, now)
            by_sector, blocks = by_sector_all[period.key]
            payload = _Payload(
                figures=fig,
                network=_NetworkPayload(
                    row=net[period.key],
                    by_sector=[{**r.key, **r.data} for r in by_sector.rows],
                    blocks=blocks,
                ),
                fingerprint=fingerprint,
                # Elapsed so far: the current year, written last, carries about the whole run.
                took_seconds=round(time.perf_counter() - started, 3),
            )
            await _store_snapshot(ambito_id, granularity, period, now, payload)
            written += 1
    return written


async def _store_snapshot(
    ambito_id: uuid.UUID, granularity: str, period: Period, now: datetime, payload: _Payload
) -> None:
    values = {
        MetricsSnapshot.period_start: period.start,
        MetricsSnapshot.period_end: period.end,
        MetricsSnapshot.clock: now,
        MetricsSnapshot.computed_at: utcnow(),
        MetricsSnapshot.version: SNAPSHOT_VERSION,
        MetricsSnapshot.payload: msgspec.json.encode(payload).decode(),
    }
    where = (
        (MetricsSnapshot.ambito == ambito_id)
        & (MetricsSnapshot.granularity == granularity)
        & (MetricsSnapshot.period_key == period.key)
    )
    async with unit_of_work():
        if await MetricsSnapshot.exists().where(where):
            await MetricsSnapshot.update(values).where(where)
        else:
            await MetricsSnapshot.insert(
                MetricsSnapshot(
                    ambito=ambito_id,
                    granularity=granularity,
                    period_key=period.key,
                    **{c._meta.name: v for c, v in values.items()},
                )
            )


# --- the answers ---------------------------------------------------------------------------


async def summary(
    actor: Principal,
    period: Period,
    scope: Scope,
    *,
    live: bool = False,
    now: datetime | None = None,
) -> SummaryOut:
    _require_reader(actor)
    moment = now or utcnow()
    fig, source = await period_figures(actor.ambito_id, period, scope, moment, live=live)
    return await _summary_out(actor, fig, scope, source)


async def _summary_out(
    actor: Principal, fig: Figures, scope: Scope, source: str, names: Sequence[str] = SUMMARY_TABLES
) -> SummaryOut:
    threshold = min_count()
    published, suppression = publish([fig.tables[n] for n in SUMMARY_TABLES], threshold)
    by_name = {t.name: t for t in published}
    return SummaryOut(
        ambito_code=await _ambito_code(actor.ambito_id),
        period=PeriodOut(start=fig.period.start, end=fig.period.end, key=fig.period.key),
        filters=scope.out(),
        source=source,
        as_of=fig.as_of,
        headline=_headline(fig, by_name),
        tables=[by_name[n] for n in names],
        suppression=suppression,
        notes=list(fig.notes),
    )


async def coverage(
    actor: Principal,
    period: Period,
    scope: Scope,
    *,
    live: bool = False,
    now: datetime | None = None,
) -> CoverageOut:
    _require_reader(actor)
    moment = now or utcnow()
    fig, source = await period_figures(actor.ambito_id, period, scope, moment, live=live)
    threshold = min_count()
    published, suppression = publish([fig.tables[n] for n in COVERAGE_TABLES], threshold)
    return CoverageOut(
        ambito_code=await _ambito_code(actor.ambito_id),
        period=PeriodOut(start=period.start, end=period.end, key=period.key),
        filters=scope.out(),
        source=source,
        as_of=fig.as_of,
        tables=published,
        suppression=suppression,
        notes=[
            "Un bisogno è coperto dalla comunità quando ha un abbinamento accettato (e non "
            "ritirato) entro la fine del periodo o una voce verificata nel periodo; da un "
            "intervento finanziato quando un intervento che serve il suo piano è attivo nel "
            "periodo e durante il bisogno.",
            *fig.notes[:1],
        ],
    )


async def series_figures(
    ambito_id: uuid.UUID,
    period: Period,
    granularity: str,
    scope: Scope,
    now: datetime,
    *,
    live: bool,
) -> tuple[list[Figures], str]:
    """Per-period figures: from snapshots when every period is a whole calendar period with a
    fresh one (and no filter is set), otherwise one pass over the range's aggregates."""
    periods = compute.buckets(period.start, period.end, granularity)
    if not live and scope.empty:
        found = await _snapshots(ambito_id, granularity, periods)
        if found is not None:
            return [payload.figures for payload in found], "snapshot"
    inputs = await load_inputs(ambito_id, period, scope, full=False, by_month=True)
    figures = await asyncio.to_thread(lambda: [compute.figures(inputs, p, now) for p in periods])
    return figures, "live"


async def timeseries(
    actor: Principal,
    period: Period,
    granularity: str,
    scope: Scope,
    *,
    live: bool = False,
    now: datetime | None = None,
) -> TimeseriesOut:
    _require_reader(actor)
    if len(compute.buckets(period.start, period.end, granularity)) > 120:
        raise InvalidInput("at most 120 periods: choose a shorter range", field="from")
    moment = now or utcnow()
    per_period, source = await series_figures(
        actor.ambito_id, period, granularity, scope, moment, live=live
    )
    table = compute.series_table(per_period, granularity)
    last = per_period[-1]
    threshold = min_count()
    (published,), suppression = publish([table], threshold)
    return TimeseriesOut(
        ambito_code=await _ambito_code(actor.ambito_id),
        period=PeriodOut(start=period.start, end=period.end, key=period.key),
        granularity=granularity,  # type: ignore[arg-type]
        filters=scope.out(),
        source=source,
        as_of=last.as_of,
        series=published,
        money={name: money(info, None) for name, info in last.money.items()},
        suppression=suppression,
        notes=[
            *last.notes[:4],
            "Totale: somma dei periodi per ore, voci ed euro; persone e detentori non sono "
            "sommabili (vedi il riepilogo del periodo).",
        ],
    )


async def network_figures(
    ambito_id: uuid.UUID,
    period: Period,
    granularity: str,
    scope: Scope,
    *,
    live: bool,
) -> tuple[list[Row], Table, list[dict[str, Any]], str]:
    periods = compute.buckets(period.start, period.end, granularity)
    found = None if live or not scope.empty else await _snapshots(ambito_id, granularity, periods)
    payloads = [f.network for f in found or [] if f.network is not None]
    if found and len(payloads) == len(found):
        last = payloads[-1]
        rows = [Row({"period": p.key}, dict(n.row)) for p, n in zip(periods, payloads, strict=True)]
        return rows, _sector_table(last.by_sector), list(last.blocks), "snapshot"
    nodes, participations, ties = await load_network(ambito_id, period.end, scope)
    table, by_sector, blocks = await asyncio.to_thread(
        network_periods, nodes, participations, ties, periods, granularity
    )
    return table.rows, by_sector, blocks, "live"


def _sector_table(rows: Sequence[dict[str, Any]]) -> Table:
    return network.sector_table(
        {r["sector"]: r["nodes"] for r in rows}, {r["sector"]: r["person_nodes"] for r in rows}
    )


async def cohesion(
    actor: Principal,
    period: Period,
    granularity: str,
    scope: Scope,
    *,
    live: bool = False,
    now: datetime | None = None,
) -> NetworkOut:
    _require_reader(actor)
    if len(compute.buckets(period.start, period.end, granularity)) > 120:
        raise InvalidInput("at most 120 periods: choose a shorter range", field="from")
    rows, by_sector, blocks, source = await network_figures(
        actor.ambito_id, period, granularity, scope, live=live
    )
    template, _ = network.network_tables([], [], [])
    template.rows = rows
    threshold = min_count()
    (periods_out, sectors_out), suppression = publish([template, by_sector], threshold)
    trend = {
        column: TrendOut(**network.trend(periods_out.rows, column))
        for column in (*network.STRUCTURE, "nodes", "edges", "new_ties")
    }
    sector_blocks = [
        SectorBlock(
            sector_a=b["from"],
            sector_b=b["to"],
            edges=b["edges"] if not (0 < b["edges"] < threshold) else None,
        )
        for b in blocks
    ]
    return NetworkOut(
        ambito_code=await _ambito_code(actor.ambito_id),
        period=PeriodOut(start=period.start, end=period.end, key=period.key),
        granularity=granularity,  # type: ignore[arg-type]
        filters=scope.out(),
        source=source,
        as_of=now or utcnow(),
        periods=periods_out,
        trend=trend,
        nodes_by_sector=sectors_out,
        sector_blocks=sector_blocks,
        suppression=suppression,
        notes=[
            "Nodi: i detentori registrati (non archiviati) a fine periodo. Legami: "
            "co-contribuzione allo stesso piano nel periodo, attività comunitarie comuni, "
            "interazioni registrate (es. tavoli di co-programmazione).",
            "Nessun indicatore per singolo nodo è pubblicato; i volontari individuali sono "
            "solo contati.",
            f"Legami tra settori con meno di {threshold} legami sono nascosti (null).",
        ],
    )


# --- value rates -----------------------------------------------------------------------------


async def rate_table(actor: Principal) -> RateTableOut:
    _require_reader(actor)
    stored = await ValueRate.select().where(ValueRate.ambito == actor.ambito_id)
    updated = {(r["task_level"], r["year"]): r["updated_at"] for r in stored}
    rates, levels = await stored_rates(actor.ambito_id)
    categories = sorted({*DEFAULT_CATEGORY_LEVELS, *levels})
    return RateTableOut(
        rates=[
            RateOut(
                task_level=r.task_level,
                task_level_label=TASK_LEVELS.get(r.task_level, r.task_level),
                year=r.year,
                eur_per_hour=r.cents_per_hour / 100,
                source=r.source,
                is_default=r.is_default,
                updated_at=updated.get((r.task_level, r.year)),
            )
            for r in effective_rates(rates)
        ],
        task_levels=dict(TASK_LEVELS),
        categories=[
            CategoryLevelOut(
                category_code=c,
                task_level=levels.get(c, DEFAULT_CATEGORY_LEVELS.get(c, DEFAULT_TASK_LEVEL)),
                is_default=c not in levels,
            )
            for c in categories
        ],
        default_task_level=DEFAULT_TASK_LEVEL,
        note=(
            "Le tariffe con is_default=true sono valori indicativi da sostituire con le tabelle "
            "in vigore (costo medio orario del lavoro, CCNL cooperative sociali). Un anno senza "
            "tariffa usa l'anno precedente più vicino."
        ),
    )


def _check_level(level: str) -> None:
    if level not in TASK_LEVELS:
        known = ", ".join(TASK_LEVELS)
        raise InvalidInput(f"unknown task level '{level}' (known: {known})", field="task_level")


async def set_rate(actor: Principal, level: str, year: int, data: RateIn) -> RateTableOut:
    actor.require(Role.UDP_ADMIN)
    _check_level(level)
    if not 2000 <= year <= 2100:
        raise InvalidInput("the year must be between 2000 and 2100", field="year")
    values = {
        ValueRate.cents_per_hour: round(data.eur_per_hour * 100),
        ValueRate.source: data.source.strip(),
        ValueRate.updated_by: actor.user_id,
        ValueRate.updated_at: utcnow(),
    }
    where = (
        (ValueRate.ambito == actor.ambito_id)
        & (ValueRate.task_level == level)
        & (ValueRate.year == year)
    )
    async with unit_of_work():
        if await ValueRate.exists().where(where):
            await ValueRate.update(values).where(where)
        else:
            await ValueRate.insert(
                ValueRate(
                    ambito=actor.ambito_id,
                    task_level=level,
                    year=year,
                    **{c._meta.name: v for c, v in values.items()},
                )
            )
        await _forget_snapshots(actor.ambito_id)
    return await rate_table(actor)


async def delete_rate(actor: Principal, level: str, year: int) -> None:
    actor.require(Role.UDP_ADMIN)
    _check_level(level)
    deleted = (
        await ValueRate.delete()
        .where(
            (ValueRate.ambito == actor.ambito_id)
            & (ValueRate.task_level == level)
            & (ValueRate.year == year)
        )
        .returning(ValueRate.id)
    )
    if not deleted:
        raise NotFound("no rate of the UdP for that level and year (defaults cannot be deleted)")
    await _forget_snapshots(actor.ambito_id)


async def _forget_snapshots(ambito_id: uuid.UUID) -> None:
    """Euro figures of the snapshots used the old rates: drop them (the dashboard computes
    live until the next run)."""
    await MetricsSnapshot.delete().where(MetricsSnapshot.ambito == ambito_id)


async def set_category_level(actor: Principal, category: str, level: str) -> RateTableOut:
    actor.require(Role.UDP_ADMIN)
    _check_level(level)
    from registry.taxonomy.tables import TaxonomyTerm

    if not await TaxonomyTerm.exists().where(TaxonomyTerm.code == category):
        raise InvalidInput(f"unknown resource category '{category}'", field="category_code")
    where = (TaskLevelOverride.ambito == actor.ambito_id) & (
        TaskLevelOverride.category_code == category
    )
    async with unit_of_work():
        if await TaskLevelOverride.exists().where(where):
            await TaskLevelOverride.update(
                {TaskLevelOverride.task_level: level, TaskLevelOverride.updated_at: utcnow()}
            ).where(where)
        else:
            await TaskLevelOverride.insert(
                TaskLevelOverride(
                    ambito=actor.ambito_id,
                    category_code=category,
                    task_level=level,
                    updated_at=utcnow(),
                )
            )
        await _forget_snapshots(actor.ambito_id)
    return await rate_table(actor)


__all__ = [
    "CommunityActivity",
    "Interaction",
    "Scope",
    "check_range",
    "cohesion",
    "coverage",
    "summary",
    "take_snapshot",
    "timeseries",
]
