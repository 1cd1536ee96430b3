"""Inputs and outputs of co-design projects, patti di collaborazione and their commitments."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from registry.common import IstatCode, Moment
from registry.contributions.schemas import Cents, Note, Quantity
from registry.text import Line, LongText
from registry.vocabularies import ContributionUnit

Title = Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[LongText, msgspec.Meta(max_length=5000)]
CommitmentText = Annotated[Line, msgspec.Meta(min_length=1, max_length=500)]
ReportText = Annotated[LongText, msgspec.Meta(max_length=20000)]
Months = Annotated[int, msgspec.Meta(ge=1, le=24, description="months between two reports")]


class PartnerRole(StrEnum):
    LEAD = "lead"  # capofila
    PARTNER = "partner"


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class PublicParty(StrEnum):
    COMUNE = "comune"
    AMBITO = "ambito"


class PattoStatus(StrEnum):
    ACTIVE = "active"
    RENEWED = "renewed"  # set on a period when its renewal is made
    CLOSED = "closed"
    TERMINATED = "terminated"


# --- commitments ---------------------------------------------------------------------------


class CommitmentCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What one side commits. `holder_id` null: the public side (patti only). A quantity
    needs its unit; hours are given in hours (1.5 = 90 minutes)."""

    holder_id: uuid.UUID | None = None
    description: CommitmentText
    unit: ContributionUnit | None = None
    quantity: Quantity | None = None
    resource_id: uuid.UUID | None = None
    due_by: date | None = None


class GivenOut(msgspec.Struct, kw_only=True):
    verified: float  # in the unit, effective entries verified (QR or confirmed)
    self_reported: float
    entries: int
    value_cents: int


class CommitmentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    project_id: uuid.UUID | None
    patto_id: uuid.UUID | None
    holder_id: uuid.UUID | None  # None: the public side
    holder_name: str | None
    description: str
    unit: ContributionUnit | None
    quantity: float | None  # committed, in the unit
    resource_id: uuid.UUID | None
    due_by: date | None
    given: GivenOut
    # verified given / committed (None when nothing countable was committed).
    kept_share: float | None
    created_at: datetime


class CommitmentContribution(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A ledger entry given under a commitment: its holder, unit and resource come from the
    commitment (a commitment without a unit takes the unit given here)."""

    unit: ContributionUnit | None = None
    quantity: Quantity
    value_cents: Cents | None = None
    occurred_on: date
    volunteer_id: uuid.UUID | None = None
    started_at: Moment | None = None
    ended_at: Moment | None = None
    comune: IstatCode | None = None
    note: Note = ""


class PartnerMonitoring(msgspec.Struct, kw_only=True):
    holder_id: uuid.UUID
    holder_name: str
    unit: ContributionUnit
    committed: float
    verified: float
    self_reported: float
    kept_share: float | None


class MonitoringOut(msgspec.Struct, kw_only=True):
    """Committed against what the ledger shows was given, per commitment and per partner
    and unit. Only effective entries count (a corrected entry counts in its latest version,
    a cancelled one not at all); `verified` is what the metrics count."""

    commitments: list[CommitmentOut]
    partners: list[PartnerMonitoring]


# --- co-design -----------------------------------------------------------------------------


class PartnerIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    holder_id: uuid.UUID
    role: PartnerRole = PartnerRole.PARTNER
    joined_on: date | None = None  # default: the project's start


class PartnerOut(msgspec.Struct, kw_only=True):
    holder_id: uuid.UUID
    holder_name: str
    holder_kind: str
    sector: str
    role: PartnerRole
    joined_on: date


class MilestoneCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    due_on: date
    note: Description = ""


class MilestonePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    due_on: date | msgspec.UnsetType = msgspec.UNSET
    done_on: date | msgspec.UnsetType | None = msgspec.UNSET
    note: Description | msgspec.UnsetType = msgspec.UNSET


class MilestoneOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    title: str
    due_on: date
    done_on: date | None
    note: str


class ProjectCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    description: Description = ""
    procedure_id: uuid.UUID | None = None
    # The co-programming proposal (a table contribution answering "proposals").
    proposal_id: uuid.UUID | None = None
    starts_on: date
    ends_on: date | None = None
    partners: Annotated[list[PartnerIn], msgspec.Meta(min_length=1, max_length=100)]


class ProjectPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    status: ProjectStatus | msgspec.UnsetType = msgspec.UNSET
    ends_on: date | msgspec.UnsetType | None = msgspec.UNSET


class ProjectOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    title: str
    description: str
    procedure_id: uuid.UUID | None
    proposal_id: uuid.UUID | None
    status: ProjectStatus
    starts_on: date
    ends_on: date | None
    partners: list[PartnerOut]
    milestones: list[MilestoneOut]
    commitments: list[CommitmentOut]
    created_at: datetime
    updated_at: datetime


# --- patti di collaborazione ---------------------------------------------------------------


class PattoCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    object: Description = ""
    public_party: PublicParty
    comune: IstatCode | None = None  # required when the public party is a comune
    parties: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=100)]
    starts_on: date
    ends_on: date
    report_every_months: Months = 6


class PattoPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    object: Description | msgspec.UnsetType = msgspec.UNSET
    ends_on: date | msgspec.UnsetType = msgspec.UNSET
    status: PattoStatus | msgspec.UnsetType = msgspec.UNSET
    report_every_months: Months | msgspec.UnsetType = msgspec.UNSET


class PartyIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A holder joining a patto in force (the «adesione» the regulations allow)."""

    holder_id: uuid.UUID


class PattoRenewal(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new period of the same patto. Starts the day after the current period ends unless
    told; the commitments are copied unless `copy_commitments` is false."""

    starts_on: date | None = None
    ends_on: date
    copy_commitments: bool = True


class PartyOut(msgspec.Struct, kw_only=True):
    holder_id: uuid.UUID
    holder_name: str
    holder_kind: str
    sector: str


class PattoOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    title: str
    object: str
    public_party: PublicParty
    comune: str | None
    starts_on: date
    ends_on: date
    status: PattoStatus
    report_every_months: int
    # The end of the first reporting period with no report yet (None once all are written).
    next_report_due: date | None
    renews_id: uuid.UUID | None
    renewed_by_id: uuid.UUID | None
    parties: list[PartyOut]
    commitments: list[CommitmentOut]
    created_at: datetime
    updated_at: datetime


class PattoReportCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    period_start: date
    period_end: date
    text: ReportText = ""


class UnitFigures(msgspec.Struct, kw_only=True):
    unit: ContributionUnit
    verified: float
    self_reported: float
    entries: int
    value_cents: int


class CommitmentFigures(msgspec.Struct, kw_only=True):
    commitment_id: uuid.UUID
    description: str
    holder_name: str | None
    unit: ContributionUnit | None
    committed: float | None
    verified: float
    self_reported: float


class ReportFigures(msgspec.Struct, kw_only=True):
    """What the ledger shows was given under the patto in the report's period."""

    by_unit: list[UnitFigures]
    commitments: list[CommitmentFigures]


class PattoReportOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    patto_id: uuid.UUID
    period_start: date
    period_end: date
    text: str
    figures: ReportFigures
    created_at: datetime
