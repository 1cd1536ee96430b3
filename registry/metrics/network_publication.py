"""The cohesion network as published: the network's figures of each period (from the
snapshots or live) and the answer, counts withheld as in every month of a longer period."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from registry import italian
from registry.access import Principal
from registry.common import now as utcnow
from registry.db import array_contains
from registry.errors import InvalidInput
from registry.holders.tables import Holder
from registry.metrics import compute, disclosure, network
from registry.metrics.answers import METHOD_NOTE
from registry.metrics.compute import Period
from registry.metrics.loading import Scope
from registry.metrics.network_loading import _all_ties, load_network, period_tables
from registry.metrics.periods import calendar_key, min_count
from registry.metrics.publication import (
    _ambito_code,
    _months,
    _require_reader,
    _suppression,
    one_filter,
    period_out,
)
from registry.metrics.schemas import NetworkOut, PublishedTable, SectorBlock, TrendOut
from registry.metrics.snapshots import stored_networks
from registry.metrics.suppression import TOTAL, Suppressed
from registry.offload import in_worker_process


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
        found = await stored_networks(ambito_id, granularity, periods)
        inside = await stored_networks(ambito_id, "month", months) if months else []
        if found is not None and inside is not None:
            rows = [f.row for f in [*found, *inside]]
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
    table, _ = period_tables(nodes, participations, ties, periods, granularity, members)
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
    today = italian.today(now)

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
