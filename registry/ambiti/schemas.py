from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from registry.common import IstatCode, NonNegativeInt
from registry.text import END, Line
from registry.users.schemas import Password, Username


class ComuneOut(msgspec.Struct):
    istat_code: str
    name: str
    population: int | None


class ComuneIn(msgspec.Struct, forbid_unknown_fields=True):
    """A comune given to an ambito. Through the API its name is always ISTAT's for the code
    (reports name comuni, so a made-up name would mislead); `name` may be left out."""

    istat_code: IstatCode
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)] | None = None
    population: NonNegativeInt | None = None


class AmbitoOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    region: str
    comuni: list[ComuneOut]


class AmbitoPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = (
        msgspec.UNSET
    )


# The ambito's own short code, as the region and the UdP write it (e.g. OLGIATESE, ATS-12).
AmbitoCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z0-9][A-Z0-9_-]{1,31}" + END,
        description="2-32 capital letters, digits, '-' or '_'",
    ),
]
Province = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{2}" + END, description="province abbreviation, e.g. CO")
]
# Checked against the ISTAT list by the service, which explains a lost leading zero.
CodeText = Annotated[Line, msgspec.Meta(min_length=1, max_length=16)]
AmbitoName = Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
Region = Annotated[Line, msgspec.Meta(min_length=1, max_length=64)]


class AmbitoCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new ambito and its comuni: ISTAT codes, every comune of a province, or both."""

    code: AmbitoCode
    name: AmbitoName
    region: Region
    comuni: Annotated[list[CodeText], msgspec.Meta(max_length=2000)] = []
    province: Province | None = None


class AmbitoSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    region: str
    active: bool
    comuni_count: int
    created_at: datetime
    deactivated_at: datetime | None
    merged_into: str | None


class MembershipOut(msgspec.Struct, kw_only=True):
    """A period of a comune in an ambito: from valid_from (included) to valid_until
    (excluded; null while it lasts)."""

    istat_code: str
    ambito_code: str
    valid_from: date
    valid_until: date | None
    reason: str


class AmbitoDetail(msgspec.Struct, kw_only=True):
    ambito: AmbitoSummary
    comuni: list[ComuneOut]
    history: list[MembershipOut]
    users: dict[str, int]


class AmbitoStatePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    active: bool | msgspec.UnsetType = msgspec.UNSET
    name: AmbitoName | msgspec.UnsetType = msgspec.UNSET


class ComuniMove(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Move comuni (or assign comuni of no ambito) to the ambito `to`, effective `on`."""

    comuni: Annotated[list[CodeText], msgspec.Meta(min_length=1, max_length=2000)]
    to: AmbitoCode
    on: date | None = None


class AmbitoMerge(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    into: AmbitoCode
    on: date | None = None


class AmbitoSplit(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new ambito made of some comuni of this one."""

    code: AmbitoCode
    name: AmbitoName
    region: Region | None = None
    comuni: Annotated[list[CodeText], msgspec.Meta(min_length=1, max_length=2000)]
    on: date | None = None


class MoveOut(msgspec.Struct, kw_only=True):
    to: str
    on: date
    moved: list[str]
    added: list[str]


class FirstUdpCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    username: Username
    password: Password


class AccountOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    username: str
    role: str
    ambito_code: str | None


class PlatformTokenResponse(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    role: str
