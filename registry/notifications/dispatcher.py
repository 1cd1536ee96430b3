"""The outbox dispatcher: claims due messages with a lease and delivers them.

Guarantees:
- at least once: a message leaves the outbox only as `delivered` (2xx / accepted by SMTP)
  or `dead` (attempts exhausted); a dispatcher that dies leaves claims that expire
  (`locked_until`), and the next run takes them over;
- never twice after a recorded 2xx: "delivered" is written by one conditional UPDATE that
  also releases the claim, and a claim is only used while it has time left for a whole
  attempt (lease > timeout). The one window left, a crash after the receiver answered and
  before that UPDATE, is why every delivery carries an `Idempotency-Key` header.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from registry import __version__
from registry.common import now as utcnow
from registry.config import Settings
from registry.notifications import webhooks
from registry.notifications.email import EmailError, send_email
from registry.notifications.events import DUE_STATUSES, Channel, DeliveryStatus
from registry.notifications.mail import queue_emails
from registry.notifications.tables import OutboxMessage, WebhookEndpoint

log = logging.getLogger("registry.dispatcher")

# Past these the error text is cut: it is for the operator, not a log archive.
_ERROR_CHARS = 500
# A run stops after this many batches; the next scheduled run goes on.
_MAX_BATCHES = 200


def backoff_seconds(
    settings: Settings, attempt: int, rng: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with "equal jitter": between half and all of base·2^(attempt-1).

    The jitter spreads retries of many messages to a receiver that was down, so they do not
    all come back at the same instant.
    """
    ceiling = min(
        settings.outbox_backoff_max_seconds, settings.outbox_backoff_seconds * 2 ** (attempt - 1)
    )
    return ceiling / 2 + rng() * ceiling / 2


@dataclass
class DispatchResult:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    skipped: int = 0
    emails_queued: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.dead

    def as_dict(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "retrying": self.retrying,
            "dead": self.dead,
            "skipped": self.skipped,
            "emails_queued": self.emails_queued,
        }


class Permanent(Exception):
    """Retrying cannot help (the endpoint is gone or was removed)."""


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.AsyncClient | None = None,
        rng: Callable[[], float] = random.random,
        worker: str | None = None,
        resolver: webhooks.Resolver | None = None,
    ) -> None:
        self.settings = settings
        self._client = client
        self._resolver = resolver
        self._rng = rng
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lease = timedelta(seconds=settings.outbox_lease_seconds)
        self._timeout = settings.webhook_timeout_seconds

    async def run(
        self, now: datetime | None = None, ambito_ids: Sequence[uuid.UUID] | None = None
    ) -> DispatchResult:
        """Deliver every message due at `now` (the real clock when None), of every ambito or
        only of `ambito_ids`.

        The clock advances with real elapsed time from `now`, so a controlled clock in the
        tests and the wall clock in production behave the same over a long run.
        """
        start, started = now or utcnow(), time.monotonic()

        def clock() -> datetime:
            return start + timedelta(seconds=time.monotonic() - started)

        result = DispatchResult()
        # Users' own e-mails due now join the outbox first, so they leave in this same run.
        result.emails_queued = await queue_emails(self.settings, start, ambito_ids)
        own_client = self._client is None
        # Connects only to addresses checked at the moment of connecting (webhooks.py).
        client = self._client or webhooks.client(
            timeout=self._timeout,
            allow_private=self.settings.webhook_allow_private,
            resolver=self._resolver,
            headers={"User-Agent": f"registry/{__version__}"},
        )
        slots = asyncio.Semaphore(self.settings.outbox_concurrency)

        async def one(row: dict[str, Any]) -> None:
            async with slots:
                await self._deliver(client, row, clock, result)

        try:
            for _ in range(_MAX_BATCHES):
                batch = await self._claim(clock(), ambito_ids)
                if not batch:
                    break
                skipped = result.skipped

                await asyncio.gather(*(one(row) for row in batch))
                if result.skipped - skipped == len(batch):
                    break  # leases too short for this load: leave the rest to the next run
        finally:
            if own_client:
                await client.aclose()
        return result

    async def _claim(
        self, moment: datetime, ambito_ids: Sequence[uuid.UUID] | None
    ) -> list[dict[str, Any]]:
        free = OutboxMessage.locked_until.is_null() | (OutboxMessage.locked_until < moment)
        due = (
            OutboxMessage.status.is_in(list(DUE_STATUSES))
            & (OutboxMessage.next_attempt_at <= moment)
            & free
        )
        if ambito_ids is not None:
            due &= OutboxMessage.ambito.is_in(list(ambito_ids))
        candidates = (
            await OutboxMessage.select(OutboxMessage.id)
            .where(due)
            .order_by(OutboxMessage.next_attempt_at)
            .limit(self.settings.outbox_batch_size)
        )
        if not candidates:
            return []
        # The UPDATE re-checks the conditions: on PostgreSQL a concurrent claimer waits for
        # the row lock and then sees the new locked_until; on SQLite writers are serial.
        return await (
            OutboxMessage.update(
                {
                    OutboxMessage.locked_until: moment + self._lease,
                    OutboxMessage.locked_by: self.worker,
                }
            )
            .where(OutboxMessage.id.is_in([c["id"] for c in candidates]) & due)
            .returning(*OutboxMessage.all_columns())
        )

    async def _deliver(
        self,
        client: httpx.AsyncClient,
        row: dict[str, Any],
        clock: Callable[[], datetime],
        result: DispatchResult,
    ) -> None:
        # Waiting for a slot may have eaten the lease: never start an attempt that could
        # outlive it, or another dispatcher might send the same message meanwhile.
        if clock() + timedelta(seconds=self._timeout) > row["locked_until"]:
            await self._release(row)
            result.skipped += 1
            return
        status_code: int | None = None
        try:
            if row["channel"] == Channel.WEBHOOK:
                status_code = await self._post(client, row)
            else:
                await send_email(
                    self.settings,
                    to=row["recipient"],
                    subject=row["subject"],
                    text=row["body"],
                    message_id=str(row["id"]),
                )
        except Permanent as error:
            await self._fail(row, clock(), str(error), status_code, result, permanent=True)
        except webhooks.TargetRefused as error:
            message = f"the webhook target is not allowed: {error}"
            await self._fail(row, clock(), message, status_code, result, permanent=True)
        except (httpx.HTTPError, EmailError, RetryableStatus) as error:
            code = error.status_code if isinstance(error, RetryableStatus) else None
            await self._fail(row, clock(), _describe(error), code, result)
        except Exception as error:  # a bug must not leave the claim hanging until it expires
            log.exception("delivery of outbox message %s failed", row["id"])
            await self._fail(row, clock(), _describe(error), None, result)
        else:
            await self._succeed(row, clock(), status_code, result)

    async def _post(self, client: httpx.AsyncClient, row: dict[str, Any]) -> int:
        endpoint = (
            await WebhookEndpoint.select(
                WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEndpoint.active
            )
            .where(WebhookEndpoint.id == row["endpoint"])
            .first()
            if row["endpoint"]
            else None
        )
        if endpoint is None:
            raise Permanent("the webhook endpoint was removed")
        if not endpoint["active"]:
            raise Permanent("the webhook endpoint is disabled")
        try:
            url = webhooks.check_url(
                endpoint["url"], allow_private=self.settings.webhook_allow_private
            )
        except Exception as error:
            raise Permanent(f"the webhook URL is not allowed: {error}") from error
        body = row["body"].encode()
        response = await client.post(
            url,
            content=body,
            timeout=self._timeout,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                webhooks.SIGNATURE_HEADER: webhooks.sign(endpoint["secret"], body),
                webhooks.IDEMPOTENCY_HEADER: str(row["id"]),
                webhooks.EVENT_HEADER: row["event_type"],
            },
        )
        if 200 <= response.status_code < 300:
            return response.status_code
        if response.status_code == 410:
            raise Permanent("the receiver answered 410 Gone")
        raise RetryableStatus(response.status_code)

    async def _release(self, row: dict[str, Any]) -> None:
        await OutboxMessage.update(
            {OutboxMessage.locked_until: None, OutboxMessage.locked_by: None}
        ).where(_mine(row, self.worker))

    async def _succeed(
        self, row: dict[str, Any], moment: datetime, code: int | None, result: DispatchResult
    ) -> None:
        # One statement: marked delivered and the claim released together.
        await OutboxMessage.update(
            {
                OutboxMessage.status: DeliveryStatus.DELIVERED.value,
                OutboxMessage.attempts: row["attempts"] + 1,
                OutboxMessage.delivered_at: moment,
                OutboxMessage.updated_at: moment,
                OutboxMessage.last_status_code: code,
                OutboxMessage.last_error: "",
                OutboxMessage.locked_until: None,
                OutboxMessage.locked_by: None,
            }
        ).where(_mine(row, self.worker))
        result.delivered += 1

    async def _fail(
        self,
        row: dict[str, Any],
        moment: datetime,
        error: str,
        code: int | None,
        result: DispatchResult,
        *,
        permanent: bool = False,
    ) -> None:
        attempts = row["attempts"] + 1
        dead = permanent or attempts >= self.settings.outbox_max_attempts
        changes: dict[Any, Any] = {
            OutboxMessage.attempts: attempts,
            OutboxMessage.updated_at: moment,
            OutboxMessage.last_error: error[:_ERROR_CHARS],
            OutboxMessage.last_status_code: code,
            OutboxMessage.locked_until: None,
            OutboxMessage.locked_by: None,
            OutboxMessage.status: (DeliveryStatus.DEAD if dead else DeliveryStatus.RETRYING).value,
        }
        if not dead:
            delay = backoff_seconds(self.settings, attempts, self._rng)
            changes[OutboxMessage.next_attempt_at] = moment + timedelta(seconds=delay)
        await OutboxMessage.update(changes).where(_mine(row, self.worker))
        if dead:
            result.dead += 1
            log.warning(
                "outbox message %s is dead after %d attempts: %s", row["id"], attempts, error
            )
        else:
            result.retrying += 1
        result.errors.append(f"{row['id']}: {error}")


class RetryableStatus(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__(f"the receiver answered HTTP {status_code}")
        self.status_code = status_code


def _mine(row: dict[str, Any], worker: str) -> Any:
    return (OutboxMessage.id == row["id"]) & (OutboxMessage.locked_by == worker)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, RetryableStatus) else f"{type(error).__name__}: {text}"
