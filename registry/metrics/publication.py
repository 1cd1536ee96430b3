"""Publication of the metrics: suppression of small cells, the headline and the answers
of the summary, coverage, time series and network endpoints."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.ambiti.tables import Ambito
from registry.common import now as utcnow
from registry.errors import InvalidInput, NotFound
from registry.metrics import compute, network
from registry.metrics.compute import Figures, Period
from registry.metrics.loading import Scope, load_inputs, load_network, network_periods
from registry.metrics.periods import min_count
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
from registry.metrics.snapshots import _snapshots, period_figures
from registry.metrics.suppression import Row, Suppressed, Table, suppress


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
