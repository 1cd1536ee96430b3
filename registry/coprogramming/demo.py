"""The demo ambito's co-programming of its Piano di Zona, modelled on seed 002 (Pavia).

A public notice, applications (one organisation registered on the way, with its RUNTS
number), five sessions (introductory, three thematic split into working tables, concluding),
attendance, the four guiding questions answered per table, minutes drafted from the tables and
approved, the summary document assembled from the approved minutes, Piano objectives linked to
the proposals and sessions they come from; then one co-design born from a proposal, with its
partners' commitments and what the ledger shows they gave, and one patto di collaborazione
with its periodic report.

Everything is written through the domains' own services, as the UdP and the holder managers
would have written it through the API, with the clock of each step injected, so the procedure
happened over the months before today and the demo always ends today: the co-programming
service takes `now=`; the partnerships, ledger and holders services stamp times with
`registry.common.now`, which `_Clock` moves to the step's moment while it writes.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import ModuleType

from registry import common
from registry.access import Principal, Role
from registry.ambiti.tables import Comune
from registry.contributions import confirmations, recording
from registry.contributions.schemas import ConfirmationIn
from registry.coprogramming.applications import (
    create_application,
    list_applications,
    update_application,
)
from registry.coprogramming.contributions import create_contribution
from registry.coprogramming.minutes import approve_minutes, draft_minutes
from registry.coprogramming.objectives import create_objective
from registry.coprogramming.procedures import create_procedure, update_procedure
from registry.coprogramming.schemas import (
    ApplicationCreate,
    ApplicationPatch,
    AttendanceIn,
    ContributionCreate,
    ObjectiveCreate,
    ParticipantIn,
    ProcedureCreate,
    ProcedurePatch,
    SessionCreate,
    TableCreate,
)
from registry.coprogramming.sessions import create_session, create_table, record_attendance
from registry.coprogramming.summary import approve_summary, draft_summary
from registry.holders import service as holders_service
from registry.holders.schemas import HolderCreate
from registry.holders.tables import Holder
from registry.italian import ROME
from registry.partnerships import commitments, patti, patto_reports, projects
from registry.partnerships.schemas import (
    CommitmentContribution,
    CommitmentCreate,
    MilestoneCreate,
    MilestonePatch,
    PartnerIn,
    PartnerRole,
    PattoCreate,
    PattoReportCreate,
    ProjectCreate,
    PublicParty,
)
from registry.resources.tables import Resource
from registry.users.tables import User
from registry.vocabularies import (
    ApplicationStatus,
    ContributionUnit,
    GuidingQuestion,
    HolderKind,
    ParticipantRole,
    ProcedureStatus,
    Sector,
    SessionKind,
    UserArea,
)

# The services without a `now=` parameter, whose clock the demo moves to each step's moment.
_CLOCKED: list[ModuleType] = [
    commitments,
    projects,
    patti,
    patto_reports,
    recording,
    confirmations,
    holders_service,
]

AUSER = "Auser Olgiate Comasco"
CARITAS = "Caritas parrocchiale San Gerardo"
SENTIERO = "Cooperativa sociale Il Sentiero"
BANCO = "Banco di solidarietà dell'Olgiatese"
ORATORIO = "Oratorio di Villa Guardia"
VICINATO = "Rete di vicinato di Binago"
SCUOLA = "Istituto comprensivo di Lurate Caccivio"
FALEGNAMERIA = "Falegnameria Bernasconi srl"
ITALIANO = "Scuola di italiano Parole in cammino"
TRASPORTO = "Gruppo volontari trasporto amico"
# Registered on the way, as the notice allows (seed 002: 59 organisations took part).
GIOVANI = "Associazione Giovani Olgiatesi APS"

PROCEDURE_TITLE = "Co-programmazione del Piano di Zona"

# organisation -> the people it names: (name, role, contact or None). Invented names.
PEOPLE: dict[str, list[tuple[str, ParticipantRole, str | None]]] = {
    AUSER: [
        ("Giuseppe Colombo", ParticipantRole.LEGAL_REPRESENTATIVE, "presidenza@auser.example.org"),
        ("Anna Ferrari", ParticipantRole.VOLUNTEER, None),
    ],
    CARITAS: [
        ("Don Luca Bianchi", ParticipantRole.LEGAL_REPRESENTATIVE, None),
        ("Rita Galli", ParticipantRole.VOLUNTEER, None),
    ],
    SENTIERO: [
        ("Paola Riva", ParticipantRole.DELEGATE, "coordinamento@sentiero.example.org"),
        ("Marco Sala", ParticipantRole.OPERATOR, None),
        ("Elisa Conti", ParticipantRole.OPERATOR, None),
    ],
    BANCO: [("Franco Moretti", ParticipantRole.DELEGATE, None)],
    ORATORIO: [
        ("Chiara Villa", ParticipantRole.OPERATOR, None),
        ("Davide Longhi", ParticipantRole.VOLUNTEER, None),
    ],
    VICINATO: [("Teresa Pozzi", ParticipantRole.VOLUNTEER, None)],
    SCUOLA: [("Laura Molteni", ParticipantRole.DELEGATE, None)],
    FALEGNAMERIA: [("Sergio Bernasconi", ParticipantRole.LEGAL_REPRESENTATIVE, None)],
    ITALIANO: [
        ("Fatima El Amrani", ParticipantRole.OPERATOR, None),
        ("Giulia Corti", ParticipantRole.VOLUNTEER, None),
    ],
    TRASPORTO: [("Renato Brambilla", ParticipantRole.DELEGATE, None)],
    GIOVANI: [
        ("Luca Mauri", ParticipantRole.LEGAL_REPRESENTATIVE, None),
        ("Sara Fumagalli", ParticipantRole.VOLUNTEER, None),
    ],
}

Q = GuidingQuestion


@dataclass
class _Table:
    theme: str
    spokesperson: str  # organisation whose first person speaks for the table
    members: list[str]
    # (question, organisation or None for the table as a whole, text, category, resource title)
    answers: list[tuple[GuidingQuestion, str | None, str, str | None, str | None]]


@dataclass
class _Session:
    number: int
    kind: SessionKind
    title: str
    theme: str
    days_before: int  # days before today
    agenda: str
    present: list[str]
    tables: list[_Table] = field(default_factory=list)


ALL = [
    AUSER,
    CARITAS,
    SENTIERO,
    BANCO,
    ORATORIO,
    VICINATO,
    SCUOLA,
    FALEGNAMERIA,
    ITALIANO,
    TRASPORTO,
    GIOVANI,
]

SESSIONS = [
    _Session(
        1,
        SessionKind.INTRODUCTORY,
        "Sessione introduttiva",
        "Il percorso, il calendario e le quattro domande guida",
        126,
        "1. Saluti e presentazione dell'avviso (Ufficio di Piano)\n"
        "2. Il Piano di Zona in scadenza: cosa ha funzionato, cosa no\n"
        "3. Il calendario delle sessioni e come si lavora nei tavoli\n"
        "4. Domande e iscrizione ai tavoli tematici",
        ALL,
    ),
    _Session(
        2,
        SessionKind.THEMATIC,
        "Politiche giovanili",
        "Giovani, scuola e tempo libero",
        119,
        "1. Il tema presentato dall'Ufficio di Piano\n2. Lavoro nei tavoli sulle quattro domande\n"
        "3. Restituzione in plenaria dei portavoce",
        [ORATORIO, SCUOLA, GIOVANI, ITALIANO, SENTIERO, FALEGNAMERIA],
        [
            _Table(
                "Adolescenti e dispersione scolastica",
                ORATORIO,
                [ORATORIO, SCUOLA, GIOVANI],
                [
                    (
                        Q.PROBLEMS,
                        SCUOLA,
                        "Ragazzi che lasciano la scuola dopo la terza media, nei comuni piccoli.",
                        None,
                        None,
                    ),
                    (
                        Q.EXISTING_RESOURCES,
                        ORATORIO,
                        "Il doposcuola in oratorio, tre pomeriggi a settimana.",
                        "sostegno-scolastico",
                        "Doposcuola in oratorio",
                    ),
                    (
                        Q.PROPOSALS,
                        GIOVANI,
                        "Tutor tra pari: ragazzi delle superiori affiancano quelli delle medie.",
                        "tutoraggio",
                        None,
                    ),
                    (
                        Q.NETWORK_CONTRIBUTION,
                        None,
                        "Spazi dell'oratorio e volontari giovani per i pomeriggi.",
                        None,
                        None,
                    ),
                ],
            ),
            _Table(
                "Giovani e lavoro",
                FALEGNAMERIA,
                [FALEGNAMERIA, SENTIERO, ITALIANO],
                [
                    (
                        Q.PROBLEMS,
                        SENTIERO,
                        "Giovani con fragilità senza un primo contatto con il lavoro.",
                        None,
                        None,
                    ),
                    (
                        Q.EXISTING_RESOURCES,
                        FALEGNAMERIA,
                        "Le piccole riparazioni in falegnameria, dove già passano alcuni ragazzi.",
                        "piccole-manutenzioni",
                        "Piccole riparazioni domestiche",
                    ),
                    (
                        Q.PROPOSALS,
                        FALEGNAMERIA,
                        "Botteghe aperte: tirocini brevi nelle imprese artigiane del territorio.",
                        "orientamento-lavoro",
                        None,
                    ),
                    (
                        Q.NETWORK_CONTRIBUTION,
                        ITALIANO,
                        "Corsi di italiano orientati al lavoro per i giovani arrivati da poco.",
                        "lingua-italiana",
                        None,
                    ),
                ],
            ),
        ],
    ),
    _Session(
        3,
        SessionKind.THEMATIC,
        "Non autosufficienza e vulnerabilità",
        "Anziani soli, chi li assiste, le famiglie in difficoltà",
        112,
        "1. Il tema presentato dall'Ufficio di Piano\n2. Lavoro nei tavoli sulle quattro domande\n"
        "3. Restituzione in plenaria dei portavoce",
        [AUSER, CARITAS, SENTIERO, BANCO, VICINATO, TRASPORTO],
        [
            _Table(
                "Anziani soli e caregiver",
                AUSER,
                [AUSER, VICINATO, TRASPORTO],
                [
                    (
                        Q.PROBLEMS,
                        AUSER,
                        "Anziani soli che rinunciano alle visite mediche: manca chi li accompagna.",
                        None,
                        None,
                    ),
                    (
                        Q.PROBLEMS,
                        VICINATO,
                        "Familiari che assistono senza mai una pausa.",
                        None,
                        None,
                    ),
                    (
                        Q.EXISTING_RESOURCES,
                        TRASPORTO,
                        "Il trasporto sociale con l'auto attrezzata.",
                        "trasporto",
                        "Trasporto sociale con auto attrezzata",
                    ),
                    (
                        Q.PROPOSALS,
                        AUSER,
                        "Una rete tra associazioni per trasporto e compagnia agli anziani soli.",
                        "accompagnamento",
                        None,
                    ),
                    (
                        Q.PROPOSALS,
                        VICINATO,
                        "Ore di sollievo a domicilio per chi assiste un familiare.",
                        "sollievo",
                        None,
                    ),
                    (
                        Q.NETWORK_CONTRIBUTION,
                        AUSER,
                        "Volontari formati per la compagnia telefonica e a domicilio.",
                        "compagnia-ascolto",
                        None,
                    ),
                ],
            ),
            _Table(
                "Povertà e fragilità delle famiglie",
                CARITAS,
                [CARITAS, BANCO, SENTIERO],
                [
                    (
                        Q.PROBLEMS,
                        CARITAS,
                        "Famiglie che chiedono aiuto solo quando la situazione è già grave.",
                        None,
                        None,
                    ),
                    (
                        Q.EXISTING_RESOURCES,
                        BANCO,
                        "La distribuzione dei pacchi alimentari.",
                        "alimentari",
                        "Distribuzione pacchi alimentari",
                    ),
                    (
                        Q.PROPOSALS,
                        CARITAS,
                        "Un centro di ascolto unico tra le parrocchie e i servizi sociali.",
                        "compagnia-ascolto",
                        None,
                    ),
                    (
                        Q.PROPOSALS,
                        SENTIERO,
                        "Gruppi di auto mutuo aiuto per genitori in difficoltà.",
                        "auto-mutuo-aiuto",
                        None,
                    ),
                    (
                        Q.NETWORK_CONTRIBUTION,
                        None,
                        "Segnalazione precoce condivisa tra volontari e assistenti sociali.",
                        None,
                        None,
                    ),
                ],
            ),
        ],
    ),
    _Session(
        4,
        SessionKind.THEMATIC,
        "Metodologie della co-programmazione e della co-progettazione",
        "Come lavorare insieme dopo il Piano",
        105,
        "1. Le linee guida 72/2021 in pratica\n2. Lavoro nei tavoli sulle quattro domande\n"
        "3. Restituzione in plenaria dei portavoce",
        [AUSER, CARITAS, SENTIERO, ORATORIO, GIOVANI, TRASPORTO],
        [
            _Table(
                "Strumenti per lavorare in rete",
                SENTIERO,
                [SENTIERO, AUSER, GIOVANI, ORATORIO],
                [
                    (
                        Q.PROBLEMS,
                        SENTIERO,
                        "Le stesse organizzazioni si incontrano solo quando c'è un bando.",
                        None,
                        None,
                    ),
                    (
                        Q.EXISTING_RESOURCES,
                        ORATORIO,
                        "Il salone dell'oratorio per incontri.",
                        "sala-incontri",
                        "Salone dell'oratorio per incontri",
                    ),
                    (
                        Q.PROPOSALS,
                        GIOVANI,
                        "Un incontro di rete ogni tre mesi, anche dopo l'approvazione del Piano.",
                        None,
                        None,
                    ),
                    (
                        Q.NETWORK_CONTRIBUTION,
                        AUSER,
                        "Ospitare a turno gli incontri e tenerne il verbale.",
                        None,
                        None,
                    ),
                ],
            ),
        ],
    ),
    _Session(
        5,
        SessionKind.CONCLUDING,
        "Sessione conclusiva",
        "Restituzione degli esiti e prossimi passi",
        91,
        "1. Sintesi dei tavoli tematici\n2. Dalle proposte agli obiettivi del Piano\n"
        "3. Le co-progettazioni che seguiranno",
        ALL,
    ),
]

# code, title, description, area, proposals (their texts), sessions (numbers)
OBJECTIVES: list[tuple[str, str, str, UserArea, list[str], list[int]]] = [
    (
        "OB-1",
        "Nessun anziano solo senza un passaggio",
        "Una rete coordinata di trasporto e compagnia per gli anziani soli dei comuni dell'ambito.",
        UserArea.ELDERLY,
        ["Una rete tra associazioni per trasporto e compagnia agli anziani soli."],
        [3],
    ),
    (
        "OB-2",
        "Sollievo per chi assiste",
        "Ore di sollievo a domicilio e gruppi di auto mutuo aiuto per i caregiver familiari.",
        UserArea.ELDERLY,
        [
            "Ore di sollievo a domicilio per chi assiste un familiare.",
            "Gruppi di auto mutuo aiuto per genitori in difficoltà.",
        ],
        [3],
    ),
    (
        "OB-3",
        "Tutor tra pari contro la dispersione",
        "Ragazzi delle superiori che affiancano quelli delle medie, con oratorio e scuola.",
        UserArea.FAMILIES_MINORS,
        ["Tutor tra pari: ragazzi delle superiori affiancano quelli delle medie."],
        [2],
    ),
    (
        "OB-4",
        "Una rete che si incontra",
        "Incontri di rete trimestrali tra l'Ufficio di Piano e il terzo settore.",
        UserArea.MULTI_USER,
        ["Un incontro di rete ogni tre mesi, anche dopo l'approvazione del Piano."],
        [4, 5],
    ),
]

NOTICE = (
    "L'Ufficio di Piano dell'Ambito invita gli enti del Terzo settore, le parrocchie, le reti "
    "informali e le imprese sociali del territorio a partecipare alla co-programmazione del "
    "Piano di Zona, ai sensi dell'art. 55 del Codice del Terzo Settore e delle linee guida "
    "ministeriali 72/2021.\n\n"
    "Il percorso si articola in cinque sessioni: una introduttiva, tre tematiche (politiche "
    "giovanili; non autosufficienza e vulnerabilità; metodologie della co-programmazione e "
    "della co-progettazione) divise in tavoli di lavoro, e una conclusiva. Ogni tavolo indica "
    "un portavoce e lavora su quattro domande: i problemi storici ed emergenti; le risorse già "
    "disponibili; le proposte concrete; il contributo che la rete può dare.\n\n"
    "Di ogni sessione si redige il verbale; il documento istruttorio di sintesi, composto dai "
    "verbali approvati, è pubblicato ed è fonte del Piano di Zona."
)


class _Clock:
    """Moves the services' clock to a step's moment (the demo's injected clock): every name
    under which a clocked service imported `registry.common.now` answers `moment` meanwhile."""

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        saved = [
            (module, name, value)
            for module in _CLOCKED
            for name, value in vars(module).items()
            if value is common.now
        ]
        for module, name, _ in saved:
            setattr(module, name, lambda: moment)
        try:
            yield
        finally:
            for module, name, value in saved:
                setattr(module, name, value)


def _at(day: date, hhmm: str = "10:00") -> datetime:
    """A local time in the ambito, as the UTC instant the services stamp."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=ROME).astimezone(UTC)


async def _principal(ambito_id: uuid.UUID, username: str) -> Principal:
    row = (
        await User.select(User.id, User.role, User.holder)
        .where((User.ambito == ambito_id) & (User.username == username))
        .first()
    )
    if row is None:
        raise RuntimeError(f"the demo has no user {username!r}")
    return Principal(row["id"], username, Role(row["role"]), ambito_id, row["holder"])


@dataclass
class DemoProcedure:
    """What the procedure's part wrote, for the co-design and the patto that follow."""

    procedure_id: uuid.UUID
    session_ids: dict[int, uuid.UUID]
    holder_ids: dict[str, uuid.UUID]
    proposal_ids: dict[str, uuid.UUID]


async def build(ambito_id: uuid.UUID, moment: datetime) -> DemoProcedure:
    """Write the demo's co-programming procedure; `moment` is the demo's today."""
    today = moment.astimezone(ROME).date()
    clock = _Clock()
    udp = await _principal(ambito_id, "udp")
    auser = await _principal(ambito_id, "auser")
    holder_ids = {
        r["name"]: r["id"]
        for r in await Holder.select(Holder.id, Holder.name).where(Holder.ambito == ambito_id)
    }
    resource_ids = {
        r["title"]: r["id"]
        for r in await Resource.select(Resource.id, Resource.title).where(
            Resource.ambito == ambito_id
        )
    }
    first = today - timedelta(days=160)
    period = f"{today.year}-{today.year + 2}"

    at = _at(first)
    procedure = await create_procedure(
        udp,
        ProcedureCreate(
            title=f"{PROCEDURE_TITLE} {period}",
            description="Il percorso con cui l'Ambito e il Terzo settore hanno letto insieme "
            "bisogni e risorse del territorio prima di scrivere il Piano di Zona.",
            notice_text=NOTICE,
            notice_url="https://www.example.org/ambito-olgiatese/avviso-coprogrammazione",
            notice_published_on=first + timedelta(days=5),
            applications_close_on=first + timedelta(days=25),
            piano_period=period,
        ),
        now=at,
    )
    pid = procedure.id
    at = _at(first + timedelta(days=5))
    await update_procedure(udp, pid, ProcedurePatch(status=ProcedureStatus.OPEN), now=at)

    def people(name: str) -> list[ParticipantIn]:
        return [ParticipantIn(name=n, role=r, contact=c) for n, r, c in PEOPLE[name]]

    # Auser applies itself from the registry; the UdP admits it. The others' applications
    # arrived by e-mail and the UdP records them (which admits them at once); one organisation
    # is not in the registry yet and is registered on the way.
    applications: dict[str, uuid.UUID] = {}
    at = _at(first + timedelta(days=8), "18:30")
    own = await create_application(
        auser,
        procedure.id,
        ApplicationCreate(
            holder_id=auser.holder_id,
            note="Partecipiamo con il presidente e una volontaria.",
            participants=people(AUSER),
        ),
        now=at,
    )
    applications[AUSER] = own.id
    for offset, name in enumerate([n for n in ALL if n != AUSER]):
        at = _at(first + timedelta(days=10 + offset), "11:00")
        if name == GIOVANI:
            # The holders' service stamps the new holder with its own clock.
            with clock.at(at):
                answer = await create_application(
                    udp,
                    pid,
                    ApplicationCreate(
                        new_holder=HolderCreate(
                            kind=HolderKind.ASSOCIATION,
                            sector=Sector.THIRD_SECTOR,
                            name=GIOVANI,
                            runts_number="118204",
                            description="APS di giovani dell'Olgiatese.",
                        ),
                        participants=people(name),
                    ),
                    now=at,
                )
            holder_ids[GIOVANI] = answer.holder_id
        else:
            answer = await create_application(
                udp,
                pid,
                ApplicationCreate(holder_id=holder_ids[name], participants=people(name)),
                now=at,
            )
        applications[name] = answer.id
    at = _at(first + timedelta(days=26))
    await update_application(
        udp, own.id, ApplicationPatch(status=ApplicationStatus.ADMITTED), now=at
    )
    await update_procedure(udp, pid, ProcedurePatch(status=ProcedureStatus.RUNNING), now=at)

    # The first person each organisation named (the spokesperson of its table).
    first_person: dict[str, uuid.UUID] = {}
    for application in await list_applications(udp, pid):
        name = next(n for n, i in holder_ids.items() if i == application.holder_id)
        first_person[name] = application.participants[0].id

    session_ids: dict[int, uuid.UUID] = {}
    proposal_ids: dict[str, uuid.UUID] = {}
    for spec in SESSIONS:
        day = today - timedelta(days=spec.days_before)
        starts = _at(day, "17:30")
        at = starts - timedelta(days=14)
        meeting = await create_session(
            udp,
            pid,
            SessionCreate(
                number=spec.number,
                kind=spec.kind,
                title=spec.title,
                theme=spec.theme,
                starts_at=starts,
                place="Online (videoconferenza) con lavagna condivisa",
                agenda=spec.agenda,
            ),
            now=at,
        )
        session_ids[spec.number] = meeting.id
        tables: dict[str, uuid.UUID] = {}
        at = starts - timedelta(days=2)
        for table in spec.tables:
            made = await create_table(
                udp,
                meeting.id,
                TableCreate(theme=table.theme, spokesperson_id=first_person[table.spokesperson]),
                now=at,
            )
            tables[table.theme] = made.id
        seat = {m: t.theme for t in spec.tables for m in t.members}
        at = starts + timedelta(hours=3)
        for name in spec.present:
            await record_attendance(
                udp,
                meeting.id,
                AttendanceIn(
                    application_id=applications[name],
                    table_id=tables[seat[name]] if name in seat else None,
                    people=len(PEOPLE[name]),
                ),
                now=at,
            )
        # The answers on the tables' boards, transcribed the day after (Auser writes its own).
        at = starts + timedelta(days=1)
        for table in spec.tables:
            for question, who, text, category, resource in table.answers:
                actor = auser if who == AUSER else udp
                made = await create_contribution(
                    actor,
                    tables[table.theme],
                    ContributionCreate(
                        question=question,
                        text=text,
                        holder_id=None if who in (None, AUSER) else holder_ids[who],
                        resource_id=resource_ids.get(resource) if resource else None,
                        category_code=category,
                    ),
                    now=at,
                )
                if question is Q.PROPOSALS:
                    proposal_ids[text] = made.id
        at = starts + timedelta(days=3)
        draft = await draft_minutes(udp, meeting.id, now=at)
        at = starts + timedelta(days=8)
        await approve_minutes(udp, draft.id, now=at)

    concluded = today - timedelta(days=SESSIONS[-1].days_before)
    at = _at(concluded + timedelta(days=10))
    summary = await draft_summary(udp, pid, now=at)
    at = _at(concluded + timedelta(days=14))
    await approve_summary(udp, summary.id, now=at)
    adopted = concluded + timedelta(days=30)
    at = _at(adopted)
    for code, title, description, area, proposals, sessions in OBJECTIVES:
        await create_objective(
            udp,
            pid,
            ObjectiveCreate(
                code=code,
                title=title,
                description=description,
                area=area,
                adopted_on=adopted,
                proposal_ids=[proposal_ids[p] for p in proposals],
                session_ids=[session_ids[n] for n in sessions],
            ),
            now=at,
        )
    await update_procedure(udp, pid, ProcedurePatch(status=ProcedureStatus.CLOSED), now=at)

    result = DemoProcedure(pid, session_ids, holder_ids, proposal_ids)
    await _partnerships(result, udp, auser, today, clock)
    return result


async def _partnerships(
    demo: DemoProcedure, udp: Principal, auser: Principal, today: date, clock: _Clock
) -> None:
    """The co-design born from Auser's proposal, and a patto for the park of Binago: partners'
    commitments and what they gave, recorded in the ledger under them and mostly confirmed."""
    holders = demo.holder_ids
    resources = {
        (r["title"], r["holder"]): r["id"]
        for r in await Resource.select(Resource.id, Resource.title, Resource.holder).where(
            Resource.ambito == udp.ambito_id
        )
    }
    keys = _Keys()

    # --- the co-design -----------------------------------------------------------------------
    starts = today - timedelta(days=60)
    proposal = "Una rete tra associazioni per trasporto e compagnia agli anziani soli."
    with clock.at(_at(starts - timedelta(days=7))):
        project = await projects.create_project(
            udp,
            ProjectCreate(
                title="Rete anziani soli: trasporto e compagnia",
                description="Nata dalla proposta del tavolo «Anziani soli e caregiver» "
                "(sessione 3): le associazioni si coordinano per accompagnare alle visite, "
                "fare compagnia e portare "
                "la spesa agli anziani soli segnalati dai servizi sociali.",
                procedure_id=demo.procedure_id,
                proposal_id=demo.proposal_ids[proposal],
                starts_on=starts,
                ends_on=starts + timedelta(days=365),
                partners=[
                    PartnerIn(holder_id=holders[AUSER], role=PartnerRole.LEAD),
                    PartnerIn(holder_id=holders[TRASPORTO]),
                    PartnerIn(holder_id=holders[VICINATO]),
                ],
            ),
        )
        company = await projects.add_project_commitment(
            udp,
            project.id,
            CommitmentCreate(
                holder_id=holders[AUSER],
                description="Compagnia telefonica e a domicilio agli anziani soli segnalati",
                unit=ContributionUnit.HOURS,
                quantity=200,
                resource_id=resources.get(
                    ("Compagnia telefonica e a domicilio per anziani soli", holders[AUSER])
                ),
            ),
        )
        trips = await projects.add_project_commitment(
            udp,
            project.id,
            CommitmentCreate(
                holder_id=holders[TRASPORTO],
                description="Accompagnamenti a visite mediche ed esami",
                unit=ContributionUnit.TRIPS,
                quantity=80,
            ),
        )
        shopping = await projects.add_project_commitment(
            udp,
            project.id,
            CommitmentCreate(
                holder_id=holders[VICINATO],
                description="Spesa e farmaci a domicilio",
                unit=ContributionUnit.TRIPS,
                quantity=40,
            ),
        )
        for title, due in [
            ("Avvio della rete e formazione dei volontari", starts + timedelta(days=14)),
            ("Primo incontro di verifica con i servizi sociali", starts + timedelta(days=90)),
            ("Relazione finale e proposta di rinnovo", starts + timedelta(days=365)),
        ]:
            milestone = await projects.add_milestone(
                udp, project.id, MilestoneCreate(title=title, due_on=due)
            )
            if due < today:  # the network started on time
                await projects.update_milestone(
                    udp, project.id, milestone.id, MilestonePatch(done_on=due - timedelta(days=2))
                )
    # Week by week since the start: Auser's hours (its manager records and confirms them),
    # the transport group's trips and the neighbours' shopping (recorded by the UdP; the last
    # fortnight is still waiting for confirmation).
    entries: list[tuple[Principal, uuid.UUID, date]] = []
    for week in range((today - starts).days // 7):
        day = starts + timedelta(days=7 * week + 2)
        for actor, commitment, quantity in [
            (auser, company.id, 3 + week % 3),
            (udp, trips.id, 1 + week % 2),
            (udp, shopping.id, 1),
        ]:
            with clock.at(_at(day, "19:00")):
                entry, _ = await commitments.record_contribution(
                    actor,
                    commitment,
                    CommitmentContribution(quantity=quantity, occurred_on=day, note=""),
                    keys.next(),
                )
            entries.append((actor, entry.id, day))
    for actor, entry_id, day in entries:
        if (today - day).days > 14:
            await confirm_all(actor, [entry_id], _at(day + timedelta(days=3)), clock)

    # --- the patto -----------------------------------------------------------------------------
    binago = (
        await Comune.select(Comune.istat_code)
        .where((Comune.ambito == udp.ambito_id) & (Comune.name == "Binago"))
        .first()
    )
    signed = today - timedelta(days=220)
    with clock.at(_at(signed - timedelta(days=3))):
        patto = await patti.create_patto(
            udp,
            PattoCreate(
                title="Patto di collaborazione per il parco giochi di Binago",
                object="Cura condivisa del parco giochi di via Roma: apertura e chiusura, piccola "
                "pulizia, riparazione degli arredi in legno, una festa all'anno con il vicinato.",
                public_party=PublicParty.COMUNE if binago else PublicParty.AMBITO,
                comune=binago["istat_code"] if binago else None,
                parties=[holders[VICINATO], holders[FALEGNAMERIA]],
                starts_on=signed,
                ends_on=signed + timedelta(days=364),
                report_every_months=6,
            ),
        )
        care = await patti.add_patto_commitment(
            udp,
            patto.id,
            CommitmentCreate(
                holder_id=holders[VICINATO],
                description="Apertura, chiusura e piccola pulizia del parco",
                unit=ContributionUnit.HOURS,
                quantity=150,
            ),
        )
        repairs = await patti.add_patto_commitment(
            udp,
            patto.id,
            CommitmentCreate(
                holder_id=holders[FALEGNAMERIA],
                description="Riparazione di panchine e giochi in legno",
                unit=ContributionUnit.HOURS,
                quantity=30,
            ),
        )
        await patti.add_patto_commitment(
            udp,
            patto.id,
            CommitmentCreate(
                description="Il Comune fornisce attrezzi e materiali e smaltisce il verde"
            ),
        )
    # The UdP confirms each Saturday's hours on the Tuesday after (never later than yesterday:
    # a moment after the demo's own would be in the future).
    patto_entries: list[tuple[uuid.UUID, date]] = []
    for week in range((today - signed).days // 7):
        day = signed + timedelta(days=7 * week + 5)  # Saturday mornings, more or less
        with clock.at(_at(day, "12:30")):
            entry, _ = await commitments.record_contribution(
                udp,
                care.id,
                CommitmentContribution(quantity=3, occurred_on=day, note=""),
                keys.next(),
            )
            patto_entries.append((entry.id, day))
            if week % 8 == 3:
                entry, _ = await commitments.record_contribution(
                    udp,
                    repairs.id,
                    CommitmentContribution(quantity=4, occurred_on=day, note="Panchine e altalena"),
                    keys.next(),
                )
                patto_entries.append((entry.id, day))
    for entry_id, day in patto_entries:
        await confirm_all(
            udp, [entry_id], _at(min(day + timedelta(days=3), today - timedelta(days=1))), clock
        )
    first_end = _add_months(signed, 6) - timedelta(days=1)
    with clock.at(_at(first_end + timedelta(days=9))):
        await patto_reports.add_report(
            udp,
            patto.id,
            PattoReportCreate(
                period_start=signed,
                period_end=first_end,
                text="Il parco è stato aperto ogni giorno dai volontari del vicinato; la "
                "falegnameria ha riparato le panchine e l'altalena. In primavera la festa del "
                "parco ha coinvolto "
                "una quarantina di famiglie. Da migliorare: i turni estivi, con più volontari.",
            ),
        )


class _Keys:
    """Idempotency keys of the demo's ledger entries: unique, and the same at every load."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"demo-coprogramming-{self.count}"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def confirm_all(
    actor: Principal, entry_ids: list[uuid.UUID], moment: datetime, clock: _Clock
) -> None:
    """The holder's manager (or the UdP) confirms what was reported."""
    with clock.at(moment):
        for entry_id in entry_ids:
            await confirmations.confirm(actor, entry_id, ConfirmationIn(note=""))
