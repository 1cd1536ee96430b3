"""Login throttling per username and per client address, kept in the database so that every
worker process counts the same failures.

An attempt is counted before the password is checked (and given back when it succeeds), so
many attempts sent at once cannot all slip in under the limit while argon2 runs.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from registry import db
from registry.errors import DomainError
from registry.users.tables import LoginFailure, LoginThrottle

log = logging.getLogger("registry.login")

WINDOW = timedelta(minutes=15)
USER_LIMIT = 10
# Higher than the username's: one office behind one NAT address shares it.
ADDRESS_LIMIT = 20
FIRST_BLOCK = timedelta(minutes=1)
LONGEST_BLOCK = timedelta(hours=1)
# A key with no attempt for this long starts again from no failures and no blocks.
FORGET_AFTER = timedelta(hours=24)
# How long the UdP can read failed logins back.
FAILURES_KEPT = timedelta(days=30)


class LoginThrottled(DomainError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after} seconds")
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


@dataclass
class Attempt:
    username: str
    address: str
    at: datetime
    # key -> True when this attempt started a block (to be lifted if it succeeds)
    started_block: dict[str, bool] = field(default_factory=dict)


def _limit(key: str) -> int:
    return USER_LIMIT if key.startswith("user:") else ADDRESS_LIMIT


def block_length(strikes: int) -> timedelta:
    """The n-th block in a run lasts twice the one before, up to LONGEST_BLOCK."""
    return min(FIRST_BLOCK * 2 ** min(strikes - 1, 20), LONGEST_BLOCK)


def _keys(username: str, address: str) -> list[str]:
    # Sorted, so two processes lock the same rows in the same order (no deadlock).
    return sorted({f"user:{username}", f"addr:{address}"})


async def _locked_rows(keys: list[str]) -> list[dict]:
    query = LoginThrottle.select().where(LoginThrottle.key.is_in(keys)).order_by(LoginThrottle.key)
    # SQLite has no row locks; there unit_of_work's BEGIN IMMEDIATE serialises the writers.
    if not db.is_sqlite():
        query = query.lock_rows()
    return await query


async def begin(username: str, address: str, now: datetime) -> Attempt:
    """Count one attempt for the username and the address, or raise LoginThrottled when
    either is blocked (without looking at the password)."""
    keys = _keys(username, address)
    attempt = Attempt(username=username, address=address, at=now)
    retry_after = 0
    async with db.unit_of_work():
        await LoginThrottle.delete().where(LoginThrottle.expires_at < now)
        await LoginThrottle.insert(
            *[
                LoginThrottle(
                    key=key,
                    failures=0,
                    window_start=now,
                    strikes=0,
                    last_attempt=now,
                    expires_at=now + FORGET_AFTER,
                )
                for key in keys
            ]
        ).on_conflict(target=LoginThrottle.key, action="DO NOTHING")
        rows = await _locked_rows(keys)
        for row in rows:
            if row["blocked_until"] is not None and row["blocked_until"] > now:
                seconds = math.ceil((row["blocked_until"] - now).total_seconds())
                retry_after = max(retry_after, seconds)
        if retry_after:
            # Refused attempts are not counted: the block does not grow while it holds.
            raise LoginThrottled(retry_after)
        for row in rows:
            failures, window_start, strikes = row["failures"], row["window_start"], row["strikes"]
            if window_start < now - WINDOW:
                failures, window_start = 0, now
            failures += 1
            blocked_until = row["blocked_until"]
            started = failures >= _limit(row["key"])
            if started:
                strikes += 1
                blocked_until = now + block_length(strikes)
                failures, window_start = 0, now
            attempt.started_block[row["key"]] = started
            await LoginThrottle.update(
                {
                    LoginThrottle.failures: failures,
                    LoginThrottle.window_start: window_start,
                    LoginThrottle.strikes: strikes,
                    LoginThrottle.blocked_until: blocked_until,
                    LoginThrottle.last_attempt: now,
                    LoginThrottle.expires_at: now + FORGET_AFTER,
                }
            ).where(LoginThrottle.id == row["id"])
    return attempt


async def succeeded(attempt: Attempt) -> None:
    """The password was right: the username starts afresh; the address gets its attempt back."""
    async with db.unit_of_work():
        await LoginThrottle.delete().where(LoginThrottle.key == f"user:{attempt.username}")
        key = f"addr:{attempt.address}"
        rows = await _locked_rows([key])
        if not rows:
            return
        row = rows[0]
        if attempt.started_block.get(key):
            values = {
                LoginThrottle.failures: _limit(key) - 1,
                LoginThrottle.strikes: max(row["strikes"] - 1, 0),
                LoginThrottle.blocked_until: None,
            }
        else:
            values = {LoginThrottle.failures: max(row["failures"] - 1, 0)}
        await LoginThrottle.update(values).where(LoginThrottle.id == row["id"])


async def forget_user(username: str) -> None:
    """A new password (changed or reset) lifts the username's block."""
    await LoginThrottle.delete().where(LoginThrottle.key == f"user:{username}")


async def failed(
    attempt: Attempt,
    *,
    reason: str,
    user_id: uuid.UUID | None = None,
    ambito_id: uuid.UUID | None = None,
) -> None:
    """Record a failed login for the UdP of the user's ambito, and in the server log."""
    log.warning(
        "login failed: username=%r address=%s reason=%s", attempt.username, attempt.address, reason
    )
    await LoginFailure.delete().where(LoginFailure.at < attempt.at - FAILURES_KEPT)
    await LoginFailure.insert(
        LoginFailure(
            at=attempt.at,
            username=attempt.username,
            user=user_id,
            ambito=ambito_id,
            address=attempt.address,
            reason=reason,
        )
    )
