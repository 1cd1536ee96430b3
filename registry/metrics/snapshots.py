"""Period snapshots of the metrics: the data fingerprint, the nightly job that stores
figures and network per calendar period, and the reader that serves them while fresh."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from registry.ambiti.tables import Ambito
from registry.common import now as utcnow
from registry.db import unit_of_work
from registry.metrics import compute, network
from registry.metrics.compute import Figures, Inputs, Period
from registry.metrics.loading import (
    Scope,
    _all_ties,
    _date,
    _dt,
    _raw,
    _s,
    _u,
    live_figures,
    load_inputs,
    load_network,
)
from registry.metrics.periods import ROME, calendar_key
from registry.metrics.tables import (
    MetricsSnapshot,
)

# 3: periods end today while running; by_holder_kind; use per unit.
SNAPSHOT_VERSION = 3
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


def _period_figures(history: Inputs, index: Any, period: Period, now: datetime) -> Figures:
    return compute.figures(compute.slice_inputs(history, index, period), period, now)


async def _snapshot_ambito(
    ambito_id: uuid.UUID, now: datetime, years: int, fingerprint: str
) -> int:
    started = time.perf_counter()
    today = now.astimezone(ROME).date()
    first = await _first_day(ambito_id)
    earliest = date(today.year - years + 1, 1, 1)
    start = max(first, earliest) if first else date(today.year, 1, 1)
    start = min(start, date(today.year, 1, 1))
    nodes, participations, ties = await load_network(ambito_id, today, Scope())
    # One pass over the ledger for the whole history, grouped by month; every period is
    # then computed from its months (the same facts a query for that period would return).
    span = Period("history", date(start.year, 1, 1), today)
    history = await load_inputs(ambito_id, span, Scope(), by_month=True)
    index = compute.month_index(history)
    written = 0
    for granularity in ("month", "quarter", "year"):
        # Whole calendar periods (the current one too), as the dashboard asks for them.
        # The running one up to today, as the API asks for it (periods.check_range).
        periods = compute.buckets(date(start.year, 1, 1), today, granularity)
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


async def figures_of(
    ambito_id: uuid.UUID,
    wanted: Sequence[Period],
    span: Period,
    now: datetime,
    *,
    live: bool,
    full: bool = True,
) -> tuple[list[Figures], str]:
    """Unfiltered figures of each wanted period (all inside `span`): from the snapshots when
    every one has a fresh snapshot, otherwise from one month-grouped pass over the span."""
    if not live:
        by_granularity: dict[str, list[Period]] = {}
        for p in wanted:
            by_granularity.setdefault(_granularity_of(p.key), []).append(p)
        found: dict[str, Figures] = {}
        for granularity, group in by_granularity.items():
            if "/" in group[0].key:
                break
            payloads = await _snapshots(ambito_id, granularity, group)
            if payloads is None:
                break
            found.update({p.key: f.figures for p, f in zip(group, payloads, strict=True)})
        if len(found) == len({p.key for p in wanted}):
            return [found[p.key] for p in wanted], "snapshot"
    inputs = await load_inputs(ambito_id, span, Scope(), full=full, by_month=True)
    # Each period reads only its months' facts: a 36-month series is one pass, not 36.
    figures = await asyncio.to_thread(compute.figures_by_period, inputs, wanted, now)
    return figures, "live"
