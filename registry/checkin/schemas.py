from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from registry.common import Moment
from registry.contributions.schemas import ContributionOut
from registry.text import Line

Token = Annotated[Line, msgspec.Meta(min_length=1, max_length=4000)]


class TargetKind(StrEnum):
    ACTIVITY = "activity"
    MATCH = "match"


class CodeRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A QR code for a community activity or for a match (exactly one of the two)."""

    activity_id: uuid.UUID | None = None
    match_id: uuid.UUID | None = None
    # Whose volunteers check in with it; default: the caller's holder, the match's holder,
    # or the activity's only organiser.
    holder_id: uuid.UUID | None = None
    resource_id: uuid.UUID | None = None
    valid_from: Moment | None = None  # default: now
    valid_until: Moment | None = None  # default: 12 hours after valid_from


class CodeStatus(StrEnum):
    VALID = "valid"  # usable now
    SCHEDULED = "scheduled"  # printed in advance: usable from valid_from
    EXPIRED = "expired"
    REVOKED = "revoked"


class CodeOut(msgspec.Struct, kw_only=True):
    """An issued code: the answer of issuing it and an item of the list of issued codes."""

    id: uuid.UUID
    status: CodeStatus
    token: str
    url: str  # what the QR encodes: the phone page with the token
    png_url: str
    svg_url: str
    sheet_url: str  # printable A4 sheet
    badge_url: str  # printable badge
    target: TargetKind
    target_id: uuid.UUID
    title: str
    holder_id: uuid.UUID
    holder_name: str
    valid_from: datetime
    valid_until: datetime
    resource_id: uuid.UUID | None = None
    issued_at: datetime
    issued_by_id: uuid.UUID
    revoked_at: datetime | None = None


class CheckInRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    token: Token


class CheckOutRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The open check-in to close: by its id (works after the code expired) or by the code."""

    checkin_id: uuid.UUID | None = None
    token: Token | None = None


class CheckInOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: str  # open | closed
    target: TargetKind
    target_id: uuid.UUID
    title: str
    holder_id: uuid.UUID
    holder_name: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    window_start: datetime
    window_end: datetime
    minutes: int | None  # recorded time, rounded to the quarter hour and capped
    contribution: ContributionOut | None
    message: str  # for the person, in Italian


class CodeInfo(msgspec.Struct, kw_only=True):
    target: TargetKind
    target_id: uuid.UUID
    title: str
    holder_id: uuid.UUID
    holder_name: str
    valid_from: datetime
    valid_until: datetime


class StatusOut(msgspec.Struct, kw_only=True):
    code: CodeInfo
    checkin: CheckInOut | None  # today's check-in of the caller with this code, if any
