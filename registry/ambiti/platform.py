"""Platform administrators: the accounts that run the installation, tied to no ambito.

They live in their own table (not app_user, whose ambito is required) and log in at
POST /api/platform/token; their tokens carry the role "platform_admin", which the
authentication middleware resolves here instead of among the ambito users.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from registry.access import PlatformPrincipal, PlatformRole
from registry.ambiti.schemas import AccountOut
from registry.ambiti.tables import PlatformAdmin
from registry.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from registry.security import DUMMY_HASH, hash_password_async, verify_password_async

_USERNAME = re.compile(r"^[a-z0-9._-]{3,64}$")


async def create_platform_admin(username: str, password: str) -> AccountOut:
    from registry.users.tables import User

    if not _USERNAME.match(username):
        raise InvalidInput(
            "username: 3-64 lower-case letters, digits, '.', '_' or '-'", field="username"
        )
    if not 8 <= len(password) <= 256:
        raise InvalidInput("password must be 8-256 characters", field="password")
    # One namespace with the ambito users: a login name must say who is logging in.
    if await PlatformAdmin.exists().where(PlatformAdmin.username == username) or (
        await User.exists().where(User.username == username)
    ):
        raise Conflict(f"username '{username}' is already taken", field="username")
    admin = PlatformAdmin(username=username, password_hash=await hash_password_async(password))
    await admin.save()
    return AccountOut(
        id=admin.id, username=username, role=PlatformRole.PLATFORM_ADMIN.value, ambito_code=None
    )


async def set_platform_admin_active(username: str, active: bool) -> None:
    updated = (
        await PlatformAdmin.update({PlatformAdmin.active: active})
        .where(PlatformAdmin.username == username)
        .returning(PlatformAdmin.id)
    )
    if not updated:
        raise NotFound(f"no platform admin '{username}'", field="username")


async def authenticate_platform_admin(
    username: str, password: str, address: str
) -> PlatformPrincipal:
    """Check the credentials, throttled like every login (per username and address)."""
    from registry.users import throttle

    attempt = await throttle.begin(username, address, datetime.now(UTC))
    row = (
        await PlatformAdmin.select(
            PlatformAdmin.id, PlatformAdmin.password_hash, PlatformAdmin.active
        )
        .where(PlatformAdmin.username == username)
        .first()
    )
    # An unknown username costs the same argon2 work as a wrong password.
    valid = await verify_password_async(row["password_hash"] if row else DUMMY_HASH, password)
    if row is None or not valid or not row["active"]:
        reason = "unknown_user" if row is None else "wrong_password" if not valid else "inactive"
        await throttle.failed(attempt, reason=reason)
        raise NotAuthenticated("wrong username or password")
    await throttle.succeeded(attempt)
    return PlatformPrincipal(user_id=row["id"], username=username)


async def load_platform_admin(user_id: uuid.UUID) -> PlatformPrincipal | None:
    """The admin as stored now (one indexed read: platform requests are few): a deactivated
    admin's tokens stop working at once."""
    row = (
        await PlatformAdmin.select(PlatformAdmin.username, PlatformAdmin.active)
        .where(PlatformAdmin.id == user_id)
        .first()
    )
    if row is None or not row["active"]:
        return None
    return PlatformPrincipal(user_id=user_id, username=row["username"])
