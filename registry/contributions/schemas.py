from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from registry.common import IstatCode, Moment
from registry.text import END, Line, LongText
from registry.vocabularies import ContributionUnit, EntryKind, Verification

Title = Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[LongText, msgspec.Meta(max_length=5000)]
Note = Annotated[LongText, msgspec.Meta(max_length=1000)]
Reason = Annotated[LongText, msgspec.Meta(min_length=1, max_length=500)]
Quantity = Annotated[
    float,
    msgspec.Meta(
        gt=0,
        le=100_000,
        description="in the unit: hours for `hours` and `room_hours` (1.5 = 90 minutes, "
        "stored as whole minutes), a whole count for every other unit",
        examples=[2.5],
    ),
]
Cents = Annotated[int, msgspec.Meta(ge=0, le=10_000_000_00, description="euro cents")]
IdempotencyKey = Annotated[Line, msgspec.Meta(min_length=1, max_length=128)]


# --- community activities -----------------------------------------------------------------


class ActivityCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    description: Description = ""
    comune: IstatCode | None = None
    starts_on: date
    ends_on: date | None = None
    # Organising holders; a holder manager's own holder is added when the list is empty.
    holder_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] = []


class ActivityPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    comune: IstatCode | msgspec.UnsetType | None = msgspec.UNSET
    starts_on: date | msgspec.UnsetType = msgspec.UNSET
    ends_on: date | msgspec.UnsetType | None = msgspec.UNSET
    holder_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    status: (
        Annotated[str, msgspec.Meta(pattern="^(active|cancelled)" + END)] | msgspec.UnsetType
    ) = msgspec.UNSET


class ActivityOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ambito_id: uuid.UUID
    title: str
    description: str
    comune: str | None
    starts_on: date
    ends_on: date | None
    status: str
    holder_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


# --- ledger -------------------------------------------------------------------------------


class ContributionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One contribution. What it was for: a community activity, or a match / plan need,
    or neither (a contribution to the holder's ordinary community work)."""

    holder_id: uuid.UUID | None = None  # default: the caller's own holder
    volunteer_id: uuid.UUID | None = None  # a volunteer always reports for itself
    resource_id: uuid.UUID | None = None
    activity_id: uuid.UUID | None = None
    match_id: uuid.UUID | None = None
    need_id: uuid.UUID | None = None
    unit: ContributionUnit
    quantity: Quantity
    value_cents: Cents | None = None  # declared fair value of goods and spaces only
    occurred_on: date
    started_at: Moment | None = None
    ended_at: Moment | None = None
    comune: IstatCode | None = None
    note: Note = ""


class ContributionCorrection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A correction replaces the entry with a new one; fields left out are copied.
    The holder and the volunteer cannot change: cancel and record a new entry instead."""

    resource_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    activity_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    match_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    need_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    unit: ContributionUnit | msgspec.UnsetType = msgspec.UNSET
    quantity: Quantity | msgspec.UnsetType = msgspec.UNSET
    value_cents: Cents | msgspec.UnsetType | None = msgspec.UNSET
    occurred_on: date | msgspec.UnsetType = msgspec.UNSET
    started_at: Moment | msgspec.UnsetType | None = msgspec.UNSET
    ended_at: Moment | msgspec.UnsetType | None = msgspec.UNSET
    comune: IstatCode | msgspec.UnsetType | None = msgspec.UNSET
    note: Note | msgspec.UnsetType = msgspec.UNSET
    reason: Reason


class Cancellation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason


class ConfirmationIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    note: Annotated[LongText, msgspec.Meta(max_length=500)] = ""


class ConfirmationOut(msgspec.Struct, kw_only=True):
    confirmed_by: uuid.UUID
    confirmed_by_username: str
    role: str
    confirmed_at: datetime
    note: str


class ContributionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ambito_id: uuid.UUID
    holder_id: uuid.UUID
    holder_name: str
    volunteer_id: uuid.UUID | None
    volunteer_username: str | None
    resource_id: uuid.UUID | None
    activity_id: uuid.UUID | None
    match_id: uuid.UUID | None
    need_id: uuid.UUID | None
    plan_id: uuid.UUID | None
    kind: EntryKind
    corrects_id: uuid.UUID | None
    # The entry that replaced or cancelled this one; None while this one is the latest.
    superseded_by: uuid.UUID | None
    # Counted in totals: the latest version of its chain and not a cancellation.
    effective: bool
    unit: ContributionUnit
    quantity: float  # in the unit (hours for time units)
    minutes: int | None  # time units only: the stored whole minutes
    value_cents: int | None
    occurred_on: date
    started_at: datetime | None
    ended_at: datetime | None
    comune: str | None
    note: str
    verification: Verification
    confirmation: ConfirmationOut | None
    created_by: uuid.UUID
    created_by_role: str
    created_at: datetime


class TotalOut(msgspec.Struct, kw_only=True):
    unit: ContributionUnit
    # Sums of effective entries, in the unit (hours for time units).
    verified: float  # qr_verified + confirmed: what the metrics count
    self_reported: float  # not yet verified
    entries: int
    value_cents: int  # declared in-kind value of the effective entries (verified or not)
    verified_value_cents: int


class SummaryOut(msgspec.Struct, kw_only=True):
    from_date: date | None
    to_date: date | None
    totals: list[TotalOut]


class LedgerFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which entries a list or a summary of the ledger covers (None: any); the dates are
    the days the entries occurred on, both included."""

    holder_id: uuid.UUID | None = None
    volunteer_id: uuid.UUID | None = None
    activity_id: uuid.UUID | None = None
    match_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    from_date: date | None = None
    to_date: date | None = None
