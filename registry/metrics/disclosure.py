"""Disclosure control across every output of the metrics (pure: figures in, safe tables out).

One function decides whether a cell is published, and every answer (summary, coverage,
time series and its totals, the exports and the report built from them) goes through it:

1. *Whole months.* Periods are whole calendar months (periods.check_range), so no two
   answers differ by a day or a week.
2. *Linked tables of a period.* Primary suppression (counts below the threshold and the sums
   over them) and secondary suppression (a second cell on every line a withheld cell could
   be recomputed from) run over all the tables of the period together: a cell that appears
   in two tables (the total row of every breakdown, the totals) is withheld in both, and the
   lines that cross tables (a sector = the sum of its holder kinds; a holder kind = the sum
   over sectors) get their second cell too. Repeated until nothing changes.
3. *Months of a longer period.* A cell of a period longer than a month is published only if
   the same cell is published in every month of it. So every published figure of a longer
   period is the sum of published monthly figures: subtracting periods (a quarter minus two
   of its months, a year minus another range) never isolates a withheld month.
4. *Filters.* One dimension filter at a time (comune, area, sector or holder kind). A filtered
   answer publishes only the row of that value in the unfiltered table by that dimension, as
   protected by 2 and 3; figures without such a table (use, time to match, freshness, the
   cross-tables within the filter) are not published with a filter. So a filter reveals no
   more than the unfiltered tables, whatever endpoint, period or complement is asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.metrics.compute import Figures
from registry.metrics.suppression import TOTAL, Row, RowId, Table, row_id, suppress

# The tables protected together (the published ones and the holder-kind margin, which is
# published only as the reference of the holder_kind filter).
PROTECTED = (
    "totals",
    "by_sector",
    "by_kind",
    "by_comune",
    "by_area",
    "by_holder_kind",
    "by_task_level",
    "by_unit",
    "public_by_fund_source",
    "need_coverage",
    "need_coverage_by_comune",
    "use",
    "time_to_match",
    "freshness",
)
# The unfiltered table whose row a filtered answer publishes.
REFERENCE = {
    "comune": "by_comune",
    "area": "by_area",
    "sector": "by_sector",
    "holder_kind": "by_holder_kind",
}
# Need coverage by the same dimension, where there is one.
NEED_REFERENCE = {"comune": "need_coverage_by_comune", "area": "need_coverage"}
_BREAKDOWNS = ("by_sector", "by_kind", "by_comune", "by_area", "by_holder_kind")

Cell = tuple[str, RowId, str]  # table, row, column


@dataclass(slots=True)
class Protected:
    """The tables of one period after disclosure control, and why each cell is withheld."""

    tables: dict[str, Table]
    withheld: dict[Cell, str] = field(default_factory=dict)

    def row(self, table: str, key: Mapping[str, str]) -> Row | None:
        wanted = tuple(sorted(key.items()))
        for r in self.tables[table].rows:
            if tuple(sorted(r.key.items())) == wanted:
                return r
        return None


def _value(tables: Mapping[str, Table], cell: Cell) -> Any:
    name, rid, column = cell
    table = tables[name]
    for r in table.all_rows():
        if row_id(r, table) == rid:
            return r.data.get(column)
    return None


def _exists(tables: Mapping[str, Table], cell: Cell) -> bool:
    name, rid, column = cell
    table = tables.get(name)
    if table is None or column in table.exempt or column not in (*table.counts, *table.values):
        return False
    return any(row_id(r, table) == rid for r in table.all_rows())


def _lines(tables: Mapping[str, Table]) -> list[tuple[Cell, list[Cell]]]:
    """Identities that cross tables: the same cell in two tables, and margins."""
    lines: list[tuple[Cell, list[Cell]]] = []
    totals = tables["totals"]
    protected = [c for c in (*totals.counts, *totals.values) if c not in totals.exempt]
    for name in (*_BREAKDOWNS, "by_task_level", "by_unit"):
        table = tables[name]
        for column in protected:
            if name == "by_unit" and column != "in_kind_value_eur":
                continue  # by_unit counts entries of goods only
            if name == "by_task_level" and column not in table.values and column != "entries":
                continue
            if column in (*table.counts, *table.values):
                lines.append(((("totals", (), column)), [(name, TOTAL, column)]))
    coverage = tables["need_coverage"]
    for column in coverage.counts:
        lines.append(
            (("need_coverage", TOTAL, column), [("need_coverage_by_comune", TOTAL, column)])
        )
    by_kind = tables["by_kind"]
    columns = [c for c in (*by_kind.counts, *by_kind.values) if c not in by_kind.exempt]
    for margin, position in (("by_sector", "sector"), ("by_holder_kind", "holder_kind")):
        for r in tables[margin].rows:
            parts = [p for p in by_kind.rows if p.key[position] == r.key[position]]
            for column in columns:
                lines.append(
                    (
                        (margin, row_id(r, tables[margin]), column),
                        [("by_kind", row_id(p, by_kind), column) for p in parts],
                    )
                )
    return lines


def _size(tables: Mapping[str, Table], cell: Cell) -> float:
    name, rid, _ = cell
    entries = _value(tables, (name, rid, "entries"))
    value = entries if isinstance(entries, int | float) else _value(tables, cell)
    return float(value) if isinstance(value, int | float) else 0.0


def protect(figures: Figures, threshold: int, months: Sequence[Protected] = ()) -> Protected:
    """The period's tables with every rule applied (see the module docstring); `months` are
    the protected months of a longer period (empty for a month)."""
    tables = {name: figures.tables[name] for name in PROTECTED if name in figures.tables}
    forced: dict[Cell, str] = {}
    for month in months:
        for cell in month.withheld:
            forced.setdefault(cell, "period")
    lines = _lines(tables) if "totals" in tables and "by_kind" in tables else []
    while True:
        safe: dict[str, Table] = {}
        withheld: dict[Cell, str] = {}
        for name, table in tables.items():
            own = {(rid, col): why for (t, rid, col), why in forced.items() if t == name}
            out, cells = suppress(table, threshold, own)
            safe[name] = out
            for c in cells:
                rid: RowId = TOTAL if c.key == {"total": "totale"} else tuple(sorted(c.key.items()))
                withheld[(name, rid, c.column)] = c.reason
        added = False
        for whole, parts in lines:
            members = [m for m in (whole, *parts) if _exists(tables, m)]
            hidden = [m for m in members if m in withheld]
            if len(hidden) != 1:
                continue
            open_parts = [p for p in parts if _exists(tables, p) and p not in withheld]
            if open_parts:
                nonzero = [p for p in open_parts if _size(tables, p) > 0] or open_parts
                pick = min(nonzero, key=lambda p: (_size(tables, p), repr(p)))
            elif _exists(tables, whole) and whole not in withheld:
                pick = whole
            else:
                continue
            forced[pick] = "secondary"
            added = True
        if not added:
            return Protected(safe, withheld)


def reference_row(protected: Protected, dimension: str, value: str) -> Row:
    """The published row of `value` in the unfiltered table by `dimension` (zeros when the
    value had nothing in the period: zero identifies nobody)."""
    name = REFERENCE[dimension]
    found = protected.row(name, {dimension: value})
    if found is not None:
        return found
    table = protected.tables[name]
    data: dict[str, Any] = {c: 0 for c in (*table.counts, *table.values)}
    data.update({c: None for c in table.derived})
    if table.total is not None:
        data.update({c: table.total.data.get(c) for c in table.info})
    return Row({dimension: value}, data)


def reference_need_row(protected: Protected, dimension: str, value: str) -> Row | None:
    name = NEED_REFERENCE.get(dimension)
    if name is None:
        return None
    key = "comune" if dimension == "comune" else "area"
    found = protected.row(name, {key: value})
    if found is not None:
        return found
    table = protected.tables[name]
    data: dict[str, Any] = {c: 0 for c in table.counts}
    data.update({c: None for c in table.derived})
    return Row({key: value}, data)


def withheld_keys(protected: Protected, table: str) -> Iterable[tuple[RowId, str, str]]:
    for (name, rid, column), why in protected.withheld.items():
        if name == table:
            yield rid, column, why
