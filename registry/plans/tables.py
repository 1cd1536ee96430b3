from piccolo.columns import (
    JSON,
    UUID,
    Array,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.users.tables import User


class Plan(Table, tablename="care_plan"):
    """A pseudonymised personalised plan (progetto personalizzato) owned by a social worker."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    owner = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True)
    # User ids (as text) the UdP shared the plan with; text so that the same
    # array_contains filter works on SQLite (JSON text) and PostgreSQL.
    shared_with = Array(base_column=Varchar(length=36))
    case_code = Varchar(length=32, index=True)
    comune = Varchar(length=6)
    target_group = Varchar(length=32)
    goals = JSON(default="[]")
    start_date = Date()
    end_date = Date(null=True, default=None)
    status = Varchar(length=16, default="active", index=True)
    # Free text of the social worker: shown only in the plan's own detail, never in lists,
    # match views, exports or the audit log.
    notes = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Need(Table, tablename="plan_need"):
    """One need of a plan: what kind of help, when, how much, under which constraints."""

    id = UUID(primary_key=True)
    # Denormalised from the plan so every tenant filter is one indexed column.
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    plan = ForeignKey(Plan, null=False, on_delete=OnDelete.cascade, index=True)
    category_code = Varchar(length=64, index=True)
    # [{"weekday": "MO", "start": "09:00", "end": "11:00"}, ...]; empty = flexible.
    schedule = JSON(default="[]")
    quantity = Integer(default=1)
    unit = Varchar(length=24)
    start_date = Date(null=True, default=None)
    end_date = Date(null=True, default=None)
    languages = Array(base_column=Varchar(length=8))
    requirements = Array(base_column=Varchar(length=32))
    # None: the plan's comune.
    comune = Varchar(length=6, null=True, default=None)
    # None: the plan's target group (a need may concern someone else in the household,
    # e.g. a child's after-school help in an elderly person's plan).
    target_group = Varchar(length=32, null=True, default=None)
    # Kilometres from the need's comune (centroid to the resource's base); None: no limit.
    max_distance_km = DoublePrecision(null=True, default=None)
    priority = Integer(default=3)
    status = Varchar(length=16, default="open", index=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
