"""A lease in the database: at most one holder at a time among every process and host that
shares the database, taken over by another once the holder stops renewing it (it died, or
lost the database for longer than the lease lasts).

A conditional UPDATE ("take it if it is mine or has lapsed") is atomic on both engines:
PostgreSQL re-checks the WHERE clause on the row it waited for, SQLite serialises writers.
On PostgreSQL the database's clock decides when a lease lapses, so hosts whose clocks
disagree by a few seconds still agree on the holder.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from piccolo.columns import UUID, Timestamptz, Varchar
from piccolo.table import Table

from registry import db
from registry.common import now as utcnow


class Lease(Table, tablename="lease"):
    """System-wide, not per ambito: who runs the installation's scheduled jobs."""

    id = UUID(primary_key=True)
    name = Varchar(length=64, unique=True)
    holder = Varchar(length=200)
    acquired_at = Timestamptz()  # when the current holder took it (renewals keep it)
    expires_at = Timestamptz()


def holder_id() -> str:
    """Names this process to an operator reading the table: host, pid, and a random part so a
    restarted process with a recycled pid is a different holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def database_now() -> datetime:
    if db.is_sqlite():
        return utcnow()  # one file, one host: the local clock is the database's
    [row] = await Lease.raw("SELECT clock_timestamp() AS now")
    return row["now"]


class DatabaseLease:
    def __init__(self, name: str, seconds: float, holder: str | None = None) -> None:
        self.name = name
        self.seconds = seconds
        self.holder = holder or holder_id()

    async def acquire(self) -> bool:
        """Take the lease, or renew it if already held; True if this holder has it now."""
        now = await database_now()
        expires = now + timedelta(seconds=self.seconds)
        renewed = (
            await Lease.update({Lease.expires_at: expires})
            .where((Lease.name == self.name) & (Lease.holder == self.holder))
            .returning(Lease.id)
        )
        if renewed:
            return True
        taken = (
            await Lease.update(
                {Lease.holder: self.holder, Lease.acquired_at: now, Lease.expires_at: expires}
            )
            .where((Lease.name == self.name) & (Lease.expires_at < now))
            .returning(Lease.id)
        )
        if taken:
            return True
        created = (
            await Lease.insert(
                Lease(name=self.name, holder=self.holder, acquired_at=now, expires_at=expires)
            )
            .on_conflict(action="DO NOTHING")
            .returning(Lease.id)
        )
        return bool(created)

    async def release(self) -> None:
        """Give it up now (a clean stop), so another process need not wait for it to lapse."""
        past = (await database_now()) - timedelta(seconds=1)
        await Lease.update({Lease.expires_at: past}).where(
            (Lease.name == self.name) & (Lease.holder == self.holder)
        )

    async def current_holder(self) -> str | None:
        row = (
            await Lease.select(Lease.holder, Lease.expires_at)
            .where(Lease.name == self.name)
            .first()
        )
        if row is None or row["expires_at"] < await database_now():
            return None
        return row["holder"]
