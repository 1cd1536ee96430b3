"""`registry ambito ...` and `registry platform-admin ...`: setting up and running ambiti.

    registry ambito create CODE --name NAME --region REGION
                           [--comuni 013005,013010] [--province CO] [--comuni-file FILE]
                           [--udp USERNAME]
    registry ambito list
    registry ambito show CODE
    registry ambito add-udp CODE USERNAME            the ambito's first udp_admin
    registry ambito move ISTAT[,ISTAT...] --to CODE [--on DATE]
    registry ambito merge CODE --into CODE [--on DATE]
    registry ambito split CODE --into NEWCODE --name NAME (--comuni ... | --comuni-file FILE)
                          [--region REGION] [--on DATE]
    registry ambito deactivate|activate CODE
    registry platform-admin add USERNAME
    registry platform-admin deactivate|activate USERNAME

Passwords are read from stdin, or prompted for on a terminal. The operator of the server is
trusted with every ambito; these commands never touch an ambito's records, only its comuni,
its state and its first account.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from datetime import date
from pathlib import Path
from typing import Any

ISTAT_COLUMNS = ("istat_code", "codice_istat", "istat", "codice", "pro_com_t")


def _password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\n")


def _codes(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


def _file_codes(path: str) -> list[str]:
    """ISTAT codes from a CSV/XLSX with an istat_code (or codice_istat) column, or from a
    plain list of codes, one per line."""
    from registry.errors import InvalidInput
    from registry.tabular.reading import read_table

    file = Path(path)
    if not file.is_file():
        raise InvalidInput(f"{path} does not exist", field="comuni_file")
    data = file.read_bytes()
    first = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
    if first.isdigit():  # a bare list of codes, no header
        return [line.strip() for line in data.decode("utf-8-sig").splitlines() if line.strip()]
    table = read_table(data, file.name)
    column = next((c for c in ISTAT_COLUMNS if c in table.headers), None)
    if column is None:
        raise InvalidInput(
            f"{file.name} has no column {' or '.join(ISTAT_COLUMNS[:2])} "
            f"(columns: {', '.join(table.headers)})",
            field="comuni_file",
        )
    return [row.values[column] or "" for row in table.rows if row.values.get(column)]


def _day(text: str | None) -> date | None:
    from registry.errors import InvalidInput

    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--on '{text}' is not a date (YYYY-MM-DD)", field="on") from None


def _run(work: Any) -> tuple[int, Any]:
    """Run `work` against the database; a domain error becomes one line on stderr."""
    from registry.cli import _with_db
    from registry.errors import DomainError

    try:
        # stdout carries only the command's own output (the migration check chats on it).
        with contextlib.redirect_stdout(sys.stderr):
            return 0, asyncio.run(_with_db(work))
    except DomainError as error:
        where = f" ({error.field})" if error.field else ""
        print(f"error{where}: {error.message}", file=sys.stderr)
        return 2, None


def _print_detail(detail: Any) -> None:
    ambito = detail.ambito
    state = "active" if ambito.active else f"DEACTIVATED {ambito.deactivated_at:%Y-%m-%d}"
    if ambito.merged_into:
        state += f", merged into {ambito.merged_into}"
    print(f"{ambito.code}: {ambito.name} ({ambito.region}) - {state}")
    users = ", ".join(f"{n} {role}" for role, n in detail.users.items()) or "none"
    print(f"users: {users}")
    print(f"comuni ({len(detail.comuni)}):")
    for comune in detail.comuni:
        print(f"  {comune.istat_code}  {comune.name}")
    moved = [h for h in detail.history if h.reason != "created" or h.valid_until]
    if moved:
        print("history of its comuni:")
        for h in detail.history:
            until = h.valid_until.isoformat() if h.valid_until else "today"
            print(f"  {h.istat_code}  {h.ambito_code:<16} {h.valid_from} -> {until}  ({h.reason})")


def cmd_create(args: argparse.Namespace) -> int:
    import msgspec

    from registry.ambiti import service
    from registry.ambiti.schemas import AmbitoCreate
    from registry.errors import InvalidInput
    from registry.tabular.validating import error_of

    password = _password() if args.udp else None

    async def work() -> Any:
        from registry.taxonomy.service import ensure_seeded

        # A first ambito on a fresh database: the categories its imports name must exist.
        await ensure_seeded()
        codes = _codes(args.comuni) + (_file_codes(args.comuni_file) if args.comuni_file else [])
        if not codes and not args.province:
            raise InvalidInput(
                "name the ambito's comuni: --comuni, --province or --comuni-file", field="comuni"
            )
        try:
            data = msgspec.convert(
                {
                    "code": args.code,
                    "name": args.name,
                    "region": args.region,
                    "comuni": codes,
                    "province": args.province,
                },
                AmbitoCreate,
            )
        except msgspec.ValidationError as error:
            field, message = error_of(error)
            raise InvalidInput(message, field=field) from None
        if args.udp:
            await service.check_new_account(args.udp, password or "")
        detail = await service.open_ambito(data)
        account = None
        if args.udp:
            account = await service.create_first_udp(args.code, args.udp, password or "")
        return detail, account

    status, result = _run(work)
    if status:
        return status
    detail, account = result
    print(f"ambito {detail.ambito.code} created with {len(detail.comuni)} comuni")
    if account:
        print(f"udp_admin {account.username} created: they can log in and add the other users")
    else:
        print(f"next: registry ambito add-udp {detail.ambito.code} USERNAME")
    return 0


def cmd_list(_: argparse.Namespace) -> int:
    from registry.ambiti import service

    status, rows = _run(service.list_all_ambiti)
    if status:
        return status
    print(f"{'CODE':<20} {'COMUNI':>6}  {'STATE':<12} NAME")
    for row in rows:
        state = "active" if row.active else "deactivated"
        print(f"{row.code:<20} {row.comuni_count:>6}  {state:<12} {row.name}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from registry.ambiti import service

    status, detail = _run(lambda: service.ambito_detail(args.code))
    if status:
        return status
    _print_detail(detail)
    return 0


def cmd_add_udp(args: argparse.Namespace) -> int:
    from registry.ambiti import service

    password = _password()
    status, account = _run(lambda: service.create_first_udp(args.code, args.username, password))
    if status:
        return status
    print(f"udp_admin {account.username} created in ambito {args.code}")
    return 0


def _print_move(result: Any) -> None:
    if result.moved:
        print(f"moved to {result.to} on {result.on}: {', '.join(result.moved)}")
    if result.added:
        print(f"added to {result.to} on {result.on}: {', '.join(result.added)}")


def cmd_move(args: argparse.Namespace) -> int:
    from registry.ambiti import service

    async def work() -> Any:
        return await service.move_comuni(_codes(args.comuni), args.to, _day(args.on))

    status, result = _run(work)
    if status:
        return status
    _print_move(result)
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from registry.ambiti import service

    async def work() -> Any:
        return await service.merge_ambiti(args.code, args.into, _day(args.on))

    status, result = _run(work)
    if status:
        return status
    _print_move(result)
    print(
        f"ambito {args.code} is deactivated and keeps its records "
        f"(registry export ... --ambito {args.code})"
    )
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    from registry.ambiti import service

    async def work() -> Any:
        codes = _codes(args.comuni) + (_file_codes(args.comuni_file) if args.comuni_file else [])
        return await service.split_ambito(
            args.code, args.into, args.name, codes, region=args.region, on=_day(args.on)
        )

    status, result = _run(work)
    if status:
        return status
    print(f"ambito {args.into} created from {args.code}")
    _print_move(result)
    print(f"next: registry ambito add-udp {args.into} USERNAME")
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    from registry.ambiti import service

    active = args.ambito_command == "activate"
    status, row = _run(lambda: service.set_ambito_state(args.code, active=active))
    if status:
        return status
    print(f"ambito {row.code} is {'active' if row.active else 'deactivated'}")
    return 0


def cmd_platform_admin(args: argparse.Namespace) -> int:
    from registry.ambiti import platform

    if args.platform_command == "add":
        password = _password()
        status, _ = _run(lambda: platform.create_platform_admin(args.username, password))
        if not status:
            print(f"platform admin {args.username} created (log in at POST /api/platform/token)")
        return status
    active = args.platform_command == "activate"
    status, _ = _run(lambda: platform.set_platform_admin_active(args.username, active))
    if not status:
        print(f"platform admin {args.username} is {'active' if active else 'deactivated'}")
    return status


def register(sub: Any) -> None:
    """Add `ambito` and `platform-admin` to the `registry` command (issue 14)."""
    ambito = sub.add_parser("ambito", help="create and run ambiti: comuni, merges, first UdP")
    commands = ambito.add_subparsers(dest="ambito_command", required=True)

    create = commands.add_parser("create", help="a new ambito with its comuni")
    create.add_argument("code", help="the ambito's code, e.g. ATS-BRIANZA (capitals)")
    create.add_argument("--name", required=True)
    create.add_argument("--region", required=True, help="e.g. Lombardia")
    create.add_argument("--comuni", help="ISTAT codes, comma-separated: 013005,013010")
    create.add_argument("--province", help="every comune of this province (abbreviation: CO)")
    create.add_argument(
        "--comuni-file", help="CSV/XLSX with an istat_code column, or one code a line"
    )
    create.add_argument("--udp", metavar="USERNAME", help="also create its first udp_admin")
    create.set_defaults(func=cmd_create)

    commands.add_parser("list", help="every ambito, its comuni and state").set_defaults(
        func=cmd_list
    )
    show = commands.add_parser("show", help="an ambito, its comuni, their history, its users")
    show.add_argument("code")
    show.set_defaults(func=cmd_show)

    udp = commands.add_parser("add-udp", help="the ambito's first udp_admin (password: stdin)")
    udp.add_argument("code")
    udp.add_argument("username")
    udp.set_defaults(func=cmd_add_udp)

    move = commands.add_parser("move", help="move comuni to another ambito (history is kept)")
    move.add_argument("comuni", help="ISTAT codes, comma-separated")
    move.add_argument("--to", required=True, help="the ambito's code")
    move.add_argument("--on", help="effective date, YYYY-MM-DD (default today)")
    move.set_defaults(func=cmd_move)

    merge = commands.add_parser("merge", help="move all comuni of CODE to another, deactivate it")
    merge.add_argument("code")
    merge.add_argument("--into", required=True)
    merge.add_argument("--on", help="effective date, YYYY-MM-DD (default today)")
    merge.set_defaults(func=cmd_merge)

    split = commands.add_parser("split", help="a new ambito from some comuni of CODE")
    split.add_argument("code")
    split.add_argument("--into", required=True, help="the new ambito's code")
    split.add_argument("--name", required=True)
    split.add_argument("--region", help="default: the region of CODE")
    split.add_argument("--comuni", help="ISTAT codes, comma-separated")
    split.add_argument("--comuni-file", help="CSV/XLSX with an istat_code column")
    split.add_argument("--on", help="effective date, YYYY-MM-DD (default today)")
    split.set_defaults(func=cmd_split)

    for name, help_text in (
        ("deactivate", "its users can no longer log in; every record is kept"),
        ("activate", "undo a deactivation"),
    ):
        state = commands.add_parser(name, help=help_text)
        state.add_argument("code")
        state.set_defaults(func=cmd_state)

    admins = sub.add_parser("platform-admin", help="accounts that create and deactivate ambiti")
    admin_commands = admins.add_subparsers(dest="platform_command", required=True)
    for name, help_text in (
        ("add", "a new platform admin (password: stdin or prompt)"),
        ("deactivate", "end a platform admin's access"),
        ("activate", "undo a deactivation"),
    ):
        parser = admin_commands.add_parser(name, help=help_text)
        parser.add_argument("username")
        parser.set_defaults(func=cmd_platform_admin)
