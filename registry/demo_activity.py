"""A year in the life of the demo ambito: who helped whom, when, and what it was worth.

`build()` writes, for the twelve months before today, what the registry's own services would
have written while the Olgiatese used it: volunteer accounts, pseudonymous personalised plans
with their needs (created by the `assistente` social worker), matches through their whole
lifecycle (proposed, accepted, active, completed, declined, withdrawn) with their history and
the places they hold, the contribution ledger (QR check-ins with their presences, self-reported
entries and their confirmations, goods, meals and room hours with a declared value, a few
corrections and a cancellation), community activities organised by several holders, funded
interventions and interactions recorded by hand (co-programming tables).

Rows are bulk-inserted, because going through the services one request at a time would be
slow and would stamp everything with today's date; each row is built the way its service
builds it (the same columns, keys, digests, history and counters), and the domain's own pure
rules are reused where there are some (case codes, quarter-hour rounding of a presence, the
matching engine's score and explanation).

Everything is drawn from a seeded `random.Random` (ids included) and placed relative to
today: every load draws the same year, shifted so that it always ends today.
"""

from __future__ import annotations

import calendar
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.table import Table

from registry import matching
from registry.access import Principal, Role
from registry.ambiti.tables import Comune
from registry.audit.schemas import AuditAction
from registry.audit.tables import AccessLog
from registry.checkin.service import measured_minutes
from registry.checkin.tables import CheckIn
from registry.contributions import corrections, quantities, recording
from registry.contributions.schemas import (
    Cancellation,
    ContributionCorrection,
    ContributionCreate,
)
from registry.contributions.tables import (
    ActivityOrganiser,
    CommunityActivity,
    Contribution,
    ContributionConfirmation,
)
from registry.db import unit_of_work
from registry.holders.tables import Holder
from registry.interventions.tables import FundedIntervention
from registry.matches import engine_io
from registry.matches.service import components_of
from registry.matches.tables import Match, MatchEvent, ResourceCapacity
from registry.metrics.tables import Interaction, InteractionParticipant
from registry.plans.pseudonym import check_case_code
from registry.plans.tables import Need, Plan
from registry.resources.tables import Resource
from registry.users.tables import User
from registry.vocabularies import ContributionUnit

ROME = ZoneInfo("Europe/Rome")
SEED = 20_260_101
CHUNK = 200  # rows per INSERT: far below SQLite's limit of bound parameters

# --- who --------------------------------------------------------------------------------------

# Volunteer accounts (username, holder they give time through). Every demo holder has some;
# "maria.r" is the person behind the individual-volunteer holder "Maria R. (volontaria)".
VOLUNTEERS: list[tuple[str, str]] = [
    ("anna.m", "Auser Olgiate Comasco"),
    ("giorgio.b", "Auser Olgiate Comasco"),
    ("luisa.c", "Auser Olgiate Comasco"),
    ("pietro.r", "Auser Olgiate Comasco"),
    ("franca.v", "Auser Olgiate Comasco"),
    ("teresa.p", "Caritas parrocchiale San Gerardo"),
    ("mario.g", "Caritas parrocchiale San Gerardo"),
    ("elena.s", "Caritas parrocchiale San Gerardo"),
    ("ahmed.k", "Caritas parrocchiale San Gerardo"),
    ("sara.b", "Cooperativa sociale Il Sentiero"),
    ("davide.l", "Cooperativa sociale Il Sentiero"),
    ("chiara.n", "Cooperativa sociale Il Sentiero"),
    ("roberto.f", "Banco di solidarietà dell'Olgiatese"),
    ("silvia.t", "Banco di solidarietà dell'Olgiatese"),
    ("gianni.m", "Banco di solidarietà dell'Olgiatese"),
    ("marta.c", "Oratorio di Villa Guardia"),
    ("luca.p", "Oratorio di Villa Guardia"),
    ("giulia.r", "Oratorio di Villa Guardia"),
    ("andrea.s", "Oratorio di Villa Guardia"),
    ("rosa.b", "Rete di vicinato di Binago"),
    ("carlo.v", "Rete di vicinato di Binago"),
    ("lucia.f", "Rete di vicinato di Binago"),
    ("paola.d", "Istituto comprensivo di Lurate Caccivio"),
    ("matteo.g", "Istituto comprensivo di Lurate Caccivio"),
    ("stefano.b", "Falegnameria Bernasconi srl"),
    ("fabio.m", "Falegnameria Bernasconi srl"),
    ("laura.t", "Scuola di italiano Parole in cammino"),
    ("fatima.e", "Scuola di italiano Parole in cammino"),
    ("giovanna.r", "Scuola di italiano Parole in cammino"),
    ("samuele.c", "Scuola di italiano Parole in cammino"),
    ("alberto.n", "Protezione civile Colverde"),
    ("massimo.z", "Protezione civile Colverde"),
    ("irene.l", "Protezione civile Colverde"),
    ("franco.g", "Gruppo volontari trasporto amico"),
    ("angelo.p", "Gruppo volontari trasporto amico"),
    ("bruno.c", "Gruppo volontari trasporto amico"),
    ("renata.s", "Gruppo volontari trasporto amico"),
    ("maria.r", "Maria R. (volontaria)"),
]
# The demo login `volontario` has no holder of its own: it helps Auser and the Caritas.
FREE_VOLUNTEER = "volontario"
FREE_VOLUNTEER_HOLDERS = ("Auser Olgiate Comasco", "Caritas parrocchiale San Gerardo")

# Short names of the demo resources (registry/demo.py).
RESOURCES = {
    "compagnia": "Compagnia telefonica e a domicilio per anziani soli",
    "accompagnamento": "Accompagnamento a visite mediche",
    "pacchi": "Distribuzione pacchi alimentari",
    "ascolto": "Centro di ascolto",
    "laboratorio": "Laboratorio di autonomie per giovani con disabilità",
    "arredi": "Raccolta e consegna di arredi usati",
    "doposcuola": "Doposcuola in oratorio",
    "salone": "Salone dell'oratorio per incontri",
    "spesa": "Spesa e farmaci a domicilio tra vicini",
    "aula": "Aula informatica aperta alle famiglie",
    "riparazioni": "Piccole riparazioni domestiche",
    "italiano": "Corso di italiano per donne straniere",
    "furgone": "Furgone per traslochi solidali",
    "trasporto": "Trasporto sociale con auto attrezzata",
    "compiti": "Aiuto compiti a domicilio",
    "compiti-medie": "Aiuto compiti con i ragazzi delle medie",
}


# --- how each kind of help shows up in the ledger ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Style:
    """How a match's help is recorded: time (QR check-ins, or hours declared and confirmed),
    or goods/trips counted with a declared value."""

    unit: str = "hours"
    every_weeks: int = 1  # time: one session every N weeks on the need's schedule
    qr_share: float = 0.85  # time: share of sessions measured by a QR check-in
    per_month: int = 0  # goods: deliveries a month (0 = only at the start)
    deliveries: tuple[int, int] = (1, 1)  # goods delivered once: how many times
    quantity: tuple[int, int] = (1, 1)
    cents: tuple[int, int] | None = None  # declared value of one unit
    room_cents: int | None = None  # time in a room: a monthly room-hours entry too
    notes: tuple[str, ...] = ()


STYLES: dict[str, Style] = {
    "compagnia": Style(
        qr_share=0.7, notes=("Telefonata e visita a casa", "Passeggiata e caffè al bar")
    ),
    "accompagnamento": Style(every_weeks=2, qr_share=0.9, notes=("Visita in ospedale a Como",)),
    "pacchi": Style(unit="items", per_month=1, cents=(3000, 4500), notes=("Pacco alimentare",)),
    "ascolto": Style(qr_share=0.9, notes=("Colloquio al centro di ascolto",)),
    "laboratorio": Style(qr_share=0.95),
    "arredi": Style(
        unit="items",
        deliveries=(1, 2),
        quantity=(1, 3),
        cents=(6000, 22000),
        notes=("Consegna di mobili usati", "Letto e armadio consegnati"),
    ),
    "doposcuola": Style(qr_share=0.9),
    "aula": Style(qr_share=0.8, room_cents=1500, notes=("Pratiche online e SPID",)),
    "riparazioni": Style(every_weeks=3, qr_share=0.0, notes=("Riparazioni in casa",)),
    "italiano": Style(qr_share=0.9),
    "furgone": Style(
        unit="trips", deliveries=(1, 2), quantity=(1, 2), cents=(5000, 7000), notes=("Trasloco",)
    ),
    "trasporto": Style(qr_share=0.85, notes=("Accompagnamento al centro diurno",)),
    "compiti": Style(qr_share=0.5, notes=("Compiti di matematica e inglese",)),
    "compiti-medie": Style(qr_share=0.9),
    "spesa": Style(unit="trips", per_month=4, notes=("Spesa e farmacia",)),
}


# --- plans ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NeedSpec:
    category: str
    unit: str
    quantity: int
    schedule: tuple[tuple[str, str, str], ...]
    # The resource that took it up (a key of RESOURCES), or None: nobody offers it.
    resource: str | None
    # active | completed | accepted | proposed | declined | open
    outcome: str
    lasted: int = 0  # completed: days the match ran
    first: str | None = None  # a first proposal that did not work: declined | withdrawn
    reason: str = ""  # why the first proposal (or a declined one) did not work
    priority: int = 3
    requirements: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    after: int = 0  # days after the plan's start the need was added


@dataclass(frozen=True, slots=True)
class PlanSpec:
    key: str
    comune: str
    area: str
    started: int  # days ago
    goals: tuple[str, ...]
    needs: tuple[NeedSpec, ...]
    closed: int | None = None  # days ago the plan was closed
    notes: str = ""


def _n(
    category: str,
    unit: str,
    quantity: int,
    schedule: str,
    resource: str | None,
    outcome: str,
    **extra: Any,
) -> NeedSpec:
    """A need; `schedule` is "MO 09:00-11:00, TH 15:00-17:00" (empty: flexible)."""
    windows = []
    for part in filter(None, (p.strip() for p in schedule.split(","))):
        day, hours = part.split()
        start, end = hours.split("-")
        windows.append((day, start, end))
    return NeedSpec(category, unit, quantity, tuple(windows), resource, outcome, **extra)


# A need per line: category, unit, quantity, schedule, the resource that took it up (None:
# nobody offers it) and how it went; keyword arguments for the rest.
# fmt: off
PLANS: list[PlanSpec] = [
    # Anziani --------------------------------------------------------------------------------------
    PlanSpec(
        "A1", "Olgiate Comasco", "anziani", 330,
        ("Non restare solo durante la settimana", "Non perdere le visite di controllo"),
        (
            _n("compagnia-ascolto", "hours_per_week", 2, "WE 09:00-11:00", "compagnia", "active"),
            _n("accompagnamento", "trips_per_week", 1, "TU 08:00-12:00", "accompagnamento",
               "active", priority=4),
            _n("alimentari", "items", 1, "SA 09:00-11:00", "pacchi", "active"),
        ),
        notes="Vive sola al secondo piano senza ascensore; la figlia abita a Milano.",
    ),
    PlanSpec(
        "A2", "Olgiate Comasco", "anziani", 345,
        ("Rientro a casa dopo il ricovero", "Casa sicura"),
        (
            _n("compagnia-ascolto", "hours_per_week", 2, "FR 09:00-11:00", "compagnia", "completed",
               lasted=150),
            _n("piccole-manutenzioni", "times_per_week", 1, "FR 14:00-18:00", "riparazioni",
               "completed", lasted=60),
            _n("accompagnamento", "trips_per_week", 1, "TH 08:00-12:00", "accompagnamento",
               "completed", lasted=120),
            _n("pasti", "meals_per_week", 5, "", None, "open"),
        ),
        closed=70,
    ),
    PlanSpec(
        "A3", "Lurate Caccivio", "anziani", 320,
        ("Usare i servizi online (SPID, fascicolo sanitario)", "Spesa regolare"),
        (
            _n("supporto-digitale", "times_per_week", 1, "SA 09:00-11:00", "aula", "completed",
               lasted=90),
            _n("alimentari", "items", 1, "SA 09:00-11:00", "pacchi", "active"),
            _n("piccole-manutenzioni", "times_per_week", 1, "FR 14:00-17:00", "riparazioni",
               "completed", lasted=45),
        ),
    ),
    PlanSpec(
        "A4", "Guanzate", "anziani", 250,
        ("Raggiungere il centro diurno", "Sostegno alla moglie che lo assiste"),
        (
            _n("trasporto", "trips_per_week", 2, "MO 08:00-10:00", "trasporto", "active"),
            _n("piccole-manutenzioni", "times_per_week", 1, "FR 14:00-17:00", "riparazioni",
               "active"),
            _n("sollievo", "hours_per_week", 3, "WE 14:00-17:00", None, "open", priority=4),
        ),
    ),
    PlanSpec(
        "A5", "Binago", "anziani", 160,
        ("Restare a casa propria nonostante la vista che cala",),
        (
            _n("consegna-spesa", "trips_per_week", 1, "TU 10:00-12:00", "spesa", "active"),
            _n("buon-vicinato", "times_per_week", 2, "", None, "open"),
        ),
    ),
    PlanSpec(
        "A6", "Albiolo", "anziani", 40,
        ("Compagnia dopo la morte del marito", "Visite dal cardiologo"),
        (
            _n("compagnia-ascolto", "hours_per_week", 2, "MO 09:00-11:00", "compagnia", "proposed"),
            _n("accompagnamento", "trips_per_week", 1, "TH 08:00-12:00", "accompagnamento",
               "declined", reason="Il giovedì mattina non abbiamo autisti liberi fino a marzo."),
            _n("sollievo", "hours_per_week", 2, "", None, "open"),
        ),
    ),
    # Disabilità -----------------------------------------------------------------------------------
    PlanSpec(
        "D1", "Appiano Gentile", "disabili", 300,
        ("Autonomia nella vita quotidiana", "Amicizie fuori dalla famiglia"),
        (
            _n("animazione", "places", 1, "WE 14:00-17:00", "laboratorio", "active"),
            _n("trasporto", "trips_per_week", 1, "WE 13:00-14:00", "trasporto", "active"),
            _n("piccole-manutenzioni", "times_per_week", 1, "FR 14:00-17:00", "riparazioni",
               "completed", lasted=40),
        ),
    ),
    PlanSpec(
        "D2", "Appiano Gentile", "disabili", 210,
        ("Percorso verso la vita indipendente",),
        (
            _n("animazione", "places", 1, "WE 14:00-17:00", "laboratorio", "active"),
            _n("trasporto", "trips_per_week", 1, "WE 13:00-14:00", "trasporto", "active"),
        ),
    ),
    PlanSpec(
        "D3", "Guanzate", "disabili", 280,
        ("Frequentare il centro diurno", "Casa accessibile"),
        (
            _n("trasporto", "trips_per_week", 2, "TU 08:00-10:00", "trasporto", "active"),
            _n("piccole-manutenzioni", "times_per_week", 1, "FR 14:00-17:00", "riparazioni",
               "active"),
        ),
    ),
    PlanSpec(
        "D4", "Olgiate Comasco", "disabili", 230,
        ("Continuità delle terapie",),
        (
            _n("accompagnamento", "trips_per_week", 1, "TU 08:00-12:00", "accompagnamento",
               "active"),
            _n("piccole-manutenzioni", "times_per_week", 1, "FR 14:00-17:00", "riparazioni",
               "completed", lasted=30),
            _n("alimentari", "items", 1, "SA 09:00-11:00", "pacchi", "active", after=20),
        ),
    ),
    PlanSpec(
        "D5", "Faloppio", "disabili", 150,
        ("Trasloco in un alloggio al piano terra",),
        (
            _n("trasporto", "trips_per_week", 1, "SA 08:00-12:00", "furgone", "completed",
               lasted=20),
        ),
    ),
    # Immigrati ------------------------------------------------------------------------------------
    PlanSpec(
        "I1", "Olgiate Comasco", "immigrati", 310,
        ("Imparare l'italiano per il lavoro", "Una casa arredata"),
        (
            _n("lingua-italiana", "places", 1, "TU 09:30-11:30", "italiano", "active",
               first="withdrawn", reason="Riproposto dopo il cambio di turno al lavoro."),
            _n("compagnia-ascolto", "hours_per_week", 1, "TU 15:00-18:00", "ascolto", "active",
               languages=("fr",)),
            _n("arredi", "items", 3, "", "arredi", "completed", lasted=20),
            _n("piccole-manutenzioni", "times_per_week", 1, "FR 14:00-17:00", "riparazioni",
               "active", after=150),
        ),
    ),
    PlanSpec(
        "I3", "Guanzate", "immigrati", 20,
        ("Esame di italiano A2 per il permesso di soggiorno",),
        (
            _n("lingua-italiana", "places", 1, "TH 09:30-11:30", "italiano", "accepted"),
        ),
    ),
    PlanSpec(
        "I4", "Lurate Caccivio", "immigrati", 200,
        ("Inserimento scolastico dei figli", "Orientamento ai servizi"),
        (
            _n("supporto-digitale", "times_per_week", 1, "SA 09:00-11:00", "aula", "active",
               after=70),
            _n("compagnia-ascolto", "hours_per_week", 1, "TU 15:00-18:00", "ascolto", "active",
               languages=("ar",)),
            _n("alimentari", "items", 1, "SA 09:00-11:00", "pacchi", "active"),
            _n("sostegno-scolastico", "places", 2, "TH 14:30-16:30", "compiti-medie", "active",
               requirements=("minori",)),
        ),
    ),
    PlanSpec(
        "I5", "Villa Guardia", "immigrati", 240,
        ("Successo scolastico",),
        (
            _n("sostegno-scolastico", "places", 1, "MO 14:30-16:30", "doposcuola", "active",
               requirements=("minori",)),
        ),
    ),
    # Povertà e disagio adulti ---------------------------------------------------------------------
    PlanSpec(
        "V1", "Olgiate Comasco", "poverta-disagio-adulti", 335,
        ("Uscire dall'emergenza abitativa", "Ritrovare un lavoro"),
        (
            _n("alimentari", "items", 1, "SA 09:00-11:00", "pacchi", "active"),
            _n("arredi", "items", 2, "", "arredi", "completed", lasted=15),
            _n("compagnia-ascolto", "hours_per_week", 1, "TU 15:00-18:00", "ascolto", "active"),
            _n("orientamento-lavoro", "hours_per_week", 2, "", None, "open", priority=4),
            _n("ospitalita-temporanea", "places", 1, "", None, "open", priority=5),
        ),
    ),
    PlanSpec(
        "V2", "Lurate Caccivio", "poverta-disagio-adulti", 260,
        ("Pratiche per l'assegno di inclusione", "Bilancio familiare"),
        (
            _n("alimentari", "items", 1, "SA 09:00-11:00", "pacchi", "active"),
            _n("supporto-digitale", "times_per_week", 1, "SA 09:00-11:00", "aula", "completed",
               lasted=55, after=50),
            _n("consulenza", "hours_per_week", 1, "", None, "open"),
        ),
    ),
    PlanSpec(
        "V3", "Faloppio", "poverta-disagio-adulti", 290,
        ("Nuovo alloggio dopo lo sfratto",),
        (
            _n("trasporto", "trips_per_week", 1, "SA 08:00-12:00", "furgone", "completed",
               lasted=10),
            _n("arredi", "items", 4, "", "arredi", "completed", lasted=25),
            _n("orientamento-lavoro", "hours_per_week", 2, "", None, "open"),
        ),
    ),
    PlanSpec(
        "V4", "Olgiate Comasco", "poverta-disagio-adulti", 180,
        ("Casa in ordine per il rientro dei figli",),
        (
            _n("piccole-manutenzioni", "times_per_week", 1, "FR 14:00-17:00", "riparazioni",
               "completed", lasted=35),
            _n("alimentari", "items", 1, "SA 09:00-11:00", "pacchi", "active"),
            _n("ospitalita-temporanea", "places", 1, "", None, "open"),
        ),
    ),
    # Famiglie e minori ----------------------------------------------------------------------------
    PlanSpec(
        "F1", "Villa Guardia", "famiglie-minori", 325,
        ("Compiti e amicizie per il figlio di 10 anni",),
        (
            _n("sostegno-scolastico", "places", 1, "TH 14:30-16:30", "doposcuola", "active",
               requirements=("minori",)),
        ),
    ),
    PlanSpec(
        "F2", "Rodero", "famiglie-minori", 270,
        ("Recupero scolastico in matematica",),
        (
            _n("sostegno-scolastico", "hours_per_week", 2, "WE 15:00-17:00", "compiti", "active",
               requirements=("minori",), languages=("es",)),
        ),
    ),
    PlanSpec(
        "F3", "Lurate Caccivio", "famiglie-minori", 220,
        ("Sostegno a una madre sola con due figli",),
        (
            _n("sostegno-scolastico", "places", 2, "TU 14:30-16:30", "compiti-medie", "active",
               requirements=("minori",)),
            _n("alimentari", "items", 1, "SA 09:00-11:00", "pacchi", "active"),
        ),
    ),
    PlanSpec(
        "F4", "Olgiate Comasco", "famiglie-minori", 190,
        ("Una cameretta per i bambini", "Spesa alimentare"),
        (
            _n("arredi", "items", 2, "", "arredi", "completed", lasted=20, first="declined",
               reason="Al momento non abbiamo letti per bambini in magazzino."),
            _n("alimentari", "items", 1, "SA 09:00-11:00", "pacchi", "active"),
        ),
    ),
]
# fmt: on

GOAL_NOTE = "Progetto condiviso con la persona e, dove serve, con la famiglia."

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


# --- the builder --------------------------------------------------------------------------------


@dataclass
class Counts:
    volunteers: int = 0
    plans: int = 0
    needs: int = 0
    matches: int = 0
    contributions: int = 0
    confirmations: int = 0
    checkins: int = 0
    activities: int = 0
    interventions: int = 0
    interactions: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class _Person:
    id: uuid.UUID
    username: str
    role: Role
    holder: uuid.UUID | None

    def principal(self, ambito_id: uuid.UUID) -> Principal:
        return Principal(self.id, self.username, self.role, ambito_id, self.holder)


@dataclass
class _MatchLife:
    """A live match, for the ledger: what it is for and when it ran."""

    match_id: uuid.UUID
    plan: dict[str, Any]
    need_id: uuid.UUID
    resource_key: str
    resource_id: uuid.UUID
    holder_id: uuid.UUID
    schedule: tuple[tuple[str, str, str], ...]
    start: datetime
    end: datetime | None  # completed at; None: still running


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def at(day: date, hhmm: str) -> datetime:
    """A local time in the ambito, as the UTC instant the database stores."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=ROME).astimezone(UTC)


class _Builder:
    def __init__(
        self, ambito_id: uuid.UUID, moment: datetime, password_hash: str, rng: Random
    ) -> None:
        self.ambito_id = ambito_id
        self.moment = moment
        self.today = moment.astimezone(ROME).date()
        self.password_hash = password_hash
        self.rng = rng
        self.rows: dict[type[Table], list[Table]] = defaultdict(list)
        self.late_rows: dict[type[Table], list[Table]] = defaultdict(list)
        self.counts = Counts()
        self.holders: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.comuni: dict[str, str] = {}
        self.people: dict[str, _Person] = {}
        self.by_holder: dict[uuid.UUID, list[_Person]] = defaultdict(list)
        self.lives: list[_MatchLife] = []
        self.plans: dict[str, dict[str, Any]] = {}
        # QR codes handed out: (target, holder) -> (token id, valid from, valid until)
        self.codes: dict[tuple[str, uuid.UUID], tuple[str, datetime, datetime]] = {}
        # When each match held a place of its resource: (taken, released or None).
        self.holds: dict[uuid.UUID, list[tuple[datetime, datetime | None]]] = defaultdict(list)

    # -- helpers ------------------------------------------------------------------------

    def add(self, row: Table, *, late: bool = False) -> Table:
        (self.late_rows if late else self.rows)[type(row)].append(row)
        return row

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def past(self, moment: datetime) -> datetime:
        """Never later than now (the demo only shows what already happened)."""
        return min(moment, self.moment - timedelta(minutes=5))

    def person(self, username: str) -> _Person:
        return self.people[username]

    def holder_side(self, holder_id: uuid.UUID) -> _Person:
        """Who answers proposals for a holder: its manager, or the UdP on its behalf."""
        auser = self.people["auser"]
        return auser if auser.holder == holder_id else self.people["udp"]

    def audit(
        self, who: _Person, action: AuditAction, when: datetime, plan_id: uuid.UUID, **extra: Any
    ) -> None:
        self.add(
            AccessLog(
                ambito=self.ambito_id,
                user=who.id,
                username=who.username,
                role=who.role.value,
                at=when,
                action=action.value,
                plan_id=plan_id,
                **extra,
            )
        )

    # -- reading what load_demo wrote ----------------------------------------------------

    async def load(self) -> None:
        for row in await Holder.select().where(Holder.ambito == self.ambito_id):
            self.holders[row["name"]] = row
        for row in await Resource.select().where(Resource.ambito == self.ambito_id):
            self.resources[row["title"]] = row
        for row in await Comune.select(Comune.name, Comune.istat_code).where(
            Comune.ambito == self.ambito_id
        ):
            self.comuni[row["name"]] = row["istat_code"]
        for row in await User.select().where(User.ambito == self.ambito_id):
            self._know(_Person(row["id"], row["username"], Role(row["role"]), row["holder"]))

    def _know(self, person: _Person) -> None:
        self.people[person.username] = person
        if person.role is Role.VOLUNTEER and person.holder is not None:
            self.by_holder[person.holder].append(person)

    def resource(self, key: str) -> dict[str, Any]:
        return self.resources[RESOURCES[key]]

    # -- volunteers ------------------------------------------------------------------------

    def volunteers(self) -> None:
        for index, (username, holder_name) in enumerate(VOLUNTEERS):
            holder = self.holders[holder_name]
            joined = max(holder["created_at"], self.moment - timedelta(days=400 - index * 3))
            user = self.add(
                User(
                    id=self.new_id(),
                    username=username,
                    password_hash=self.password_hash,
                    role=Role.VOLUNTEER.value,
                    ambito=self.ambito_id,
                    holder=holder["id"],
                    created_at=joined,
                )
            )
            self._know(_Person(user.id, username, Role.VOLUNTEER, holder["id"]))
        self.counts.volunteers = len(VOLUNTEERS)
        free = self.people[FREE_VOLUNTEER]
        for name in FREE_VOLUNTEER_HOLDERS:
            # Not the holder's own volunteer in the accounts, but it gives time there.
            self.by_holder[self.holders[name]["id"]].append(free)

    def crew(self, holder_id: uuid.UUID, size: int) -> list[_Person]:
        people = self.by_holder[holder_id]
        return self.rng.sample(people, min(size, len(people)))

    # -- plans, needs, matches -----------------------------------------------------------

    async def plans_and_matches(self) -> None:
        worker = self.person("assistente")
        numbers = iter(self.rng.sample(range(11, 98), len(PLANS)))
        specs: list[tuple[PlanSpec, dict[str, Any], list[dict[str, Any]]]] = []
        for spec in PLANS:
            created = self.past(
                at(self.today - timedelta(days=spec.started), "10:00")
                + timedelta(minutes=self.rng.randrange(0, 300))
            )
            start = created.astimezone(ROME).date()
            closed_on = self.today - timedelta(days=spec.closed) if spec.closed else None
            code = check_case_code(f"ASC-{start.year}-{next(numbers):03d}")
            plan = Plan(
                id=self.new_id(),
                ambito=self.ambito_id,
                owner=worker.id,
                shared_with=[],
                case_code=code,
                comune=self.comuni[spec.comune],
                target_group=spec.area,
                goals=list(spec.goals),
                start_date=start,
                end_date=closed_on,
                status="closed" if closed_on else "active",
                notes=spec.notes or GOAL_NOTE,
                created_at=created,
                updated_at=created,
            )
            self.add(plan)
            self.audit(worker, AuditAction.PLAN_CREATE, created, plan.id)
            row = {
                "id": plan.id,
                "comune": plan.comune,
                "target_group": spec.area,
                "start_date": start,
                "end_date": closed_on,
                "created_at": created,
                "key": spec.key,
            }
            self.plans[spec.key] = row
            needs = []
            for index, need_spec in enumerate(spec.needs):
                need_created = self.past(
                    created + timedelta(days=need_spec.after, minutes=5 + 3 * index)
                )
                need = Need(
                    id=self.new_id(),
                    ambito=self.ambito_id,
                    plan=plan.id,
                    category_code=need_spec.category,
                    schedule=[
                        {"weekday": d, "start": s, "end": e} for d, s, e in need_spec.schedule
                    ],
                    quantity=need_spec.quantity,
                    unit=need_spec.unit,
                    languages=list(need_spec.languages),
                    requirements=list(need_spec.requirements),
                    priority=need_spec.priority,
                    status="open",
                    created_at=need_created,
                    updated_at=need_created,
                )
                self.add(need)
                self.audit(worker, AuditAction.NEED_CREATE, need_created, plan.id, need_id=need.id)
                needs.append(
                    {
                        "row": need,
                        "spec": need_spec,
                        "id": need.id,
                        "schedule": need.schedule,
                        "category_code": need.category_code,
                        "comune": None,
                        "languages": need.languages,
                        "requirements": need.requirements,
                        "start_date": None,
                        "end_date": None,
                        "quantity": need.quantity,
                        "unit": need.unit,
                        "priority": need.priority,
                    }
                )
            specs.append((spec, row, needs))
            self.counts.plans += 1
            self.counts.needs += len(needs)

        # Score every pair as the engine would have when it was proposed.
        items, _ = await engine_io.load_resources(self.ambito_id, self.today)
        by_id = {item.id: item for item in items}
        taxonomy = await engine_io.load_taxonomy()
        held: dict[uuid.UUID, int] = defaultdict(int)
        touched: set[uuid.UUID] = set()
        for spec, plan, needs in specs:
            last_change = plan["created_at"]
            for need in needs:
                need_spec: NeedSpec = need["spec"]
                if need_spec.resource is None:
                    continue
                resource = self.resource(need_spec.resource)
                touched.add(resource["id"])
                item = by_id[str(resource["id"])]
                need_item = engine_io.need_item(need, plan)
                suggestion = matching.score(need_item, item, matching.Weights(), taxonomy)
                excluded = matching.exclusion_reason(need_item, item, taxonomy)
                warning = (
                    "Non suggerita dal motore: "
                    f"{matching.EXCLUSION_REASONS_IT.get(excluded, excluded)}"
                    if excluded
                    else ""
                )
                when = need["row"].created_at + timedelta(
                    days=self.rng.randint(1, 4), hours=self.rng.randint(0, 6)
                )
                if need_spec.first:
                    first_status = need_spec.first
                    self.match(
                        plan,
                        need,
                        resource,
                        suggestion,
                        warning,
                        when,
                        first_status,
                        need_spec.reason,
                    )
                    when += timedelta(days=self.rng.randint(5, 12))
                reason = need_spec.reason if need_spec.outcome == "declined" else ""
                if need_spec.outcome in ("proposed", "accepted"):
                    # What is waiting for someone now happened in the last few days.
                    when = max(when, self.moment - timedelta(days=self.rng.randint(3, 6)))
                status, changed = self.match(
                    plan, need, resource, suggestion, warning, when, need_spec.outcome, reason
                )
                last_change = max(last_change, changed)
                if status in ("accepted", "active"):
                    held[resource["id"]] += 1
            if spec.closed:
                closed = self.past(at(self.today - timedelta(days=spec.closed), "16:00"))
                plan_row = next(r for r in self.rows[Plan] if r.id == plan["id"])
                plan_row.updated_at = closed
                self.audit(
                    self.person("assistente"),
                    AuditAction.PLAN_UPDATE,
                    closed,
                    plan["id"],
                    detail="end_date, status",
                )
            else:
                plan_row = next(r for r in self.rows[Plan] if r.id == plan["id"])
                plan_row.updated_at = last_change
        for resource_id in sorted(touched, key=str):
            resource = next(r for r in self.resources.values() if r["id"] == resource_id)
            self.check_places(resource)
            self.add(
                ResourceCapacity(id=self.new_id(), resource=resource_id, reserved=held[resource_id])
            )

    def check_places(self, resource: dict[str, Any]) -> None:
        """At no moment did accepted or active matches hold more places than the resource
        has: each acceptance would have found a place (the service's atomic reservation)."""
        events = sorted(
            [(start, 1) for start, _ in self.holds[resource["id"]]]
            + [(end, -1) for _, end in self.holds[resource["id"]] if end is not None],
            key=lambda e: (e[0], e[1]),
        )
        held = 0
        for _, change in events:
            held += change
            if held > resource["capacity"]:
                raise AssertionError(f"demo overbooks «{resource['title']}»")

    def match(
        self,
        plan: dict[str, Any],
        need: dict[str, Any],
        resource: dict[str, Any],
        suggestion: matching.Suggestion,
        warning: str,
        proposed: datetime,
        outcome: str,
        reason: str,
    ) -> tuple[str, datetime]:
        """One match and its history, up to `outcome`; returns its status and last change."""
        worker = self.person("assistente")
        holder_side = self.holder_side(resource["holder"])
        need_spec: NeedSpec = need["spec"]
        proposed = self.past(proposed)
        match = Match(
            id=self.new_id(),
            ambito=self.ambito_id,
            plan=plan["id"],
            need=need["id"],
            resource=resource["id"],
            holder=resource["holder"],
            status="proposed",
            score=suggestion.score,
            components=components_of(suggestion),
            explanation=suggestion.explanation,
            warning=warning[:300],
            proposed_by=worker.id,
            created_at=proposed,
            updated_at=proposed,
        )
        self.add(match)
        self.counts.matches += 1
        steps: list[tuple[_Person, str, str, datetime, str]] = []
        moment = proposed

        def step(who: _Person, target: str, days: tuple[int, int], why: str = "") -> None:
            nonlocal moment
            source = steps[-1][2] if steps else "proposed"
            moment = self.past(
                moment + timedelta(days=self.rng.randint(*days), hours=self.rng.randint(1, 8))
            )
            steps.append((who, source, target, moment, why))

        if outcome == "declined":
            step(holder_side, "declined", (1, 4), reason)
        elif outcome == "withdrawn":
            step(worker, "withdrawn", (2, 6), reason)
        elif outcome in ("accepted", "active", "completed"):
            step(holder_side, "accepted", (1, 6) if outcome != "accepted" else (0, 1))
            if outcome in ("active", "completed"):
                step(worker, "active", (0, 2))
                started = moment
                if outcome == "completed":
                    ended = started + timedelta(days=need_spec.lasted)
                    assert ended < self.moment, (plan["key"], need_spec.category)
                    moment = ended - timedelta(days=1)
                    step(worker, "completed", (1, 1), "Obiettivo raggiunto.")
                need["row"].status = "matched"
                need["row"].updated_at = started
                self.lives.append(
                    _MatchLife(
                        match_id=match.id,
                        plan=plan,
                        need_id=need["id"],
                        resource_key=need_spec.resource or "",
                        resource_id=resource["id"],
                        holder_id=resource["holder"],
                        schedule=need_spec.schedule,
                        start=started,
                        end=moment if outcome == "completed" else None,
                    )
                )
        self.add(
            MatchEvent(
                id=self.new_id(),
                ambito=self.ambito_id,
                match=match.id,
                actor=worker.id,
                at=proposed,
                from_status=None,
                to_status="proposed",
                reason="",
            )
        )
        for who, source, target, when, why in steps:
            self.add(
                MatchEvent(
                    id=self.new_id(),
                    ambito=self.ambito_id,
                    match=match.id,
                    actor=who.id,
                    at=when,
                    from_status=source,
                    to_status=target,
                    reason=why,
                )
            )
        taken = next((when for _, _, target, when, _ in steps if target == "accepted"), None)
        if taken is not None:
            released = next(
                (when for _, _, target, when, _ in steps if target not in ("accepted", "active")),
                None,
            )
            self.holds[resource["id"]].append((taken, released))
        status = steps[-1][2] if steps else "proposed"
        match.status = status
        match.updated_at = steps[-1][3] if steps else proposed
        if status == "declined":
            match.decline_reason = reason
        self.counts.by_status[status] = self.counts.by_status.get(status, 0) + 1
        return status, match.updated_at

    # -- the ledger ----------------------------------------------------------------------

    def code(
        self, target: str, holder_id: uuid.UUID, first: datetime, until: datetime
    ) -> tuple[str, datetime, datetime]:
        """The QR code a holder printed for a match or an activity (valid at most a year)."""
        key = (target, holder_id)
        if key not in self.codes:
            start = first.astimezone(ROME).replace(hour=0, minute=0, second=0, microsecond=0)
            end = min(until, start + timedelta(days=365))
            self.codes[key] = (
                uuid.UUID(int=self.rng.getrandbits(128)).hex,
                start.astimezone(UTC),
                end.astimezone(UTC),
            )
        return self.codes[key]

    def presence(
        self,
        volunteer: _Person,
        holder_id: uuid.UUID,
        day: date,
        hours: tuple[str, str],
        *,
        target: str,
        code_from: datetime,
        code_until: datetime,
        activity: uuid.UUID | None = None,
        match_id: uuid.UUID | None = None,
        resource: uuid.UUID | None = None,
        need_id: uuid.UUID | None = None,
        plan_id: uuid.UUID | None = None,
        comune: str | None = None,
    ) -> Contribution | None:
        """A QR check-in and check-out, and the qr_verified entry the check-out writes."""
        token_id, window_start, window_end = self.code(target, holder_id, code_from, code_until)
        checked_in = at(day, hours[0]) + timedelta(minutes=self.rng.randint(-10, 12))
        checked_out = at(day, hours[1]) + timedelta(minutes=self.rng.randint(-25, 15))
        if checked_out >= self.moment:
            return None
        row = {
            "checked_in_at": checked_in,
            "window_start": window_start,
            "window_end": window_end,
        }
        started, ended, minutes = measured_minutes(row, checked_out)
        if minutes <= 0:
            return None  # outside the code's window: nobody checks in for nothing
        presence = CheckIn(
            id=self.new_id(),
            ambito=self.ambito_id,
            volunteer=volunteer.id,
            holder=holder_id,
            activity=activity,
            match_id=match_id,
            resource=resource,
            token_id=token_id,
            day=checked_in.astimezone(ROME).date(),
            window_start=window_start,
            window_end=window_end,
            checked_in_at=checked_in,
            checked_out_at=checked_out,
        )
        entry = Contribution(
            id=self.new_id(),
            ambito=self.ambito_id,
            holder=holder_id,
            volunteer=volunteer.id,
            resource=resource,
            activity=activity,
            match_id=match_id,
            need_id=need_id,
            plan_id=plan_id,
            kind="entry",
            unit=ContributionUnit.HOURS.value,
            quantity=minutes,
            occurred_on=checked_in.astimezone(ROME).date(),
            started_at=started,
            ended_at=ended,
            comune=comune,
            note="Presenza registrata con codice QR",
            verification="qr_verified",
            idempotency_key=f"{recording.RESERVED_KEY_PREFIX}{presence.id}",
            request_hash="checkin",
            created_by=volunteer.id,
            created_by_role=volunteer.role.value,
            created_at=checked_out,
        )
        self.add(entry)
        self.counts.contributions += 1
        presence.contribution = entry.id
        self.add(presence, late=True)
        self.counts.checkins += 1
        return entry

    def record(
        self,
        who: _Person,
        *,
        holder_id: uuid.UUID,
        unit: str,
        quantity: float,
        day: date,
        when: datetime,
        volunteer: _Person | None = None,
        value_cents: int | None = None,
        note: str = "",
        resource: uuid.UUID | None = None,
        activity: uuid.UUID | None = None,
        match_id: uuid.UUID | None = None,
        need_id: uuid.UUID | None = None,
        plan_id: uuid.UUID | None = None,
        comune: str | None = None,
        confirm_by: _Person | None = None,
    ) -> Contribution | None:
        """A self-reported entry as POST /api/contributions stores it (with the client's
        Idempotency-Key and the request's digest), confirmed later if `confirm_by`."""
        when = self.past(when)
        if when.astimezone(ROME).date() < day:
            return None
        body = ContributionCreate(
            holder_id=None if who.role is Role.VOLUNTEER and who.holder == holder_id else holder_id,
            volunteer_id=None
            if who.role is Role.VOLUNTEER
            else (volunteer.id if volunteer else None),
            activity_id=activity,
            match_id=match_id,
            unit=ContributionUnit(unit),
            quantity=quantity,
            value_cents=value_cents,
            occurred_on=day,
            comune=comune,
            note=note,
        )
        if who.role is Role.VOLUNTEER:
            volunteer = who
        entry = Contribution(
            id=self.new_id(),
            ambito=self.ambito_id,
            holder=holder_id,
            volunteer=volunteer.id if volunteer else None,
            resource=resource,
            activity=activity,
            match_id=match_id,
            need_id=need_id,
            plan_id=plan_id,
            kind="entry",
            unit=unit,
            quantity=quantities.stored_quantity(ContributionUnit(unit), quantity),
            value_cents=value_cents,
            occurred_on=day,
            comune=comune,
            note=note,
            verification="self_reported",
            idempotency_key=str(self.new_id()),
            request_hash=recording.request_digest(who.principal(self.ambito_id), body, "record"),
            created_by=who.id,
            created_by_role=who.role.value,
            created_at=when,
        )
        self.add(entry)
        self.counts.contributions += 1
        if confirm_by is not None:
            self.confirm(entry, confirm_by, when + timedelta(days=self.rng.randint(1, 9)))
        return entry

    def confirm(self, entry: Contribution, who: _Person, when: datetime) -> bool:
        when = self.past(when)
        if when <= entry.created_at:
            return False
        self.add(
            ContributionConfirmation(
                id=self.new_id(),
                ambito=self.ambito_id,
                contribution=entry.id,
                confirmed_by=who.id,
                role=who.role.value,
                confirmed_at=when,
                note="",
            ),
            late=True,
        )
        self.counts.confirmations += 1
        return True

    def hours_of(self, schedule: tuple[str, str, str], jitter: bool = True) -> float:
        start, end = (time.fromisoformat(x) for x in schedule[1:])
        minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if jitter:
            minutes += self.rng.choice((-30, -15, 0, 0, 0, 15))
        return max(30, minutes) / 60

    def skipped(self, day: date) -> bool:
        """Holidays, illness, bad weather: not every planned session happens."""
        chance = 0.12
        if day.month == 8:
            chance = 0.6
        elif (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 6):
            chance = 0.7
        return self.rng.random() < chance

    def match_ledger(self) -> None:
        worker = self.person("assistente")
        for life in self.lives:
            style = STYLES[life.resource_key]
            first_day = life.start.astimezone(ROME).date() + timedelta(days=1)
            # Until the day before it was completed (or today, while it runs).
            last_day = (life.end or self.moment + timedelta(days=1)).astimezone(ROME).date()
            last_day -= timedelta(days=1)
            helpers = self.crew(life.holder_id, 2 if style.unit == "hours" else 1)
            if life.resource_key == "compagnia" and life.plan["key"] == "A1":
                helpers = [self.person(FREE_VOLUNTEER), *helpers[:1]]
            plan_id = life.plan["id"]
            links = {
                "match_id": life.match_id,
                "need_id": life.need_id,
                "plan_id": plan_id,
                "resource": life.resource_id,
            }
            if style.unit == "hours":
                schedule = life.schedule or (("SA", "09:00", "11:00"),)
                days = [
                    d
                    for d in _days(first_day, last_day)
                    if _WEEKDAYS[d.weekday()] in {s[0] for s in schedule}
                ]
                days = days[:: style.every_weeks]
                code_until = life.end or self.moment + timedelta(days=200)
                room_minutes: dict[str, float] = defaultdict(float)
                for day in days:
                    if self.skipped(day):
                        continue
                    window = next(s for s in schedule if s[0] == _WEEKDAYS[day.weekday()])
                    volunteer = self.rng.choice(helpers)
                    if self.rng.random() < style.qr_share:
                        entry = self.presence(
                            volunteer,
                            life.holder_id,
                            day,
                            window[1:],
                            target=f"match:{life.match_id}",
                            code_from=life.start,
                            code_until=code_until,
                            **links,
                        )
                    else:
                        late = self.rng.random() < 0.12 or (self.today - day).days < 10
                        entry = self.record(
                            volunteer,
                            holder_id=life.holder_id,
                            unit="hours",
                            quantity=self.hours_of(window),
                            day=day,
                            when=at(day, window[2]) + timedelta(hours=self.rng.randint(2, 30)),
                            note=self.rng.choice(style.notes or ("",)),
                            confirm_by=None if late else worker,
                            **links,
                        )
                    if entry is not None and style.room_cents:
                        room_minutes[day.strftime("%Y-%m")] += self.hours_of(window, False) * 60
                if style.room_cents:
                    self.room_hours(life, room_minutes, style.room_cents, links)
            elif style.per_month:
                volunteer = helpers[0]
                day = first_day
                while day <= last_day:
                    for _ in range(style.per_month):
                        target = day + timedelta(days=self.rng.randint(0, 27))
                        if target > last_day or self.skipped(target):
                            continue
                        quantity = self.rng.randint(*style.quantity)
                        self.record(
                            volunteer,
                            holder_id=life.holder_id,
                            unit=style.unit,
                            quantity=quantity,
                            value_cents=(
                                quantity * self.rng.randint(*style.cents) if style.cents else None
                            ),
                            day=target,
                            when=at(target, "12:00") + timedelta(hours=self.rng.randint(1, 48)),
                            note=style.notes[0] if style.notes else "",
                            confirm_by=worker if (self.today - target).days > 7 else None,
                            **links,
                        )
                    day = _add_month(day)
            else:
                volunteer = helpers[0]
                for index in range(self.rng.randint(*style.deliveries)):
                    target = min(last_day, first_day + timedelta(days=3 + 6 * index))
                    quantity = self.rng.randint(*style.quantity)
                    self.record(
                        volunteer,
                        holder_id=life.holder_id,
                        unit=style.unit,
                        quantity=quantity,
                        value_cents=quantity * self.rng.randint(*style.cents)
                        if style.cents
                        else None,
                        day=target,
                        when=at(target, "18:00"),
                        note=self.rng.choice(style.notes or ("",)),
                        confirm_by=worker,
                        **links,
                    )
                    if life.resource_key == "furgone":
                        for helper in self.crew(life.holder_id, 2):
                            self.record(
                                helper,
                                holder_id=life.holder_id,
                                unit="hours",
                                quantity=self.rng.choice((3, 3.5, 4)),
                                day=target,
                                when=at(target, "19:00"),
                                note="Carico, trasporto e montaggio",
                                confirm_by=worker,
                                **links,
                            )

    def room_hours(
        self,
        life: _MatchLife,
        minutes: dict[str, float],
        cents: int,
        links: dict[str, Any],
    ) -> None:
        """A school or parish lends its room: one room-hours entry a month, declared by the
        UdP from the holder's register and confirmed by the plan's social worker."""
        for month, total in sorted(minutes.items()):
            year, number = (int(x) for x in month.split("-"))
            day = date(year, number, calendar.monthrange(year, number)[1])
            day = min(day, self.today)
            hours = round(total / 60 * 4) / 4
            if hours <= 0:
                continue
            self.record(
                self.person("udp"),
                holder_id=life.holder_id,
                unit="room_hours",
                quantity=hours,
                value_cents=round(hours * cents),
                day=day,
                when=at(day, "17:00"),
                note="Ore di utilizzo dell'aula nel mese",
                confirm_by=self.person("assistente"),
                **links,
            )

    # -- community activities --------------------------------------------------------------

    def activities(self) -> None:
        udp = self.person("udp")
        for spec in ACTIVITIES:
            first, last = spec.dates(self.today)
            comune = self.comuni[spec.comune]
            created = at(first - timedelta(days=self.rng.randint(10, 25)), "10:30")
            activity = CommunityActivity(
                id=self.new_id(),
                ambito=self.ambito_id,
                title=spec.title,
                description=spec.description,
                comune=comune,
                starts_on=first,
                ends_on=last,
                status="active",
                created_by=udp.id,
                created_at=created,
                updated_at=created,
            )
            self.add(activity)
            self.counts.activities += 1
            organisers = [self.holders[name]["id"] for name in spec.organisers]
            for holder_id in organisers:
                self.add(
                    ActivityOrganiser(id=self.new_id(), activity=activity.id, holder=holder_id)
                )
            until = min(last or self.today, self.today)
            sessions = spec.sessions(first, until)
            if len(sessions) > 1:
                sessions = [d for d in sessions if not self.skipped(d)]
            end_of_codes = at((last or self.today + timedelta(days=200)), "23:59")
            for number, day in enumerate(sessions):
                # The organisers take turns, one volunteer each, starting from a different
                # organiser every session (one presence per volunteer and code a day).
                size = self.rng.randint(*spec.people)
                shift = number % len(organisers)
                order = organisers[shift:] + organisers[:shift]
                turn: list[tuple[uuid.UUID, _Person]] = []
                while len(turn) < size:
                    before = len(turn)
                    for holder_id in order:
                        free = [p for p in self.by_holder[holder_id] if (holder_id, p) not in turn]
                        if free and len(turn) < size:
                            turn.append((holder_id, self.rng.choice(free)))
                    if len(turn) == before:
                        break
                for holder_id, volunteer in turn:
                    if self.rng.random() < 0.85:
                        self.presence(
                            volunteer,
                            holder_id,
                            day,
                            spec.hours,
                            target=f"activity:{activity.id}",
                            code_from=at(first, "00:00"),
                            code_until=end_of_codes,
                            activity=activity.id,
                            comune=comune,
                        )
                    else:
                        self.record(
                            volunteer,
                            holder_id=holder_id,
                            unit="hours",
                            quantity=self.hours_of(("", *spec.hours)),
                            day=day,
                            when=at(day, spec.hours[1]) + timedelta(hours=self.rng.randint(1, 20)),
                            activity=activity.id,
                            note=f"Turno a «{spec.title}»",
                            confirm_by=self.confirmer(holder_id),
                        )
                for holder_name, unit, amount, cents, every in spec.in_kind:
                    if number % every:
                        continue
                    holder_id = self.holders[holder_name]["id"]
                    quantity = self.rng.randint(*amount)
                    self.record(
                        udp,
                        holder_id=holder_id,
                        unit=unit,
                        quantity=quantity,
                        value_cents=quantity * cents if cents else None,
                        day=day,
                        when=at(day, spec.hours[1]) + timedelta(hours=self.rng.randint(2, 50)),
                        activity=activity.id,
                        note=_IN_KIND_NOTES[unit],
                        confirm_by=udp,
                    )

    def confirmer(self, holder_id: uuid.UUID) -> _Person:
        """Entries of a holder outside plans are confirmed by its manager, or the UdP."""
        return self.holder_side(holder_id)

    def ordinary(self) -> None:
        """Time given to the holder's everyday community work (not for a plan or an
        activity), declared by its volunteers: Auser confirms its own, the UdP the others;
        the last weeks' Auser entries still wait for auser's confirmation."""
        auser = self.holders["Auser Olgiate Comasco"]["id"]
        for holder_name, note, comune, weeks in (
            (
                "Auser Olgiate Comasco",
                "Telefonate di compagnia agli iscritti",
                "Olgiate Comasco",
                2,
            ),
            ("Protezione civile Colverde", "Presidio e controllo del territorio", "Faloppio", 4),
            ("Rete di vicinato di Binago", "Spesa e piccoli aiuti tra vicini", "Binago", 3),
            ("Maria R. (volontaria)", "Aiuto compiti a bambini del paese", "Rodero", 3),
        ):
            holder_id = self.holders[holder_name]["id"]
            helpers = self.by_holder[holder_id]
            day = self.today - timedelta(days=350)
            while day <= self.today - timedelta(days=1):
                volunteer = self.rng.choice(helpers)
                recent = (self.today - day).days < 21
                self.record(
                    volunteer,
                    holder_id=holder_id,
                    unit="hours",
                    quantity=self.rng.choice((1, 1.5, 2, 2.5)),
                    day=day,
                    when=at(day, "20:00"),
                    comune=self.comuni[comune],
                    note=note,
                    confirm_by=None if recent and holder_id == auser else self.confirmer(holder_id),
                )
                day += timedelta(days=7 * weeks + self.rng.randint(-2, 2))

    def amendments(self) -> None:
        """Corrections and a cancellation, as the ledger keeps them: new rows naming the
        entry they replace. A volunteer corrects its own entry before anyone confirmed it
        (the confirmation then goes to the correction); a double tap is cancelled."""
        hours = [
            c
            for c in self.rows[Contribution]
            if c.unit == "hours" and c.verification == "self_reported" and c.plan_id is None
        ]
        hours.sort(key=lambda c: c.created_at)
        chosen = self.rng.sample(hours[: len(hours) // 2], 4)
        reason = "Avevo sbagliato le ore: correggo."
        for original, new_hours in zip(chosen[:3], (1.5, 2.0, 3.0), strict=True):
            who = self.person_of(original.created_by)
            patch = ContributionCorrection(quantity=new_hours, reason=reason)
            correction = Contribution(
                **{name: getattr(original, name) for name in corrections.CARRIED_OVER},
                id=self.new_id(),
                ambito=self.ambito_id,
                kind="correction",
                corrects=original.id,
                quantity=round(new_hours * 60),
                verification="self_reported",
                reason=reason,
                idempotency_key=None,
                request_hash=recording.request_digest(
                    who.principal(self.ambito_id), patch, f"correct:{original.id}"
                ),
                created_by=who.id,
                created_by_role=who.role.value,
                created_at=original.created_at + timedelta(hours=2),
            )
            for row in self.late_rows[ContributionConfirmation]:
                if row.contribution == original.id:
                    row.contribution = correction.id
                    row.confirmed_at = max(row.confirmed_at, correction.created_at)
            self.add(correction, late=True)
            self.counts.contributions += 1

        # The same hours sent twice (a new Idempotency-Key each time), then cancelled.
        first = chosen[3]
        who = self.person_of(first.created_by)
        twice = Contribution(
            **{name: getattr(first, name) for name in corrections.CARRIED_OVER},
            id=self.new_id(),
            ambito=self.ambito_id,
            kind="entry",
            quantity=first.quantity,
            verification="self_reported",
            idempotency_key=str(self.new_id()),
            request_hash=first.request_hash,
            created_by=who.id,
            created_by_role=who.role.value,
            created_at=first.created_at + timedelta(minutes=3),
        )
        reason = "Inserita due volte per errore."
        cancellation = Contribution(
            **{name: getattr(twice, name) for name in corrections.CARRIED_OVER},
            id=self.new_id(),
            ambito=self.ambito_id,
            kind="cancellation",
            corrects=twice.id,
            quantity=twice.quantity,
            verification=twice.verification,
            reason=reason,
            idempotency_key=None,
            request_hash=recording.request_digest(
                who.principal(self.ambito_id), Cancellation(reason=reason), f"cancel:{twice.id}"
            ),
            created_by=who.id,
            created_by_role=who.role.value,
            created_at=twice.created_at + timedelta(hours=1),
        )
        self.add(twice)
        self.add(cancellation, late=True)
        self.counts.contributions += 2

    def person_of(self, user_id: uuid.UUID) -> _Person:
        return next(p for p in self.people.values() if p.id == user_id)

    # -- money and ties --------------------------------------------------------------------

    def interventions(self) -> None:
        year = self.today.year
        elapsed = (self.today - date(year, 1, 1)).days / 365
        everywhere = [
            self.comuni[n]
            for n in (
                "Olgiate Comasco",
                "Lurate Caccivio",
                "Appiano Gentile",
                "Guanzate",
                "Villa Guardia",
                "Faloppio",
                "Albiolo",
                "Binago",
            )
        ]
        plans = {key: str(row["id"]) for key, row in self.plans.items()}
        rows = [
            # code, title, description, fund, area, level, comuni, start, end,
            # committed, spent, hours, beneficiaries, plans
            (
                f"SAD-{year - 1}",
                f"Servizio di assistenza domiciliare anziani {year - 1}",
                "Assistenza domiciliare con operatori socio-sanitari della cooperativa.",
                "municipal",
                "anziani",
                "home_care",
                everywhere,
                date(year - 1, 1, 1),
                date(year - 1, 12, 31),
                178_000_00,
                171_500_00,
                4_900,
                41,
                [],
            ),
            (
                f"SAD-{year}",
                f"Servizio di assistenza domiciliare anziani {year}",
                "Assistenza domiciliare con operatori socio-sanitari della cooperativa.",
                "municipal",
                "anziani",
                "home_care",
                everywhere,
                date(year, 1, 1),
                date(year, 12, 31),
                186_000_00,
                round(186_000_00 * 0.97 * elapsed),
                round(5_100 * elapsed),
                44,
                [],
            ),
            (
                f"FNA-B2-{year}",
                f"Misura B2 FNA: buoni per caregiver familiari {year}",
                "Buoni mensili alle famiglie che assistono a casa una persona non autosufficiente.",
                "regional",
                "anziani",
                "home_care",
                everywhere,
                date(year, 1, 1),
                date(year, 12, 31),
                64_000_00,
                round(64_000_00 * elapsed),
                0,
                26,
                [plans["A1"], plans["A3"]],
            ),
            (
                f"DDN-{year}",
                "Dopo di Noi (L. 112/2016): percorsi di autonomia",
                "Educatori della cooperativa per i percorsi di vita indipendente.",
                "national",
                "disabili",
                "residential",
                [self.comuni["Appiano Gentile"], self.comuni["Guanzate"]],
                date(year, 1, 1),
                date(year, 12, 31),
                42_000_00,
                round(42_000_00 * 0.9 * elapsed),
                120,
                8,
                [plans["D1"], plans["D2"]],
            ),
            (
                f"FP-{year}",
                "Fondo povertà: tirocini di inclusione e sostegni economici",
                "Tirocini e contributi per i nuclei con assegno di inclusione.",
                "national",
                "poverta-disagio-adulti",
                "inclusion_income",
                everywhere,
                date(year, 1, 1),
                date(year, 12, 31),
                120_000_00,
                round(120_000_00 * 0.8 * elapsed),
                0,
                55,
                [plans[k] for k in ("V1", "V2", "V3", "V4")],
            ),
            (
                "PNRR-M5C2-1.3.1",
                "PNRR M5C2 1.3.1: Housing First e stazione di posta",
                "Alloggi temporanei e servizi per persone senza dimora.",
                "eu_pnrr",
                "poverta-disagio-adulti",
                "residential",
                [self.comuni["Olgiate Comasco"]],
                date(year - 1, 7, 1),
                date(year + 1, 6, 30),
                210_000_00,
                98_000_00,
                0,
                9,
                [],
            ),
            (
                f"CAG-{year}",
                "Centro di aggregazione giovanile",
                "Spazio educativo pomeridiano per ragazzi dagli 11 ai 17 anni.",
                "municipal",
                "famiglie-minori",
                "early_childhood_community",
                [self.comuni["Villa Guardia"], self.comuni["Lurate Caccivio"]],
                date(year - 1, 9, 1),
                date(year, 8, 31),
                48_000_00,
                round(48_000_00 * 0.85),
                1_400,
                60,
                [],
            ),
            (
                f"MED-{year}",
                "Mediazione linguistico-culturale e sportello stranieri",
                "Mediatori al segretariato sociale e nelle scuole.",
                "regional",
                "immigrati",
                "access_taking_charge",
                [
                    self.comuni["Olgiate Comasco"],
                    self.comuni["Appiano Gentile"],
                    self.comuni["Guanzate"],
                ],
                date(year, 1, 1),
                date(year, 12, 31),
                30_000_00,
                round(30_000_00 * elapsed),
                round(620 * elapsed),
                85,
                [],
            ),
        ]
        created = at(date(year, 1, 20), "09:00")
        for (
            code,
            title,
            description,
            fund,
            area,
            level,
            comuni,
            start,
            end,
            committed,
            spent,
            hours,
            beneficiaries,
            plan_ids,
        ) in rows:
            when = self.past(min(created, at(start + timedelta(days=20), "09:00")))
            self.add(
                FundedIntervention(
                    id=self.new_id(),
                    ambito=self.ambito_id,
                    code=code,
                    title=title,
                    description=description,
                    fund_source=fund,
                    user_area=area,
                    fnps_level=level,
                    comuni=comuni,
                    period_start=start,
                    period_end=end,
                    committed_cents=committed,
                    spent_cents=min(spent, committed),
                    delivered_minutes=hours * 60,
                    beneficiaries=beneficiaries,
                    plan_ids=plan_ids,
                    created_at=when,
                    updated_at=max(when, self.past(self.moment - timedelta(days=12))),
                )
            )
            self.counts.interventions += 1

    def interactions(self) -> None:
        udp = self.person("udp")
        for kind, title, days_ago, names, note in INTERACTIONS:
            day = self.today - timedelta(days=days_ago)
            interaction = Interaction(
                id=self.new_id(),
                ambito=self.ambito_id,
                kind=kind,
                title=title,
                occurred_on=day,
                note=note,
                created_by=udp.id,
                created_at=at(day, "18:00"),
            )
            self.add(interaction)
            for name in names:
                self.add(
                    InteractionParticipant(
                        id=self.new_id(),
                        interaction=interaction.id,
                        holder=self.holders[name]["id"],
                    )
                )
            self.counts.interactions += 1

    # -- writing -----------------------------------------------------------------------------

    async def write(self) -> None:
        order: Sequence[type[Table]] = (
            User,
            Plan,
            Need,
            AccessLog,
            Match,
            MatchEvent,
            ResourceCapacity,
            CommunityActivity,
            ActivityOrganiser,
            Contribution,
            FundedIntervention,
            Interaction,
            InteractionParticipant,
        )
        late: Sequence[type[Table]] = (Contribution, ContributionConfirmation, CheckIn)
        async with unit_of_work():
            for batch in (
                [(t, self.rows[t]) for t in order],
                [(t, self.late_rows[t]) for t in late],
            ):
                for table, rows in batch:
                    for start in range(0, len(rows), CHUNK):
                        await table.insert(*rows[start : start + CHUNK])


_IN_KIND_NOTES = {
    "meals": "Pasti serviti",
    "room_hours": "Ore di utilizzo dei locali",
    "items": "Beni raccolti o donati",
    "trips": "Viaggi con il furgone dell'azienda",
}


def _add_month(day: date) -> date:
    month = day.month % 12 + 1
    year = day.year + (day.month == 12)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def build(
    ambito_id: uuid.UUID, *, password_hash: str, moment: datetime, seed: int = SEED
) -> Counts:
    """Write the demo's year of activity for the ambito `load_demo` just created."""
    builder = _Builder(ambito_id, moment, password_hash, Random(seed))
    await builder.load()
    builder.volunteers()
    await builder.plans_and_matches()
    builder.match_ledger()
    builder.activities()
    builder.ordinary()
    builder.amendments()
    builder.interventions()
    builder.interactions()
    await builder.write()
    return builder.counts


async def snapshot(ambito_id: uuid.UUID, moment: datetime) -> None:
    """The metrics snapshot the nightly job would have written, so the dashboard reads whole
    calendar periods from it (run through the job runner, which records the run)."""
    from registry.config import load_settings
    from registry.jobs import run_job

    run = await run_job(
        "metrics_snapshot", load_settings(), now=moment, trigger="cli", ambito_ids=[ambito_id]
    )
    if run.status != "ok":
        raise RuntimeError(f"the demo's metrics snapshot failed: {run.error}")
