"""`registry backup` while the API takes writes, and `registry restore` into another
database: the copy passes an integrity check and holds every write acknowledged before the
backup started, and only a prefix of the writes (one consistent moment)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from registry.access import Role
from tests.conftest import SETTINGS, Tenant

ROOT = Path(__file__).resolve().parent.parent


async def registry_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Runs the command in its own process without blocking this event loop (the writer)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "registry.cli",
        *args,
        cwd=ROOT,
        env={**os.environ, "REGISTRY_SCHEDULER": "0", **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@dataclass
class Target:
    """Another database of the same backend, to restore into."""

    env: dict[str, str]
    sqlite_path: str | None = None
    url: str | None = None

    async def query(self, sql: str, *args: object) -> list[tuple]:
        if self.sqlite_path is not None:
            with contextlib.closing(sqlite3.connect(self.sqlite_path)) as connection:
                return connection.execute(sql, args).fetchall()
        connection = await asyncpg.connect(self.url)
        try:
            return [tuple(row) for row in await connection.fetch(sql, *args)]
        finally:
            await connection.close()

    async def execute(self, sql: str) -> None:
        if self.sqlite_path is not None:
            with contextlib.closing(sqlite3.connect(self.sqlite_path)) as connection:
                connection.execute(sql)
                connection.commit()
            return
        connection = await asyncpg.connect(self.url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    @property
    def placeholder(self) -> str:
        return "?" if self.sqlite_path is not None else "$1"


@pytest.fixture
async def target(tmp_path: Path) -> AsyncIterator[Target]:
    if not SETTINGS.database_url:
        path = str(tmp_path / "restored.sqlite")
        yield Target(env={"REGISTRY_SQLITE_PATH": path}, sqlite_path=path)
        return
    base, _, name = SETTINGS.database_url.rpartition("/")
    fresh = f"{name}_restore_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SETTINGS.database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{fresh}"')
        yield Target(env={"REGISTRY_DATABASE_URL": f"{base}/{fresh}"}, url=f"{base}/{fresh}")
    finally:
        # An autovacuum worker may be on the restored database (it just received thousands
        # of rows): its process is the server's own, which FORCE may not end for this role.
        # It finishes in moments.
        for attempt in range(40):
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
                break
            except asyncpg.InsufficientPrivilegeError:
                if attempt == 39:
                    raise
                await asyncio.sleep(0.25)
        await admin.close()


async def test_backup_under_writes_restores_every_acknowledged_write(
    client: httpx.AsyncClient, tenant: Tenant, target: Target, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    acknowledged: list[tuple[int, float]] = []  # (sequence number, when the 201 arrived)
    stop = asyncio.Event()

    async def writer() -> None:
        number = 0
        while not stop.is_set():
            response = await client.post(
                "/api/holders",
                json={"kind": "association", "sector": "third_sector", "name": f"B{run} {number}"},
                headers=tenant.headers(Role.UDP_ADMIN),
            )
            assert response.status_code == 201, response.text
            acknowledged.append((number, time.monotonic()))
            number += 1

    writing = asyncio.create_task(writer())
    while len(acknowledged) < 20:
        await asyncio.sleep(0.05)
    file = tmp_path / "registry.backup"
    started = time.monotonic()
    code, out, err = await registry_cli("backup", str(file))
    finished = time.monotonic()
    await asyncio.sleep(0.3)
    stop.set()
    await writing
    assert code == 0, err
    assert str(file) in out and file.stat().st_size > 0
    before = {n for n, at in acknowledged if at < started}
    during = [n for n, at in acknowledged if started <= at <= finished]
    assert during, "no write landed while the backup ran"

    code, out, err = await registry_cli("restore", str(file), env=target.env)
    assert code == 0, err
    assert "restored" in out
    if target.sqlite_path is not None:
        assert await target.query("PRAGMA integrity_check") == [("ok",)]
        assert await target.query("PRAGMA foreign_key_check") == []
    else:
        # Constraints are created after the data on restore: they hold, or it failed.
        [(constraints,)] = await target.query(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated"
        )
        assert constraints == 0
    rows = await target.query(
        f"SELECT name FROM holder WHERE name LIKE {target.placeholder}", f"B{run} %"
    )
    restored = {int(name.rsplit(" ", 1)[1]) for (name,) in rows}
    assert before <= restored  # every write acknowledged before the backup began
    assert restored == set(range(len(restored)))  # a prefix: one consistent moment
    assert len(restored) < len(acknowledged)  # later writes are not in it
    # The restored database is a working registry: its own holders and users came along.
    [(users,)] = await target.query(
        f"SELECT count(*) FROM app_user WHERE username = {target.placeholder}",
        tenant.usernames[Role.UDP_ADMIN],
    )
    assert users == 1

    # A server running on the target (it holds the scheduler lease): restore refuses.
    expires = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(sep=" ")
    await target.execute(
        "INSERT INTO lease (id, name, holder, acquired_at, expires_at) VALUES "
        f"('{uuid.uuid4()}', 'scheduler', 'elsewhere:1:x', '{expires}', '{expires}')"
    )
    code, _, err = await registry_cli("restore", str(file), env=target.env)
    assert code == 2 and "a server is running" in err and "elsewhere:1:x" in err
    code, _, err = await registry_cli("restore", str(file), "--force", env=target.env)
    assert code == 0, err


async def test_backup_refuses_to_overwrite_and_restore_refuses_what_is_not_a_backup(
    app: object, target: Target, tmp_path: Path
) -> None:
    existing = tmp_path / "existing.backup"
    existing.write_bytes(b"keep me")
    code, _, err = await registry_cli("backup", str(existing))
    assert code == 2 and "already exists" in err
    assert existing.read_bytes() == b"keep me"

    code, _, err = await registry_cli("backup", str(tmp_path / "no-such-folder" / "x.backup"))
    assert code == 2 and "no folder" in err

    code, _, err = await registry_cli("restore", str(tmp_path / "missing.backup"), env=target.env)
    assert code == 2 and "no file" in err

    code, _, err = await registry_cli("restore", str(existing), env=target.env)
    assert code == 2, err
    assert "not a" in err  # not a SQLite database / not a pg_dump archive
    # Nothing was written: the target is still empty.
    if target.sqlite_path is not None:
        assert (
            not Path(target.sqlite_path).exists()
            or await target.query("SELECT name FROM sqlite_master WHERE name = 'holder'") == []
        )
    else:
        assert await target.query("SELECT 1 FROM pg_tables WHERE tablename = 'holder'") == []
