from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Ambito(Table, tablename="ambito"):
    """An Ambito Territoriale Sociale: the tenant every record belongs to."""

    id = UUID(primary_key=True)
    code = Varchar(length=32, unique=True)
    name = Varchar(length=200)
    region = Varchar(length=64)
    created_at = Timestamptz()


class Comune(Table, tablename="comune"):
    """A municipality of an ambito, identified by its 6-digit ISTAT code."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    istat_code = Varchar(length=6, unique=True)
    name = Varchar(length=200)
    population = Integer(null=True, default=None)
