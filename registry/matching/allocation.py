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
forced into a match. Resource -> sink arcs carry the capacity. Integer
scaling by COST_SCALE changes the optimum by at most 0.5/COST_SCALE per
assigned need.

With `max_candidates_per_need` set, each need keeps only its top-k
candidates by score (the same ranking as `suggest`); the optimum is then
exact on that capped graph, which the benchmark states explicitly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from ortools.graph.python import min_cost_flow

from .blocking import BoolArray, CandidateIndex, FloatArray, IntArray
from .model import Allocation, NeedItem, ResourceItem, Suggestion, Taxonomy, Unassigned, Weights
from .scoring import score

DEFAULT_PRIORITY_STEP = 0.25
DEFAULT_MAX_CANDIDATES = 50
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
    max_candidates_per_need: int | None
    priority_step: float

    @property
    def edges(self) -> int:
        return len(self.need_idx)


def build_graph(
    needs: Iterable[NeedItem],
    index: CandidateIndex,
    weights: Weights | None = None,
    *,
    max_candidates_per_need: int | None = DEFAULT_MAX_CANDIDATES,
    priority_step: float = DEFAULT_PRIORITY_STEP,
) -> CandidateGraph:
    """Blocking + scoring for a whole set of needs, optionally capped at top-k."""
    w = weights or Weights()
    ordered = tuple(sorted(needs, key=lambda n: n.id))
    for a, b in itertools.pairwise(ordered):
        if a.id == b.id:
            raise ValueError(f"duplicate need id {a.id!r}")
    if max_candidates_per_need is not None and max_candidates_per_need < 1:
        raise ValueError("max_candidates_per_need must be >= 1 or None")
    need_idx, res_idx, scores, total = index.ranked(ordered, w, max_candidates_per_need)
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
        candidate_pairs=total,
        max_candidates_per_need=max_candidates_per_need,
        priority_step=priority_step,
    )


def solve_min_cost_flow(graph: CandidateGraph) -> BoolArray:
    """Exact b-matching on the graph; returns the mask of chosen edges."""
    e = graph.edges
    if e == 0:
        return np.zeros(0, dtype=bool)
    # Compact node numbering: needs and resources that have edges, then sink.
    need_nodes, need_local = np.unique(graph.need_idx, return_inverse=True)
    res_nodes, res_local = np.unique(graph.res_idx, return_inverse=True)
    n, r = len(need_nodes), len(res_nodes)
    sink = n + r
    degree = np.bincount(res_local, minlength=r)
    res_cap = np.minimum(graph.capacity[res_nodes], degree)

    flow = min_cost_flow.SimpleMinCostFlow()
    costs = -np.rint(graph.objective * COST_SCALE).astype(np.int64)
    edge_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        need_local.astype(np.int32),
        (n + res_local).astype(np.int32),
        np.ones(e, dtype=np.int64),
        costs,
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
            k = int(degree[row])
            what = "L'unica risorsa compatibile è" if k == 1 else f"Le {k} risorse compatibili sono"
            unassigned.append(
                Unassigned(
                    need.id,
                    "capacity_exhausted",
                    f"{what} già assegnat{'a' if k == 1 else 'e'} ad altri bisogni "
                    "con punteggio o priorità maggiore",
                )
            )
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
        priority_step=priority_step,
    )
    return allocate_graph(graph)
