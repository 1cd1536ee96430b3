"""Blocking: each rule excludes what it should and keeps what it should."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from registry.matching import (
    EXCLUSION_REASONS_IT,
    CandidateIndex,
    NeedItem,
    ResourceItem,
    Taxonomy,
    Weights,
    exclusion_reason,
    is_compatible,
)
from registry.matching.geo import distance_km
from registry.matching.synthetic import generate_ambito

TAX = Taxonomy(
    parents={"ACC": None, "ACC.VISITE": "ACC", "ACC.SPESA": "ACC", "TRA": None, "TRA.SOC": "TRA"},
    labels={"ACC": "Accompagnamento", "ACC.VISITE": "Accompagnamento a visite mediche"},
)
COMUNE = "013001"
# Centroids of Olgiate Comasco, Bizzarone (5.9 km away) and Limido Comasco (11.1 km away).
HERE, NEAR, FAR = (45.78613, 8.96987), (45.8358, 8.94427), (45.68663, 8.97791)


def res(id: str = "R1", **kw: Any) -> ResourceItem:
    base: dict[str, Any] = {
        "holder_id": "H1",
        "holder_sector": "third_sector",
        "category": "ACC.VISITE",
        "comuni": frozenset({COMUNE}),
    }
    base.update(kw)
    return ResourceItem(id=id, **base)


def need(**kw: Any) -> NeedItem:
    base: dict[str, Any] = {
        "id": "N1",
        "plan_id": "P1",
        "category": "ACC.VISITE",
        "comune": COMUNE,
    }
    base.update(kw)
    return NeedItem(**base)


def ids(index: CandidateIndex, n: NeedItem) -> list[str]:
    return [r.id for r in index.candidates(n)]


def test_baseline_pair_is_compatible() -> None:
    assert is_compatible(need(), res(), TAX)
    assert ids(CandidateIndex([res()], TAX), need()) == ["R1"]


@pytest.mark.parametrize(
    ("resource_kw", "need_kw", "reason"),
    [
        ({"stale": True}, {}, "stale"),
        ({"capacity": 0}, {}, "no_capacity"),
        ({"category": "TRA.SOC"}, {}, "category"),
        ({"category": "ACC.SPESA"}, {}, "category"),  # sibling
        ({"category": "ACC.VISITE"}, {"category": "ACC"}, "category"),  # child for a parent
        ({"comuni": frozenset({"013002"})}, {}, "comune"),
        ({"home_location": FAR}, {"location": HERE, "max_distance_km": 10}, "distance"),
        ({"home_location": NEAR}, {"location": HERE, "max_distance_km": 5.8}, "distance"),
        (  # whole-ambito resources are based somewhere too
            {"home_location": FAR, "comuni": frozenset()},
            {"location": HERE, "max_distance_km": 10},
            "distance",
        ),
        ({"target_groups": frozenset({"anziani"})}, {"target_group": "disabili"}, "target_group"),
        (
            {"clearances": frozenset({"minori"})},
            {"required_clearances": frozenset({"minori", "patente"})},
            "clearances",
        ),
        ({"valid_until": date(2026, 1, 31)}, {"start": date(2026, 2, 1)}, "validity"),
        (
            {"valid_from": date(2026, 3, 1)},
            {"start": date(2026, 1, 1), "end": date(2026, 2, 28)},
            "validity",
        ),
    ],
)
def test_each_rule_excludes(
    resource_kw: dict[str, Any], need_kw: dict[str, Any], reason: str
) -> None:
    r, n = res(**resource_kw), need(**need_kw)
    assert exclusion_reason(n, r, TAX) == reason
    assert ids(CandidateIndex([r], TAX), n) == []


@pytest.mark.parametrize(
    ("resource_kw", "need_kw"),
    [
        ({"category": "ACC"}, {}),  # ancestor serves a child need
        ({"comuni": frozenset()}, {}),  # whole ambito
        ({"comuni": frozenset({"013002", COMUNE})}, {}),
        ({"home_location": NEAR}, {"location": HERE, "max_distance_km": 10}),
        ({"home_location": FAR}, {"location": HERE}),  # no limit
        ({"home_location": None}, {"location": HERE, "max_distance_km": 1}),  # base unknown
        ({"home_location": FAR}, {"location": None, "max_distance_km": 1}),  # need's unknown
        ({"home_location": HERE}, {"location": HERE, "max_distance_km": 0.001}),  # same place
        ({"target_groups": frozenset()}, {"target_group": "disabili"}),  # any target group
        ({"target_groups": frozenset({"anziani", "disabili"})}, {"target_group": "disabili"}),
        ({"target_groups": frozenset({"anziani"})}, {"target_group": None}),
        (
            {"clearances": frozenset({"minori", "patente"})},
            {"required_clearances": frozenset({"minori"})},
        ),
        ({"languages": frozenset({"it", "ar"})}, {"languages": frozenset({"ar", "en"})}),
        ({"languages": frozenset({"fr"})}, {}),  # no language constraint
        # Language is a score component, not a rule: no shared language still passes.
        ({"languages": frozenset({"it", "fr"})}, {"languages": frozenset({"ar", "en"})}),
        ({"languages": frozenset()}, {"languages": frozenset({"ar"})}),
        ({"valid_until": date(2026, 2, 1)}, {"start": date(2026, 2, 1)}),  # touching day counts
        ({"valid_from": date(2026, 3, 1)}, {"start": date(2026, 1, 1)}),  # open-ended need
        (
            {"valid_from": date(2020, 1, 1), "valid_until": date(2030, 1, 1)},
            {"start": date(2026, 1, 1), "end": date(2026, 6, 30)},
        ),
    ],
)
def test_each_rule_keeps(resource_kw: dict[str, Any], need_kw: dict[str, Any]) -> None:
    r, n = res(**resource_kw), need(**need_kw)
    assert exclusion_reason(n, r, TAX) is None
    assert ids(CandidateIndex([r], TAX), n) == ["R1"]


def test_grandparent_category_serves_grandchild() -> None:
    tax = Taxonomy(parents={"A": None, "A.1": "A", "A.1.x": "A.1"})
    index = CandidateIndex([res("R1", category="A"), res("R2", category="A.1")], tax)
    assert ids(index, need(category="A.1.x")) == ["R1", "R2"]
    assert ids(index, need(category="A.1")) == ["R1", "R2"]
    assert ids(index, need(category="A")) == ["R1"]


def test_as_of_drops_expired_resources() -> None:
    r = res(valid_until=date(2025, 12, 31))
    assert exclusion_reason(need(), r, TAX, as_of=date(2026, 1, 1)) == "expired"
    assert ids(CandidateIndex([r], TAX, as_of=date(2026, 1, 1)), need()) == []
    assert ids(CandidateIndex([r], TAX), need()) == ["R1"]


def test_unknown_codes_in_needs() -> None:
    index = CandidateIndex([res("R1"), res("R2", target_groups=frozenset({"anziani"}))], TAX)
    # A target group no resource lists: only "any target group" resources.
    assert ids(index, need(target_group="nuovo_gruppo")) == ["R1"]
    # A clearance nobody holds can never be satisfied.
    assert ids(index, need(required_clearances=frozenset({"brevetto"}))) == []
    # A language nobody speaks: still both (language only lowers the score).
    assert ids(index, need(languages=frozenset({"xx"}))) == ["R1", "R2"]
    # An unknown category or comune: nothing, without errors.
    assert ids(index, need(category="NUOVA")) == []
    assert ids(index, need(comune="999999")) == []


def test_duplicate_resource_ids_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        CandidateIndex([res("R1"), res("R1")], TAX)


def test_candidates_sorted_by_id_whatever_the_input_order() -> None:
    rs = [res(f"R{i}") for i in (5, 1, 3, 2, 4)]
    assert ids(CandidateIndex(rs, TAX), need()) == ["R1", "R2", "R3", "R4", "R5"]


def test_explain_no_candidates_counts_each_rule() -> None:
    index = CandidateIndex(
        [
            res("R1", target_groups=frozenset({"anziani"})),
            res("R2", clearances=frozenset()),
            res("R3", clearances=frozenset({"minori"}), valid_until=date(2025, 12, 31)),
            res("R4", category="TRA.SOC"),
        ],
        TAX,
    )
    n = need(
        target_group="disabili",
        required_clearances=frozenset({"minori"}),
        languages=frozenset({"ar"}),
        start=date(2026, 1, 1),
    )
    text = index.explain_no_candidates(replace(n, comune_name="Olgiate Comasco"))
    assert text == (
        "Nessuna delle 3 risorse della categoria «Accompagnamento a visite mediche» "
        "(o più generale) disponibili nel comune di Olgiate Comasco è compatibile: "
        "1 per destinatari diversi, 1 per requisiti mancanti, "
        "1 per periodo di validità non compatibile"
    )
    assert "lingua" not in text
    # Without the name, the code (the web front end puts names in place of codes).
    assert "nel comune di 013001 è compatibile" in index.explain_no_candidates(n)


def test_explain_no_candidates_with_one_resource_in_the_comune() -> None:
    index = CandidateIndex([res("R1", target_groups=frozenset({"anziani"}))], TAX)
    text = index.explain_no_candidates(need(target_group="disabili", comune_name="Olgiate Comasco"))
    assert text == (
        "L'unica risorsa della categoria «Accompagnamento a visite mediche» (o più generale) "
        "disponibile nel comune di Olgiate Comasco non è compatibile: destinatari diversi"
    )


def test_explain_no_candidates_tells_the_ambito_from_the_comune() -> None:
    elsewhere = res("R1", comuni=frozenset({"013002"}))
    other_category = res("R2", category="TRA.SOC")
    named = need(comune_name="Olgiate Comasco")
    # The category exists in the ambito, but not for this comune.
    text = CandidateIndex([elsewhere, other_category], TAX).explain_no_candidates(named)
    assert text == (
        "Nessuna risorsa attiva della categoria «Accompagnamento a visite mediche» "
        "(o più generale) disponibile nel comune di Olgiate Comasco"
    )
    # Nowhere in the ambito: the comune is not the problem, and is not named.
    text = CandidateIndex([other_category], TAX).explain_no_candidates(named)
    assert text == (
        "Nessuna risorsa attiva della categoria «Accompagnamento a visite mediche» "
        "(o più generale) disponibile nell'ambito"
    )
    # A stale or full resource of the category does not count as available.
    stale = res("R3", comuni=frozenset({"013002"}), stale=True)
    text = CandidateIndex([stale, other_category], TAX).explain_no_candidates(named)
    assert text.endswith("disponibile nell'ambito")


def test_distance_limit_is_inclusive_on_both_paths() -> None:
    limit = distance_km(HERE, NEAR)  # the very float both paths compute
    r = res(home_location=NEAR)
    at = need(location=HERE, max_distance_km=limit)
    assert exclusion_reason(at, r, TAX) is None
    assert ids(CandidateIndex([r], TAX), at) == ["R1"]
    below = need(location=HERE, max_distance_km=math.nextafter(limit, 0))
    assert exclusion_reason(below, r, TAX) == "distance"
    assert ids(CandidateIndex([r], TAX), below) == []


def test_comune_rule_comes_before_distance() -> None:
    r = res(comuni=frozenset({"013002"}), home_location=FAR)
    assert exclusion_reason(need(location=HERE, max_distance_km=1), r, TAX) == "comune"


def test_distance_limit_per_need_in_one_block() -> None:
    """Needs of the same category, comune and place but different limits share a block."""
    rs = [
        res("R1", home_location=HERE),
        res("R2", home_location=NEAR),
        res("R3", home_location=FAR),
        res("R4"),  # base unknown: never too far
    ]
    index = CandidateIndex(rs, TAX)
    needs = [
        need(id="N1", location=HERE, max_distance_km=1),
        need(id="N2", location=HERE, max_distance_km=6),
        need(id="N3", location=HERE),
        need(id="N4", location=HERE, max_distance_km=12),
    ]
    assert index.candidate_counts(needs).tolist() == [2, 3, 4, 4]
    assert ids(index, needs[1]) == ["R1", "R2", "R4"]
    rows, positions, _, _ = index.ranked(needs, Weights(), None)
    got = {(needs[r].id, index.resources[p].id) for r, p in zip(rows, positions, strict=True)}
    assert got == {(n.id, r.id) for n in needs for r in rs if is_compatible(n, r, TAX)}


def test_explain_no_candidates_says_too_far() -> None:
    index = CandidateIndex([res("R1", home_location=FAR), res("R2", home_location=NEAR)], TAX)
    text = index.explain_no_candidates(need(location=HERE, max_distance_km=5))
    assert text == (
        "Nessuna delle 2 risorse della categoria «Accompagnamento a visite mediche» "
        "(o più generale) disponibili nel comune di 013001 è compatibile: 2 per troppo lontano"
    )
    assert EXCLUSION_REASONS_IT["distance"] == "troppo lontano"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_index_equals_reference_definition(seed: int) -> None:
    amb = generate_ambito(400, 120, seed=seed)
    as_of = date(2026, 3, 1) if seed == 3 else None
    index = CandidateIndex(amb.resources, amb.taxonomy, as_of=as_of)
    total = 0
    for n in amb.needs:
        expected = [
            r.id
            for r in sorted(amb.resources, key=lambda r: r.id)
            if is_compatible(n, r, amb.taxonomy, as_of)
        ]
        assert ids(index, n) == expected
        total += len(expected)
    assert total > 0  # the instance exercises real candidates
    # ... and the synthetic limits do exclude resources that pass every other rule.
    too_far = [
        (n, r)
        for n in amb.needs
        for r in amb.resources
        if exclusion_reason(n, r, amb.taxonomy, as_of) == "distance"
    ]
    assert too_far


def test_index_on_random_mutations() -> None:
    """Mutating one field at a time keeps index and reference definition in step."""
    rng = random.Random(7)
    amb = generate_ambito(150, 60, seed=11)
    resources = list(amb.resources)
    for i in range(0, len(resources), 3):
        r = resources[i]
        resources[i] = replace(
            r,
            comuni=frozenset() if rng.random() < 0.2 else r.comuni,
            capacity=0 if rng.random() < 0.1 else r.capacity,
        )
    index = CandidateIndex(resources, amb.taxonomy)
    for n in amb.needs:
        expected = sorted(r.id for r in resources if is_compatible(n, r, amb.taxonomy))
        assert ids(index, n) == expected
