"""Metrics loaders, the ledger: the query's scope, the SQL helpers every loader shares (the
same statements on SQLite and PostgreSQL) and the grouped reads of the ledger (hours,
quantities, presence, plan-linked uses), filtered by the caller's ambito and the scope.

Reads of the ledger are GROUP BY queries, never row by row: the ledger can hold millions of
entries. The rules are in compute.py and network.py. The reference data (plans, needs,
resources, interventions, rates) and a period's inputs: reference_loading.py; the network:
network_loading.py; the month facts: month_facts.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from registry import db
from registry.contributions.tables import Contribution
from registry.metrics import compute
from registry.metrics.compute import Period
from registry.metrics.schemas import FiltersOut

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


def _reader(written: Written) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    return db.fetch if written.few else _raw


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


def _compared_to_mark(column: str, operator: str, mark: str) -> tuple[str, list[Any]]:
    """` AND column <operator> mark`, a mark read back from CAST(MAX(column) AS TEXT)."""
    if db.is_sqlite():
        return f" AND {column} {operator} {{}}", [mark]
    # The parameter as text (asyncpg would want a datetime), turned into the column's type.
    return f" AND {column} {operator} CAST(CAST({{}} AS TEXT) AS TIMESTAMPTZ)", [mark]


def after_mark(column: str, mark: str) -> tuple[str, list[Any]]:
    """`column` later than a mark (an empty mark: nothing was there, every row is later)."""
    return _compared_to_mark(column, ">", mark) if mark else ("", [])


@dataclass(frozen=True, slots=True)
class Written:
    """Which ledger rows a read takes by when they were written, as entry marks (the
    latest `created_at`, snapshot_store._State): those written after `since`, those written
    up to `until` (an empty `until`: none). None: no bound.

    `confirmed_by`: entries count as verified by the confirmations up to that confirmation
    mark only (the latest `confirmed_at`; empty: none), as they were when the marks were
    read, not by one written while the ledger is read (None: every confirmation).
    `newly_confirmed`: only the entries confirmed after `confirmed_by` (verified now, not
    then), and up to `confirmed_until` (None: no bound): a stored month's facts become
    those of the month at later marks by moving them."""

    since: str | None = None
    until: str | None = None
    confirmed_by: str | None = None
    newly_confirmed: bool = False
    confirmed_until: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        sql, args = after_mark("c.created_at", self.since or "")
        if self.until is not None:
            if not self.until:
                return sql + " AND 1 = 0", args
            bound, more = _compared_to_mark("c.created_at", "<=", self.until)
            sql, args = sql + bound, [*args, *more]
        return sql, args

    def confirmed_since(self, ambito: Any) -> tuple[str, list[Any]]:
        """The bound of `newly_confirmed`: an entry has one confirmation at most, so those
        confirmed now but not then are the ones confirmed after the mark (not verified by
        QR: those always were). Read from the confirmations' (ambito, confirmed_at) index."""
        if not self.newly_confirmed:
            return "", []
        assert self.confirmed_by is not None
        later, args = after_mark("cc.confirmed_at", self.confirmed_by)
        if self.confirmed_until is not None:
            bound, more = _compared_to_mark("cc.confirmed_at", "<=", self.confirmed_until)
            later, args = later + bound, [*args, *more]
        sql = (
            " AND c.verification <> 'qr_verified' AND c.id IN (SELECT cc.contribution "
            f"FROM contribution_confirmation cc WHERE cc.ambito = {{}}{later})"
        )
        return sql, [ambito, *args]

    @property
    def few(self) -> bool:
        """Whether the read takes only what the ledger gained since a mark: a few rows, read
        as a short read (db.fetch: on SQLite on the loop's own thread; under load each trip
        to a connection's thread waited for turns of the loop, 20-30 ms a read)."""
        return self.since is not None or self.newly_confirmed

    def verified(self) -> tuple[str, list[Any]]:
        """The SQL of an entry's being verified, as this read counts it (and its arguments)."""
        if self.confirmed_by is None or self.newly_confirmed:
            return _VERIFIED, []
        then, args = _confirmed_by(self.confirmed_by)
        return f"(c.verification = 'qr_verified' OR {then})", args


def _confirmed_by(mark: str) -> tuple[str, list[Any]]:
    if not mark:
        return "1 = 0", []
    bound, args = _compared_to_mark("cc.confirmed_at", "<=", mark)
    return (
        f"EXISTS (SELECT 1 FROM contribution_confirmation cc WHERE cc.contribution = c.id{bound})",
        args,
    )


# Every row, whenever written.
ALL_WRITTEN = Written()


def _ledger_where(
    ambito_id: uuid.UUID,
    period: Period,
    scope: Scope,
    *,
    holders: bool = True,
    written: Written = ALL_WRITTEN,
) -> tuple[str, list[Any]]:
    """Effective entries (not corrected, not cancelled, not a cancellation) of the period."""
    ambito, day = "c.ambito", "c.occurred_on"
    if written.since is not None and db.is_sqlite():
        # The entries written since a mark are a few: SQLite is told not to walk the
        # period's days on the (ambito, occurred_on) index (`+` hides the column from it) and
        # takes the (ambito, created_at) one (it has no statistics of the times to choose).
        day = "+c.occurred_on"
    elif written.newly_confirmed and db.is_sqlite():
        # So are those confirmed since: looked up by id from the confirmations' index, not
        # found among every entry of the period's days (or of the ambito).
        ambito, day = "+c.ambito", "+c.occurred_on"
    sql = (
        f"{ambito} = {{}} AND {day} >= {{}} AND {day} <= {{}} "
        "AND c.kind <> 'cancellation' "
        "AND NOT EXISTS (SELECT 1 FROM contribution s WHERE s.corrects = c.id)"
    )
    args: list[Any] = [_u(ambito_id), _d(period.start), _d(period.end)]
    for bound, bound_args in (written.where(), written.confirmed_since(_u(ambito_id))):
        sql += bound
        args += bound_args
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


# --- ledger loaders ------------------------------------------------------------------------


async def load_ledger(
    ambito_id: uuid.UUID,
    period: Period,
    scope: Scope,
    served_plans: Sequence[str],
    written: Written = ALL_WRITTEN,
) -> tuple[list[compute.HoursFact], list[compute.QuantityFact]]:
    where, args = _ledger_where(ambito_id, period, scope, written=written)
    verified, verified_args = written.verified()
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
        f"{verified} AS verified, (c.match_id IS NOT NULL) AS via_match, "
        f"{plan_sql} AS plan_id, {day_sql} AS day, "
        "SUM(c.quantity) AS quantity, SUM(COALESCE(c.value_cents, 0)) AS value_cents, "
        "COUNT(c.value_cents) AS valued, COUNT(*) AS entries "
        # One join, not a subquery per entry for each of the resource's two columns.
        f"{_LEDGER_FROM} LEFT JOIN resource r ON r.id = c.resource WHERE {where} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"
    )
    hours: list[compute.HoursFact] = []
    quantities: list[compute.QuantityFact] = []
    for r in await _reader(written)(sql, *verified_args, *args):
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


def _distinct_list(expr: str) -> str:
    """The distinct non-null values of `expr` in a group, as one comma-separated text."""
    if db.is_sqlite():
        return f"group_concat(DISTINCT {expr})"
    return f"string_agg(DISTINCT {expr}, ',')"


def _split(joined: str | None) -> list[str]:
    return sorted(joined.split(",")) if joined else []


# A stored month reads the same whatever order the database returned its places in.
_PLACE_ORDER = ("month", "holder_kind", "sector", "comune", "area")


async def load_places(
    ambito_id: uuid.UUID,
    period: Period,
    scope: Scope,
    *,
    by_month: bool,
    written: Written = ALL_WRITTEN,
) -> list[compute.PresencePlace]:
    """Who was active, by month (or over the whole period) and place: the distinct holders,
    volunteer users, and individual-volunteer holders that acted without a volunteer user
    (compute.PresencePlace). Verified entries only: persons and holders are counted over
    verified entries (compute.py). The database gathers the sets: one row per place and
    month, where one per person, holder and month made a million rows of a large ledger."""
    where, args = _ledger_where(ambito_id, period, scope, written=written)
    verified, verified_args = written.verified()
    month = _month("c.occurred_on") if by_month else "''"
    individual = (
        f"CASE WHEN c.volunteer IS NULL AND h.kind = '{compute.INDIVIDUAL}' "
        f"THEN {_text('c.holder')} END"
    )
    sql = (
        f"SELECT {month} AS month, h.kind AS holder_kind, h.sector AS sector, "
        f"{_COMUNE} AS comune, p.target_group AS area, "
        f"{_distinct_list(_text('c.holder'))} AS holders, "
        f"{_distinct_list(_text('c.volunteer'))} AS volunteers, "
        f"{_distinct_list(individual)} AS individuals "
        f"{_LEDGER_FROM} WHERE {where} AND {verified} GROUP BY 1, 2, 3, 4, 5"
    )
    rows = await _reader(written)(sql, *args, *verified_args)
    return [
        compute.PresencePlace(
            month=r["month"],
            holder_kind=r["holder_kind"],
            sector=r["sector"],
            comune=r["comune"],
            area=r["area"],
            holders=_split(r["holders"]),
            volunteers=_split(r["volunteers"]),
            individuals=_split(r["individuals"]),
        )
        for r in sorted(rows, key=lambda r: tuple(r[k] or "" for k in _PLACE_ORDER))
    ]


async def load_uses(
    ambito_id: uuid.UUID, period: Period, scope: Scope, written: Written = ALL_WRITTEN
) -> list[tuple[str | None, str | None, str, str]]:
    """(need, resource, plan, month) of the verified plan-linked entries of the period."""
    where, args = _ledger_where(ambito_id, period, scope, written=written)
    verified, verified_args = written.verified()
    return [
        (_s(r["need_id"]), _s(r["resource_id"]), str(r["plan_id"]), r["month"])
        for r in await _reader(written)(
            f"SELECT {_text('c.need_id')} AS need_id, {_text('c.resource')} AS resource_id, "
            f"{_text('c.plan_id')} AS plan_id, "
            f"{_month('c.occurred_on')} AS month {_ledger_from(scope)} WHERE {where} "
            f"AND c.plan_id IS NOT NULL AND {verified} GROUP BY 1, 2, 3, 4",
            *args,
            *verified_args,
        )
    ]
