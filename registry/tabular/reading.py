"""Reading an uploaded spreadsheet: CSV/XLSX (and zip archives) into a table of text cells.

Reading
    ``read_table(data, filename=None, *, sheet=None, max_rows=10_000) -> Table``
        ``data`` is the uploaded file's bytes. XLSX is recognised by its zip signature (or an
        ``.xlsx`` filename); anything else is CSV, decoded as UTF-8 (a BOM is accepted), with
        the delimiter sniffed from the header line among ``;``, ``,`` and TAB. The first
        non-empty row is the header (line 1 in CSV); headers are normalised (trimmed,
        lower-cased, spaces and dashes become ``_``). Rows whose cells are all blank are
        skipped. Every cell arrives as a trimmed ``str`` or ``None`` (blank), whatever the
        format: XLSX numbers, dates and booleans are written the way a CSV would carry them
        (``12``, ``2026-03-01``, ``true``), so one validator serves both formats.
        A file that cannot be read at all raises ``TabularError`` (-> ``InvalidInput``,
        field ``file``). XLSX workbooks are zip archives: ``check_zip`` refuses them first
        when they would expand past ``ArchiveLimits`` (``ArchiveTooLarge``, 413).

    ``read_zip(data, accept, limits=ArchiveLimits()) -> {name: bytes}``: the members of an
        uploaded zip whose name ``accept`` takes, read in chunks under limits per member, in
        total and on the compression ratio (a "zip bomb" is refused before it is expanded,
        and reading stops at the limit whatever the archive claims).

    ``Table(headers, rows)``; ``Row(line, values)``: ``line`` is the row's number as the
        person sees it (the spreadsheet row; in CSV the physical line where the record
        starts, header = line 1), ``values`` maps header -> cell.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from registry.errors import InvalidInput

__all__ = [
    "ArchiveLimits",
    "ArchiveTooLarge",
    "NativeNumber",
    "Row",
    "Table",
    "TabularError",
    "check_zip",
    "read_table",
    "read_zip",
]
DEFAULT_MAX_ROWS = 10_000
_DELIMITERS = (";", ",", "\t")


class TabularError(InvalidInput):
    """The file as a whole cannot be read (not UTF-8, not a spreadsheet, no header...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


class ArchiveTooLarge(TabularError):
    """A zip that would expand past the limits: refused before it is expanded."""

    status_code = 413


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How far an uploaded zip (a data package, an XLSX workbook) may expand.

    An ambito's HSDS package is a few MB of CSV; text compresses about 5-20 times, a sheet of
    identical rows maybe 100: a higher ratio is a bomb, not data.
    """

    member_bytes: int = 25_000_000
    total_bytes: int = 100_000_000
    ratio: int = 200
    members: int = 1_000
    # Below this size a member's ratio is not judged (tiny files compress oddly).
    ratio_floor_bytes: int = 1_000_000


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Table:
    headers: list[str]
    rows: list[Row]


class NativeNumber(str):
    """The text of a numeric XLSX cell: a number already, never reinterpreted."""

    __slots__ = ()


# --- reading ------------------------------------------------------------------------------


def normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def is_xlsx(data: bytes, filename: str | None = None) -> bool:
    if filename and filename.lower().endswith((".xlsx", ".xlsm")):
        return True
    return data[:4] == b"PK\x03\x04"


def _size(size: int) -> str:
    return f"{size / 1_000_000:.0f} MB" if size >= 1_000_000 else f"{size} bytes"


def check_zip(
    archive: zipfile.ZipFile,
    limits: ArchiveLimits = ArchiveLimits(),
    accept: Callable[[str], bool] | None = None,
) -> list[zipfile.ZipInfo]:
    """The members (those `accept` takes) if their declared sizes are within the limits.

    Python's zipfile never expands a member past its declared size (more is a CRC error), so
    this check bounds what reading can produce; `read_zip` counts again while reading.
    """
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > limits.members:
        raise ArchiveTooLarge(f"the archive has more than {limits.members} files")
    chosen = [i for i in infos if accept is None or accept(i.filename)]
    total = 0
    for info in chosen:
        if info.file_size > limits.member_bytes:
            raise ArchiveTooLarge(
                f"'{info.filename}' expands to {_size(info.file_size)}: at most "
                f"{_size(limits.member_bytes)} per file"
            )
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.ratio * max(
            info.compress_size, 1
        ):
            raise ArchiveTooLarge(
                f"'{info.filename}' is compressed {info.file_size // max(info.compress_size, 1)}"
                f" times: at most {limits.ratio} (this looks like a zip bomb)"
            )
        total += info.file_size
        if total > limits.total_bytes:
            raise ArchiveTooLarge(
                f"the archive expands to more than {_size(limits.total_bytes)} in all"
            )
    return chosen


def read_zip(
    data: bytes,
    accept: Callable[[str], bool] | None = None,
    limits: ArchiveLimits = ArchiveLimits(),
) -> dict[str, bytes]:
    """The accepted members' bytes, read in chunks and never past the limits."""
    chunk = 1 << 20
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files: dict[str, bytes] = {}
            total = 0
            for info in check_zip(archive, limits, accept):
                parts: list[bytes] = []
                size = 0
                with archive.open(info) as member:
                    while piece := member.read(chunk):
                        size += len(piece)
                        total += len(piece)
                        if size > limits.member_bytes or total > limits.total_bytes:
                            raise ArchiveTooLarge(
                                f"'{info.filename}' expands past the limits "
                                f"({_size(limits.member_bytes)} per file, "
                                f"{_size(limits.total_bytes)} in all)"
                            )
                        parts.append(piece)
                files[info.filename] = b"".join(parts)
            return files
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise TabularError(f"not a readable zip archive: {error}") from error
    except NotImplementedError as error:  # an unsupported compression method
        raise TabularError(f"the zip archive cannot be read: {error}") from error


def read_table(
    data: bytes,
    filename: str | None = None,
    *,
    sheet: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Table:
    if not data or not data.strip():
        raise TabularError("the file is empty")
    if is_xlsx(data, filename):
        headers, rows = _read_xlsx(data, sheet, max_rows)
    else:
        headers, rows = _read_csv(data, max_rows)
    return _table(headers, rows)


def _table(headers: list[str], raw_rows: list[tuple[int, list[str | None]]]) -> Table:
    names = [normalise_header(h or "") for h in headers]
    # Trailing blank header cells are common in spreadsheets; inner ones are a mistake.
    while names and not names[-1]:
        names.pop()
    if not names:
        raise TabularError("the first row must be a header naming the columns")
    for index, name in enumerate(names):
        if not name:
            raise TabularError(f"column {index + 1} of the header has no name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise TabularError(f"the header names column '{name}' twice")
        seen.add(name)
    rows: list[Row] = []
    for line, cells in raw_rows:
        if all(c is None for c in cells):
            continue
        values = {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(names)}
        extra = [c for c in cells[len(names) :] if c is not None]
        if extra:
            # A value under no header would be silently lost: name it with a reserved key.
            values["__extra__"] = "; ".join(extra)
        rows.append(Row(line=line, values=values))
    return Table(headers=names, rows=rows)


def _cell_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _read_csv(data: bytes, max_rows: int) -> tuple[list[str], list[tuple[int, list[str | None]]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TabularError(
            f"the CSV file is not UTF-8 (byte {error.start}): save it as 'CSV UTF-8' "
            "(in Excel: Salva con nome > CSV UTF-8)"
        ) from error
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=lambda d: (first_line.count(d), d == ";"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] | None = None
    rows: list[tuple[int, list[str | None]]] = []
    start = 1
    try:
        for record in reader:
            cells = [_cell_text(c) for c in record]
            if headers is None:
                if any(c is not None for c in cells):
                    headers = [c or "" for c in cells]
            elif any(c is not None for c in cells):
                rows.append((start, cells))
                if len(rows) > max_rows:
                    raise TabularError(f"the file has more than {max_rows} rows: split it")
            start = reader.line_num + 1
    except csv.Error as error:
        raise TabularError(f"line {reader.line_num}: the CSV is malformed: {error}") from error
    if headers is None:
        raise TabularError("the file has no header row")
    return headers, rows


def _xlsx_text(value: Any) -> str | None:
    """A cell as the text a CSV export would hold for it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return NativeNumber(str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, Decimal):
        return NativeNumber(format(value.normalize(), "f"))
    if isinstance(value, int):
        return NativeNumber(str(value))
    return _cell_text(str(value))


def _read_xlsx(
    data: bytes, sheet: str | None, max_rows: int
) -> tuple[list[str], list[tuple[int, list[str | None]]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_zip(archive)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise TabularError(f"the file is not a readable XLSX workbook: {error}") from error
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                names = ", ".join(workbook.sheetnames)
                raise TabularError(f"the workbook has no sheet '{sheet}' (sheets: {names})")
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        headers: list[str] | None = None
        rows: list[tuple[int, list[str | None]]] = []
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [_xlsx_text(v) for v in values]
            if headers is None:
                if any(c is not None for c in cells):
                    headers = [c or "" for c in cells]
            elif any(c is not None for c in cells):
                rows.append((number, cells))
                if len(rows) > max_rows:
                    raise TabularError(f"the sheet has more than {max_rows} rows: split it")
    finally:
        workbook.close()
    if headers is None:
        raise TabularError("the sheet has no header row")
    return headers, rows
