"""The `registry` command: serve, migrate, demo, user add."""

from __future__ import annotations

import argparse
import asyncio
import getpass
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


def cmd_migrate(_: argparse.Namespace) -> int:
    from registry.taxonomy.service import ensure_seeded

    asyncio.run(_with_db(ensure_seeded))
    print("database is at the current schema")
    return 0


def cmd_demo(_: argparse.Namespace) -> int:
    from registry.demo import DEMO_PASSWORD, load_demo

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


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from registry.app import create_app

    if args.demo:
        cmd_demo(args)
    app = create_app()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web service (migrates the database first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load the demo ambito first")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="bring the database to the current schema").set_defaults(
        func=cmd_migrate
    )
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

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
