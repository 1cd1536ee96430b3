from piccolo.columns import UUID, Integer, Text, Varchar
from piccolo.table import Table


class TaxonomyTerm(Table, tablename="taxonomy_term"):
    """A category of community resource; terms form a tree through parent_code.

    Shared reference data (like ISTAT codes): the same for every ambito.
    """

    id = UUID(primary_key=True)
    code = Varchar(length=64, unique=True)
    parent_code = Varchar(length=64, null=True, default=None, index=True)
    name = Varchar(length=200)
    description = Text(default="")
    position = Integer(default=0)
