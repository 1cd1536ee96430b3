from piccolo.columns import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.users.tables import User


class AccessLog(Table, tablename="access_log"):
    """Who read or changed which plan's personal details, and when (append-only).

    `plan_id` is a plain UUID, not a foreign key: the log is evidence and must outlive
    whatever it points at, and the audit domain stays independent of the plans domain.
    """

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True)
    # Copied so the row still says who it was if the account is renamed later.
    username = Varchar(length=64)
    role = Varchar(length=32)
    at = Timestamptz(index=True)
    action = Varchar(length=32, index=True)
    plan_id = UUID(null=True, default=None, index=True)
    need_id = UUID(null=True, default=None)
    detail = Varchar(length=300, default="")
