"""Publication of the metrics: suppression of small cells, the headline and the answers
of the summary, coverage, time series and network endpoints."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from registry.access import Principal, Role
from registry.ambiti.tables import Ambito
from registry.batching import Batcher
from registry.common import now as utcnow
from registry.db import array_contains
from registry.errors import InvalidInput, NotFound
from registry.holders.tables import Holder
from registry.metrics import catalogue, compute, disclosure, network, snapshots
from registry.metrics.compute import Figures, Period
from registry.metrics.loading import Scope, _all_ties, load_network
from registry.metrics.periods import ROME, calendar_key, min_count
from registry.metrics.periods import today as local_today
from registry.metrics.schemas import (
    CoverageOut,
    Headline,
    Money,
    NetworkOut,
    PeriodOut,
    PublishedTable,
    RateUseOut,
    SectorBlock,
    SummaryOut,
    SuppressedCell,
    Suppression,
    TimeseriesOut,
    TrendOut,
)
from registry.metrics.snapshots import _snapshots
from registry.metrics.suppression import TOTAL, Row, Suppressed, Table, row_id, suppress
from registry.offload import in_worker_process


def _require_reader(actor: Principal) -> None:
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)


async def _ambito_code(ambito_id: uuid.UUID) -> str:
    row = await Ambito.select(Ambito.code).where(Ambito.id == ambito_id).first()
    if row is None:
        raise NotFound("no such ambito")
    return row["code"]


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


SUMMARY_TABLES = disclosure.SUMMARY_TABLES
COVERAGE_TABLES = ("need_coverage", "need_coverage_by_comune", "use", "time_to_match")


# --- the answers ---------------------------------------------------------------------------

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


def _protect_periods(
    wanted: list[Period],
    figures: list[Figures],
    months: list[Period],
    threshold: int,
    today: date,
    asked: list[Period],
) -> list[disclosure.Protected]:
    """Disclosure control of each period asked (run in a worker process: pure Python). Only
    the asked periods' tables travel back: unpickling the months' and quarters' too held the
    event loop for tens of milliseconds."""
    by_key = {p.key: f for p, f in zip(wanted, figures, strict=True)}
    done = {m.key: disclosure.protect(by_key[m.key], threshold) for m in months}

    def protected(p: Period) -> disclosure.Protected:
        if _within_a_month(p):
            return done[compute.month_key(p.start)]
        if p.key not in done:
            parts, calendar = _parts(p, today)
            inside = [protected(part) for part in parts]
            done[p.key] = disclosure.protect(by_key[p.key], threshold, inside, calendar=calendar)
        return done[p.key]

    return [protected(p) for p in asked]


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
    today = now.astimezone(ROME).date()
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
    figures, source = await snapshots.figures_of(ambito_id, wanted, span, now, live=live, full=full)
    protected = await in_worker_process(
        _protect_periods, wanted, figures, months, min_count(), today, list(periods)
    )
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


async def _period_answer(
    actor: Principal,
    period: Period,
    scope: Scope,
    now: datetime,
    live: bool,
    names: Sequence[str],
) -> tuple[Figures, list[PublishedTable], Suppression, dict[str, Any]]:
    """The period's figures, its tables `names` as published (filtered, suppressed), and the
    fields every answer of one period starts with (summary and coverage)."""
    chosen = one_filter(scope)
    ((fig, protected),), source = await protected_periods(
        actor.ambito_id, [period], period, now, live=live
    )
    tables = protected.tables if chosen is None else _filtered(protected, *chosen)
    published, suppression = _published(tables, fig.tables, protected, names, min_count())
    head = {
        "ambito_code": await _ambito_code(actor.ambito_id),
        "period": period_out(period),
        "filters": scope.out(),
        "source": source,
        "as_of": fig.as_of,
    }
    return fig, published, suppression, head


async def summary(
    actor: Principal,
    period: Period,
    scope: Scope,
    *,
    live: bool = False,
    now: datetime | None = None,
) -> SummaryOut:
    _require_reader(actor)
    if now is None:
        # Callers of the same ambito asking the same at once share one computation that
        # began after they arrived (registry/batching.py; issue 18).
        key = ("summary", actor.ambito_id, period, scope, live)
        return await _batcher.run(key, lambda: _summary(actor, period, scope, live, utcnow()))
    return await _summary(actor, period, scope, live, now)


_batcher = Batcher()


async def _summary(
    actor: Principal, period: Period, scope: Scope, live: bool, moment: datetime
) -> SummaryOut:
    fig, published, suppression, head = await _period_answer(
        actor, period, scope, moment, live, SUMMARY_TABLES
    )
    by_name = {t.name: t for t in published}
    return SummaryOut(
        **head,
        headline=_headline(fig, by_name),
        tables=published,
        suppression=suppression,
        notes=[*fig.notes, METHOD_NOTE],
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
    fig, published, suppression, head = await _period_answer(
        actor, period, scope, now or utcnow(), live, COVERAGE_TABLES
    )
    return CoverageOut(
        **head,
        tables=published,
        suppression=suppression,
        notes=[
            "Un bisogno è coperto dalla comunità quando ha un abbinamento accettato (e non "
            "ritirato) entro la fine del periodo o una voce verificata nel periodo; da un "
            "intervento finanziato quando un intervento che serve il suo piano è attivo nel "
            "periodo e durante il bisogno.",
            *fig.notes[:1],
            METHOD_NOTE,
        ],
    )


METHOD_NOTE = (
    "Controllo della divulgazione: periodi di mesi interi; celle nascoste in modo coerente in "
    "tutte le tabelle e in tutti i periodi (una cella di un periodo più lungo di un mese è "
    "pubblicata solo se lo è in ogni suo mese); un filtro alla volta, che pubblica solo la "
    "riga del valore nella tabella senza filtri."
)

_SERIES_MEASURES = (
    *catalogue.SERIES_COUNTS,
    *catalogue.SERIES_VALUES,
    "leverage_ratio",
    "coproduction_share",
)
_ADDITIVE = ("entries", *catalogue.SERIES_VALUES)


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
    periods = compute.buckets(period.start, period.end, granularity)
    if len(periods) > 120:
        raise InvalidInput("at most 120 periods: choose a shorter range", field="from")
    chosen = one_filter(scope)
    moment = now or utcnow()
    done, source = await protected_periods(
        actor.ambito_id, periods, period, moment, live=live, full=False
    )
    template = catalogue.series_table([f for f, _ in done], granularity)
    rows: list[Row] = []
    cells: list[Suppressed] = []
    for (fig, protected), p in zip(done, periods, strict=True):
        if chosen is None:
            source_row = protected.tables["totals"].rows[0]
            reasons = {col: why for rid, col, why in disclosure.withheld_keys(protected, "totals")}
        else:
            name = disclosure.REFERENCE[chosen[0]]
            source_row = disclosure.reference_row(protected, *chosen)
            rid = tuple(sorted(source_row.key.items()))
            reasons = {
                col: why for r, col, why in disclosure.withheld_keys(protected, name) if r == rid
            }
        data: dict[str, Any] = {c: source_row.data.get(c) for c in _SERIES_MEASURES}
        data["period_start"] = p.start.isoformat()
        data["period_end"] = p.end.isoformat()
        raw = catalogue.series_row(fig)
        for column in _SERIES_MEASURES:
            if data[column] is None and raw.get(column) is not None and column != "public_eur":
                cells.append(
                    Suppressed(
                        template.name, {"period": p.key}, column, reasons.get(column, "filter")
                    )
                )
        rows.append(Row({"period": p.key}, data))
    # The total of the series is the sum of its periods: a column with a withheld period has
    # no total (it would give the withheld value back by difference).
    total: dict[str, Any] = {"persons": None, "holders": None}
    for column in _ADDITIVE:
        values = [r.data[column] for r in rows]
        if any(v is None for v in values):
            total[column] = None
            if column != "public_eur":
                cells.append(Suppressed(template.name, {"total": "totale"}, column, "period"))
        else:
            total[column] = round(sum(float(v) for v in values), 3)
    if total["entries"] is not None:
        total["entries"] = int(total["entries"])
    community, public = total.get("community_value_eur"), total.get("public_eur")
    total["leverage_ratio"] = (
        round(community / public, 4) if community is not None and public else None
    )
    total["coproduction_share"] = (
        round(community / (community + public), 4)
        if community is not None and public is not None and community + public
        else None
    )
    total["period_start"] = periods[0].start.isoformat()
    total["period_end"] = periods[-1].end.isoformat()
    threshold = min_count()
    last = done[-1][0]
    series = PublishedTable(
        name=template.name,
        title=template.title,
        columns=template.columns,
        rows=[{**r.key, **r.data} for r in rows],
        total=total,
        notes=[_FILTER_NOTE] if chosen else [],
    )
    return TimeseriesOut(
        ambito_code=await _ambito_code(actor.ambito_id),
        period=period_out(period),
        granularity=granularity,  # type: ignore[arg-type]
        filters=scope.out(),
        source=source,
        as_of=last.as_of,
        series=series,
        money={name: money(info, None) for name, info in last.money.items()},
        suppression=_suppression(cells, threshold),
        notes=[
            *last.notes[:4],
            "Totale: somma dei periodi per ore, voci ed euro; persone e detentori non sono "
            "sommabili (vedi il riepilogo del periodo). Una colonna con un periodo nascosto "
            "non ha totale.",
            METHOD_NOTE,
        ],
    )


async def _comune_members(ambito_id: uuid.UUID, comune: str) -> frozenset[str]:
    rows = await Holder.select(Holder.id).where(
        (Holder.ambito == ambito_id) & array_contains(Holder.comuni, comune)
    )
    return frozenset(str(r["id"]) for r in rows)


async def network_figures(
    ambito_id: uuid.UUID,
    period: Period,
    granularity: str,
    scope: Scope,
    *,
    live: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The whole network's figures (with their parts) of each period, and the counts of each
    month of the span when the periods are longer (disclosure.py, rule 3): from the snapshots
    when all are there, otherwise live. Filters are answered from the whole network too."""
    periods = compute.buckets(period.start, period.end, granularity)
    months = _months(period) if granularity != "month" else []
    if not live and not scope.comune:
        found = await _snapshots(ambito_id, granularity, periods)
        inside = await _snapshots(ambito_id, "month", months) if months else []
        if found is not None and inside is not None:
            rows = [f.network.row if f.network else None for f in [*found, *inside]]
            # Snapshots written before the parts were stored cannot be protected: live.
            if all(r is not None and network.PARTS in r for r in rows):
                ready = [r for r in rows if r is not None]
                return ready[: len(found)], ready[len(found) :], "snapshot"
    nodes, participations, ties = await load_network(ambito_id, period.end, Scope())
    members = await _comune_members(ambito_id, scope.comune) if scope.comune else None

    # In a worker process, like the other live figures (a thread holds the GIL).
    rows, counts = await in_worker_process(
        _network_rows, nodes, participations, ties, periods, months, granularity, members
    )
    return rows, counts, "live"


def _network_rows(
    nodes: Any,
    participations: Any,
    ties: Any,
    periods: list[Period],
    months: list[Period],
    granularity: str,
    members: Any,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The whole network's rows of each period, and the counts of each month (pure)."""
    everything = _all_ties(participations, ties, periods, granularity)
    table, _ = network.network_tables(nodes, everything, periods, members)
    counts: list[dict[str, Any]] = []
    if months:
        monthly = _all_ties(participations, ties, months, "month")
        counts = network.counts_of_periods(nodes, monthly, months, members)
    return [r.data for r in table.rows], counts


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
    chosen = one_filter(scope)
    periods = compute.buckets(period.start, period.end, granularity)
    if len(periods) > 120:
        raise InvalidInput("at most 120 periods: choose a shorter range", field="from")
    rows, month_rows, source = await network_figures(
        actor.ambito_id, period, granularity, scope, live=live
    )
    threshold = min_count()
    months = _months(period)
    today = (now or utcnow()).astimezone(ROME).date()

    def run() -> list[disclosure.Protected]:
        # Every period of a longer granularity (a clipped one too) publishes a count only
        # where each of its months does.
        by_month = {
            m.key: disclosure.protect_network(r, threshold)
            for m, r in zip(months, month_rows, strict=False)
        }
        # A calendar quarter is protected from its months (a cell withheld in exactly one of
        # them); a year or another range from every month (only monthly rows are at hand).
        return [
            disclosure.protect_network(
                row,
                threshold,
                [by_month[m.key] for m in _months(p)] if month_rows else (),
                calendar="Q" in (calendar_key(p.start, p.end, today) or ""),
            )
            for p, row in zip(periods, rows, strict=True)
        ]

    protected = await asyncio.to_thread(run)
    template, _ = network.network_tables([], [], [])
    cells: list[Suppressed] = []
    published_rows: list[dict[str, Any]] = []
    for p, row, prot in zip(periods, rows, protected, strict=True):
        data, reasons = disclosure.network_row(prot, row, chosen)
        published_rows.append({"period": p.key, **{c: data.get(c) for c in template.columns[1:]}})
        cells.extend(
            Suppressed(template.name, {"period": p.key}, column, why)
            for column, why in reasons.items()
        )
    periods_out = PublishedTable(
        name=template.name,
        title=template.title,
        columns=template.columns,
        rows=published_rows,
        notes=[*template.notes, *([_NETWORK_FILTER_NOTE] if chosen else [])],
    )
    last = protected[-1]
    sector_rows, sector_total, sector_cells = disclosure.network_sectors(last, chosen)
    sectors = network.sector_table({}, {})
    cells.extend(
        Suppressed(
            sectors.name,
            {"total": "totale"} if rid == TOTAL else dict(rid),  # type: ignore[arg-type]
            column,
            why,
        )
        for rid, column, why in sector_cells
    )
    sectors_out = PublishedTable(
        name=sectors.name,
        title=sectors.title,
        columns=sectors.columns,
        rows=[{**r.key, **r.data} for r in sector_rows],
        total=dict(sector_total.data) if sector_total is not None else None,
        notes=list(sectors.notes),
    )
    trend = {
        column: TrendOut(**network.trend(periods_out.rows, column))
        for column in (*network.STRUCTURE, "nodes", "edges", "new_ties")
    }
    sector_blocks = [
        SectorBlock(sector_a=a, sector_b=b, edges=edges)
        for a, b, edges in disclosure.network_blocks(last, chosen)
    ]
    return NetworkOut(
        ambito_code=await _ambito_code(actor.ambito_id),
        period=period_out(period),
        granularity=granularity,  # type: ignore[arg-type]
        filters=scope.out(),
        source=source,
        as_of=now or utcnow(),
        periods=periods_out,
        trend=trend,
        nodes_by_sector=sectors_out,
        sector_blocks=sector_blocks,
        suppression=_suppression(cells, threshold),
        notes=[
            "Nodi: i detentori registrati (non archiviati) a fine periodo. Legami: "
            "co-contribuzione allo stesso piano nel periodo, attività comunitarie comuni, "
            "interazioni registrate (es. tavoli di co-programmazione).",
            "Nessun indicatore per singolo nodo è pubblicato; i volontari individuali sono "
            "solo contati.",
            f"Conteggi di nodi e legami tra 1 e {threshold - 1} sono nascosti (null), con una "
            "seconda cella dove si potrebbero ricalcolare dai totali; gli indicatori di "
            "struttura seguono i conteggi da cui dipendono. Un periodo più lungo di un mese "
            "pubblica un conteggio solo se lo pubblica ogni suo mese.",
            METHOD_NOTE,
        ],
    )


_NETWORK_FILTER_NOTE = (
    "Con un filtro si pubblicano solo i nodi, le persone e i legami interni al valore filtrato "
    "come nelle tabelle della rete intera dello stesso periodo (con le stesse celle nascoste), "
    "e densità e grado medio calcolati da essi; gli altri indicatori non sono pubblicati."
)
