"""`registry comuni load FILE [--variations FILE]`: read a newer official ISTAT list.

The result is written to the override directory (REGISTRY_COMUNI_DIR, default ./comuni),
which every process of the registry reads instead of the packaged list (within a minute).
No database work: the list is reference data, the same for every ambito.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from registry import geo, italian
from registry.comuni import istat


def load(
    elenco: Path, variations: Path | None, on: date, *, dry_run: bool = False
) -> istat.BuildReport:
    listed = istat.read_elenco(elenco.read_bytes(), elenco.name)
    known = istat.read_variations(variations.read_bytes(), variations.name) if variations else []
    catalogue, report = istat.build(geo.catalogue(), listed, known, on)
    if not dry_run:
        header = [
            f"The Italian comuni from ISTAT's file {elenco.name}, loaded on {italian.today()}",
            f"with `registry comuni load` (variations: {variations.name if variations else '-'}).",
            "Source: ISTAT, CC BY 4.0; centroids and CAP as in registry/data/README.md.",
        ]
        geo.write_files(catalogue, geo.override_dir(), header)
        geo.reload()
    return report


def cmd_load(args: argparse.Namespace) -> int:
    try:
        on = date.fromisoformat(args.on) if args.on else italian.today()
    except ValueError:
        print(f"error: --on '{args.on}' is not a date (YYYY-MM-DD)", file=sys.stderr)
        return 2
    for path in filter(None, (args.file, args.variations)):
        if not path.is_file():
            print(f"error: no file {path}", file=sys.stderr)
            return 2
    try:
        report = load(args.file, args.variations, on, dry_run=args.dry_run)
    except istat.IstatFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    if args.dry_run:
        print("dry run: nothing written")
    else:
        print(f"written to {geo.override_dir()}; running services pick it up within a minute")
    return 0


def cmd_status(_: argparse.Namespace) -> int:
    catalogue = geo.catalogue()
    print(f"{len(catalogue.comuni)} comuni from {catalogue.source}")
    latest = catalogue.variations[-1] if catalogue.variations else None
    if latest is not None:
        print(f"latest variation: {latest.on} {latest.kind} {latest.old_code} -> {latest.new_code}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    comuni = sub.add_parser("comuni", help="the ISTAT list of comuni")
    comuni_sub = comuni.add_subparsers(dest="comuni_command", required=True)
    load_parser = comuni_sub.add_parser(
        "load", help="load ISTAT's 'Elenco comuni italiani' (CSV or XLSX) as today's list"
    )
    load_parser.add_argument("file", type=Path, help="Elenco-comuni-italiani.csv (or .xlsx)")
    load_parser.add_argument(
        "--variations",
        type=Path,
        help="ISTAT's 'Variazioni amministrative e territoriali' CSV: the successors of "
        "suppressed codes",
    )
    load_parser.add_argument(
        "--on", help="date of the changes the list implies (recodings), default today"
    )
    load_parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    load_parser.set_defaults(func=cmd_load)
    comuni_sub.add_parser("status", help="where today's list comes from").set_defaults(
        func=cmd_status
    )
