"""Throughput of the registry's read endpoints against a bare Litestar endpoint, same run.

    python bench/api_throughput.py [--requests 3000] [--concurrency 16] [--resources 2000]

Starts two single-worker uvicorn servers on loopback (the registry, on a fresh SQLite file
or on REGISTRY_DATABASE_URL, and a bare Litestar app), drives both with the same HTTP client
and prints requests/s and the ratio to the bare endpoint, as a table and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = """
from litestar import Litestar, get

@get("/bare", sync_to_thread=False)
def bare() -> dict:
    return {"status": "ok"}

app = Litestar([bare])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], env: dict[str, str], cwd: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *args, "--log-level", "warning", "--no-access-log"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def wait_ready(url: str, process: subprocess.Popen) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "died")
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def hammer(url: str, headers: dict[str, str], requests: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=30) as client:
        for _ in range(50):  # warm-up
            (await client.get(url)).raise_for_status()
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                (await client.get(url)).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        return requests / (time.perf_counter() - started)


async def seed(env: dict[str, str], extra_resources: int) -> None:
    os.environ.update(env)
    from registry import db
    from registry.config import load_settings
    from registry.demo import load_demo

    engine = db.make_engine(load_settings())
    db.bind(engine)
    await db.start(engine)
    await db.migrate()
    await load_demo()
    from registry.resources.tables import Resource

    template = await Resource.select().first()
    template.pop("id")
    rows = [
        Resource(**{**template, "title": f"Risorsa di prova {i:05d}"})
        for i in range(extra_resources)
    ]
    for start_at in range(0, len(rows), 500):
        await Resource.insert(*rows[start_at : start_at + 500])
    await db.stop(engine)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--resources", type=int, default=2000)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="registry-bench-")
    env = {
        **os.environ,
        "REGISTRY_SCHEDULER": "0",
        "REGISTRY_SQLITE_PATH": os.path.join(workdir, "bench.sqlite"),
        "PYTHONPATH": str(ROOT),
    }
    await seed(env, args.resources)
    Path(workdir, "bare_app.py").write_text(BARE_APP)

    registry_port, bare_port = free_port(), free_port()
    registry = start(
        ["registry.app:create_app", "--factory", "--port", str(registry_port)], env, str(ROOT)
    )
    bare = start(["bare_app:app", "--port", str(bare_port)], env, workdir)
    try:
        base = f"http://127.0.0.1:{registry_port}"
        await wait_ready(f"{base}/health", registry)
        await wait_ready(f"http://127.0.0.1:{bare_port}/bare", bare)
        async with httpx.AsyncClient() as client:
            login = await client.post(
                f"{base}/api/auth/token", json={"username": "udp", "password": "demo-password"}
            )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        cases = [
            ("bare Litestar endpoint", f"http://127.0.0.1:{bare_port}/bare", {}),
            ("GET /health (no database)", f"{base}/health", {}),
            ("GET /api/resources?limit=50", f"{base}/api/resources?limit=50", auth),
            (
                "GET /api/resources?limit=50&category=servizi",
                f"{base}/api/resources?limit=50&category=servizi",
                auth,
            ),
            ("GET /api/resources/{id}", None, auth),
        ]
        async with httpx.AsyncClient(headers=auth) as client:
            first = (await client.get(f"{base}/api/resources?limit=1")).json()["items"][0]
        results: dict[str, float] = {}
        for name, url, headers in cases:
            url = url or f"{base}/api/resources/{first['id']}"
            results[name] = await hammer(url, headers, args.requests, args.concurrency)
    finally:
        for process in (registry, bare):
            process.terminate()
            process.wait(timeout=10)

    baseline = results["bare Litestar endpoint"]
    backend = "postgresql" if env.get("REGISTRY_DATABASE_URL") else "sqlite"
    print(
        f"\nAPI throughput, {backend}, {args.requests} requests, concurrency "
        f"{args.concurrency}, {args.resources + 15} resources, one uvicorn worker each"
    )
    print(f"{'endpoint':<48}{'req/s':>10}{'× bare':>10}")
    for name, rate in results.items():
        print(f"{name:<48}{rate:>10.0f}{rate / baseline:>10.2f}")
    print(
        json.dumps(
            {
                "bench": "api_throughput",
                "backend": backend,
                "requests_per_second": {k: round(v, 1) for k, v in results.items()},
                "ratio_to_bare": {k: round(v / baseline, 3) for k, v in results.items()},
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
