from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from registry.common import IstatCode, LanguageCode, Moment, Slug
from registry.freshness.state import Freshness
from registry.text import END, Line, LongText
from registry.vocabularies import Frequency, ResourceStatus, ResourceUnit, UserArea

Title = Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[LongText, msgspec.Meta(max_length=5000)]
Capacity = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
HHMM = Annotated[
    str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]" + END, examples=["09:30"])
]
Category = Annotated[Line, msgspec.Meta(min_length=1, max_length=64)]


class ResourceCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    holder_id: uuid.UUID | None = None
    title: Title
    description: Description = ""
    category_code: Category
    unit: ResourceUnit
    capacity: Capacity = 1
    comuni: list[IstatCode] = []
    target_groups: list[UserArea] = []
    languages: list[LanguageCode] = []
    requirements: list[Slug] = []
    valid_from: date | None = None
    valid_until: date | None = None
    status: ResourceStatus = ResourceStatus.ACTIVE


class ResourcePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    category_code: Category | msgspec.UnsetType = msgspec.UNSET
    unit: ResourceUnit | msgspec.UnsetType = msgspec.UNSET
    capacity: Capacity | msgspec.UnsetType = msgspec.UNSET
    comuni: list[IstatCode] | msgspec.UnsetType = msgspec.UNSET
    target_groups: list[UserArea] | msgspec.UnsetType = msgspec.UNSET
    languages: list[LanguageCode] | msgspec.UnsetType = msgspec.UNSET
    requirements: list[Slug] | msgspec.UnsetType = msgspec.UNSET
    valid_from: date | msgspec.UnsetType | None = msgspec.UNSET
    valid_until: date | msgspec.UnsetType | None = msgspec.UNSET
    status: ResourceStatus | msgspec.UnsetType = msgspec.UNSET


class ResourceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ambito_id: uuid.UUID
    holder_id: uuid.UUID
    holder_name: str
    title: str
    description: str
    category_code: str
    unit: ResourceUnit
    capacity: int
    comuni: list[str]
    target_groups: list[str]
    languages: list[str]
    requirements: list[str]
    valid_from: date | None
    valid_until: date | None
    status: ResourceStatus
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime
    # Computed when read (registry/freshness/state.py); None for expired or archived ones.
    freshness: Freshness | None = None


class WindowIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    freq: Frequency
    interval: Annotated[int, msgspec.Meta(ge=1, le=52)] = 1
    by_day: Annotated[
        list[Annotated[Line, msgspec.Meta(max_length=8)]], msgspec.Meta(max_length=7)
    ] = []
    start_time: HHMM
    end_time: HHMM
    valid_from: date
    valid_until: date | None = None
    exceptions: Annotated[list[date], msgspec.Meta(max_length=366)] = []
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    notes: Annotated[LongText, msgspec.Meta(max_length=300)] = ""


class WindowOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    resource_id: uuid.UUID
    freq: Frequency
    interval: int
    by_day: list[str]
    start_time: str
    end_time: str
    valid_from: date
    valid_until: date | None
    exceptions: list[date]
    capacity: int
    notes: str
    rrule: str
    updated_at: datetime


# RFC 3339 with the UTC offset in force that day in the ambito's time zone: the wall-clock
# time alone is ambiguous on the autumn night (02:30 happens twice).
SlotMoment = Annotated[
    Moment,
    msgspec.Meta(
        description="RFC 3339 date-time with its UTC offset (the ambito's local time)",
        examples=["2026-10-25T09:00:00+01:00"],
    ),
]


class SlotOut(msgspec.Struct):
    window_id: uuid.UUID
    date: date
    start: SlotMoment
    end: SlotMoment
    capacity: int


class SlotsOut(msgspec.Struct):
    resource_id: uuid.UUID
    from_date: date
    to_date: date
    slots: list[SlotOut]
