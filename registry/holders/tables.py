from piccolo.columns import (
    JSON,
    UUID,
    Array,
    Boolean,
    ForeignKey,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito


class Holder(Table, tablename="holder"):
    """A community holder: an association, a volunteer, a parish, a company, an office..."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=32)
    sector = Varchar(length=32)
    name = Varchar(length=300, index=True)
    description = Text(default="")
    codice_fiscale = Varchar(length=16, null=True, default=None, index=True)
    partita_iva = Varchar(length=11, null=True, default=None)
    runts_number = Varchar(length=32, null=True, default=None)
    address = Varchar(length=300, default="")
    seat_comune = Varchar(length=6, null=True, default=None)
    comuni = Array(base_column=Varchar(length=6))
    areas = Array(base_column=Varchar(length=32))
    contacts = JSON(default="[]")
    public_listing = Boolean(default=True)
    status = Varchar(length=16, default="active", index=True)
    consent_given_by = Varchar(length=200, null=True, default=None)
    consent_given_at = Timestamptz(null=True, default=None)
    consent_text_version = Varchar(length=32, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
