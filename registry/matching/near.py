"""Near misses: resources that nearly fit a need, for when little or nothing fits.

A near miss passes every blocking rule but one, and that one it misses by a little:

- place: it does not serve the need's comune but is based within NEAR_MISS_KM of it
  (beyond the need's own limit, if any: limit + NEAR_MISS_KM), or it serves the comune
  but is based beyond the need's limit by at most NEAR_MISS_KM;
- time: its validity starts after the need's period ends, by at most NEAR_MISS_DAYS;
- category: a related category (a child or a sibling of the need's, see
  `Taxonomy.related`).

Fresh data, free capacity, target group and required clearances are never relaxed: a
resource without the clearance to work with minors is not "nearly" suitable. Near misses
are never suggestions: the caller shows them apart, each with its difference.
"""

from __future__ import annotations

from datetime import date

from registry.italian import count

from .blocking import CandidateIndex, _periods_overlap
from .geo import comune_it, distance_km, km_it
from .model import Difference, NearMiss, NeedItem, ResourceItem, Taxonomy, Weights
from .scoring import score

NEAR_MISS_KM = 15.0
NEAR_MISS_DAYS = 60
NEAR_MISS_LIMIT = 5


def _day_it(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _place(need: NeedItem, resource: ResourceItem) -> Difference | bool | None:
    """The place difference; None when the place fits; False when it misses by too much
    (or by an unknown amount)."""
    serves = not resource.comuni or need.comune in resource.comuni
    limit = need.max_distance_km
    km = None
    if need.location is not None and resource.home_location is not None:
        km = distance_km(need.location, resource.home_location)
    base = (
        ""
        if resource.home_comune is None
        else f" (sede: {comune_it(resource.home_comune, resource.home_comune_name)})"
    )
    if not serves:
        if km is None or km > (limit or 0.0) + NEAR_MISS_KM:
            return False
        beyond = "" if limit is None or km <= limit else f", oltre il limite di {km_it(limit)}"
        return Difference(
            code="comune",
            amount=round(km, 1),
            unit="km",
            reason=(
                f"Non opera nel comune del bisogno: ha sede a {km_it(km)} di distanza{base}{beyond}"
            ),
        )
    if limit is None or km is None or km <= limit:
        return None
    if km - limit > NEAR_MISS_KM:
        return False
    return Difference(
        code="distance",
        amount=round(km - limit, 1),
        unit="km",
        reason=(
            f"Ha sede a {km_it(km)}, {km_it(km - limit)} oltre il limite di {km_it(limit)} "
            f"indicato per il bisogno{base}"
        ),
    )


def _period(need: NeedItem, resource: ResourceItem) -> Difference | bool | None:
    if _periods_overlap(need, resource):
        return None
    # Only "later" is near: a resource whose validity ended before the need starts is gone.
    if resource.valid_from is None or need.end is None or resource.valid_from <= need.end:
        return False
    days = (resource.valid_from - need.end).days
    if days > NEAR_MISS_DAYS:
        return False
    return Difference(
        code="period",
        amount=float(days),
        unit="giorni",
        reason=(
            f"Disponibile dal {_day_it(resource.valid_from)}: {count(days, 'giorno', 'giorni')} "
            "dopo la fine del periodo richiesto "
            f"({_day_it(need.end)})"
        ),
    )


def _category(need: NeedItem, resource: ResourceItem, taxonomy: Taxonomy) -> Difference | None:
    label, theirs = taxonomy.label(need.category), taxonomy.label(resource.category)
    if resource.category in taxonomy.children(need.category):
        return Difference(
            code="category",
            amount=1.0,
            unit="livelli",
            reason=f"Categoria più specifica: «{theirs}», copre solo in parte «{label}»",
        )
    return Difference(
        code="category",
        amount=2.0,
        unit="livelli",
        reason=f"Categoria affine: «{theirs}» invece di «{label}» (stessa area)",
    )


def difference(need: NeedItem, resource: ResourceItem, taxonomy: Taxonomy) -> Difference | None:
    """The one near difference of the pair, or None (compatible, or more than near)."""
    found: list[Difference] = []
    if taxonomy.distance(need.category, resource.category) is None:
        if resource.category not in taxonomy.related(need.category):
            return None
        found.append(_category(need, resource, taxonomy))
    if (
        need.target_group is not None
        and resource.target_groups
        and need.target_group not in resource.target_groups
    ):
        return None
    if not need.required_clearances <= resource.clearances:
        return None
    for part in (_place(need, resource), _period(need, resource)):
        if part is False:
            return None
        if isinstance(part, Difference):
            found.append(part)
    return found[0] if len(found) == 1 else None


def near_misses(
    need: NeedItem,
    index: CandidateIndex,
    weights: Weights | None = None,
    limit: int = NEAR_MISS_LIMIT,
) -> list[NearMiss]:
    """Up to `limit` near misses of `need`, best score first (then resource id).

    Looks only at fresh resources with free places in the need's category, its ancestors
    and its related categories, in any comune: a few hundred pairs, scored one by one.
    """
    if limit <= 0:
        return []
    w = weights or Weights()
    taxonomy = index.taxonomy
    categories = (need.category, *taxonomy.ancestors(need.category))
    categories += taxonomy.related(need.category)
    out = []
    for resource in index.eligible_of_categories(categories):
        found = difference(need, resource, taxonomy)
        if found is not None:
            out.append(NearMiss(score(need, resource, w, taxonomy), found))
    out.sort(key=lambda m: (-m.suggestion.score, m.suggestion.resource_id))
    return out[:limit]
