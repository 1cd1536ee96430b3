"""Candidate generation by blocking, and the vectorised batch scorer.

Blocking rules (a pair is compatible when all hold; `exclusion_reason` is the
reference definition, `CandidateIndex` the fast implementation):

1. the resource is not stale and has capacity > 0 (and, if `as_of` is given,
   its validity has not ended before `as_of`);
2. category: the resource's category is the need's or one of its taxonomy
   ancestors (a more general resource can serve a specific need, with a
   lower category fit); a resource in a *child* category does not serve a
   more general need, because it covers only part of what is asked;
3. the resource serves the need's comune (empty `comuni` = whole ambito);
   and, if the need has a `max_distance_km` and both the need's location and
   the resource's `home_location` are known, the resource is based within
   that great-circle distance (geo.distance_km);
4. target group: the need has none, the resource accepts any, or it lists it;
5. the resource holds every clearance the need requires;
6. validity periods overlap (open ends are unbounded).

Language is not a rule: it is a weighted score component (a resource sharing no
language with the person ranks lower, and its reason says so), as the design asks.

The index keys resources by (category, comune served), so a need looks only
at the cells of its own category and ancestors in its own comune (plus
whole-ambito resources): all pairs are never scored. Scores for a whole block
of needs sharing a cell are then computed at once with numpy, using exactly
the floating-point operations of `scoring.score`. Distances (max-distance
rule, proximity) are computed once per (need location, distinct resource
location) by the scalar function the reference uses, so both paths compare
and add the very same floats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from registry.italian import count, number

from .geo import GeoPoint, comune_it, distance_km
from .model import NeedItem, ResourceItem, Suggestion, Taxonomy, Weights
from .schedule import normalise, total_minutes
from .scoring import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NO_ITALIAN,
    NEUTRAL_SCHEDULE,
    PROXIMITY_ELSEWHERE,
    capacity_value,
    category_fit_value,
    freshness_value,
    load_spread_value,
    proximity_value,
    score,
)

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

ANY_COMUNE = "*"  # cell key of resources that serve the whole ambito
# Elements (needs x candidates) scored per numpy block: bounds temporaries
# to a few MB each while keeping per-call overhead negligible.
BLOCK_ELEMENTS = 1 << 20
_DATE_MIN = date.min.toordinal()
_DATE_MAX = date.max.toordinal()

EXCLUSION_REASONS_IT: dict[str, str] = {
    "stale": "dati della risorsa non aggiornati",
    "no_capacity": "nessun posto disponibile",
    "expired": "validità scaduta",
    "category": "categoria diversa",
    "comune": "non serve il comune",
    "distance": "troppo lontano",
    "target_group": "destinatari diversi",
    "clearances": "requisiti mancanti",
    "validity": "periodo di validità non compatibile",
}


def _periods_overlap(need: NeedItem, resource: ResourceItem) -> bool:
    starts_in_time = (
        resource.valid_from is None or need.end is None or resource.valid_from <= need.end
    )
    lasts_enough = (
        resource.valid_until is None or need.start is None or need.start <= resource.valid_until
    )
    return starts_in_time and lasts_enough


def too_far(need: NeedItem, resource: ResourceItem) -> bool:
    """The max-distance rule; it cannot apply, hence holds, when a location is unknown."""
    if need.max_distance_km is None or need.location is None or resource.home_location is None:
        return False
    return distance_km(need.location, resource.home_location) > need.max_distance_km


def exclusion_reason(
    need: NeedItem, resource: ResourceItem, taxonomy: Taxonomy, as_of: date | None = None
) -> str | None:
    """The first blocking rule the pair fails (a key of EXCLUSION_REASONS_IT), or None."""
    if resource.stale:
        return "stale"
    if resource.capacity <= 0:
        return "no_capacity"
    if as_of is not None and resource.valid_until is not None and resource.valid_until < as_of:
        return "expired"
    if taxonomy.distance(need.category, resource.category) is None:
        return "category"
    if resource.comuni and need.comune not in resource.comuni:
        return "comune"
    if too_far(need, resource):
        return "distance"
    if (
        need.target_group is not None
        and resource.target_groups
        and need.target_group not in resource.target_groups
    ):
        return "target_group"
    if not need.required_clearances <= resource.clearances:
        return "clearances"
    if not _periods_overlap(need, resource):
        return "validity"
    return None


def is_compatible(
    need: NeedItem, resource: ResourceItem, taxonomy: Taxonomy, as_of: date | None = None
) -> bool:
    """Reference definition of compatibility (what blocking must keep)."""
    return exclusion_reason(need, resource, taxonomy, as_of) is None


class _Vocab:
    """Codes -> bit positions, for set tests as bitwise ANDs on uint64 words."""

    def __init__(self, sets: Iterable[Iterable[str]]) -> None:
        codes = sorted(set().union(*sets))
        self.bit = {c: i for i, c in enumerate(codes)}
        self.words = max(1, (len(codes) + 63) // 64)

    def encode(self, sets: Sequence[Iterable[str]]) -> npt.NDArray[np.uint64]:
        # Few distinct sets recur across thousands of items: pack each once.
        memo: dict[Iterable[str], int] = {}
        packed_rows = []
        for codes in sets:
            packed = memo.get(codes)
            if packed is None:
                packed = 0
                for c in codes:
                    bit = self.bit.get(c)
                    if bit is not None:
                        packed |= 1 << bit
                memo[codes] = packed
            packed_rows.append(packed)
        mask = 0xFFFFFFFFFFFFFFFF
        if self.words == 1:
            return np.array(packed_rows, dtype=np.uint64).reshape(-1, 1)
        return np.array(
            [[(p >> (64 * w)) & mask for w in range(self.words)] for p in packed_rows],
            dtype=np.uint64,
        ).reshape(-1, self.words)

    def knows_all(self, codes: Iterable[str]) -> bool:
        return all(c in self.bit for c in codes)


def _any_common(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> BoolArray:
    """(G, C) mask: row set of `a` and column set of `b` intersect."""
    if a.shape[1] == 1:
        return (a[:, 0, None] & b[None, :, 0]) != 0
    return ((a[:, None, :] & b[None, :, :]) != 0).any(axis=2)


def _subset(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> BoolArray:
    """(G, C) mask: row set of `a` is contained in column set of `b`."""
    if a.shape[1] == 1:
        return (a[:, 0, None] & ~b[None, :, 0]) == 0
    return ((a[:, None, :] & ~b[None, :, :]) == 0).all(axis=2)


def _pad_windows(
    intervals: Sequence[tuple[tuple[int, int], ...]],
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16], IntArray]:
    """Padded (N, W) minute-of-week starts/ends; padding (0, 0) never overlaps."""
    counts = np.fromiter((len(iv) for iv in intervals), dtype=np.int64, count=len(intervals))
    width = max(1, int(counts.max()) if len(counts) else 1)
    starts = np.zeros((len(intervals), width), dtype=np.int16)
    ends = np.zeros((len(intervals), width), dtype=np.int16)
    flat = [span for iv in intervals for span in iv]
    if flat:
        # One scatter instead of a numpy assignment per interval.
        rows = np.repeat(np.arange(len(intervals)), counts)
        cols = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
        spans = np.array(flat, dtype=np.int16)
        starts[rows, cols] = spans[:, 0]
        ends[rows, cols] = spans[:, 1]
    return starts, ends, counts


@dataclass(frozen=True, slots=True)
class _Group:
    """Candidate columns shared by all needs of one (category, comune)."""

    idx: IntArray  # resource positions, ascending (= resource id order)
    fit: FloatArray  # category fit per column
    proximity: FloatArray  # proximity per column
    distance: FloatArray  # km from the need's location per column; NaN = unknown
    # Columns reordered by window count, descending, so that the overlap of
    # the b-th windows touches only a prefix of columns (no padding work).
    win_inverse: IntArray  # sorted column -> original column
    win_counts: IntArray  # window counts in sorted order
    win_start: npt.NDArray[np.int16]  # (C, W) in sorted order
    win_end: npt.NDArray[np.int16]


class _NeedArrays:
    """Column-wise encoding of a list of needs against an index's vocabularies."""

    def __init__(self, index: CandidateIndex, needs: Sequence[NeedItem]) -> None:
        self.needs = needs
        n = len(needs)
        tg_sets = [() if nd.target_group is None else (nd.target_group,) for nd in needs]
        self.has_tg = np.array([nd.target_group is not None for nd in needs], dtype=bool)
        self.tg_bits = index._tg_vocab.encode(tg_sets)
        self.clr_bits = index._clr_vocab.encode([nd.required_clearances for nd in needs])
        # A clearance no resource holds can never be satisfied.
        self.clr_impossible = np.array(
            [not index._clr_vocab.knows_all(nd.required_clearances) for nd in needs], dtype=bool
        )
        self.lang_bits = index._lang_vocab.encode([nd.languages for nd in needs])
        self.has_lang = np.array([bool(nd.languages) for nd in needs], dtype=bool)
        # +inf: no limit (nothing is farther); a NaN distance (unknown) compares False too.
        self.max_km = np.array(
            [np.inf if nd.max_distance_km is None else nd.max_distance_km for nd in needs],
            dtype=np.float64,
        )
        self.start = np.array(
            [_DATE_MIN if nd.start is None else nd.start.toordinal() for nd in needs],
            dtype=np.int64,
        )
        self.end = np.array(
            [_DATE_MAX if nd.end is None else nd.end.toordinal() for nd in needs], dtype=np.int64
        )
        intervals = [normalise(nd.windows) for nd in needs]
        self.win_start, self.win_end, self.win_count = _pad_windows(intervals)
        required = np.zeros(n, dtype=np.int64)
        for row, (nd, iv) in enumerate(zip(needs, intervals, strict=True)):
            window_total = total_minutes(iv)
            q = nd.quantity_per_week_minutes
            required[row] = min(q, window_total) if q > 0 else window_total
        self.required = required
        self.plan_holders: list[IntArray | None] = []
        for nd in needs:
            known = [index._holder_id[h] for h in nd.plan_holder_ids if h in index._holder_id]
            self.plan_holders.append(np.array(sorted(known), dtype=np.int64) if known else None)


class CandidateIndex:
    """Resources indexed by (category, comune served), built once per ambito.

    Resources are kept sorted by id, so "lower position" means "lower id":
    every tie in the engine is broken by resource id, deterministically.
    """

    def __init__(
        self,
        resources: Iterable[ResourceItem],
        taxonomy: Taxonomy,
        *,
        as_of: date | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.as_of = as_of
        self.resources: tuple[ResourceItem, ...] = tuple(sorted(resources, key=lambda r: r.id))
        self._position: dict[str, int] = {}
        for pos, r in enumerate(self.resources):
            if r.id in self._position:
                raise ValueError(f"duplicate resource id {r.id!r}")
            self._position[r.id] = pos
        res = self.resources
        as_of_day = as_of
        cells: dict[tuple[str, str], list[int]] = {}
        comune_id: dict[str, int] = {}
        holder_id: dict[str, int] = {}
        location_id: dict[GeoPoint, int] = {}
        home: list[int] = []
        home_location: list[int] = []
        single: list[int] = []
        holder: list[int] = []
        lang_default: list[float] = []
        valid_from: list[int] = []
        valid_until: list[int] = []
        intervals: list[tuple[tuple[int, int], ...]] = []
        capacity_values: list[float] = []
        load_values: list[float] = []
        new_tie_values: list[float] = []
        freshness_values: list[float] = []
        eligible_count = 0
        # One pass over the resources: this constructor runs on every ambito
        # refresh, and separate comprehensions cost a pass each.
        for pos, r in enumerate(res):
            if not (
                r.stale
                or r.capacity <= 0
                or (
                    as_of_day is not None
                    and r.valid_until is not None
                    and r.valid_until < as_of_day
                )
            ):
                eligible_count += 1
                for comune in r.comuni or (ANY_COMUNE,):
                    key = (r.category, comune)
                    cell = cells.get(key)
                    if cell is None:
                        cells[key] = [pos]
                    else:
                        cell.append(pos)
            for c in r.comuni:
                if c not in comune_id:
                    comune_id[c] = len(comune_id)
            if r.home_comune is None:
                home.append(-1)
            else:
                home.append(comune_id.setdefault(r.home_comune, len(comune_id)))
            if r.home_location is None:
                home_location.append(-1)
            else:
                home_location.append(location_id.setdefault(r.home_location, len(location_id)))
            single.append(comune_id[next(iter(r.comuni))] if len(r.comuni) == 1 else -1)
            holder.append(holder_id.setdefault(r.holder_id, len(holder_id)))
            lang_default.append(
                1.0 if not r.languages or DEFAULT_LANGUAGE in r.languages else LANGUAGE_NO_ITALIAN
            )
            valid_from.append(_DATE_MIN if r.valid_from is None else r.valid_from.toordinal())
            valid_until.append(_DATE_MAX if r.valid_until is None else r.valid_until.toordinal())
            intervals.append(normalise(r.windows))
            # Per-resource component values, computed by the scalar definitions.
            capacity_values.append(capacity_value(r.capacity))
            load_values.append(load_spread_value(r.holder_load))
            new_tie_values.append(1.0 if r.holder_is_new else 0.0)
            freshness_values.append(
                freshness_value(r.confirmed_days, r.remind_after_days, r.stale_after_days)
            )
        self.eligible_count = eligible_count
        # Positions were appended in ascending order, so every cell is sorted.
        self._cells = {k: np.array(v, dtype=np.int64) for k, v in cells.items()}
        self._groups: dict[tuple[str, str], _Group] = {}
        self._by_category: dict[str, list[int]] | None = None
        self._comune_id = comune_id
        self._holder_id = holder_id
        self._home = np.array(home, dtype=np.int64)
        # Distinct resource locations (a few dozen comuni, however many resources).
        self._locations: tuple[GeoPoint, ...] = tuple(location_id)
        self._home_location = np.array(home_location, dtype=np.int64)
        self._by_location: dict[GeoPoint, tuple[FloatArray, FloatArray]] = {}
        self._single = np.array(single, dtype=np.int64)
        self._holder = np.array(holder, dtype=np.int64)

        tg_sets = [r.target_groups for r in res]
        self._tg_vocab = _Vocab(tg_sets)
        self._tg_bits = self._tg_vocab.encode(tg_sets)
        self._tg_any = np.array([not s for s in tg_sets], dtype=bool)
        clr_sets = [r.clearances for r in res]
        self._clr_vocab = _Vocab(clr_sets)
        self._clr_bits = self._clr_vocab.encode(clr_sets)
        lang_sets = [r.languages for r in res]
        self._lang_vocab = _Vocab(lang_sets)
        self._lang_bits = self._lang_vocab.encode(lang_sets)
        self._lang_default = np.array(lang_default, dtype=np.float64)
        self._from = np.array(valid_from, dtype=np.int64)
        self._until = np.array(valid_until, dtype=np.int64)
        self._win_start, self._win_end, self._win_count = _pad_windows(intervals)
        self._capacity_value = np.array(capacity_values, dtype=np.float64)
        self._load_value = np.array(load_values, dtype=np.float64)
        self._new_tie_value = np.array(new_tie_values, dtype=np.float64)
        self._freshness_value = np.array(freshness_values, dtype=np.float64)
        self._capacity = np.array([r.capacity for r in res], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.resources)

    def eligible_of_categories(self, categories: Iterable[str]) -> list[ResourceItem]:
        """Resources past rule 1 (fresh, with capacity, not expired) in any of `categories`,
        whatever comuni they serve, in id order (for near misses: a few hundred at most)."""
        by_category = self._by_category
        if by_category is None:
            grouped: dict[str, set[int]] = {}
            for (category, _), cell in self._cells.items():
                grouped.setdefault(category, set()).update(cell.tolist())
            by_category = {k: sorted(v) for k, v in grouped.items()}
            self._by_category = by_category
        positions: set[int] = set()
        for category in categories:
            positions.update(by_category.get(category, ()))
        return [self.resources[p] for p in sorted(positions)]

    def resource(self, resource_id: str) -> ResourceItem:
        return self.resources[self._position[resource_id]]

    def position(self, resource_id: str) -> int:
        return self._position[resource_id]

    def _from_location(self, point: GeoPoint) -> tuple[FloatArray, FloatArray]:
        """(km, proximity value) from `point` to each distinct resource location."""
        cached = self._by_location.get(point)
        if cached is None:
            # Scalar calls on purpose: the same floats as the reference definitions.
            km = [distance_km(point, there) for there in self._locations]
            cached = (
                np.array(km, dtype=np.float64),
                np.array([proximity_value(d) for d in km], dtype=np.float64),
            )
            self._by_location[point] = cached
        return cached

    def _group(self, category: str, comune: str, location: GeoPoint | None = None) -> _Group:
        key = (category, comune, location)
        cached = self._groups.get(key)
        if cached is not None:
            return cached
        parts: list[IntArray] = []
        fits: list[FloatArray] = []
        for depth, cat in enumerate((category, *self.taxonomy.ancestors(category))):
            for where in (comune, ANY_COMUNE):
                cell = self._cells.get((cat, where))
                if cell is not None:
                    parts.append(cell)
                    fits.append(np.full(len(cell), category_fit_value(depth)))
        if parts:
            idx = np.concatenate(parts)
            order = np.argsort(idx, kind="stable")
            idx = idx[order]
            fit = np.concatenate(fits)[order]
        else:
            idx = np.zeros(0, dtype=np.int64)
            fit = np.zeros(0, dtype=np.float64)
        cid = self._comune_id.get(comune, -2)  # -2: matches no base
        home = self._home[idx]
        local = (home == cid) | ((home == -1) & (self._single[idx] == cid))
        proximity = np.where(local, 1.0, PROXIMITY_ELSEWHERE)
        distance = np.full(len(idx), np.nan)
        loc = self._home_location[idx]
        known = loc >= 0
        if location is not None and known.any():
            km, value = self._from_location(location)
            distance[known] = km[loc[known]]
            # Every column serves the need's comune, so scoring._proximity's distance
            # branch applies to each column with a known base that is not local.
            far = known & ~local
            proximity[far] = value[loc[far]]
        counts = self._win_count[idx]
        perm = np.argsort(-counts, kind="stable")
        width = max(1, int(counts.max(initial=0)))
        group = _Group(
            idx=idx,
            fit=fit,
            proximity=proximity,
            distance=distance,
            win_inverse=np.argsort(perm),
            win_counts=counts[perm],
            win_start=self._win_start[idx[perm], :width],
            win_end=self._win_end[idx[perm], :width],
        )
        self._groups[key] = group
        return group

    def _masks(self, nb: _NeedArrays, rows: IntArray, group: _Group) -> list[tuple[str, BoolArray]]:
        """Per-rule (G, C) masks for the distance rule and rules 4-6, in the order of
        `exclusion_reason` (the distance mask only when one of the rows has a limit)."""
        c = group.idx
        masks: list[tuple[str, BoolArray]] = []
        limits = nb.max_km[rows]
        if np.isfinite(limits).any():
            # Not `<=`: an unknown (NaN) distance must pass, and NaN > x is False.
            masks.append(("distance", ~(group.distance[None, :] > limits[:, None])))
        tg = _any_common(nb.tg_bits[rows], self._tg_bits[c])
        tg |= self._tg_any[c][None, :]
        tg |= ~nb.has_tg[rows][:, None]
        clr = _subset(nb.clr_bits[rows], self._clr_bits[c])
        clr &= ~nb.clr_impossible[rows][:, None]
        validity = (self._from[c][None, :] <= nb.end[rows][:, None]) & (
            self._until[c][None, :] >= nb.start[rows][:, None]
        )
        masks += [
            ("target_group", tg),
            ("clearances", clr),
            ("validity", validity),
        ]
        return masks

    def _score_block(
        self, nb: _NeedArrays, rows: IntArray, group: _Group, weights: Weights
    ) -> tuple[BoolArray, FloatArray]:
        """(valid, score) for needs `rows` x the group's columns."""
        c = group.idx
        masks = self._masks(nb, rows, group)
        valid = masks[0][1]
        for _, m in masks[1:]:
            valid &= m

        g = len(rows)
        # Schedule value per pair, computed in place to limit full-size passes.
        row_counts = nb.win_count[rows]
        col_has = self._win_count[c] > 0
        if row_counts.any() and col_has.any():
            required = np.maximum(nb.required[rows], 1)[:, None]
            acc = np.divide(_overlap(nb, rows, row_counts, group), required)
            np.minimum(acc, 1.0, out=acc)
            acc[row_counts == 0, :] = NEUTRAL_SCHEDULE
            acc[:, ~col_has] = NEUTRAL_SCHEDULE
        else:
            acc = np.full((g, len(c)), NEUTRAL_SCHEDULE)

        # Same order and operations as scoring.score (ACCUMULATION_ORDER), for
        # bit-identical floats: resource-only terms once per column first.
        # (IEEE addition is commutative, so w*sched + col == col + w*sched.)
        w = weights
        col = w.category_fit * group.fit
        col = col + w.capacity * self._capacity_value[c]
        col = col + w.proximity * group.proximity
        col = col + w.load_spread * self._load_value[c]
        col = col + w.new_tie * self._new_tie_value[c]
        col = col + w.freshness * self._freshness_value[c]
        acc *= w.schedule_overlap
        acc += col[None, :]

        lang_rows = np.flatnonzero(nb.has_lang[rows])
        before = acc[lang_rows]
        acc += (w.language * self._lang_default[c])[None, :]
        if len(lang_rows):
            # Needs that list languages: 1 if one is shared, else 0.
            shared = _any_common(nb.lang_bits[rows[lang_rows]], self._lang_bits[c])
            acc[lang_rows] = before + w.language * np.where(shared, 1.0, 0.0)

        # Continuity is 0 for most pairs and x + 0.0 == x, so only the pairs
        # whose holder is already in the plan need an addition.
        holders = self._holder[c]
        for i, r in enumerate(rows):
            plan = nb.plan_holders[r]
            if plan is not None:
                for h in plan:
                    acc[i, holders == h] += w.continuity * 1.0
        acc /= w.total
        return valid, acc

    def _chunks(self, nb: _NeedArrays) -> Iterable[tuple[IntArray, _Group]]:
        """Needs of `nb` grouped by (category, comune, location), in chunks of bounded size."""
        by_key: dict[tuple[str, str, GeoPoint | None], list[int]] = {}
        for row, nd in enumerate(nb.needs):
            by_key.setdefault((nd.category, nd.comune, nd.location), []).append(row)
        # Deterministic order; None and tuples do not compare, hence the key.
        for key in sorted(by_key, key=lambda k: (k[0], k[1], k[2] is not None, k[2] or ())):
            group = self._group(*key)
            all_rows = np.array(by_key[key], dtype=np.int64)
            if len(group.idx) == 0:
                continue
            step = max(1, BLOCK_ELEMENTS // len(group.idx))
            for lo in range(0, len(all_rows), step):
                yield all_rows[lo : lo + step], group

    def candidate_counts(self, needs: Sequence[NeedItem]) -> IntArray:
        """Number of compatible resources per need (blocking only, no scoring)."""
        nb = _NeedArrays(self, needs)
        counts = np.zeros(len(needs), dtype=np.int64)
        for rows, group in self._chunks(nb):
            masks = self._masks(nb, rows, group)
            valid = masks[0][1]
            for _, m in masks[1:]:
                valid &= m
            counts[rows] = valid.sum(axis=1)
        return counts

    def candidates(self, need: NeedItem) -> list[ResourceItem]:
        """Every compatible resource for `need`, in id order."""
        nb = _NeedArrays(self, [need])
        group = self._group(need.category, need.comune, need.location)
        if len(group.idx) == 0:
            return []
        masks = self._masks(nb, np.zeros(1, dtype=np.int64), group)
        valid = masks[0][1][0]
        for _, m in masks[1:]:
            valid &= m[0]
        return [self.resources[p] for p in group.idx[valid]]

    def explain_no_candidates(self, need: NeedItem) -> str:
        """Why blocking leaves `need` empty-handed, in Italian, with counts."""
        label = self.taxonomy.label(need.category)
        group = self._group(need.category, need.comune, need.location)
        where = f"nel comune di {comune_it(need.comune, need.comune_name)}"
        if len(group.idx) == 0:
            categories = (need.category, *self.taxonomy.ancestors(need.category))
            if not self.eligible_of_categories(categories):
                # Not this comune's problem: the whole ambito lacks the category.
                where = "nell'ambito"
            return (
                f"Nessuna risorsa attiva della categoria «{label}» (o più generale) "
                f"disponibile {where}"
            )
        nb = _NeedArrays(self, [need])
        alive = np.ones(len(group.idx), dtype=bool)
        parts = []
        for name, m in self._masks(nb, np.zeros(1, dtype=np.int64), group):
            dropped = int((alive & ~m[0]).sum())
            alive &= m[0]
            if dropped:
                parts.append((dropped, EXCLUSION_REASONS_IT[name]))
        if alive.any():
            return "Ci sono risorse compatibili"
        if len(group.idx) == 1:
            return (
                f"L'unica risorsa della categoria «{label}» (o più generale) disponibile {where} "
                f"non è compatibile: {parts[0][1]}"
            )
        return (
            f"Nessuna delle {count(len(group.idx), 'risorsa', 'risorse')} della categoria "
            f"«{label}» (o più generale) disponibili {where} è compatibile: "
            + ", ".join(f"{number(n, 0)} per {why}" for n, why in parts)
        )

    def ranked(
        self, needs: Sequence[NeedItem], weights: Weights, top_k: int | None
    ) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
        """Top-k compatible pairs per need, as arrays, in ranking order.

        Returns (need row, resource position, score, compatible resources
        per need before the cap), the pairs sorted by need row, then score
        descending, then resource id.
        """
        nb = _NeedArrays(self, needs)
        rows_out: list[IntArray] = []
        cols_out: list[IntArray] = []
        scores_out: list[FloatArray] = []
        counts = np.zeros(len(needs), dtype=np.int64)
        for rows, group in self._chunks(nb):
            valid, scores = self._score_block(nb, rows, group, weights)
            counts[rows] = np.count_nonzero(valid, axis=1)
            keep = _top_k_mask(valid, scores, top_k)
            r_i, c_i = np.nonzero(keep)
            rows_out.append(rows[r_i])
            cols_out.append(group.idx[c_i])
            scores_out.append(scores[r_i, c_i])
        if not rows_out:
            empty_i = np.zeros(0, dtype=np.int64)
            return empty_i, empty_i.copy(), np.zeros(0), counts
        need_rows = np.concatenate(rows_out)
        res_pos = np.concatenate(cols_out)
        sc = np.concatenate(scores_out)
        order = np.lexsort((res_pos, -sc, need_rows))
        return need_rows[order], res_pos[order], sc[order], counts


def _overlap(
    nb: _NeedArrays, rows: IntArray, row_counts: IntArray, group: _Group
) -> npt.NDArray[np.int16]:
    """(G, C) minutes of weekly overlap, summed over all pairs of windows.

    Windows on each side are disjoint (normalised), so the sum of pairwise
    interval intersections is the overlap of the two unions. Rows and columns
    are visited in order of decreasing window count, so the a-th need window
    meets the b-th resource window only where both exist.
    """
    row_perm = np.argsort(-row_counts, kind="stable")
    sorted_rows = rows[row_perm]
    rc = row_counts[row_perm]
    ns, ne = nb.win_start[sorted_rows], nb.win_end[sorted_rows]
    cc = group.win_counts
    overlap = np.zeros((len(rows), len(group.idx)), dtype=np.int16)
    for a in range(int(rc[0])):
        m = int(np.count_nonzero(rc > a))
        sa, ea = ns[:m, a, None], ne[:m, a, None]
        for b in range(int(cc[0])):
            n = int(np.count_nonzero(cc > b))
            ov = np.minimum(ea, group.win_end[None, :n, b]) - np.maximum(
                sa, group.win_start[None, :n, b]
            )
            np.maximum(ov, 0, out=ov)
            overlap[:m, :n] += ov
    # Back to the caller's row order and to resource-id column order.
    return overlap[np.ix_(np.argsort(row_perm), group.win_inverse)]


def _top_k_mask(valid: BoolArray, scores: FloatArray, k: int | None) -> BoolArray:
    """Per row, the k valid columns with the highest score; ties -> lower column.

    Columns are in resource-id order, so ties go to the lower resource id.
    """
    if k is None or valid.shape[1] <= k:
        return valid
    crowded = np.flatnonzero(np.count_nonzero(valid, axis=1) > k)
    if len(crowded) == 0:
        return valid
    # Only rows with more than k candidates need a cut.
    masked = np.where(valid[crowded], scores[crowded], -np.inf)
    n = masked.shape[1]
    kth = np.partition(masked, n - k, axis=1)[:, n - k, None]  # k-th largest per row
    above = masked > kth
    at = masked == kth
    room = k - above.sum(axis=1, keepdims=True)
    chosen = above | (at & (np.cumsum(at, axis=1) <= room))
    out = valid.copy()
    out[crowded] = chosen & valid[crowded]
    return out


def suggest(
    need: NeedItem, index: CandidateIndex, weights: Weights | None = None, limit: int = 10
) -> list[Suggestion]:
    """Ranked suggestions for one need, best first, explained in Italian.

    Ranking: score descending, then resource id ascending (deterministic).
    """
    if limit <= 0:
        return []
    w = weights or Weights()
    _, pos, _, _ = index.ranked([need], w, limit)
    out = [score(need, index.resources[p], w, index.taxonomy) for p in pos]
    out.sort(key=lambda s: (-s.score, s.resource_id))
    return out
