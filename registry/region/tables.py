from piccolo.columns import UUID, Boolean, Text, Timestamptz, Varchar
from piccolo.table import Table


class RegionalObserver(Table, tablename="regional_observer"):
    """A Region or its observatory: reads the published (suppressed) figures of the ambiti
    of one region side by side. Bound to the region, not to an ambito, so it has no access
    to any ambito's records; created by a platform administrator."""

    id = UUID(primary_key=True)
    username = Varchar(length=64, unique=True)
    password_hash = Text()
    # ISTAT region code, two digits ("03" Lombardia): registry/region/regions.py.
    region = Varchar(length=2, index=True)
    active = Boolean(default=True)
    created_at = Timestamptz()
