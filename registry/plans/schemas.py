from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from registry.common import IstatCode, LanguageCode, Slug
from registry.text import END, Line, LongText
from registry.vocabularies import UserArea

# Kept here rather than in registry/vocabularies.py because only plans and matching use
# them; move them there if another domain needs them.


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class NeedStatus(StrEnum):
    OPEN = "open"
    MATCHED = "matched"  # set by the registry when a match of the need becomes active
    CLOSED = "closed"


class NeedUnit(StrEnum):
    MINUTES_PER_WEEK = "minutes_per_week"
    HOURS_PER_WEEK = "hours_per_week"
    TIMES_PER_WEEK = "times_per_week"
    TRIPS_PER_WEEK = "trips_per_week"
    MEALS_PER_WEEK = "meals_per_week"
    ITEMS = "items"
    PLACES = "places"


class Weekday(StrEnum):
    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


CaseCode = Annotated[
    Line,
    msgspec.Meta(
        min_length=3,
        max_length=32,
        description="pseudonymous case code, e.g. ASC-2026-014: never a name, codice fiscale, "
        "e-mail or phone number",
        examples=["ASC-2026-014"],
    ),
]
Goal = Annotated[LongText, msgspec.Meta(min_length=1, max_length=500)]
Goals = Annotated[list[Goal], msgspec.Meta(max_length=20)]
Notes = Annotated[LongText, msgspec.Meta(max_length=10_000)]
HHMM = Annotated[
    str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]" + END, examples=["09:30"])
]
Category = Annotated[Line, msgspec.Meta(min_length=1, max_length=64)]
Priority = Annotated[int, msgspec.Meta(ge=1, le=5, description="1 = low ... 5 = urgent")]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
MAX_DISTANCE_KM = 200
MaxDistanceKm = Annotated[
    float,
    msgspec.Meta(
        gt=0,
        le=MAX_DISTANCE_KM,
        description="only resources based within this many km (straight line between comuni "
        "centroids) of the need's comune; null = no limit",
        examples=[10],
    ),
]


class PlanCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    case_code: CaseCode
    comune: IstatCode
    target_group: UserArea
    goals: Goals = []
    start_date: date
    end_date: date | None = None
    status: PlanStatus = PlanStatus.ACTIVE
    notes: Notes = ""
    # Only the UdP creates a plan on behalf of a social worker; a social worker owns its own.
    owner_id: uuid.UUID | None = None


class PlanPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    case_code: CaseCode | msgspec.UnsetType = msgspec.UNSET
    comune: IstatCode | msgspec.UnsetType = msgspec.UNSET
    target_group: UserArea | msgspec.UnsetType = msgspec.UNSET
    goals: Goals | msgspec.UnsetType = msgspec.UNSET
    start_date: date | msgspec.UnsetType = msgspec.UNSET
    end_date: date | msgspec.UnsetType | None = msgspec.UNSET
    status: PlanStatus | msgspec.UnsetType = msgspec.UNSET
    notes: Notes | msgspec.UnsetType = msgspec.UNSET
    owner_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET


class SharingIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    shared_with: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)]


class PlanOut(msgspec.Struct, kw_only=True):
    """The full plan: only for its owner, the users it is shared with and the UdP."""

    id: uuid.UUID
    ambito_id: uuid.UUID
    owner_id: uuid.UUID
    owner_username: str
    shared_with: list[uuid.UUID]
    case_code: str
    comune: str
    target_group: UserArea
    goals: list[str]
    start_date: date
    end_date: date | None
    status: PlanStatus
    notes: str
    created_at: datetime
    updated_at: datetime


class PlanSummary(msgspec.Struct, kw_only=True):
    """A line of the plan list: no goals and no notes."""

    id: uuid.UUID
    owner_id: uuid.UUID
    owner_username: str
    case_code: str
    comune: str
    target_group: UserArea
    start_date: date
    end_date: date | None
    status: PlanStatus
    updated_at: datetime


class TimeWindow(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    weekday: Weekday
    start: HHMM
    end: HHMM


Schedule = Annotated[list[TimeWindow], msgspec.Meta(max_length=21)]


class NeedCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    category_code: Category
    schedule: Schedule = []
    quantity: Quantity = 1
    unit: NeedUnit
    start_date: date | None = None
    end_date: date | None = None
    languages: Annotated[list[LanguageCode], msgspec.Meta(max_length=10)] = []
    requirements: Annotated[list[Slug], msgspec.Meta(max_length=10)] = []
    comune: IstatCode | None = None
    # None: the plan's target group.
    target_group: UserArea | None = None
    max_distance_km: MaxDistanceKm | None = None
    priority: Priority = 3


class NeedPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    category_code: Category | msgspec.UnsetType = msgspec.UNSET
    schedule: Schedule | msgspec.UnsetType = msgspec.UNSET
    quantity: Quantity | msgspec.UnsetType = msgspec.UNSET
    unit: NeedUnit | msgspec.UnsetType = msgspec.UNSET
    start_date: date | msgspec.UnsetType | None = msgspec.UNSET
    end_date: date | msgspec.UnsetType | None = msgspec.UNSET
    languages: Annotated[list[LanguageCode], msgspec.Meta(max_length=10)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    requirements: Annotated[list[Slug], msgspec.Meta(max_length=10)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    comune: IstatCode | msgspec.UnsetType | None = msgspec.UNSET
    target_group: UserArea | msgspec.UnsetType | None = msgspec.UNSET
    max_distance_km: MaxDistanceKm | msgspec.UnsetType | None = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    status: NeedStatus | msgspec.UnsetType = msgspec.UNSET


class NeedOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    plan_id: uuid.UUID
    category_code: str
    schedule: list[TimeWindow]
    quantity: int
    unit: NeedUnit
    start_date: date | None
    end_date: date | None
    languages: list[str]
    requirements: list[str]
    comune: str | None
    # The need's own target group; None: the plan's applies.
    target_group: UserArea | None
    max_distance_km: float | None
    priority: int
    status: NeedStatus
    created_at: datetime
    updated_at: datetime
