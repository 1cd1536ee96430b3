"""The retention job and a volunteer's erasure on a large ambito (issue 19).

    python bench/privacy.py [--rows 20000] [--entries 5000] [--database-url postgresql://...]

A fresh database (a temporary SQLite file unless --database-url names an empty PostgreSQL
database whose name contains "bench") gets `--rows` access-log rows and as many
notifications spread over four and two years, then the retention job runs twice at the same
clock: the first run deletes what expired under the write lock, the second finds nothing.
Then a volunteer with `--entries` ledger entries and as many notifications is erased. One
JSON line with the seconds of each step.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta


async def main(rows: int, entries: int) -> dict[str, float | int]:
    from registry import db
    from registry.ambiti.service import create_ambito
    from registry.audit.tables import AccessLog
    from registry.config import load_settings
    from registry.contributions.tables import Contribution
    from registry.holders.tables import Holder
    from registry.notifications.tables import Notification
    from registry.privacy.erasure import erase_volunteer
    from registry.privacy.retention import apply_retention
    from registry.users.tables import User

    engine = db.make_engine(load_settings())
    db.bind(engine)
    await db.start(engine)
    await db.migrate()
    ambito = await create_ambito(f"B{uuid.uuid4().hex[:6]}", "Bench", "Lombardia")
    worker = User(
        username=f"sw-{uuid.uuid4().hex[:6]}",
        password_hash="!",
        role="social_worker",
        ambito=ambito,
    )
    await worker.save()
    now = datetime.now(UTC)
    for lo in range(0, rows, 1000):
        size = min(1000, rows - lo)
        await AccessLog.insert(
            *[
                AccessLog(
                    ambito=ambito,
                    user=worker.id,
                    username="x",
                    role="social_worker",
                    at=now - timedelta(days=i % 1460),
                    action="plan.read",
                )
                for i in range(lo, lo + size)
            ]
        )
        await Notification.insert(
            *[
                Notification(
                    ambito=ambito,
                    user=worker.id,
                    event_id=uuid.uuid4(),
                    event_type="x",
                    title="t",
                    created_at=now - timedelta(days=i % 730),
                )
                for i in range(lo, lo + size)
            ]
        )
    started = time.perf_counter()
    first = await apply_retention(now, [ambito])
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    await apply_retention(now, [ambito])
    second_seconds = time.perf_counter() - started

    holder = Holder(
        ambito=ambito,
        kind="individual_volunteer",
        sector="informal",
        name="Mario Rossi",
        comuni=[],
        areas=[],
        contacts="[]",
    )
    await holder.save()
    volunteer = User(
        username=f"mario-{uuid.uuid4().hex[:6]}",
        password_hash="!",
        role="volunteer",
        ambito=ambito,
        holder=holder.id,
    )
    await volunteer.save()
    for lo in range(0, entries, 1000):
        size = min(1000, entries - lo)
        await Contribution.insert(
            *[
                Contribution(
                    ambito=ambito,
                    holder=holder.id,
                    volunteer=volunteer.id,
                    unit="hours",
                    quantity=60,
                    occurred_on=date(2025, 1, 1) + timedelta(days=i % 365),
                    note="con Mario Rossi",
                    created_by=volunteer.id,
                    created_by_role="volunteer",
                    created_at=now,
                )
                for i in range(lo, lo + size)
            ]
        )
        await Notification.insert(
            *[
                Notification(
                    ambito=ambito,
                    user=worker.id,
                    event_id=uuid.uuid4(),
                    event_type="x",
                    title="Mario Rossi ha registrato 1 ora",
                    created_at=now,
                )
                for _ in range(size)
            ]
        )
    started = time.perf_counter()
    async with db.unit_of_work():
        erased = await erase_volunteer(ambito, volunteer.id)
    erase_seconds = time.perf_counter() - started
    await db.stop(engine)
    return {
        "backend": "postgresql" if load_settings().database_url else "sqlite",
        "rows": rows,
        "retention_removed": first["access_log"] + first["notifications"],
        "retention_first_s": round(first_seconds, 2),
        "retention_again_s": round(second_seconds, 2),
        "erasure_entries": erased["ledger_entries_kept"],
        "erasure_renamed": erased["messages_renamed"],
        "erasure_s": round(erase_seconds, 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=5_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.database_url:
        if "bench" not in args.database_url.rsplit("/", 1)[-1]:
            raise SystemExit("the database is filled with bench data: its name must say bench")
        os.environ["REGISTRY_DATABASE_URL"] = args.database_url
    else:
        os.environ["REGISTRY_SQLITE_PATH"] = os.path.join(tempfile.mkdtemp(), "bench.sqlite")
        os.environ.pop("REGISTRY_DATABASE_URL", None)
    os.environ.setdefault("REGISTRY_SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456")
    print(json.dumps(asyncio.run(main(args.rows, args.entries))))
