"""Benchmark of the matching engine on a synthetic ambito.

    python bench/matching.py [--resources N --needs M --seed S --top-k K]

Times the batch (index, blocking + scoring + top-k cap, min-cost-flow
allocation with explanations), checks the allocation against the exact LP
reference (HiGHS) on the same capped graph, optionally against the optimum
of the uncapped graph, and measures per-need suggestion latency. Prints a
table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.matching import (
    DEFAULT_EDGE_BUDGET,
    DEFAULT_MAX_CANDIDATES,
    CandidateIndex,
    Weights,
    allocate_graph,
    build_graph,
    score,
    solve_min_cost_flow,
    solve_reference,
    suggest,
)
from registry.matching.synthetic import generate_ambito

T = TypeVar("T")


CPU_SECONDS: dict[str, float] = {}


def timed(fn: Callable[[], T], cpu_key: str | None = None) -> tuple[T, float]:
    """Wall time of fn(); with cpu_key, also its process CPU time (robust to a busy machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    if cpu_key is not None:
        CPU_SECONDS[cpu_key] = time.process_time() - cpu
    return result, time.perf_counter() - start


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--needs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--top-k",
        type=int,
        default=DEFAULT_MAX_CANDIDATES,
        help="fixed cap of candidates per need (default: none, only the edge budget); 0 = none",
    )
    parser.add_argument(
        "--edge-budget",
        type=int,
        default=DEFAULT_EDGE_BUDGET,
        help="lower the per-need cap until the graph fits this many edges; 0 = no budget",
    )
    parser.add_argument("--suggest-sample", type=int, default=1000)
    parser.add_argument(
        "--full-graph",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also solve the uncapped graph to measure what the cap costs (slow at default size)",
    )
    parser.add_argument("--skip-reference", action="store_true", help="skip the LP reference")
    args = parser.parse_args(argv)
    top_k = args.top_k or None
    budget = args.edge_budget or None
    weights = Weights()
    out: dict[str, Any] = {
        "resources": args.resources,
        "needs": args.needs,
        "seed": args.seed,
        "top_k_requested": top_k,
        "edge_budget": budget,
        "python": platform.python_version(),
    }

    amb, t_gen = timed(lambda: generate_ambito(args.resources, args.needs, args.seed))
    amb_need = {n.id: n for n in amb.needs}
    out["generate_s"] = t_gen
    gc.collect()
    out["rss_after_generation_mb"] = rss_mb()

    # --- batch: index, candidates + scores (capped), allocation -------------------------
    out["load_average_before"] = os.getloadavg()[0]
    index, t_index = timed(lambda: CandidateIndex(amb.resources, amb.taxonomy), "index")
    graph, t_graph = timed(
        lambda: build_graph(
            amb.needs, index, weights, max_candidates_per_need=top_k, edge_budget=budget
        ),
        "graph",
    )
    allocation, t_alloc = timed(lambda: allocate_graph(graph), "allocate")
    out.update(
        index_s=t_index,
        candidates_and_scores_s=t_graph,
        allocate_s=t_alloc,
        batch_total_s=t_index + t_graph + t_alloc,
        batch_cpu_s=sum(CPU_SECONDS.values()),
        peak_rss_after_batch_mb=peak_rss_mb(),
        candidate_pairs=graph.candidate_pairs,
        graph_edges=graph.edges,
        cap_applied=graph.max_candidates_per_need,
        eligible_resources=index.eligible_count,
        assigned=len(allocation.assignments),
        unassigned_no_candidates=sum(u.code == "no_candidates" for u in allocation.unassigned),
        unassigned_capacity=sum(u.code == "capacity_exhausted" for u in allocation.unassigned),
        objective=allocation.objective,
        total_score=allocation.total_score,
        mean_assigned_score=allocation.total_score / max(1, len(allocation.assignments)),
    )
    # Split of the allocation time, from separate runs of its two parts.
    _, out["min_cost_flow_s"] = timed(lambda: solve_min_cost_flow(graph))
    _, out["explanations_s"] = timed(
        lambda: [
            score(amb_need[nid], index.resource(s.resource_id), weights, amb.taxonomy)
            for nid, s in allocation.assignments.items()
        ]
    )
    # Blocking alone (no scoring), for the split candidates vs scores.
    counts, out["blocking_only_s"] = timed(lambda: index.candidate_counts(amb.needs))
    out["needs_without_candidates"] = int((counts == 0).sum())
    out["candidates_per_need_median"] = float(np.median(counts))
    out["candidates_per_need_max"] = int(counts.max(initial=0))
    assert int(counts.sum()) == graph.candidate_pairs  # both passes agree

    # --- exact reference on the same graph ------------------------------------------------
    if not args.skip_reference:
        ref, t_ref = timed(lambda: solve_reference(graph))
        out.update(
            reference_s=t_ref,
            reference_objective=ref.objective,
            ratio_to_reference=allocation.objective / ref.objective if ref.objective else 1.0,
        )

    # --- what the cap costs: optimum of the uncapped graph ----------------------------------
    if args.full_graph and graph.max_candidates_per_need is not None:
        full, t_full_graph = timed(
            lambda: build_graph(
                amb.needs, index, weights, max_candidates_per_need=None, edge_budget=None
            )
        )
        chosen, t_full_flow = timed(lambda: solve_min_cost_flow(full))
        full_objective = float(full.objective[chosen].sum())
        out.update(
            full_graph_edges=full.edges,
            full_graph_build_s=t_full_graph,
            full_graph_min_cost_flow_s=t_full_flow,
            full_graph_objective=full_objective,
            ratio_to_full_graph_optimum=allocation.objective / full_objective,
        )
        del full, chosen
        gc.collect()

    # --- per-need suggestion latency ---------------------------------------------------------
    rng = np.random.default_rng(args.seed)
    sample = [amb.needs[int(i)] for i in rng.choice(len(amb.needs), args.suggest_sample)]
    # A fresh index: the first pass also pays for building the cached cells.
    cold_index = CandidateIndex(amb.resources, amb.taxonomy)
    latencies: dict[str, list[float]] = {"cold": [], "warm": []}
    for label in ("cold", "warm"):
        for need in sample:
            _, dt = timed(lambda need=need: suggest(need, cold_index, weights, limit=10))
            latencies[label].append(dt * 1000)
    for label, values in latencies.items():
        out[f"suggest_{label}_median_ms"] = statistics.median(values)
        out[f"suggest_{label}_p95_ms"] = percentile(values, 95)
        out[f"suggest_{label}_max_ms"] = max(values)
    out["peak_rss_mb"] = peak_rss_mb()
    out["load_average_after"] = os.getloadavg()[0]

    print_table(out)
    print(json.dumps({k: round(v, 6) if isinstance(v, float) else v for k, v in out.items()}))
    return out


def print_table(o: dict[str, Any]) -> None:
    k = o["cap_applied"]
    cap = f"capped at top-{k} per need" if k else "uncapped: all compatible pairs"
    rows: list[tuple[str, str]] = [
        (
            "ambito",
            f"{o['resources']:,} resources ({o['eligible_resources']:,} eligible), "
            f"{o['needs']:,} needs, seed {o['seed']}",
        ),
        ("generate synthetic data", f"{o['generate_s']:.2f} s (not part of the batch)"),
        ("build index", f"{o['index_s']:.2f} s"),
        ("blocking only (separate pass)", f"{o['blocking_only_s']:.2f} s"),
        ("candidates + scores + cap", f"{o['candidates_and_scores_s']:.2f} s"),
        (
            "candidate pairs (compatible)",
            f"{o['candidate_pairs']:,} (per need: median "
            f"{o['candidates_per_need_median']:.0f}, max "
            f"{o['candidates_per_need_max']:,}; "
            f"{o['needs_without_candidates']:,} needs with none)",
        ),
        ("graph edges", f"{o['graph_edges']:,} ({cap})"),
        ("allocate (flow + explanations)", f"{o['allocate_s']:.2f} s"),
        ("  min-cost flow (separate run)", f"{o['min_cost_flow_s']:.2f} s"),
        ("  explanations (separate run)", f"{o['explanations_s']:.2f} s"),
        (
            "BATCH TOTAL",
            f"{o['batch_total_s']:.2f} s wall, {o['batch_cpu_s']:.2f} s CPU "
            f"(load average {o['load_average_before']:.1f} before)",
        ),
        (
            "assigned / no candidates / capacity",
            f"{o['assigned']:,} / {o['unassigned_no_candidates']:,} / {o['unassigned_capacity']:,}",
        ),
        ("objective (score x priority)", f"{o['objective']:.4f}"),
        ("mean score of assignments", f"{o['mean_assigned_score']:.4f}"),
    ]
    if "reference_objective" in o:
        rows += [
            (
                "exact LP (HiGHS) on same graph",
                f"{o['reference_s']:.2f} s, objective {o['reference_objective']:.4f}",
            ),
            ("allocation / exact optimum", f"{o['ratio_to_reference']:.9f} (same graph, {cap})"),
        ]
    if "full_graph_objective" in o:
        rows += [
            (
                "uncapped graph",
                f"{o['full_graph_edges']:,} edges, build "
                f"{o['full_graph_build_s']:.2f} s, flow "
                f"{o['full_graph_min_cost_flow_s']:.2f} s",
            ),
            ("allocation / uncapped optimum", f"{o['ratio_to_full_graph_optimum']:.9f}"),
        ]
    rows += [
        (
            "suggest latency, 1st pass",
            f"median {o['suggest_cold_median_ms']:.2f} ms, "
            f"p95 {o['suggest_cold_p95_ms']:.2f} ms, "
            f"max {o['suggest_cold_max_ms']:.2f} ms",
        ),
        (
            "suggest latency, 2nd pass",
            f"median {o['suggest_warm_median_ms']:.2f} ms, "
            f"p95 {o['suggest_warm_p95_ms']:.2f} ms, "
            f"max {o['suggest_warm_max_ms']:.2f} ms",
        ),
        ("RSS after generation", f"{o['rss_after_generation_mb']:.0f} MiB"),
        ("peak RSS after batch", f"{o['peak_rss_after_batch_mb']:.0f} MiB"),
        ("peak RSS overall", f"{o['peak_rss_mb']:.0f} MiB"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
