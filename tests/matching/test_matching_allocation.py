"""Suggestions and batch allocation: ranking, capacities, optimality against references."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from typing import Any

import numpy as np
import pytest

from registry.matching import (
    COST_SCALE,
    CandidateIndex,
    NeedItem,
    ResourceItem,
    Taxonomy,
    WeeklyWindow,
    Weights,
    allocate,
    allocate_graph,
    build_graph,
    is_compatible,
    priority_factor,
    score,
    solve_reference,
    suggest,
)

TAX = Taxonomy(
    parents={"A": None, "A.1": "A", "A.2": "A", "B": None, "B.1": "B"},
    labels={"A": "Accompagnamento", "A.1": "Visite", "A.2": "Spesa", "B": "Beni", "B.1": "Vestiti"},
)
W = Weights()


def res(id: str, **kw: Any) -> ResourceItem:
    base: dict[str, Any] = {
        "holder_id": f"H{id}",
        "holder_sector": "third_sector",
        "category": "A.1",
        "comuni": frozenset({"c1"}),
    }
    base.update(kw)
    return ResourceItem(id=id, **base)


def need(id: str, **kw: Any) -> NeedItem:
    base: dict[str, Any] = {"plan_id": f"P{id}", "category": "A.1", "comune": "c1"}
    base.update(kw)
    return NeedItem(id=id, **base)


def random_instance(
    rng: random.Random, n_res: int, n_needs: int
) -> tuple[list[ResourceItem], list[NeedItem]]:
    """Small, dense instances: few categories and comuni, tight capacities."""
    cats = ["A", "A.1", "A.2", "B.1"]
    comuni = ["c1", "c2"]

    def windows() -> tuple[WeeklyWindow, ...]:
        out = []
        for _ in range(rng.randint(0, 2)):
            s = rng.randrange(8, 18) * 60
            out.append(WeeklyWindow(rng.randrange(5), s, s + rng.choice([60, 90, 120, 240])))
        return tuple(out)

    resources = [
        res(
            f"R{i:02d}",
            holder_id=f"H{rng.randrange(4)}",
            category=rng.choice(cats),
            comuni=frozenset(rng.sample(comuni, rng.randint(0, 2))),
            target_groups=frozenset(rng.sample(["anziani", "minori"], rng.randint(0, 1))),
            languages=frozenset(rng.sample(["it", "ar", "fr"], rng.randint(0, 2))),
            clearances=frozenset(rng.sample(["minori"], rng.randint(0, 1))),
            capacity=rng.choice([0, 1, 1, 1, 2, 3]),
            windows=windows(),
            holder_load=rng.randrange(6),
            holder_is_new=rng.random() < 0.2,
            stale=rng.random() < 0.1,
            home_comune=rng.choice([None, *comuni]),
        )
        for i in range(n_res)
    ]
    needs = [
        need(
            f"N{i:02d}",
            category=rng.choice(["A.1", "A.2", "B.1"]),
            comune=rng.choice(comuni),
            target_group=rng.choice([None, "anziani", "minori"]),
            languages=frozenset(rng.sample(["ar", "fr"], rng.choice([0, 0, 0, 1]))),
            required_clearances=frozenset(rng.sample(["minori"], rng.choice([0, 0, 1]))),
            windows=windows(),
            quantity_per_week_minutes=rng.choice([0, 60, 120]),
            plan_holder_ids=frozenset(rng.sample(["H0", "H1", "H2", "H3"], rng.randint(0, 1))),
            priority=rng.randint(1, 5),
        )
        for i in range(n_needs)
    ]
    return resources, needs


def brute_force_optimum(resources: list[ResourceItem], needs: list[NeedItem]) -> float:
    """Enumerate every feasible assignment: the definition of the optimum."""
    options = []
    for n in needs:
        opts = [
            (r.id, score(n, r, W, TAX).score * priority_factor(n.priority))
            for r in resources
            if is_compatible(n, r, TAX)
        ]
        options.append(opts)
    left = {r.id: r.capacity for r in resources}
    best = 0.0

    def walk(i: int, total: float) -> None:
        nonlocal best
        if i == len(needs):
            best = max(best, total)
            return
        walk(i + 1, total)  # leave need i unassigned
        for rid, value in options[i]:
            if left[rid] > 0:
                left[rid] -= 1
                walk(i + 1, total + value)
                left[rid] += 1

    walk(0, 0.0)
    return best


def check_feasible(resources: list[ResourceItem], needs: list[NeedItem], allocation: Any) -> None:
    by_id = {r.id: r for r in resources}
    needs_by_id = {n.id: n for n in needs}
    used = Counter(s.resource_id for s in allocation.assignments.values())
    for rid, k in used.items():
        assert k <= by_id[rid].capacity
    for nid, s in allocation.assignments.items():
        assert s.need_id == nid
        assert is_compatible(needs_by_id[nid], by_id[s.resource_id], TAX)
    unassigned = [u.need_id for u in allocation.unassigned]
    assert len(set(unassigned)) == len(unassigned)
    assert set(unassigned).isdisjoint(allocation.assignments)
    assert set(unassigned) | set(allocation.assignments) == set(needs_by_id)


# --- suggest ---------------------------------------------------------------------------------


def test_suggest_ranks_by_score_then_id_and_limits() -> None:
    resources = [
        res("R3", holder_load=0),
        res("R1", holder_load=10),
        res("R2", holder_load=0),  # ties with R3: same score, lower id first
        res("R4", category="A"),  # ancestor: lower fit
        res("R5", category="B.1"),  # incompatible
    ]
    index = CandidateIndex(resources, TAX)
    out = suggest(need("N1"), index, W)
    assert [s.resource_id for s in out] == ["R2", "R3", "R1", "R4"]
    assert out[0].score == out[1].score
    assert all(a.score >= b.score for a, b in itertools.pairwise(out))
    assert [s.resource_id for s in suggest(need("N1"), index, W, limit=2)] == ["R2", "R3"]
    assert suggest(need("N1"), index, W, limit=0) == []
    for s in out:
        assert s == score(need("N1"), index.resource(s.resource_id), W, TAX)


def test_suggest_is_independent_of_input_order() -> None:
    rng = random.Random(3)
    resources, needs = random_instance(rng, 40, 10)
    shuffled = resources[:]
    rng.shuffle(shuffled)
    a, b = CandidateIndex(resources, TAX), CandidateIndex(shuffled, TAX)
    for n in needs:
        assert suggest(n, a, W, limit=5) == suggest(n, b, W, limit=5)


def test_suggest_limit_cuts_ties_by_id() -> None:
    index = CandidateIndex([res(f"R{i}") for i in range(9, 0, -1)], TAX)
    assert [s.resource_id for s in suggest(need("N1"), index, W, limit=3)] == ["R1", "R2", "R3"]


# --- allocate: hand-made cases ---------------------------------------------------------------


def test_capacity_is_respected_and_explained() -> None:
    resources = [res("R1", capacity=2)]
    needs = [need(f"N{i}") for i in range(3)]
    out = allocate(needs, resources, TAX, W)
    assert len(out.assignments) == 2
    assert [u.code for u in out.unassigned] == ["capacity_exhausted"]
    assert "L'unica risorsa compatibile è già assegnata" in out.unassigned[0].reason
    check_feasible(resources, needs, out)


def test_capped_graph_explains_the_cap() -> None:
    # Identical resources tie, so with a cap of 1 every need keeps only R1.
    resources = [res("R1", holder_id="H"), res("R2", holder_id="H")]
    needs = [need(f"N{i}") for i in range(3)]
    out = allocate(needs, resources, TAX, W, max_candidates_per_need=1)
    assert out.max_candidates_per_need == 1
    assert [s.resource_id for s in out.assignments.values()] == ["R1"]
    assert len(out.unassigned) == 2
    for u in out.unassigned:
        assert u.code == "capacity_exhausted"
        assert u.reason.startswith("Le migliori 1 delle 2 risorse compatibili")
    uncapped = allocate(needs, resources, TAX, W, max_candidates_per_need=None)
    assert uncapped.max_candidates_per_need is None
    assert sorted(s.resource_id for s in uncapped.assignments.values()) == ["R1", "R2"]


def test_optimum_beats_greedy() -> None:
    # N1 prefers R1 but can use R2 (ancestor category); N2 can only use R1
    # (it needs the clearance). Greedy by score would leave N2 without help.
    resources = [res("R1", clearances=frozenset({"minori"})), res("R2", category="A")]
    needs = [
        need("N1", priority=1),
        need("N2", priority=1, required_clearances=frozenset({"minori"})),
    ]
    n1_r1 = score(needs[0], resources[0], W, TAX).score
    n1_r2 = score(needs[0], resources[1], W, TAX).score
    assert n1_r1 > n1_r2
    out = allocate(needs, resources, TAX, W)
    assert {k: s.resource_id for k, s in out.assignments.items()} == {"N1": "R2", "N2": "R1"}
    assert out.unassigned == ()
    assert out.total_score == pytest.approx(n1_r2 + score(needs[1], resources[0], W, TAX).score)


def test_priority_wins_a_contested_resource() -> None:
    resources = [res("R1")]
    needs = [need("N1", priority=2), need("N2", priority=5)]
    out = allocate(needs, resources, TAX, W)
    assert list(out.assignments) == ["N2"]
    s = out.assignments["N2"].score
    assert out.objective == pytest.approx(s * 2.0)  # factor 1 + 0.25 * (5 - 1)
    assert out.total_score == pytest.approx(s)


def test_no_candidates_reason() -> None:
    out = allocate([need("N1", category="B.1")], [res("R1")], TAX, W)
    assert out.assignments == {}
    (u,) = out.unassigned
    assert (u.need_id, u.code) == ("N1", "no_candidates")
    assert "«Vestiti»" in u.reason


def test_duplicate_need_ids_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        allocate([need("N1"), need("N1")], [res("R1")], TAX, W)


def test_empty_inputs() -> None:
    out = allocate([], [], TAX, W)
    assert (out.assignments, out.unassigned, out.objective) == ({}, (), 0.0)
    out = allocate([need("N1")], [], TAX, W)
    assert [u.code for u in out.unassigned] == ["no_candidates"]


# --- allocate: optimality against independent references ------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_allocate_matches_brute_force_on_tiny_instances(seed: int) -> None:
    resources, needs = random_instance(random.Random(seed), 5, 6)
    out = allocate(needs, resources, TAX, W, max_candidates_per_need=None)
    check_feasible(resources, needs, out)
    expected = brute_force_optimum(resources, needs)
    assert out.objective == pytest.approx(expected, abs=len(needs) / COST_SCALE)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("cap", [None, 3])
def test_allocate_equals_lp_reference(seed: int, cap: int | None) -> None:
    resources, needs = random_instance(random.Random(100 + seed), 30, 60)
    index = CandidateIndex(resources, TAX)
    graph = build_graph(needs, index, W, max_candidates_per_need=cap)
    out = allocate_graph(graph)
    ref = solve_reference(graph)
    check_feasible(resources, needs, out)
    assert graph.edges > 0
    assert out.objective == pytest.approx(ref.objective, abs=len(needs) / COST_SCALE)
    # The reference's own solution is feasible too (an independent check of both).
    per_res = np.bincount(graph.res_idx[ref.chosen], minlength=len(index.resources))
    assert (per_res <= graph.capacity).all()
    assert np.bincount(graph.need_idx[ref.chosen], minlength=len(needs)).max(initial=0) <= 1


def test_cap_keeps_top_k_per_need() -> None:
    resources, needs = random_instance(random.Random(9), 40, 30)
    index = CandidateIndex(resources, TAX)
    full = build_graph(needs, index, W, max_candidates_per_need=None)
    capped = build_graph(needs, index, W, max_candidates_per_need=2)
    assert capped.max_candidates_per_need == 2
    assert capped.candidate_pairs == full.candidate_pairs == full.edges
    for row, n in enumerate(capped.needs):
        top = [index.resources[p].id for p in capped.res_idx[capped.need_idx == row]]
        assert top == [s.resource_id for s in suggest(n, index, W, limit=2)]


def test_edge_budget_lowers_the_cap_uniformly() -> None:
    resources, needs = random_instance(random.Random(5), 40, 40)
    index = CandidateIndex(resources, TAX)
    full = build_graph(needs, index, W, max_candidates_per_need=None, edge_budget=None)
    counts = np.bincount(full.need_idx, minlength=len(full.needs))
    assert full.max_candidates_per_need is None
    assert (full.candidate_counts == counts).all()
    budget = full.edges // 2
    # By hand: the largest k whose per-need truncation fits the budget.
    k = max(k for k in range(1, int(counts.max()) + 1) if np.minimum(counts, k).sum() <= budget)
    capped = build_graph(needs, index, W, max_candidates_per_need=None, edge_budget=budget)
    assert capped.max_candidates_per_need == k
    assert capped.edges == int(np.minimum(counts, k).sum()) <= budget
    assert capped.candidate_pairs == full.edges
    for row in range(len(capped.needs)):
        kept = capped.res_idx[capped.need_idx == row]
        assert list(kept) == list(full.res_idx[full.need_idx == row][:k])
    # A budget above the graph's size changes nothing.
    same = build_graph(needs, index, W, max_candidates_per_need=None, edge_budget=full.edges)
    assert same.max_candidates_per_need is None and same.edges == full.edges


def test_allocation_is_deterministic() -> None:
    rng = random.Random(42)
    resources, needs = random_instance(rng, 30, 60)
    first = allocate(needs, resources, TAX, W)
    rng.shuffle(resources)
    rng.shuffle(needs)
    again = allocate(needs, resources, TAX, W)
    assert first.assignments == again.assignments
    assert first.unassigned == again.unassigned
