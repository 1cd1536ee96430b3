from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
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
    # Carried by every login token as "ver"; raising it ends all of the user's tokens at once,
    # in every process (password change or reset, deactivation, role change, logout).
    token_version = Integer(default=0)


class LoginThrottle(Table, tablename="login_throttle"):
    """Failed-login counters per key ("user:<name>" or "addr:<ip>"), in the database so that
    every worker process sees the same counts."""

    id = UUID(primary_key=True)
    key = Varchar(length=128, unique=True)
    failures = Integer(default=0)
    window_start = Timestamptz()
    # Blocks so far in the current run of failures: each one doubles the next block.
    strikes = Integer(default=0)
    blocked_until = Timestamptz(null=True, default=None)
    last_attempt = Timestamptz()
    # After this the row says nothing any more and may be deleted.
    expires_at = Timestamptz(index=True)


class LoginFailure(Table, tablename="login_failure"):
    """One failed login, for the UdP of the user's ambito (unknown usernames have no ambito)."""

    id = UUID(primary_key=True)
    at = Timestamptz(index=True)
    username = Varchar(length=64)
    user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.cascade)
    ambito = ForeignKey(Ambito, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    address = Varchar(length=64)
    reason = Varchar(length=32)
