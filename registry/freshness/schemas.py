from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from registry.vocabularies import ResourceStatus


class ReconfirmAction(StrEnum):
    CONFIRM = "confirm"  # still true, as it is (or with the changes given)
    PAUSE = "pause"  # not available for now: out of suggestions until confirmed again


class ReconfirmIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    action: ReconfirmAction = ReconfirmAction.CONFIRM
    capacity: Annotated[int, msgspec.Meta(ge=0, le=100_000)] | msgspec.UnsetType = msgspec.UNSET
    valid_until: date | msgspec.UnsetType | None = msgspec.UNSET


class WindowSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    rrule: str
    start_time: str
    end_time: str
    valid_from: date
    valid_until: date | None
    capacity: int
    expired: bool


class ReconfirmView(msgspec.Struct, kw_only=True):
    """What the link will confirm: shown before anything changes."""

    resource_id: uuid.UUID
    title: str
    holder_name: str
    status: ResourceStatus
    unit: str
    capacity: int
    valid_from: date | None
    valid_until: date | None
    confirmed_at: datetime
    windows: list[WindowSummary]
    reason: str
    link_expires_at: datetime


class ReconfirmResult(msgspec.Struct, kw_only=True):
    resource_id: uuid.UUID
    title: str
    action: ReconfirmAction
    status: ResourceStatus
    capacity: int
    valid_until: date | None
    confirmed_at: datetime
    message: str
