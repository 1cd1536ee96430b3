"""Event-loop stalls: `GET /health` latency, idle and while each heavy request runs.

    python bench/event_loop.py [--seconds 1.5] [--database-url postgresql://...]

Starts one single-worker uvicorn server of the registry on loopback (its own temporary SQLite
file, or the given PostgreSQL database) with the demo ambito loaded, adds the availability
window that made slot expansion slow (DAILY since 2000-01-01), then for each heavy request
(login with a wrong password, a far-away slots range, live filtered metrics, exports, the
report, imports, a QR render, a matching run...) sends it over and over for `--seconds` while
a probe fires `GET /health` every 20 ms. Each probe is sent on its own, not after the
previous answer, so a stalled event loop shows up as every probe queued behind the stall.
Prints the probes' median, p95 and max per request, and the p95 as a ratio to the idle p95 of
the same run, as a table and one JSON line.

tests/test_event_loop.py drives the same server and requests and asserts the p95 bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PROBE_INTERVAL = 0.02
PASSWORD = "demo-password"  # registry/demo.py DEMO_PASSWORD


@dataclass(frozen=True)
class Latency:
    probes: int
    median: float
    p95: float
    max: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        ordered = sorted(seconds)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(len(ordered), statistics.median(ordered), p95, ordered[-1])


@dataclass(frozen=True)
class Case:
    """A heavy request: `send` performs it once and fails unless it got `expected`."""

    name: str
    send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
    expected: int = 200


@dataclass(frozen=True)
class Outcome:
    case: str
    requests: int
    request_seconds: float  # median duration of the heavy request
    health: Latency


_ATTEMPTS = itertools.count(1)


def _wrong_login(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
    """A failed login: the password is still checked (argon2, against a stand-in hash for an
    unknown user). Each from its own user and address (X-Forwarded-For, which uvicorn takes
    from loopback), or the login throttle (10 failures a user, 20 an address in 15 minutes)
    answers 429 without checking anything once a fast machine has sent enough."""
    n = next(_ATTEMPTS)
    return client.post(
        "/api/auth/token",
        json={"username": f"nessuno-{n}", "password": "wrong-pw"},
        headers={"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"},
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(workdir: str, database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "REGISTRY_SCHEDULER": "0",
        "REGISTRY_SQLITE_PATH": os.path.join(workdir, "event_loop.sqlite"),
        # The server imports the registry next to this file (a worktree of another commit).
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REGISTRY_DATABASE_URL", None)
    if database_url:
        env["REGISTRY_DATABASE_URL"] = database_url
    return env


@contextlib.asynccontextmanager
async def running_registry(database_url: str | None = None) -> AsyncIterator[str]:
    """A uvicorn server of the registry with the demo ambito; yields its base URL."""
    workdir = tempfile.mkdtemp(prefix="registry-event-loop-")
    env = _env(workdir, database_url)
    subprocess.run(
        [sys.executable, "-m", "registry.cli", "demo"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "registry.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(400):
                if process.poll() is not None:
                    raise RuntimeError(process.stderr.read().decode() if process.stderr else "")
                try:
                    if (await client.get(f"{base}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"{base} did not come up")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _ok(response: httpx.Response, status: int = 200) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return response


def _items(body: Any) -> list[Any]:
    return body["items"] if isinstance(body, dict) else body


async def prepare(client: httpx.AsyncClient) -> list[Case]:
    """Log in, add the slow availability window, issue a QR code, take the files to import;
    returns the heavy requests (each leaves the data as it found it, or adds a draft run)."""

    async def token(username: str) -> dict[str, str]:
        body = _ok(
            await client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
        ).json()
        return {"Authorization": f"Bearer {body['access_token']}"}

    udp = await token("udp")
    resource = _items(_ok(await client.get("/api/resources/?limit=1", headers=udp)).json())[0]
    # A holder's window valid since 2000: slot expansion used to walk every day since then.
    _ok(
        await client.post(
            f"/api/resources/{resource['id']}/availability",
            json={
                "freq": "DAILY",
                "start_time": "09:00",
                "end_time": "12:00",
                "valid_from": "2000-01-01",
            },
            headers=udp,
        ),
        201,
    )
    activities = _items(_ok(await client.get("/api/activities/?limit=50", headers=udp)).json())
    activity = next(a for a in activities if a["status"] != "cancelled")
    code = _ok(
        await client.post(
            "/api/checkin/codes",
            json={"activity_id": activity["id"], "holder_id": activity["holder_ids"][0]},
            headers=udp,
        ),
        201,
    ).json()
    hsds = _ok(await client.get("/api/interop/hsds/export", headers=udp)).content
    resources_csv = _ok(
        await client.get("/api/interop/export/resources?format=csv", headers=udp)
    ).content
    suggestion_url = None
    for plan in _items(_ok(await client.get("/api/plans/?limit=50", headers=udp)).json()):
        needs = _items(_ok(await client.get(f"/api/plans/{plan['id']}/needs", headers=udp)).json())
        if needs:
            suggestion_url = f"/api/plans/{plan['id']}/needs/{needs[0]['id']}/suggestions"
            break
    filtered = "live=true&area=anziani"

    def get(url: str) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
        return lambda c: c.get(url, headers=udp)

    cases = [
        Case("login with a wrong password", _wrong_login, 401),
        Case(
            "slots 9999-01-01..9999-12-31",
            get(f"/api/resources/{resource['id']}/slots?from=9999-01-01&to=9999-12-31"),
        ),
        Case("metrics summary, live, filtered", get(f"/api/metrics/summary?{filtered}")),
        Case("metrics timeseries, live", get("/api/metrics/timeseries?live=true")),
        Case("metrics network, live", get("/api/metrics/network?live=true")),
        Case("metrics export.xlsx, live", get("/api/metrics/export.xlsx?live=true")),
        Case("metrics report.html, live", get("/api/metrics/report.html?live=true")),
        Case("resources export xlsx", get("/api/interop/export/resources?format=xlsx")),
        Case("HSDS export (data package)", get("/api/interop/hsds/export?format=datapackage")),
        Case(
            "resources spreadsheet import (dry run)",
            lambda c: c.post(
                "/api/interop/resources/import?dry_run=true&filename=risorse.csv",
                content=resources_csv,
                headers=udp,
            ),
        ),
        Case(
            "HSDS import (dry run)",
            lambda c: c.post(
                "/api/interop/hsds/import?dry_run=true&filename=hsds.json",
                content=hsds,
                headers=udp,
            ),
        ),
        Case("QR png, scale 40", get(f"/api/checkin/qr.png?t={code['token']}&scale=40")),
        Case("QR printable sheet", get(f"/api/checkin/sheet?t={code['token']}")),
        Case(
            "matching run",
            lambda c: c.post("/api/matching/runs/", json={}, headers=udp),
            201,
        ),
    ]
    if suggestion_url:
        cases.append(Case("matching suggestions for a need", get(suggestion_url)))
    return cases


async def _probe(client: httpx.AsyncClient, latencies: list[float]) -> None:
    started = time.perf_counter()
    response = await client.get("/health")
    response.raise_for_status()
    latencies.append(time.perf_counter() - started)


async def measure(base: str, case: Case | None, seconds: float, *, timeout: float = 300) -> Outcome:
    """Send `case` over and over for `seconds` (at least once) while probing /health."""
    latencies: list[float] = []
    durations: list[float] = []
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=50)
    async with (
        httpx.AsyncClient(base_url=base, timeout=timeout) as heavy,
        httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as probes,
    ):
        await _probe(probes, [])  # open a connection before timing
        done = asyncio.Event()

        async def load() -> None:
            try:
                started = time.perf_counter()
                while not durations or time.perf_counter() - started < seconds:
                    if case is None:
                        await asyncio.sleep(seconds)
                        durations.append(seconds)
                        continue
                    sent = time.perf_counter()
                    response = await case.send(heavy)
                    durations.append(time.perf_counter() - sent)
                    if response.status_code != case.expected:
                        raise AssertionError(
                            f"{case.name}: {response.status_code} {response.text[:300]}"
                        )
            finally:
                done.set()

        loader = asyncio.create_task(load())
        pending: set[asyncio.Task[None]] = set()
        while not done.is_set():
            task = asyncio.create_task(_probe(probes, latencies))
            pending.add(task)
            task.add_done_callback(pending.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), PROBE_INTERVAL)
        await loader
        await asyncio.gather(*pending)
    return Outcome(
        case.name if case else "idle",
        len(durations) if case else 0,
        statistics.median(durations),
        Latency.of(latencies),
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.5, help="load per heavy request")
    parser.add_argument("--database-url", help="a PostgreSQL database (default: temp SQLite)")
    parser.add_argument("--only", help="run only the cases whose name contains this text")
    args = parser.parse_args()

    async with running_registry(args.database_url) as base:
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            cases = await prepare(client)
        idle = await measure(base, None, args.seconds)
        outcomes = [idle]
        for case in cases:
            if args.only and args.only not in case.name:
                continue
            outcomes.append(await measure(base, case, args.seconds))
            print(f"  measured: {case.name}", file=sys.stderr)

    ms = 1000
    print(f"registry at {ROOT} ({'PostgreSQL' if args.database_url else 'SQLite'})")
    print(
        f"{'/health while ...':<40} {'reqs':>5} {'req s':>7} {'median ms':>10} {'p95 ms':>8} "
        f"{'max ms':>8} {'p95/idle':>9}"
    )
    for o in outcomes:
        print(
            f"{o.case:<40} {o.requests:>5} {o.request_seconds if o.requests else 0:>7.2f} "
            f"{o.health.median * ms:>10.1f} {o.health.p95 * ms:>8.1f} {o.health.max * ms:>8.1f} "
            f"{o.health.p95 / idle.health.p95:>9.1f}"
        )
    print(
        json.dumps(
            {
                o.case: {
                    "requests": o.requests,
                    "request_s": round(o.request_seconds, 3) if o.requests else None,
                    "median_ms": round(o.health.median * ms, 1),
                    "p95_ms": round(o.health.p95 * ms, 1),
                    "max_ms": round(o.health.max * ms, 1),
                    "p95_ratio_to_idle": round(o.health.p95 / idle.health.p95, 2),
                }
                for o in outcomes
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
