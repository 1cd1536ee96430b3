"""Signed tokens (python-jose, HS256) and password hashing (argon2).

One signer serves every token the registry issues (login, and later QR check-in and
reconfirmation links); each kind has its own audience so one can never pass for another.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

ALGORITHM = "HS256"
# Every token the registry verifies must carry these; issue() always writes them.
REQUIRED_CLAIMS = ("exp", "iat", "aud", "sub")
_hasher = PasswordHasher()


class TokenError(Exception):
    """The token is expired, tampered with, signed with another key or of the wrong kind."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """hash_password in a worker thread: argon2 takes tens of milliseconds of CPU and
    must not stall the event loop."""
    return await anyio.to_thread.run_sync(hash_password, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    """verify_password in a worker thread, for the same reason."""
    return await anyio.to_thread.run_sync(verify_password, password_hash, password)


# A hash to verify against when the user does not exist, so timing does not reveal usernames.
DUMMY_HASH = hash_password("not-a-real-password")


def issue(
    secret: str,
    audience: str,
    subject: str,
    claims: dict[str, Any] | None = None,
    ttl: timedelta = timedelta(hours=8),
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    payload = {
        **(claims or {}),
        "sub": subject,
        "aud": audience,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify(secret: str, audience: str, token: str, *, before_start: bool = False) -> dict[str, Any]:
    """The claims of a genuine, unexpired token; `before_start` also accepts one whose
    validity ("nbf") has not begun yet."""
    # python-jose skips a claim the token lacks: without these a token with no "exp" would
    # never expire and one with no "aud" would pass for every kind.
    options: dict[str, Any] = {f"require_{claim}": True for claim in REQUIRED_CLAIMS}
    if before_start:
        options["verify_nbf"] = False
    try:
        # algorithms is explicit: "none" and any other algorithm are refused.
        return jwt.decode(token, secret, algorithms=[ALGORITHM], audience=audience, options=options)
    except JWTError as error:
        raise TokenError(str(error)) from error
