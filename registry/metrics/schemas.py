"""Inputs and outputs of the metrics API. Only aggregates: no row names a person."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import msgspec

from registry.text import END, Line, LongText


class Granularity(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


class NetworkGranularity(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class InteractionKind(StrEnum):
    CO_PROGRAMMING_TABLE = "co_programming_table"  # tavolo di co-programmazione (art. 55 CTS)
    JOINT_PROJECT = "joint_project"
    NETWORK_MEETING = "network_meeting"
    OTHER = "other"


class PeriodOut(msgspec.Struct, kw_only=True):
    """The days every figure of the answer covers: `start` to `end` inclusive. A running
    period ends today (`to_date`): contributions and public spending both stop there."""

    start: date
    end: date
    key: str | None = None
    days: int = 0
    to_date: bool = False
    label: str = ""


class FiltersOut(msgspec.Struct, kw_only=True):
    comune: str | None = None
    area: str | None = None
    holder_kind: str | None = None
    sector: str | None = None


class RateUseOut(msgspec.Struct, kw_only=True):
    task_level: str
    year: int
    eur_per_hour: float
    source: str
    is_default: bool
    hours: float


class Money(msgspec.Struct, kw_only=True):
    """A euro figure and how it was made: method, rate(s) and rate year(s)."""

    amount_eur: float | None
    method: str
    rate_eur_per_hour: float | None = None
    rate_year: int | None = None
    rate_years: list[int] = []
    rates: list[RateUseOut] = []
    uses_default_rates: bool = False


class PublishedTable(msgspec.Struct, kw_only=True):
    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    notes: list[str] = []


class SuppressedCell(msgspec.Struct, kw_only=True):
    table: str
    key: dict[str, str]
    column: str
    reason: str  # primary | secondary | derived


class Suppression(msgspec.Struct, kw_only=True):
    threshold: int
    cells: list[SuppressedCell]
    note: str


class Headline(msgspec.Struct, kw_only=True):
    persons: int | None
    holders: int | None
    entries: int | None
    hours_verified: float | None
    hours_paid_by_interventions: float | None
    hours_community: float | None
    fte: float | None
    hours_self_reported_unverified: float | None
    replacement_value: Money
    in_kind_value: Money
    community_value: Money
    public_spending: Money
    leverage_ratio: float | None
    coproduction_share: float | None
    needs: int | None
    share_needs_community_only: float | None
    share_needs_intervention_only: float | None
    share_needs_both: float | None
    share_needs_none: float | None
    matched_over_offered_hours: float | None
    share_resources_reused: float | None
    share_needs_matched: float | None
    time_to_match_median_days: float | None
    time_to_match_p90_days: float | None
    share_resources_confirmed_90_days: float | None


class SummaryOut(msgspec.Struct, kw_only=True):
    ambito_code: str
    period: PeriodOut
    filters: FiltersOut
    source: str  # live | snapshot
    as_of: datetime
    headline: Headline
    tables: list[PublishedTable]
    suppression: Suppression
    notes: list[str]


class TimeseriesOut(msgspec.Struct, kw_only=True):
    ambito_code: str
    period: PeriodOut
    granularity: Granularity
    filters: FiltersOut
    source: str
    as_of: datetime
    series: PublishedTable
    money: dict[str, Money]
    suppression: Suppression
    notes: list[str]


class TrendOut(msgspec.Struct, kw_only=True):
    first: float | None
    last: float | None
    change: float | None
    slope_per_period: float | None


class SectorBlock(msgspec.Struct, kw_only=True):
    sector_a: str
    sector_b: str
    edges: int | None  # None: withheld (fewer than the threshold)


class NetworkOut(msgspec.Struct, kw_only=True):
    ambito_code: str
    period: PeriodOut
    granularity: NetworkGranularity
    filters: FiltersOut
    source: str
    as_of: datetime
    periods: PublishedTable
    trend: dict[str, TrendOut]
    nodes_by_sector: PublishedTable
    sector_blocks: list[SectorBlock]
    suppression: Suppression
    notes: list[str]


class CoverageOut(msgspec.Struct, kw_only=True):
    ambito_code: str
    period: PeriodOut
    filters: FiltersOut
    source: str
    as_of: datetime
    tables: list[PublishedTable]
    suppression: Suppression
    notes: list[str]


# --- value rates ---------------------------------------------------------------------------

Euro = Annotated[float, msgspec.Meta(gt=0, le=1000, description="euro per hour")]
Source = Annotated[LongText, msgspec.Meta(min_length=3, max_length=1000)]
TaskLevelCode = Annotated[str, msgspec.Meta(pattern=r"^[A-F][1-3]" + END, examples=["C1"])]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]


class RateIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    eur_per_hour: Euro
    source: Source


class RateOut(msgspec.Struct, kw_only=True):
    task_level: str
    task_level_label: str
    year: int
    eur_per_hour: float
    source: str
    is_default: bool
    updated_at: datetime | None = None


class TaskLevelIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    task_level: TaskLevelCode


class CategoryLevelOut(msgspec.Struct, kw_only=True):
    category_code: str
    task_level: str
    is_default: bool


class RateTableOut(msgspec.Struct, kw_only=True):
    rates: list[RateOut]
    task_levels: dict[str, str]
    categories: list[CategoryLevelOut]
    default_task_level: str
    note: str


# --- interactions --------------------------------------------------------------------------

Title = Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
Note = Annotated[LongText, msgspec.Meta(max_length=2000)]
Participants = Annotated[list[uuid.UUID], msgspec.Meta(min_length=2, max_length=200)]


class InteractionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: InteractionKind
    title: Title
    occurred_on: date
    holder_ids: Participants
    note: Note = ""


class InteractionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: InteractionKind
    title: str
    occurred_on: date
    holder_ids: list[uuid.UUID]
    note: str
    created_at: datetime


class SnapshotRunOut(msgspec.Struct, kw_only=True):
    ambiti: int
    periods: int
    unchanged: int = 0  # ambiti skipped: nothing changed since their snapshots
    seconds: float
