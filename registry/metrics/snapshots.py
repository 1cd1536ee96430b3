"""Period snapshots of the metrics: the data fingerprint, the nightly job that stores
figures and network per calendar period, and the reader that serves them while fresh.

A stored period's figures hold while the reference data (every table but the ledger) is
unchanged and no ledger entry, correction or confirmation written since falls in one of its
months: a new entry of December leaves January's snapshot (and the first quarter's) in use.
Requests take every period that holds from the snapshots and compute only the others; the
job recomputes only those too."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from registry import db
from registry.ambiti.tables import Ambito
from registry.common import now as utcnow
from registry.db import unit_of_work
from registry.metrics import catalogue, compute, coverage, network
from registry.metrics.compute import Figures, Period
from registry.metrics.loading import Scope, _date, _dt, _month, _raw, _s, _u
from registry.metrics.month_facts import (
    LedgerMonth,
    decode_month,
    encode_month,
    inputs_from_months,
    load_ledger_months,
    served_plans,
)
from registry.metrics.network_loading import _all_ties, load_network
from registry.metrics.periods import ROME, calendar_key
from registry.metrics.reference_loading import live_figures, load_resources
from registry.metrics.tables import (
    MetricsMonthFacts,
    MetricsSnapshot,
)
from registry.offload import in_worker_process

# 3: periods end today while running; by_holder_kind; use per unit.
# 4: fingerprint split into reference data and ledger marks (months refreshed one by one).
# 5: month facts stored beside the snapshots (metrics_month_facts); 6: stored as arrays;
# 7: the network kept for the periods that end before every change.
SNAPSHOT_VERSION = 7
# A snapshot older than this is not served: the dashboard computes live instead.
SNAPSHOT_MAX_AGE = timedelta(hours=36)
# The snapshot job recomputes an unchanged ambito once this old (see take_snapshot).
SNAPSHOT_REFRESH = timedelta(hours=20)
# A run this long (a ledger of millions of entries) waits three times its length before the
# next refresh of a changed ambito.
SLOW_SNAPSHOT_SECONDS = 60.0


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
    # The reference data (every table but the ledger and its confirmations) and the latest
    # ledger entry and confirmation when the figures were computed: the figures of a period
    # stay valid while the reference data is unchanged and no later entry or confirmation
    # falls in one of its months (the ledger is append-only).
    reference: str = ""
    entry_mark: str = ""
    confirmation_mark: str = ""
    # When the figures were last computed from the ledger (a refresh only moves their clock).
    figured_at: datetime | None = None
    # The reference data and ledger marks the network was computed at: a period's network
    # holds while the reference data is unchanged and no ledger change falls in a month up
    # to its end (a change can only move ties, and the first tie of a pair, to its month).
    network_reference: str = ""
    network_entry_mark: str = ""
    network_confirmation_mark: str = ""


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
    # Network ties from co-programming attendance and co-design partners (issue 16).
    ("coprog_attendance", "recorded_at"),
    ("codesign_project", "updated_at"),
)


class _State(msgspec.Struct, frozen=True):
    fingerprint: str
    reference: str
    entry_mark: str
    confirmation_mark: str


async def data_fingerprint(ambito_id: uuid.UUID) -> str:
    """A short text that changes whenever data the metrics read changes in the ambito:
    index lookups on `ambito`, far cheaper than reading the ledger."""
    return (await _state(ambito_id)).fingerprint


async def _state(ambito_id: uuid.UUID) -> _State:
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
    texts = [f"{r['n']}:{_s(r['latest']) or ''}" for r in rows]
    # UNION ALL keeps the order of its parts: the first two are the ledger's.
    assert [t for t, _ in _FINGERPRINT_PARTS[:2]] == ["contribution", "contribution_confirmation"]
    return _State(
        fingerprint="|".join(texts),
        reference="|".join(texts[2:]),
        entry_mark=_s(rows[0]["latest"]) or "",
        confirmation_mark=_s(rows[1]["latest"]) or "",
    )


def _after(column: str, mark: str) -> tuple[str, list[Any]]:
    """`column` later than a mark read back from CAST(MAX(column) AS TEXT)."""
    if not mark:
        return "", []  # nothing was there: every row is later
    if db.is_sqlite():
        return f" AND {column} > {{}}", [mark]
    # The parameter as text (asyncpg would want a datetime), turned into the column's type.
    return f" AND {column} > CAST(CAST({{}} AS TEXT) AS TIMESTAMPTZ)", [mark]


async def _changed_months(
    ambito_id: uuid.UUID, entry_mark: str, confirmation_mark: str
) -> set[str]:
    """The months whose figures the ledger rows written after the marks change: a new entry
    its own month, a correction or cancellation the corrected entry's month too, a
    confirmation its entry's month. Index ranges on (ambito, time): the rows since the marks."""
    entries, entry_args = _after("c.created_at", entry_mark)
    corrections, correction_args = _after("c.created_at", entry_mark)
    confirmations, confirmation_args = _after("cc.confirmed_at", confirmation_mark)
    sql = (
        f"SELECT {_month('c.occurred_on')} AS month FROM contribution c "
        f"WHERE c.ambito = {{}}{entries} "
        f"UNION SELECT {_month('t.occurred_on')} AS month FROM contribution c "
        "JOIN contribution t ON t.id = c.corrects "
        f"WHERE c.ambito = {{}} AND c.corrects IS NOT NULL{corrections} "
        f"UNION SELECT {_month('c.occurred_on')} AS month FROM contribution_confirmation cc "
        f"JOIN contribution c ON c.id = cc.contribution WHERE cc.ambito = {{}}{confirmations}"
    )
    ambito = _u(ambito_id)
    rows = await _raw(
        sql, ambito, *entry_args, ambito, *correction_args, ambito, *confirmation_args
    )
    return {r["month"] for r in rows}


class _Freshness:
    """Which stored figures still hold for the data as it is now (one query per distinct
    pair of ledger marks among the snapshots read, usually one or two)."""

    def __init__(self, ambito_id: uuid.UUID, state: _State) -> None:
        self.ambito_id = ambito_id
        self.state = state
        self._changed: dict[tuple[str, str], set[str]] = {}

    async def holds(self, payload: _Payload, period: Period) -> bool:
        stored = payload.figures.period
        if (stored.start, stored.end) != (period.start, period.end):
            return False  # a running period stored up to another day
        return await self.unchanged(
            period, payload.reference, payload.entry_mark, payload.confirmation_mark
        )

    async def unchanged(
        self, period: Period, reference: str, entry_mark: str, confirmation_mark: str
    ) -> bool:
        """Whether what was read of `period` at those marks still holds."""
        if reference != self.state.reference:
            return False
        marks = (entry_mark, confirmation_mark)
        if marks == (self.state.entry_mark, self.state.confirmation_mark):
            return True  # nothing written to the ledger since
        if marks not in self._changed:
            self._changed[marks] = await _changed_months(self.ambito_id, *marks)
        return not (set(period.months()) & self._changed[marks])

    async def unchanged_until(
        self, end: date, reference: str, entry_mark: str, confirmation_mark: str
    ) -> bool:
        """Whether no change since the marks falls in a month up to `end`'s."""
        if reference != self.state.reference:
            return False
        marks = (entry_mark, confirmation_mark)
        if marks == (self.state.entry_mark, self.state.confirmation_mark):
            return True
        if marks not in self._changed:
            self._changed[marks] = await _changed_months(self.ambito_id, *marks)
        last = compute.month_key(end)
        return all(month > last for month in self._changed[marks])


async def _snapshots(
    ambito_id: uuid.UUID, granularity: str, periods: Sequence[Period]
) -> list[_Payload] | None:
    """The snapshot of every period, in order (one query), or None when a period is not a
    whole calendar period or its snapshot is missing, of another version, too old, or older
    than a change of the data."""
    if any(calendar_key(p.start, p.end, p.end) != p.key for p in periods):
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
        stored = payload.figures.period
        if (stored.start, stored.end) != (p.start, p.end):
            return None  # a running period stored up to another day
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
        # Read before the data: a row written during the run makes its month stale later.
        state = await _state(ambito_id)
        if only_changed and await _up_to_date(ambito_id, state.fingerprint, now):
            skipped += 1
            continue
        written += await _snapshot_ambito(ambito_id, now, years, state)
    return {
        "ambiti": len(ambiti),
        "unchanged": skipped,
        "periods": written,
        "seconds": round(time.perf_counter() - started, 2),
    }


async def _up_to_date(ambito_id: uuid.UUID, fingerprint: str, now: datetime) -> bool:
    key = str(now.astimezone(ROME).date().year)
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


async def _stored(ambito_id: uuid.UUID) -> dict[tuple[str, str], _Payload]:
    rows = await MetricsSnapshot.select(
        MetricsSnapshot.granularity, MetricsSnapshot.period_key, MetricsSnapshot.payload
    ).where((MetricsSnapshot.ambito == ambito_id) & (MetricsSnapshot.version == SNAPSHOT_VERSION))
    return {
        (r["granularity"], r["period_key"]): msgspec.json.decode(r["payload"], type=_Payload)
        for r in rows
    }


def _covering(periods: Sequence[Period]) -> Period:
    return Period("span", min(p.start for p in periods), max(p.end for p in periods))


async def _snapshot_ambito(ambito_id: uuid.UUID, now: datetime, years: int, state: _State) -> int:
    """Every period's snapshot; the figures are recomputed only for the periods whose data
    changed since they were stored (a month, its quarter and its year), the others keep their
    figures with the clock moved on. The network is recomputed for all: a month's new ties
    depend on every earlier month."""
    started = time.perf_counter()
    today = now.astimezone(ROME).date()
    first = await _first_day(ambito_id)
    earliest = date(today.year - years + 1, 1, 1)
    start = max(first, earliest) if first else date(today.year, 1, 1)
    start = min(start, date(today.year, 1, 1))
    # Whole calendar periods (the current one too), as the dashboard asks for them.
    # The running one up to today, as the API asks for it (periods.check_range).
    periods = {
        g: compute.buckets(date(start.year, 1, 1), today, g) for g in ("month", "quarter", "year")
    }
    stored = await _stored(ambito_id)
    freshness = _Freshness(ambito_id, state)
    kept: dict[tuple[str, str], _Payload] = {}
    stale: list[Period] = []
    for granularity, group in periods.items():
        for period in group:
            payload = stored.get((granularity, period.key))
            if payload is not None and await freshness.holds(payload, period):
                kept[(granularity, period.key)] = payload
            else:
                stale.append(period)
    figures: dict[str, Figures] = {}
    if stale:
        # The stale periods' months: the facts of the months that did not change from their
        # store, the others in one grouped pass over the ledger per run of months (stored for
        # the next run and for the requests); each period is then computed from its months
        # (the same facts a query for it alone would return).
        cover = _covering(stale)
        months = await month_facts(ambito_id, cover, state, live=False, store=True)
        history = await inputs_from_months(ambito_id, cover, months)
        resources = history.resources
        computed = await asyncio.to_thread(catalogue.figures_by_period, history, stale, now)
        figures = {p.key: f for p, f in zip(stale, computed, strict=True)}
    else:
        resources = (await load_resources(ambito_id, Scope()))[1]
    # The network of the periods that end before every change is kept (a quiet day's
    # nightly run keeps them all); the others are recomputed from the whole history.
    net_kept: dict[tuple[str, str], _Payload] = {}
    for granularity, group in periods.items():
        for period in group:
            old = stored.get((granularity, period.key))
            if old is None or old.network is None:
                continue
            bounds = (old.figures.period.start, old.figures.period.end)
            if bounds == (period.start, period.end) and await freshness.unchanged_until(
                period.end,
                old.network_reference,
                old.network_entry_mark,
                old.network_confirmation_mark,
            ):
                net_kept[(granularity, period.key)] = old
    if len(net_kept) < sum(len(group) for group in periods.values()):
        nodes, participations, ties = await load_network(ambito_id, today, Scope())
    figured_at = utcnow()
    written = 0
    for granularity, group in periods.items():
        nets: dict[str, tuple[_NetworkPayload | None, tuple[str, str, str]]] = {}
        for p in group:
            old = net_kept.get((granularity, p.key))
            if old is not None:
                marks = (old.network_entry_mark, old.network_confirmation_mark)
                nets[p.key] = (old.network, (old.network_reference, *marks))
        again = [p for p in group if p.key not in nets]
        if again:
            everything = _all_ties(participations, ties, again, granularity)
            table, pictures = await asyncio.to_thread(
                network.network_tables, nodes, everything, again
            )
            net = {row.key["period"]: row.data for row in table.rows}
            now_marks = (state.reference, state.entry_mark, state.confirmation_mark)
            for p, (by_sector, blocks) in zip(again, pictures, strict=True):
                picture = _NetworkPayload(
                    row=net[p.key],
                    by_sector=[{**r.key, **r.data} for r in by_sector.rows],
                    blocks=blocks,
                )
                nets[p.key] = (picture, now_marks)
        for period in group:
            old = kept.get((granularity, period.key))
            if old is not None:
                fig = coverage.with_clock(old.figures, resources, now)
                marks = (old.entry_mark, old.confirmation_mark, old.figured_at)
            else:
                fig = figures[period.key]
                marks = (state.entry_mark, state.confirmation_mark, figured_at)
            net_payload, net_marks = nets[period.key]
            payload = _Payload(
                figures=fig,
                network=net_payload,
                fingerprint=state.fingerprint,
                # Elapsed so far: the current year, written last, carries about the whole run.
                took_seconds=round(time.perf_counter() - started, 3),
                reference=state.reference,
                entry_mark=marks[0],
                confirmation_mark=marks[1],
                figured_at=marks[2],
                network_reference=net_marks[0],
                network_entry_mark=net_marks[1],
                network_confirmation_mark=net_marks[2],
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


async def figures_of(
    ambito_id: uuid.UUID,
    wanted: Sequence[Period],
    span: Period,
    now: datetime,
    *,
    live: bool,
    full: bool = True,
) -> tuple[list[Figures], str]:
    """Unfiltered figures of each wanted period (all inside `span`): every period whose
    snapshot still holds from it, the others from one month-grouped pass over their months
    only. The source is "snapshot" when no figure was computed live."""
    found = {} if live else await fresh_figures(ambito_id, wanted)
    missing = [p for p in wanted if p.key not in found]
    if missing:
        # The months' facts from their store where they still hold (a period that is not a
        # calendar one, or a year after one new entry, reads the ledger for no month or one).
        cover = _covering(missing)
        months = await month_facts(ambito_id, cover, await _state(ambito_id), live=live)
        inputs = await inputs_from_months(ambito_id, cover, months, full=full)
        # Each period reads only its months' facts: a 36-month series is one pass, not 36.
        # In a worker process: pure Python that a thread would run holding the GIL, which the
        # event loop then waits for at every switch (registry/offload.py).
        computed = await in_worker_process(
            catalogue.packed_figures_by_period, catalogue.pack_inputs(inputs), missing, now
        )
        found.update({p.key: f for p, f in zip(missing, computed, strict=True)})
    return [found[p.key] for p in wanted], "live" if missing else "snapshot"


async def fresh_figures(ambito_id: uuid.UUID, wanted: Sequence[Period]) -> dict[str, Figures]:
    """The stored figures of the wanted calendar periods that still hold, by period key."""
    calendar = [p for p in wanted if calendar_key(p.start, p.end, p.end) == p.key]
    if not calendar:
        return {}
    rows = await MetricsSnapshot.select(
        MetricsSnapshot.granularity,
        MetricsSnapshot.period_key,
        MetricsSnapshot.payload,
        MetricsSnapshot.computed_at,
        MetricsSnapshot.version,
    ).where(
        (MetricsSnapshot.ambito == ambito_id)
        & MetricsSnapshot.period_key.is_in([p.key for p in calendar])
    )
    by_key = {(r["granularity"], r["period_key"]): r for r in rows}
    freshness = _Freshness(ambito_id, await _state(ambito_id))
    found: dict[str, Figures] = {}
    for p in calendar:
        row = by_key.get((_granularity_of(p.key), p.key))
        if row is None or row["version"] != SNAPSHOT_VERSION:
            continue
        if utcnow() - _dt(row["computed_at"]) > SNAPSHOT_MAX_AGE:  # type: ignore[operator]
            continue
        payload = msgspec.json.decode(row["payload"], type=_Payload)
        if await freshness.holds(payload, p):
            found[p.key] = payload.figures
    return found


# --- month facts ---------------------------------------------------------------------------


def _runs(months: Sequence[Period], missing: set[str]) -> list[Period]:
    """The missing months as runs of consecutive months (one ledger read per run)."""
    runs: list[list[Period]] = []
    previous = False
    for m in months:
        if m.key in missing:
            if not previous:
                runs.append([])
            runs[-1].append(m)
        previous = m.key in missing
    return [_covering(run) for run in runs]


async def month_facts(
    ambito_id: uuid.UUID, span: Period, state: _State, *, live: bool, store: bool = False
) -> list[LedgerMonth]:
    """The ledger facts of each month of `span`: from metrics_month_facts when stored at
    marks that still hold (and not `live`), the others read from the ledger (and stored when
    `store`: only the snapshot job writes them, a request never does)."""
    months = compute.buckets(span.start, span.end, "month")
    found: dict[str, LedgerMonth] = {}
    if not live:
        rows = await MetricsMonthFacts.select(
            MetricsMonthFacts.month,
            MetricsMonthFacts.period_end,
            MetricsMonthFacts.reference,
            MetricsMonthFacts.entry_mark,
            MetricsMonthFacts.confirmation_mark,
            MetricsMonthFacts.payload,
        ).where(
            (MetricsMonthFacts.ambito == ambito_id)
            & (MetricsMonthFacts.version == SNAPSHOT_VERSION)
            & MetricsMonthFacts.month.is_in([m.key for m in months])
        )
        by_key = {m.key: m for m in months}
        freshness = _Freshness(ambito_id, state)
        for r in rows:
            m = by_key[r["month"]]
            # A month read in part (a running month read up to another day) does not hold.
            if m.start.day != 1 or _date(r["period_end"]) != m.end:
                continue
            marks = (r["reference"], r["entry_mark"], r["confirmation_mark"])
            if await freshness.unchanged(m, *marks):
                found[m.key] = decode_month(r["payload"])
    missing = {m.key for m in months} - set(found)
    if missing:
        served = await served_plans(ambito_id)
        for run in _runs(months, missing):
            loaded = await load_ledger_months(ambito_id, run, served)
            found.update(loaded)
            if store:
                for m in compute.buckets(run.start, run.end, "month"):
                    await _store_facts(ambito_id, m, state, loaded[m.key])
    return [found[m.key] for m in months]


async def _store_facts(
    ambito_id: uuid.UUID, month: Period, state: _State, facts: LedgerMonth
) -> None:
    values = {
        MetricsMonthFacts.period_end: month.end,
        MetricsMonthFacts.version: SNAPSHOT_VERSION,
        MetricsMonthFacts.reference: state.reference,
        MetricsMonthFacts.entry_mark: state.entry_mark,
        MetricsMonthFacts.confirmation_mark: state.confirmation_mark,
        MetricsMonthFacts.computed_at: utcnow(),
        MetricsMonthFacts.payload: encode_month(month.key, facts),
    }
    where = (MetricsMonthFacts.ambito == ambito_id) & (MetricsMonthFacts.month == month.key)
    async with unit_of_work():
        if await MetricsMonthFacts.exists().where(where):
            await MetricsMonthFacts.update(values).where(where)
        else:
            await MetricsMonthFacts.insert(
                MetricsMonthFacts(
                    ambito=ambito_id,
                    month=month.key,
                    **{c._meta.name: v for c, v in values.items()},
                )
            )
