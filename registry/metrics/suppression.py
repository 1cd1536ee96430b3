"""Small-cell suppression of published tables (pure: plain tables in, plain tables out).

The rule (DESIGN.md "Pitfalls", Sistan practice):

- primary: a count cell with 0 < value < threshold is withheld; every magnitude cell of the
  same row guarded by that count (hours, euro... summed over those few units) goes with it;
- secondary: wherever a withheld cell could be recomputed from a published total (a column
  total, or a row total such as needs = met by community + by interventions + both + none),
  a second cell of the same line is withheld too: the smallest non-zero one (the least
  information lost), or the total itself when no other part is left. Repeated until no line
  has exactly one withheld cell;
- derived cells (ratios, shares) are withheld when any cell they are computed from is.

Zero is published: "nobody" identifies nobody. Columns listed as `exempt` (public spending,
which is public information) are never withheld.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Number = int | float | None


@dataclass(slots=True)
class Row:
    key: dict[str, str]
    data: dict[str, Any]


@dataclass(slots=True)
class Table:
    """A table as published: key columns, count columns, magnitude columns and a total row.

    `guards[column]` lists the count columns a magnitude depends on (default: every count of
    the row); `row_sums` lists within-row identities (total column, part columns);
    `derived[column]` lists the columns a ratio is computed from.
    """

    name: str
    title: str
    keys: list[str]
    counts: list[str]
    values: list[str]
    rows: list[Row]
    total: Row | None = None
    guards: dict[str, list[str]] = field(default_factory=dict)
    row_sums: list[tuple[str, list[str]]] = field(default_factory=list)
    derived: dict[str, list[str]] = field(default_factory=dict)
    exempt: list[str] = field(default_factory=list)
    # Informational columns (method, rate, rate year...): published as they are.
    info: list[str] = field(default_factory=list)
    # Columns whose cells are not additive over rows (distinct persons): still protected.
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [*self.keys, *self.counts, *self.values, *self.derived, *self.info]

    def all_rows(self) -> list[Row]:
        return [*self.rows, *([self.total] if self.total is not None else [])]


@dataclass(frozen=True, slots=True)
class Suppressed:
    table: str
    key: dict[str, str]
    column: str
    reason: str  # primary | secondary | derived


def _is_small(value: Any, threshold: int) -> bool:
    return isinstance(value, int | float) and 0 < value < threshold


RowId = tuple[tuple[str, str], ...] | str
TOTAL: RowId = "total"


def row_id(row: Row, table: Table) -> RowId:
    """How a row is named across tables and periods: its key, or TOTAL for the total row."""
    if row is table.total:
        return TOTAL
    return tuple(sorted(row.key.items()))


def suppress(
    table: Table, threshold: int, forced: dict[tuple[RowId, str], str] | None = None
) -> tuple[Table, list[Suppressed]]:
    """Return a copy of `table` with withheld cells set to None, and the list of them.

    `forced` names cells withheld for a reason outside this table (the same cell withheld
    in another table or in a month of the period): they count as withheld for the secondary
    rule too."""
    rows = [Row(dict(r.key), dict(r.data)) for r in table.rows]
    total = Row(dict(table.total.key), dict(table.total.data)) if table.total else None
    every = [*rows, *([total] if total is not None else [])]
    out = Table(
        name=table.name,
        title=table.title,
        keys=list(table.keys),
        counts=list(table.counts),
        values=list(table.values),
        rows=rows,
        total=total,
        guards=dict(table.guards),
        row_sums=list(table.row_sums),
        derived=dict(table.derived),
        exempt=list(table.exempt),
        info=list(table.info),
        notes=list(table.notes),
    )
    withheld: dict[tuple[int, str], str] = {}
    protected = [c for c in (*table.counts, *table.values) if c not in table.exempt]

    def guard_of(column: str) -> list[str]:
        return table.guards.get(column, table.counts)

    # Primary suppression: small counts, and the magnitudes summed over them.
    for index, row in enumerate(every):
        small = {
            c
            for c in table.counts
            if c not in table.exempt and _is_small(row.data.get(c), threshold)
        }
        for column in small:
            withheld[(index, column)] = "primary"
        for column in table.values:
            if column not in table.exempt and any(g in small for g in guard_of(column)):
                withheld[(index, column)] = "primary"

    if forced:
        ids = [row_id(r, table) for r in table.rows] + ([TOTAL] if total is not None else [])
        for index, rid in enumerate(ids):
            for column in [*table.counts, *table.values]:
                reason = forced.get((rid, column))
                if reason and column not in table.exempt and (index, column) not in withheld:
                    withheld[(index, column)] = reason

    # Lines (linear identities) a reader could use to recompute a withheld cell.
    lines: list[tuple[tuple[int, str], list[tuple[int, str]]]] = []
    if total is not None:
        total_index = len(every) - 1
        for column in protected:
            lines.append(((total_index, column), [(i, column) for i in range(len(rows))]))
    for whole, parts in table.row_sums:
        for index in range(len(every)):
            lines.append(((index, whole), [(index, p) for p in parts]))

    def size(cell: tuple[int, str]) -> float:
        index, column = cell
        row = every[index]
        if column in table.counts:
            return float(row.data.get(column) or 0)
        guards = [row.data.get(g) or 0 for g in guard_of(column)]
        return float(min(guards)) if guards else float(row.data.get(column) or 0)

    changed = True
    while changed:
        changed = False
        for whole, parts in lines:
            members = [whole, *parts]
            hidden = [m for m in members if m in withheld]
            if len(hidden) != 1:
                continue
            candidates = [p for p in parts if p not in withheld]
            if candidates:
                nonzero = [p for p in candidates if size(p) > 0]
                pool = nonzero or candidates
                pick = min(pool, key=lambda cell: (size(cell), cell[0], cell[1]))
            elif whole not in withheld:
                pick = whole
            else:
                continue  # a total without parts: nothing else could reveal it
            withheld[pick] = "secondary"
            changed = True

    # Ratios computed from a withheld cell are withheld as well.
    for index in range(len(every)):
        for column, inputs in table.derived.items():
            if any((index, i) in withheld for i in inputs):
                withheld[(index, column)] = "derived"

    report: list[Suppressed] = []
    for (index, column), reason in sorted(withheld.items()):
        row = every[index]
        row.data[column] = None
        key = row.key if row is not total else {"total": "totale"}
        report.append(Suppressed(table.name, dict(key), column, reason))
    return out, report
