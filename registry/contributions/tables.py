from piccolo.columns import (
    UUID,
    BigInt,
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
from registry.resources.tables import Resource
from registry.users.tables import User


class CommunityActivity(Table, tablename="community_activity"):
    """An event or shared initiative of the community, not tied to a personalised plan."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    comune = Varchar(length=6, null=True, default=None)
    starts_on = Date(index=True)
    ends_on = Date(null=True, default=None)
    status = Varchar(length=16, default="active")
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ActivityOrganiser(Table, tablename="activity_organiser"):
    """A holder organising an activity (an activity may have several: a joint activity)."""

    id = UUID(primary_key=True)
    activity = ForeignKey(CommunityActivity, null=False, on_delete=OnDelete.cascade, index=True)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.restrict, index=True)


class Contribution(Table, tablename="contribution"):
    """One entry of the contribution ledger. Rows are only ever inserted: a correction or a
    cancellation is a new row whose `corrects` points at the row it replaces (one successor
    per row, enforced by a unique index). The effective entries are those nobody corrects."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.restrict, index=True)
    volunteer = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    resource = ForeignKey(Resource, null=True, default=None, on_delete=OnDelete.restrict)
    activity = ForeignKey(
        CommunityActivity, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    # Plans and matches live in another domain: plain UUIDs, checked by its service.
    match_id = UUID(null=True, default=None, index=True)
    need_id = UUID(null=True, default=None, index=True)
    plan_id = UUID(null=True, default=None, index=True)
    kind = Varchar(length=16, default="entry")
    corrects = ForeignKey("self", null=True, default=None, on_delete=OnDelete.restrict, unique=True)
    unit = Varchar(length=16)
    # Minutes for time units (hours, room_hours); a plain count for every other unit.
    quantity = Integer()
    # Declared fair value of goods and spaces, in euro cents; never set for time.
    value_cents = BigInt(null=True, default=None)
    occurred_on = Date(index=True)
    started_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    comune = Varchar(length=6, null=True, default=None)
    note = Text(default="")
    # Why a correction or cancellation was made (empty for an ordinary entry).
    reason = Varchar(length=500, default="")
    # self_reported | qr_verified; "confirmed" is derived from a ContributionConfirmation row.
    verification = Varchar(length=16, default="self_reported")
    # Unique per ambito (index in migration ..._issue4_indexes): a replay finds the first entry.
    idempotency_key = Varchar(length=128, null=True, default=None)
    request_hash = Varchar(length=64, null=True, default=None)
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_by_role = Varchar(length=32)
    created_at = Timestamptz()


class ContributionConfirmation(Table, tablename="contribution_confirmation"):
    """Who confirmed an entry and when; at most one per entry, never changed."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    contribution = ForeignKey(Contribution, null=False, on_delete=OnDelete.restrict, unique=True)
    confirmed_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    role = Varchar(length=32)
    confirmed_at = Timestamptz()
    note = Varchar(length=500, default="")
