"""Score components: values recomputed by hand from their definitions, Italian reasons."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from registry.matching import (
    COMPONENT_NAMES,
    CandidateIndex,
    NeedItem,
    ResourceItem,
    Taxonomy,
    WeeklyWindow,
    Weights,
    build_graph,
    score,
    suggest,
)
from registry.matching.geo import distance_km
from registry.matching.scoring import PROXIMITY_ELSEWHERE, PROXIMITY_HALF_KM
from registry.matching.synthetic import generate_ambito

TAX = Taxonomy(
    parents={"ACC": None, "ACC.VISITE": "ACC", "A": None, "A.1": "A", "A.1.x": "A.1"},
    labels={"ACC": "Accompagnamento", "ACC.VISITE": "Accompagnamento a visite mediche"},
)
W = Weights()
TUE = 1


def res(**kw: Any) -> ResourceItem:
    base: dict[str, Any] = {
        "id": "R1",
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
    }
    base.update(kw)
    return NeedItem(**base)


def comp(n: NeedItem, r: ResourceItem, name: str, taxonomy: Taxonomy = TAX) -> tuple[float, str]:
    c = score(n, r, W, taxonomy).component(name)
    return c.value, c.reason


# --- category fit: 0.6 ** levels above, 1 for the same category ---------------------------


def test_category_fit() -> None:
    assert comp(need(), res(), "category_fit") == (
        1.0,
        "Stessa categoria: Accompagnamento a visite mediche",
    )
    value, reason = comp(need(), res(category="ACC"), "category_fit")
    assert value == pytest.approx(0.6)
    assert (
        reason
        == "Categoria più generale: Accompagnamento (comprende Accompagnamento a visite mediche)"
    )
    assert comp(need(category="A.1.x"), res(category="A"), "category_fit")[0] == pytest.approx(0.36)
    value, reason = comp(need(category="A"), res(category="A.1"), "category_fit")
    assert value == 0.0
    assert reason.startswith("Categoria non compatibile")


# --- schedule overlap: overlap minutes / needed minutes, capped at 1 ------------------------


def test_schedule_partial_single_day() -> None:
    n = need(windows=(WeeklyWindow(TUE, 9 * 60, 13 * 60),))
    r = res(windows=(WeeklyWindow(TUE, 10 * 60, 14 * 60),))
    assert comp(n, r, "schedule_overlap") == (
        180 / 240,
        "Disponibile 3 delle 4 ore richieste il martedì",
    )


def test_schedule_full_and_none() -> None:
    n = need(windows=(WeeklyWindow(TUE, 9 * 60, 11 * 60),))
    full = res(windows=(WeeklyWindow(TUE, 8 * 60, 12 * 60),))
    assert comp(n, full, "schedule_overlap") == (
        1.0,
        "Disponibile per tutte le 2 ore richieste il martedì",
    )
    other_day = res(windows=(WeeklyWindow(TUE + 1, 9 * 60, 11 * 60),))
    assert comp(n, other_day, "schedule_overlap") == (
        0.0,
        "Nessuna disponibilità negli orari richiesti",
    )


def test_schedule_multi_day_breakdown() -> None:
    n = need(windows=(WeeklyWindow(0, 540, 660), WeeklyWindow(3, 840, 1080)))  # 2 h + 4 h
    r = res(windows=(WeeklyWindow(0, 600, 720), WeeklyWindow(3, 840, 960)))  # 1 h + 2 h overlap
    value, reason = comp(n, r, "schedule_overlap")
    assert value == 180 / 360
    assert reason == "Disponibile 3 delle 6 ore richieste (lunedì 1 su 2, giovedì 2 su 4)"


def test_schedule_quantity_smaller_than_windows() -> None:
    # 4 h window, 2 h a week needed: 1 h of overlap covers half of what is needed.
    n = need(windows=(WeeklyWindow(0, 540, 780),), quantity_per_week_minutes=120)
    r = res(windows=(WeeklyWindow(0, 720, 840),))
    assert comp(n, r, "schedule_overlap") == (
        60 / 120,
        "Disponibile 1 delle 2 ore settimanali richieste, negli orari indicati",
    )
    r2 = res(windows=(WeeklyWindow(0, 540, 720),))
    value, reason = comp(n, r2, "schedule_overlap")
    assert value == 1.0  # min(180 / 120, 1)
    assert reason == "Copre le 2 ore settimanali richieste (3 ore disponibili negli orari indicati)"


def test_schedule_one_hour_reads_singular() -> None:
    # 2 h window, 1 h a week needed.
    n = need(windows=(WeeklyWindow(0, 540, 660),), quantity_per_week_minutes=60)
    exactly = res(windows=(WeeklyWindow(0, 540, 600),))
    assert comp(n, exactly, "schedule_overlap") == (
        1.0,
        "Copre l'ora settimanale richiesta (1 ora disponibile negli orari indicati)",
    )
    half = res(windows=(WeeklyWindow(0, 540, 570),))
    assert comp(n, half, "schedule_overlap") == (
        0.5,
        "Disponibile 0,5 di 1 ora settimanale richiesta, negli orari indicati",
    )
    one_hour = need(windows=(WeeklyWindow(TUE, 540, 600),))
    assert comp(one_hour, res(windows=(WeeklyWindow(TUE, 480, 720),)), "schedule_overlap") == (
        1.0,
        "Disponibile per tutta l'ora richiesta il martedì",
    )


def test_schedule_quantity_larger_than_windows_uses_windows() -> None:
    n = need(windows=(WeeklyWindow(0, 540, 600),), quantity_per_week_minutes=600)
    r = res(windows=(WeeklyWindow(0, 570, 600),))
    assert comp(n, r, "schedule_overlap")[0] == 30 / 60


def test_schedule_overlapping_resource_windows_not_double_counted() -> None:
    n = need(windows=(WeeklyWindow(TUE, 8 * 60, 14 * 60),))  # 6 h
    r = res(windows=(WeeklyWindow(TUE, 9 * 60, 12 * 60), WeeklyWindow(TUE, 10 * 60, 13 * 60)))
    assert comp(n, r, "schedule_overlap")[0] == 240 / 360  # union 9-13, not 3 h + 3 h


def test_schedule_neutral_without_windows() -> None:
    with_windows = (WeeklyWindow(0, 540, 600),)
    v1, r1 = comp(need(windows=with_windows), res(), "schedule_overlap")
    v2, r2 = comp(need(), res(windows=with_windows), "schedule_overlap")
    v3, r3 = comp(need(), res(), "schedule_overlap")
    assert v1 == v2 == v3 == 0.5
    assert "La risorsa non indica orari" in r1
    assert "Il bisogno non indica orari" in r2
    assert "da concordare" in r3


# --- capacity: min(places, 5) / 5 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "value", "reason"),
    [
        (1, 0.2, "1 posto disponibile"),
        (2, 0.4, "2 posti disponibili"),
        (9, 1.0, "9 posti disponibili"),
    ],
)
def test_capacity(capacity: int, value: float, reason: str) -> None:
    assert comp(need(), res(capacity=capacity), "capacity") == (value, reason)


# --- proximity: 1 local, 0.5 served from elsewhere / whole ambito ---------------------------


def test_proximity() -> None:
    n = need(comune="013001")
    assert comp(
        n, res(home_comune="013001", comuni=frozenset({"013001", "013002"})), "proximity"
    ) == (
        1.0,
        "Ha sede nel comune del bisogno",
    )
    assert comp(n, res(comuni=frozenset({"013001"})), "proximity") == (
        1.0,
        "Opera solo nel comune del bisogno",
    )
    value, reason = comp(
        n, res(home_comune="013002", comuni=frozenset({"013001", "013002"})), "proximity"
    )
    assert (value, reason) == (0.5, "Serve il comune del bisogno da un altro comune (sede: 013002)")
    assert comp(n, res(comuni=frozenset()), "proximity") == (0.5, "Opera in tutto l'ambito")
    assert comp(n, res(comuni=frozenset({"013001", "013003", "013004"})), "proximity") == (
        0.5,
        "Serve il comune del bisogno insieme ad altri 2 comuni",
    )
    assert comp(n, res(comuni=frozenset({"013001", "013003"})), "proximity") == (
        0.5,
        "Serve il comune del bisogno insieme a un altro comune",
    )
    assert comp(n, res(comuni=frozenset({"013009"})), "proximity")[0] == 0.0


def test_proximity_names_the_seat_when_its_name_is_known() -> None:
    n = need(comune="013001", location=HERE)
    served = frozenset({"013001", "013002"})
    named = res(home_comune="013002", home_comune_name="Bizzarone", comuni=served)
    assert comp(n, named, "proximity")[1] == (
        "Serve il comune del bisogno da un altro comune (sede: Bizzarone)"
    )
    assert comp(n, replace(named, home_location=NEAR), "proximity")[1] == (
        "Ha sede a 5,9 km dal comune del bisogno (sede: Bizzarone)"
    )


# --- proximity by distance, when both places are known -------------------------------------

HERE, NEAR, FAR = (45.78613, 8.96987), (45.8358, 8.94427), (45.68663, 8.97791)  # 5.9, 11.1 km


def test_proximity_by_distance() -> None:
    n = need(comune="013001", location=HERE)
    served = frozenset({"013001", "013002"})
    near = res(home_comune="013002", home_location=NEAR, comuni=served)
    far = res(home_comune="013003", home_location=FAR, comuni=frozenset({"013001", "013003"}))
    value, reason = comp(n, near, "proximity")
    assert value == 1 / (1 + distance_km(HERE, NEAR) / PROXIMITY_HALF_KM)
    assert reason == "Ha sede a 5,9 km dal comune del bisogno (sede: 013002)"
    far_value, far_reason = comp(n, far, "proximity")
    assert far_reason == "Ha sede a 11 km dal comune del bisogno (sede: 013003)"
    assert 0 < far_value < value < 1
    # Same comune: full score whatever the coordinates say.
    local = res(home_comune="013001", home_location=NEAR, comuni=served)
    assert comp(n, local, "proximity") == (1.0, "Ha sede nel comune del bisogno")
    # Whole ambito, based somewhere known.
    value, reason = comp(n, res(home_location=FAR, comuni=frozenset()), "proximity")
    assert value == far_value
    assert reason == "Opera in tutto l'ambito, con sede a 11 km dal comune del bisogno"
    # Either place unknown: the comune-based values as before.
    assert comp(need(comune="013001"), near, "proximity")[0] == PROXIMITY_ELSEWHERE
    unknown_base = res(home_comune="013002", comuni=served)
    assert comp(n, unknown_base, "proximity")[0] == PROXIMITY_ELSEWHERE
    # Not serving the comune stays 0, however close.
    assert comp(n, res(home_location=HERE, comuni=frozenset({"013009"})), "proximity")[0] == 0.0


def test_proximity_decreases_with_distance() -> None:
    n = need(comune="013001", location=(45.0, 9.0))
    values = []
    for km in (0.5, 2, 5, 10, 20, 50):
        there = (45.0 + km / 111.19, 9.0)  # ~km to the north
        r = res(home_comune="013002", home_location=there, comuni=frozenset())
        values.append(comp(n, r, "proximity")[0])
    assert values == sorted(values, reverse=True)
    assert len(set(values)) == len(values)
    assert values[3] == pytest.approx(0.5, abs=0.001)  # half at PROXIMITY_HALF_KM
    assert all(0 < v < 1 for v in values)


def test_distance_changes_the_ranking() -> None:
    index = CandidateIndex(
        [
            res(id="R1", home_comune="013003", home_location=FAR, comuni=frozenset()),
            res(id="R2", home_comune="013002", home_location=NEAR, comuni=frozenset()),
        ],
        TAX,
    )
    ranked = suggest(need(location=HERE), index, W)
    assert [s.resource_id for s in ranked] == ["R2", "R1"]
    assert "a 5,9 km" in ranked[0].component("proximity").reason
    # Without the need's place both are "elsewhere": ties go to the lower id.
    assert [s.resource_id for s in suggest(need(), index, W)] == ["R1", "R2"]


# --- language -------------------------------------------------------------------------------


def test_language() -> None:
    assert comp(
        need(languages=frozenset({"ar", "fr"})), res(languages=frozenset({"it", "ar"})), "language"
    ) == (
        1.0,
        "Lingua in comune: arabo",
    )
    assert (
        comp(need(languages=frozenset({"ar"})), res(languages=frozenset({"it"})), "language")[0]
        == 0.0
    )
    assert comp(need(), res(languages=frozenset()), "language") == (
        1.0,
        "Nessuna lingua particolare richiesta",
    )
    assert comp(need(), res(languages=frozenset({"it", "en"})), "language")[0] == 1.0
    value, reason = comp(need(), res(languages=frozenset({"uk"})), "language")
    assert value == 0.5
    assert "ucraino" in reason


def test_no_shared_language_lowers_the_rank_but_does_not_exclude() -> None:
    n = need(languages=frozenset({"ar"}))
    speaks = res(id="R2", languages=frozenset({"ar", "it"}))
    does_not = res(id="R1", languages=frozenset({"it"}))
    ranked = suggest(n, CandidateIndex([does_not, speaks], TAX), W)
    assert [s.resource_id for s in ranked] == ["R2", "R1"]
    assert ranked[1].component("language").reason == ("Nessuna lingua in comune (richieste: arabo)")


# --- continuity, load spread, new tie -------------------------------------------------------


def test_continuity() -> None:
    assert comp(need(plan_holder_ids=frozenset({"H1", "H9"})), res(), "continuity") == (
        1.0,
        "Già attivo in questo piano",
    )
    assert comp(need(plan_holder_ids=frozenset({"H9"})), res(), "continuity")[0] == 0.0


@pytest.mark.parametrize(("load", "value"), [(0, 1.0), (5, 0.5), (15, 0.25), (1, 1 / 1.2)])
def test_load_spread(load: int, value: float) -> None:
    v, reason = comp(need(), res(holder_load=load), "load_spread")
    assert v == pytest.approx(value)
    if load > 1:
        assert reason == f"Il titolare ha già {load} abbinamenti attivi"
    if load == 1:
        assert reason == "Il titolare ha già 1 abbinamento attivo"


def test_large_counts_are_grouped_the_italian_way() -> None:
    assert comp(need(), res(capacity=1200), "capacity")[1] == "1.200 posti disponibili"
    assert comp(need(), res(holder_load=1200), "load_spread")[1] == (
        "Il titolare ha già 1.200 abbinamenti attivi"
    )


def test_new_tie() -> None:
    assert comp(need(), res(holder_is_new=True), "new_tie") == (
        1.0,
        "Realtà nuova nella rete: rafforza la coesione",
    )
    assert comp(need(), res(holder_is_new=False), "new_tie")[0] == 0.0


# --- freshness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "value", "reason"),
    [
        (None, 1.0, "Data dell'ultima conferma non nota"),
        (0, 1.0, "Disponibilità confermata dal titolare oggi"),
        (1, 1.0, "Disponibilità confermata dal titolare ieri"),
        (60, 1.0, "Disponibilità confermata dal titolare 60 giorni fa"),
        (
            66,
            0.8,
            "Disponibilità confermata 66 giorni fa: conferma richiesta al titolare, "
            "verificare che sia ancora valida",
        ),
        (
            99,
            0.0,
            "Disponibilità non confermata da 99 giorni (oltre i 90 previsti): verificare con "
            "il titolare prima di proporla",
        ),
    ],
)
def test_freshness(days: int | None, value: float, reason: str) -> None:
    got = comp(need(), res(confirmed_days=days), "freshness")
    assert got[0] == pytest.approx(value)
    assert got[1] == reason


def test_freshness_follows_the_resource_settings() -> None:
    # With a 10/20-day policy, 15 days is halfway; past 20 the value is 0.
    assert comp(
        need(), res(confirmed_days=15, remind_after_days=10, stale_after_days=20), "freshness"
    )[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="remind_after_days"):
        res(remind_after_days=30, stale_after_days=30)


def test_an_unconfirmed_resource_ranks_below_an_equal_fresh_one() -> None:
    """The demo's complaint: 99 days without confirmation ranked first, unannounced."""
    old = res(id="R1", confirmed_days=99)
    fresh = res(id="R2", confirmed_days=3)
    ranked = suggest(need(), CandidateIndex([old, fresh], TAX), W)
    assert [s.resource_id for s in ranked] == ["R2", "R1"]
    assert "non confermata da 99 giorni" in ranked[1].explanation


# --- total ----------------------------------------------------------------------------------


def test_total_is_weighted_mean_by_hand() -> None:
    n = need(
        windows=(WeeklyWindow(TUE, 540, 780),),
        plan_holder_ids=frozenset({"H1"}),
        languages=frozenset({"ar"}),
    )
    r = res(
        category="ACC",
        windows=(WeeklyWindow(TUE, 600, 780),),
        capacity=2,
        home_comune="013002",
        comuni=frozenset({"013001", "013002"}),
        languages=frozenset({"ar"}),
        holder_load=5,
        holder_is_new=False,
        confirmed_days=75,
    )
    s = score(n, r, W, TAX)
    # category 0.6, schedule 180/240, capacity 0.4, proximity 0.5, language 1,
    # continuity 1, load 0.5, new tie 0, freshness 0.5 (75 days: halfway from the reminder
    # at 60 to stale at 90); weights 3, 2, 0.5, 1, 1, 1.5, 1, 0.5, 1.
    expected = (
        3 * 0.6 + 2 * 0.75 + 0.5 * 0.4 + 1 * 0.5 + 1 * 1 + 1.5 * 1 + 1 * 0.5 + 0.5 * 0 + 1 * 0.5
    ) / 11.5
    assert s.score == pytest.approx(expected)
    assert [c.name for c in s.components] == list(COMPONENT_NAMES)
    assert [c.weight for c in s.components] == [3, 2, 0.5, 1, 1, 1.5, 1, 0.5, 1]
    assert (s.need_id, s.resource_id, s.holder_id) == ("N1", "R1", "H1")
    custom = score(
        n,
        r,
        Weights(
            category_fit=1,
            schedule_overlap=0,
            capacity=0,
            proximity=0,
            language=0,
            continuity=0,
            load_spread=0,
            new_tie=0,
            freshness=0,
        ),
        TAX,
    )
    assert custom.score == pytest.approx(0.6)
    assert custom.explanation.startswith("Categoria più generale")


ENGLISH = re.compile(r"\b(the|and|available|same|hours?|none|already|new|network)\b", re.I)


def test_every_reason_present_and_italian_on_synthetic_pairs() -> None:
    amb = generate_ambito(300, 80, seed=5)
    index = CandidateIndex(amb.resources, amb.taxonomy)
    seen: set[str] = set()
    for n in amb.needs:
        for r in index.candidates(n)[:10]:
            s = score(n, r, W, amb.taxonomy)
            assert 0.0 <= s.score <= 1.0
            for c in s.components:
                assert 0.0 <= c.value <= 1.0
                assert c.reason.strip(), c
                assert not ENGLISH.search(c.reason), c.reason
                seen.add(c.name)
    assert seen == set(COMPONENT_NAMES)


@pytest.mark.parametrize("seed", [21, 22])
def test_batch_scores_equal_scalar_scores_bit_for_bit(seed: int) -> None:
    amb = generate_ambito(500, 200, seed=seed)
    index = CandidateIndex(amb.resources, amb.taxonomy)
    weights = Weights(category_fit=2.5, language=0.7, continuity=2.0)
    graph = build_graph(amb.needs, index, weights, max_candidates_per_need=None)
    assert graph.edges > 200
    for e in range(graph.edges):
        n = graph.needs[graph.need_idx[e]]
        r = index.resources[graph.res_idx[e]]
        assert score(n, r, weights, amb.taxonomy).score == graph.scores[e]
