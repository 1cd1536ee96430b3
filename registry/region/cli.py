"""`registry region-observer ...`: the accounts of the Regions (issue 13).

registry region-observer add USERNAME --region 03   (password: stdin or a prompt)
registry region-observer deactivate|activate USERNAME
registry region-observer list
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def cmd_observer(args: argparse.Namespace) -> int:
    import msgspec

    from registry.ambiti.cli import _password, _run
    from registry.region import accounts
    from registry.region.schemas import ObserverCreate

    if args.observer_command == "list":
        status, rows = _run(accounts.list_observers)
        for row in rows or []:
            state = "active" if row.active else "deactivated"
            print(f"{row.username}\t{row.region} {row.region_name}\t{state}")
        return status
    if args.observer_command == "add":
        if not args.region:
            print("error (region): give --region, the ISTAT region code (e.g. 03)", file=sys.stderr)
            return 2
        try:
            data = msgspec.convert(
                {"username": args.username, "password": _password(), "region": args.region},
                ObserverCreate,
            )
        except msgspec.ValidationError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        status, row = _run(lambda: accounts.create_observer(data))
        if not status:
            print(
                f"regional observer {row.username} created for {row.region_name} "
                "(log in at POST /api/region/token)"
            )
        return status
    active = args.observer_command == "activate"
    status, row = _run(lambda: accounts.set_observer_active(args.username, active))
    if not status:
        print(f"regional observer {row.username} is {'active' if active else 'deactivated'}")
    return status


def register(sub: Any) -> None:
    observers = sub.add_parser(
        "region-observer", help="accounts of a Region comparing its ambiti (read-only)"
    )
    commands = observers.add_subparsers(dest="observer_command", required=True)
    commands.add_parser("list", help="every regional observer").set_defaults(func=cmd_observer)
    add = commands.add_parser("add", help="a new observer (password: stdin or prompt)")
    add.add_argument("username")
    add.add_argument("--region", required=True, help="ISTAT region code: 01 ... 20, 03 Lombardia")
    add.set_defaults(func=cmd_observer)
    for name, help_text in (
        ("deactivate", "end an observer's access (its tokens stop at once)"),
        ("activate", "undo a deactivation"),
    ):
        parser = commands.add_parser(name, help=help_text)
        parser.add_argument("username")
        parser.set_defaults(func=cmd_observer)
