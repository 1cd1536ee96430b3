from piccolo.columns import (
    UUID,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.holders.tables import Holder
from registry.users.tables import User


class ValueRate(Table, tablename="metrics_value_rate"):
    """An hourly rate per task level and year, set by the UdP (defaults live in code)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    task_level = Varchar(length=16)
    year = Integer()
    cents_per_hour = Integer()
    source = Text()
    updated_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    updated_at = Timestamptz()


class TaskLevelOverride(Table, tablename="metrics_task_level"):
    """The UdP's own task level for a resource category (defaults live in code)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    category_code = Varchar(length=64)
    task_level = Varchar(length=16)
    updated_at = Timestamptz()


class Interaction(Table, tablename="holder_interaction"):
    """An interaction among holders recorded by hand (a shared co-programming table, a joint
    project...): every pair of its participants is a tie of the cohesion network."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=32)
    title = Varchar(length=200)
    occurred_on = Date(index=True)
    note = Text(default="")
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()


class InteractionParticipant(Table, tablename="holder_interaction_participant"):
    id = UUID(primary_key=True)
    interaction = ForeignKey(Interaction, null=False, on_delete=OnDelete.cascade, index=True)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.restrict, index=True)


class MetricsSnapshot(Table, tablename="metrics_snapshot"):
    """The figures of one calendar period before suppression, written by the nightly job so
    the dashboard does not scan the ledger. Suppression is applied when they are read."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    granularity = Varchar(length=8)  # month | quarter | year
    period_key = Varchar(length=8)
    period_start = Date()
    period_end = Date()
    clock = Timestamptz()  # the `now` the figures were computed with
    computed_at = Timestamptz()
    version = Integer(default=1)
    payload = Text()  # msgspec JSON of compute.Figures + the network row


class MetricsMonthFacts(Table, tablename="metrics_month_facts"):
    """The ledger's facts of one calendar month (sums by dimension, who was active), stored
    by the snapshot job: any period of whole months, with or without a snapshot of its own,
    is computed from its months' facts instead of a scan of the ledger. Valid while the
    attributes the facts take from other tables (`reference`: month_facts.ledger_attributes)
    and the month's ledger are unchanged (month_facts.py)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    month = Varchar(length=7)  # YYYY-MM
    period_end = Date()  # the month's last day, or the day it was read for a running month
    version = Integer(default=1)
    reference = Text(default="")
    entry_mark = Text(default="")
    confirmation_mark = Text(default="")
    computed_at = Timestamptz()
    payload = Text()  # msgspec JSON of loading.LedgerMonth
