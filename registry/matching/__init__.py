"""Matching engine: plain data in, plain data out (no database, no HTTP).

Typical use by the API layer::

    index = CandidateIndex(resources, taxonomy)          # once per ambito
    suggestions = suggest(need, index, Weights(), limit=10)
    allocation = allocate(needs, resources, taxonomy)    # batch, exact
"""

from .allocation import (
    COST_SCALE,
    DEFAULT_EDGE_BUDGET,
    DEFAULT_MAX_CANDIDATES,
    DEFAULT_PRIORITY_STEP,
    CandidateGraph,
    allocate,
    allocate_graph,
    build_graph,
    priority_factor,
    solve_min_cost_flow,
)
from .blocking import (
    EXCLUSION_REASONS_IT,
    CandidateIndex,
    exclusion_reason,
    is_compatible,
    suggest,
)
from .model import (
    COMPONENT_NAMES,
    Allocation,
    Component,
    Difference,
    NearMiss,
    NeedItem,
    ResourceItem,
    Suggestion,
    Taxonomy,
    Unassigned,
    WeeklyWindow,
    Weights,
)
from .near import NEAR_MISS_DAYS, NEAR_MISS_KM, NEAR_MISS_LIMIT, near_misses
from .reference import ReferenceSolution, solve_reference
from .scoring import score

__all__ = [
    "COMPONENT_NAMES",
    "COST_SCALE",
    "DEFAULT_EDGE_BUDGET",
    "DEFAULT_MAX_CANDIDATES",
    "DEFAULT_PRIORITY_STEP",
    "EXCLUSION_REASONS_IT",
    "NEAR_MISS_DAYS",
    "NEAR_MISS_KM",
    "NEAR_MISS_LIMIT",
    "Allocation",
    "CandidateGraph",
    "CandidateIndex",
    "Component",
    "Difference",
    "NearMiss",
    "NeedItem",
    "ReferenceSolution",
    "ResourceItem",
    "Suggestion",
    "Taxonomy",
    "Unassigned",
    "WeeklyWindow",
    "Weights",
    "allocate",
    "allocate_graph",
    "build_graph",
    "exclusion_reason",
    "is_compatible",
    "near_misses",
    "priority_factor",
    "score",
    "solve_min_cost_flow",
    "solve_reference",
    "suggest",
]
