from piccolo.columns import (
    JSON,
    UUID,
    Array,
    Date,
    ForeignKey,
    Integer,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.holders.tables import Holder


class Resource(Table, tablename="resource"):
    """A non-economic resource a holder offers: time and skills, a space, goods, a service."""

    id = UUID(primary_key=True)
    # Denormalised from the holder so every tenant filter is one indexed column.
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    category_code = Varchar(length=64, index=True)
    unit = Varchar(length=16)
    capacity = Integer(default=1)
    comuni = Array(base_column=Varchar(length=6))
    target_groups = Array(base_column=Varchar(length=32))
    languages = Array(base_column=Varchar(length=8))
    requirements = Array(base_column=Varchar(length=32))
    valid_from = Date(null=True, default=None)
    valid_until = Date(null=True, default=None)
    status = Varchar(length=16, default="active", index=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    # Last time the holder said the availability is still true (distinct from any edit).
    confirmed_at = Timestamptz()


class AvailabilityWindow(Table, tablename="availability_window"):
    """A recurring window of availability with RFC 5545 RRULE semantics."""

    id = UUID(primary_key=True)
    resource = ForeignKey(Resource, null=False, on_delete=OnDelete.cascade, index=True)
    freq = Varchar(length=8)  # DAILY | WEEKLY | MONTHLY
    interval = Integer(default=1)
    by_day = Array(base_column=Varchar(length=4))  # MO TU ... or 1MO / -1FR for MONTHLY
    start_time = Time()
    end_time = Time()
    valid_from = Date()
    valid_until = Date(null=True, default=None)
    exceptions = Array(base_column=Date())
    capacity = Integer(default=1)
    notes = Varchar(length=300, default="")
    extra = JSON(default="{}")
    created_at = Timestamptz()
    updated_at = Timestamptz()
