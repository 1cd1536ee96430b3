"""What the demo's year is made of: the volunteer accounts, the resources' short names,
how each kind of help shows up in the ledger, and the plans with their needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
