"""`registry import ...` and `registry export ...` for the exchange formats.

    registry import hsds PATH --ambito CODE [--dry-run] [--strict] [--report FILE]
    registry import holders FILE --ambito CODE [--dry-run]
    registry import resources FILE --ambito CODE [--dry-run]
    registry export hsds --ambito CODE [--format json|datapackage] [-o FILE]
    registry export LIST --ambito CODE [--format csv|xlsx] [-o FILE]

PATH is an HSDS JSON file, a zipped CSV data package, a folder of HSDS CSV files or its
datapackage.json. Long imports show their progress on stderr. The command acts for the
ambito's Ufficio di Piano (the operator of the server is trusted with the whole ambito).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any, TextIO

import msgspec

from registry.access import Principal, Role

LISTS = ("holders", "resources", "availability", "comuni", "taxonomy", "users")


class ProgressPrinter:
    """Progress on stderr: one rewritten line on a terminal, a line per 10% otherwise."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.last: tuple[str, int] = ("", -1)
        self.started = time.monotonic()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.quiet or total <= 0:
            return
        percent = done * 100 // total
        step = percent if self.tty else percent // 10 * 10
        if (phase, step) == self.last and done != total:
            return
        self.last = (phase, step)
        elapsed = time.monotonic() - self.started
        line = f"{phase}: {done}/{total} ({percent}%) {elapsed:.1f}s"
        if self.tty:
            end = "\n" if done == total else ""
            self.stream.write(f"\r{line:<70}{end}")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _operator(ambito_id: uuid.UUID) -> Principal:
    return Principal(
        user_id=uuid.UUID(int=0), username="cli", role=Role.UDP_ADMIN, ambito_id=ambito_id
    )


def _read_path(path: Path) -> tuple[dict[str, bytes] | None, bytes | None]:
    """A folder (or its datapackage.json) gives its files; anything else its bytes."""
    if path.name == "datapackage.json" and path.is_file():
        path = path.parent
    if path.is_dir():
        files = {
            p.name: p.read_bytes()
            for p in sorted(path.iterdir())
            if p.is_file() and p.suffix.lower() in (".csv", ".json")
        }
        return files, None
    return None, path.read_bytes()


def _print_hsds_report(report: Any, out: TextIO) -> None:
    mode = (
        "DRY RUN (nothing written)"
        if report.dry_run
        else ("written" if report.applied else "NOT written (strict: something was rejected)")
    )
    out.write(f"HSDS import of {report.source}: {mode}\n")
    out.write(
        f"{'':14}{'created':>9}{'updated':>9}{'unchanged':>10}{'rejected':>9}{'skipped':>8}\n"
    )
    for entity, counts in report.counts.items():
        out.write(
            f"{entity:<14}{counts.created:>9}{counts.updated:>9}{counts.unchanged:>10}"
            f"{counts.rejected:>9}{counts.skipped:>8}\n"
        )
    for item in report.items:
        if item.action in ("reject", "skip"):
            out.write(
                f"  {item.action} {item.entity} '{item.name}' ({item.source}): "
                f"{'; '.join(item.reasons)}\n"
            )
        elif item.action == "update":
            out.write(f"  update {item.entity} '{item.name}': {', '.join(item.changes)}\n")
    if report.not_mapped:
        out.write("not mapped:\n")
        for entity, why in report.not_mapped.items():
            out.write(f"  {entity}: {why}\n")
    warnings = report.warnings + [
        f"{i.entity} '{i.name}': {w}" for i in report.items for w in i.warnings
    ]
    if warnings:
        out.write(f"{len(warnings)} warning(s):\n")
        for warning in warnings[:50]:
            out.write(f"  {warning}\n")
        if len(warnings) > 50:
            out.write(f"  ... and {len(warnings) - 50} more (see --report)\n")


def cmd_import(args: argparse.Namespace) -> int:
    from registry.cli import _with_db
    from registry.errors import DomainError
    from registry.interop import hsds_import, hsds_read, package, spreadsheets
    from registry.interop.hsds_schema import packaged
    from registry.users.service import ambito_id_by_code

    path = Path(args.path)
    if not path.exists():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    progress = ProgressPrinter(quiet=args.quiet)

    async def work() -> Any:
        actor = _operator(await ambito_id_by_code(args.ambito))
        if args.what == "hsds":
            schemas = packaged()
            files, data = _read_path(path)
            if files is not None:
                tables = package.from_files(files, schemas, progress)
            else:
                tables = hsds_read.read_input(data or b"", path.name, schemas, progress)
            return await hsds_import.import_tables(
                actor,
                tables,
                source=path.name,
                dry_run=args.dry_run,
                strict=args.strict,
                schemas=schemas,
                progress=progress,
            )
        importer = (
            spreadsheets.import_holders if args.what == "holders" else spreadsheets.import_resources
        )
        return await importer(actor, path.read_bytes(), path.name, dry_run=args.dry_run)

    try:
        report = asyncio.run(_with_db(work))
    except DomainError as error:
        where = f" ({error.field})" if error.field else ""
        print(f"error{where}: {error.message}", file=sys.stderr)
        return 2
    if args.report:
        Path(args.report).write_bytes(msgspec.json.format(msgspec.json.encode(report)))
    if args.what == "hsds":
        _print_hsds_report(report, sys.stdout)
        blocked = not report.applied and not args.dry_run
        return 1 if report.rejected and (args.strict or blocked) else 0
    mode = "DRY RUN (nothing written)" if report.dry_run else "written"
    if report.errors:
        mode = "NOT written: fix the rows below"
    print(
        f"{args.what} import of {path.name}: {mode}; rows {report.rows_read}, created "
        f"{report.created}, updated {report.updated}, rejected {report.rejected}"
    )
    for error in report.errors:
        column = f" [{error.field}]" if error.field else ""
        print(f"  line {error.line}{column}: {error.message}")
    return 1 if report.errors else 0


def cmd_export(args: argparse.Namespace) -> int:
    from registry.cli import _with_db
    from registry.errors import DomainError
    from registry.interop import service, spreadsheet_exports
    from registry.users.service import ambito_id_by_code

    async def work() -> tuple[str, bytes]:
        actor = _operator(await ambito_id_by_code(args.ambito))
        if args.what == "hsds":
            if args.format == "datapackage":
                return await service.export_datapackage(actor)
            document = await service.export_document(actor)
            return f"hsds-{args.ambito.lower()}.json", msgspec.json.format(
                msgspec.json.encode(document)
            )
        fmt = args.format if args.format in ("csv", "xlsx") else "csv"
        filename, _, content = await spreadsheet_exports.export_list(actor, args.what, fmt, {})
        return filename, content

    if args.what == "hsds" and args.format not in ("json", "datapackage"):
        print("error: --format for hsds is json or datapackage", file=sys.stderr)
        return 2
    try:
        filename, content = asyncio.run(_with_db(work))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    target = Path(args.output or filename)
    if str(target) == "-":
        sys.stdout.buffer.write(content)
    else:
        target.write_bytes(content)
        print(f"wrote {target} ({len(content)} bytes)", file=sys.stderr)
    return 0


def _subparsers(sub: Any, name: str, help_text: str) -> Any:
    """The `import` / `export` command's own subcommands, shared with other domains: if
    another module registered the command first, its subparsers are reused."""
    parser = sub.choices.get(name)
    if parser is None:
        parser = sub.add_parser(name, help=help_text)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest=f"{name}_what", required=True)


def register(sub: Any) -> None:
    """Add `import hsds|holders|resources` and `export hsds|<list>` to the registry CLI."""
    imports = _subparsers(sub, "import", "import data (HSDS, spreadsheets)")
    for what, help_text in (
        ("hsds", "HSDS JSON, zipped CSV data package, or a folder of HSDS CSV files"),
        ("holders", "holders from a CSV/XLSX spreadsheet (all or nothing)"),
        ("resources", "resources from a CSV/XLSX spreadsheet (all or nothing)"),
    ):
        parser = imports.add_parser(what, help=help_text)
        parser.add_argument("path")
        parser.add_argument("--ambito", required=True, help="ambito code, e.g. OLGIATESE")
        parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
        parser.add_argument("--report", help="also write the full report as JSON to this file")
        parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
        if what == "hsds":
            parser.add_argument(
                "--strict", action="store_true", help="write nothing if any record is rejected"
            )
        parser.set_defaults(func=cmd_import, what=what, strict=False)
    exports = _subparsers(sub, "export", "export data (HSDS, spreadsheets)")
    for what in ("hsds", *LISTS):
        parser = exports.add_parser(what, help=f"export {what}")
        parser.add_argument("--ambito", required=True, help="ambito code, e.g. OLGIATESE")
        parser.add_argument(
            "--format",
            default="json" if what == "hsds" else "csv",
            help="json|datapackage for hsds; csv|xlsx for lists",
        )
        parser.add_argument("-o", "--output", help="file to write ('-' for stdout)")
        parser.set_defaults(func=cmd_export, what=what)
