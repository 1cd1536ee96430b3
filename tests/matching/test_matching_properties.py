"""Property tests: whatever the input, allocations are feasible and blocking is exact."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.matching import (
    COST_SCALE,
    CandidateIndex,
    NeedItem,
    ResourceItem,
    Taxonomy,
    WeeklyWindow,
    Weights,
    allocate_graph,
    build_graph,
    exclusion_reason,
    is_compatible,
    score,
    solve_reference,
    suggest,
)
from registry.matching.geo import distance_km

TAX = Taxonomy(parents={"A": None, "A.1": "A", "A.2": "A", "B": None, "B.1": "B"})
CATEGORIES = ["A", "A.1", "A.2", "B", "B.1", "X"]  # "X": not in the taxonomy
COMUNI = ["c1", "c2", "c3"]
DAY0 = date(2026, 1, 1)
# A few places a few km apart, so that distances repeat and limits can sit exactly on one.
PLACES = [(45.78613, 8.96987), (45.8358, 8.94427), (45.68663, 8.97791), (45.77, 9.0)]
LIMITS = sorted({round(distance_km(a, b), 1) for a in PLACES for b in PLACES if a != b})
EXACT = [distance_km(a, b) for a in PLACES for b in PLACES if a != b]


# Strategies are built once: building them inside draws dominates run time.
def small_set(values: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values), max_size=len(values))


windows = st.lists(
    st.builds(
        lambda d, s, length: WeeklyWindow(d, s, min(s + length, 1440)),
        st.integers(0, 6),
        st.integers(0, 1400),
        st.integers(1, 300),
    ),
    max_size=3,
).map(tuple)
maybe_day = st.none() | st.integers(0, 300).map(lambda d: DAY0 + timedelta(days=d))
maybe_length = st.none() | st.integers(0, 200)


def _period(start: date | None, length: int | None) -> tuple[date | None, date | None]:
    return start, None if length is None else (start or DAY0) + timedelta(days=length)


periods = st.builds(_period, maybe_day, maybe_length)


def _resource(
    i: int, fields: dict[str, Any], validity: tuple[date | None, date | None]
) -> ResourceItem:
    return ResourceItem(
        id=f"R{i}",
        holder_sector="third_sector",
        valid_from=validity[0],
        valid_until=validity[1],
        **fields,
    )


def _need(i: int, fields: dict[str, Any], period: tuple[date | None, date | None]) -> NeedItem:
    return NeedItem(id=f"N{i}", plan_id=f"P{i % 3}", start=period[0], end=period[1], **fields)


resource_fields = st.fixed_dictionaries(
    {
        "holder_id": st.sampled_from(["H0", "H1", "H2"]),
        "category": st.sampled_from(CATEGORIES),
        "comuni": small_set(COMUNI),
        "target_groups": small_set(["anziani", "minori"]),
        "languages": small_set(["it", "ar", "fr"]),
        "clearances": small_set(["minori", "patente"]),
        "capacity": st.integers(0, 3),
        "windows": windows,
        "holder_load": st.integers(0, 20),
        "holder_is_new": st.booleans(),
        "stale": st.booleans(),
        "home_comune": st.none() | st.sampled_from(COMUNI),
        "home_location": st.none() | st.sampled_from(PLACES),
    }
)
need_fields = st.fixed_dictionaries(
    {
        "category": st.sampled_from(CATEGORIES),
        "comune": st.sampled_from(COMUNI),
        "target_group": st.none() | st.sampled_from(["anziani", "minori", "altro"]),
        "languages": small_set(["ar", "fr", "xx"]),
        "required_clearances": small_set(["minori", "patente"]),
        "quantity_per_week_minutes": st.sampled_from([0, 30, 120, 600]),
        "windows": windows,
        "plan_holder_ids": small_set(["H0", "H1", "H9"]),
        "priority": st.integers(1, 5),
        "location": st.none() | st.sampled_from(PLACES),
        # Rounded limits fall between distances, exact ones on them (a tie must be kept).
        "max_distance_km": st.none() | st.sampled_from(LIMITS) | st.sampled_from(EXACT),
    }
)
resources = st.lists(st.tuples(resource_fields, periods), max_size=8).map(
    lambda xs: [_resource(i, f, p) for i, (f, p) in enumerate(xs)]
)
needs = st.lists(st.tuples(need_fields, periods), max_size=10).map(
    lambda xs: [_need(i, f, p) for i, (f, p) in enumerate(xs)]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rs=resources,
    ns=needs,
    cap=st.sampled_from([None, 1, 2]),
    budget=st.sampled_from([None, 3, 10]),
)
def test_allocation_is_always_feasible_and_optimal(
    rs: list[ResourceItem], ns: list[NeedItem], cap: int | None, budget: int | None
) -> None:
    index = CandidateIndex(rs, TAX)
    graph = build_graph(ns, index, Weights(), max_candidates_per_need=cap, edge_budget=budget)
    # The cap never cuts a need off entirely, and the budget holds when it can.
    assert (np.bincount(graph.need_idx, minlength=len(ns)) > 0).sum() == (
        graph.candidate_counts > 0
    ).sum()
    if budget is not None:
        assert graph.edges <= max(budget, int((graph.candidate_counts > 0).sum()))
    out = allocate_graph(graph)
    by_id = {r.id: r for r in rs}
    needs_by_id = {n.id: n for n in ns}

    # Each need at most once, and each need either assigned or explained.
    assert len(out.assignments) + len(out.unassigned) == len(ns)
    assert set(out.assignments).isdisjoint(u.need_id for u in out.unassigned)
    # Never beyond capacity.
    for rid, used in Counter(s.resource_id for s in out.assignments.values()).items():
        assert used <= by_id[rid].capacity
    # Never an incompatible pair.
    for nid, s in out.assignments.items():
        assert is_compatible(needs_by_id[nid], by_id[s.resource_id], TAX)
    # A need without compatible resources is reported as such.
    for u in out.unassigned:
        has_any = any(is_compatible(needs_by_id[u.need_id], r, TAX) for r in rs)
        assert u.code == ("capacity_exhausted" if has_any else "no_candidates")
    # Optimal on its graph, by the independent LP reference.
    assert abs(out.objective - solve_reference(graph).objective) <= len(ns) / COST_SCALE + 1e-9


@settings(max_examples=80, deadline=None)
@given(rs=resources, ns=needs)
def test_blocking_equals_definition_and_suggestions_are_ranked(
    rs: list[ResourceItem], ns: list[NeedItem]
) -> None:
    index = CandidateIndex(rs, TAX)
    for n in ns:
        expected = sorted(r.id for r in rs if is_compatible(n, r, TAX))
        assert [r.id for r in index.candidates(n)] == expected
        ranked = suggest(n, index, Weights(), limit=len(rs) + 1)
        assert sorted(s.resource_id for s in ranked) == expected
        keys = [(-s.score, s.resource_id) for s in ranked]
        assert keys == sorted(keys)
        # The vectorised scores are the scalar ones, bit for bit (distances included).
        _, positions, scores, _ = index.ranked([n], Weights(), None)
        for p, value in zip(positions, scores, strict=True):
            assert score(n, index.resources[p], Weights(), TAX).score == value
        # The reference's first failing rule is one the index also reports for the need.
        if not expected:
            reasons = {exclusion_reason(n, r, TAX) for r in rs}
            if "distance" in reasons:
                assert "troppo lontano" in index.explain_no_candidates(n)


# Resources and needs that pass every other rule most of the time, so that the distance
# rule and the distance-based proximity decide often (above, other rules mostly do).
near_resources = st.lists(
    st.fixed_dictionaries(
        {
            "holder_id": st.sampled_from(["H0", "H1"]),
            "category": st.sampled_from(["A", "A.1"]),
            "comuni": small_set(COMUNI[:2]),
            "capacity": st.integers(1, 2),
            "home_comune": st.none() | st.sampled_from(COMUNI),
            "home_location": st.none() | st.sampled_from(PLACES),
        }
    ),
    max_size=8,
).map(
    lambda xs: [
        ResourceItem(id=f"R{i}", holder_sector="third_sector", **f) for i, f in enumerate(xs)
    ]
)
near_needs = st.lists(
    st.fixed_dictionaries(
        {
            "category": st.just("A.1"),
            "comune": st.sampled_from(COMUNI[:2]),
            "location": st.none() | st.sampled_from(PLACES),
            "max_distance_km": st.none() | st.sampled_from(LIMITS) | st.sampled_from(EXACT),
            "priority": st.integers(1, 5),
        }
    ),
    max_size=6,
).map(lambda xs: [NeedItem(id=f"N{i}", plan_id="P0", **f) for i, f in enumerate(xs)])


@settings(max_examples=80, deadline=None)
@given(rs=near_resources, ns=near_needs)
def test_distance_rule_and_proximity_agree_on_both_paths(
    rs: list[ResourceItem], ns: list[NeedItem]
) -> None:
    index = CandidateIndex(rs, TAX)
    expected = {(n.id, r.id) for n in ns for r in rs if is_compatible(n, r, TAX)}
    rows, positions, scores, counts = index.ranked(ns, Weights(), None)
    got = {(ns[r].id, index.resources[p].id) for r, p in zip(rows, positions, strict=True)}
    assert got == expected
    assert counts.tolist() == [sum(1 for r in rs if is_compatible(n, r, TAX)) for n in ns]
    for r, p, value in zip(rows, positions, scores, strict=True):
        assert score(ns[r], index.resources[p], Weights(), TAX).score == value
    out = allocate_graph(build_graph(ns, index, Weights()))
    for nid, s in out.assignments.items():
        need = next(n for n in ns if n.id == nid)
        assert exclusion_reason(need, index.resource(s.resource_id), TAX) is None
