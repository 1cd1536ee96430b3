"""Exports for the Piano di Zona: every published table as CSV, all of them as one XLSX.

Only published tables leave: the same suppression as the API, with the list of withheld
cells, the methods (rates, rate years) and how to read each indicator as sheets of their own.
The spreadsheet writer is registry/tabular/writing.py's (CSV-injection safe), never a second one.

Two dialects. `italian` (the default) is for the people of the Ufficio di Piano: Italian
file, sheet and column names, comuni by name, vocabularies by label, `;` with decimal commas
and a BOM in CSV (what Excel with an Italian locale opens right), dates as 31/12/2025 and
times on the Italian clock. `machine` is for programs: the API's English identifiers and
codes, `,` with decimal points, ISO 8601 dates and instants in UTC, no BOM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from registry import italian
from registry.access import Principal
from registry.ambiti.tables import Ambito, Comune
from registry.errors import NotFound
from registry.metrics import labels, service
from registry.metrics.compute import Period
from registry.metrics.outcomes import OutcomesOut, outcomes
from registry.metrics.schemas import (
    Money,
    NetworkOut,
    PublishedTable,
    SummaryOut,
    TimeseriesOut,
)
from registry.metrics.service import Scope
from registry.partnerships.report import CoprogrammingChapter
from registry.partnerships.report import chapter as coprogramming_chapter
from registry.tabular.writing import ITALIAN, MACHINE, Sheet, to_csv, to_xlsx


class Dialect(StrEnum):
    ITALIAN = "italian"
    MACHINE = "machine"


@dataclass(slots=True)
class Bundle:
    """Everything the exports and the report show, computed once."""

    summary: SummaryOut
    timeseries: TimeseriesOut
    network: NetworkOut
    tables: list[PublishedTable]
    ambito_name: str = ""
    # Names of the comuni in the tables as the registry knows them (geo's list comes first).
    comuni: dict[str, str] = field(default_factory=dict)
    # Outcomes for the persons of the plans (issue 15); None in bundles made without them.
    outcomes: OutcomesOut | None = None
    # The chapter «Co-programmazione» (issue 16); None in bundles made without it.
    coprogramming: CoprogrammingChapter | None = None

    @property
    def threshold(self) -> int:
        return self.summary.suppression.threshold


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
        title=labels.TABLES["methods"].title,
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


def _suppression_table(
    *answers: SummaryOut | TimeseriesOut | NetworkOut | OutcomesOut,
) -> PublishedTable:
    rows = []
    for answer in answers:
        for cell in answer.suppression.cells:
            # The row's key stays a mapping: each dialect spells it its own way.
            rows.append(
                {"table": cell.table, "row": dict(cell.key), "column": cell.column,
                 "reason": cell.reason}
            )  # fmt: skip
    threshold = answers[0].suppression.threshold if answers else 5
    return PublishedTable(
        name="suppressed",
        title=labels.TABLES["suppressed"].title,
        columns=["table", "row", "column", "reason"],
        rows=rows,
        notes=[labels.withheld_note(threshold)],
    )


def _glossary_table() -> PublishedTable:
    return PublishedTable(
        name="glossary",
        title=labels.TABLES["glossary"].title,
        columns=["indicator", "meaning"],
        rows=[{"indicator": k, "meaning": v} for k, v in labels.EXPLANATIONS.items()],
    )


def _period_table(summary: SummaryOut, ambito_name: str) -> PublishedTable:
    f = summary.filters
    return PublishedTable(
        name="about",
        title=labels.TABLES["about"].title,
        columns=[
            "ambito",
            "ambito_code",
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
                "ambito": ambito_name or summary.ambito_code,
                "ambito_code": summary.ambito_code,
                "from": summary.period.start,
                "to": summary.period.end,
                "comune": f.comune,
                "area": f.area,
                "holder_kind": f.holder_kind,
                "sector": f.sector,
                "source": summary.source,
                "as_of": summary.as_of,
                "threshold": summary.suppression.threshold,
            }
        ],
        notes=list(summary.notes),
    )


async def _comuni_names(tables: list[PublishedTable], scope: Scope) -> dict[str, str]:
    codes = {str(r["comune"]) for t in tables for r in t.rows if r.get("comune")}
    if scope.comune:
        codes.add(scope.comune)
    if not codes:
        return {}
    rows = await Comune.select(Comune.istat_code, Comune.name).where(
        Comune.istat_code.is_in(sorted(codes))
    )
    return {r["istat_code"]: r["name"] for r in rows}


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
    # A sector or holder-kind filter has no outcomes: empty tables, not a refusal.
    results = await outcomes(actor, period, scope, now=now, strict=False)
    coprogramming = await coprogramming_chapter(actor.ambito_id, period.start, period.end)
    ambito = await Ambito.select(Ambito.name).where(Ambito.id == actor.ambito_id).first()
    ambito_name = ambito["name"] if ambito else ""
    tables = [
        _period_table(summary, ambito_name),
        *summary.tables,
        series.series,
        net.periods,
        net.nodes_by_sector,
        *results.tables,
        _money_table(summary),
        _suppression_table(summary, series, net, results),
        _glossary_table(),
    ]
    return Bundle(
        summary=summary,
        timeseries=series,
        network=net,
        tables=tables,
        ambito_name=ambito_name,
        comuni=await _comuni_names(tables, scope),
        outcomes=results,
        coprogramming=coprogramming,
    )


TOTAL = "Totale"


def _rows(table: PublishedTable) -> list[dict[str, Any]]:
    rows = list(table.rows)
    if table.total is not None:
        first = next((c for c in table.columns if c not in table.total), None)
        rows.append({**table.total, **({first: TOTAL} if first else {})})
    return rows


def _machine_cell(column: str, value: Any) -> Any:
    if column == "row" and isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "(unica)"
    return value


def _italian_cell(column: str, value: Any, comuni: dict[str, str]) -> Any:
    if column == "row" and isinstance(value, dict):
        return (
            "; ".join(
                f"{labels.header(k)}: {labels.text(k, v, comuni)}"
                for k, v in value.items()
                if k != "total"
            )
            or "riga unica / totale"
        )
    shown = labels.value(column, value, comuni)
    if isinstance(shown, datetime):
        return italian.short_datetime(shown)
    return shown


def italian_rows(table: PublishedTable, comuni: dict[str, str]) -> list[dict[str, Any]]:
    return [{c: _italian_cell(c, r.get(c), comuni) for c in table.columns} for r in _rows(table)]


def _machine_rows(table: PublishedTable) -> list[dict[str, Any]]:
    return [{c: _machine_cell(c, r.get(c)) for c in table.columns} for r in _rows(table)]


def _xlsx_format(column: str) -> str | None:
    if column in ("rate_year", "rate_years", "ambito_code"):
        return None  # a year is not a quantity: 2025, never 2.025
    if column in labels.EURO:
        return '#,##0.00 "€"'
    if column in labels.SHARES:
        return "0.0%"
    if column in labels.INDICES:
        return "0.000"
    if column.startswith("hours") or column.endswith("_hours") or column.endswith("_days"):
        return "#,##0.0"
    if column in ("from", "to", "as_of", "period_start", "period_end"):
        return "DD/MM/YYYY"
    return "#,##0"


def _find(b: Bundle, name: str) -> PublishedTable:
    wanted = labels.table_by_file(name) or name
    for table in b.tables:
        if table.name == wanted:
            return table
    files = ", ".join(f"{labels.table_name(t.name).file} ({t.name})" for t in b.tables)
    raise NotFound(f"nessuna tabella '{name}': le tabelle sono {files}")


def table_names(b: Bundle) -> list[str]:
    return [t.name for t in b.tables]


def _stem(b: Bundle) -> str:
    """ambito and period, safe in a file name: T123-2025, T123-2025-Q1, T123-2025-01-01_..."""
    period = b.summary.period
    key = period.key or f"{period.start.isoformat()}/{period.end.isoformat()}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{b.summary.ambito_code}-{key.replace('/', '_')}")


def csv_filename(b: Bundle, name: str, dialect: Dialect = Dialect.ITALIAN) -> str:
    table = _find(b, name)
    if dialect is Dialect.MACHINE:
        return f"{table.name}.csv"
    return f"{labels.table_name(table.name).file}-{_stem(b)}.csv"


def xlsx_filename(b: Bundle, dialect: Dialect = Dialect.ITALIAN) -> str:
    prefix = "metrics" if dialect is Dialect.MACHINE else "indicatori"
    return f"{prefix}-{_stem(b)}.xlsx"


def report_filename(b: Bundle, extension: str) -> str:
    return f"rapporto-piano-di-zona-{_stem(b)}.{extension}"


def csv_of(b: Bundle, name: str, dialect: Dialect = Dialect.ITALIAN) -> bytes:
    table = _find(b, name)
    if dialect is Dialect.MACHINE:
        return to_csv(table.columns, _machine_rows(table), dialect=MACHINE, formulas="machine")
    return to_csv(
        table.columns,
        italian_rows(table, b.comuni),
        dialect=ITALIAN,
        headers=[labels.header(c) for c in table.columns],
    )


def xlsx_of(b: Bundle, dialect: Dialect = Dialect.ITALIAN) -> bytes:
    if dialect is Dialect.MACHINE:
        return to_xlsx([Sheet(t.name, t.columns, _machine_rows(t)) for t in b.tables])
    return to_xlsx(
        [
            Sheet(
                labels.table_name(t.name).sheet,
                t.columns,
                italian_rows(t, b.comuni),
                headers=[labels.header(c) for c in t.columns],
                formats={c: f for c in t.columns if (f := _xlsx_format(c))},
            )
            for t in b.tables
        ]
    )


def period_text(b: Bundle) -> str:
    start, end = b.summary.period.start, b.summary.period.end
    return f"dal {italian.long_date(start)} al {italian.long_date(end)}"
