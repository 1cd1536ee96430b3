"""Users: creation, authentication and listing, always inside one ambito."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from registry.access import Principal, Role
from registry.ambiti.tables import Ambito, PlatformAdmin
from registry.config import Settings
from registry.db import fetch, is_sqlite, unit_of_work
from registry.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from registry.holders.tables import Holder
from registry.security import (
    DUMMY_HASH,
    TokenError,
    hash_password_async,
    issue,
    verify,
    verify_password_async,
)
from registry.users import throttle
from registry.users.schemas import (
    LoginFailureOut,
    PasswordChange,
    PasswordReset,
    ResetLinkOut,
    UserCreate,
    UserOut,
    UserPatch,
)
from registry.users.tables import LoginFailure, User

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
        active=bool(row["active"]),  # hand-written reads on SQLite give 0/1
        created_at=row["created_at"],
    )


async def create_user(ambito_id: uuid.UUID, data: UserCreate) -> UserOut:
    if data.role is Role.HOLDER_MANAGER and data.holder_id is None:
        pass  # a holder manager may register its organisation later (POST /api/holders)
    if data.holder_id is not None:
        holder = await Holder.select(Holder.ambito).where(Holder.id == data.holder_id).first()
        if holder is None or holder["ambito"] != ambito_id:
            raise InvalidInput("no such holder in this ambito", field="holder_id")
    if await User.exists().where(User.username == data.username) or (
        await PlatformAdmin.exists().where(PlatformAdmin.username == data.username)
    ):
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


# Hand-written, as the principal's read: GET /api/users/me is every screen's first call, and
# building the Piccolo query took three times the rest of the request. Same columns and join
# as User.select(*_USER_COLUMNS).
_USER_BY_ID = (
    'SELECT u.id, u.username, u.role, u.ambito, a.code AS "ambito.code", u.holder, u.active, '
    "u.created_at FROM app_user u JOIN ambito a ON a.id = u.ambito "
    "WHERE u.id = {} AND u.ambito = {}"
)


async def get_user(ambito_id: uuid.UUID, user_id: uuid.UUID) -> UserOut:
    rows = await fetch(_USER_BY_ID, user_id, ambito_id)
    if not rows:
        raise NotFound("no such user")
    return _out(rows[0])


async def list_users(actor: Principal) -> list[UserOut]:
    actor.require(Role.UDP_ADMIN)
    rows = (
        await User.select(*_USER_COLUMNS)
        .where(User.ambito == actor.ambito_id)
        .order_by(User.username)
    )
    return [_out(row) for row in rows]


async def update_user(actor: Principal, user_id: uuid.UUID, data: UserPatch) -> UserOut:
    """Activate, deactivate or change the role of a user of the actor's ambito. Any change
    ends the user's existing tokens. Nobody deactivates or demotes themselves, and the last
    active udp_admin of an ambito stays, so the ambito is never locked out."""
    # Role first (as before): a non-administrator learns nothing about any user id.
    actor.require(Role.UDP_ADMIN)
    target = await get_user(actor.ambito_id, user_id)
    if data.active is msgspec.UNSET and data.role is msgspec.UNSET:
        raise InvalidInput("nothing to change: send 'active' and/or 'role'")
    active = target.active if data.active is msgspec.UNSET else data.active
    role = target.role if data.role is msgspec.UNSET else data.role
    if active == target.active and role == target.role:
        return target
    loses_admin = (
        target.active and target.role is Role.UDP_ADMIN and not (active and role is Role.UDP_ADMIN)
    )
    if user_id == actor.user_id and loses_admin:
        what = "deactivate" if not active else "change the role of"
        raise Conflict(
            f"you cannot {what} your own account: another udp_admin of the ambito must do it",
            field="active" if not active else "role",
        )
    async with unit_of_work():
        if loses_admin:
            # Locked (PostgreSQL) or serialised (SQLite), so two administrators demoting each
            # other at the same moment cannot both succeed.
            query = User.select(User.id, User.active).where(
                (User.ambito == actor.ambito_id) & (User.role == Role.UDP_ADMIN.value)
            )
            if not is_sqlite():
                query = query.lock_rows()
            admins = await query
            if not any(row["active"] and row["id"] != user_id for row in admins):
                raise Conflict(
                    "this is the last active udp_admin of the ambito: give another user the "
                    "udp_admin role first",
                    field="active" if not active else "role",
                )
        await User.update(
            {
                User.active: active,
                User.role: role.value,
                User.token_version: User.token_version + 1,
            }
        ).where(User.id == user_id)
    return await get_user(actor.ambito_id, user_id)


_LOGIN_COLUMNS = (
    User.id,
    User.username,
    User.password_hash,
    User.role,
    User.ambito,
    User.ambito.code,
    User.holder,
    User.active,
    User.token_version,
    User.ambito.active,  # a deactivated ambito's users cannot log in (issue 14)
)


@dataclass(frozen=True, slots=True)
class LoggedIn:
    principal: Principal
    ambito_code: str
    token_version: int


def _logged_in(row: dict[str, Any]) -> LoggedIn:
    principal = Principal(
        user_id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        ambito_id=row["ambito"],
        holder_id=row["holder"],
    )
    return LoggedIn(principal, row["ambito.code"], row["token_version"])


async def authenticate(username: str, password: str, address: str) -> LoggedIn:
    """Check the credentials, throttled per username and per client address."""
    attempt = await throttle.begin(username, address, datetime.now(UTC))
    row = await User.select(*_LOGIN_COLUMNS).where(User.username == username).first()
    # An unknown username costs the same argon2 work as a wrong password, so the answer's
    # timing does not tell which usernames exist.
    valid = await verify_password_async(row["password_hash"] if row else DUMMY_HASH, password)
    if row is None or not valid or not row["active"] or not row["ambito.active"]:
        reason = "unknown_user" if row is None else "wrong_password" if not valid else "inactive"
        await throttle.failed(
            attempt,
            reason=reason,
            user_id=row["id"] if row else None,
            ambito_id=row["ambito"] if row else None,
        )
        raise NotAuthenticated("wrong username or password")
    await throttle.succeeded(attempt)
    return _logged_in(row)


async def change_password(actor: Principal, data: PasswordChange, address: str) -> LoggedIn:
    """The user's own change, proven by the current password (throttled like a login, so a
    stolen session cannot be used to guess it). Ends every other token of the user."""
    attempt = await throttle.begin(actor.username, address, datetime.now(UTC))
    row = await User.select(*_LOGIN_COLUMNS).where(User.id == actor.user_id).first()
    if row is None or not row["active"]:
        raise NotAuthenticated("this account no longer exists or was deactivated")
    if not await verify_password_async(row["password_hash"], data.current_password):
        await throttle.failed(
            attempt, reason="wrong_current_password", user_id=row["id"], ambito_id=row["ambito"]
        )
        raise InvalidInput("the current password is wrong", field="current_password")
    await throttle.succeeded(attempt)
    if data.new_password == data.current_password:
        raise InvalidInput(
            "the new password must differ from the current one", field="new_password"
        )
    await _set_password(actor.user_id, data.new_password)
    row = await User.select(*_LOGIN_COLUMNS).where(User.id == actor.user_id).first()
    return _logged_in(row)


async def _set_password(user_id: uuid.UUID, password: str) -> None:
    password_hash = await hash_password_async(password)
    row = await User.select(User.username).where(User.id == user_id).first()
    await User.update(
        {User.password_hash: password_hash, User.token_version: User.token_version + 1}
    ).where(User.id == user_id)
    if row is not None:
        await throttle.forget_user(row["username"])


async def logout(actor: Principal) -> None:
    """Ends every token of the user (on all devices): the version they carry is gone."""
    await User.update({User.token_version: User.token_version + 1}).where(User.id == actor.user_id)


RESET_AUDIENCE = "registry-password-reset"
RESET_TTL = timedelta(hours=1)


def reset_url(settings: Settings, token: str) -> str:
    # In the fragment: the browser keeps it, so no server or proxy log ever sees the token.
    return f"{settings.public_base_url}/reset/#token={token}"


async def issue_reset_link(
    actor: Principal, user_id: uuid.UUID, settings: Settings
) -> ResetLinkOut:
    """A one-time link for the UdP to hand over. It carries the user's token version, which
    the reset raises: the link works once, and dies with a deactivation or another reset."""
    # Role first (as before): a non-administrator learns nothing about any user id.
    actor.require(Role.UDP_ADMIN)
    target = await get_user(actor.ambito_id, user_id)
    if not target.active:
        raise Conflict("this account is deactivated: activate it before resetting its password")
    row = await User.select(User.token_version).where(User.id == user_id).first()
    now = datetime.now(UTC)
    token = issue(
        settings.secret_key,
        RESET_AUDIENCE,
        str(user_id),
        {"ver": row["token_version"]},
        ttl=RESET_TTL,
        now=now,
    )
    return ResetLinkOut(
        user_id=user_id,
        username=target.username,
        url=reset_url(settings, token),
        expires_at=datetime.fromtimestamp(int((now + RESET_TTL).timestamp()), UTC),
    )


_LINK_UNUSABLE = "this link is expired or was already used: ask the UdP for a new one"


async def reset_password(data: PasswordReset, settings: Settings) -> None:
    try:
        claims = verify(settings.secret_key, RESET_AUDIENCE, data.token)
        user_id = uuid.UUID(claims["sub"])
        version = int(claims["ver"])
    except (TokenError, KeyError, ValueError, TypeError) as error:
        raise InvalidInput(_LINK_UNUSABLE, field="token") from error
    async with unit_of_work():
        # The version check and its raise happen in one transaction: two uses of the same
        # link at once cannot both succeed.
        query = User.select(User.active, User.token_version).where(User.id == user_id)
        if not is_sqlite():
            query = query.lock_rows()
        row = await query.first()
        if row is None or not row["active"] or row["token_version"] != version:
            raise InvalidInput(_LINK_UNUSABLE, field="token")
        await _set_password(user_id, data.new_password)


async def login_failures(actor: Principal, limit: int) -> list[LoginFailureOut]:
    """The recent failed logins of the actor's ambito (unknown usernames belong to none)."""
    actor.require(Role.UDP_ADMIN)
    rows = (
        await LoginFailure.select(
            LoginFailure.at,
            LoginFailure.username,
            LoginFailure.user,
            LoginFailure.address,
            LoginFailure.reason,
        )
        .where(LoginFailure.ambito == actor.ambito_id)
        .order_by(LoginFailure.at, ascending=False)
        .limit(limit)
    )
    return [
        LoginFailureOut(
            at=row["at"],
            username=row["username"],
            user_id=row["user"],
            address=row["address"],
            reason=row["reason"],
        )
        for row in rows
    ]


async def link_holder(user_id: uuid.UUID, holder_id: uuid.UUID) -> None:
    await User.update({User.holder: holder_id}).where(User.id == user_id)


_PRINCIPAL_SQL = (
    "SELECT u.id, u.username, u.role, u.ambito, u.holder, u.active, u.token_version, "
    "a.active AS ambito_active FROM app_user u JOIN ambito a ON a.id = u.ambito WHERE u.id = {}"
)


async def principal_for_token(user_id: uuid.UUID, token_version: int) -> Principal | None:
    """The principal as stored now, read on every request so that a deactivation, a role
    change, a new password or a logout ends the user's tokens at once in every process."""
    # Hand-written: it runs on every request, and building the Piccolo query cost more than
    # running it (issue 18). Same columns and join as User.select(..., User.ambito.active).
    rows = await fetch(_PRINCIPAL_SQL, user_id)
    row = rows[0] if rows else None
    if row is None or not row["active"] or row["token_version"] != token_version:
        return None
    if not row["ambito_active"]:  # the ambito was deactivated or merged (issue 14)
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
