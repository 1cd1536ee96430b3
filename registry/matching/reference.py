"""Exact reference solver, independent of the allocator: an LP with HiGHS.

maximise  sum_e objective_e * x_e
s.t.      sum of x_e over the edges of need n      <= 1          (each need)
          sum of x_e over the edges of resource r  <= capacity_r (each resource)
          0 <= x_e <= 1

The constraint matrix is the incidence matrix of a bipartite graph, which is
totally unimodular, so a basic optimal solution is integral: the LP optimum
is the b-matching optimum. It works on real-valued objectives (no integer
scaling), so it also bounds the allocator's rounding error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .allocation import CandidateGraph
from .blocking import BoolArray

INTEGRALITY_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True, eq=False)
class ReferenceSolution:
    objective: float
    chosen: BoolArray  # mask over graph edges


def solve_reference(graph: CandidateGraph) -> ReferenceSolution:
    """Optimal objective on `graph` by linear programming (HiGHS dual simplex)."""
    # Imported here: only tests and the benchmark need scipy at run time.
    from scipy.optimize import linprog
    from scipy.sparse import csr_array, vstack

    e = graph.edges
    if e == 0:
        return ReferenceSolution(objective=0.0, chosen=np.zeros(0, dtype=bool))
    need_nodes, need_row = np.unique(graph.need_idx, return_inverse=True)
    res_nodes, res_row = np.unique(graph.res_idx, return_inverse=True)
    cols = np.arange(e)
    ones = np.ones(e)
    a_needs = csr_array((ones, (need_row, cols)), shape=(len(need_nodes), e))
    a_res = csr_array((ones, (res_row, cols)), shape=(len(res_nodes), e))
    b = np.concatenate([np.ones(len(need_nodes)), graph.capacity[res_nodes].astype(np.float64)])
    result = linprog(
        -graph.objective,
        A_ub=vstack([a_needs, a_res], format="csr"),
        b_ub=b,
        bounds=(0, 1),
        method="highs-ds",  # simplex ends on a vertex, hence integral here
    )
    if result.status != 0:
        raise RuntimeError(f"reference LP failed: {result.message}")
    x = result.x
    if np.abs(x - np.rint(x)).max(initial=0.0) > INTEGRALITY_TOLERANCE:
        raise RuntimeError("reference LP returned a fractional vertex")
    chosen = np.rint(x) > 0
    return ReferenceSolution(objective=float(graph.objective[chosen].sum()), chosen=chosen)
