from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Ambito(Table, tablename="ambito"):
    """An Ambito Territoriale Sociale: the tenant every record belongs to."""

    id = UUID(primary_key=True)
    code = Varchar(length=32, unique=True)
    name = Varchar(length=200)
    region = Varchar(length=64)
    created_at = Timestamptz()
    # A deactivated ambito keeps all its records; its users can neither log in nor use tokens.
    active = Boolean(default=True)
    deactivated_at = Timestamptz(null=True, default=None)
    # Set when the ambito was merged into another one (that ambito's code).
    merged_into = Varchar(length=32, null=True, default=None)


class Comune(Table, tablename="comune"):
    """A municipality and the ambito it belongs to now, identified by its 6-digit ISTAT code.

    The unique code keeps a comune in one ambito at a time; ComuneMembership keeps the
    ambiti it belonged to before."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    istat_code = Varchar(length=6, unique=True)
    name = Varchar(length=200)
    population = Integer(null=True, default=None)


class ComuneMembership(Table, tablename="comune_membership"):
    """One period of a comune in an ambito, [valid_from, valid_until); the open period
    (valid_until NULL, at most one per comune) is the comune's current ambito."""

    id = UUID(primary_key=True)
    istat_code = Varchar(length=6, index=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    valid_from = Date()
    valid_until = Date(null=True, default=None)
    # How the period began: created, moved, merged, split.
    reason = Varchar(length=16)
    created_at = Timestamptz()


class PlatformAdmin(Table, tablename="platform_admin"):
    """Who runs the installation: creates ambiti and their first UdP account, deactivates
    ambiti. Not tied to any ambito, and no access to any ambito's records."""

    id = UUID(primary_key=True)
    username = Varchar(length=64, unique=True)
    password_hash = Text()
    active = Boolean(default=True)
    created_at = Timestamptz()
