"""Several real server processes on one database (a fresh SQLite file, or a fresh PostgreSQL
database next to the one the suite runs on): they migrate it once between them, exactly one
of them runs the scheduled jobs, and when that one is killed another takes over.

The servers run `registry serve` as an operator would. A probe job that ticks every second
is added to the job list of every process through a `sitecustomize` module on PYTHONPATH
(the uvicorn workers are spawned, so this is how code reaches them); its runs are counted
in the `job_run` table, each one recording the pid that ran it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import SETTINGS

# One-second ticks timed against the wall clock: run alone, not beside another pytest-xdist
# worker (see the Makefile); they read no date, so the clock-moved pass leaves them out.
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parent.parent
LEASE_SECONDS = 2.0

PROBE = """
import os

from apscheduler.triggers.interval import IntervalTrigger

from registry import scheduled_jobs


async def _probe(now, settings, scope):
    return {"pid": os.getpid()}


scheduled_jobs.JOBS["probe"] = scheduled_jobs.JobSpec(
    "probe", "test probe", lambda s: IntervalTrigger(seconds=1), _probe
)
"""


@dataclass
class Database:
    env: dict[str, str]
    sqlite_path: str | None = None
    url: str | None = None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.sqlite_path is not None:
            with contextlib.closing(sqlite3.connect(self.sqlite_path)) as connection:
                return connection.execute(sql).fetchall()

        async def fetch() -> list[tuple[Any, ...]]:
            connection = await asyncpg.connect(self.url)
            try:
                return [tuple(row) for row in await connection.fetch(sql)]
            finally:
                await connection.close()

        import asyncio

        return asyncio.run(fetch())


def _admin(sql: str) -> None:
    import asyncio

    async def run() -> None:
        connection = await asyncpg.connect(SETTINGS.database_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[Database]:
    """An empty database of the backend the suite runs on, dropped afterwards."""
    if not SETTINGS.database_url:
        path = str(tmp_path / "shared.sqlite")
        yield Database(
            env={"REGISTRY_SQLITE_PATH": path, "REGISTRY_DATABASE_URL": ""}, sqlite_path=path
        )
        return
    base, _, name = SETTINGS.database_url.rpartition("/")
    fresh = f"{name}_mp_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{fresh}"')
    url = f"{base}/{fresh}"
    try:
        yield Database(env={"REGISTRY_DATABASE_URL": url}, url=url)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:  # the process groups this test started, and only those
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
    for server in started:
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


def start_server(
    database: Database, servers: list[Server], tmp_path: Path, *, workers: int = 1
) -> Server:
    probe_dir = tmp_path / "probe"
    probe_dir.mkdir(exist_ok=True)
    (probe_dir / "sitecustomize.py").write_text(PROBE)
    port = _free_port()
    log = tmp_path / f"server-{port}.log"
    env = {
        **os.environ,
        **database.env,
        "PYTHONPATH": os.pathsep.join([str(probe_dir), str(ROOT)]),
        "REGISTRY_SCHEDULER": "1",
        "REGISTRY_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as out:
        command = [sys.executable, "-m", "registry.cli", "serve", "--port", str(port)]
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            cwd=tempfile.gettempdir(),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to stop it and its workers
        )
    server = Server(process, port, log)
    servers.append(server)
    return server


def wait_healthy(server: Server, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.output()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{server.port}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise AssertionError(f"server did not become healthy:\n{server.output()}")


def probe_runs(database: Database) -> list[tuple[int, float]]:
    """(pid, start time in seconds) of every scheduled probe run, in order."""
    rows = database.query(
        "SELECT summary, started_at, status FROM job_run "
        "WHERE job = 'probe' AND trigger = 'schedule' ORDER BY started_at"
    )
    runs = []
    for summary, started_at, status in rows:
        assert status in {"ok", "running"}, rows
        moment = started_at if not isinstance(started_at, str) else _parse(started_at)
        runs.append((json.loads(summary).get("pid", 0), moment.timestamp()))
    return runs


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def wait_runs(database: Database, count: int, timeout: float = 60, **where: int) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = probe_runs(database)
        if len([r for r in runs if r[0] != where.get("not_pid")]) >= count:
            return runs
        time.sleep(0.3)
    raise AssertionError(f"fewer than {count} probe runs: {probe_runs(database)}")


def assert_once_per_tick(runs: list[tuple[int, float]]) -> None:
    """One-second ticks run once each: a second process running them would add runs a few
    milliseconds apart, and more runs than ticks. (When a holder starts, after a take-over
    or a slow start, the tick it missed runs at once, so the next one may follow it closely:
    its first gap is a catch-up, still far from a duplicate's few milliseconds.)"""
    holders = [pid for pid, _ in runs]
    # One holder at a time: each holder's runs form one stretch.
    assert holders == sorted(holders, key=holders.index), holders
    for pid in set(holders):
        moments = [moment for holder, moment in runs if holder == pid]
        gaps = [b - a for a, b in itertools.pairwise(moments)]
        assert all(gap > 0.2 for gap in gaps[:1]), gaps  # the missed tick, then on time
        assert all(gap > 0.7 for gap in gaps[1:]), gaps
    span = runs[-1][1] - runs[0][1]
    assert len(runs) <= span + 2, (len(runs), span)


def kill_holder_and_check_takeover(
    database: Database, holder_pid: int, survivors: set[int] | None = None
) -> None:
    os.kill(holder_pid, signal.SIGKILL)
    killed_at = time.time()
    runs = wait_runs(database, 4, not_pid=holder_pid)
    after = [run for run in runs if run[0] != holder_pid]
    before = [run for run in runs if run[0] == holder_pid]
    assert before and after
    assert before[-1][1] < after[0][1]  # no run of the new holder overlaps the old one
    assert len({pid for pid, _ in after}) == 1, after  # one new holder
    if survivors is not None:
        assert after[0][0] in survivors
    # Taken over once the lease lapsed: within its length plus one retry, with some slack.
    assert after[0][1] - killed_at < LEASE_SECONDS * 1.5 + 3, (killed_at, after[0])
    assert_once_per_tick(runs)


def test_workers_of_one_server_run_each_tick_once_and_take_over(
    fresh_database: Database, servers: list[Server], tmp_path: Path
) -> None:
    server = start_server(fresh_database, servers, tmp_path, workers=2)
    wait_healthy(server)
    runs = wait_runs(fresh_database, 4)
    holders = {pid for pid, _ in runs}
    assert len(holders) == 1, runs
    assert_once_per_tick(runs)
    output = server.output()
    # Both workers started on the fresh database (they migrated it once between them) ...
    assert output.count("Application startup complete") == 2, output
    assert "Traceback" not in output and "already exists" not in output, output
    # ... and only one started a scheduler.
    assert output.count("scheduler started") == 1, output
    [(migrations,)] = fresh_database.query("SELECT count(*) FROM migration")
    [(distinct,)] = fresh_database.query("SELECT count(DISTINCT name) FROM migration")
    assert migrations == distinct > 0

    kill_holder_and_check_takeover(fresh_database, holders.pop())


def test_two_servers_on_one_database_run_each_tick_once_and_take_over(
    fresh_database: Database, servers: list[Server], tmp_path: Path
) -> None:
    first = start_server(fresh_database, servers, tmp_path)
    second = start_server(fresh_database, servers, tmp_path)
    assert first.port != second.port
    wait_healthy(first)
    wait_healthy(second)
    runs = wait_runs(fresh_database, 4)
    pids = {first.process.pid, second.process.pid}
    holders = {pid for pid, _ in runs}
    assert len(holders) == 1 and holders <= pids, (runs, pids)
    assert_once_per_tick(runs)
    [(holder,)] = fresh_database.query("SELECT holder FROM lease WHERE name = 'scheduler'")
    holder_pid = holders.pop()
    assert f":{holder_pid}:" in holder

    kill_holder_and_check_takeover(fresh_database, holder_pid, survivors=pids - {holder_pid})
    [(holder,)] = fresh_database.query("SELECT holder FROM lease WHERE name = 'scheduler'")
    assert f":{holder_pid}:" not in holder
