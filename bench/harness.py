"""What the HTTP benchmarks share: a fresh database with the demo ambito, single-worker
uvicorn servers on loopback (the registry and a bare Litestar app), and wrk.

SQLite: a temporary file. PostgreSQL: the database named by --database-url (default
REGISTRY_BENCH_DATABASE_URL), dropped and created anew, so its name must contain "bench".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = os.environ.get(
    "REGISTRY_BENCH_DATABASE_URL", "postgresql://registry:registry@127.0.0.1:5432/registry_bench"
)
BARE_APP = """
from litestar import Litestar, get

@get("/bare", sync_to_thread=False)
def bare() -> dict:
    return {"status": "ok"}

app = Litestar([bare])
"""
PASSWORD = "demo-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    """wrk's path; installed with apt-get (Debian package "wrk") when missing and root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet).returncode:
            subprocess.run(["apt-get", "update", "-qq"], **quiet)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, **quiet)
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is needed (Debian: apt-get install wrk)")
    return found


async def _recreate_postgres(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    if "bench" not in name:
        sys.exit(
            f"the benchmark drops its PostgreSQL database: its name must contain 'bench' ({name})"
        )
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


@dataclass
class Backend:
    """One database for one benchmark run, with the environment its servers get."""

    name: str  # "sqlite" or "postgresql"
    env: dict[str, str]
    workdir: str

    @classmethod
    def make(cls, name: str, database_url: str | None = None) -> Backend:
        workdir = tempfile.mkdtemp(prefix="registry-bench-")
        env = {
            **os.environ,
            "REGISTRY_SCHEDULER": "0",
            "REGISTRY_SECRET_KEY": "bench-secret-key-" + os.urandom(24).hex(),
            "PYTHONPATH": str(ROOT),
        }
        env.pop("REGISTRY_DATABASE_URL", None)
        env.pop("REGISTRY_DATABASE_READ_URL", None)
        env.pop("REGISTRY_DATABASE_READ_URLS", None)
        if name == "postgresql":
            env["REGISTRY_DATABASE_URL"] = database_url or DEFAULT_PG_URL
        else:
            env["REGISTRY_SQLITE_PATH"] = os.path.join(workdir, "bench.sqlite")
        return cls(name, env, workdir)

    def run_python(self, code: str) -> str:
        """A snippet in a fresh interpreter with this backend's environment (the seeding must
        not leave engines bound in the benchmark's own process)."""
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=self.env,
            cwd=str(ROOT),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(done.stderr[-3000:])
        return done.stdout

    async def seed(self, extra_resources: int) -> dict[str, Any]:
        """The demo ambito and `extra_resources` more resources; returns ids the runs need."""
        if self.name == "postgresql":
            await _recreate_postgres(self.env["REGISTRY_DATABASE_URL"])
        out = self.run_python(SEED.replace("EXTRA", str(extra_resources)))
        return dict(line.split("=", 1) for line in out.split() if "=" in line)


SEED = """
import asyncio
from registry import db
from registry.config import load_settings
from registry.demo import load_demo
from registry.taxonomy.service import ensure_seeded

async def main():
    engine = db.make_engine(load_settings())
    db.bind(engine)
    await db.start(engine)
    await db.migrate(then=ensure_seeded)
    await load_demo()
    from registry.resources.tables import Resource
    from registry.holders.tables import Holder
    template = await Resource.select().first()
    template.pop("id")
    rows = [Resource(**{**template, "title": f"Risorsa di prova {i:05d}"}) for i in range(EXTRA)]
    for start in range(0, len(rows), 500):
        await Resource.insert(*rows[start:start + 500])
    first = await Resource.select(Resource.id).order_by(Resource.title).first()
    print(f"resource_id={first['id']}")
    await db.stop(engine)

asyncio.run(main())
"""


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path


@dataclass
class Servers:
    backend: Backend
    started: list[Server] = field(default_factory=list)

    def start(
        self, target: list[str], cwd: str, workers: int = 1, env: dict[str, str] | None = None
    ) -> Server:
        port = free_port()
        log = Path(self.backend.workdir, f"server-{port}.log")
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            *target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        if workers > 1:
            args += ["--workers", str(workers)]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                args, env=env or self.backend.env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=sink
            )
        server = Server(process, f"http://127.0.0.1:{port}", log)
        self.started.append(server)
        return server

    def registry(self, workers: int = 1, env: dict[str, str] | None = None) -> Server:
        return self.start(["registry.app:create_app", "--factory"], str(ROOT), workers, env)

    def bare(self) -> Server:
        Path(self.backend.workdir, "bare_app.py").write_text(BARE_APP)
        return self.start(["bare_app:app"], self.backend.workdir)

    def stop_all(self) -> None:
        for server in self.started:
            server.process.terminate()
        for server in self.started:
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()
        self.started.clear()


@contextlib.contextmanager
def servers(backend: Backend) -> Iterator[Servers]:
    running = Servers(backend)
    try:
        yield running
    finally:
        running.stop_all()


async def wait_ready(server: Server, path: str = "/health") -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if server.process.poll() is not None:
                raise RuntimeError(server.log.read_text()[-3000:])
            try:
                if (await client.get(server.base + path)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{server.base}{path} did not come up")


async def login(base: str, username: str) -> str:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{base}/api/auth/token", json={"username": username, "password": PASSWORD}
        )
        answer.raise_for_status()
        return answer.json()["access_token"]


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors and non-2xx/3xx answers
    requests: int = 0
    # CPU time the server process (and its children) spent per answered request: on a
    # shared machine throughput follows the neighbours' load, this much less.
    cpu_ms_per_request: float = float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of its waited-for children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """cpu_seconds of a process and of every live descendant (uvicorn's workers and their
    worker processes), Linux /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += cpu_seconds(current)
        except OSError:
            continue  # ended meanwhile
        pending += children.get(current, [])
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    rate = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / rate, sum(ticks) / rate


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    *,
    seconds: float,
    threads: int = 2,
    connections: int = 16,
    headers: dict[str, str] | None = None,
    script: str | None = None,
    workdir: str = ".",
    server_pid: int | None = None,
) -> WrkResult:
    args = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    if script is not None:
        path = Path(workdir, f"wrk-{abs(hash(script))}.lua")
        path.write_text(script)
        args += ["-s", str(path)]
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(server_pid) - cpu_before if server_pid else float("nan")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(found.group(1))
    if found := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        errors += sum(int(n) for n in found.groups())
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return WrkResult(rate, p50, p99, errors, count, 1000 * cpu / max(count, 1))
