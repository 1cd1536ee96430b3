from piccolo.columns import (
    UUID,
    Array,
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


class FundedIntervention(Table, tablename="funded_intervention"):
    """A publicly funded service (intervento): money committed and spent, output delivered."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    # The UdP's own identifier (e.g. a CUP or budget line); unique per ambito when given, and
    # the key by which a re-import updates a row instead of adding it again.
    code = Varchar(length=64, null=True, default=None)
    title = Varchar(length=300)
    description = Text(default="")
    fund_source = Varchar(length=16, index=True)
    user_area = Varchar(length=32, index=True)
    fnps_level = Varchar(length=40, index=True)
    comuni = Array(base_column=Varchar(length=6))
    period_start = Date()
    period_end = Date()
    committed_cents = BigInt(default=0)
    spent_cents = BigInt(default=0)
    delivered_minutes = BigInt(default=0)
    beneficiaries = Integer(default=0)
    # Plan ids as text (plans are another domain; text keeps array filters equal on both DBs).
    plan_ids = Array(base_column=Varchar(length=36))
    created_at = Timestamptz()
    updated_at = Timestamptz()
