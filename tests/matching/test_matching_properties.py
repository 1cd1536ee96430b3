"""Property tests: whatever the input, allocations are feasible and blocking is exact."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

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
    is_compatible,
    solve_reference,
    suggest,
)

TAX = Taxonomy(parents={"A": None, "A.1": "A", "A.2": "A", "B": None, "B.1": "B"})
CATEGORIES = ["A", "A.1", "A.2", "B", "B.1", "X"]  # "X": not in the taxonomy
COMUNI = ["c1", "c2", "c3"]
DAY0 = date(2026, 1, 1)


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


@st.composite
def period(draw: st.DrawFn) -> tuple[date | None, date | None]:
    start = draw(st.none() | st.integers(0, 300).map(lambda d: DAY0 + timedelta(days=d)))
    length = draw(st.none() | st.integers(0, 200))
    end = None if length is None else (start or DAY0) + timedelta(days=length)
    return start, end


@st.composite
def resources(draw: st.DrawFn) -> list[ResourceItem]:
    n = draw(st.integers(0, 8))
    out = []
    for i in range(n):
        valid_from, valid_until = draw(period())
        out.append(
            ResourceItem(
                id=f"R{i}",
                holder_id=draw(st.sampled_from(["H0", "H1", "H2"])),
                holder_sector="third_sector",
                category=draw(st.sampled_from(CATEGORIES)),
                comuni=draw(small_set(COMUNI)),
                target_groups=draw(small_set(["anziani", "minori"])),
                languages=draw(small_set(["it", "ar", "fr"])),
                clearances=draw(small_set(["minori", "patente"])),
                valid_from=valid_from,
                valid_until=valid_until,
                capacity=draw(st.integers(0, 3)),
                windows=draw(windows),
                holder_load=draw(st.integers(0, 20)),
                holder_is_new=draw(st.booleans()),
                stale=draw(st.booleans()),
                home_comune=draw(st.none() | st.sampled_from(COMUNI)),
            )
        )
    return out


@st.composite
def needs(draw: st.DrawFn) -> list[NeedItem]:
    n = draw(st.integers(0, 10))
    out = []
    for i in range(n):
        start, end = draw(period())
        out.append(
            NeedItem(
                id=f"N{i}",
                plan_id=f"P{i % 3}",
                category=draw(st.sampled_from(CATEGORIES)),
                comune=draw(st.sampled_from(COMUNI)),
                target_group=draw(st.none() | st.sampled_from(["anziani", "minori", "altro"])),
                languages=draw(small_set(["ar", "fr", "xx"])),
                required_clearances=draw(small_set(["minori", "patente"])),
                start=start,
                end=end,
                quantity_per_week_minutes=draw(st.sampled_from([0, 30, 120, 600])),
                windows=draw(windows),
                plan_holder_ids=draw(small_set(["H0", "H1", "H9"])),
                priority=draw(st.integers(1, 5)),
            )
        )
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rs=resources(), ns=needs(), cap=st.sampled_from([None, 1, 2]))
def test_allocation_is_always_feasible_and_optimal(
    rs: list[ResourceItem], ns: list[NeedItem], cap: int | None
) -> None:
    index = CandidateIndex(rs, TAX)
    graph = build_graph(ns, index, Weights(), max_candidates_per_need=cap)
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


@settings(max_examples=150, deadline=None)
@given(rs=resources(), ns=needs())
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
