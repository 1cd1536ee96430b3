"""Plain data: validation, coercion, taxonomy and schedule helpers."""

from __future__ import annotations

import pickle
from datetime import date

import pytest

from registry.matching import (
    COMPONENT_NAMES,
    NeedItem,
    ResourceItem,
    Taxonomy,
    WeeklyWindow,
    Weights,
)
from registry.matching.geo import distance_km, km_it
from registry.matching.schedule import duration_it, hours_it, normalise, overlap_minutes, per_day


def test_weekly_window_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        WeeklyWindow(7, 0, 60)
    with pytest.raises(ValueError):
        WeeklyWindow(0, 600, 600)
    with pytest.raises(ValueError):
        WeeklyWindow(0, 1380, 1500)  # crosses midnight: must be split
    assert WeeklyWindow(6, 0, 1440).minutes == 1440


def test_items_coerce_iterables_and_validate() -> None:
    r = ResourceItem(
        id="R1",
        holder_id="H1",
        holder_sector="third_sector",
        category="A",
        comuni=["013001"],  # type: ignore[arg-type]
        windows=[WeeklyWindow(0, 60, 120)],  # type: ignore[arg-type]
    )
    assert r.comuni == frozenset({"013001"})
    assert r.windows == (WeeklyWindow(0, 60, 120),)
    with pytest.raises(ValueError):
        ResourceItem(
            id="R", holder_id="H", holder_sector="x", category="A", comuni=frozenset(), capacity=-1
        )
    with pytest.raises(ValueError):
        ResourceItem(
            id="R",
            holder_id="H",
            holder_sector="x",
            category="A",
            comuni=frozenset(),
            valid_from=date(2026, 2, 1),
            valid_until=date(2026, 1, 1),
        )
    with pytest.raises(ValueError):
        NeedItem(id="N", plan_id="P", category="A", comune="1", priority=6)
    with pytest.raises(ValueError):
        NeedItem(
            id="N",
            plan_id="P",
            category="A",
            comune="1",
            start=date(2026, 2, 1),
            end=date(2026, 1, 1),
        )


def test_taxonomy_ancestors_distance_and_labels() -> None:
    tax = Taxonomy(
        parents={"A": None, "A.1": "A", "A.1.x": "A.1", "B": None},
        labels={"A.1": "Accompagnamento"},
    )
    assert tax.ancestors("A.1.x") == ("A.1", "A")
    assert tax.ancestors("A") == ()
    assert tax.ancestors("unknown") == ()
    assert tax.distance("A.1.x", "A.1.x") == 0
    assert tax.distance("A.1.x", "A") == 2
    assert tax.distance("A", "A.1") is None  # a child is not an ancestor
    assert tax.distance("A.1", "B") is None
    assert tax.label("A.1") == "Accompagnamento"
    assert tax.label("B") == "B"


def test_taxonomy_equality_and_hash_follow_content() -> None:
    a = Taxonomy(parents={"A": None, "A.1": "A"}, labels={"A": "x"})
    b = Taxonomy(parents={"A.1": "A", "A": None}, labels={"A": "x"})
    assert a == b
    assert hash(a) == hash(b)
    assert a != Taxonomy(parents={"A": None, "A.1": "A"}, labels={"A": "y"})


def test_taxonomy_rejects_cycles() -> None:
    with pytest.raises(ValueError, match="cycle"):
        Taxonomy(parents={"A": "B", "B": "A"})


def test_weights_validation_and_order() -> None:
    w = Weights()
    assert [n for n, _ in w.items()] == list(COMPONENT_NAMES)
    assert w.total == pytest.approx(sum(v for _, v in w.items()))
    with pytest.raises(ValueError):
        Weights(category_fit=-1)
    with pytest.raises(ValueError):
        Weights(**{n: 0.0 for n in COMPONENT_NAMES})


def test_normalise_merges_and_sorts() -> None:
    ws = [WeeklyWindow(1, 600, 720), WeeklyWindow(1, 540, 660), WeeklyWindow(0, 0, 60)]
    assert normalise(ws) == ((0, 60), (1440 + 540, 1440 + 720))
    # Touching windows merge too.
    assert normalise([WeeklyWindow(2, 60, 120), WeeklyWindow(2, 120, 180)]) == (
        (2 * 1440 + 60, 2 * 1440 + 180),
    )


def test_overlap_and_per_day() -> None:
    need = normalise([WeeklyWindow(0, 540, 660), WeeklyWindow(3, 840, 1080)])
    offer = normalise(
        [WeeklyWindow(0, 600, 720), WeeklyWindow(3, 840, 960), WeeklyWindow(4, 0, 600)]
    )
    assert overlap_minutes(need, offer) == 60 + 120
    assert per_day(need, offer) == [(0, 60, 120), (3, 120, 240)]
    # Same clock time on different days never overlaps.
    assert (
        overlap_minutes(normalise([WeeklyWindow(0, 0, 600)]), normalise([WeeklyWindow(1, 0, 600)]))
        == 0
    )


def test_italian_durations() -> None:
    assert hours_it(180) == "3"
    assert hours_it(90) == "1,5"
    assert hours_it(20) == "0,33"
    assert duration_it(60) == "1 ora"
    assert duration_it(150) == "2 ore e 30 minuti"
    assert duration_it(45) == "45 minuti"


def test_locations_and_max_distance_validate() -> None:
    r = ResourceItem(
        id="R",
        holder_id="H",
        holder_sector="x",
        category="A",
        comuni=frozenset(),
        home_location=[45, 9],  # type: ignore[arg-type]
    )
    assert r.home_location == (45.0, 9.0)
    n = NeedItem(
        id="N", plan_id="P", category="A", comune="1", location=(45.8, 8.9), max_distance_km=10
    )
    assert (n.location, n.max_distance_km) == ((45.8, 8.9), 10.0)
    for bad in ((91.0, 9.0), (45.0, 181.0), (float("nan"), 9.0), (45.0,)):
        with pytest.raises(ValueError):
            NeedItem(id="N", plan_id="P", category="A", comune="1", location=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            ResourceItem(
                id="R",
                holder_id="H",
                holder_sector="x",
                category="A",
                comuni=frozenset(),
                home_location=bad,  # type: ignore[arg-type]
            )
    for limit in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            NeedItem(id="N", plan_id="P", category="A", comune="1", max_distance_km=limit)


def test_distance_km_and_italian_distances() -> None:
    # Olgiate Comasco -> Bizzarone centroids (registry/data/comuni.csv): ~5.9 km.
    olgiate, bizzarone = (45.78613, 8.96987), (45.8358, 8.94427)
    assert distance_km(olgiate, bizzarone) == pytest.approx(5.87, abs=0.01)
    assert distance_km(olgiate, bizzarone) == pytest.approx(distance_km(bizzarone, olgiate))
    assert distance_km(olgiate, olgiate) == 0.0
    # One degree of latitude is ~111.2 km on the mean sphere.
    assert distance_km((45.0, 9.0), (46.0, 9.0)) == pytest.approx(111.19, abs=0.01)
    assert distance_km((0.0, 0.0), (0.0, 180.0)) == pytest.approx(20015.1, abs=0.1)
    assert [km_it(x) for x in (0.4, 1.0, 5.87, 7.02, 9.97, 12.4, 150.0)] == [
        "meno di 1 km",
        "1 km",
        "5,9 km",
        "7 km",
        "10 km",
        "12 km",
        "150 km",
    ]


def test_a_taxonomy_travels_to_a_worker_process_whole() -> None:
    # A matching run computes in a worker process: its taxonomy is pickled there and back.
    taxonomy = Taxonomy({"a": None, "a.b": "a", "a.b.c": "a.b"}, {"a": "Trasporto"})
    copy = pickle.loads(pickle.dumps(taxonomy))
    assert copy == taxonomy and hash(copy) == hash(taxonomy)
    assert copy.ancestors("a.b.c") == ("a.b", "a")
    assert copy.children("a") == ("a.b",)
    assert copy.labels["a"] == "Trasporto"
