"""Input and output structs of co-programming procedures (issue 16)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from registry.common import Moment
from registry.holders.schemas import HolderCreate
from registry.text import END, Line, LongText
from registry.vocabularies import (
    ApplicationStatus,
    DocumentStatus,
    GuidingQuestion,
    HolderKind,
    ParticipantRole,
    ProcedureKind,
    ProcedureStatus,
    Sector,
    SessionKind,
    UserArea,
)

Title = Annotated[Line, msgspec.Meta(min_length=1, max_length=300)]
ShortText = Annotated[LongText, msgspec.Meta(max_length=5000)]
Document = Annotated[LongText, msgspec.Meta(max_length=200_000)]
# The notice's address is shown as a link on the public page: http(s) only (no javascript:),
# no space or control character.
Url = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(https?://[^\x00-\x20]+)?" + END,
        max_length=500,
        examples=["https://www.comune.example.it/avviso-coprogrammazione"],
    ),
]
PersonName = Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
ContactText = Annotated[Line, msgspec.Meta(max_length=200)]
Category = Annotated[Line, msgspec.Meta(min_length=1, max_length=64)]
SessionNumber = Annotated[int, msgspec.Meta(ge=1, le=100)]
People = Annotated[int, msgspec.Meta(ge=1, le=1000)]
Code = Annotated[Line, msgspec.Meta(max_length=32)]
Period = Annotated[Line, msgspec.Meta(max_length=32)]
ContributionText = Annotated[LongText, msgspec.Meta(min_length=1, max_length=5000)]


# --- procedures -----------------------------------------------------------------------------


class ProcedureCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: ProcedureKind = ProcedureKind.COPROGRAMMING
    title: Title
    description: ShortText = ""
    notice_text: Document = ""
    notice_url: Url = ""
    notice_published_on: date | None = None
    applications_close_on: date | None = None
    piano_period: Period = ""


class ProcedurePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: ShortText | msgspec.UnsetType = msgspec.UNSET
    notice_text: Document | msgspec.UnsetType = msgspec.UNSET
    notice_url: Url | msgspec.UnsetType = msgspec.UNSET
    notice_published_on: date | msgspec.UnsetType | None = msgspec.UNSET
    applications_close_on: date | msgspec.UnsetType | None = msgspec.UNSET
    piano_period: Period | msgspec.UnsetType = msgspec.UNSET
    status: ProcedureStatus | msgspec.UnsetType = msgspec.UNSET


class ProcedureNotice(msgspec.Struct, kw_only=True):
    """What a procedure makes public: the UdP's view and the public page both show it."""

    id: uuid.UUID
    kind: ProcedureKind
    title: str
    description: str
    notice_text: str
    notice_url: str
    notice_published_on: date | None
    applications_close_on: date | None
    piano_period: str
    status: ProcedureStatus


class ProcedureOut(ProcedureNotice, kw_only=True):
    ambito_id: uuid.UUID
    organisations: int  # admitted applications
    people: int  # people named by the admitted organisations
    sessions: int
    created_at: datetime
    updated_at: datetime


# --- applications and their people ----------------------------------------------------------


class ParticipantIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: PersonName
    role: ParticipantRole = ParticipantRole.DELEGATE
    contact: ContactText | None = None


class ParticipantOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    role: ParticipantRole
    contact: str | None


class ApplicationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Either an existing holder of the ambito (`holder_id`) or a new one registered on the
    way (`new_holder`, the holders' own schema: RUNTS number optional). A holder manager
    applies for its own holder only."""

    holder_id: uuid.UUID | None = None
    new_holder: HolderCreate | None = None
    note: ShortText = ""
    participants: Annotated[list[ParticipantIn], msgspec.Meta(max_length=50)] = []


class ApplicationPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The UdP admits or rejects; the organisation may withdraw or change its people."""

    status: ApplicationStatus | msgspec.UnsetType = msgspec.UNSET
    note: ShortText | msgspec.UnsetType = msgspec.UNSET
    participants: (
        Annotated[list[ParticipantIn], msgspec.Meta(max_length=50)] | msgspec.UnsetType
    ) = msgspec.UNSET


class ApplicationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    procedure_id: uuid.UUID
    holder_id: uuid.UUID
    holder_name: str
    holder_kind: HolderKind
    sector: Sector
    runts_number: str | None
    status: ApplicationStatus
    note: str
    applied_at: datetime
    decided_at: datetime | None
    participants: list[ParticipantOut]
    people_by_role: dict[str, int]


# --- sessions, tables, attendance -----------------------------------------------------------


class SessionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    number: SessionNumber
    kind: SessionKind
    title: Title
    theme: Annotated[Line, msgspec.Meta(max_length=300)] = ""
    starts_at: Moment
    place: Annotated[Line, msgspec.Meta(max_length=300)] = ""
    agenda: ShortText = ""


class SessionPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    number: SessionNumber | msgspec.UnsetType = msgspec.UNSET
    kind: SessionKind | msgspec.UnsetType = msgspec.UNSET
    title: Title | msgspec.UnsetType = msgspec.UNSET
    theme: Annotated[Line, msgspec.Meta(max_length=300)] | msgspec.UnsetType = msgspec.UNSET
    starts_at: Moment | msgspec.UnsetType = msgspec.UNSET
    place: Annotated[Line, msgspec.Meta(max_length=300)] | msgspec.UnsetType = msgspec.UNSET
    agenda: ShortText | msgspec.UnsetType = msgspec.UNSET


class TableCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    theme: Title
    spokesperson_id: uuid.UUID | None = None  # a participant of an admitted organisation


class TablePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    theme: Title | msgspec.UnsetType = msgspec.UNSET
    spokesperson_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET


class TableOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    session_id: uuid.UUID
    theme: str
    spokesperson_id: uuid.UUID | None
    spokesperson_name: str | None
    spokesperson_holder: str | None  # the organisation the spokesperson speaks for
    organisations: int
    people: int


class AttendanceIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Record (or correct) one organisation's presence at a session."""

    application_id: uuid.UUID
    table_id: uuid.UUID | None = None
    people: People = 1


class AttendanceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    session_id: uuid.UUID
    application_id: uuid.UUID
    holder_id: uuid.UUID
    holder_name: str
    table_id: uuid.UUID | None
    people: int


class SessionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    procedure_id: uuid.UUID
    number: int
    kind: SessionKind
    title: str
    theme: str
    starts_at: datetime
    place: str
    agenda: str
    tables: list[TableOut]
    organisations: int
    people: int
    minutes_status: DocumentStatus | None  # of the latest version, None before any draft


# --- the four guiding questions -------------------------------------------------------------


class ContributionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    question: GuidingQuestion
    text: ContributionText
    # The UdP may attribute it to an attending organisation; a holder manager speaks for its
    # own holder (left empty, it is filled in).
    holder_id: uuid.UUID | None = None
    # Only for "existing_resources": a resource of the registry, of the same ambito.
    resource_id: uuid.UUID | None = None
    # Optional taxonomy category the answer is about (proposals beside the gap map).
    category_code: Category | None = None


class ContributionPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: ContributionText | msgspec.UnsetType = msgspec.UNSET
    resource_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    category_code: Category | msgspec.UnsetType | None = msgspec.UNSET


class ContributionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    procedure_id: uuid.UUID
    session_id: uuid.UUID
    table_id: uuid.UUID
    table_theme: str
    question: GuidingQuestion
    text: str
    holder_id: uuid.UUID | None
    holder_name: str | None
    resource_id: uuid.UUID | None
    resource_title: str | None
    category_code: str | None
    created_at: datetime
    updated_at: datetime


# --- minutes and the summary document -------------------------------------------------------


class DocumentEdit(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """New text of the minutes or the summary: edits the current draft, or opens version
    n+1 as a draft when version n is approved (n stays as it was)."""

    content: Document


class DocumentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    procedure_id: uuid.UUID
    session_id: uuid.UUID | None  # None for the summary document
    version: int
    status: DocumentStatus
    content: str
    content_hash: str | None
    approved_at: datetime | None
    approved_by: uuid.UUID | None
    sources: list[uuid.UUID]  # summary: the approved minutes versions it was assembled from
    created_at: datetime
    updated_at: datetime


# --- Piano objectives -----------------------------------------------------------------------


class ObjectiveCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code = ""
    title: Title
    description: ShortText = ""
    area: UserArea | None = None
    adopted_on: date | None = None
    proposal_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=200)] = []
    session_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)] = []


class ObjectivePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code | msgspec.UnsetType = msgspec.UNSET
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: ShortText | msgspec.UnsetType = msgspec.UNSET
    area: UserArea | msgspec.UnsetType | None = msgspec.UNSET
    adopted_on: date | msgspec.UnsetType | None = msgspec.UNSET
    proposal_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=200)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    session_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)] | msgspec.UnsetType = (
        msgspec.UNSET
    )


class ObjectiveOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    procedure_id: uuid.UUID
    code: str
    title: str
    description: str
    area: str | None
    adopted_on: date | None
    proposal_ids: list[uuid.UUID]
    session_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


# --- the public page (no login, no personal data) -------------------------------------------


class PublicOrganisation(msgspec.Struct, kw_only=True):
    name: str
    kind: HolderKind
    sector: Sector
    people: int  # how many people it named: a count, never who


class PublicTable(msgspec.Struct, kw_only=True):
    theme: str
    organisations: int
    people: int


class PublicSession(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    number: int
    kind: SessionKind
    title: str
    theme: str
    starts_at: datetime
    place: str
    agenda: str
    tables: list[PublicTable]
    organisations: int
    people: int


class PublicDocument(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    session_id: uuid.UUID | None
    version: int
    content: str
    content_hash: str
    approved_at: datetime


class PublicObjective(msgspec.Struct, kw_only=True):
    code: str
    title: str
    description: str
    area: str | None
    sessions: list[int]  # numbers of the sessions it comes from (directly or via proposals)


class PublicProcedure(ProcedureNotice, kw_only=True):
    ambito_name: str
    sessions: list[PublicSession]
    organisations: list[PublicOrganisation]
    organisations_by_sector: dict[str, int]
    people: int
    minutes: list[PublicDocument]  # approved versions only
    summary: PublicDocument | None  # the latest approved summary document
    objectives: list[PublicObjective]


class PublicProcedureItem(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: ProcedureKind
    title: str
    status: ProcedureStatus
    notice_published_on: date | None
    piano_period: str


class ProcedureOverview(msgspec.Struct, kw_only=True):
    """A whole procedure in one read, as far as the caller may see it: the UdP sees
    everything; a holder manager its own application, and the tables' answers once its
    organisation is admitted; others the public parts (empty lists for the rest)."""

    procedure: ProcedureOut
    applications: list[ApplicationOut]
    sessions: list[SessionOut]
    attendance: list[AttendanceOut]
    contributions: list[ContributionOut]
    minutes: list[DocumentOut]  # the latest version of each session visible to the caller
    summary: DocumentOut | None  # the latest version visible to the caller
    objectives: list[ObjectiveOut]
