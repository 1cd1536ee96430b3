"""Controlled vocabularies of the domain (DESIGN.md "Domain"): one definition, used by the
schemas, the validation and the UI labels."""

from __future__ import annotations

from enum import StrEnum


class HolderKind(StrEnum):
    ASSOCIATION = "association"  # associazione / ETS
    SOCIAL_COOPERATIVE = "social_cooperative"
    INFORMAL_NETWORK = "informal_network"
    INDIVIDUAL_VOLUNTEER = "individual_volunteer"
    PARISH = "parish"
    SCHOOL = "school"
    COMPANY = "company"
    PUBLIC_OFFICE = "public_office"
    OTHER = "other"


class Sector(StrEnum):
    PUBLIC = "public"
    THIRD_SECTOR = "third_sector"
    INFORMAL = "informal"
    BUSINESS = "business"


class UserArea(StrEnum):
    """ISTAT user areas of social services."""

    FAMILIES_MINORS = "famiglie-minori"
    DISABILITY = "disabili"
    ADDICTION = "dipendenze"
    ELDERLY = "anziani"
    IMMIGRANTS = "immigrati"
    POVERTY = "poverta-disagio-adulti"
    MULTI_USER = "multiutenza"


class ResourceUnit(StrEnum):
    HOURS = "hours"
    PLACES = "places"
    ITEMS = "items"
    ROOM_HOURS = "room_hours"
    TRIPS = "trips"
    MEALS = "meals"


class ResourceStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    STALE = "stale"  # not reconfirmed for too long: kept, but out of suggestions
    EXPIRED = "expired"
    ARCHIVED = "archived"


class Frequency(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


# Natural persons' data needs a consent record (GDPR art. 6-7).
KINDS_NEEDING_CONSENT = frozenset({HolderKind.INDIVIDUAL_VOLUNTEER, HolderKind.INFORMAL_NETWORK})

SECTOR_OF_KIND: dict[HolderKind, frozenset[Sector]] = {
    HolderKind.ASSOCIATION: frozenset({Sector.THIRD_SECTOR}),
    HolderKind.SOCIAL_COOPERATIVE: frozenset({Sector.THIRD_SECTOR}),
    HolderKind.INFORMAL_NETWORK: frozenset({Sector.INFORMAL}),
    HolderKind.INDIVIDUAL_VOLUNTEER: frozenset({Sector.INFORMAL}),
    HolderKind.PARISH: frozenset({Sector.THIRD_SECTOR, Sector.INFORMAL}),
    HolderKind.SCHOOL: frozenset({Sector.PUBLIC, Sector.THIRD_SECTOR}),
    HolderKind.COMPANY: frozenset({Sector.BUSINESS}),
    HolderKind.PUBLIC_OFFICE: frozenset({Sector.PUBLIC}),
    HolderKind.OTHER: frozenset(Sector),
}


# --- contributions, check-in and funded interventions (issue 4) ---------------------------


class ContributionUnit(StrEnum):
    """What a ledger entry counts. Time units are stored in minutes, the others as counts."""

    HOURS = "hours"
    ROOM_HOURS = "room_hours"
    ITEMS = "items"
    MEALS = "meals"
    TRIPS = "trips"
    PEOPLE_REACHED = "people_reached"


TIME_UNITS = frozenset({ContributionUnit.HOURS, ContributionUnit.ROOM_HOURS})
# Goods and spaces may carry a declared fair value (in-kind value, never mixed with time).
IN_KIND_UNITS = frozenset(
    {
        ContributionUnit.ROOM_HOURS,
        ContributionUnit.ITEMS,
        ContributionUnit.MEALS,
        ContributionUnit.TRIPS,
    }
)

CONTRIBUTION_UNIT_LABELS: dict[ContributionUnit, str] = {
    ContributionUnit.HOURS: "ore di attività",
    ContributionUnit.ROOM_HOURS: "ore di utilizzo di spazi",
    ContributionUnit.ITEMS: "beni (pezzi)",
    ContributionUnit.MEALS: "pasti",
    ContributionUnit.TRIPS: "viaggi / trasporti",
    ContributionUnit.PEOPLE_REACHED: "persone raggiunte",
}


class EntryKind(StrEnum):
    ENTRY = "entry"
    CORRECTION = "correction"  # replaces the entry it corrects
    CANCELLATION = "cancellation"  # withdraws the entry it corrects


class Verification(StrEnum):
    SELF_REPORTED = "self_reported"
    QR_VERIFIED = "qr_verified"
    CONFIRMED = "confirmed"


class FundSource(StrEnum):
    NATIONAL = "national"
    REGIONAL = "regional"
    MUNICIPAL = "municipal"
    EU_PNRR = "eu_pnrr"
    OTHER = "other"


FUND_SOURCE_LABELS: dict[FundSource, str] = {
    FundSource.NATIONAL: "Fondi nazionali",
    FundSource.REGIONAL: "Fondi regionali",
    FundSource.MUNICIPAL: "Fondi comunali",
    FundSource.EU_PNRR: "Fondi europei / PNRR",
    FundSource.OTHER: "Altre fonti",
}


class FnpsLevel(StrEnum):
    """The macro-levels of the Fondo Nazionale Politiche Sociali."""

    ACCESS_TAKING_CHARGE = "access_taking_charge"
    HOME_CARE = "home_care"
    EARLY_CHILDHOOD_COMMUNITY = "early_childhood_community"
    RESIDENTIAL = "residential"
    INCLUSION_INCOME = "inclusion_income"


FNPS_LEVEL_LABELS: dict[FnpsLevel, str] = {
    FnpsLevel.ACCESS_TAKING_CHARGE: "Accesso, valutazione e progettazione (presa in carico)",
    FnpsLevel.HOME_CARE: "Misure per favorire la permanenza a domicilio",
    FnpsLevel.EARLY_CHILDHOOD_COMMUNITY: (
        "Servizi per la prima infanzia e servizi territoriali comunitari"
    ),
    FnpsLevel.RESIDENTIAL: "Servizi territoriali a carattere residenziale per le fragilità",
    FnpsLevel.INCLUSION_INCOME: "Misure di inclusione sociale e di sostegno al reddito",
}

HOLDER_KIND_LABELS: dict[HolderKind, str] = {
    HolderKind.ASSOCIATION: "Associazione / ETS",
    HolderKind.SOCIAL_COOPERATIVE: "Cooperativa sociale",
    HolderKind.INFORMAL_NETWORK: "Rete informale",
    HolderKind.INDIVIDUAL_VOLUNTEER: "Volontario/a singolo/a",
    HolderKind.PARISH: "Parrocchia",
    HolderKind.SCHOOL: "Scuola",
    HolderKind.COMPANY: "Impresa",
    HolderKind.PUBLIC_OFFICE: "Ente pubblico",
    HolderKind.OTHER: "Altro",
}
SECTOR_LABELS: dict[Sector, str] = {
    Sector.PUBLIC: "Pubblico",
    Sector.THIRD_SECTOR: "Terzo settore",
    Sector.INFORMAL: "Informale",
    Sector.BUSINESS: "Impresa",
}
USER_AREA_LABELS: dict[UserArea, str] = {
    UserArea.FAMILIES_MINORS: "Famiglie e minori",
    UserArea.DISABILITY: "Disabili",
    UserArea.ADDICTION: "Dipendenze",
    UserArea.ELDERLY: "Anziani",
    UserArea.IMMIGRANTS: "Immigrati e nomadi",
    UserArea.POVERTY: "Povertà, disagio adulti e senza dimora",
    UserArea.MULTI_USER: "Multiutenza",
}


# --- co-programming and co-design, art. 55 CTS (issue 16) ----------------------------------


class ProcedureKind(StrEnum):
    COPROGRAMMING = "coprogramming"  # co-programmazione
    CODESIGN = "codesign"  # co-progettazione


class ProcedureStatus(StrEnum):
    DRAFT = "draft"  # being prepared, not public
    OPEN = "open"  # notice published, applications open
    RUNNING = "running"  # sessions under way
    CLOSED = "closed"  # summary document published


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    ADMITTED = "admitted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ParticipantRole(StrEnum):
    LEGAL_REPRESENTATIVE = "legal_representative"
    DELEGATE = "delegate"
    OPERATOR = "operator"
    VOLUNTEER = "volunteer"
    OTHER = "other"


class SessionKind(StrEnum):
    INTRODUCTORY = "introductory"
    THEMATIC = "thematic"
    CONCLUDING = "concluding"


class GuidingQuestion(StrEnum):
    """The four questions of each table (seed 002)."""

    PROBLEMS = "problems"  # problemi storici ed emergenti
    EXISTING_RESOURCES = "existing_resources"  # risorse già disponibili
    PROPOSALS = "proposals"  # proposte concrete
    NETWORK_CONTRIBUTION = "network_contribution"  # cosa può mettere a disposizione la rete


class DocumentStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"  # frozen: content hash, approver and time recorded


GUIDING_QUESTION_LABELS: dict[GuidingQuestion, str] = {
    GuidingQuestion.PROBLEMS: "Problemi storici ed emergenti",
    GuidingQuestion.EXISTING_RESOURCES: "Risorse già disponibili (servizi, esperienze, pratiche)",
    GuidingQuestion.PROPOSALS: "Proposte concrete",
    GuidingQuestion.NETWORK_CONTRIBUTION: "Contributo che la rete può mettere a disposizione",
}
SESSION_KIND_LABELS: dict[SessionKind, str] = {
    SessionKind.INTRODUCTORY: "Sessione introduttiva",
    SessionKind.THEMATIC: "Sessione tematica",
    SessionKind.CONCLUDING: "Sessione conclusiva",
}
PROCEDURE_KIND_LABELS: dict[ProcedureKind, str] = {
    ProcedureKind.COPROGRAMMING: "Co-programmazione",
    ProcedureKind.CODESIGN: "Co-progettazione",
}
PARTICIPANT_ROLE_LABELS: dict[ParticipantRole, str] = {
    ParticipantRole.LEGAL_REPRESENTATIVE: "Legale rappresentante",
    ParticipantRole.DELEGATE: "Delegato/a",
    ParticipantRole.OPERATOR: "Operatore/operatrice",
    ParticipantRole.VOLUNTEER: "Volontario/a",
    ParticipantRole.OTHER: "Altro",
}
