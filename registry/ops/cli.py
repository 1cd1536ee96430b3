"""`registry backup FILE` and `registry restore FILE`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from registry import db
from registry.config import Settings, load_settings
from registry.ops.backup import BackupError, backup, restore


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    made = sub.add_parser(
        "backup", help="copy the database to FILE while the service runs (one consistent moment)"
    )
    made.add_argument("file", type=Path)
    made.add_argument("--force", action="store_true", help="replace FILE if it exists")
    made.set_defaults(func=cmd_backup)

    back = sub.add_parser(
        "restore", help="replace the database's content with a backup (stop the service first)"
    )
    back.add_argument("file", type=Path)
    back.add_argument(
        "--force", action="store_true", help="restore even if a server seems to be running"
    )
    back.set_defaults(func=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.check()
    try:
        backup(settings, args.file, overwrite=args.force)
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"backup written to {args.file} ({args.file.stat().st_size} bytes)")
    return 0


async def _running_server(settings: Settings) -> str | None:
    """The holder of the scheduler lease, if one holds it now: a server is running."""
    from registry.jobs import SCHEDULER_LEASE
    from registry.ops.lease import DatabaseLease

    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine)
    try:
        return await DatabaseLease(SCHEDULER_LEASE, 0).current_holder()
    except Exception:
        return None  # an empty database, or one from before the lease: nobody holds it
    finally:
        await db.stop(engine)


async def _migrate(settings: Settings) -> None:
    from registry.taxonomy.service import ensure_seeded

    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine)
    try:
        await db.migrate(then=ensure_seeded)
    finally:
        await db.stop(engine)


def cmd_restore(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.check()
    if not args.force:
        holder = asyncio.run(_running_server(settings))
        if holder is not None:
            print(
                f"error: a server is running on this database ({holder}); stop it first, "
                "or pass --force",
                file=sys.stderr,
            )
            return 2
    try:
        restore(settings, args.file)
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # A backup from an older version reaches the current schema now, not at the next start.
    with contextlib.redirect_stdout(sys.stderr):  # the migration runner chats on stdout
        asyncio.run(_migrate(settings))
    print(f"database restored from {args.file}")
    return 0
