"""A Region on one PostgreSQL: does one ambito stay as fast when 89 others share its tables?

    python bench/region.py [--ambiti 90] [--ledger 100000] [--resources 10000] [--full]
        [--repeat 20] [--database-url postgresql://...bench...]

Issue 18 asks for 90 ambiti, 10,000,000 ledger entries and 1,000,000 resources (`--full`);
the default is the same region at 1/100 of the rows, which builds in a minute. Steps:

1. a fresh PostgreSQL database with the demo ambito; one uvicorn process of the registry;
   the demo ambito's dashboard (metrics summary), resource list, a resource, suggestions for
   a need, timed one request at a time (median of `--repeat`, fewer for the dashboard; the
   best of two server starts);
2. the region is added with set-based SQL (INSERT ... SELECT generate_series: every other
   ambito with one holder, its resources and its ledger entries, spread over two years),
   then ANALYZE, and the server is started again;
3. the same requests for the same ambito, timed again: each median beside the single-ambito
   one, as a ratio (target ≤ 1.5).

Loopback only; prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import asyncpg
import httpx
from harness import DEFAULT_PG_URL, Backend, login, servers, wait_ready
from load import prepare

TARGET_RATIO = 1.5


async def columns(connection: asyncpg.Connection, table: str) -> list[str]:
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
        "AND table_schema = 'public' ORDER BY ordinal_position",
        table,
    )
    return [r["column_name"] for r in rows]


async def clone(
    connection: asyncpg.Connection,
    table: str,
    source_where: str,
    series: str,
    overrides: dict[str, str],
    args: tuple[Any, ...] = (),
) -> None:
    """INSERT INTO table copies of one source row, one per row of `series` (FROM clause
    items after the source, e.g. "generate_series(1, 100) g"), with some columns computed."""
    names = await columns(connection, table)
    select = ", ".join(overrides.get(n, f'src."{n}"') for n in names)
    quoted = ", ".join(f'"{n}"' for n in names)
    await connection.execute(
        f'INSERT INTO "{table}" ({quoted}) SELECT {select} FROM "{table}" src, {series} '
        f"WHERE {source_where}",
        *args,
    )


async def build_region(url: str, ambiti: int, ledger: int, resources: int) -> dict[str, float]:
    connection = await asyncpg.connect(url)
    timings: dict[str, float] = {}
    try:
        demo = await connection.fetchrow("SELECT id FROM ambito ORDER BY code LIMIT 1")
        holder = await connection.fetchrow(
            "SELECT id FROM holder WHERE ambito = $1 ORDER BY name LIMIT 1", demo["id"]
        )
        resource = await connection.fetchrow(
            "SELECT id FROM resource WHERE ambito = $1 LIMIT 1", demo["id"]
        )
        entry = await connection.fetchrow(
            "SELECT id FROM contribution WHERE ambito = $1 AND kind = 'entry' LIMIT 1",
            demo["id"],
        )
        others = ambiti - 1
        started = time.monotonic()
        async with connection.transaction():
            await connection.execute(
                "CREATE TEMP TABLE region_map (n int PRIMARY KEY, ambito uuid, holder uuid)"
            )
            await connection.execute(
                "INSERT INTO region_map SELECT g, gen_random_uuid(), gen_random_uuid() "
                "FROM generate_series(1, $1) g",
                others,
            )
            await clone(
                connection,
                "ambito",
                "src.id = $1 AND m.n IS NOT NULL",
                "region_map m",
                {
                    "id": "m.ambito",
                    "code": "'REG' || lpad(m.n::text, 3, '0')",
                    "name": "'Ambito della regione ' || m.n",
                },
                (demo["id"],),
            )
            await clone(
                connection,
                "holder",
                "src.id = $1 AND m.n IS NOT NULL",
                "region_map m",
                {"id": "m.holder", "ambito": "m.ambito"},
                (holder["id"],),
            )
            # Resources and entries go round the other ambiti: g % others picks one.
            await clone(
                connection,
                "resource",
                "src.id = $1 AND m.n = 1 + g % $2",
                "generate_series(1, $3) g JOIN region_map m ON m.n = 1 + g % $2",
                {
                    "id": "gen_random_uuid()",
                    "ambito": "m.ambito",
                    "holder": "m.holder",
                    "title": "'Risorsa ' || g",
                },
                (resource["id"], others, resources),
            )
            await clone(
                connection,
                "contribution",
                "src.id = $1 AND m.n = 1 + g % $2",
                "generate_series(1, $3) g JOIN region_map m ON m.n = 1 + g % $2",
                {
                    "id": "gen_random_uuid()",
                    "ambito": "m.ambito",
                    "holder": "m.holder",
                    "volunteer": "NULL",
                    "resource": "NULL",
                    "activity": "NULL",
                    "match_id": "NULL",
                    "need_id": "NULL",
                    "plan_id": "NULL",
                    "corrects": "NULL",
                    "idempotency_key": "NULL",
                    "request_hash": "NULL",
                    "occurred_on": "src.occurred_on - (g % 730)",
                },
                (entry["id"], others, ledger),
            )
        timings["build_seconds"] = time.monotonic() - started
        started = time.monotonic()
        await connection.execute("ANALYZE")
        timings["analyze_seconds"] = time.monotonic() - started
        timings["ledger_rows"] = await connection.fetchval("SELECT count(*) FROM contribution")
        timings["resource_rows"] = await connection.fetchval("SELECT count(*) FROM resource")
    finally:
        await connection.close()
    return timings


async def measure(backend: Backend, repeat: int, rounds: int = 2) -> dict[str, float]:
    """Each request's median time, the best of `rounds` server starts (a shared machine's
    noise only ever adds time)."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        for label, ms in (await _measure_once(backend, repeat)).items():
            best[label] = min(ms, best.get(label, ms))
    return best


async def _measure_once(backend: Backend, repeat: int) -> dict[str, float]:
    with servers(backend) as running:
        registry = running.registry()
        await wait_ready(registry)
        ready = await prepare(registry.base)
        udp = {"Authorization": f"Bearer {await login(registry.base, 'udp')}"}
        worker = {"Authorization": f"Bearer {ready['tokens']['assistente']}"}
        async with httpx.AsyncClient(base_url=registry.base, timeout=120) as client:
            first = (await client.get("/api/resources?limit=1", headers=udp)).json()["items"][0]
            cases = [
                ("dashboard: GET /api/metrics/summary", "/api/metrics/summary", udp, 3),
                ("GET /api/resources?limit=50", "/api/resources?limit=50", udp, repeat),
                ("GET /api/resources/{id}", f"/api/resources/{first['id']}", udp, repeat),
                ("GET .../needs/{id}/suggestions", ready["suggestions"], worker, repeat),
            ]
            medians: dict[str, float] = {}
            for label, path, headers, times in cases:
                (await client.get(path, headers=headers)).raise_for_status()  # warm-up
                spent = []
                for _ in range(max(times, 1)):
                    started = time.perf_counter()
                    (await client.get(path, headers=headers)).raise_for_status()
                    spent.append((time.perf_counter() - started) * 1000)
                medians[label] = statistics.median(spent)
    return medians


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--ambiti", type=int, default=90)
    parser.add_argument("--ledger", type=int, default=100_000)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument(
        "--full", action="store_true", help="10,000,000 entries, 1,000,000 resources"
    )
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    if args.full:
        args.ledger, args.resources = 10_000_000, 1_000_000
    backend = Backend.make("postgresql", args.database_url)
    await backend.seed(0)
    single = await measure(backend, args.repeat)
    built = await build_region(
        backend.env["REGISTRY_DATABASE_URL"], args.ambiti, args.ledger, args.resources
    )
    region = await measure(backend, args.repeat)
    print(
        f"\nRegion on one PostgreSQL: {args.ambiti} ambiti, {built['ledger_rows']:,} ledger "
        f"entries, {built['resource_rows']:,} resources (built in {built['build_seconds']:.0f} s,"
        f" ANALYZE {built['analyze_seconds']:.0f} s); one ambito's requests, median ms"
    )
    print(f"{'request':<40}{'single':>10}{'region':>10}{'ratio':>8}{'target':>8}")
    ratios = {}
    for label in single:
        ratios[label] = region[label] / single[label]
        print(
            f"{label:<40}{single[label]:>10.1f}{region[label]:>10.1f}{ratios[label]:>8.2f}"
            f"{'≤' + str(TARGET_RATIO):>8}"
        )
    print(
        json.dumps(
            {
                "bench": "region",
                "ambiti": args.ambiti,
                **built,
                "single_ms": single,
                "region_ms": region,
                "ratio": ratios,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
