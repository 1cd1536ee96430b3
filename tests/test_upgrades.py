"""Upgrades keep real data: a database written by release 0.1.0 (with the demo ambito) migrates
to the current schema with every record intact and is served by the current code; a pending
migration that would destroy stored values refuses to run."""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from registry import upgrades
from registry.config import load_settings
from registry.holders.tables import Holder
from tests.conftest import Tenant

RELEASE = Path(__file__).resolve().parent / "fixtures" / "releases" / "0.1.0"
MIGRATIONS = Path(__file__).resolve().parents[1] / "registry" / "migrations"
SETTINGS = load_settings()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _digest(rows: list[tuple[Any, ...]]) -> str:
    """Order-independent fingerprint of a table's rows, values as text."""
    lines = sorted("\x1f".join(repr(value) for value in row) for row in rows)
    return hashlib.sha256("\x1e".join(lines).encode()).hexdigest()


class Database:
    """A scratch database on the suite's backend, restored from the release's dump."""

    def __init__(self, tmp_path: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        self.env |= {"REGISTRY_SCHEDULER": "0", "REGISTRY_ENV": "development"}
        if SETTINGS.database_url:
            base, _, name = SETTINGS.database_url.rpartition("/")
            self.admin_url = SETTINGS.database_url
            self.name = f"{name}_upgrade_{uuid.uuid4().hex[:8]}"
            self.url: str | None = f"{base}/{self.name}"
            self.env["REGISTRY_DATABASE_URL"] = self.url
        else:
            self.url = None
            self.path = tmp_path / "release-0.1.0.sqlite"
            self.env["REGISTRY_SQLITE_PATH"] = str(self.path)

    def _pg(self, url: str, work: Any) -> Any:
        import asyncio

        import asyncpg

        async def run() -> Any:
            connection = await asyncpg.connect(url)
            try:
                return await work(connection)
            finally:
                await connection.close()

        return asyncio.run(run())

    def restore(self) -> None:
        if self.url is None:
            script = gzip.decompress((RELEASE / "sqlite.sql.gz").read_bytes()).decode()
            with sqlite3.connect(self.path) as connection:
                connection.executescript(script)
            return
        script = gzip.decompress((RELEASE / "postgresql.sql.gz").read_bytes()).decode()
        self._pg(self.admin_url, lambda c: c.execute(f'CREATE DATABASE "{self.name}"'))
        self._pg(self.url, lambda c: c.execute(script))

    def drop(self) -> None:
        if self.url is not None:
            self._pg(self.admin_url, lambda c: c.execute(f'DROP DATABASE IF EXISTS "{self.name}"'))

    def columns(self) -> dict[str, list[str]]:
        """Every table and its columns, as they are now."""
        if self.url is None:
            with sqlite3.connect(self.path) as connection:
                tables = [
                    row[0]
                    for row in connection.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%'"
                    )
                ]
                return {
                    table: [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
                    for table in tables
                }

        async def read(connection: Any) -> dict[str, list[str]]:
            rows = await connection.fetch(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
            )
            found: dict[str, list[str]] = {}
            for row in rows:
                found.setdefault(row["table_name"], []).append(row["column_name"])
            return found

        return self._pg(self.url, read)

    def fingerprints(self, tables: dict[str, list[str]]) -> dict[str, tuple[int, str]]:
        """Row count and content digest of each table, over the given columns only."""

        def select(table: str, columns: list[str]) -> str:
            return 'SELECT {} FROM "{}"'.format(", ".join(f'"{c}"' for c in columns), table)

        if self.url is None:
            with sqlite3.connect(self.path) as connection:
                return {
                    table: (len(rows), _digest(rows))
                    for table, columns in tables.items()
                    for rows in [connection.execute(select(table, columns)).fetchall()]
                }

        async def read(connection: Any) -> dict[str, tuple[int, str]]:
            found = {}
            for table, columns in tables.items():
                rows = [tuple(r) for r in await connection.fetch(select(table, columns))]
                found[table] = (len(rows), _digest(rows))
            return found

        return self._pg(self.url, read)

    def registry(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "registry.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            **kwargs,
        )


@pytest.fixture
def release_database(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path)
    database.restore()
    try:
        yield database
    finally:
        database.drop()


def test_a_release_database_migrates_with_every_record_intact(
    release_database: Database,
) -> None:
    before_columns = {t: c for t, c in release_database.columns().items() if t != "migration"}
    before = release_database.fingerprints(before_columns)
    assert before["holder"][0] > 10 and before["contribution"][0] > 100, "the demo is in it"

    migrated = release_database.registry("migrate")
    assert migrated.returncode == 0, migrated.stderr

    after_columns = release_database.columns()
    for table, columns in before_columns.items():
        assert table in after_columns, f"table {table} disappeared"
        assert set(columns) <= set(after_columns[table]), f"a column of {table} disappeared"
    after = release_database.fingerprints(before_columns)
    changed = {table for table in before if before[table] != after[table]}
    assert not changed, f"records changed by the upgrade in: {sorted(changed)}"

    # Every migration of this version is applied, once.
    applied = release_database.fingerprints({"migration": ["name"]})["migration"][0]
    assert applied == len(list(MIGRATIONS.glob("registry_*.py")))


def test_the_current_code_serves_an_upgraded_database(release_database: Database) -> None:
    holders = release_database.fingerprints({"holder": ["id"]})["holder"][0]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "registry.cli", "serve", "--port", str(port)],
        env=release_database.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        # The release's demo UdP logs in with its password, and sees its holders.
        login = httpx.post(
            f"{base}/api/auth/token",
            json={"username": "udp", "password": "demo-password"},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listed = httpx.get(
            f"{base}/api/holders", params={"limit": 200}, headers=headers, timeout=30
        )
        assert listed.status_code == 200, listed.text
        body = listed.json()
        items = body["items"] if isinstance(body, dict) else body
        assert len(items) == holders
        summary = httpx.get(f"{base}/api/metrics/summary", headers=headers, timeout=60)
        assert summary.status_code == 200, summary.text
    finally:
        server.terminate()
        server.wait(timeout=30)


async def test_a_migration_that_would_lose_data_is_refused(tenant: Tenant) -> None:
    table = Holder._meta.tablename
    destructive = MigrationManager(migration_id="2099-01-01T00:00:00:000000", app_name="registry")
    destructive.drop_column("Holder", table, "name")
    destructive.drop_table("Holder", table)
    losses = await upgrades.losses_of(destructive.migration_id, destructive)
    assert sorted(" ".join(loss.what.split(" ")[0:2]) for loss in losses) == [
        "drops column",
        "drops table",
    ]
    assert all("holder" in loss.what for loss in losses)

    # Dropping what holds nothing loses nothing: empty columns and missing tables pass.
    harmless = MigrationManager(migration_id="2099-01-01T00:00:01:000000", app_name="registry")
    harmless.drop_table("Nothing", "table_that_does_not_exist")
    assert await upgrades.losses_of(harmless.migration_id, harmless) == []


async def test_pending_migrations_of_an_up_to_date_database_are_none(tenant: Tenant) -> None:
    assert await upgrades.pending_managers() == []
    await upgrades.refuse_data_loss()  # nothing pending: nothing refused


async def test_migrate_refuses_before_changing_anything(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry import db

    destructive = MigrationManager(migration_id="2099-01-01T00:00:02:000000", app_name="registry")
    destructive.drop_column("Holder", Holder._meta.tablename, "name")

    async def pending() -> list[tuple[str, MigrationManager]]:
        return [(destructive.migration_id, destructive)]

    monkeypatch.setattr(upgrades, "pending_managers", pending)
    holders = await Holder.count()
    with pytest.raises(upgrades.DataLossRefused, match=r"holder\.name"):
        await db.migrate()
    assert await Holder.count() == holders
