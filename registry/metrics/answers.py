"""The answers of the metrics for one period or a series of periods: the summary with its
headline, the coverage of the needs and the time series, published after disclosure control
(publication.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from registry.access import Principal
from registry.batching import Batcher
from registry.common import now as utcnow
from registry.errors import InvalidInput
from registry.metrics import catalogue, compute, disclosure
from registry.metrics.compute import Figures, Period
from registry.metrics.loading import Scope
from registry.metrics.periods import min_count
from registry.metrics.publication import (
    _FILTER_NOTE,
    _ambito_code,
    _filtered,
    _published,
    _require_reader,
    _suppression,
    money,
    one_filter,
    period_out,
    protected_periods,
)
from registry.metrics.schemas import (
    CoverageOut,
    Headline,
    PublishedTable,
    SummaryOut,
    Suppression,
    TimeseriesOut,
)
from registry.metrics.suppression import Row, Suppressed


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
