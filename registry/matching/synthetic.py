"""Synthetic ambito for the benchmark and for demos: seeded, realistically skewed.

- taxonomy: 8 areas x 5 leaf categories (2 levels, 40 leaves); popularity
  of leaves is Zipf-like (s = 1) in a seeded random order, the same for
  supply and demand;
- 25 comuni with Zipf-like populations (s = 0.8); resources are based in a
  comune drawn by population and serve 1-3 comuni (3% the whole ambito);
- ~4 resources per holder (Zipf-like holder sizes), 10% new holders;
- 12% of resources are filed under the general area, not a leaf;
- capacities 1-5 (mostly 1-2), windows on weekdays (Saturday rarely), 15%
  of resources and 20% of needs without windows; 10% of resources stale;
- comuni at random points of a ~25 x 20 km area (a small ambito); resources
  located at their home comune, needs at their plan's comune, and 20% of
  needs limited to 5-20 km. These are drawn from a second seeded stream, so
  everything else is what it was before locations existed.
- days since the last confirmation: 0-100, uniform (a third past the 60-day reminder),
  from a third stream for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .model import NeedItem, ResourceItem, Taxonomy, WeeklyWindow

AREAS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "ACC": (
        "Accompagnamento",
        (
            ("VISITE", "Accompagnamento a visite mediche"),
            ("UFFICI", "Accompagnamento a uffici e servizi"),
            ("SPESA", "Aiuto per la spesa"),
            ("SCUOLA", "Accompagnamento a scuola"),
            ("SVAGO", "Accompagnamento ad attività di svago"),
        ),
    ),
    "TRA": (
        "Trasporto",
        (
            ("SOCIALE", "Trasporto sociale"),
            ("ATTREZZATO", "Trasporto attrezzato per disabili"),
            ("TERAPIE", "Trasporto per terapie"),
            ("LAVORO", "Trasporto al lavoro"),
            ("EVENTI", "Trasporto per eventi"),
        ),
    ),
    "EDU": (
        "Educazione e tutoraggio",
        (
            ("COMPITI", "Aiuto compiti"),
            ("ITALIANO", "Corso di italiano L2"),
            ("DIGITALE", "Alfabetizzazione digitale"),
            ("ORIENTA", "Orientamento scolastico"),
            ("LAB", "Laboratori creativi"),
        ),
    ),
    "REL": (
        "Relazioni",
        (
            ("COMPAGNIA", "Compagnia domiciliare"),
            ("TELEFONO", "Telefonata amica"),
            ("AMA", "Gruppo di auto mutuo aiuto"),
            ("MENTORE", "Mentoring"),
            ("VICINATO", "Rete di vicinato"),
        ),
    ),
    "SPA": (
        "Spazi",
        (
            ("SALA", "Sala per attività"),
            ("CUCINA", "Cucina attrezzata"),
            ("ORTO", "Orto condiviso"),
            ("PALESTRA", "Palestra"),
            ("STUDIO", "Aula studio"),
        ),
    ),
    "BEN": (
        "Beni",
        (
            ("ALIMENTI", "Pacchi alimentari"),
            ("VESTITI", "Vestiario"),
            ("MOBILI", "Mobili e arredi"),
            ("AUSILI", "Ausili sanitari"),
            ("PC", "Computer e tablet"),
        ),
    ),
    "CAS": (
        "Aiuto in casa",
        (
            ("PULIZIE", "Piccole pulizie"),
            ("MANUTENZIONE", "Piccola manutenzione"),
            ("PASTI", "Consegna pasti"),
            ("SOLLIEVO", "Sollievo ai caregiver"),
            ("ANIMALI", "Cura degli animali"),
        ),
    ),
    "LAV": (
        "Lavoro e pratiche",
        (
            ("CV", "Aiuto al curriculum"),
            ("TIROCINIO", "Tirocinio"),
            ("PRATICHE", "Aiuto pratiche burocratiche"),
            ("LEGALE", "Consulenza legale"),
            ("SPORTELLO", "Sportello informativo"),
        ),
    ),
}
TARGET_GROUPS = (
    "famiglie_minori",
    "disabili",
    "dipendenze",
    "anziani",
    "immigrati",
    "poverta",
    "multiutenza",
)
FOREIGN_LANGUAGES = ("en", "fr", "ar", "ro", "sq", "uk", "es", "zh")
SECTORS = ("third_sector", "informal", "public", "business")


@dataclass(frozen=True, slots=True)
class SyntheticAmbito:
    taxonomy: Taxonomy
    comuni: tuple[str, ...]
    populations: tuple[int, ...]
    resources: tuple[ResourceItem, ...]
    needs: tuple[NeedItem, ...]


def build_taxonomy() -> Taxonomy:
    parents: dict[str, str | None] = {}
    labels: dict[str, str] = {}
    for area, (label, leaves) in AREAS.items():
        parents[area] = None
        labels[area] = label
        for code, leaf_label in leaves:
            parents[f"{area}.{code}"] = area
            labels[f"{area}.{code}"] = leaf_label
    return Taxonomy(parents=parents, labels=labels)


def _zipf(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


class _WindowDraws:
    """Pre-drawn window parts: numpy draws in bulk are ~100x faster than per item."""

    def __init__(self, rng: np.random.Generator, n: int, max_hours: int) -> None:
        self.days = rng.choice(6, size=n, p=[0.19, 0.19, 0.19, 0.19, 0.19, 0.05])
        self.starts = 8 * 60 + 30 * rng.integers(0, 21, size=n)
        self.lengths = 60 * rng.integers(1, max_hours + 1, size=n)
        self.next = 0

    def take(self, count: int) -> tuple[WeeklyWindow, ...]:
        out = []
        for j in range(self.next, self.next + count):
            start = int(self.starts[j])
            end = min(start + int(self.lengths[j]), 22 * 60)
            out.append(WeeklyWindow(int(self.days[j]), start, end))
        self.next += count
        return tuple(sorted(out))


def generate_ambito(n_resources: int, n_needs: int, seed: int = 42) -> SyntheticAmbito:
    """A seeded synthetic ambito of `n_resources` resources and `n_needs` open needs."""
    rng = np.random.default_rng(seed)
    geo_rng = np.random.default_rng([seed, 7])
    taxonomy = build_taxonomy()
    leaves = [c for c, p in taxonomy.parents.items() if p is not None]
    leaf_pop = _zipf(len(leaves), 1.0)[rng.permutation(len(leaves))]
    area_codes = list(AREAS)
    area_pop = np.array(
        [
            sum(leaf_pop[i] for i, c in enumerate(leaves) if c.startswith(a + "."))
            for a in area_codes
        ]
    )

    n_comuni = 25
    comuni = tuple(f"013{100 + 7 * i:03d}" for i in range(n_comuni))
    pops = (40_000 * _zipf(n_comuni, 0.8) / _zipf(n_comuni, 0.8)[0]).astype(int)
    pop_p = pops / pops.sum()
    lats = 45.70 + 0.18 * geo_rng.random(n_comuni)
    lons = 8.85 + 0.30 * geo_rng.random(n_comuni)
    places = [(round(float(a), 5), round(float(b), 5)) for a, b in zip(lats, lons, strict=True)]

    n_holders = max(1, n_resources // 4)
    holder_p = _zipf(n_holders, 0.7)
    holder_home = rng.choice(n_comuni, size=n_holders, p=pop_p)
    holder_new = rng.random(n_holders) < 0.10
    holder_load = np.where(holder_new, 0, rng.geometric(0.25, n_holders) - 1)
    holder_sector = rng.choice(len(SECTORS), size=n_holders, p=[0.6, 0.2, 0.1, 0.1])

    n = n_resources
    holder_of = rng.choice(n_holders, size=n, p=holder_p)
    general = rng.random(n) < 0.12
    area_of = rng.choice(len(area_codes), size=n, p=area_pop)
    leaf_of = rng.choice(len(leaves), size=n, p=leaf_pop)
    ambito_wide = rng.random(n) < 0.03
    extra_count = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    extra_comuni = rng.choice(n_comuni, size=(n, 2), p=pop_p)
    has_tg = rng.random(n) < 0.4
    tg_count = rng.integers(1, 3, size=n)
    tg_pick = np.argsort(rng.random((n, 7)), axis=1)[:, :2]
    foreign = rng.random(n) < 0.2
    foreign_pick = rng.integers(len(FOREIGN_LANGUAGES), size=n)
    no_italian = rng.random(n) < 0.02
    clr_draw = rng.random((n, 3)) < np.array([0.3, 0.1, 0.05])
    validity_u = rng.random(n)
    from_open = rng.integers(-365, 365, size=n)
    from_bounded = rng.integers(-180, 300, size=n)
    span = rng.integers(90, 366, size=n)
    n_win = np.where(rng.random(n) < 0.15, 0, rng.integers(1, 5, size=n))
    capacity = rng.choice(5, size=n, p=[0.45, 0.25, 0.15, 0.1, 0.05]) + 1
    stale = rng.random(n) < 0.10
    confirmed_days = np.random.default_rng([seed, 11]).integers(0, 101, size=n)
    res_windows = _WindowDraws(rng, int(n_win.sum()), 4)

    base = date(2026, 1, 1)
    resources = []
    for i in range(n):
        h = int(holder_of[i])
        category = area_codes[int(area_of[i])] if general[i] else leaves[int(leaf_of[i])]
        home_i = int(holder_home[h])
        home = comuni[home_i]
        served: frozenset[str] = frozenset()
        if not ambito_wide[i]:
            others = extra_comuni[i, : int(extra_count[i])]
            served = frozenset({home, *(comuni[int(o)] for o in others)})
        tgs: frozenset[str] = frozenset()
        if has_tg[i]:
            tgs = frozenset(TARGET_GROUPS[int(t)] for t in tg_pick[i, : int(tg_count[i])])
        langs = {"it"}
        if foreign[i]:
            langs.add(FOREIGN_LANGUAGES[int(foreign_pick[i])])
            if no_italian[i]:
                langs.discard("it")
        clearances = frozenset(
            c for c, on in zip(("minori", "patente", "haccp"), clr_draw[i], strict=True) if on
        )
        valid_from = valid_until = None
        if validity_u[i] < 0.2:
            valid_from = base + timedelta(days=int(from_open[i]))
        elif validity_u[i] < 0.3:
            valid_from = base + timedelta(days=int(from_bounded[i]))
            valid_until = valid_from + timedelta(days=int(span[i]))
        resources.append(
            ResourceItem(
                id=f"R{i:06d}",
                holder_id=f"H{h:05d}",
                holder_sector=SECTORS[int(holder_sector[h])],
                category=category,
                comuni=served,
                target_groups=tgs,
                languages=frozenset(langs),
                clearances=clearances,
                valid_from=valid_from,
                valid_until=valid_until,
                capacity=int(capacity[i]),
                windows=res_windows.take(int(n_win[i])),
                holder_load=int(holder_load[h]),
                holder_is_new=bool(holder_new[h]),
                stale=bool(stale[i]),
                confirmed_days=int(confirmed_days[i]),
                home_comune=home,
                home_location=places[home_i],
            )
        )

    n_plans = max(1, n_needs // 2)
    plan_comune = rng.choice(n_comuni, size=n_plans, p=pop_p)
    plan_tg = rng.choice(7, size=n_plans, p=[0.3, 0.15, 0.05, 0.25, 0.1, 0.1, 0.05])
    plan_k = rng.choice(3, size=n_plans, p=[0.5, 0.3, 0.2])
    plan_pick = rng.choice(n_holders, size=(n_plans, 2), p=holder_p)
    plan_holders = [
        frozenset(f"H{int(x):05d}" for x in plan_pick[p, : int(plan_k[p])]) for p in range(n_plans)
    ]

    m = n_needs
    plan_of = rng.integers(n_plans, size=m)
    minori = rng.random(m) < 0.6
    patente = rng.random(m) < 0.05
    needs_lang = rng.random(m) < 0.08
    lang_count = rng.integers(1, 3, size=m)
    lang_pick = np.argsort(rng.random((m, len(FOREIGN_LANGUAGES))), axis=1)[:, :2]
    start_day = rng.integers(0, 365, size=m)
    open_end = rng.random(m) < 0.3
    length = rng.integers(30, 366, size=m)
    need_n_win = np.where(rng.random(m) < 0.2, 0, rng.integers(1, 4, size=m))
    quantity = np.where(rng.random(m) < 0.5, 0, 60 * rng.integers(1, 5, size=m))
    need_leaf = rng.choice(len(leaves), size=m, p=leaf_pop)
    priority = rng.choice(5, size=m, p=[0.1, 0.25, 0.35, 0.2, 0.1]) + 1
    need_windows = _WindowDraws(rng, int(need_n_win.sum()), 3)
    limited = geo_rng.random(m) < 0.2
    limit_km = geo_rng.choice(np.array([5.0, 8.0, 12.0, 20.0]), size=m)

    needs = []
    for i in range(m):
        p = int(plan_of[i])
        tg = TARGET_GROUPS[int(plan_tg[p])]
        required = set()
        if tg == "famiglie_minori" and minori[i]:
            required.add("minori")
        if patente[i]:
            required.add("patente")
        langs_needed: frozenset[str] = frozenset()
        if needs_lang[i]:
            langs_needed = frozenset(
                FOREIGN_LANGUAGES[int(x)] for x in lang_pick[i, : int(lang_count[i])]
            )
        start = base + timedelta(days=int(start_day[i]))
        end = None if open_end[i] else start + timedelta(days=int(length[i]))
        needs.append(
            NeedItem(
                id=f"N{i:06d}",
                plan_id=f"P{p:05d}",
                category=leaves[int(need_leaf[i])],
                comune=comuni[int(plan_comune[p])],
                location=places[int(plan_comune[p])],
                max_distance_km=float(limit_km[i]) if limited[i] else None,
                target_group=tg,
                languages=langs_needed,
                required_clearances=frozenset(required),
                start=start,
                end=end,
                quantity_per_week_minutes=int(quantity[i]),
                windows=need_windows.take(int(need_n_win[i])),
                plan_holder_ids=plan_holders[p],
                priority=int(priority[i]),
            )
        )
    return SyntheticAmbito(
        taxonomy=taxonomy,
        comuni=comuni,
        populations=tuple(int(x) for x in pops),
        resources=tuple(resources),
        needs=tuple(needs),
    )
