"""Publication of the metrics: suppression of small cells, the period and the filter of an
answer, and the protection of periods (a longer period protected from its months or quarters,
a filtered answer from the unfiltered tables). The answers are in answers.py (summary,
coverage, time series) and network_publication.py (the cohesion network)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from registry import italian
from registry.access import Principal, Role
from registry.db import fetch
from registry.errors import InvalidInput, NotFound
from registry.italian import today as local_today
from registry.metrics import compute, disclosure, snapshots
from registry.metrics.compute import Figures, Period
from registry.metrics.kept import Kept
from registry.metrics.loading import Scope
from registry.metrics.periods import calendar_key, min_count
from registry.metrics.schemas import (
    Money,
    PeriodOut,
    PublishedTable,
    RateUseOut,
    SuppressedCell,
    Suppression,
)
from registry.metrics.suppression import TOTAL, Row, Suppressed, Table, row_id, suppress
from registry.offload import in_worker_process


def _require_reader(actor: Principal) -> None:
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)


async def _ambito_code(ambito_id: uuid.UUID) -> str:
    rows = await fetch("SELECT code FROM ambito WHERE id = {}", ambito_id)
    if not rows:
        raise NotFound("no such ambito")
    return rows[0]["code"]


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


# --- the period and the filter of an answer ------------------------------------------------


_MONTHS_IT = [
    *("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno"),
    *("luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"),
]


def _day_it(day: date) -> str:
    return f"{day.day} {_MONTHS_IT[day.month - 1]} {day.year}"


def period_out(period: Period, today: date | None = None) -> PeriodOut:
    """The period and the days it covers, said in words for the dashboard and the report."""
    today = today or local_today()
    to_date = period.end == today  # the running period: it moves until the day is over
    label = f"dal {_day_it(period.start)} al {_day_it(period.end)}"
    if to_date:
        label += " (fino a oggi: i giorni futuri non sono contati, né per i contributi né "
        label += "per la spesa pubblica)"
    return PeriodOut(
        start=period.start,
        end=period.end,
        key=period.key,
        days=period.days,
        to_date=to_date,
        label=label,
    )


def one_filter(scope: Scope) -> tuple[str, str] | None:
    """The single dimension filter of the query, if any: two filters together would let one
    answer be subtracted from another (disclosure.py), so they are refused."""
    given = [
        (name, value)
        for name, value in (
            ("comune", scope.comune),
            ("area", scope.area),
            ("sector", scope.sector),
            ("holder_kind", scope.holder_kind),
        )
        if value
    ]
    if len(given) > 1:
        names = " and ".join(f"'{name}'" for name, _ in given)
        raise InvalidInput(
            f"one filter at a time: {names} together could reveal withheld cells by "
            "difference; ask for each separately",
            field=given[1][0],
        )
    return given[0] if given else None


# --- protection of periods ------------------------------------------------------------------


def _months(period: Period) -> list[Period]:
    return compute.buckets(period.start, period.end, "month")


def _parts(p: Period, today: date) -> tuple[list[Period], bool]:
    """The parts a longer period is protected from, and whether it is a calendar period
    (disclosure.py, rule 3): a calendar year's quarters, a calendar quarter's months (a
    running one to date), any other range's months."""
    key = calendar_key(p.start, p.end, today)
    if key is not None and len(key) == 4:
        return compute.buckets(p.start, p.end, "quarter"), True
    return _months(p), key is not None and "Q" in key


def _within_a_month(p: Period) -> bool:
    return p.start.month == p.end.month and p.start.year == p.end.year


# Protections of periods served from snapshots, kept by the worker process that made them:
# the snapshot's identity (ambito, period, version, computed_at and data marks) with the
# threshold, and for a longer period its parts' keys and today, decide the result, so it is
# reused until the snapshot changes. Under load every summary protected the same twelve
# months, four quarters and year again (0.6 s of each in bench/load.py). Bounded: a Region
# of ninety ambiti is about 1,500 periods a year.
_PROTECTED: Kept[tuple[Any, ...], disclosure.Protected] = Kept(2048)


# The protections of answers served wholly from snapshots, in this process, by the
# snapshots' identities and the periods asked (a dashboard's series and summary, asked again
# and again until the job writes new snapshots). Bounded: a 36-month series is a few MB.
_PROTECTED_HERE: Kept[tuple[Any, ...], list[disclosure.Protected]] = Kept(32)


class FiguresUnsent(Exception):
    """A worker process lacks the protection of a period whose figures were not sent."""


def _protect_periods(
    wanted: list[Period],
    figures: list[Figures | None],
    stamps: list[str | None],
    months: list[Period],
    threshold: int,
    today: date,
    asked: list[Period],
) -> list[disclosure.Protected] | None:
    """Disclosure control of each period asked (run in a worker process: pure Python). Only
    the asked periods' tables travel back: unpickling the months' and quarters' too held the
    event loop for tens of milliseconds. `stamps`: each wanted period's snapshot identity,
    None when its figures were computed for this request. `figures` may leave out (None)
    those of snapshots, whose protection this process may have kept: None when it has not,
    and the caller sends them all."""
    by_key = {p.key: f for p, f in zip(wanted, figures, strict=True)}
    stamp_of = {p.key: s for p, s in zip(wanted, stamps, strict=True)}
    done: dict[str, tuple[disclosure.Protected, tuple[Any, ...] | None]] = {}

    def remembered(
        key: tuple[Any, ...] | None,
        fig: Figures | None,
        make: Callable[[Figures], disclosure.Protected],
    ) -> disclosure.Protected:
        found = _PROTECTED.get(key) if key is not None else None
        if found is not None:
            return found
        if fig is None:
            raise FiguresUnsent
        made = make(fig)
        return made if key is None else _PROTECTED.put(key, made)

    def month(m: Period) -> tuple[disclosure.Protected, tuple[Any, ...] | None]:
        stamp = stamp_of[m.key]
        key = None if stamp is None else (stamp, threshold)
        return remembered(key, by_key[m.key], lambda f: disclosure.protect(f, threshold)), key

    def protected(p: Period) -> tuple[disclosure.Protected, tuple[Any, ...] | None]:
        if _within_a_month(p):
            return done[compute.month_key(p.start)]
        if p.key not in done:
            parts, calendar = _parts(p, today)
            inside = [protected(part) for part in parts]
            part_keys = tuple(k for _, k in inside)
            stamp = stamp_of[p.key]
            cacheable = stamp is not None and None not in part_keys
            key = (stamp, threshold, today, part_keys) if cacheable else None
            done[p.key] = (
                remembered(
                    key,
                    by_key[p.key],
                    lambda fig: disclosure.protect(
                        fig, threshold, [t for t, _ in inside], calendar=calendar
                    ),
                ),
                key,
            )
        return done[p.key]

    try:
        for m in months:
            done[m.key] = month(m)
        return [protected(p)[0] for p in asked]
    except FiguresUnsent:
        return None


async def protected_periods(
    ambito_id: uuid.UUID,
    periods: Sequence[Period],
    span: Period,
    now: datetime,
    *,
    live: bool,
    full: bool = True,
) -> tuple[list[tuple[Figures, disclosure.Protected]], str]:
    """Each period's figures and its tables after disclosure control: a longer period is
    protected from its parts, months or quarters (disclosure.py, rule 3)."""
    today = italian.today(now)
    months = _months(span)
    longer = [p for p in periods if not _within_a_month(p)]
    # A calendar year needs its quarters' figures too, even when they were not asked for.
    quarters = [
        q
        for p in longer
        if len(calendar_key(p.start, p.end, today) or "") == 4
        for q in compute.buckets(p.start, p.end, "quarter")
        if not _within_a_month(q)
    ]
    wanted: list[Period] = []
    for p in [*months, *quarters, *longer]:
        if p.key not in {w.key for w in wanted}:
            wanted.append(p)
    figures, stamps, source = await snapshots.figures_of(
        ambito_id, wanted, span, now, live=live, full=full
    )
    threshold = min_count()
    # Every period from a snapshot: the same snapshots, the same protection (nothing changes
    # a Protected once made), kept here too, so the worker is not sent their figures again.
    key = None
    if None not in stamps:
        key = (tuple(stamps), *((p.key, p.start, p.end) for p in periods), threshold, today)
    protected = _PROTECTED_HERE.get(key) if key is not None else None
    if protected is None:
        # The snapshots' figures travel only to a process that has not protected them yet:
        # pickling a year's seventeen periods for every summary after a write held the loop.
        sent: list[Figures | None] = [
            None if stamp is not None else fig for fig, stamp in zip(figures, stamps, strict=True)
        ]
        rest = (stamps, months, threshold, today, list(periods))
        protected = await in_worker_process(_protect_periods, wanted, sent, *rest)
        if protected is None:
            protected = await in_worker_process(_protect_periods, wanted, figures, *rest)
        assert protected is not None  # every figure sent: nothing can be missing
        if key is not None:
            _PROTECTED_HERE.put(key, protected)
    by_key = {p.key: f for p, f in zip(wanted, figures, strict=True)}
    # A period within one month (a quarter bucket of a one-month range) is that month.
    return [
        (by_key[p.key if p in longer else compute.month_key(p.start)], t)
        for p, t in zip(periods, protected, strict=True)
    ], source


_FILTER_NOTE = (
    "Con un filtro si pubblica solo la riga del valore filtrato nella tabella senza filtri "
    "dello stesso periodo (con le stesse celle nascoste): le altre tabelle non sono pubblicate."
)


def _filtered(
    protected: disclosure.Protected,
    dimension: str,
    value: str,
    reference: Mapping[str, str] = disclosure.REFERENCE,
    note: str = _FILTER_NOTE,
) -> dict[str, Table]:
    """The tables of a filtered answer: only the reference rows (disclosure.py, rule 4).
    `reference` and `note`: the outcome tables' own (outcomes.py)."""
    ref = disclosure.reference_row(protected, dimension, value, reference)
    need = disclosure.reference_need_row(protected, dimension, value)
    out: dict[str, Table] = {}
    for name, table in protected.tables.items():
        copy = Table(
            name=table.name,
            title=table.title,
            keys=list(table.keys),
            counts=list(table.counts),
            values=list(table.values),
            rows=[],
            total=None,
            derived=dict(table.derived),
            exempt=list(table.exempt),
            info=list(table.info),
            notes=[*table.notes, note],
        )
        measures = [*table.counts, *table.values, *table.derived]
        if name == "totals":
            source = table.rows[0].data
            copy.rows = [Row({}, {c: ref.data.get(c) for c in measures} | _info(table, source))]
        elif name == reference[dimension]:
            copy.rows = [ref]
        elif name in ("need_coverage", "need_coverage_by_comune") and need is not None:
            if name == disclosure.NEED_REFERENCE[dimension]:
                copy.rows = [need]
            copy.total = Row({}, dict(need.data))
        elif not table.keys:
            copy.rows = [Row({}, {c: None for c in measures} | _info(table, table.rows[0].data))]
        out[name] = copy
    return out


def _info(table: Table, data: dict[str, Any]) -> dict[str, Any]:
    return {c: data.get(c) for c in table.info}


def _published(
    tables: dict[str, Table],
    raw: dict[str, Table],
    protected: disclosure.Protected,
    names: Sequence[str],
    threshold: int,
) -> tuple[list[PublishedTable], Suppression]:
    cells: list[Suppressed] = []
    for name in names:
        table = tables[name]
        reasons = {(rid, col): why for rid, col, why in disclosure.withheld_keys(protected, name)}
        for r in table.all_rows():
            rid = row_id(r, table)
            for column in (*table.counts, *table.values, *table.derived):
                if r.data.get(column) is None and column not in table.exempt:
                    key = {"total": "totale"} if rid == TOTAL else dict(r.key)
                    why = reasons.get((rid, column), "filter")
                    if why == "filter" and _raw_missing(raw[name], rid, column):
                        continue  # nothing to hide: not computed (e.g. a ratio over zero)
                    cells.append(Suppressed(name, key, column, why))
    published = [
        PublishedTable(
            name=tables[n].name,
            title=tables[n].title,
            columns=tables[n].columns,
            rows=[{**r.key, **r.data} for r in tables[n].rows],
            total=dict(tables[n].total.data) if tables[n].total is not None else None,
            notes=list(tables[n].notes),
        )
        for n in names
    ]
    return published, _suppression(cells, threshold)


def _raw_missing(table: Table, rid: Any, column: str) -> bool:
    for r in table.all_rows():
        if row_id(r, table) == rid:
            return r.data.get(column) is None
    return False
