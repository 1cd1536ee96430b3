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
3. *Parts of a longer period.* Calendar periods nest: months in quarters, quarters in years
   (a running one to date). A cell of a calendar quarter is withheld when exactly one of its
   months withholds it, and a cell of a calendar year when exactly one of its quarters does
   (the whole minus the published parts would give that part back; with two or more parts
   withheld it gives only their sum). Any other range of months publishes a cell only where
   every month of it does, so it adds nothing the months do not already say.
4. *Filters.* One dimension filter at a time (comune, area, sector or holder kind). A filtered
   answer publishes only the row of that value in the unfiltered table by that dimension, as
   protected by 2 and 3; figures without such a table (use, time to match, freshness, the
   cross-tables within the filter) are not published with a filter. So a filter reveals no
   more than the unfiltered tables, whatever endpoint, period or complement is asked.

The cohesion network follows the same four rules (protect_network, at the end): its counts,
nodes by sector and by holder kind and the ties within and between them are linked tables,
and its structure figures go with the counts they would give back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.metrics.compute import Figures
from registry.metrics.suppression import TOTAL, Row, RowId, Table, row_id, suppress

# The tables a summary publishes, in order.
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
# The tables protected together: the published ones and the holder-kind margin, which is
# published only as the reference of the holder_kind filter.
PROTECTED = (*SUMMARY_TABLES[:5], "by_holder_kind", *SUMMARY_TABLES[5:])
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


class _Cells:
    """The tables' rows by row id, for the cross-table lines: a protection looks cells up
    tens of thousands of times, and scanning a table's rows for each was most of its time."""

    def __init__(self, tables: Mapping[str, Table]) -> None:
        self.tables = tables
        self.rows: dict[str, dict[RowId, Row]] = {}
        for name, table in tables.items():
            by_id: dict[RowId, Row] = {}
            for r in table.all_rows():
                by_id.setdefault(row_id(r, table), r)  # the first, as a scan would find
            self.rows[name] = by_id

    def value(self, cell: Cell) -> Any:
        name, rid, column = cell
        row = self.rows.get(name, {}).get(rid)
        return None if row is None else row.data.get(column)

    def exists(self, cell: Cell) -> bool:
        name, rid, column = cell
        table = self.tables.get(name)
        if table is None or column in table.exempt or column not in (*table.counts, *table.values):
            return False
        return rid in self.rows[name]

    def size(self, cell: Cell) -> float:
        name, rid, _ = cell
        entries = self.value((name, rid, "entries"))
        value = entries if isinstance(entries, int | float) else self.value(cell)
        return float(value) if isinstance(value, int | float) else 0.0


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


def protect(
    figures: Figures,
    threshold: int,
    months: Sequence[Protected] = (),
    *,
    calendar: bool = False,
) -> Protected:
    """The period's tables with every rule applied (see the module docstring). `months` are
    the protected parts of a longer period (empty for a month): its months, or for a calendar
    quarter or year (`calendar`) its months or quarters."""
    tables = {name: figures.tables[name] for name in PROTECTED if name in figures.tables}
    lines = _lines(tables) if "totals" in tables and "by_kind" in tables else []
    return _protect(tables, lines, threshold, months, calendar=calendar)


def forced_by_parts(parts: Sequence[Protected], *, calendar: bool) -> dict[Cell, str]:
    """The cells a longer period withholds because of its parts (rule 3).

    Any range of months: a cell withheld in any month. A calendar quarter (parts: its months)
    or year (parts: its quarters): a cell withheld in exactly one part, since the whole minus
    the other, published parts would give that part back; with two or more parts withheld the
    difference gives only their sum. Calendar periods nest (month in quarter in year), so
    these differences are the only ones a reader can take."""
    seen: dict[Cell, int] = {}
    for part in parts:
        for cell in part.withheld:
            seen[cell] = seen.get(cell, 0) + 1
    return {cell: "period" for cell, times in seen.items() if not calendar or times == 1}


def _protect(
    tables: dict[str, Table],
    lines: Sequence[tuple[Cell, list[Cell]]],
    threshold: int,
    months: Sequence[Protected],
    *,
    calendar: bool = False,
) -> Protected:
    """Suppression of linked tables: each table on its own, then every line across tables
    with exactly one withheld cell gets a second one, until nothing changes."""
    forced: dict[Cell, str] = forced_by_parts(months, calendar=calendar)
    cells = _Cells(tables)
    # Each line's cells that exist (the tables do not change, only what is withheld).
    present = [
        (
            [m for m in (whole, *parts) if cells.exists(m)],
            [p for p in parts if cells.exists(p)],
            whole if cells.exists(whole) else None,
        )
        for whole, parts in lines
    ]
    # A table is suppressed again only when the cells forced on it changed.
    done: dict[str, tuple[dict[tuple[RowId, str], str], Table, dict[Cell, str]]] = {}
    while True:
        safe: dict[str, Table] = {}
        withheld: dict[Cell, str] = {}
        by_table: dict[str, dict[tuple[RowId, str], str]] = {name: {} for name in tables}
        for (t, rid, col), why in forced.items():
            if t in by_table:
                by_table[t][(rid, col)] = why
        for name, table in tables.items():
            own = by_table[name]
            before = done.get(name)
            if before is None or before[0] != own:
                out, suppressed = suppress(table, threshold, own)
                mine: dict[Cell, str] = {}
                for c in suppressed:
                    rid: RowId = (
                        TOTAL if c.key == {"total": "totale"} else tuple(sorted(c.key.items()))
                    )
                    mine[(name, rid, c.column)] = c.reason
                before = done[name] = (dict(own), out, mine)
            safe[name] = before[1]
            withheld.update(before[2])
        added = False
        for members, existing_parts, whole in present:
            hidden = [m for m in members if m in withheld]
            if len(hidden) != 1:
                continue
            open_parts = [p for p in existing_parts if p not in withheld]
            if open_parts:
                nonzero = [p for p in open_parts if cells.size(p) > 0] or open_parts
                pick = min(nonzero, key=lambda p: (cells.size(p), repr(p)))
            elif whole is not None and whole not in withheld:
                pick = whole
            else:
                continue
            forced[pick] = "secondary"
            added = True
        if not added:
            return Protected(safe, withheld)


def reference_row(
    protected: Protected, dimension: str, value: str, reference: Mapping[str, str] = REFERENCE
) -> Row:
    """The published row of `value` in the unfiltered table by `dimension` (zeros when the
    value had nothing in the period: zero identifies nobody). `reference`: the table by each
    dimension (the outcomes have their own)."""
    name = reference[dimension]
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
    if name is None or name not in protected.tables:  # the outcomes have no need tables
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


# --- the cohesion network --------------------------------------------------------------------
#
# The same rules for the network. The tables of a period: its counts (nodes, persons among
# them, ties, new ties, ties by kind), nodes by sector and by holder kind, ties within and
# between sectors and between holder kinds. Lines: the totals of those tables are the
# period's nodes, persons and ties; ties within sectors and ties between sectors (which the
# E-I index gives away together with the ties) sum the sector blocks; the ties by kind sum
# to the ties (at least: a pair tied two ways counts in both, so this line is cautious).
# Structure figures go with their counts: none without the nodes; density and average
# degree (which give the ties back from the nodes) not without the ties; the E-I index not
# without the ties within and between sectors; sector assortativity (computed from the
# sector blocks) not when a block is withheld. A filtered answer is the row of its value:
# nodes, persons and ties within the value (for a comune: its holders, ties among them),
# density and average degree from them; nothing else.

NETWORK_EDGE_KINDS = ("edges_co_contribution", "edges_joint_activity", "edges_interaction")
NETWORK_COUNTS = ("nodes", "person_nodes", "edges", "new_ties", *NETWORK_EDGE_KINDS)
_SPLIT = ("edges_external", "edges_internal")
# The unfiltered tables of the network by dimension: nodes, and ties within and between.
NETWORK_REFERENCE = {
    "sector": ("network_nodes_by_sector", "network_sector_blocks"),
    "holder_kind": ("network_nodes_by_kind", "network_kind_blocks"),
}
_COMUNE = "network_comune"
_PERSON_KIND = "individual_volunteer"
_STRUCTURE_OF_NODES = (
    "components",
    "communities",
    "density",
    "average_degree",
    "largest_component_share",
    "average_clustering",
    "ei_index",
    "sector_assortativity",
    "modularity",
)


def _network_input(row: Mapping[str, Any]) -> dict[str, Table]:
    parts = row["parts"]
    sector_blocks = parts["sector"]["blocks"]
    counts = {c: row[c] for c in NETWORK_COUNTS}
    counts["edges_external"] = sum(c for a, b, c in sector_blocks if a != b)
    counts["edges_internal"] = sum(c for a, b, c in sector_blocks if a == b)
    tables = {
        "network": Table(
            name="network",
            title="",
            keys=[],
            counts=[*NETWORK_COUNTS, *_SPLIT],
            values=[],
            rows=[Row({}, counts)],
            row_sums=[("edges", list(_SPLIT)), ("edges", list(NETWORK_EDGE_KINDS))],
        )
    }
    for dimension, (nodes_name, blocks_name) in NETWORK_REFERENCE.items():
        part = parts[dimension]
        persons = part["person_nodes"]
        tables[nodes_name] = Table(
            name=nodes_name,
            title="",
            keys=[dimension],
            counts=["nodes", "person_nodes"],
            values=[],
            rows=[
                Row({dimension: v}, {"nodes": n, "person_nodes": persons.get(v, 0)})
                for v, n in part["nodes"].items()
            ],
            total=Row(
                {}, {"nodes": sum(part["nodes"].values()), "person_nodes": sum(persons.values())}
            ),
        )
        a, b = f"{dimension}_a", f"{dimension}_b"
        tables[blocks_name] = Table(
            name=blocks_name,
            title="",
            keys=[a, b],
            counts=["edges"],
            values=[],
            rows=[Row({a: x, b: y}, {"edges": c}) for x, y, c in part["blocks"]],
            total=Row({}, {"edges": sum(c for _, _, c in part["blocks"])}),
        )
    if "comune" in parts:
        tables[_COMUNE] = Table(
            name=_COMUNE,
            title="",
            keys=[],
            counts=["nodes", "person_nodes", "edges"],
            values=[],
            rows=[Row({}, dict(parts["comune"]))],
        )
    return tables


def _network_lines(tables: Mapping[str, Table]) -> list[tuple[Cell, list[Cell]]]:
    lines: list[tuple[Cell, list[Cell]]] = []
    for nodes_name, blocks_name in NETWORK_REFERENCE.values():
        for column in ("nodes", "person_nodes"):
            lines.append((("network", (), column), [(nodes_name, TOTAL, column)]))
        lines.append((("network", (), "edges"), [(blocks_name, TOTAL, "edges")]))
    blocks = tables["network_sector_blocks"]
    for column, within in (("edges_internal", True), ("edges_external", False)):
        parts = [
            ("network_sector_blocks", row_id(r, blocks), "edges")
            for r in blocks.rows
            if (r.key["sector_a"] == r.key["sector_b"]) == within
        ]
        lines.append((("network", (), column), parts))
    # Individual volunteers are the persons: their kind's nodes are the persons' count.
    person: RowId = (("holder_kind", _PERSON_KIND),)
    lines.append((("network", (), "person_nodes"), [("network_nodes_by_kind", person, "nodes")]))
    lines.append(
        (
            ("network_nodes_by_kind", person, "person_nodes"),
            [("network_nodes_by_kind", person, "nodes")],
        )
    )
    return lines


def protect_network(
    row: Mapping[str, Any],
    threshold: int,
    months: Sequence[Protected] = (),
    *,
    calendar: bool = False,
) -> Protected:
    """A period of the network with every rule applied; `months` are its protected months
    (at month granularity) when the period is not itself a month of a monthly series."""
    tables = _network_input(row)
    return _protect(tables, _network_lines(tables), threshold, months, calendar=calendar)


def _hidden(protected: Protected, table: str, rid: RowId) -> dict[str, str]:
    return {col: why for r, col, why in withheld_keys(protected, table) if r == rid}


def _reference(
    protected: Protected, dimension: str, value: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Nodes, persons and ties within `value` as the unfiltered tables publish them, and
    why each withheld one is (a value with nothing in the period has zeros)."""
    if dimension == "comune":
        found = protected.tables[_COMUNE].rows[0].data
        data = {c: found.get(c) for c in ("nodes", "person_nodes", "edges")}
        return data, _hidden(protected, _COMUNE, ())
    nodes_name, blocks_name = NETWORK_REFERENCE[dimension]
    node_row = protected.row(nodes_name, {dimension: value})
    pair = {f"{dimension}_a": value, f"{dimension}_b": value}
    block = protected.row(blocks_name, pair)
    data = {
        "nodes": node_row.data["nodes"] if node_row else 0,
        "person_nodes": node_row.data["person_nodes"] if node_row else 0,
        "edges": block.data["edges"] if block else 0,
    }
    reasons = _hidden(protected, nodes_name, ((dimension, value),))
    edges = _hidden(protected, blocks_name, tuple(sorted(pair.items())))
    if "edges" in edges:
        reasons["edges"] = edges["edges"]
    return data, reasons


def network_row(
    protected: Protected, raw: Mapping[str, Any], chosen: tuple[str, str] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The published figures of one period of the network (the columns of network.py's
    table) and why each withheld one is withheld."""
    out: dict[str, Any] = {c: raw.get(c) for c in ("period_start", "period_end")}
    reasons: dict[str, str] = {}

    def withhold(columns: Iterable[str], why: str) -> None:
        for column in columns:
            if out.get(column) is not None:
                out[column] = None
                reasons.setdefault(column, why)

    if chosen is None:
        counts = protected.tables["network"].rows[0].data
        out.update({c: counts[c] for c in NETWORK_COUNTS})
        out.update({c: raw.get(c) for c in _STRUCTURE_OF_NODES})
        hidden = _hidden(protected, "network", ())
        reasons.update({c: why for c, why in hidden.items() if c in NETWORK_COUNTS})
        if "nodes" in hidden:
            withhold(_STRUCTURE_OF_NODES, "derived")
        if "edges" in hidden:
            withhold(("density", "average_degree"), "derived")
        if any(c in hidden for c in _SPLIT):
            withhold(("ei_index",), "derived")
        if any(True for _ in withheld_keys(protected, "network_sector_blocks")):
            withhold(("sector_assortativity",), "derived")
        return out, reasons
    dimension, value = chosen
    if dimension not in (*NETWORK_REFERENCE, "comune"):
        # No network by this dimension (the network has no user area): nothing to publish.
        out.update({c: None for c in (*NETWORK_COUNTS, *_STRUCTURE_OF_NODES)})
        reasons.update({c: "filter" for c in (*NETWORK_COUNTS, *_STRUCTURE_OF_NODES)})
        return out, reasons
    data, why = _reference(protected, dimension, value)
    out.update({c: None for c in (*NETWORK_COUNTS, *_STRUCTURE_OF_NODES)})
    out.update(data)
    for column in (*NETWORK_COUNTS, *_STRUCTURE_OF_NODES):
        if column in why:
            reasons[column] = why[column]
        elif column not in data and column not in ("density", "average_degree"):
            reasons[column] = "filter"
    n, m = data["nodes"], data["edges"]
    if n is None or m is None:
        for column in ("density", "average_degree"):
            reasons[column] = "derived"
    else:
        # The filtered network's own density and degree, from the published row.
        out["density"] = round(2 * m / (n * (n - 1)), 4) if n > 1 else None
        out["average_degree"] = round(2 * m / n, 4) if n else None
    return out, reasons


def network_sectors(
    protected: Protected, chosen: tuple[str, str] | None
) -> tuple[list[Row], Row | None, list[tuple[RowId, str, str]]]:
    """Nodes by sector as published: every sector and the total without a filter, only the
    filtered sector's row with a sector filter, nothing with another filter."""
    table = protected.tables["network_nodes_by_sector"]
    cells = list(withheld_keys(protected, "network_nodes_by_sector"))
    if chosen is None:
        return list(table.rows), table.total, cells
    if chosen[0] != "sector":
        return [], None, []
    rows = [r for r in table.rows if r.key["sector"] == chosen[1]]
    rid: RowId = (("sector", chosen[1]),)
    return rows, None, [c for c in cells if c[0] == rid]


def network_blocks(
    protected: Protected, chosen: tuple[str, str] | None
) -> list[tuple[str, str, int | None]]:
    """Ties within and between sectors as published (withheld: None)."""
    blocks = [
        (r.key["sector_a"], r.key["sector_b"], r.data["edges"])
        for r in protected.tables["network_sector_blocks"].rows
    ]
    if chosen is None:
        return blocks
    if chosen[0] != "sector":
        return []
    return [b for b in blocks if b[0] == b[1] == chosen[1]]
