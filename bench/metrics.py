"""Benchmark of the metrics on a synthetic ambito with a large contribution ledger.

    python bench/metrics.py [--entries 1000000 --seed 7]
    REGISTRY_DATABASE_URL=postgresql://.../registry_bench_x python bench/metrics.py

Builds a fresh database (a temporary SQLite file, or the PostgreSQL database named by
REGISTRY_DATABASE_URL, which is wiped: its name must contain "bench" or "test"), writes a
synthetic ambito (holders, volunteers, resources, plans, needs, matches, interventions,
activities, interactions) and N ledger entries over three years with executemany (SQLite)
or COPY (PostgreSQL), then times in the same run:

- one full scan of the ledger table with raw SQL (the yardstick);
- the summary and the monthly time series computed live from the ledger (aggregate SQL);
- filtered requests (a comune, an area, a sector, a holder kind; a year, 36 months, and six
  months that are not a calendar period), each also as a ratio to the full scan: computed
  all live, then served from the month snapshots (a period without a snapshot of its own
  from the stored month facts), then after one new entry (its month, quarter and year
  computed from the month facts, that month's completed with the entry written since),
  then again once the job has run after that entry, then after one need recorded (the
  reference data changed: each snapshot's tables that do not read the needs still serve,
  its need tables are computed again from the month facts and the needs);
- the snapshot job: first run, rerun with nothing changed, run after one new entry (its
  figures and network recomputed only where the entry falls, the network from its month
  on);
- the summary and the time series the dashboard gets, served from the snapshots, through
  the HTTP API in-process.

Targets: the dashboard answers faster than one full scan; a filtered request in at most 1 s
at 1,000,000 entries; the snapshot job under 60 s there. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["REGISTRY_SCHEDULER"] = "0"
os.environ.setdefault("REGISTRY_SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")

import httpx

from registry import db
from registry.access import Principal, Role
from registry.ambiti.schemas import ComuneIn
from registry.ambiti.service import add_comuni, create_ambito
from registry.api.auth import AUDIENCE
from registry.app import create_app
from registry.config import load_settings
from registry.contributions.tables import Contribution
from registry.metrics import service
from registry.metrics.compute import Period
from registry.plans.tables import Need
from registry.security import issue
from registry.taxonomy.service import ensure_seeded

KINDS = [
    ("association", "third_sector", 40),
    ("social_cooperative", "third_sector", 8),
    ("parish", "third_sector", 8),
    ("informal_network", "informal", 8),
    ("individual_volunteer", "informal", 20),
    ("school", "public", 4),
    ("company", "business", 6),
    ("public_office", "public", 6),
]
CATEGORIES = [
    "compagnia-ascolto",
    "sostegno-scolastico",
    "lingua-italiana",
    "supporto-digitale",
    "trasporto",
    "accompagnamento",
    "consegna-spesa",
    "animazione",
    "sollievo",
    "tutoraggio",
]
AREAS = ["anziani", "disabili", "famiglie-minori", "poverta-disagio-adulti", "immigrati"]
START, END = date(2023, 1, 1), date(2025, 12, 31)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Writer:
    """Bulk inserts: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.sqlite: sqlite3.Connection | None = None
        self.pg: Any = None

    async def open(self) -> None:
        if self.settings.database_url:
            import asyncpg

            self.pg = await asyncpg.connect(self.settings.database_url)
        else:
            # piccolo.engine.sqlite registers the adapters (uuid, date, list...) it reads back.
            self.sqlite = sqlite3.connect(self.settings.sqlite_path)
            self.sqlite.execute("PRAGMA synchronous = OFF")

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pg is not None:
            await self.pg.close()

    async def write(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.pg is not None:
            await self.pg.copy_records_to_table(table, records=rows, columns=columns)
            return
        assert self.sqlite is not None
        marks = ", ".join("?" for _ in columns)
        self.sqlite.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )
        self.sqlite.commit()


async def build(writer: Writer, entries: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    code = f"BENCH{seed}"
    ambito = await create_ambito(code, "Ambito sintetico", "Lombardia")
    comuni = [f"{900000 + i:06d}" for i in range(12)]
    await add_comuni(ambito, [ComuneIn(istat_code=c, name=f"Comune {c}") for c in comuni])
    # a skewed comune: the first ones are the towns
    comune_weights = [1 / (i + 1) for i in range(len(comuni))]
    reg = datetime(2022, 6, 1, tzinfo=UTC)

    holders: list[tuple[uuid.UUID, str, str]] = []
    for kind, sector, share in KINDS:
        holders += [(uuid.uuid4(), kind, sector) for _ in range(share * 15)]  # 1,500 holders
    await writer.write(
        "holder",
        [
            "id",
            "ambito",
            "kind",
            "sector",
            "name",
            "description",
            "comuni",
            "areas",
            "contacts",
            "public_listing",
            "status",
            "address",
            "created_at",
            "updated_at",
        ],
        [
            (
                h,
                ambito,
                k,
                s,
                f"Detentore {i}",
                "",
                rng.sample(comuni, 2),
                [rng.choice(AREAS)],
                "[]",
                True,
                "active",
                "",
                reg + timedelta(days=rng.randrange(0, 900)),
                now,
            )
            for i, (h, k, s) in enumerate(holders)
        ],
    )
    admin = uuid.uuid4()
    worker = uuid.uuid4()
    individuals = [h for h in holders if h[1] == "individual_volunteer"]
    users = [(admin, "udp_admin", None), (worker, "social_worker", None)]
    volunteers = [uuid.uuid4() for _ in range(8000)]
    users += [
        (v, "volunteer", individuals[i][0] if i < len(individuals) else None)
        for i, v in enumerate(volunteers)
    ]
    await writer.write(
        "app_user",
        ["id", "username", "password_hash", "role", "ambito", "holder", "active", "created_at"],
        [
            (u, f"{code.lower()}-{i}", "x", r, ambito, h, True, now)
            for i, (u, r, h) in enumerate(users)
        ],
    )
    resources = [
        (uuid.uuid4(), rng.choice(holders)[0], rng.choice(CATEGORIES)) for _ in range(3000)
    ]
    await writer.write(
        "resource",
        [
            "id",
            "ambito",
            "holder",
            "title",
            "description",
            "category_code",
            "unit",
            "capacity",
            "comuni",
            "target_groups",
            "languages",
            "requirements",
            "status",
            "created_at",
            "updated_at",
            "confirmed_at",
        ],
        [
            (
                r,
                ambito,
                h,
                f"Risorsa {c}",
                "",
                c,
                "hours",
                2,
                rng.sample(comuni, 2),
                [rng.choice(AREAS)],
                ["it"],
                [],
                "active",
                reg,
                now,
                now - timedelta(days=rng.randrange(0, 200)),
            )
            for r, h, c in resources
        ],
    )
    plans = [
        (uuid.uuid4(), rng.choices(comuni, comune_weights)[0], rng.choice(AREAS))
        for _ in range(4000)
    ]
    await writer.write(
        "care_plan",
        [
            "id",
            "ambito",
            "owner",
            "shared_with",
            "case_code",
            "comune",
            "target_group",
            "goals",
            "start_date",
            "status",
            "notes",
            "created_at",
            "updated_at",
        ],
        [
            (
                p,
                ambito,
                worker,
                [],
                f"C-{i:05d}",
                c,
                a,
                "[]",
                START + timedelta(days=rng.randrange(0, 900)),
                "active",
                "",
                reg,
                now,
            )
            for i, (p, c, a) in enumerate(plans)
        ],
    )
    needs = [(uuid.uuid4(), rng.choice(plans)) for _ in range(8000)]
    await writer.write(
        "plan_need",
        [
            "id",
            "ambito",
            "plan",
            "category_code",
            "schedule",
            "quantity",
            "unit",
            "languages",
            "requirements",
            "priority",
            "status",
            "created_at",
            "updated_at",
        ],
        [
            (
                n,
                ambito,
                p[0],
                rng.choice(CATEGORIES),
                "[]",
                2,
                "hours_per_week",
                [],
                [],
                3,
                "open",
                datetime.combine(
                    START + timedelta(days=rng.randrange(0, 1000)), datetime.min.time(), UTC
                ),
                now,
            )
            for n, p in needs
        ],
    )
    matches = []
    for n, p in rng.sample(needs, 3000):
        r = rng.choice(resources)
        matches.append((uuid.uuid4(), p[0], n, r[0], r[1]))
    await writer.write(
        "resource_match",
        [
            "id",
            "ambito",
            "plan",
            "need",
            "resource",
            "holder",
            "status",
            "components",
            "explanation",
            "warning",
            "proposed_by",
            "decline_reason",
            "created_at",
            "updated_at",
        ],
        [
            (m, ambito, p, n, r, h, "active", "[]", "", "", worker, "", reg, now)
            for m, p, n, r, h in matches
        ],
    )
    await writer.write(
        "match_event",
        ["id", "ambito", "match", "actor", "at", "from_status", "to_status", "reason"],
        [
            (
                uuid.uuid4(),
                ambito,
                m[0],
                worker,
                datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 1000)),
                "proposed",
                "accepted",
                "",
            )
            for m in matches
        ],
    )
    served = [str(p[0]) for p in rng.sample(plans, 400)]
    await writer.write(
        "funded_intervention",
        [
            "id",
            "ambito",
            "code",
            "title",
            "description",
            "fund_source",
            "user_area",
            "fnps_level",
            "comuni",
            "period_start",
            "period_end",
            "committed_cents",
            "spent_cents",
            "delivered_minutes",
            "beneficiaries",
            "plan_ids",
            "created_at",
            "updated_at",
        ],
        [
            (
                uuid.uuid4(),
                ambito,
                f"INT-{i}",
                f"Intervento {i}",
                "",
                rng.choice(["national", "regional", "municipal", "eu_pnrr"]),
                rng.choice(AREAS),
                "home_care",
                rng.sample(comuni, 3),
                date(y, 1, 1),
                date(y, 12, 31),
                rng.randrange(50_000, 500_000) * 100,
                rng.randrange(40_000, 400_000) * 100,
                rng.randrange(500, 5000) * 60,
                rng.randrange(5, 200),
                served[i * 5 : (i + 1) * 5],
                now,
                now,
            )
            for i, y in enumerate([2023, 2024, 2025] * 20)
        ],
    )
    activities = [
        (uuid.uuid4(), START + timedelta(days=rng.randrange(0, 1090))) for _ in range(300)
    ]
    await writer.write(
        "community_activity",
        [
            "id",
            "ambito",
            "title",
            "description",
            "comune",
            "starts_on",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        ],
        [
            (a, ambito, "Attività", "", rng.choice(comuni), d, "active", admin, now, now)
            for a, d in activities
        ],
    )
    organisers = {
        a: sorted({rng.choice(holders)[0] for _ in range(rng.randrange(1, 4))}, key=str)
        for a, _ in activities
    }
    await writer.write(
        "activity_organiser",
        ["id", "activity", "holder"],
        [(uuid.uuid4(), a, h) for a, hs in organisers.items() for h in hs],
    )
    interactions = [
        (uuid.uuid4(), START + timedelta(days=rng.randrange(0, 1090))) for _ in range(200)
    ]
    await writer.write(
        "holder_interaction",
        ["id", "ambito", "kind", "title", "occurred_on", "note", "created_by", "created_at"],
        [(i, ambito, "co_programming_table", "Tavolo", d, "", admin, now) for i, d in interactions],
    )
    await writer.write(
        "holder_interaction_participant",
        ["id", "interaction", "holder"],
        [
            (uuid.uuid4(), i, h)
            for i, _ in interactions
            for h in {rng.choice(holders)[0] for _ in range(rng.randrange(2, 8))}
        ],
    )

    # The ledger: volunteers give time to plans (through matches) and activities; holders
    # give goods. Written in chunks so memory stays flat.
    log(f"writing {entries:,} ledger entries ...")
    days = (END - START).days + 1
    columns = [
        "id",
        "ambito",
        "holder",
        "volunteer",
        "resource",
        "activity",
        "match_id",
        "need_id",
        "plan_id",
        "kind",
        "corrects",
        "unit",
        "quantity",
        "value_cents",
        "occurred_on",
        "comune",
        "note",
        "verification",
        "created_by",
        "created_by_role",
        "created_at",
    ]
    confirmations: list[tuple[Any, ...]] = []
    volunteer_home = {v: rng.choice(holders)[0] for v in volunteers}
    written = 0
    chunk: list[tuple[Any, ...]] = []
    for i in range(entries):
        occurred = START + timedelta(days=rng.randrange(days))
        roll = rng.random()
        entry_id = uuid.uuid4()
        if roll < 0.85:
            volunteer = rng.choice(volunteers)
            # Time for a plan is given by the matched resource's holder; time for an
            # activity by one of its organisers (or the volunteer's own association).
            if rng.random() < 0.6:
                m = rng.choice(matches)
                holder = m[4]
                links = (m[3], None, m[0], m[2], m[1])
            else:
                activity = rng.choice(activities)[0]
                holder = (
                    rng.choice(organisers[activity])
                    if rng.random() < 0.8
                    else volunteer_home[volunteer]
                )
                links = (None, activity, None, None, None)
            row = (
                entry_id,
                ambito,
                holder,
                volunteer,
                *links,
                "entry",
                None,
                "hours",
                rng.choice([30, 60, 90, 120, 180]),
                None,
            )
        else:
            activity = rng.choice(activities)[0]
            holder = rng.choice(organisers[activity])
            unit = rng.choice(["items", "meals", "room_hours"])
            row = (
                entry_id,
                ambito,
                holder,
                None,
                None,
                activity,
                None,
                None,
                None,
                "entry",
                None,
                unit,
                rng.randrange(1, 20),
                rng.randrange(500, 20_000),
            )
        verification = "qr_verified" if rng.random() < 0.7 else "self_reported"
        chunk.append(
            (
                *row,
                occurred,
                rng.choices(comuni, comune_weights)[0],
                "",
                verification,
                admin,
                "udp_admin",
                now,
            )
        )
        if verification == "self_reported" and rng.random() < 0.5:
            confirmations.append((uuid.uuid4(), ambito, entry_id, admin, "udp_admin", now, ""))
        if len(chunk) >= 100_000 or i == entries - 1:
            await writer.write("contribution", columns, chunk)
            written += len(chunk)
            chunk = []
    await writer.write(
        "contribution_confirmation",
        ["id", "ambito", "contribution", "confirmed_by", "role", "confirmed_at", "note"],
        confirmations,
    )
    return {
        "ambito": ambito,
        "admin": admin,
        "code": code,
        "holders": len(holders),
        "volunteers": len(volunteers),
        "plans": len(plans),
        "needs": len(needs),
        "matches": len(matches),
        "entries": written,
        "confirmations": len(confirmations),
    }


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int = 1) -> tuple[Any, float]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


async def full_scan() -> int:
    # The yardstick: every row of the ledger read once, with raw SQL.
    sql = "SELECT unit, COUNT(*) AS n, SUM(quantity) AS q FROM contribution GROUP BY unit"
    rows = await service._raw(sql)
    return sum(int(r["n"]) for r in rows)


async def one_entry(data: dict[str, Any], day: date) -> None:
    """An hour of a holder of the ambito on `day`, written now (after the snapshots)."""
    rows = await service._raw(
        "SELECT holder, comune FROM contribution WHERE ambito = {} LIMIT 1",
        str(data["ambito"]) if db.is_sqlite() else data["ambito"],
    )
    await Contribution(
        ambito=data["ambito"],
        holder=rows[0]["holder"],
        kind="entry",
        unit="hours",
        quantity=60,
        occurred_on=day,
        comune=rows[0]["comune"],
        verification="qr_verified",
        created_by=data["admin"],
        created_by_role="udp_admin",
        created_at=datetime.now(UTC),
    ).save()


async def one_need(data: dict[str, Any]) -> None:
    """A need recorded now in a plan of the ambito (reference data, not the ledger)."""
    rows = await service._raw(
        "SELECT id FROM care_plan WHERE ambito = {} LIMIT 1",
        str(data["ambito"]) if db.is_sqlite() else data["ambito"],
    )
    await Need(
        ambito=data["ambito"],
        plan=rows[0]["id"],
        category_code="trasporto",
        schedule="[]",
        quantity=1,
        unit="trips",
        languages=[],
        requirements=[],
        status="open",
        start_date=date(2025, 6, 1),
        created_at=datetime.now(UTC),
    ).save()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    if not os.environ.get("REGISTRY_DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="registry-bench-")
        os.environ["REGISTRY_SQLITE_PATH"] = os.path.join(folder, "bench.sqlite")
    settings = load_settings()
    if settings.database_url:
        import asyncpg

        name = settings.database_url.rsplit("/", 1)[-1]
        if "bench" not in name and "test" not in name:
            raise SystemExit("the benchmark wipes its database: its name must contain 'bench'")
        connection = await asyncpg.connect(settings.database_url)
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await connection.close()
    app = create_app(settings, migrate_on_start=False)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    engine = db.engine()
    await db.start(engine)
    await db.migrate()
    await ensure_seeded()

    writer = Writer(settings)
    await writer.open()
    started = time.perf_counter()
    data = await build(writer, args.entries, args.seed)
    insert_seconds = time.perf_counter() - started
    await writer.close()
    await service._raw("ANALYZE")  # fresh statistics for the planner, as after a nightly run
    log(f"data written in {insert_seconds:.1f} s")

    actor = Principal(data["admin"], "bench", Role.UDP_ADMIN, data["ambito"])
    year = Period("2025", date(2025, 1, 1), date(2025, 12, 31))
    three_years = Period("2023-2025", START, END)
    now = datetime.now(UTC)

    scanned, scan_s = await timed(lambda: full_scan(), repeat=3)
    _, live_summary_s = await timed(
        lambda: service.summary(actor, year, service.Scope(), live=True, now=now)
    )
    _, live_series_s = await timed(
        lambda: service.timeseries(actor, three_years, "month", service.Scope(), live=True, now=now)
    )
    log(f"scan {scan_s:.3f} s, live summary {live_summary_s:.2f} s, series {live_series_s:.2f} s")
    # Filtered requests, computed live (no snapshot serves them: a filter, a period that is
    # not a calendar one, or data changed since the nightly job).
    six_months = Period("2025-03-01/2025-08-31", date(2025, 3, 1), date(2025, 8, 31))
    comune = "900000"

    async def filtered_requests(label: str, live: bool) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, call in (
            (
                "summary_year_comune",
                lambda: service.summary(
                    actor, year, service.Scope(comune=comune), live=live, now=now
                ),
            ),
            (
                "summary_6_months_sector",
                lambda: service.summary(
                    actor, six_months, service.Scope(sector="third_sector"), live=live, now=now
                ),
            ),
            (
                "timeseries_36_months_area",
                lambda: service.timeseries(
                    actor, three_years, "month", service.Scope(area="anziani"), live=live, now=now
                ),
            ),
            (
                "coverage_year_holder_kind",
                lambda: service.coverage(
                    actor, year, service.Scope(holder_kind="association"), live=live, now=now
                ),
            ),
        ):
            answer, seconds = await timed(call)
            out[f"{label}_{name}_s"] = seconds
            log(
                f"{label} {name} {seconds:.2f} s ({seconds / scan_s:.1f}x the full scan, "
                f"source {answer.source})"
            )
        return out

    # Before any snapshot: every month computed live (the path of a filtered request before
    # month snapshots served them).
    filtered = await filtered_requests("filtered_live", live=True)
    log("running the snapshot job ...")
    snap, snapshot_s = await timed(lambda: service.take_snapshot(now, [data["ambito"]]))
    _, idle_s = await timed(lambda: service.take_snapshot(now, [data["ambito"]]))
    log(f"snapshot job: first run {snapshot_s:.1f} s, rerun unchanged {idle_s:.1f} s")
    # Fresh snapshots: filtered requests read the unfiltered months they publish a row of.
    served = await filtered_requests("filtered_snapshot", live=False)
    # One entry of June 2025 written after the job: June, 2025-Q2 and 2025 are computed
    # live, every other month still comes from its snapshot.
    await one_entry(data, date(2025, 6, 15))
    mixed = await filtered_requests("filtered_after_1_entry", live=False)
    _, refresh_s = await timed(lambda: service.take_snapshot(now, [data["ambito"]]))
    log(f"snapshot job after one new entry {refresh_s:.1f} s")
    refreshed = await filtered_requests("filtered_after_refresh", live=False)
    facts = await service._raw(
        "SELECT COUNT(*) AS n, SUM(LENGTH(payload)) AS size FROM metrics_month_facts"
    )

    token = issue(
        settings.secret_key,
        AUDIENCE,
        str(data["admin"]),
        {"role": "udp_admin", "ambito": data["code"]},
    )
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def get(path: str, params: dict[str, str]) -> dict[str, Any]:
            response = await client.get(path, params=params, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        summary, dash_summary_s = await timed(
            lambda: get("/api/metrics/summary", {"from": "2025-01-01", "to": "2025-12-31"}),
            repeat=5,
        )
        series, dash_series_s = await timed(
            lambda: get(
                "/api/metrics/timeseries",
                {"from": "2023-01-01", "to": "2025-12-31", "granularity": "month"},
            ),
            repeat=5,
        )
        _, dash_network_s = await timed(
            lambda: get(
                "/api/metrics/network",
                {"from": "2023-01-01", "to": "2025-12-31", "granularity": "quarter"},
            ),
            repeat=5,
        )
    assert summary["source"] == "snapshot" and series["source"] == "snapshot"
    # A need recorded after the job: the reference data changed, not the ledger: no snapshot
    # holds as a whole any more; their tables that do not read the needs still serve, and
    # the need tables of every period are computed from the stored months' facts.
    await one_need(data)
    after_need = await filtered_requests("filtered_after_1_need", live=False)
    await db.stop(engine)

    figures = {
        "backend": settings.backend,
        "entries": data["entries"],
        "rows_scanned": scanned,
        "insert_s": round(insert_seconds, 2),
        "full_scan_s": round(scan_s, 4),
        "live_summary_year_s": round(live_summary_s, 3),
        "live_timeseries_36_months_s": round(live_series_s, 3),
        "live_summary_vs_scan": round(live_summary_s / scan_s, 1),
        "live_timeseries_vs_scan": round(live_series_s / scan_s, 1),
        **{k: round(v, 3) for k, v in filtered.items()},
        "filtered_live_max_vs_scan": round(max(filtered.values()) / scan_s, 1),
        **{k: round(v, 3) for k, v in served.items()},
        "filtered_snapshot_max_s": round(max(served.values()), 3),
        "filtered_snapshot_max_vs_scan": round(max(served.values()) / scan_s, 1),
        "filtered_snapshot_under_1_s": max(served.values()) <= 1.0,
        **{k: round(v, 3) for k, v in mixed.items()},
        "filtered_after_1_entry_max_vs_scan": round(max(mixed.values()) / scan_s, 1),
        **{k: round(v, 3) for k, v in refreshed.items()},
        "filtered_after_refresh_max_vs_scan": round(max(refreshed.values()) / scan_s, 1),
        **{k: round(v, 3) for k, v in after_need.items()},
        "filtered_after_1_need_max_vs_scan": round(max(after_need.values()) / scan_s, 1),
        "month_facts_rows": int(facts[0]["n"]),
        "month_facts_mb": round(int(facts[0]["size"] or 0) / 1e6, 1),
        "snapshot_job_s": round(snapshot_s, 2),
        "snapshot_job_unchanged_s": round(idle_s, 2),
        "snapshot_job_after_1_entry_s": round(refresh_s, 2),
        "snapshot_periods": snap["periods"],
        "dashboard_summary_s": round(dash_summary_s, 4),
        "dashboard_timeseries_s": round(dash_series_s, 4),
        "dashboard_network_s": round(dash_network_s, 4),
        "dashboard_faster_than_scan": max(dash_summary_s, dash_series_s) < scan_s,
        "speedup_summary_vs_scan": round(scan_s / dash_summary_s, 1),
        "speedup_timeseries_vs_scan": round(scan_s / dash_series_s, 1),
        "hours_community_2025": summary["headline"]["hours_community"],
        "persons_2025": summary["headline"]["persons"],
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        **{k: data[k] for k in ("holders", "volunteers", "plans", "needs", "matches")},
    }
    width = max(len(k) for k in figures)
    print(f"{'figure':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
