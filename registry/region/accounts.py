"""Regional observers' accounts: their own table (like the platform administrators), a
login of their own (POST /api/region/token), created and deactivated by a platform admin."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from registry.access import OBSERVER_ROLE, ObserverPrincipal
from registry.ambiti.tables import PlatformAdmin
from registry.errors import Conflict, NotAuthenticated, NotFound
from registry.region.regions import region_name
from registry.region.schemas import ObserverCreate, ObserverOut
from registry.region.tables import RegionalObserver
from registry.security import DUMMY_HASH, hash_password_async, verify_password_async

_COLUMNS = (
    RegionalObserver.id,
    RegionalObserver.username,
    RegionalObserver.region,
    RegionalObserver.active,
    RegionalObserver.created_at,
)


def _out(row: dict) -> ObserverOut:
    return ObserverOut(
        id=row["id"],
        username=row["username"],
        region=row["region"],
        region_name=region_name(row["region"]),
        active=row["active"],
        created_at=row["created_at"],
    )


async def create_observer(data: ObserverCreate) -> ObserverOut:
    from registry.users.tables import User

    # One namespace with every other account: a login name must say who is logging in.
    for table in (RegionalObserver, PlatformAdmin, User):
        if await table.exists().where(table.username == data.username):
            raise Conflict(f"username '{data.username}' is already taken", field="username")
    observer = RegionalObserver(
        username=data.username,
        password_hash=await hash_password_async(data.password),
        region=data.region,
    )
    await observer.save()
    row = await RegionalObserver.select(*_COLUMNS).where(RegionalObserver.id == observer.id).first()
    assert row is not None
    return _out(row)


async def list_observers() -> list[ObserverOut]:
    rows = await RegionalObserver.select(*_COLUMNS).order_by(RegionalObserver.username)
    return [_out(r) for r in rows]


async def set_observer_active(username: str, active: bool) -> ObserverOut:
    updated = (
        await RegionalObserver.update({RegionalObserver.active: active})
        .where(RegionalObserver.username == username)
        .returning(*_COLUMNS)
    )
    if not updated:
        raise NotFound(f"no regional observer '{username}'", field="username")
    return _out(updated[0])


async def authenticate_observer(username: str, password: str, address: str) -> ObserverPrincipal:
    """Check the credentials, throttled like every login (per username and address)."""
    from registry.users import throttle

    attempt = await throttle.begin(username, address, datetime.now(UTC))
    row = (
        await RegionalObserver.select(
            RegionalObserver.id,
            RegionalObserver.password_hash,
            RegionalObserver.active,
            RegionalObserver.region,
        )
        .where(RegionalObserver.username == username)
        .first()
    )
    # An unknown username costs the same argon2 work as a wrong password.
    valid = await verify_password_async(row["password_hash"] if row else DUMMY_HASH, password)
    if row is None or not valid or not row["active"]:
        reason = "unknown_user" if row is None else "wrong_password" if not valid else "inactive"
        await throttle.failed(attempt, reason=reason)
        raise NotAuthenticated("wrong username or password")
    await throttle.succeeded(attempt)
    return ObserverPrincipal(user_id=row["id"], username=username, region=row["region"])


async def load_observer(user_id: uuid.UUID) -> ObserverPrincipal | None:
    """The observer as stored now: a deactivated observer's tokens stop working at once, and
    a change of region applies to the next request."""
    row = (
        await RegionalObserver.select(
            RegionalObserver.username, RegionalObserver.active, RegionalObserver.region
        )
        .where(RegionalObserver.id == user_id)
        .first()
    )
    if row is None or not row["active"]:
        return None
    return ObserverPrincipal(user_id=user_id, username=row["username"], region=row["region"])


__all__ = [
    "OBSERVER_ROLE",
    "authenticate_observer",
    "create_observer",
    "list_observers",
    "load_observer",
    "set_observer_active",
]
