"""Near misses: what nearly fits, with what differs and by how much; never a suggestion."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from registry.matching import (
    CandidateIndex,
    NeedItem,
    ResourceItem,
    Taxonomy,
    near_misses,
    suggest,
)
from registry.matching.geo import distance_km
from registry.matching.near import NEAR_MISS_DAYS, NEAR_MISS_KM

TAX = Taxonomy(
    parents={"ACC": None, "ACC.VISITE": "ACC", "ACC.SPESA": "ACC", "TRA": None, "TRA.SOC": "TRA"},
    labels={
        "ACC": "Accompagnamento",
        "ACC.VISITE": "Accompagnamento a visite mediche",
        "ACC.SPESA": "Accompagnamento per la spesa",
    },
)
# Three places about 5.9 km (NEAR) and 11.1 km (FAR) from HERE, and one 40+ km away.
HERE, NEAR, FAR, AWAY = (
    (45.78613, 8.96987),
    (45.8358, 8.94427),
    (45.68663, 8.97791),
    (46.2, 9.5),
)


def res(id: str = "R1", **kw: Any) -> ResourceItem:
    base: dict[str, Any] = {
        "id": id,
        "holder_id": "H1",
        "holder_sector": "third_sector",
        "category": "ACC.VISITE",
        "comuni": frozenset({"013001"}),
    }
    base.update(kw)
    return ResourceItem(**base)


def need(**kw: Any) -> NeedItem:
    base: dict[str, Any] = {
        "id": "N1",
        "plan_id": "P1",
        "category": "ACC.VISITE",
        "comune": "013001",
        "location": HERE,
    }
    base.update(kw)
    return NeedItem(**base)


def only(n: NeedItem, *resources: ResourceItem) -> list[tuple[str, str, float]]:
    index = CandidateIndex(resources, TAX)
    return [
        (m.suggestion.resource_id, m.difference.code, m.difference.amount)
        for m in near_misses(n, index)
    ]


def test_a_neighbouring_comune_is_a_near_miss_with_its_distance() -> None:
    r = res(comuni=frozenset({"013002"}), home_comune="013002", home_location=NEAR)
    n = need()
    assert suggest(n, CandidateIndex([r], TAX)) == []
    [miss] = near_misses(n, CandidateIndex([r], TAX))
    assert (miss.difference.code, miss.difference.unit) == ("comune", "km")
    assert miss.difference.amount == pytest.approx(5.9)
    assert miss.difference.reason == (
        "Non opera nel comune del bisogno: ha sede a 5,9 km di distanza (sede: 013002)"
    )
    # With its name known (the service passes it in), the comune reads by name.
    [miss] = near_misses(n, CandidateIndex([replace(r, home_comune_name="Bizzarone")], TAX))
    assert miss.difference.reason == (
        "Non opera nel comune del bisogno: ha sede a 5,9 km di distanza (sede: Bizzarone)"
    )
    # The pair is scored as it is: it does not serve the comune, and says so.
    assert miss.suggestion.component("proximity").value == 0.0


def test_beyond_the_needs_limit_says_by_how_much() -> None:
    r = res(home_location=FAR)
    n = need(max_distance_km=8)
    [(rid, code, amount)] = only(n, r)
    assert (rid, code) == ("R1", "distance")
    assert amount == pytest.approx(round(distance_km(HERE, FAR) - 8, 1))
    reason = near_misses(n, CandidateIndex([r], TAX))[0].difference.reason
    assert reason == "Ha sede a 11 km, 3,1 km oltre il limite di 8 km indicato per il bisogno"


def test_too_far_or_unknown_place_is_not_near() -> None:
    assert only(need(), res(comuni=frozenset({"013002"}), home_location=AWAY)) == []
    assert only(need(max_distance_km=1), res(home_location=AWAY)) == []
    # Without a location the distance cannot be told: not offered as "near".
    assert only(need(), res(comuni=frozenset({"013002"}))) == []
    assert distance_km(HERE, AWAY) > NEAR_MISS_KM


def test_another_time_is_a_near_miss_within_the_limit() -> None:
    n = need(start=date(2026, 1, 1), end=date(2026, 2, 28))
    soon = res("R1", valid_from=date(2026, 3, 10))
    late = res("R2", valid_from=date(2026, 2, 28).replace(month=6))
    ended = res("R3", valid_until=date(2025, 12, 1))
    assert only(n, soon, late, ended) == [("R1", "period", 10.0)]
    reason = near_misses(n, CandidateIndex([soon], TAX))[0].difference.reason
    assert reason == (
        "Disponibile dal 10/03/2026: 10 giorni dopo la fine del periodo richiesto (28/02/2026)"
    )
    next_day = res("R4", valid_from=date(2026, 3, 1))
    reason = near_misses(n, CandidateIndex([next_day], TAX))[0].difference.reason
    assert reason == (
        "Disponibile dal 01/03/2026: 1 giorno dopo la fine del periodo richiesto (28/02/2026)"
    )
    assert (date(2026, 6, 28) - date(2026, 2, 28)).days > NEAR_MISS_DAYS


def test_a_related_category_is_a_near_miss() -> None:
    sibling = res("R1", category="ACC.SPESA")
    unrelated = res("R2", category="TRA.SOC")
    assert only(need(), sibling, unrelated) == [("R1", "category", 2.0)]
    [miss] = near_misses(need(), CandidateIndex([sibling], TAX))
    assert miss.difference.reason == (
        "Categoria affine: «Accompagnamento per la spesa» invece di "
        "«Accompagnamento a visite mediche» (stessa area)"
    )
    # A more specific resource for a general need covers only part of it.
    assert only(need(category="ACC"), res(category="ACC.VISITE")) == [("R1", "category", 1.0)]


def test_two_differences_or_a_hard_rule_are_never_near() -> None:
    two = res("R1", category="ACC.SPESA", comuni=frozenset({"013002"}), home_location=NEAR)
    clearance = res("R2", comuni=frozenset({"013002"}), home_location=NEAR)
    target = res(
        "R3",
        comuni=frozenset({"013002"}),
        home_location=NEAR,
        target_groups=frozenset({"anziani"}),
    )
    stale = res("R4", comuni=frozenset({"013002"}), home_location=NEAR, stale=True)
    full = res("R5", comuni=frozenset({"013002"}), home_location=NEAR, capacity=0)
    assert only(need(target_group="disabili"), two, target, stale, full) == []
    assert only(need(required_clearances=frozenset({"minori"})), clearance) == []


def test_compatible_resources_are_suggestions_not_near_misses() -> None:
    fits = res("R1")
    near = res("R2", comuni=frozenset({"013002"}), home_location=NEAR)
    index = CandidateIndex([fits, near], TAX)
    assert [s.resource_id for s in suggest(need(), index)] == ["R1"]
    assert [m.suggestion.resource_id for m in near_misses(need(), index)] == ["R2"]


def test_best_first_and_limited() -> None:
    misses = [
        res(f"R{i}", comuni=frozenset({"013002"}), home_location=NEAR, holder_load=i)
        for i in range(8)
    ]
    got = near_misses(need(), CandidateIndex(misses, TAX), limit=3)
    assert [m.suggestion.resource_id for m in got] == ["R0", "R1", "R2"]
    assert near_misses(need(), CandidateIndex(misses, TAX), limit=0) == []
