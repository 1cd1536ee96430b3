"""Task levels and hourly rates for the replacement value of volunteer time (pure data).

Replacement-cost method (ILO, *Manual on the Measurement of Volunteer Work*, 2011; art. 17
Codice del Terzo Settore and DM 107/2021 on "costi figurativi"): each hour is valued at the
hourly cost of the paid job that would do the same task. The job levels follow the contract
of social cooperatives (CCNL cooperative sociali, levels A1 ... F2).

THE RATES BELOW ARE INDICATIVE DEFAULTS, NOT OFFICIAL FIGURES: they are of the order of the
hourly labour cost of that contract's levels as published in the Ministry of Labour's tables
("costo medio orario del lavoro" for social cooperatives), rounded. Each Ufficio di Piano
replaces them with the table in force (PUT /api/metrics/rates/{level}/{year}); every euro
figure says which rate and year it used and whether it was still a default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_RATE_YEAR = 2024
DEFAULT_RATE_SOURCE = (
    "Valore indicativo di default, da sostituire: ordine di grandezza del costo medio orario "
    "del lavoro del CCNL cooperative sociali (tabelle del Ministero del Lavoro), arrotondato; "
    "non è il valore ufficiale"
)

TASK_LEVELS: dict[str, str] = {
    "A1": "A1 – ausiliario (pulizie, commissioni semplici)",
    "B1": "B1 – operatore di base (trasporto, compagnia, animazione, piccole manutenzioni)",
    "C1": "C1 – operatore socio-assistenziale (accompagnamento, sollievo, assistenza)",
    "D1": "D1 – operatore educativo / impiegato di concetto (doposcuola, supporto digitale)",
    "D2": "D2 – educatore professionale / docente (italiano L2, tutoraggio)",
    "E1": "E1 – professionista (consulenza legale, fiscale, amministrativa)",
}
DEFAULT_TASK_LEVEL = "B1"

# Indicative hourly cost in euro cents per level (see the module docstring).
DEFAULT_RATES_CENTS: dict[str, int] = {
    "A1": 1850,
    "B1": 1980,
    "C1": 2150,
    "D1": 2290,
    "D2": 2430,
    "E1": 2700,
}

# Resource category (taxonomy code) -> task level; anything else is DEFAULT_TASK_LEVEL.
DEFAULT_CATEGORY_LEVELS: dict[str, str] = {
    "compagnia-ascolto": "B1",
    "sostegno-scolastico": "D1",
    "lingua-italiana": "D2",
    "supporto-digitale": "D1",
    "consulenza": "E1",
    "orientamento-lavoro": "D1",
    "animazione": "B1",
    "trasporto": "B1",
    "accompagnamento": "C1",
    "consegna-spesa": "A1",
    "piccole-manutenzioni": "B1",
    "pasti": "A1",
    "sollievo": "C1",
    "buon-vicinato": "B1",
    "auto-mutuo-aiuto": "D1",
    "tutoraggio": "D2",
    "famiglie-solidali": "C1",
}


@dataclass(frozen=True, slots=True)
class Rate:
    task_level: str
    year: int
    cents_per_hour: int
    source: str
    is_default: bool


def default_rates() -> list[Rate]:
    return [
        Rate(level, DEFAULT_RATE_YEAR, cents, DEFAULT_RATE_SOURCE, True)
        for level, cents in DEFAULT_RATES_CENTS.items()
    ]


def effective_rates(stored: Iterable[Rate]) -> list[Rate]:
    """The UdP's own rates, and the defaults for every (level, year) it did not set."""
    table = {(r.task_level, r.year): r for r in default_rates()}
    for rate in stored:
        table[(rate.task_level, rate.year)] = rate
    return sorted(table.values(), key=lambda r: (r.task_level, r.year))


def level_of(category: str | None, overrides: Mapping[str, str] | None = None) -> str:
    if category is None:
        return DEFAULT_TASK_LEVEL
    if overrides and category in overrides:
        return overrides[category]
    return DEFAULT_CATEGORY_LEVELS.get(category, DEFAULT_TASK_LEVEL)


def pick_rate(rates: Iterable[Rate], level: str, year: int) -> Rate | None:
    """The rate of `level` for `year`; else the latest earlier year; else the earliest later
    one; else (a level without rates) the same for the default level."""
    for wanted in (level, DEFAULT_TASK_LEVEL):
        same = [r for r in rates if r.task_level == wanted]
        earlier = [r for r in same if r.year <= year]
        if earlier:
            return max(earlier, key=lambda r: r.year)
        if same:
            return min(same, key=lambda r: r.year)
    return None
