"""The `registry` command: serve, migrate, demo, user add."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sys

from registry import db
from registry.access import Role
from registry.config import ConfigError, load_settings


def _connect() -> object:
    settings = load_settings()
    settings.check()
    engine = db.make_engine(settings)
    db.bind(engine)
    return engine


async def _with_db(work):  # type: ignore[no-untyped-def]
    engine = _connect()
    await db.start(engine)  # type: ignore[arg-type]
    try:
        await db.migrate()
        return await work()
    finally:
        await db.stop(engine)  # type: ignore[arg-type]


def cmd_migrate(args: argparse.Namespace) -> int:
    from registry.taxonomy.service import ensure_seeded
    from registry.upgrades import DataLossRefused

    async def work() -> None:
        await db.migrate(then=ensure_seeded, allow_data_loss=args.allow_data_loss)

    engine = _connect()

    async def run() -> None:
        await db.start(engine)  # type: ignore[arg-type]
        try:
            await work()
        finally:
            await db.stop(engine)  # type: ignore[arg-type]

    try:
        asyncio.run(run())
    except DataLossRefused as refused:
        print(f"migration refused: {refused}", file=sys.stderr)
        return 3
    print("database is at the current schema")
    return 0


def cmd_demo(_: argparse.Namespace) -> int:
    from registry.demo import DEMO_PASSWORD, load_demo, refuse_in_production

    # Before touching the database; `serve --demo` comes through here too.
    refuse_in_production(load_settings())
    logins = asyncio.run(_with_db(load_demo))
    print("Demo ambito: OLGIATESE (Ambito Territoriale Sociale dell'Olgiatese)")
    print(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role in logins.items():
        print(f"  {username:<12} {role}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from registry.errors import DomainError
    from registry.users import service as users
    from registry.users.schemas import UserCreate

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")

    async def work() -> None:
        ambito_id = await users.ambito_id_by_code(args.ambito)
        await users.create_user(
            ambito_id, UserCreate(username=args.username, password=password, role=Role(args.role))
        )

    try:
        if len(password) < 8:
            raise SystemExit("password must be at least 8 characters")
        asyncio.run(_with_db(work))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    print(f"user {args.username} created with role {args.role} in ambito {args.ambito}")
    return 0


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M %Z") if value else "-"  # type: ignore[attr-defined]


def cmd_jobs_list(_: argparse.Namespace) -> int:
    from registry import jobs

    settings = load_settings()
    with contextlib.redirect_stdout(sys.stderr):  # the migration check chats on stdout
        infos = asyncio.run(_with_db(lambda: jobs.list_jobs(settings)))
    print(f"{'JOB':<17} {'SCHEDULE':<28} {'NEXT RUN':<21} {'LAST RUN':<21} {'STATUS':<8} SUMMARY")
    for info in infos:
        last = info.last_run
        summary = ""
        if last is not None:
            summary = last.error or " ".join(f"{k}={v}" for k, v in last.summary.items())
        print(
            f"{info.name:<17} {info.schedule:<28} "
            f"{_when(info.next_run) if info.next_run else '(not scheduled yet)':<21} "
            f"{_when(last.started_at) if last else '-':<21} "
            f"{last.status if last else '-':<8} {summary}"
        )
    return 0


def cmd_jobs_run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    import msgspec

    from registry import scheduled_jobs
    from registry.errors import DomainError

    settings = load_settings()
    now = None
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            print(f"error: --now '{args.now}' is not an ISO date-time", file=sys.stderr)
            return 2
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    if args.name not in scheduled_jobs.JOBS:
        print(
            f"error: no job '{args.name}'; jobs: {', '.join(scheduled_jobs.JOBS)}", file=sys.stderr
        )
        return 2

    async def work() -> scheduled_jobs.JobRunOut:
        scope = await scheduled_jobs.ambito_ids(args.ambito) if args.ambito else None
        return await scheduled_jobs.run_job(
            args.name, settings, now=now, trigger="cli", ambito_ids=scope
        )

    try:
        # stdout carries only the JSON result (the migration check chats on stdout).
        with contextlib.redirect_stdout(sys.stderr):
            run = asyncio.run(_with_db(work))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    print(msgspec.json.format(msgspec.json.encode(run)).decode())
    return 0 if run.status == "ok" else 1


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    load_settings().check()  # refuse bad settings once, before any worker starts
    if args.demo:
        cmd_demo(args)
    if args.workers == 1:
        from registry.app import create_app

        uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")
        return 0
    import tempfile

    # Each worker counts its own requests; prometheus-client's multiprocess mode adds them
    # up at /metrics through files in this folder (set before any worker imports it).
    with tempfile.TemporaryDirectory(prefix="registry-metrics-") as folder:
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", folder)
        # Every worker migrates (under a lock: one does the work) and competes for the
        # scheduler lease; see registry/jobs.py.
        uvicorn.run(
            "registry.app:create_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_level="info",
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web service (migrates the database first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load the demo ambito first")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (one runs the scheduled jobs at a time: see README, Operating)",
    )
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="bring the database to the current schema")
    migrate.add_argument(
        "--allow-data-loss",
        action="store_true",
        help="run migrations that drop or retype stored values (after `registry backup`)",
    )
    migrate.set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the demo ambito and print its logins").set_defaults(
        func=cmd_demo
    )

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a user (password from stdin or a prompt)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--ambito", required=True, help="ambito code, e.g. OLGIATESE")
    add.set_defaults(func=cmd_user_add)

    jobs = sub.add_parser("jobs", help="the scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_sub.add_parser("list", help="jobs, schedules, next and last runs").set_defaults(
        func=cmd_jobs_list
    )
    run = jobs_sub.add_parser("run", help="run one job now and print what it did")
    run.add_argument("name", help="freshness, expiry, rematch, dispatch, metrics_snapshot")
    run.add_argument("--now", help="the clock to run with (ISO date-time, UTC if no offset)")
    run.add_argument(
        "--ambito", action="append", metavar="CODE", help="only this ambito (repeatable)"
    )
    run.set_defaults(func=cmd_jobs_run)

    from registry.interop.cli import register as register_interop

    register_interop(sub)  # import hsds|holders|resources, export hsds|<list> (issue 8)

    from registry.ops.cli import register as register_ops

    register_ops(sub)  # backup, restore (issue 14)

    from registry.comuni.cli import register as register_comuni

    register_comuni(sub)  # comuni load FILE [--variations FILE], comuni status
    from registry.ambiti.cli import register as register_ambiti

    register_ambiti(sub)  # ambito create|list|show|move|merge|split..., platform-admin (issue 14)
    from registry.region.cli import register as register_region

    register_region(sub)  # region-observer add|list|deactivate|activate (issue 13)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
