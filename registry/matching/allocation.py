"""Batch allocation of an ambito's open needs to resources, exactly.

The problem is a bipartite b-matching: each need takes at most one resource,
each resource at most `capacity` needs, only compatible pairs (blocking),
maximising the sum of score x priority factor, where

    priority factor = 1 + priority_step * (priority - 1)

(default step 0.25: priority 1 -> 1.0, 3 -> 1.5, 5 -> 2.0), so an urgent
need wins a contested resource unless a less urgent one fits it much
better.

It is solved exactly as a min-cost flow with OR-Tools: every need has supply
1 and two ways to the sink, through a compatible resource (cost -objective,
scaled to integers) or through a zero-cost "unassigned" arc, so nobody is
forced into a match. Resource -> sink arcs carry the capacity. Costs are
rounded to multiples of 1/COST_SCALE, so the solution is within
1/COST_SCALE per need of the real-valued optimum (tests check it against
the LP reference with that tolerance).

Large ambiti are capped so that the batch stays fast: if the compatible
pairs exceed `edge_budget`, every need keeps only its best k candidates (by
score: the ranking of `suggest`), with k the largest value that fits the
budget. Graphs under the budget (any realistic ambito) are solved over all
compatible pairs; `edge_budget=None` always does so, and
`max_candidates_per_need` adds a fixed cap of its own. The optimum is exact
on the graph actually built; `Allocation.max_candidates_per_need` says
which cap was applied (None when no need lost a candidate).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from .blocking import BoolArray, CandidateIndex, FloatArray, IntArray
from .model import Allocation, NeedItem, ResourceItem, Suggestion, Taxonomy, Unassigned, Weights
from .scoring import score

DEFAULT_PRIORITY_STEP = 0.25
DEFAULT_MAX_CANDIDATES: int | None = None
# ~1.5 M edges keep the benchmark's batch (100,000 resources, 20,000 needs)
# under 10 s on 2 cores while losing < 0.01% of the uncapped optimum there.
DEFAULT_EDGE_BUDGET = 1_500_000
COST_SCALE = 1_000_000


def priority_factor(priority: int, step: float = DEFAULT_PRIORITY_STEP) -> float:
    return 1 + step * (priority - 1)


@dataclass(frozen=True, slots=True, eq=False)
class CandidateGraph:
    """Compatible (need, resource) edges with scores: the allocation's input.

    Edges are sorted by need, then by rank (score desc, resource id asc).
    `res_idx` are positions in `index.resources`; `need_idx` positions in
    `needs` (sorted by id).
    """

    needs: tuple[NeedItem, ...]
    index: CandidateIndex
    weights: Weights
    need_idx: IntArray
    res_idx: IntArray
    scores: FloatArray
    objective: FloatArray
    capacity: IntArray
    candidate_pairs: int
    candidate_counts: IntArray  # compatible resources per need, before any cap
    max_candidates_per_need: int | None  # cap actually applied, None if none
    priority_step: float

    @property
    def edges(self) -> int:
        return len(self.need_idx)


def _cap_within_budget(counts: IntArray, budget: int, upper: int) -> int:
    """Largest k <= upper with sum(min(count, k)) <= budget (at least 1)."""
    lo, hi = 1, max(1, upper)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if int(np.minimum(counts, mid).sum()) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def build_graph(
    needs: Iterable[NeedItem],
    index: CandidateIndex,
    weights: Weights | None = None,
    *,
    max_candidates_per_need: int | None = DEFAULT_MAX_CANDIDATES,
    edge_budget: int | None = DEFAULT_EDGE_BUDGET,
    priority_step: float = DEFAULT_PRIORITY_STEP,
) -> CandidateGraph:
    """Blocking + scoring for a whole set of needs, capped as the module docstring says."""
    w = weights or Weights()
    ordered = tuple(sorted(needs, key=lambda n: n.id))
    for a, b in itertools.pairwise(ordered):
        if a.id == b.id:
            raise ValueError(f"duplicate need id {a.id!r}")
    if max_candidates_per_need is not None and max_candidates_per_need < 1:
        raise ValueError("max_candidates_per_need must be >= 1 or None")
    if edge_budget is not None and edge_budget < 1:
        raise ValueError("edge_budget must be >= 1 or None")
    cap = max_candidates_per_need
    if edge_budget is not None:
        per_need = index.eligible_count if cap is None else min(cap, index.eligible_count)
        if len(ordered) * per_need > edge_budget:  # might not fit: count first
            counts = index.candidate_counts(ordered)
            kept = counts if cap is None else np.minimum(counts, cap)
            if int(kept.sum()) > edge_budget:
                upper = cap if cap is not None else int(counts.max())
                cap = _cap_within_budget(counts, edge_budget, upper)
    need_idx, res_idx, scores, counts = index.ranked(ordered, w, cap)
    applied = cap if cap is not None and bool((counts > cap).any()) else None
    priorities = np.array([n.priority for n in ordered], dtype=np.float64)
    factors = 1 + priority_step * (priorities - 1)
    objective = scores * factors[need_idx] if len(need_idx) else np.zeros(0)
    capacity = np.array([r.capacity for r in index.resources], dtype=np.int64)
    return CandidateGraph(
        needs=ordered,
        index=index,
        weights=w,
        need_idx=need_idx,
        res_idx=res_idx,
        scores=scores,
        objective=objective,
        capacity=capacity,
        candidate_pairs=int(counts.sum()),
        candidate_counts=counts,
        max_candidates_per_need=applied,
        priority_step=priority_step,
    )


def _edge_components(need_idx: IntArray, res_idx: IntArray) -> IntArray:
    """Connected-component label of every edge of the bipartite graph."""
    need_nodes, need_local = np.unique(need_idx, return_inverse=True)
    res_nodes, res_local = np.unique(res_idx, return_inverse=True)
    n = len(need_nodes)
    size = n + len(res_nodes)
    adjacency = coo_array(
        (np.ones(len(need_idx), dtype=np.int8), (need_local, n + res_local)), shape=(size, size)
    )
    _, labels = connected_components(adjacency, directed=False)
    return labels[need_local]


def _solve_component(
    need_idx: IntArray, res_idx: IntArray, objective: FloatArray, capacity: IntArray
) -> BoolArray:
    """Min-cost flow on one connected component; mask of chosen edges."""
    e = len(need_idx)
    need_nodes, need_local = np.unique(need_idx, return_inverse=True)
    res_nodes, res_local = np.unique(res_idx, return_inverse=True)
    n, r = len(need_nodes), len(res_nodes)
    sink = n + r
    degree = np.bincount(res_local, minlength=r)
    res_cap = np.minimum(capacity[res_nodes], degree)

    flow = min_cost_flow.SimpleMinCostFlow()
    edge_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        need_local.astype(np.int32),
        (n + res_local).astype(np.int32),
        np.ones(e, dtype=np.int64),
        -np.rint(objective * COST_SCALE).astype(np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        (n + np.arange(r)).astype(np.int32),
        np.full(r, sink, dtype=np.int32),
        res_cap.astype(np.int64),
        np.zeros(r, dtype=np.int64),
    )
    # The "unassigned" way out: a need may stay unmatched at no cost.
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(n, dtype=np.int32),
        np.full(n, sink, dtype=np.int32),
        np.ones(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
    )
    supplies = np.zeros(n + r + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(n + r + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    return np.asarray(flow.flows(edge_arcs)) > 0


def solve_min_cost_flow(graph: CandidateGraph) -> BoolArray:
    """Exact b-matching on the graph; returns the mask of chosen edges.

    Connected components are independent problems; solving them one by one
    is exact and measured 2x faster than one big flow (cost scaling grows
    faster than linearly with the graph).
    """
    chosen = np.zeros(graph.edges, dtype=bool)
    if graph.edges == 0:
        return chosen
    labels = _edge_components(graph.need_idx, graph.res_idx)
    order = np.argsort(labels, kind="stable")
    starts = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1]])
    for lo, hi in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        edges = order[lo:hi]
        if len(edges) == 1:
            # A lone pair: take it when it is worth anything.
            chosen[edges] = graph.objective[edges] > 0
            continue
        chosen[edges] = _solve_component(
            graph.need_idx[edges], graph.res_idx[edges], graph.objective[edges], graph.capacity
        )
    return chosen


def allocate_graph(graph: CandidateGraph) -> Allocation:
    """Optimal allocation on a prepared candidate graph, with explanations."""
    chosen = solve_min_cost_flow(graph)
    index = graph.index
    assignments: dict[str, Suggestion] = {}
    for edge in np.flatnonzero(chosen):
        need = graph.needs[graph.need_idx[edge]]
        resource = index.resources[graph.res_idx[edge]]
        assignments[need.id] = score(need, resource, graph.weights, index.taxonomy)
    degree = np.bincount(graph.need_idx, minlength=len(graph.needs))
    unassigned: list[Unassigned] = []
    for row, need in enumerate(graph.needs):
        if need.id in assignments:
            continue
        if degree[row] == 0:
            unassigned.append(
                Unassigned(need.id, "no_candidates", index.explain_no_candidates(need))
            )
        else:
            k = int(graph.candidate_counts[row])
            if degree[row] < k:  # capped: only the best ones were in the graph
                reason = (
                    f"Le migliori {int(degree[row])} delle {k} risorse compatibili sono già "
                    "assegnate ad altri bisogni con punteggio o priorità maggiore"
                )
            elif k == 1:
                reason = (
                    "L'unica risorsa compatibile è già assegnata ad altri bisogni "
                    "con punteggio o priorità maggiore"
                )
            else:
                reason = (
                    f"Le {k} risorse compatibili sono già assegnate ad altri bisogni "
                    "con punteggio o priorità maggiore"
                )
            unassigned.append(Unassigned(need.id, "capacity_exhausted", reason))
    return Allocation(
        assignments=assignments,
        unassigned=tuple(unassigned),
        total_score=float(sum(s.score for s in assignments.values())),
        objective=float(graph.objective[chosen].sum()),
        candidate_pairs=graph.candidate_pairs,
        graph_edges=graph.edges,
        max_candidates_per_need=graph.max_candidates_per_need,
    )


def allocate(
    needs: Sequence[NeedItem],
    resources: Sequence[ResourceItem],
    taxonomy: Taxonomy,
    weights: Weights | None = None,
    *,
    max_candidates_per_need: int | None = DEFAULT_MAX_CANDIDATES,
    edge_budget: int | None = DEFAULT_EDGE_BUDGET,
    priority_step: float = DEFAULT_PRIORITY_STEP,
    as_of: date | None = None,
) -> Allocation:
    """Allocate needs to resources for a whole ambito (see module docstring)."""
    index = CandidateIndex(resources, taxonomy, as_of=as_of)
    graph = build_graph(
        needs,
        index,
        weights,
        max_candidates_per_need=max_candidates_per_need,
        edge_budget=edge_budget,
        priority_step=priority_step,
    )
    return allocate_graph(graph)
