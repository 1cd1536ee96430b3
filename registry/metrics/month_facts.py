"""Month facts: the ledger's facts of one calendar month, the mergeable part of a period's
inputs (their form: month_form.py); their grouped read for a span of months, a span's
inputs from them, their store (metrics_month_facts: read where they still hold, written by
the snapshot job) and the months requests completed since (kept in-process)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal, NamedTuple

import msgspec
from piccolo.columns import Column

from registry.common import now as utcnow
from registry.db import fetch, unit_of_work
from registry.metrics import catalogue, compute
from registry.metrics.compute import Figures, Inputs, Period
from registry.metrics.coverage import MatchedHours
from registry.metrics.kept import Kept
from registry.metrics.loading import (
    ALL_WRITTEN,
    Scope,
    Written,
    _date,
    _dt,
    _raw,
    _text,
    _u,
    load_ledger,
    load_places,
    load_uses,
)
from registry.metrics.month_form import (
    LedgerMonth,
    MonthsMoved,
    as_stored_before,
    decode_month,
    encode_month,
    settle,
)
from registry.metrics.rates import effective_rates
from registry.metrics.reference_loading import (
    NeedRows,
    load_interventions,
    load_need_rows,
    load_person_aliases,
    load_resources,
    needs_from,
    stored_rates,
)
from registry.metrics.snapshot_store import SNAPSHOT_VERSION, _Freshness, _State
from registry.metrics.tables import MetricsMonthFacts


class MonthPayload(NamedTuple):
    """A month's facts in their stored form, with the identity of the stored row they were
    read from (None when read from the ledger now): the same identity, the same text. A
    stored month that still holds comes without its text (None), which is read only when a
    worker process asks for it (stored_texts): most requests find it decoded there, and a
    year's texts are tens of MB to read from the database (0.1 s on PostgreSQL)."""

    text: str | None
    identity: str | None = None
    ambito_id: uuid.UUID | None = None
    month: str = ""


async def _stored_rows(
    ambito_id: uuid.UUID, months: list[str], also: Column
) -> list[dict[str, Any]]:
    """The stored months' rows of the current version: their identity's columns and `also`.
    Without their texts a short read (db.fetch: on SQLite on the loop's own thread)."""
    if not months:
        return []
    column = also._meta.db_column_name
    sql = (
        f"SELECT month, reference, entry_mark, confirmation_mark, computed_at, {column} "
        "FROM metrics_month_facts WHERE ambito = {} AND version = {} "
        f"AND month IN ({', '.join('{}' for _ in months)})"
    )
    read = _raw if also is MetricsMonthFacts.payload else fetch
    return await read(sql, _u(ambito_id), SNAPSHOT_VERSION, *months)


def _row_identity(ambito_id: uuid.UUID, row: dict[str, Any]) -> str:
    computed_at = _dt(row["computed_at"])
    assert computed_at is not None
    marks = (row["reference"], row["entry_mark"], row["confirmation_mark"])
    return _identity(ambito_id, row["month"], marks, computed_at)


async def stored_texts(wanted: Sequence[MonthPayload]) -> dict[str, str]:
    """The texts of stored months read without them, by identity (MonthsMoved when one of
    them was written again since)."""
    months_of: dict[uuid.UUID, set[str]] = defaultdict(set)
    for m in wanted:
        assert m.ambito_id is not None
        months_of[m.ambito_id].add(m.month)
    found: dict[str, str] = {}
    for ambito_id, keys in months_of.items():
        rows = await _stored_rows(ambito_id, sorted(keys), MetricsMonthFacts.payload)
        found.update((_row_identity(ambito_id, r), r["payload"]) for r in rows)
    if any(m.identity not in found for m in wanted):
        raise MonthsMoved
    return {m.identity: found[m.identity] for m in wanted if m.identity is not None}


def _identity(
    ambito_id: uuid.UUID, month: str, marks: tuple[str, str, str], computed_at: datetime
) -> str:
    """The identity of a stored month's row: its ambito, month, version, the marks it was
    stored at (ledger attributes, entries, confirmations) and when it was stored. The job
    sends the months it has just stored by this identity too, so a worker process that
    decoded them there holds them for the requests that read them back."""
    when = computed_at.astimezone(UTC).isoformat()
    return "/".join(map(str, (ambito_id, month, SNAPSHOT_VERSION, *marks, when)))


_EVER = Period("ever", date(1, 1, 1), date(9999, 12, 31))


async def served_plans(ambito_id: uuid.UUID) -> list[str]:
    """Plans served by any funded intervention that reports delivered hours, whatever its
    dates: month facts then hold the same whichever period they are merged into (a plan
    that no intervention of that period serves only splits a sum; allocate_paid takes
    nothing from it)."""
    interventions = await load_interventions(ambito_id, _EVER, Scope())
    return sorted({p for i in interventions if i.delivered_minutes > 0 for p in i.plan_ids})


class LedgerAttributes(msgspec.Struct, frozen=True):
    """What the ledger's facts take from other tables, as a digest, and the plans funded
    interventions serve (the paid-hours rule reads them: one of the attributes)."""

    digest: str
    served: list[str]


# By ambito and the marks of their tables (_State.attributes): read again only after one of
# those tables changed.
_ATTRIBUTES: Kept[tuple[uuid.UUID, str], LedgerAttributes] = Kept(256)


async def ledger_attributes(ambito_id: uuid.UUID, state: _State) -> LedgerAttributes:
    """Every attribute the ledger's facts take from other tables: holders' kind and sector,
    plans' comune and area, activities' comune, resources' category and unit, and the plans
    funded interventions serve. Month facts are stored with its digest and hold while it is
    the same: a need recorded, a match accepted or a resource confirmed leaves every month's
    facts as they are (the marks of those tables moved, the digest did not)."""
    key = (ambito_id, state.attributes)
    found = _ATTRIBUTES.get(key)
    if found is not None:
        return found
    ambito = _u(ambito_id)
    reads = [
        _raw(
            f"SELECT {_text('id')} AS id, {columns} FROM {table} WHERE ambito = {{}} ORDER BY 1",
            ambito,
        )
        for table, columns in (
            ("holder", "kind, sector"),
            ("care_plan", "comune, target_group"),
            ("community_activity", "comune"),
            ("resource", "category_code, unit"),
        )
    ]
    *tables, served = await asyncio.gather(*reads, served_plans(ambito_id))
    rows = [[list(r.values()) for r in table] for table in tables]
    digest = hashlib.blake2b(msgspec.json.encode([rows, served]), digest_size=16).hexdigest()
    return _ATTRIBUTES.put(key, LedgerAttributes(digest, served))


async def load_ledger_months(
    ambito_id: uuid.UUID, span: Period, served: Sequence[str], written: Written = ALL_WRITTEN
) -> dict[str, LedgerMonth]:
    """The month facts of every month of `span` (a range of whole months, the last one
    possibly running to today), of the entries `written` then: three grouped reads of the
    ledger for the whole span."""
    months = {m.key: LedgerMonth() for m in compute.buckets(span.start, span.end, "month")}

    async def presence_and_uses() -> tuple[list[compute.PresencePlace], list[Any]]:
        presence = await load_places(ambito_id, span, Scope(), by_month=True, written=written)
        return presence, await load_uses(ambito_id, span, Scope(), written)

    if written.few:
        # Short reads (what the ledger gained since a mark) one after the other: under load
        # starting tasks for them cost a turn of the busy event loop each, longer than the
        # reads themselves (on SQLite they run on the loop's own thread).
        hours, quantities = await load_ledger(ambito_id, span, Scope(), served, written)
        presence, uses = await presence_and_uses()
    else:
        # Two reads at a time, on two connections: on a large ledger each is seconds of the
        # database's own work, which runs outside the GIL (the pool keeps connections for
        # requests).
        (hours, quantities), (presence, uses) = await asyncio.gather(
            load_ledger(ambito_id, span, Scope(), served, written), presence_and_uses()
        )
    for h in hours:
        months[h.month].hours.append(h)
    for q in quantities:
        months[q.month].quantities.append(q)
    for place in presence:
        months[place.month].presence.append(place)
    for use in uses:
        months[use[3]].uses.append(use)
    return months


# The reference inputs recently read, by ambito and the reference data's marks: the needs as
# read by every mark of the reference data (_State.reference: every table but the ledger, its
# count and latest change), the rest by all but those of the needs and matches
# (_State.besides_needs), so a need recorded reads only the needs again. Served for 5 minutes
# at most (tables the marks do not cover, such as the link of a volunteer user to a holder,
# are then read again). A dashboard's filtered requests of one ambito read the same needs,
# resources and interventions again and again (0.3-0.5 s at 8,000 needs), and so would the
# first of them after the snapshot job (which leaves its own read here). A ledger write
# changes no mark.
_BESIDES_NEEDS: Kept[tuple[uuid.UUID, str], Inputs] = Kept(64, seconds=300.0)
_NEED_ROWS: Kept[tuple[uuid.UUID, str], NeedRows] = Kept(64, seconds=300.0)


def remember_reference(
    ambito_id: uuid.UUID, state: _State, read: tuple[Inputs, NeedRows | None]
) -> None:
    """Keep a full read of reference_inputs made at `state`'s marks for the next requests."""
    inputs, need_rows = read
    if need_rows is not None:
        _BESIDES_NEEDS.put((ambito_id, state.besides_needs), inputs)
        _NEED_ROWS.put((ambito_id, state.reference), need_rows)


async def recent_reference_inputs(
    ambito_id: uuid.UUID, state: _State, *, full: bool = True
) -> tuple[Inputs, NeedRows | None]:
    """reference_inputs, from recent reads at the same marks where there are (callers never
    change what they get)."""
    inputs = _BESIDES_NEEDS.get((ambito_id, state.besides_needs))
    need_rows = _NEED_ROWS.get((ambito_id, state.reference))
    if inputs is None and need_rows is None:
        inputs, need_rows = await reference_inputs(ambito_id)
    elif inputs is None:
        inputs = await _inputs_besides_needs(ambito_id, full=True)
    elif need_rows is None:
        need_rows = await load_need_rows(ambito_id, Scope())
    assert need_rows is not None
    remember_reference(ambito_id, state, (inputs, need_rows))
    if full:
        return inputs, need_rows
    return dataclasses.replace(inputs, offered=[], resources=[]), None


async def reference_inputs(
    ambito_id: uuid.UUID, *, full: bool = True
) -> tuple[Inputs, NeedRows | None]:
    """The inputs of any span but the ledger's facts and the needs: the reference data
    (resources, every intervention, rates: small tables) read now, and the needs as read
    (when `full`). figures_from_months adds the facts and makes the needs', in the worker
    process; each period takes the interventions that overlap it."""
    if not full:
        return await _inputs_besides_needs(ambito_id, full=False), None
    inputs, need_rows = await asyncio.gather(
        _inputs_besides_needs(ambito_id, full=True), load_need_rows(ambito_id, Scope())
    )
    return inputs, need_rows


async def _inputs_besides_needs(ambito_id: uuid.UUID, *, full: bool) -> Inputs:
    # Small reads, together: each is a trip to a database connection's thread.
    (rates, levels), interventions, aliases, *resources = await asyncio.gather(
        stored_rates(ambito_id),
        load_interventions(ambito_id, _EVER, Scope()),
        load_person_aliases(ambito_id),
        *([load_resources(ambito_id, Scope())] if full else []),
    )
    offered, states = resources[0] if resources else ([], [])
    return Inputs(
        interventions=interventions,
        person_of_holder=aliases,
        rates=effective_rates(rates),
        category_levels=levels,
        offered=offered,
        resources=states,
    )


class Unsent(NamedTuple):
    """A worker process's answer when it does not hold months sent by their identity alone."""

    identities: list[str]


class Computed(NamedTuple):
    """A worker process's figures, and the months it made one of several parts (settle_as):
    their stored form, by month."""

    figures: list[Figures]
    settled: dict[str, str]


# What a worker process computes of a period: all but the need tables (catalogue.NEED_TABLES),
# or only those. A period's two sides go to two processes at once (snapshots.figures_in_workers):
# a year after a new entry is half a second of Python on each.
Side = Literal["ledger", "needs"]


def figures_from_months(
    reference: bytes,
    need_rows: bytes | None,
    months: Sequence[tuple[str | None, str | None]],
    span: Period,
    periods: Sequence[Period],
    now: datetime,
    sides: Sequence[Side],
    settle_as: Mapping[str, str] | None = None,
) -> Computed | Unsent:
    """The figures of each period from the packed reference inputs (reference_inputs), the
    needs as read (packed too: pickling their times took longer than the need tables) and
    the months' facts, for a worker process: a month of a large ledger is tens of thousands
    of facts, decoded here rather than on the event loop and packed again, and the needs'
    facts are made here from the months' uses.

    `months`: (identity, stored form) of each; a stored month this process decoded before
    may come by its identity alone (its text None), else the answer is Unsent.
    `sides`: the Side of each period; the figures of a "ledger" side hold all but the need
    tables, those of a "needs" side only those (the caller merges them).
    `settle_as`: months sent in several parts (stored facts and what the ledger gained
    since), made one and kept here by the identity given, their text returned (the next
    request sends them as one: remember_settled)."""
    decoded = [_decoded_in_worker(identity, text) for identity, text in months]
    unsent = [i for (i, _), month in zip(months, decoded, strict=True) if month is None and i]
    if unsent:
        return Unsent(unsent)
    settle_as = settle_as or {}
    decoded = settle(decoded, settle_as)  # type: ignore[arg-type]  # none was unsent
    settled: dict[str, str] = {}
    for month in decoded:
        assert month is not None
        identity = settle_as.get(month.key)
        if identity is not None and month.key not in settled:
            settled[month.key] = text = encode_month(month.key, month)
            _DECODED.put(identity, month, weight=len(text))
    inputs = msgspec.msgpack.decode(reference, type=Inputs)
    # The ledger's facts of the months of the periods whose ledger tables are made here.
    ledger_months = set().union(
        *(p.months() for p, side in zip(periods, sides, strict=True) if side == "ledger")
    )
    uses = []
    # The need tables read the hours given through matches, summed by month.
    matched: dict[str, MatchedHours] = defaultdict(MatchedHours)
    for month in decoded:
        assert month is not None
        uses.extend(month.uses)
        matched[month.key] += month.matched
        if month.key in ledger_months:
            inputs.hours.extend(month.hours)
            inputs.quantities.extend(month.quantities)
            inputs.presence.extend(month.presence)
    if need_rows is not None:
        rows = msgspec.msgpack.decode(need_rows, type=NeedRows)
        inputs.needs, inputs.resource_plans = needs_from(rows, span, uses)
    results: dict[tuple[str, Side], Figures] = {}
    chosen = [p for p, s in zip(periods, sides, strict=True) if s == "ledger"]
    if chosen:
        computed = catalogue.figures_by_period(inputs, chosen, now, with_needs=False)
        results.update(((p.key, "ledger"), f) for p, f in zip(chosen, computed, strict=True))
    chosen = [p for p, s in zip(periods, sides, strict=True) if s == "needs"]
    if chosen:
        # Without the ledger's facts, which the need tables do not read (nor index).
        need_inputs = dataclasses.replace(inputs, hours=[], quantities=[], presence=[])
        tables = catalogue.need_tables_by_period(need_inputs, chosen, matched, now)
        results.update(
            ((p.key, "needs"), Figures(period=p, as_of=now, tables=t, money={}))
            for p, t in zip(chosen, tables, strict=True)
        )
    return Computed(
        [results[(p.key, side)] for p, side in zip(periods, sides, strict=True)], settled
    )


# The months a worker process decoded lately, by the identity of their stored row, or by
# their text itself when read from the ledger (the same text, the same facts: a dictionary
# lookup compares the texts). A stored month is needed again by every request whose period
# covers it, until the ledger changes in that month: decoding a year of a large ledger took
# 0.14 s of each request, and sending its text to the process 0.1 s (a year is tens of MB).
# At most 100 MB of texts (each process has its own).
_DECODED: Kept[str, LedgerMonth] = Kept(100_000_000)


def _decoded_in_worker(identity: str | None, text: str | None) -> LedgerMonth | None:
    key = identity or text
    assert key is not None
    found = _DECODED.get(key)
    if found is not None or text is None:
        return found
    return _DECODED.put(key, decode_month(text), weight=len(text))


# --- the month facts' store (the snapshot job writes them) ------------------------------


def _covering(periods: Sequence[Period]) -> Period:
    return Period("span", min(p.start for p in periods), max(p.end for p in periods))


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
) -> dict[str, list[MonthPayload]]:
    """The ledger facts of each month of `span` in their stored form (encode_month), by
    month: one payload or more (a month's facts are the concatenation of its payloads):
    - from metrics_month_facts when stored at marks that still hold (and not `live`);
    - a month that has only gained plain entries and confirmations since it was stored: its
      stored facts, the facts of the entries written since, and those of the entries
      confirmed since, as verified, with the same as stored (unverified) to take away
      (settle; the ledger is append-only: a month of a large ledger read again took most of
      a filtered request after a new entry, and most of a summary under a load that
      confirms entries);
    - the others read from the ledger (and stored when `store`: only the snapshot job writes
      them, a request never does), up to the entry mark they are stored with."""
    months = compute.buckets(span.start, span.end, "month")
    found: dict[str, list[MonthPayload]] = {}
    # The months to complete with the entries written and confirmed since marks, by marks.
    grown: dict[tuple[str, str], set[str]] = {}
    attributes = None if live else await ledger_attributes(ambito_id, state)
    if attributes is not None:
        keys = [m.key for m in months]
        rows = await _stored_rows(ambito_id, keys, MetricsMonthFacts.period_end)
        by_key = {r["month"]: r for r in rows}
        freshness = _Freshness(ambito_id, state, reference=attributes.digest)
        for m in months:
            candidates: list[tuple[tuple[str, str, str], MonthPayload]] = []
            # Where a request made the month one later than it is stored, from there.
            settled = None if store else _SETTLED.get((ambito_id, m.key))
            if settled is not None and settled.period_end == m.end:
                marks = (settled.reference, settled.entry_mark, settled.confirmation_mark)
                candidates.append((marks, settled.payload))
            r = by_key.get(m.key)
            # A month read in part (a running month read up to another day) does not hold.
            if r is not None and m.start.day == 1 and _date(r["period_end"]) == m.end:
                marks = (r["reference"], r["entry_mark"], r["confirmation_mark"])
                identity = _row_identity(ambito_id, r)
                candidates.append((marks, MonthPayload(None, identity, ambito_id, m.key)))
            for marks, stored in candidates:
                if await freshness.unchanged(m, *marks):
                    found[m.key] = [stored]
                elif not store and await freshness.only_new_entries(marks[0], marks[1]):
                    found[m.key] = [stored]
                    grown.setdefault(marks[1:], set()).add(m.key)
                else:
                    continue
                break
    missing = {m.key for m in months} - set(found)
    # Stored facts are read up to the marks they are stored with: an entry written while
    # they are read is one of the entries "written since", and an entry confirmed meanwhile
    # one of those "confirmed since". So are the months completed: a request's answer is
    # the data at its marks, and the month it made one (remember_settled) too.
    at_marks = Written(until=state.entry_mark, confirmed_by=state.confirmation_mark)
    reads = [(run, at_marks if store else ALL_WRITTEN) for run in _runs(months, missing)]
    for (entry_mark, confirmation_mark), keys in grown.items():
        for run in _runs(months, keys):
            since = Written(
                since=entry_mark, until=state.entry_mark, confirmed_by=state.confirmation_mark
            )
            reads.append((run, since))
            if confirmation_mark != state.confirmation_mark:
                confirmed = Written(
                    until=entry_mark,
                    confirmed_by=confirmation_mark,
                    newly_confirmed=True,
                    confirmed_until=state.confirmation_mark,
                )
                reads.append((run, confirmed))
    if reads:
        served = attributes.served if attributes else await served_plans(ambito_id)
    for run, written in reads:
        loaded = await load_ledger_months(ambito_id, run, served, written)
        for m in compute.buckets(run.start, run.end, "month"):
            if written.newly_confirmed:
                retracted = encode_month(m.key, as_stored_before(loaded[m.key]))
                found[m.key].append(MonthPayload(retracted, None, ambito_id, m.key))
            payload = encode_month(m.key, loaded[m.key])
            identity = None
            if store:
                assert attributes is not None  # the job never reads live
                marks = (attributes.digest, state.entry_mark, state.confirmation_mark)
                computed_at = utcnow()
                await _store_facts(ambito_id, m, marks, computed_at, payload)
                identity = _identity(ambito_id, m.key, marks, computed_at)
            found.setdefault(m.key, []).append(MonthPayload(payload, identity, ambito_id, m.key))
    return {m.key: found[m.key] for m in months}


class _Settled(NamedTuple):
    """A month a request made one of its stored facts and what the ledger gained since,
    with the marks it holds the data at."""

    period_end: date
    reference: str
    entry_mark: str
    confirmation_mark: str
    payload: MonthPayload


# The months requests made one lately, by ambito and month (at most 64 MB of texts): the
# next request completes them from there. Else, under a steady flow of entries and
# confirmations, each request would read again everything the ledger gained since the job
# stored the month (the running month: the whole day's entries).
_SETTLED: Kept[tuple[uuid.UUID, str], _Settled] = Kept(64_000_000)


def settled_identity(ambito_id: uuid.UUID, month: Period, state: _State) -> str:
    """The identity of a month made one at the data marks of `state` (its whole fingerprint:
    the same marks, the same facts)."""
    end = month.end.isoformat()
    return "/".join(map(str, (ambito_id, month.key, end, SNAPSHOT_VERSION, state.fingerprint)))


def settle_as(
    ambito_id: uuid.UUID, months: Mapping[str, list[MonthPayload]], span: Period, state: _State
) -> dict[str, str]:
    """The months of several parts, by key, with the identity to keep them made one by."""
    return {
        m.key: settled_identity(ambito_id, m, state)
        for m in compute.buckets(span.start, span.end, "month")
        if len(months.get(m.key, ())) > 1
    }


def forget_settled(ambito_id: uuid.UUID, span: Period) -> None:
    """Drop the months kept for `span` (one could not be completed: MonthsMoved), so the
    next request starts again from the stored months, not from the same kept one."""
    for m in compute.buckets(span.start, span.end, "month"):
        _SETTLED.drop((ambito_id, m.key))


async def remember_settled(
    ambito_id: uuid.UUID,
    span: Period,
    state: _State,
    identities: Mapping[str, str],
    texts: Mapping[str, str],
) -> None:
    """Keep the months made one (figures_from_months) for the next requests."""
    if not texts:
        return
    attributes = await ledger_attributes(ambito_id, state)
    for m in compute.buckets(span.start, span.end, "month"):
        text = texts.get(m.key)
        if text is None:
            continue
        payload = MonthPayload(text, identities[m.key], ambito_id, m.key)
        marks = (attributes.digest, state.entry_mark, state.confirmation_mark)
        _SETTLED.put((ambito_id, m.key), _Settled(m.end, *marks, payload), weight=len(text))


async def _store_facts(
    ambito_id: uuid.UUID,
    month: Period,
    marks: tuple[str, str, str],
    computed_at: datetime,
    payload: str,
) -> None:
    # What the month's facts depend on besides the ledger (ledger_attributes), and the
    # ledger's marks.
    reference, entry_mark, confirmation_mark = marks
    values = {
        MetricsMonthFacts.period_end: month.end,
        MetricsMonthFacts.version: SNAPSHOT_VERSION,
        MetricsMonthFacts.reference: reference,
        MetricsMonthFacts.entry_mark: entry_mark,
        MetricsMonthFacts.confirmation_mark: confirmation_mark,
        MetricsMonthFacts.computed_at: computed_at,
        MetricsMonthFacts.payload: payload,
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
