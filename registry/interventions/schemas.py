from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from registry.common import IstatCode
from registry.text import Line, LongText
from registry.vocabularies import FnpsLevel, FundSource, UserArea

Code = Annotated[Line, msgspec.Meta(min_length=1, max_length=64, description="UdP's own code")]
Title = Annotated[Line, msgspec.Meta(min_length=1, max_length=300)]
Description = Annotated[LongText, msgspec.Meta(max_length=5000)]
# A vocabulary value or its Italian label, resolved by the import.
VocabularyText = Annotated[Line, msgspec.Meta(max_length=200)]
Cents = Annotated[int, msgspec.Meta(ge=0, le=10**13, description="euro cents")]
Hours = Annotated[float, msgspec.Meta(ge=0, le=10**8)]
Count = Annotated[int, msgspec.Meta(ge=0, le=10**8)]
Comuni = Annotated[list[IstatCode], msgspec.Meta(max_length=300)]
PlanIds = Annotated[list[uuid.UUID], msgspec.Meta(max_length=1000)]


class InterventionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code | None = None
    title: Title
    description: Description = ""
    fund_source: FundSource
    user_area: UserArea
    fnps_level: FnpsLevel
    comuni: Comuni = []
    period_start: date
    period_end: date
    committed_cents: Cents = 0
    spent_cents: Cents = 0
    hours_delivered: Hours = 0
    beneficiaries: Count = 0
    plan_ids: PlanIds = []


class InterventionPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code | msgspec.UnsetType | None = msgspec.UNSET
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    fund_source: FundSource | msgspec.UnsetType = msgspec.UNSET
    user_area: UserArea | msgspec.UnsetType = msgspec.UNSET
    fnps_level: FnpsLevel | msgspec.UnsetType = msgspec.UNSET
    comuni: Comuni | msgspec.UnsetType = msgspec.UNSET
    period_start: date | msgspec.UnsetType = msgspec.UNSET
    period_end: date | msgspec.UnsetType = msgspec.UNSET
    committed_cents: Cents | msgspec.UnsetType = msgspec.UNSET
    spent_cents: Cents | msgspec.UnsetType = msgspec.UNSET
    hours_delivered: Hours | msgspec.UnsetType = msgspec.UNSET
    beneficiaries: Count | msgspec.UnsetType = msgspec.UNSET
    plan_ids: PlanIds | msgspec.UnsetType = msgspec.UNSET


class InterventionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ambito_id: uuid.UUID
    code: str | None
    title: str
    description: str
    fund_source: FundSource
    fund_source_label: str
    user_area: UserArea
    user_area_label: str
    fnps_level: FnpsLevel
    fnps_level_label: str
    comuni: list[str]
    period_start: date
    period_end: date
    committed_cents: int
    spent_cents: int
    hours_delivered: float
    beneficiaries: int
    plan_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


class InterventionRow(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One spreadsheet row: money in euro ("1.234,56" or 1234.56), hours as a number, the
    vocabularies by value or by Italian label, lists separated by ";"."""

    code: Annotated[Line, msgspec.Meta(max_length=64)] | None = None
    title: Title
    description: Description = ""
    fund_source: VocabularyText
    user_area: VocabularyText
    fnps_level: VocabularyText
    comuni: Comuni = []
    period_start: date
    period_end: date
    euro_committed: Decimal = Decimal(0)
    euro_spent: Decimal = Decimal(0)
    hours_delivered: Decimal = Decimal(0)
    beneficiaries: Count = 0
    plan_ids: PlanIds = []


# Spreadsheet columns in the order of the export and the template.
COLUMNS = [f for f in InterventionRow.__struct_fields__]

# The template's header line: Italian names (each one also an alias below, so a filled-in
# template imports as it is).
TEMPLATE_HEADERS = {
    "code": "codice",
    "title": "titolo",
    "description": "descrizione",
    "fund_source": "fonte_finanziamento",
    "user_area": "area_utenza",
    "fnps_level": "macro_livello_fnps",
    "comuni": "comuni",
    "period_start": "data_inizio",
    "period_end": "data_fine",
    "euro_committed": "euro_impegnati",
    "euro_spent": "euro_spesi",
    "hours_delivered": "ore_erogate",
    "beneficiaries": "beneficiari",
    "plan_ids": "piani",
}

# The template's one example row is marked by this code: uploaded untouched, it is refused
# with a message saying to replace it, never imported as an intervention.
EXAMPLE_CODE = "ESEMPIO-DA-SOSTITUIRE"

# Italian column names a UdP's own spreadsheet may use.
ALIASES = {
    "codice": "code",
    "cup": "code",
    "titolo": "title",
    "intervento": "title",
    "descrizione": "description",
    "fonte": "fund_source",
    "fonte_finanziamento": "fund_source",
    "fondo": "fund_source",
    "area": "user_area",
    "area_utenza": "user_area",
    "area_di_utenza": "user_area",
    "macro_livello": "fnps_level",
    "macrolivello": "fnps_level",
    "livello_fnps": "fnps_level",
    "macro_livello_fnps": "fnps_level",
    "inizio": "period_start",
    "data_inizio": "period_start",
    "fine": "period_end",
    "data_fine": "period_end",
    "impegnato": "euro_committed",
    "euro_impegnati": "euro_committed",
    "importo_impegnato": "euro_committed",
    "speso": "euro_spent",
    "euro_spesi": "euro_spent",
    "importo_speso": "euro_spent",
    "ore_erogate": "hours_delivered",
    "ore": "hours_delivered",
    "beneficiari": "beneficiaries",
    "piani": "plan_ids",
}
