"""Inputs and outputs of the regional observer's API and of the gap map."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from registry.metrics.schemas import PeriodOut
from registry.text import END
from registry.users.schemas import Password, Username

RegionCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(0[1-9]|1[0-9]|20)" + END,
        description="ISTAT region code, two digits: 01 Piemonte ... 03 Lombardia ... 20 Sardegna",
        examples=["03"],
    ),
]


class ObserverCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    username: Username
    password: Password
    region: RegionCode


class ObserverPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    active: bool


class ObserverOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    username: str
    region: str
    region_name: str
    active: bool
    created_at: datetime


class ObserverTokenResponse(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    role: str
    region: str
    region_name: str


class AmbitoFigures(msgspec.Struct, kw_only=True):
    """One ambito's published figures of the period; None where the ambito's own dashboard
    withholds the cell (or a rate derived from it), or where it cannot be computed."""

    code: str
    name: str
    comuni: list[str]  # names
    residents: int | None  # None: a comune has no population on record
    comuni_without_population: list[str]
    hours_community: float | None
    hours_per_1000: float | None
    community_value_eur: float | None
    value_eur_per_1000: float | None
    public_eur: float | None
    leverage_ratio: float | None
    needs: int | None
    share_needs_community_only: float | None
    share_needs_intervention_only: float | None
    share_needs_both: float | None
    share_needs_none: float | None
    share_resources_confirmed_90_days: float | None
    network_density: float | None
    network_largest_component_share: float | None
    network_ei_index: float | None
    withheld: list[str]  # the columns of this row the ambito's disclosure control withholds
    source: str
    notes: list[str] = []


class RegionOverview(msgspec.Struct, kw_only=True):
    region: str
    region_name: str
    period: PeriodOut
    threshold: int
    ambiti: list[AmbitoFigures]
    notes: list[str]


# --- the gap map ---------------------------------------------------------------------------


class GapRow(msgspec.Struct, kw_only=True):
    """Open needs of one category by comune; None: withheld (a small count, or one that
    could be recomputed from a total). Zero is published."""

    category_code: str
    category_name: str
    no_resource: bool  # no resource of the category (or a broader one) in the whole ambito
    total: int | None
    total_per_1000: float | None
    counts: dict[str, int | None]  # comune ISTAT code -> open needs
    per_1000: dict[str, float | None]  # comune ISTAT code -> open needs per 1,000 residents


class GapComune(msgspec.Struct, kw_only=True):
    istat_code: str
    name: str
    population: int | None
    open_needs: int | None
    per_1000: float | None
    lat: float | None
    lon: float | None


class UncoveredCategory(msgspec.Struct, kw_only=True):
    category_code: str
    category_name: str
    open_needs: int | None  # None: withheld


class GapMapOut(msgspec.Struct, kw_only=True):
    ambito_code: str
    threshold: int
    rows: list[GapRow]
    comuni: list[GapComune]
    total_open_needs: int | None
    total_per_1000: float | None
    uncovered: list[UncoveredCategory]
    withheld_cells: int
    rates: AmbitoFigures
    notes: list[str]
