"""The cohesion network: holders as nodes, interactions as edges (pure, with networkx).

Edges, each dated:
- co-contribution: two holders with verified ledger entries for the same plan in the same
  period of analysis (month, quarter or year);
- joint activity: two holders organising the same community activity, or both giving
  verified entries to it in the period;
- interaction: recorded by hand (/api/interactions), e.g. a shared co-programming table.
Co-programming attendance (same session table) adds `interaction` ties and co-design partners
`joint_activity` ties, without double counting what was recorded by hand: the rule is in
registry/partnerships/network.py.

Metrics per period (networkx): density, average degree, number of components and share of
nodes in the largest one, average clustering, the E-I index across sectors (Krackhardt &
Stern 1988: (external - internal) / (external + internal) ties), sector assortativity,
modularity of the greedy modularity communities, and new ties (pairs never tied before).

Only aggregates leave this module: no node is ever listed or scored on its own, and
individual volunteers are counted, never named (their data is personal data). What of them
is published is decided by disclosure.protect_network.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import networkx as nx
import numpy as np

from registry.metrics.compute import Period
from registry.metrics.suppression import Row, Table

TIE_KINDS = ("co_contribution", "joint_activity", "interaction")
PERSON_KINDS = frozenset({"individual_volunteer"})
# The key of a period's row holding its parts (nodes and ties by sector and by holder kind).
PARTS = "parts"


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str
    sector: str
    since: date  # registered on
    active: bool = True  # not archived


@dataclass(frozen=True, slots=True)
class Tie:
    a: str
    b: str
    on: date
    kind: str  # co_contribution | joint_activity | interaction


@dataclass(frozen=True, slots=True)
class Participation:
    """A holder giving verified entries to a plan or an activity on a day (for derived ties)."""

    holder_id: str
    target: str  # "plan:<id>" or "activity:<id>"
    on: date


def derived_ties(participations: Iterable[Participation], periods: Sequence[Period]) -> list[Tie]:
    """Co-contribution ties: holders giving to the same plan (or activity) within one period.

    The tie is dated when its second holder first gave in that period.
    """
    ties: list[Tie] = []
    by_period: dict[tuple[str, str], dict[str, date]] = defaultdict(dict)
    for item in participations:
        for period in periods:
            if period.start <= item.on <= period.end:
                first = by_period[(period.key, item.target)]
                if item.holder_id not in first or item.on < first[item.holder_id]:
                    first[item.holder_id] = item.on
                break
    for (_, target), first in by_period.items():
        holders = sorted(first)
        kind = "co_contribution" if target.startswith("plan:") else "joint_activity"
        for i, a in enumerate(holders):
            for b in holders[i + 1 :]:
                ties.append(Tie(a, b, max(first[a], first[b]), kind))
    return ties


def _pair(tie: Tie) -> tuple[str, str]:
    return (tie.a, tie.b) if tie.a < tie.b else (tie.b, tie.a)


def first_tied(ties: Iterable[Tie]) -> dict[tuple[str, str], date]:
    first: dict[tuple[str, str], date] = {}
    for tie in ties:
        if tie.a == tie.b:
            continue
        pair = _pair(tie)
        if pair not in first or tie.on < first[pair]:
            first[pair] = tie.on
    return first


LOUVAIN_SEED = 20260101


def graph(nodes: Sequence[Node], ties: Iterable[Tie], period: Period) -> nx.Graph:
    """The network of one period: current holders, and the ties dated inside the period."""
    known = {n.id: n for n in nodes}
    g = nx.Graph()
    for tie in ties:
        if tie.a == tie.b or not (period.start <= tie.on <= period.end):
            continue
        if tie.a not in known or tie.b not in known:
            continue  # a holder outside the filtered set
        if g.has_edge(tie.a, tie.b):
            g[tie.a][tie.b]["weight"] += 1
            g[tie.a][tie.b]["kinds"].add(tie.kind)
        else:
            g.add_edge(tie.a, tie.b, weight=1, kinds={tie.kind})
    for node in nodes:
        if (node.active and node.since <= period.end) or node.id in g:
            g.add_node(node.id)
    for node_id in g.nodes:
        g.nodes[node_id]["sector"] = known[node_id].sector
        g.nodes[node_id]["kind"] = known[node_id].kind
    return g


def _finite(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return None
    return round(float(value), digits)


def ei_index(g: nx.Graph) -> float | None:
    external = sum(1 for a, b in g.edges if g.nodes[a]["sector"] != g.nodes[b]["sector"])
    internal = g.number_of_edges() - external
    if external + internal == 0:
        return None
    return (external - internal) / (external + internal)


def assortativity(g: nx.Graph) -> float | None:
    if g.number_of_edges() == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return nx.attribute_assortativity_coefficient(g, "sector")
        except (ZeroDivisionError, ValueError):
            return None


def average_clustering(g: nx.Graph) -> float:
    """The mean of the nodes' local clustering coefficients (Watts and Strogatz; a node with
    fewer than two ties counts 0), as networkx's average_clustering, from the sparse
    adjacency matrix: a node's triangles are the diagonal of A·A·A over 2. networkx walks
    every pair of neighbours in Python: a year of a large ambito (1,500 holders, 447,000
    ties) took it 118 s, this 2.6 s, with the same value."""
    a = nx.to_scipy_sparse_array(g, weight=None, format="csr", dtype=np.float64)
    a.setdiag(0)  # graph() makes no self-ties; a loop would count as a tie otherwise
    a.eliminate_zeros()
    degree = np.asarray(a.sum(axis=1)).ravel()
    triangles = np.asarray((a @ a).multiply(a).sum(axis=1)).ravel() / 2
    possible = degree * (degree - 1) / 2
    local = np.divide(triangles, possible, out=np.zeros_like(triangles), where=possible > 0)
    return float(local.mean())


def modularity(g: nx.Graph) -> tuple[float | None, int]:
    """Modularity of the Louvain communities (Blondel et al. 2008), seeded so a figure
    never changes between two runs on the same data.

    Louvain rather than greedy merging (Clauset-Newman-Moore): on an ambito's network of
    a thousand holders greedy merging took a third of a second per period, Louvain a few
    milliseconds, and the nightly job computes dozens of periods. Isolated holders are
    left out of the search: they add nothing to any term of the modularity; each of them
    is still a community of its own in the count.
    """
    if g.number_of_edges() == 0:
        return None, g.number_of_nodes()
    isolated = list(nx.isolates(g))
    # A plain copy, not a subgraph view: Louvain walks the neighbours many times and every
    # step through a view re-checks its node filter.
    core = nx.Graph(g)
    core.remove_nodes_from(isolated)
    communities = nx.community.louvain_communities(core, seed=LOUVAIN_SEED)
    return nx.community.modularity(core, communities), len(communities) + len(isolated)


def partition(g: nx.Graph, attribute: str) -> dict[str, object]:
    """Nodes (and persons among them) by the value of a node attribute, and ties within and
    between values: the unfiltered tables a filtered answer is read from (disclosure.py)."""
    nodes: dict[str, int] = defaultdict(int)
    persons: dict[str, int] = defaultdict(int)
    for _, data in g.nodes(data=True):
        nodes[data[attribute]] += 1
        if data["kind"] in PERSON_KINDS:
            persons[data[attribute]] += 1
    blocks: dict[tuple[str, str], int] = defaultdict(int)
    for a, b in g.edges:
        x, y = sorted((g.nodes[a][attribute], g.nodes[b][attribute]))
        blocks[(x, y)] += 1
    return {
        "nodes": dict(sorted(nodes.items())),
        "person_nodes": {v: persons.get(v, 0) for v in sorted(nodes)},
        "blocks": [[a, b, c] for (a, b), c in sorted(blocks.items())],
    }


def subset(g: nx.Graph, members: frozenset[str]) -> dict[str, int]:
    """Nodes, persons and ties among the members (holders of a comune) in the whole network."""
    inside = [n for n in g.nodes if n in members]
    return {
        "nodes": len(inside),
        "person_nodes": sum(1 for n in inside if g.nodes[n]["kind"] in PERSON_KINDS),
        "edges": g.subgraph(inside).number_of_edges(),
    }


def period_counts(
    g: nx.Graph,
    first: dict[tuple[str, str], date],
    period: Period,
    members: frozenset[str] | None = None,
) -> dict[str, object]:
    """The counts of a period and its parts: what the disclosure control protects."""
    kinds: dict[str, int] = defaultdict(int)
    for _, _, data in g.edges(data=True):
        for kind in data["kinds"]:
            kinds[kind] += 1
    return {
        "nodes": g.number_of_nodes(),
        "person_nodes": sum(1 for _, d in g.nodes(data=True) if d["kind"] in PERSON_KINDS),
        "edges": g.number_of_edges(),
        "new_ties": sum(1 for day in first.values() if period.start <= day <= period.end),
        "edges_co_contribution": kinds["co_contribution"],
        "edges_joint_activity": kinds["joint_activity"],
        "edges_interaction": kinds["interaction"],
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        # Not published as such: the parts the disclosure control protects together.
        PARTS: {
            "sector": partition(g, "sector"),
            "holder_kind": partition(g, "kind"),
            **({"comune": subset(g, members)} if members is not None else {}),
        },
    }


def period_metrics(
    g: nx.Graph,
    first: dict[tuple[str, str], date],
    period: Period,
    members: frozenset[str] | None = None,
) -> dict[str, object]:
    n, m = g.number_of_nodes(), g.number_of_edges()
    components = list(nx.connected_components(g)) if n else []
    largest = max((len(c) for c in components), default=0)
    q, communities = modularity(g)
    return {
        **period_counts(g, first, period, members),
        "density": _finite(nx.density(g)) if n > 1 else None,
        "average_degree": _finite(2 * m / n) if n else None,
        "components": len(components),
        "largest_component_share": _finite(largest / n) if n else None,
        "average_clustering": _finite(average_clustering(g)) if n else None,
        "ei_index": _finite(ei_index(g)),
        "sector_assortativity": _finite(assortativity(g)),
        "modularity": _finite(q),
        "communities": communities,
    }


def counts_of_periods(
    nodes: Sequence[Node],
    ties: Sequence[Tie],
    periods: Sequence[Period],
    members: frozenset[str] | None = None,
) -> list[dict[str, object]]:
    """The counts and parts of each period, without the structure (the months a longer
    period's cells are checked against)."""
    first = first_tied(ties)
    return [period_counts(graph(nodes, ties, p), first, p, members) for p in periods]


STRUCTURE_COUNTS = ["edges", "new_ties", "components", "communities"]
STRUCTURE = [
    "density",
    "average_degree",
    "largest_component_share",
    "average_clustering",
    "ei_index",
    "sector_assortativity",
    "modularity",
]


def network_table(
    nodes: Sequence[Node], ties: Sequence[Tie], periods: Sequence[Period]
) -> tuple[Table, Table, list[dict[str, object]]]:
    """Per period metrics (with the trend), node counts by sector, and the sector blocks
    of the last period (for the picture: ties within and between sectors, no node)."""
    table, pictures = network_tables(nodes, ties, periods)
    if pictures:
        by_sector, blocks = pictures[-1]
    else:
        by_sector, blocks = sector_table({}, {}), []
    return table, by_sector, blocks


def network_tables(
    nodes: Sequence[Node],
    ties: Sequence[Tie],
    periods: Sequence[Period],
    members: frozenset[str] | None = None,
) -> tuple[Table, list[tuple[Table, list[dict[str, object]]]]]:
    """Per period metrics, and for every period its nodes by sector and sector blocks;
    `members` (the holders of a comune) adds their own counts to each period's parts."""
    first = first_tied(ties)
    rows = []
    pictures = []
    for period in periods:
        g = graph(nodes, ties, period)
        rows.append(Row({"period": period.key}, period_metrics(g, first, period, members)))
        pictures.append(sector_picture(g))
    # The structure of a network of few holders says little and may point at them: its
    # figures are guarded by the node count like any other magnitude.
    table = Table(
        name="network",
        title="Rete di coesione: indicatori per periodo",
        keys=["period"],
        # Nodes are the units (holders, persons among them); ties and components describe
        # the structure and are published with it when there are enough nodes.
        counts=["nodes", "person_nodes"],
        values=[*STRUCTURE_COUNTS, *STRUCTURE],
        rows=rows,
        guards={column: ["nodes"] for column in (*STRUCTURE_COUNTS, *STRUCTURE)},
        info=[
            "edges_co_contribution",
            "edges_joint_activity",
            "edges_interaction",
            "period_start",
            "period_end",
        ],
        notes=["nessun dato per singolo nodo: i volontari individuali sono contati, mai elencati"],
    )
    return table, pictures


def sector_picture(g: nx.Graph) -> tuple[Table, list[dict[str, object]]]:
    sectors: dict[str, int] = defaultdict(int)
    persons: dict[str, int] = defaultdict(int)
    for _, data in g.nodes(data=True):
        sectors[data["sector"]] += 1
        if data["kind"] in PERSON_KINDS:
            persons[data["sector"]] += 1
    pair_count: dict[tuple[str, str], int] = defaultdict(int)
    for a, b in g.edges:
        x, y = sorted((g.nodes[a]["sector"], g.nodes[b]["sector"]))
        pair_count[(x, y)] += 1
    blocks: list[dict[str, object]] = [
        {"from": a, "to": b, "edges": c} for (a, b), c in sorted(pair_count.items())
    ]
    return sector_table(sectors, persons), blocks


def sector_table(sectors: dict[str, int], persons: dict[str, int]) -> Table:
    return Table(
        name="network_nodes_by_sector",
        title="Nodi della rete per settore (ultimo periodo)",
        keys=["sector"],
        counts=["nodes", "person_nodes"],
        values=[],
        rows=[
            Row({"sector": s}, {"nodes": c, "person_nodes": persons.get(s, 0)})
            for s, c in sorted(sectors.items())
        ],
        total=Row({}, {"nodes": sum(sectors.values()), "person_nodes": sum(persons.values())}),
    )


def trend(rows: Sequence[dict[str, object]], column: str) -> dict[str, float | None]:
    """First, last, change and least-squares slope per period of one column."""
    points = [
        (i, float(v)) for i, r in enumerate(rows) if isinstance(v := r.get(column), int | float)
    ]
    if not points:
        return {"first": None, "last": None, "change": None, "slope_per_period": None}
    first, last = points[0][1], points[-1][1]
    slope = None
    if len(points) >= 2:
        mean_x = sum(p[0] for p in points) / len(points)
        mean_y = sum(p[1] for p in points) / len(points)
        var = sum((p[0] - mean_x) ** 2 for p in points)
        slope = sum((p[0] - mean_x) * (p[1] - mean_y) for p in points) / var if var else None
    return {
        "first": round(first, 4),
        "last": round(last, 4),
        "change": round(last - first, 4),
        "slope_per_period": round(slope, 4) if slope is not None else None,
    }
