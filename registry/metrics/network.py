"""The cohesion network: holders as nodes, interactions as edges (pure).

Edges, each dated:
- co-contribution: two holders with verified ledger entries for the same plan in the same
  period of analysis (month, quarter or year);
- joint activity: two holders organising the same community activity, or both giving
  verified entries to it in the period;
- interaction: recorded by hand (/api/interactions), e.g. a shared co-programming table.
Co-programming attendance (same session table) adds `interaction` ties and co-design partners
`joint_activity` ties, without double counting what was recorded by hand: the rule is in
registry/partnerships/network.py.

Metrics per period (numpy and scipy over arrays of ties, Louvain in igraph): density,
average degree, number of components and share of nodes in the largest one, average
clustering, the E-I index across sectors (Krackhardt & Stern 1988: (external - internal) /
(external + internal) ties), sector assortativity, modularity of the Louvain communities,
and new ties (pairs never tied before).

Only aggregates leave this module: no node is ever listed or scored on its own, and
individual volunteers are counted, never named (their data is personal data). What of them
is published is decided by disclosure.protect_network.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import igraph
import msgspec
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from registry.metrics.compute import Period
from registry.metrics.suppression import Row, Table

TIE_KINDS = ("co_contribution", "joint_activity", "interaction")
PERSON_KINDS = frozenset({"individual_volunteer"})
# The key of a period's row holding its parts (nodes and ties by sector and by holder kind).
PARTS = "parts"


# msgspec Structs: a year of a large ambito sends hundreds of thousands of ties to a worker
# process, and a frozen dataclass pickles one field lookup at a time.
class Node(msgspec.Struct, frozen=True, array_like=True, gc=False):
    id: str
    kind: str
    sector: str
    since: date  # registered on
    active: bool = True  # not archived


class Tie(msgspec.Struct, frozen=True, array_like=True, gc=False):
    a: str
    b: str
    on: date
    kind: str  # co_contribution | joint_activity | interaction


class Participation(msgspec.Struct, frozen=True, array_like=True, gc=False):
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


LOUVAIN_SEED = 20260101
_KIND_BIT = {kind: 1 << i for i, kind in enumerate(TIE_KINDS)}


class _Ties:
    """Every tie of a computation as arrays over one index of holder ids: the periods'
    networks are then masks and counts over them (numpy), not a graph object built tie by
    tie. A year of a large ambito is hundreds of thousands of ties; networkx built and walked
    them in Python for minutes."""

    def __init__(self, nodes: Sequence[Node], ties: Sequence[Tie]) -> None:
        # Holders in id order: the same numbering, so the same communities, whatever order
        # the database returned them in.
        self.nodes = sorted(nodes, key=lambda n: n.id)
        index = {n.id: i for i, n in enumerate(self.nodes)}
        known = len(index)
        a = np.fromiter((index.setdefault(t.a, len(index)) for t in ties), np.int64, len(ties))
        b = np.fromiter((index.setdefault(t.b, len(index)) for t in ties), np.int64, len(ties))
        self.day = np.fromiter((t.on.toordinal() for t in ties), np.int64, len(ties))
        self.kind = np.fromiter((_KIND_BIT.get(t.kind, 0) for t in ties), np.int8, len(ties))
        size = max(len(index), 1)
        self.distinct = a != b
        self.inside = self.distinct & (a < known) & (b < known)  # not a holder filtered out
        self.pair = np.minimum(a, b) * size + np.maximum(a, b)
        self.size = size
        self.sector, self.sectors = _codes([n.sector for n in self.nodes])
        self.kinds, self.kind_names = _codes([n.kind for n in self.nodes])
        self.person = np.array([n.kind in PERSON_KINDS for n in self.nodes], dtype=bool)
        self.ids = [n.id for n in self.nodes]
        self.present = np.array([n.active for n in self.nodes], dtype=bool)
        self.since = np.array([n.since.toordinal() for n in self.nodes], dtype=np.int64)

    def first_tied(self) -> np.ndarray:
        """The day each pair (holders filtered out too) was first tied, as ordinals."""
        pairs, where = np.unique(self.pair[self.distinct], return_inverse=True)
        first = np.full(len(pairs), np.iinfo(np.int64).max)
        np.minimum.at(first, where, self.day[self.distinct])
        return first


def _codes(values: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    names = sorted(set(values))
    position = {v: i for i, v in enumerate(names)}
    return np.array([position[v] for v in values], dtype=np.int64), names


@dataclass(slots=True)
class Graph:
    """The network of one period: its holders (positions in `_Ties.nodes`, in id order) and
    its edges (each pair once, with the number of ties and the kinds among them)."""

    ties: _Ties
    members: np.ndarray  # node positions, ascending
    u: np.ndarray  # edge ends as positions in `members`
    v: np.ndarray
    weight: np.ndarray
    kinds: np.ndarray

    @property
    def n(self) -> int:
        return len(self.members)

    @property
    def m(self) -> int:
        return len(self.u)

    def adjacency(self) -> sparse.csr_array:
        ones = np.ones(2 * self.m)
        rows = np.concatenate([self.u, self.v])
        cols = np.concatenate([self.v, self.u])
        return sparse.csr_array((ones, (rows, cols)), shape=(self.n, self.n))

    def attribute(self, name: str) -> tuple[np.ndarray, list[str]]:
        """Each member's code of "sector" or "kind", and the codes' names."""
        if name == "sector":
            return self.ties.sector[self.members], self.ties.sectors
        return self.ties.kinds[self.members], self.ties.kind_names


def graph(ties: _Ties, period: Period) -> Graph:
    """The network of one period: current holders, and the ties dated inside the period."""
    start, end = period.start.toordinal(), period.end.toordinal()
    chosen = ties.inside & (ties.day >= start) & (ties.day <= end)
    pairs, where, weight = np.unique(ties.pair[chosen], return_inverse=True, return_counts=True)
    kinds = np.zeros(len(pairs), dtype=np.int8)
    np.bitwise_or.at(kinds, where, ties.kind[chosen])
    a, b = pairs // ties.size, pairs % ties.size
    known = len(ties.nodes)
    member = ties.present & (ties.since <= end)
    tied = np.zeros(known, dtype=bool)
    tied[a] = tied[b] = True
    members = np.flatnonzero(member | tied)
    position = np.full(known, -1, dtype=np.int64)
    position[members] = np.arange(len(members))
    return Graph(ties, members, position[a], position[b], weight, kinds)


def _finite(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return None
    return round(float(value), digits)


def ei_index(g: Graph) -> float | None:
    if g.m == 0:
        return None
    sector, _ = g.attribute("sector")
    external = int(np.count_nonzero(sector[g.u] != sector[g.v]))
    return (external - (g.m - external)) / g.m


def assortativity(g: Graph) -> float | None:
    """Newman's attribute assortativity of the sectors (networkx's
    attribute_assortativity_coefficient): r = (tr e - sum a_i b_i) / (1 - sum a_i b_i) over
    the mixing matrix e of the edges, each counted both ways."""
    if g.m == 0:
        return None
    sector, names = g.attribute("sector")
    e = np.zeros((len(names), len(names)))
    np.add.at(e, (sector[g.u], sector[g.v]), 1.0)
    np.add.at(e, (sector[g.v], sector[g.u]), 1.0)
    e /= e.sum()
    expected = float((e.sum(axis=1) * e.sum(axis=0)).sum())
    if expected == 1.0:
        return None  # one sector only: undefined
    return (float(np.trace(e)) - expected) / (1.0 - expected)


def average_clustering(g: Graph) -> float:
    """The mean of the nodes' local clustering coefficients (Watts and Strogatz; a node with
    fewer than two ties counts 0), as networkx's average_clustering: a node's triangles are
    the diagonal of A·A·A over 2. networkx walks every pair of neighbours in Python: a year
    of a large ambito (1,500 holders, 447,000 ties) took it 118 s."""
    if g.n == 0:
        return 0.0
    degree = np.bincount(np.concatenate([g.u, g.v]), minlength=g.n)
    # Only holders of two ties or more can close a triangle: the product is over them.
    core = np.flatnonzero(degree >= 2)
    k = len(core)
    position = np.full(g.n, -1, dtype=np.int64)
    position[core] = np.arange(k)
    keep = (position[g.u] >= 0) & (position[g.v] >= 0)
    u, v = position[g.u[keep]], position[g.v[keep]]
    if k * k <= 64 * max(len(u), 1) and k <= 4096:
        # Dense enough for BLAS: float32 counts exactly up to 2^24 (k^2 <= 2^24 here).
        a = np.zeros((k, k), dtype=np.float32)
        a[u, v] = a[v, u] = 1.0
        triangles = ((a @ a) * a).sum(axis=1, dtype=np.float64) / 2
    else:
        ones = np.ones(2 * len(u))
        m = sparse.csr_array((ones, (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(k, k))
        triangles = np.asarray((m @ m).multiply(m).sum(axis=1)).ravel() / 2
    d = degree[core].astype(np.float64)
    return float((triangles / (d * (d - 1) / 2)).sum() / g.n)


def components(g: Graph) -> tuple[int, int]:
    """The number of connected components (an isolated holder is one) and the largest's size."""
    if g.n == 0:
        return 0, 0
    count, labels = connected_components(g.adjacency(), directed=False)
    return int(count), int(np.bincount(labels).max())


def modularity(g: Graph) -> tuple[float | None, int]:
    """Modularity of the Louvain communities (Blondel et al. 2008; igraph's multilevel, in C)
    with the number of ties of a pair as its weight, seeded so a figure never changes between
    two runs on the same data.

    Louvain rather than greedy merging (Clauset-Newman-Moore): the nightly job computes
    dozens of periods. Isolated holders are left out of the search: they add nothing to any
    term of the modularity; each of them is still a community of its own in the count.
    """
    if g.m == 0:
        return None, g.n
    tied = np.zeros(g.n, dtype=bool)
    tied[g.u] = tied[g.v] = True
    position = np.cumsum(tied) - 1
    edges = zip(position[g.u].tolist(), position[g.v].tolist(), strict=True)
    core = igraph.Graph(n=int(tied.sum()), edges=edges)
    weights = g.weight.astype(float).tolist()
    # igraph draws from Python's random module: a fresh generator of a fixed seed each time.
    igraph.set_random_number_generator(random.Random(LOUVAIN_SEED))
    membership = core.community_multilevel(weights=weights).membership
    q = core.modularity(membership, weights=weights)
    return q, len(set(membership)) + int(g.n - tied.sum())


def partition(g: Graph, attribute: str) -> dict[str, object]:
    """Nodes (and persons among them) by the value of a node attribute, and ties within and
    between values: the unfiltered tables a filtered answer is read from (disclosure.py)."""
    codes, names = g.attribute(attribute)
    person = g.ties.person[g.members]
    nodes = np.bincount(codes, minlength=len(names))
    persons = np.bincount(codes[person], minlength=len(names))
    present = [i for i in range(len(names)) if nodes[i]]
    return {
        "nodes": {names[i]: int(nodes[i]) for i in present},
        "person_nodes": {names[i]: int(persons[i]) for i in present},
        "blocks": [[a, b, c] for (a, b), c in _blocks(g, codes, names)],
    }


def _blocks(g: Graph, codes: np.ndarray, names: list[str]) -> list[tuple[tuple[str, str], int]]:
    """Edges by the (ordered) pair of their ends' values."""
    x, y = codes[g.u], codes[g.v]
    low, high = np.minimum(x, y), np.maximum(x, y)
    found, counts = np.unique(low * len(names) + high, return_counts=True)
    width = max(len(names), 1)
    return [
        ((names[k // width], names[k % width]), int(c))
        for k, c in zip(found.tolist(), counts.tolist(), strict=True)
    ]


def subset(g: Graph, members: frozenset[str]) -> dict[str, int]:
    """Nodes, persons and ties among the members (holders of a comune) in the whole network."""
    ids = g.ties.ids
    inside = np.array([ids[i] in members for i in g.members.tolist()], dtype=bool)
    return {
        "nodes": int(inside.sum()),
        "person_nodes": int((inside & g.ties.person[g.members]).sum()),
        "edges": int(np.count_nonzero(inside[g.u] & inside[g.v])),
    }


def period_counts(
    g: Graph,
    first: np.ndarray,
    period: Period,
    members: frozenset[str] | None = None,
) -> dict[str, object]:
    """The counts of a period and its parts: what the disclosure control protects."""
    start, end = period.start.toordinal(), period.end.toordinal()
    return {
        "nodes": g.n,
        "person_nodes": int(g.ties.person[g.members].sum()),
        "edges": g.m,
        "new_ties": int(np.count_nonzero((first >= start) & (first <= end))),
        **{
            f"edges_{kind}": int(np.count_nonzero(g.kinds & bit)) for kind, bit in _KIND_BIT.items()
        },
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
    g: Graph,
    first: np.ndarray,
    period: Period,
    members: frozenset[str] | None = None,
) -> dict[str, object]:
    n, m = g.n, g.m
    count, largest = components(g)
    q, communities = modularity(g)
    return {
        **period_counts(g, first, period, members),
        "density": _finite(2 * m / (n * (n - 1))) if n > 1 else None,
        "average_degree": _finite(2 * m / n) if n else None,
        "components": count,
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
    arrays = _Ties(nodes, ties)
    first = arrays.first_tied()
    return [period_counts(graph(arrays, p), first, p, members) for p in periods]


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
    arrays = _Ties(nodes, ties)
    first = arrays.first_tied()
    rows = []
    pictures = []
    for period in periods:
        g = graph(arrays, period)
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


def sector_picture(g: Graph) -> tuple[Table, list[dict[str, object]]]:
    parts = partition(g, "sector")
    sectors: dict[str, int] = parts["nodes"]  # type: ignore[assignment]
    persons: dict[str, int] = parts["person_nodes"]  # type: ignore[assignment]
    blocks: list[dict[str, object]] = [
        {"from": a, "to": b, "edges": c}
        for a, b, c in parts["blocks"]  # type: ignore[attr-defined]
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
