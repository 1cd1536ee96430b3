from piccolo.columns import UUID, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.holders.tables import Holder


class User(Table, tablename="app_user"):
    id = UUID(primary_key=True)
    username = Varchar(length=64, unique=True)
    password_hash = Text()
    role = Varchar(length=32)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    holder = ForeignKey(Holder, null=True, default=None, on_delete=OnDelete.set_null)
    active = Boolean(default=True)
    created_at = Timestamptz()
