"""Exports for the Piano di Zona: every published table as CSV, all of them as one XLSX.

Only published tables leave: the same suppression as the API, with the list of withheld
cells and the methods (rates, rate years) as sheets of their own. The spreadsheet writer is
registry/tabular.py's (CSV-injection safe), never a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.access import Principal
from registry.errors import NotFound
from registry.metrics import service
from registry.metrics.compute import Period
from registry.metrics.schemas import (
    Money,
    NetworkOut,
    PublishedTable,
    SummaryOut,
    TimeseriesOut,
)
from registry.metrics.service import Scope
from registry.tabular import to_csv, to_xlsx


@dataclass(slots=True)
class Bundle:
    """Everything the exports and the report show, computed once."""

    summary: SummaryOut
    timeseries: TimeseriesOut
    network: NetworkOut
    tables: list[PublishedTable]


def _money_table(summary: SummaryOut) -> PublishedTable:
    rows: list[dict[str, Any]] = []
    headline = summary.headline
    figures: dict[str, Money] = {
        "replacement_value": headline.replacement_value,
        "in_kind_value": headline.in_kind_value,
        "community_value": headline.community_value,
        "public_spending": headline.public_spending,
    }
    for name, item in figures.items():
        if item.rates:
            for rate in item.rates:
                rows.append(
                    {
                        "figure": name,
                        "amount_eur": item.amount_eur,
                        "method": item.method,
                        "task_level": rate.task_level,
                        "rate_eur_per_hour": rate.eur_per_hour,
                        "rate_year": rate.year,
                        "rate_source": rate.source,
                        "rate_is_default": rate.is_default,
                    }
                )
        else:
            rows.append(
                {
                    "figure": name,
                    "amount_eur": item.amount_eur,
                    "method": item.method,
                    "task_level": None,
                    "rate_eur_per_hour": None,
                    "rate_year": None,
                    "rate_source": None,
                    "rate_is_default": None,
                }
            )
    return PublishedTable(
        name="methods",
        title="Metodi, tariffe e anni delle tariffe delle cifre in euro",
        columns=[
            "figure",
            "amount_eur",
            "method",
            "task_level",
            "rate_eur_per_hour",
            "rate_year",
            "rate_source",
            "rate_is_default",
        ],
        rows=rows,
    )


def _suppression_table(*answers: SummaryOut | TimeseriesOut | NetworkOut) -> PublishedTable:
    rows = []
    for answer in answers:
        for cell in answer.suppression.cells:
            rows.append(
                {
                    "table": cell.table,
                    "row": ", ".join(f"{k}={v}" for k, v in cell.key.items()) or "(unica)",
                    "column": cell.column,
                    "reason": cell.reason,
                }
            )
    threshold = answers[0].suppression.threshold if answers else 5
    return PublishedTable(
        name="suppressed",
        title=f"Celle nascoste (soglia {threshold})",
        columns=["table", "row", "column", "reason"],
        rows=rows,
        notes=[answers[0].suppression.note] if answers else [],
    )


def _period_table(summary: SummaryOut) -> PublishedTable:
    f = summary.filters
    return PublishedTable(
        name="about",
        title="Periodo, filtri e fonte",
        columns=[
            "ambito",
            "from",
            "to",
            "comune",
            "area",
            "holder_kind",
            "sector",
            "source",
            "as_of",
            "threshold",
        ],
        rows=[
            {
                "ambito": summary.ambito_code,
                "from": summary.period.start.isoformat(),
                "to": summary.period.end.isoformat(),
                "comune": f.comune,
                "area": f.area,
                "holder_kind": f.holder_kind,
                "sector": f.sector,
                "source": summary.source,
                "as_of": summary.as_of.isoformat(),
                "threshold": summary.suppression.threshold,
            }
        ],
        notes=list(summary.notes),
    )


async def bundle(
    actor: Principal,
    period: Period,
    granularity: str,
    scope: Scope,
    *,
    live: bool = False,
    now: datetime | None = None,
) -> Bundle:
    summary = await service.summary(actor, period, scope, live=live, now=now)
    series = await service.timeseries(actor, period, granularity, scope, live=live, now=now)
    net = await service.cohesion(actor, period, granularity, scope, live=live, now=now)
    tables = [
        _period_table(summary),
        *summary.tables,
        series.series,
        net.periods,
        net.nodes_by_sector,
        _money_table(summary),
        _suppression_table(summary, series, net),
    ]
    return Bundle(summary=summary, timeseries=series, network=net, tables=tables)


def _rows(table: PublishedTable) -> list[dict[str, Any]]:
    rows = list(table.rows)
    if table.total is not None:
        first = next((c for c in table.columns if c not in table.total), None)
        rows.append({**table.total, **({first: "TOTALE"} if first else {})})
    return rows


def table_names(b: Bundle) -> list[str]:
    return [t.name for t in b.tables]


def csv_of(b: Bundle, name: str) -> bytes:
    for table in b.tables:
        if table.name == name:
            return to_csv(table.columns, _rows(table))
    raise NotFound(f"no table '{name}': the tables are {', '.join(table_names(b))}")


def xlsx_of(b: Bundle) -> bytes:
    return to_xlsx({t.name: (t.columns, _rows(t)) for t in b.tables})
