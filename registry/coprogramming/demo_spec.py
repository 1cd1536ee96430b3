"""What the demo's co-programming is made of: the organisations taking part and the
people they name, the five sessions with their working tables and answers, the Piano
objectives and the notice."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.vocabularies import (
    GuidingQuestion,
    ParticipantRole,
    SessionKind,
    UserArea,
)

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
