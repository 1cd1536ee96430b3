"""Users: creation, authentication and listing, always inside one ambito."""

from __future__ import annotations

import time
import uuid
from typing import Any

from registry.access import Principal, Role
from registry.ambiti.tables import Ambito
from registry.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from registry.holders.tables import Holder
from registry.security import DUMMY_HASH, hash_password_async, verify_password_async
from registry.users.schemas import UserCreate, UserOut
from registry.users.tables import User

_USER_COLUMNS = (
    User.id,
    User.username,
    User.role,
    User.ambito,
    User.ambito.code,
    User.holder,
    User.active,
    User.created_at,
)


def _out(row: dict[str, Any]) -> UserOut:
    return UserOut(
        id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        ambito_id=row["ambito"],
        ambito_code=row["ambito.code"],
        holder_id=row["holder"],
        active=row["active"],
        created_at=row["created_at"],
    )


async def create_user(ambito_id: uuid.UUID, data: UserCreate) -> UserOut:
    if data.role is Role.HOLDER_MANAGER and data.holder_id is None:
        pass  # a holder manager may register its organisation later (POST /api/holders)
    if data.holder_id is not None:
        holder = await Holder.select(Holder.ambito).where(Holder.id == data.holder_id).first()
        if holder is None or holder["ambito"] != ambito_id:
            raise InvalidInput("no such holder in this ambito", field="holder_id")
    if await User.exists().where(User.username == data.username):
        raise Conflict(f"username '{data.username}' is already taken", field="username")
    user = User(
        username=data.username,
        password_hash=await hash_password_async(data.password),
        role=data.role.value,
        ambito=ambito_id,
        holder=data.holder_id,
    )
    await user.save()
    return await get_user(ambito_id, user.id)


async def get_user(ambito_id: uuid.UUID, user_id: uuid.UUID) -> UserOut:
    row = (
        await User.select(*_USER_COLUMNS)
        .where((User.id == user_id) & (User.ambito == ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such user")
    return _out(row)


async def list_users(actor: Principal) -> list[UserOut]:
    actor.require(Role.UDP_ADMIN)
    rows = (
        await User.select(*_USER_COLUMNS)
        .where(User.ambito == actor.ambito_id)
        .order_by(User.username)
    )
    return [_out(row) for row in rows]


async def set_active(actor: Principal, user_id: uuid.UUID, active: bool) -> UserOut:
    actor.require(Role.UDP_ADMIN)
    await get_user(actor.ambito_id, user_id)
    await User.update({User.active: active}).where(User.id == user_id)
    principals.forget(user_id)
    return await get_user(actor.ambito_id, user_id)


async def authenticate(username: str, password: str) -> tuple[Principal, str]:
    """Check the credentials; returns the principal and its ambito's code."""
    row = (
        await User.select(
            User.id,
            User.username,
            User.password_hash,
            User.role,
            User.ambito,
            User.ambito.code,
            User.holder,
            User.active,
        )
        .where(User.username == username)
        .first()
    )
    if row is None:
        # Same work as a real check, so an unknown username takes as long as a wrong password.
        await verify_password_async(DUMMY_HASH, password)
        raise NotAuthenticated("wrong username or password")
    if not await verify_password_async(row["password_hash"], password) or not row["active"]:
        raise NotAuthenticated("wrong username or password")
    principal = Principal(
        user_id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        ambito_id=row["ambito"],
        holder_id=row["holder"],
    )
    return principal, row["ambito.code"]


_PRINCIPAL_TTL_SECONDS = 30.0


class PrincipalCache:
    """Who a user is, re-read at most every 30 s, so a request costs no extra query; the
    services that change a user forget its entry at once."""

    def __init__(self) -> None:
        self._entries: dict[uuid.UUID, tuple[float, Principal | None]] = {}

    async def get(self, user_id: uuid.UUID) -> Principal | None:
        moment = time.monotonic()
        cached = self._entries.get(user_id)
        if cached and moment - cached[0] < _PRINCIPAL_TTL_SECONDS:
            return cached[1]
        principal = await load_principal(user_id)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[user_id] = (moment, principal)
        return principal

    def forget(self, user_id: uuid.UUID) -> None:
        self._entries.pop(user_id, None)


principals = PrincipalCache()


async def link_holder(user_id: uuid.UUID, holder_id: uuid.UUID) -> None:
    await User.update({User.holder: holder_id}).where(User.id == user_id)
    principals.forget(user_id)


async def load_principal(user_id: uuid.UUID) -> Principal | None:
    """The principal as stored now: a deactivated user's old tokens stop working."""
    row = (
        await User.select(User.id, User.username, User.role, User.ambito, User.holder, User.active)
        .where(User.id == user_id)
        .first()
    )
    if row is None or not row["active"]:
        return None
    return Principal(
        user_id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        ambito_id=row["ambito"],
        holder_id=row["holder"],
    )


async def ambito_id_by_code(code: str) -> uuid.UUID:
    row = await Ambito.select(Ambito.id).where(Ambito.code == code).first()
    if row is None:
        raise NotFound(f"no ambito with code '{code}'")
    return row["id"]
