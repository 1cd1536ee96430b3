from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from registry.common import IstatCode, Moment
from registry.text import Line, LongText, email_address
from registry.vocabularies import HolderKind, Sector, UserArea

Name = Annotated[Line, msgspec.Meta(min_length=1, max_length=300)]
Text = Annotated[LongText, msgspec.Meta(max_length=5000)]
# Checked (and normalised) by the service with python-stdnum.
TaxCode = Annotated[Line, msgspec.Meta(max_length=32)]
RuntsNumber = Annotated[Line, msgspec.Meta(max_length=32)]
Address = Annotated[Line, msgspec.Meta(max_length=300)]


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    WEBSITE = "website"
    PERSON = "person"


class ContactIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: ContactKind
    value: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
    label: Annotated[Line, msgspec.Meta(max_length=100)] = ""

    def __post_init__(self) -> None:
        if self.kind == ContactKind.EMAIL:
            self.value = email_address(self.value)


class Contact(msgspec.Struct, kw_only=True):
    """A stored contact as it is read back: rows written before the input checks still load."""

    kind: ContactKind
    value: str
    label: str = ""


class Consent(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Who gave consent to the processing of personal data, when, to which text version."""

    given_by: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
    given_at: Moment
    text_version: Annotated[Line, msgspec.Meta(min_length=1, max_length=32)]


class HolderCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: HolderKind
    sector: Sector
    name: Name
    description: Text = ""
    codice_fiscale: TaxCode | None = None
    partita_iva: TaxCode | None = None
    runts_number: RuntsNumber | None = None
    address: Address = ""
    seat_comune: IstatCode | None = None
    comuni: list[IstatCode] = []
    areas: list[UserArea] = []
    contacts: Annotated[list[ContactIn], msgspec.Meta(max_length=20)] = []
    public_listing: bool = True
    consent: Consent | None = None


class HolderPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: HolderKind | msgspec.UnsetType = msgspec.UNSET
    sector: Sector | msgspec.UnsetType = msgspec.UNSET
    name: Name | msgspec.UnsetType = msgspec.UNSET
    description: Text | msgspec.UnsetType = msgspec.UNSET
    codice_fiscale: TaxCode | msgspec.UnsetType | None = msgspec.UNSET
    partita_iva: TaxCode | msgspec.UnsetType | None = msgspec.UNSET
    runts_number: RuntsNumber | msgspec.UnsetType | None = msgspec.UNSET
    address: Address | msgspec.UnsetType = msgspec.UNSET
    seat_comune: IstatCode | msgspec.UnsetType | None = msgspec.UNSET
    comuni: list[IstatCode] | msgspec.UnsetType = msgspec.UNSET
    areas: list[UserArea] | msgspec.UnsetType = msgspec.UNSET
    contacts: Annotated[list[ContactIn], msgspec.Meta(max_length=20)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    public_listing: bool | msgspec.UnsetType = msgspec.UNSET
    consent: Consent | msgspec.UnsetType | None = msgspec.UNSET


class HolderOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ambito_id: uuid.UUID
    kind: HolderKind
    sector: Sector
    name: str
    description: str
    codice_fiscale: str | None
    partita_iva: str | None
    runts_number: str | None
    address: str
    seat_comune: str | None
    comuni: list[str]
    areas: list[str]
    contacts: list[Contact]
    public_listing: bool
    status: str
    consent: Consent | None
    created_at: datetime
    updated_at: datetime
