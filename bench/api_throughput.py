"""Throughput of the registry's HTTP path against a bare Litestar endpoint, same run, with wrk.

    python bench/api_throughput.py [--backend sqlite|postgresql|both] [--seconds 10]
        [--connections 16] [--threads 2] [--resources 80] [--database-url postgresql://...]

A load generator written in Python saturates before the server does (it saw the bare
endpoint at 557 req/s, a tenth of what the server answers), so the load comes from wrk
(Debian package "wrk", installed when missing and root). Each backend gets a fresh database
with the demo ambito and `--resources` more resources, one single-worker uvicorn server of
the registry and one of a bare Litestar app. The bare endpoint is measured before, between
and after the endpoints: it is the generator's and the machine's ceiling in this run, and
every figure is printed as a ratio to it, beside the issue 18 baseline and target. The
server's CPU time per request (from /proc) gives the same ratio a second way: on a machine
shared with other work, req/s follows the neighbours' load; CPU time per request much less.
One table per backend and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from datetime import timedelta

from harness import Backend, login, servers, wait_ready, wrk

from registry import italian

# Issue 18, measured with wrk (2 threads, 16 connections, 10 s, SQLite, demo + 80 resources)
# before this work: the ratio to the bare endpoint, and the target.
BASELINE = {
    "GET /health (no database)": (0.74, None),
    "GET /api/users/me (authentication only)": (0.097, None),
    "GET /api/resources?limit=1": (0.063, None),
    "GET /api/resources?limit=50": (0.029, 0.25),
    "GET /api/resources/{id}": (None, 0.40),
    "POST /api/contributions (ledger write)": (0.020, 0.15),
}

# Every request a new Idempotency-Key (the wrk run, thread number and counter): each one is a
# new entry. The run's start time keeps the warm-up's keys out of the measured run, whose
# counters start again at 1 (they were replays, answered by another path).
POST_SCRIPT = """
local counter = 0
local threads = 0
local started = os.time()
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer TOKEN"
  headers["Idempotency-Key"] = "bench-RUN-" .. started .. "-" .. tid .. "-" .. counter
  return wrk.format("POST", "/api/contributions", headers, 'BODY')
end
"""


async def run_backend(name: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    backend = Backend.make(name, args.database_url)
    ids = await backend.seed(args.resources)
    with servers(backend) as running:
        registry, bare = running.registry(), running.bare()
        await wait_ready(registry)
        await wait_ready(bare, "/bare")
        udp = {"Authorization": f"Bearer {await login(registry.base, 'udp')}"}
        holder_token = await login(registry.base, "auser")
        body = json.dumps(
            {
                "unit": "hours",
                "quantity": 2,
                "occurred_on": str(italian.today() - timedelta(days=1)),
            }
        )
        post = (
            POST_SCRIPT.replace("TOKEN", holder_token)
            .replace("RUN", backend.workdir.rsplit("-", 1)[-1])
            .replace("BODY", body)
        )
        api = registry.base
        cases: list[tuple[str, str, dict[str, str], str | None]] = [
            ("GET /health (no database)", f"{api}/health", {}, None),
            ("GET /api/users/me (authentication only)", f"{api}/api/users/me", udp, None),
            ("GET /api/resources?limit=1", f"{api}/api/resources?limit=1", udp, None),
            ("GET /api/resources?limit=50", f"{api}/api/resources?limit=50", udp, None),
            ("GET /api/resources/{id}", f"{api}/api/resources/{ids['resource_id']}", udp, None),
            ("POST /api/contributions (ledger write)", f"{api}/api/contributions", {}, post),
        ]

        def measure(
            url: str, headers: dict[str, str], script: str | None, pid: int
        ) -> dict[str, float]:
            result = wrk(
                url,
                seconds=args.seconds,
                threads=args.threads,
                connections=args.connections,
                headers=headers,
                script=script,
                workdir=backend.workdir,
                server_pid=pid,
            )
            return {
                "cpu_ms": result.cpu_ms_per_request,
                "rps": result.requests_per_second,
                "p50_ms": result.p50_ms,
                "p99_ms": result.p99_ms,
                "errors": result.errors,
            }

        bare_url = f"{bare.base}/bare"
        reg_pid, bare_pid = registry.process.pid, bare.process.pid
        measure(bare_url, {}, None, bare_pid)  # warm-up of both servers' code paths and of wrk
        for _, url, headers, script in cases:
            wrk(url, seconds=1, headers=headers, script=script, workdir=backend.workdir)
        results: dict[str, dict[str, float]] = {}
        bare_runs: list[float] = []
        bare_cpu: list[float] = []
        # Bare and endpoints alternate: the ceiling is measured as close as possible to each.
        for number, (label, url, headers, script) in enumerate(cases):
            if number % 2 == 0:
                figures = measure(bare_url, {}, None, bare_pid)
                bare_runs.append(figures["rps"])
                bare_cpu.append(figures["cpu_ms"])
            results[label] = measure(url, headers, script, reg_pid)
        figures = measure(bare_url, {}, None, bare_pid)
        bare_runs.append(figures["rps"])
        bare_cpu.append(figures["cpu_ms"])
    bare_rps = statistics.mean(bare_runs)
    bare_cpu_ms = statistics.median(bare_cpu)
    bare_row = {"rps": bare_rps, "cpu_ms": bare_cpu_ms, "p50_ms": 0, "p99_ms": 0, "errors": 0}
    results = {"bare Litestar endpoint": bare_row} | results
    for figures in results.values():
        figures["ratio"] = figures["rps"] / bare_rps
        # The same ratio from the server's CPU time per request: what one process would
        # reach when CPU-bound, much steadier than req/s on a shared machine.
        figures["cpu_ratio"] = bare_cpu_ms / figures["cpu_ms"]
    print(
        f"\nHTTP throughput, {name}: wrk -t{args.threads} -c{args.connections} "
        f"-d{args.seconds:g}s, "
        f"one uvicorn worker each, demo ambito + {args.resources} resources; bare endpoint runs: "
        + ", ".join(f"{r:.0f}" for r in bare_runs)
        + " req/s"
    )
    print(
        f"{'endpoint':<44}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'err':>5}{'× bare':>8}"
        f"{'before':>8}{'target':>8}"
    )
    for label, figures in results.items():
        before, target = BASELINE.get(label, (None, None))
        print(
            f"{label:<44}{figures['rps']:>8.0f}{figures['p50_ms']:>8.1f}{figures['p99_ms']:>8.1f}"
            f"{figures['errors']:>5.0f}{figures['ratio']:>8.3f}"
            f"{figures['cpu_ms']:>8.2f}{figures['cpu_ratio']:>8.3f}"
            f"{'' if before is None else f'{before:.3f}':>8}"
            f"{'' if target is None else f'≥{target:.2f}':>8}"
        )
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--resources", type=int, default=80)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL; its name must contain 'bench'"
    )
    args = parser.parse_args()
    names = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    report = {name: await run_backend(name, args) for name in names}
    print(
        json.dumps(
            {
                "bench": "api_throughput",
                "generator": "wrk",
                "seconds": args.seconds,
                "connections": args.connections,
                "results": {
                    name: {
                        label: {k: round(v, 3) for k, v in f.items()} for label, f in rows.items()
                    }
                    for name, rows in report.items()
                },
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
