"""The demo's community activities (when they met, who organised them) and the
interactions recorded by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# --- community activities -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivitySpec:
    title: str
    description: str
    comune: str
    organisers: tuple[str, ...]
    # (first day, last day or None) given today
    dates: Callable[[date], tuple[date, date | None]]
    # the days it met, given (first, last) and today
    sessions: Callable[[date, date], list[date]]
    hours: tuple[str, str]
    people: tuple[int, int]  # volunteers per session
    # in-kind entries: (holder, unit, quantity range, cents per unit or None, every N sessions)
    in_kind: tuple[tuple[str, str, tuple[int, int], int | None, int], ...] = ()


def _last_season(today: date, start: tuple[int, int], end: tuple[int, int]) -> tuple[date, date]:
    """The latest (start, end) of a yearly season that has already begun."""
    year = today.year if date(today.year, *start) <= today else today.year - 1
    return date(year, *start), date(year, *end)


def _weekly(weekdays: Iterable[int]) -> Callable[[date, date], list[date]]:
    days = set(weekdays)

    def sessions(first: date, last: date) -> list[date]:
        return [d for d in _days(first, last) if d.weekday() in days]

    return sessions


def _first_saturdays(first: date, last: date) -> list[date]:
    return [d for d in _days(first, last) if d.weekday() == 5 and d.day <= 7]


def _every(weeks: int, weekday: int) -> Callable[[date, date], list[date]]:
    def sessions(first: date, last: date) -> list[date]:
        days = [d for d in _days(first, last) if d.weekday() == weekday]
        return days[::weeks]

    return sessions


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _festa(today: date) -> tuple[date, date | None]:
    """The third Sunday of September, this year's if it is past, else last year's."""
    for year in (today.year, today.year - 1):
        sundays = [d for d in _days(date(year, 9, 1), date(year, 9, 30)) if d.weekday() == 6]
        if sundays[2] < today:
            return sundays[2], sundays[2]
    raise AssertionError("unreachable")


ACTIVITIES: list[ActivitySpec] = [
    ActivitySpec(
        "Tavola solidale del giovedì",
        "Pranzo comunitario nella mensa della scuola: cucinano e servono i volontari di "
        "cinque realtà del territorio.",
        "Lurate Caccivio",
        (
            "Caritas parrocchiale San Gerardo",
            "Istituto comprensivo di Lurate Caccivio",
            "Auser Olgiate Comasco",
            "Scuola di italiano Parole in cammino",
            "Banco di solidarietà dell'Olgiatese",
        ),
        lambda today: (today - timedelta(days=358), None),
        _weekly([3]),
        ("11:00", "14:30"),
        (2, 3),
        (
            ("Caritas parrocchiale San Gerardo", "meals", (18, 34), 450, 1),
            ("Istituto comprensivo di Lurate Caccivio", "room_hours", (14, 14), 1500, 4),
        ),
    ),
    ActivitySpec(
        "Orto sociale di Guanzate",
        "Un orto condiviso dove lavorano insieme anziani, giovani con disabilità e donne "
        "della scuola di italiano.",
        "Guanzate",
        (
            "Gruppo volontari trasporto amico",
            "Scuola di italiano Parole in cammino",
            "Cooperativa sociale Il Sentiero",
            "Rete di vicinato di Binago",
            "Falegnameria Bernasconi srl",
        ),
        lambda today: _last_season(today, (4, 1), (10, 31)),
        _weekly([5]),
        ("09:00", "12:00"),
        (2, 3),
        (("Falegnameria Bernasconi srl", "items", (6, 6), 9000, 100),),
    ),
    ActivitySpec(
        "Estate insieme - centro estivo",
        "Sei settimane di centro estivo in oratorio il lunedì, il mercoledì e il venerdì, con "
        "i ragazzi della scuola e le famiglie del quartiere.",
        "Villa Guardia",
        (
            "Oratorio di Villa Guardia",
            "Istituto comprensivo di Lurate Caccivio",
            "Maria R. (volontaria)",
            "Rete di vicinato di Binago",
            "Cooperativa sociale Il Sentiero",
        ),
        lambda today: _last_season(today, (6, 15), (7, 31)),
        _weekly([0, 2, 4]),
        ("08:30", "12:30"),
        (2, 3),
        (("Oratorio di Villa Guardia", "room_hours", (12, 12), 1200, 3),),
    ),
    ActivitySpec(
        "Festa del volontariato dell'Olgiatese",
        "Stand, merenda e racconti: le realtà del territorio si presentano ai cittadini.",
        "Olgiate Comasco",
        (
            "Auser Olgiate Comasco",
            "Caritas parrocchiale San Gerardo",
            "Banco di solidarietà dell'Olgiatese",
            "Scuola di italiano Parole in cammino",
            "Oratorio di Villa Guardia",
            "Protezione civile Colverde",
            "Gruppo volontari trasporto amico",
            "Cooperativa sociale Il Sentiero",
        ),
        _festa,
        lambda first, last: [first],
        ("14:00", "19:00"),
        (6, 9),
    ),
    ActivitySpec(
        "Raccolte alimentari di quartiere",
        "Al supermercato di Faloppio, un sabato ogni sei settimane: la spesa donata va al "
        "Banco e alla Caritas.",
        "Faloppio",
        (
            "Banco di solidarietà dell'Olgiatese",
            "Protezione civile Colverde",
            "Caritas parrocchiale San Gerardo",
            "Auser Olgiate Comasco",
            "Falegnameria Bernasconi srl",
        ),
        lambda today: (today - timedelta(days=350), None),
        _every(6, 5),
        ("08:30", "13:00"),
        (3, 5),
        (
            ("Banco di solidarietà dell'Olgiatese", "items", (180, 420), 250, 1),
            ("Falegnameria Bernasconi srl", "trips", (1, 2), 4000, 1),
        ),
    ),
    ActivitySpec(
        "Repair café di Appiano",
        "Il primo sabato del mese si aggiustano insieme piccoli elettrodomestici, biciclette "
        "e mobili.",
        "Appiano Gentile",
        (
            "Falegnameria Bernasconi srl",
            "Cooperativa sociale Il Sentiero",
            "Protezione civile Colverde",
            "Scuola di italiano Parole in cammino",
            "Auser Olgiate Comasco",
        ),
        lambda today: (today - timedelta(days=340), None),
        _first_saturdays,
        ("09:30", "12:30"),
        (3, 5),
    ),
]

# --- interactions recorded by hand ------------------------------------------------------------

# The monthly coordination of the network, on its first Tuesday: every sector at one table,
# so each month of the demo shows ties across sectors (its blocks above the threshold of 5)
# whichever day the demo is loaded.
MONTHLY_MEETING = (
    "network_meeting",
    "Coordinamento mensile della rete territoriale",
    (
        "Istituto comprensivo di Lurate Caccivio",
        "Protezione civile Colverde",
        "Falegnameria Bernasconi srl",
        "Rete di vicinato di Binago",
        "Maria R. (volontaria)",
        "Auser Olgiate Comasco",
        "Caritas parrocchiale San Gerardo",
        "Banco di solidarietà dell'Olgiatese",
        "Cooperativa sociale Il Sentiero",
        "Gruppo volontari trasporto amico",
    ),
    "Turni, segnalazioni e bisogni emersi nel mese.",
)


def first_tuesdays(today: date, months: int = 12) -> list[date]:
    """The first Tuesday of each of the last `months` months, when it is already past."""
    days = []
    first = today.replace(day=1)
    for _ in range(months):
        tuesday = first + timedelta(days=(1 - first.weekday()) % 7)
        if tuesday < today:
            days.append(tuesday)
        first = (first - timedelta(days=1)).replace(day=1)
    return days[::-1]


INTERACTIONS: list[tuple[str, str, int, tuple[str, ...], str]] = [
    (
        "co_programming_table",
        "Tavolo di co-programmazione area anziani (art. 55 CTS)",
        300,
        (
            "Auser Olgiate Comasco",
            "Caritas parrocchiale San Gerardo",
            "Rete di vicinato di Binago",
            "Gruppo volontari trasporto amico",
            "Protezione civile Colverde",
        ),
        "Prima sessione: mappa dei bisogni degli anziani soli.",
    ),
    (
        "co_programming_table",
        "Tavolo di co-programmazione povertà e inclusione",
        240,
        (
            "Caritas parrocchiale San Gerardo",
            "Banco di solidarietà dell'Olgiatese",
            "Scuola di italiano Parole in cammino",
            "Falegnameria Bernasconi srl",
            "Protezione civile Colverde",
        ),
        "Accordo per la consegna coordinata di pacchi e arredi.",
    ),
    (
        "co_programming_table",
        "Tavolo famiglie e minori",
        180,
        (
            "Oratorio di Villa Guardia",
            "Istituto comprensivo di Lurate Caccivio",
            "Cooperativa sociale Il Sentiero",
            "Rete di vicinato di Binago",
        ),
        "Programmazione del centro estivo e del doposcuola.",
    ),
    (
        "network_meeting",
        "Assemblea della rete del volontariato dell'Olgiatese",
        120,
        (
            "Auser Olgiate Comasco",
            "Caritas parrocchiale San Gerardo",
            "Cooperativa sociale Il Sentiero",
            "Banco di solidarietà dell'Olgiatese",
            "Oratorio di Villa Guardia",
            "Scuola di italiano Parole in cammino",
            "Gruppo volontari trasporto amico",
            "Maria R. (volontaria)",
        ),
        "Calendario comune delle attività e dei turni.",
    ),
    (
        "joint_project",
        "Progetto «Nessuno resta solo» - estate",
        75,
        (
            "Auser Olgiate Comasco",
            "Rete di vicinato di Binago",
            "Gruppo volontari trasporto amico",
            "Falegnameria Bernasconi srl",
        ),
        "Telefonate e visite agli anziani soli durante le ondate di calore.",
    ),
    (
        "co_programming_table",
        "Tavolo di co-programmazione area anziani (art. 55 CTS)",
        30,
        (
            "Auser Olgiate Comasco",
            "Caritas parrocchiale San Gerardo",
            "Rete di vicinato di Binago",
            "Gruppo volontari trasporto amico",
            "Istituto comprensivo di Lurate Caccivio",
        ),
        "Verifica dei progetti personalizzati avviati nell'anno.",
    ),
]
