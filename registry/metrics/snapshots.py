"""Period snapshots of the metrics: the nightly job that stores figures and network per
calendar period, and the reader that serves them while fresh.

A stored period's figures hold while the reference data (every table but the ledger) is
unchanged and no ledger entry, correction or confirmation written since falls in one of its
months: a new entry of December leaves January's snapshot (and the first quarter's) in use.
Requests take every period that holds from the snapshots and compute only the others; the
job recomputes only those too. What a snapshot stores and when it holds: snapshot_store.py;
the ledger's facts of each month: month_facts.py."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from registry import italian
from registry.ambiti.tables import Ambito
from registry.common import now as utcnow
from registry.db import fetch
from registry.metrics import catalogue, compute, coverage
from registry.metrics.compute import Figures, Inputs, Period
from registry.metrics.kept import Kept
from registry.metrics.loading import Scope, _date, _dt, _raw, _u
from registry.metrics.month_facts import (
    Computed,
    MonthPayload,
    Side,
    Unsent,
    _covering,
    figures_from_months,
    forget_settled,
    ledger_attributes,
    month_facts,
    recent_reference_inputs,
    reference_inputs,
    remember_reference,
    remember_settled,
    settle_as,
    stored_texts,
)
from registry.metrics.month_form import MonthsMoved
from registry.metrics.network_loading import load_network, period_tables
from registry.metrics.periods import calendar_key
from registry.metrics.reference_loading import NeedRows, load_resources
from registry.metrics.snapshot_store import (
    SLOW_SNAPSHOT_SECONDS,
    SNAPSHOT_MAX_AGE,
    SNAPSHOT_REFRESH,
    SNAPSHOT_VERSION,
    _Freshness,
    _NetworkPayload,
    _Payload,
    _State,
    _state,
    _store_snapshot,
    _stored,
)
from registry.metrics.tables import MetricsSnapshot
from registry.offload import in_worker_process

log = logging.getLogger("registry.metrics")


async def stored_networks(
    ambito_id: uuid.UUID, granularity: str, periods: Sequence[Period]
) -> list[_NetworkPayload] | None:
    """The stored network of every period, in order (one query), or None when a period is
    not a whole calendar period or its network is missing, of another version, too old, or
    no longer holds: a period's network holds while the reference data it reads is the same
    and no ledger change falls in a month up to its end (needs and matches are not read)."""
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
    state = await _state(ambito_id)
    freshness = _Freshness(ambito_id, state, state.besides_needs)
    found = []
    for p in periods:
        row = by_key.get(p.key)
        if row is None or row["version"] != SNAPSHOT_VERSION:
            return None
        if utcnow() - _dt(row["computed_at"]) > SNAPSHOT_MAX_AGE:  # type: ignore[operator]
            return None
        payload = msgspec.json.decode(row["payload"], type=_Payload)
        stored = payload.figures.period
        if payload.network is None or (stored.start, stored.end) != (p.start, p.end):
            return None
        if not await freshness.unchanged_until(
            p.end,
            payload.network_reference,
            payload.network_entry_mark,
            payload.network_confirmation_mark,
        ):
            return None
        found.append(payload.network)
    return found


def _granularity_of(key: str) -> str:
    if "-Q" in key:
        return "quarter"
    return "month" if "-" in key else "year"


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
    key = str(italian.today(now).year)
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


async def _snapshot_ambito(ambito_id: uuid.UUID, now: datetime, years: int, state: _State) -> int:
    """Every period's snapshot; the figures are recomputed only for the periods whose data
    changed since they were stored (a month, its quarter and its year), the others keep their
    figures with the clock moved on. The network is recomputed for all: a month's new ties
    depend on every earlier month."""
    started = time.perf_counter()
    today = italian.today(now)
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
    ledger = _Freshness(ambito_id, state, await ledger_side_reference(ambito_id, state))
    kept: dict[tuple[str, str], _Payload] = {}
    # Stale periods whose tables but the need tables hold (a need recorded, a match accepted).
    ledger_kept: dict[str, _Payload] = {}
    stale: list[Period] = []
    for granularity, group in periods.items():
        for period in group:
            payload = stored.get((granularity, period.key))
            if payload is not None and await freshness.holds(payload, period):
                kept[(granularity, period.key)] = payload
                continue
            stale.append(period)
            if payload is not None and await ledger.holds(payload, period, ledger_side=True):
                ledger_kept[period.key] = payload
    # The figures and the network read different parts of the database and compute in
    # different worker processes: together, the reads of one overlap the computing of the
    # other (on a ledger of a million entries each is tens of seconds).
    (figures, resources), nets = await asyncio.gather(
        _stale_figures(ambito_id, stale, state, now, ledger_kept),
        # A network reads no need and no match: it holds across their changes.
        _networks(
            ambito_id,
            periods,
            stored,
            _Freshness(ambito_id, state, state.besides_needs),
            state,
            today,
        ),
    )
    figured_at = utcnow()
    # Every stored period holds at the state's marks, so all share its ledger side: unless
    # the tables it covers changed during the run (then the digest may be of data newer than
    # the kept periods' figures, and no stored ledger side will hold).
    ledger_side = ledger.reference
    after = await _state(ambito_id)
    if (after.attributes, after.money) != (state.attributes, state.money):
        ledger_side = ""
    written = 0
    for granularity, group in periods.items():
        for period in group:
            old = kept.get((granularity, period.key))
            if old is not None:
                fig = coverage.with_clock(old.figures, resources, now)
                marks = (old.entry_mark, old.confirmation_mark, old.figured_at)
            elif (partly := ledger_kept.get(period.key)) is not None:
                # Its ledger's figures are those of the marks it was computed at.
                fig = figures[period.key]
                marks = (partly.entry_mark, partly.confirmation_mark, partly.figured_at)
            else:
                fig = figures[period.key]
                marks = (state.entry_mark, state.confirmation_mark, figured_at)
            net_payload, net_marks = nets[(granularity, period.key)]
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
                ledger_side=ledger_side,
            )
            await _store_snapshot(ambito_id, granularity, period, now, payload)
            written += 1
    return written


async def _stale_figures(
    ambito_id: uuid.UUID,
    stale: list[Period],
    state: _State,
    now: datetime,
    ledger_kept: dict[str, _Payload],
) -> tuple[dict[str, Figures], Any]:
    """The figures of the stale periods, by key, and the resources as read; of those in
    `ledger_kept`, only the need tables are computed again."""
    if not stale:
        return {}, (await load_resources(ambito_id, Scope()))[1]
    # The stale periods' months: the facts of the months that did not change from their
    # store, the others in one grouped pass over the ledger per run of months (stored for the
    # next run and for the requests); each period is then computed from its months (the same
    # facts a query for it alone would return).
    cover = _covering(stale)
    months = await month_facts(ambito_id, cover, state, live=False, store=True)
    read = history, need_rows = await reference_inputs(ambito_id)
    remember_reference(ambito_id, state, read)
    kept = {key: payload.figures for key, payload in ledger_kept.items()}
    figures = await _computed_figures(
        (ambito_id, state), history, need_rows, months, cover, stale, now, kept
    )
    return figures, history.resources


async def _computed_figures(
    read_at: tuple[uuid.UUID, _State],
    inputs: Inputs,
    need_rows: NeedRows | None,
    months: dict[str, list[MonthPayload]],
    span: Period,
    periods: Sequence[Period],
    now: datetime,
    ledger_kept: dict[str, Figures],
) -> dict[str, Figures]:
    """The figures of the periods by key, from their months' facts and the reference data:
    those in `ledger_kept` are those figures with their need tables computed again (without
    `need_rows`, a time series, from no need). `read_at`: the ambito and the data marks the
    months were read at."""
    # Each period reads only its months' facts: a 36-month series is one pass, not 36.
    # In worker processes: pure Python that a thread would run holding the GIL, which the
    # event loop then waits for at every switch (registry/offload.py).
    packed = catalogue.pack_inputs(inputs)
    # The needs as read, packed once for every call (figures_from_months).
    needs = None if need_rows is None else msgspec.msgpack.encode(need_rows)
    units: list[_Unit] = []
    for p in periods:
        units += [(p, "needs")] if p.key in ledger_kept else [(p, "ledger"), (p, "needs")]
    ambito_id, state = read_at
    # Months of several parts (stored, and what the ledger gained since) come back made one
    # at this request's marks, for the next requests.
    identities = settle_as(ambito_id, months, span, state)
    try:
        computed, settled = await figures_in_workers(
            packed, needs, months, span, units, now, identities
        )
    except MonthsMoved:
        # A stored month was written again meanwhile (another process's job), or one kept
        # lacks an entry confirmed since: its months are read from the ledger now.
        log.warning("metrics of ambito %s: months read again from the ledger", ambito_id)
        forget_settled(ambito_id, span)
        months = await month_facts(ambito_id, span, state, live=True)
        computed, settled = await figures_in_workers(packed, needs, months, span, units, now)
    await remember_settled(ambito_id, span, state, identities, settled)
    results: dict[str, Figures] = {}
    for p in periods:
        ledger = ledger_kept.get(p.key) or computed[(p.key, "ledger")]
        tables = {**ledger.tables, **computed[(p.key, "needs")].tables}
        results[p.key] = Figures(p, now, tables, ledger.money, list(ledger.notes))
    return results


# What a period's side costs a worker process, by its number of months (measured on a
# 1,000,000-entry ledger: the ledger's tables of a year about 0.5 s, its need tables 0.2 s).
_SIDE_WEIGHT: dict[Side, float] = {"ledger": 1.0, "needs": 0.4}
_Unit = tuple[Period, Side]


async def figures_in_workers(
    reference: bytes,
    needs: bytes | None,
    months: dict[str, list[MonthPayload]],
    span: Period,
    units: Sequence[_Unit],
    now: datetime,
    identities: Mapping[str, str] | None = None,
) -> tuple[dict[tuple[str, Side], Figures], dict[str, str]]:
    """The figures of each period's side (figures_from_months), by (period key, side), in
    two worker processes when there are several: every month's facts are counted in its
    month, its quarter and its year, tens of seconds of Python for the job on a large ledger,
    and a second of a request after a new entry. Each process takes half of the work (the
    longest first, to the process with less) and only the facts of its own periods' months."""
    halves: tuple[list[_Unit], list[_Unit]] = ([], [])

    def weight(unit: _Unit) -> float:
        return len(unit[0].months()) * _SIDE_WEIGHT[unit[1]]

    for unit in sorted(units, key=lambda u: -weight(u)):
        min(halves, key=lambda h: sum(map(weight, h))).append(unit)
    parts = [half for half in halves if half]

    # The stored months' texts read for this call, by identity.
    fetched: dict[str, str] = {}
    reading = asyncio.Lock()

    async def payloads(
        half: list[_Unit], texts: set[str] | None
    ) -> list[tuple[str | None, str | None]]:
        """The half's months: the stored ones by their identity alone but those in `texts`
        (all when None), whose texts are read from the store if not at hand."""
        keys = sorted(set().union(*(p.months() for p, _ in half)))
        listed = [m for key in keys for m in months[key]]
        sent = [texts is None or m.identity is None or m.identity in texts for m in listed]
        async with reading:  # the two halves share most months: each text is read once
            missing = [
                m
                for m, send in zip(listed, sent, strict=True)
                if send and m.text is None and m.identity not in fetched
            ]
            if missing:
                fetched.update(await stored_texts(missing))
        return [
            (
                m.identity,
                (m.text if m.text is not None else fetched[m.identity or ""]) if send else None,
            )
            for m, send in zip(listed, sent, strict=True)
        ]

    async def computed(half: list[_Unit]) -> Computed:
        periods = [p for p, _ in half]
        sides = [side for _, side in half]
        # The needs as read travel only to a process that makes need tables.
        half_needs = needs if "needs" in sides else None
        # A process that has not seen some months (or has forgotten them) answers Unsent:
        # those go again with their text (a year is tens of MB), then, should the call land
        # on the other process, every month.
        texts: set[str] | None = set()
        while True:
            sent = await payloads(half, texts)
            args = (reference, half_needs, sent, span, periods, now, sides, identities)
            result = await in_worker_process(figures_from_months, *args)
            if not isinstance(result, Unsent):
                return result
            assert texts is not None  # every text sent: nothing can be unsent
            texts = None if texts else set(result.identities)

    results = await asyncio.gather(*(computed(half) for half in parts))
    figures = {
        (p.key, side): f
        for half, part in zip(parts, results, strict=True)
        for (p, side), f in zip(half, part.figures, strict=True)
    }
    return figures, {k: text for part in results for k, text in part.settled.items()}


_NetMarks = tuple[str, str, str]


async def _networks(
    ambito_id: uuid.UUID,
    periods: dict[str, list[Period]],
    stored: dict[tuple[str, str], _Payload],
    freshness: _Freshness,
    state: _State,
    today: date,
) -> dict[tuple[str, str], tuple[_NetworkPayload | None, _NetMarks]]:
    """Each period's network with the data marks it was computed at, by (granularity, key):
    kept for the periods that end before every change (a quiet day's nightly run keeps them
    all), the others recomputed from the whole history (new ties need the old ones)."""
    nets: dict[tuple[str, str], tuple[_NetworkPayload | None, _NetMarks]] = {}
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
                marks = (old.network_entry_mark, old.network_confirmation_mark)
                nets[(granularity, period.key)] = (old.network, (old.network_reference, *marks))
    if len(nets) == sum(len(group) for group in periods.values()):
        return nets
    nodes, participations, ties = await load_network(ambito_id, today, Scope())
    now_marks = (state.besides_needs, state.entry_mark, state.confirmation_mark)
    for granularity, group in periods.items():
        again = [p for p in group if (granularity, p.key) not in nets]
        if not again:
            continue
        # In a worker process, as the figures: on a large ledger a year's network is
        # hundreds of thousands of ties, derived and counted in Python, that a thread would
        # run holding the GIL, and every request of the process would wait for it.
        table, pictures = await in_worker_process(
            period_tables, nodes, participations, ties, again, granularity
        )
        net = {row.key["period"]: row.data for row in table.rows}
        for p, (by_sector, blocks) in zip(again, pictures, strict=True):
            picture = _NetworkPayload(
                row=net[p.key],
                by_sector=[{**r.key, **r.data} for r in by_sector.rows],
                blocks=blocks,
            )
            nets[(granularity, p.key)] = (picture, now_marks)
    return nets


async def figures_of(
    ambito_id: uuid.UUID,
    wanted: Sequence[Period],
    span: Period,
    now: datetime,
    *,
    live: bool,
    full: bool = True,
) -> tuple[list[Figures], list[str | None], str]:
    """Unfiltered figures of each wanted period (all inside `span`), with the identity of the
    snapshot each came from (None when computed now): every period whose snapshot still holds
    from it, the others from one month-grouped pass over their months only. The source is
    "snapshot" when no figure was computed live."""
    # One read of the data marks serves the snapshots' freshness and the months' facts.
    state = await _state(ambito_id)
    found, outdated = ({}, {}) if live else await _fresh(ambito_id, wanted, state)
    computed: dict[str, Figures] = (
        {} if live else _recently_computed(ambito_id, wanted, state, full)
    )
    missing = [p for p in wanted if p.key not in found and p.key not in computed]
    # Periods whose snapshot holds but for the need tables (a need recorded, a match
    # accepted, a resource confirmed): only those tables are computed again.
    ledger_kept = await _ledger_side_kept(
        ambito_id, [p for p in missing if p.key in outdated], outdated, state
    )
    if not full:
        # The time series reads no need table: their snapshot serves as it is.
        found.update(ledger_kept)
        missing = [p for p in missing if p.key not in found]
    if missing:
        # The months' facts from their store where they still hold (a period that is not a
        # calendar one, or a year after one new entry, reads the ledger for no month or one).
        cover = _covering(missing)
        months = await month_facts(ambito_id, cover, state, live=live)
        if live:
            inputs, need_rows = await reference_inputs(ambito_id, full=full)
        else:
            inputs, need_rows = await recent_reference_inputs(ambito_id, state, full=full)
        kept = {key: fig for key, (fig, _) in ledger_kept.items()}
        results = await _computed_figures(
            (ambito_id, state), inputs, need_rows, months, cover, missing, now, kept
        )
        for period in missing:
            fig = results[period.key]
            computed[period.key] = fig
            if not live:
                _COMPUTED.put(_computed_key(ambito_id, period, state, full), fig)
    figures = [found[p.key][0] if p.key in found else computed[p.key] for p in wanted]
    stamps = [found[p.key][1] if p.key in found else None for p in wanted]
    return figures, stamps, "snapshot" if len(found) == len(wanted) else "live"


# The figures computed for recent requests, by ambito, period and the whole data fingerprint
# (every table the metrics read, ledger included): the same data gives the same figures, so
# the dashboard's next filtered requests after a new entry (the same year, another filter)
# do not compute its month, quarter and year again. Served for a minute at most: the
# resources' freshness is counted as of when they were computed, as a snapshot's is.
_COMPUTED: Kept[tuple[Any, ...], Figures] = Kept(256, seconds=60.0)


def _computed_key(
    ambito_id: uuid.UUID, period: Period, state: _State, full: bool
) -> tuple[Any, ...]:
    return (ambito_id, period.key, period.start, period.end, full, state.fingerprint)


def _recently_computed(
    ambito_id: uuid.UUID, wanted: Sequence[Period], state: _State, full: bool
) -> dict[str, Figures]:
    kept = {p.key: _COMPUTED.get(_computed_key(ambito_id, p, state, full)) for p in wanted}
    return {key: fig for key, fig in kept.items() if fig is not None}


async def fresh_figures(ambito_id: uuid.UUID, wanted: Sequence[Period]) -> dict[str, Figures]:
    """The stored figures of the wanted calendar periods that still hold, by period key."""
    found, _ = await _fresh(ambito_id, wanted, await _state(ambito_id))
    return {key: fig for key, (fig, _) in found.items()}


async def ledger_side_reference(ambito_id: uuid.UUID, state: _State) -> str:
    """What the tables that do not read the needs depend on besides the ledger: the
    attributes the ledger's facts take from other tables (as their digest) and the marks of
    the funded interventions and the value rates."""
    return f"{(await ledger_attributes(ambito_id, state)).digest}|{state.money}"


async def _ledger_side_kept(
    ambito_id: uuid.UUID,
    periods: Sequence[Period],
    stored: dict[str, tuple[_Payload, str]],
    state: _State,
) -> dict[str, tuple[Figures, str]]:
    """The stored figures (and identity) of the periods whose tables but the need tables
    still hold."""
    if not periods:
        return {}
    freshness = _Freshness(ambito_id, state, await ledger_side_reference(ambito_id, state))
    return {
        p.key: (stored[p.key][0].figures, stored[p.key][1])
        for p in periods
        if await freshness.holds(stored[p.key][0], p, ledger_side=True)
    }


async def _fresh(
    ambito_id: uuid.UUID, wanted: Sequence[Period], state: _State
) -> tuple[dict[str, tuple[Figures, str]], dict[str, tuple[_Payload, str]]]:
    """fresh_figures with each snapshot's identity: the ambito, the period, the version, when
    it was written and the data marks it was computed at (the same identity, the same
    figures); and the current version's snapshots of the others, with theirs, by period."""
    calendar = [p for p in wanted if calendar_key(p.start, p.end, p.end) == p.key]
    if not calendar:
        return {}, {}
    keys = [p.key for p in calendar]
    rows = await _snapshot_rows(ambito_id, keys, with_payload=False)
    by_key = {(r["granularity"], r["period_key"]): r for r in rows}
    payloads = {k: _DECODED.get(_identity(ambito_id, r)) for k, r in by_key.items()}
    unread = [
        k for k, r in by_key.items() if r["version"] == SNAPSHOT_VERSION and payloads[k] is None
    ]
    if unread:
        # Read with their identity: the job may have written some again in between.
        for row in await _snapshot_rows(ambito_id, [key for _, key in unread], with_payload=True):
            decoded = msgspec.json.decode(row["payload"], type=_Payload)
            k = (row["granularity"], row["period_key"])
            by_key[k], payloads[k] = row, decoded
            _DECODED.put(_identity(ambito_id, row), decoded, len(row["payload"]))
    freshness = _Freshness(ambito_id, state)
    found: dict[str, tuple[Figures, str]] = {}
    outdated: dict[str, tuple[_Payload, str]] = {}
    for p in calendar:
        row = by_key.get((_granularity_of(p.key), p.key))
        if row is None or row["version"] != SNAPSHOT_VERSION:
            continue
        computed_at = _dt(row["computed_at"])
        if utcnow() - computed_at > SNAPSHOT_MAX_AGE:  # type: ignore[operator]
            continue
        payload = payloads.get((row["granularity"], p.key))
        if payload is None:
            continue
        stamp = "/".join(
            (
                str(ambito_id),
                row["granularity"],
                p.key,
                str(row["version"]),
                str(computed_at),
                payload.reference,
                payload.entry_mark,
                payload.confirmation_mark,
                str(payload.figured_at),
            )
        )
        if await freshness.holds(payload, p):
            found[p.key] = (payload.figures, stamp)
        else:
            outdated[p.key] = (payload, stamp)
    return found, outdated


# Decoded snapshot payloads by identity: every summary of a dashboard reads the same
# seventeen (a year, its quarters and months), and decoding their text again was a tenth of
# a summary under load (bench/load.py). Bounded by the texts' size.
_DECODED: Kept[tuple[Any, ...], _Payload] = Kept(64_000_000)


def _identity(ambito_id: uuid.UUID, row: dict[str, Any]) -> tuple[Any, ...]:
    """What a stored snapshot is (the same identity, the same payload): the snapshot job
    writes a period again with a new computed_at."""
    return (ambito_id, row["granularity"], row["period_key"], row["version"], row["computed_at"])


async def _snapshot_rows(
    ambito_id: uuid.UUID, keys: list[str], *, with_payload: bool
) -> list[dict[str, Any]]:
    """The stored snapshots of the periods: their identity, and with `with_payload` their
    text, read on a connection's thread (a year's texts are large); the identities alone are
    a short read (db.fetch)."""
    sql = (
        "SELECT granularity, period_key, computed_at, version"
        f"{', payload' if with_payload else ''} FROM metrics_snapshot "
        f"WHERE ambito = {{}} AND period_key IN ({', '.join('{}' for _ in keys)})"
    )
    return await (_raw if with_payload else fetch)(sql, _u(ambito_id), *keys)
