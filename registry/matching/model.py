"""Plain data of the matching engine: what goes in and what comes out.

Everything here is a frozen dataclass so that the engine can never mutate the
caller's data and results can be cached, compared and hashed safely.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from types import MappingProxyType

from .geo import GeoPoint, check_point

MINUTES_PER_DAY = 1440
DAYS_PER_WEEK = 7


@dataclass(frozen=True, slots=True, order=True)
class WeeklyWindow:
    """A recurring weekly time window, minutes from midnight, end exclusive.

    A window never crosses midnight: split it into two windows instead, so
    that every window belongs to exactly one weekday.
    """

    weekday: int  # 0 = Monday ... 6 = Sunday, as datetime.date.weekday()
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday < DAYS_PER_WEEK:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(
                "need 0 <= start_minute < end_minute <= 1440, got "
                f"{self.start_minute}..{self.end_minute}"
            )

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute


def _frozen(value: Iterable[str]) -> frozenset[str]:
    # Callers (API layer) often hold lists; accept them but store frozensets.
    return value if isinstance(value, frozenset) else frozenset(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceItem:
    """One resource offered by a holder, as the engine sees it.

    `capacity` is the number of needs the resource can still take now
    (free places); every assigned need consumes one. `comuni` empty means the
    resource serves every comune of the ambito; `target_groups` empty means
    any target group. `home_comune` is where the resource is based (the
    holder's seat or the space's address), used only for proximity;
    `home_location` is that place as (lat, lon), e.g. the comune's centroid
    (None = unknown: proximity falls back to comuni, no distance rule);
    `home_comune_name` is that comune's name, for the explanations (empty =
    unknown: they show the code).
    """

    id: str
    holder_id: str
    holder_sector: str
    category: str
    comuni: frozenset[str]
    target_groups: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    clearances: frozenset[str] = frozenset()
    valid_from: date | None = None
    valid_until: date | None = None
    capacity: int = 1
    windows: tuple[WeeklyWindow, ...] = ()
    holder_load: int = 0
    holder_is_new: bool = False
    stale: bool = False
    home_comune: str | None = None
    home_location: GeoPoint | None = None
    home_comune_name: str = ""
    # Days since the holder last confirmed the resource (None = unknown) and the registry's
    # freshness settings: a reminder goes out after `remind_after_days`, and after
    # `stale_after_days` the resource is marked stale (which may not have happened yet).
    confirmed_days: int | None = None
    remind_after_days: int = 60
    stale_after_days: int = 90

    def __post_init__(self) -> None:
        for name in ("comuni", "target_groups", "languages", "clearances"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.home_location is not None:
            point = check_point(self.home_location, f"resource {self.id}")
            object.__setattr__(self, "home_location", point)
        if not isinstance(self.windows, tuple):
            object.__setattr__(self, "windows", tuple(self.windows))
        if self.capacity < 0:
            raise ValueError(f"resource {self.id}: capacity must be >= 0")
        if self.holder_load < 0:
            raise ValueError(f"resource {self.id}: holder_load must be >= 0")
        if not 0 < self.remind_after_days < self.stale_after_days:
            raise ValueError(f"resource {self.id}: need 0 < remind_after_days < stale_after_days")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_from > self.valid_until
        ):
            raise ValueError(f"resource {self.id}: valid_from after valid_until")


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedItem:
    """One need of a pseudonymised personalised plan.

    `languages` lists the languages the person can use (any one suffices;
    empty = no constraint, Italian assumed). `quantity_per_week_minutes` 0
    means "as much as the windows say". `plan_holder_ids` are the holders
    already engaged in the same plan (continuity). `location` is where the
    help is wanted as (lat, lon), e.g. the centroid of `comune`; with
    `max_distance_km`, a resource based farther than that is excluded
    (when either location is unknown the rule cannot apply and does not).
    `comune_name` is the name of `comune`, for the explanations (empty =
    unknown: they show the code).
    """

    id: str
    plan_id: str
    category: str
    comune: str
    target_group: str | None = None
    languages: frozenset[str] = frozenset()
    required_clearances: frozenset[str] = frozenset()
    start: date | None = None
    end: date | None = None
    quantity_per_week_minutes: int = 0
    windows: tuple[WeeklyWindow, ...] = ()
    plan_holder_ids: frozenset[str] = frozenset()
    priority: int = 3
    location: GeoPoint | None = None
    max_distance_km: float | None = None
    comune_name: str = ""

    def __post_init__(self) -> None:
        for name in ("languages", "required_clearances", "plan_holder_ids"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.location is not None:
            object.__setattr__(self, "location", check_point(self.location, f"need {self.id}"))
        if self.max_distance_km is not None:
            limit = float(self.max_distance_km)
            if not (math.isfinite(limit) and limit > 0):
                raise ValueError(f"need {self.id}: max_distance_km must be a positive number")
            object.__setattr__(self, "max_distance_km", limit)
        if not isinstance(self.windows, tuple):
            object.__setattr__(self, "windows", tuple(self.windows))
        if not 1 <= self.priority <= 5:
            raise ValueError(f"need {self.id}: priority must be 1..5")
        if self.quantity_per_week_minutes < 0:
            raise ValueError(f"need {self.id}: quantity_per_week_minutes must be >= 0")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"need {self.id}: start after end")


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """Category tree: code -> parent code (None for a root), plus labels.

    A code that is not in `parents` is treated as a root with no ancestors,
    so an unknown category still matches itself exactly.
    """

    parents: Mapping[str, str | None]
    labels: Mapping[str, str] = field(default_factory=dict)
    _ancestors: Mapping[str, tuple[str, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _children: Mapping[str, tuple[str, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        parents = MappingProxyType(dict(self.parents))
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))
        chains: dict[str, tuple[str, ...]] = {}
        for code in parents:
            chain: list[str] = []
            seen = {code}
            parent = parents[code]
            while parent is not None:
                if parent in seen:
                    raise ValueError(f"taxonomy cycle through {parent!r}")
                seen.add(parent)
                chain.append(parent)
                parent = parents.get(parent)
            chains[code] = tuple(chain)
        object.__setattr__(self, "_ancestors", MappingProxyType(chains))
        children: dict[str, list[str]] = {}
        for code in sorted(parents):
            parent = parents[code]
            if parent is not None:
                children.setdefault(parent, []).append(code)
        object.__setattr__(
            self, "_children", MappingProxyType({k: tuple(v) for k, v in children.items()})
        )
        # Content hash, so that equal taxonomies can key a cache of indexes.
        content = (frozenset(parents.items()), frozenset(self.labels.items()))
        object.__setattr__(self, "_hash", hash(content))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Taxonomy], tuple[dict[str, str | None], dict[str, str]]]:
        # Pickled as its two mappings (a matching run goes to a worker process); the
        # read-only views and the derived chains are rebuilt on the other side.
        return (Taxonomy, (dict(self.parents), dict(self.labels)))

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Ancestors of `code`, nearest first (parent, grandparent, ...)."""
        return self._ancestors.get(code, ())

    def distance(self, descendant: str, ancestor: str) -> int | None:
        """0 if equal, k if `ancestor` is k levels above, None if unrelated."""
        if descendant == ancestor:
            return 0
        chain = self.ancestors(descendant)
        for depth, code in enumerate(chain, start=1):
            if code == ancestor:
                return depth
        return None

    def children(self, code: str) -> tuple[str, ...]:
        """Direct children of `code`, in code order."""
        return self._children.get(code, ())

    def related(self, code: str) -> tuple[str, ...]:
        """Categories close to `code` that blocking does not accept: its children (more
        specific help, covering part of what is asked) and its siblings (same parent)."""
        parents = self.ancestors(code)
        siblings = () if not parents else self.children(parents[0])
        out = [c for c in (*self.children(code), *siblings) if c != code]
        return tuple(dict.fromkeys(out))

    def label(self, code: str) -> str:
        return self.labels.get(code, code)


@dataclass(frozen=True, slots=True)
class Weights:
    """Weights of the score components; the score is their weighted mean.

    Only ratios matter. Defaults favour what social workers said matters
    most: the right kind of help at the right time.
    """

    category_fit: float = 3.0
    schedule_overlap: float = 2.0
    capacity: float = 0.5
    proximity: float = 1.0
    language: float = 1.0
    continuity: float = 1.5
    load_spread: float = 1.0
    new_tie: float = 0.5
    freshness: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"weight {f.name} must be >= 0")
        if self.total <= 0:
            raise ValueError("at least one weight must be positive")

    @property
    def total(self) -> float:
        acc = 0.0
        for name in COMPONENT_NAMES:
            acc += getattr(self, name)
        return acc

    def items(self) -> tuple[tuple[str, float], ...]:
        """(component name, weight) in the canonical component order."""
        return tuple((name, getattr(self, name)) for name in COMPONENT_NAMES)


# Canonical component order: the order of Weights' fields.
COMPONENT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Weights))


@dataclass(frozen=True, slots=True)
class Component:
    """One term of a score: value in [0, 1], its weight and why (Italian)."""

    name: str
    value: float
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A resource proposed for a need. Never a match until a human accepts."""

    need_id: str
    resource_id: str
    holder_id: str
    score: float
    components: tuple[Component, ...]

    def component(self, name: str) -> Component:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def explanation(self) -> str:
        """All reasons, most influential first, for display."""
        ranked = sorted(self.components, key=lambda c: -c.weight * c.value)
        return "; ".join(c.reason for c in ranked if c.weight > 0)


@dataclass(frozen=True, slots=True)
class Difference:
    """What keeps a near miss out of the suggestions, and by how much.

    `code` is "category" (a related category; `amount` = taxonomy steps), "comune" (does
    not serve the need's comune; `amount` = km from it), "distance" (beyond the need's
    limit; `amount` = km beyond) or "period" (available only later; `amount` = days after
    the need's end). `reason` says it in Italian.
    """

    code: str
    amount: float
    unit: str
    reason: str


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A resource that nearly fits a need: one rule fails, by a little.

    Never a suggestion: shown apart, with what differs, for the social worker to judge.
    `suggestion` scores the pair as if it were compatible.
    """

    suggestion: Suggestion
    difference: Difference


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A need the batch allocation left without a resource, and why.

    `code` is "no_candidates" (nothing passes blocking) or
    "capacity_exhausted" (compatible resources went to other needs).
    """

    need_id: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Allocation:
    """Result of a batch allocation over an ambito.

    `total_score` sums the scores of the assigned suggestions; `objective`
    sums score x priority factor, the quantity actually maximised.
    """

    assignments: Mapping[str, Suggestion]
    unassigned: tuple[Unassigned, ...]
    total_score: float
    objective: float
    candidate_pairs: int
    graph_edges: int
    max_candidates_per_need: int | None
