"""The registry's one spreadsheet mechanism: CSV/XLSX in, validated rows out; CSV/XLSX out.

Every bulk import (funded interventions, holders, resources...) and every spreadsheet export
goes through this module, so people get the same rules and the same error report everywhere.
It does no database work: a service reads and validates here, then writes the rows itself
inside one `unit_of_work()`, and only when the report has no error (all or nothing).

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

Validating
    ``validate_rows(table, schema, *, aliases=None, check=None) -> Validated[T]``
        ``schema`` is either a msgspec ``Struct`` type or a per-row callable
        ``(values: dict[str, str | None]) -> T`` that raises ``InvalidInput`` (or
        ``msgspec.ValidationError``). With a Struct, the header is checked first (unknown
        columns and missing required columns are errors on line 1), cells are converted with
        ``msgspec.convert(..., strict=False)`` (so "12" -> int, "2026-03-01" -> date); bool
        fields also take "sì"/"no"/"x", float and Decimal fields take Italian spellings
        ("1.234,56", "€ 12,5"), and list-typed fields are split on ``;``, ``|``, ``,`` or new
        lines.
        ``aliases`` maps extra header names (e.g. Italian ones) to field names. ``check(item)``
        runs after conversion for rules across fields and may raise ``InvalidInput``.
        The result holds ``items`` as ``(line, value)`` pairs of the good rows and ``errors``
        as ``RowError(line, field, message)`` for every bad one; a service appends its own
        database checks with ``Validated.fail(line, field, message)``.
        ``error_of(validation_error) -> (field, message)`` words a msgspec error the same way
        for a service that converts rows itself.

Reporting
    ``ImportReport(rows_read, created, updated, rejected, errors, dry_run)``: the answer of
        every import endpoint. ``report(validated, created=..., updated=..., dry_run=...)``
        builds it; ``rejected`` counts the distinct bad lines. With errors nothing is
        written, so created and updated are 0.

Writing
    ``to_csv(columns, rows, *, delimiter=",", bom=True, formulas="spreadsheet",
    dialect=None, headers=None) -> bytes``:
        UTF-8 with a BOM (Excel opens it right), a header line, then one line per row
        (``bom=False`` for files meant for programs). ``rows`` are
        mappings (by column name) or sequences (by position); lists are joined with "; ",
        dates are ISO, ``None`` is blank, enums give their value. Text that a spreadsheet
        would run as a formula (``=``, ``+``, ``-``, ``@``) is prefixed with ``'``.
        ``formulas="machine"`` (files for programs, e.g. the HSDS data package) escapes only
        text that could run something: a leading ``+``/``-`` followed by nothing but digits,
        spaces and ``. / ( ) + -`` (a phone number, a number) is left as it is.
        ``unescape_formula(text)`` undoes the guard when such a file is imported back.
        ``dialect=ITALIAN`` writes what Excel with an Italian locale opens right: ``;``
        between cells, decimal commas without thousands separators (``12000,5``), dates as
        ``31/12/2026``, instants as ``31/12/2026 18:30`` Europe/Rome, ``sì``/``no``, a BOM.
        ``dialect=MACHINE``: ``,``, decimal points, ISO 8601, ``true``/``false``, no BOM.
        A dialect sets delimiter and BOM itself. ``headers`` (one per column) is the header
        line people read (e.g. Italian labels) when ``columns`` are the keys of the rows.
    ``to_xlsx(sheets) -> bytes``: ``sheets`` is a list of ``Sheet(name, columns, rows)`` or a
        mapping ``name -> (columns, rows)``; one worksheet each, header row in bold and frozen.
        A Sheet's ``headers`` replaces the header line as for CSV, and its ``formats`` maps a
        column to an Excel number format (``'#,##0.00 "€"'``, ``"0.0%"``, ``"DD/MM/YYYY"``):
        Excel shows the number with the reader's own separators.
        Text gets the same formula guard as CSV, and the control characters XLSX cannot hold
        (C0 except tab and new lines, as a row stored before input was validated may have)
        become spaces: an export never fails on stored data.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, Literal, TypeVar

import msgspec

from registry import italian
from registry.errors import InvalidInput

__all__ = [
    "ITALIAN",
    "MACHINE",
    "AmbiguousNumber",
    "ArchiveLimits",
    "ArchiveTooLarge",
    "CsvDialect",
    "ImportReport",
    "NativeNumber",
    "Row",
    "RowError",
    "Sheet",
    "Table",
    "TabularError",
    "Validated",
    "check_zip",
    "error_of",
    "escape_formula",
    "import_status",
    "normalise_number",
    "number_kind",
    "read_table",
    "read_zip",
    "report",
    "to_csv",
    "to_xlsx",
    "unescape_formula",
    "validate_rows",
]

T = TypeVar("T")
# "spreadsheet": every text starting like a formula is guarded; "machine": only text that
# could run something (numbers and phone numbers stay as they are); None: text as it is.
Formulas = Literal["spreadsheet", "machine"] | None

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Without the charset: Litestar adds "; charset=utf-8" to every text/* answer itself.
CSV_MEDIA_TYPE = "text/csv"
DEFAULT_MAX_ROWS = 10_000
_DELIMITERS = (";", ",", "\t")
_LIST_SPLIT = re.compile(r"[;|,\n]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# After + or -, only these: a number or a phone number, which cannot call a function or
# reference anything (that needs a letter, a quote, "!" or "|").
_INERT_SIGNED = re.compile(r"^[+-][\d\s./()+-]*$")
# What XLSX (XML 1.0) cannot hold: C0 controls except tab, LF and CR.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_AT_FIELD = re.compile(r"\s*-\s*at\s*`\$\.?([^`]*)`\s*$")
_MISSING = re.compile(r"missing required field `([^`]+)`")


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


class RowError(msgspec.Struct, frozen=True):
    """One problem in one row: its line number, the column (when known) and why."""

    line: int
    field: str | None
    message: str


class ImportReport(msgspec.Struct, kw_only=True):
    """What an import did (or, with dry_run, would do)."""

    rows_read: int
    created: int = 0
    updated: int = 0
    rejected: int = 0
    errors: list[RowError] = []
    # Accepted rows with something changed on the way (e.g. a suppressed ISTAT code mapped).
    warnings: list[RowError] = []
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Table:
    headers: list[str]
    rows: list[Row]


@dataclass(slots=True)
class Validated(Generic[T]):
    rows_read: int
    items: list[tuple[int, T]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    def warn(self, line: int, field_name: str | None, message: str) -> None:
        self.warnings.append(RowError(line=line, field=field_name, message=message))

    def fail(self, line: int, field_name: str | None, message: str) -> None:
        self.errors.append(RowError(line=line, field=field_name, message=message))

    @property
    def ok(self) -> bool:
        return not self.errors

    def good(self) -> list[tuple[int, T]]:
        """The rows with no error at all (a service's later checks may add errors)."""
        bad = {error.line for error in self.errors}
        return [(line, item) for line, item in self.items if line not in bad]


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    columns: Sequence[str]
    rows: Iterable[Mapping[str, Any] | Sequence[Any]]
    headers: Sequence[str] | None = None  # the header line people read, one per column
    formats: Mapping[str, str] | None = None  # column -> Excel number format


@dataclass(frozen=True, slots=True)
class CsvDialect:
    """How numbers, dates and booleans are spelled in a CSV, and how cells are separated."""

    name: str
    delimiter: str
    decimal_comma: bool
    bom: bool
    italian_dates: bool
    true: str
    false: str


# Excel with an Italian locale splits on ";", reads "12,5" as a number and "31/12/2026" as a
# date, and needs the BOM to read UTF-8 (DESIGN.md, "Italian spreadsheets").
ITALIAN = CsvDialect("italian", ";", True, True, True, "sì", "no")
MACHINE = CsvDialect("machine", ",", False, False, False, "true", "false")
CSV_DIALECTS = {d.name: d for d in (ITALIAN, MACHINE)}


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


# --- validating ---------------------------------------------------------------------------


def _unwrap(info: Any) -> Any:
    while isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    return info


_LIST_TYPES = (msgspec.inspect.ListType, msgspec.inspect.SetType, msgspec.inspect.VarTupleType)
_NUMBER_TYPES = (msgspec.inspect.FloatType, msgspec.inspect.DecimalType)
_ITALIAN_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


def normalise_date(cell: str) -> str:
    """Italian spreadsheets write dates as 31/12/2026 (or 31.12.2026): make them ISO 8601."""
    match = _ITALIAN_DATE.match(cell)
    if match is None:
        return cell
    day, month, year = (int(part) for part in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def _has(info: Any, kinds: tuple[type, ...]) -> bool:
    info = _unwrap(info)
    if isinstance(info, msgspec.inspect.UnionType):
        return any(_has(t, kinds) for t in info.types)
    return isinstance(info, kinds)


_TRUE = {"true", "1", "si", "sì", "yes", "vero", "x", "y", "s"}
_FALSE = {"false", "0", "no", "falso", "n"}


def _bool_text(cell: str) -> str:
    lowered = cell.lower()
    if lowered in _TRUE:
        return "true"
    if lowered in _FALSE:
        return "false"
    return cell


class NativeNumber(str):
    """The text of a numeric XLSX cell: a number already, never reinterpreted."""

    __slots__ = ()


class AmbiguousNumber(ValueError):
    """A number that reads two ways (e.g. "1.234"): the row is refused, never guessed."""


NumberKind = Literal["money", "integer", "decimal"]
# Column-name words that make a number an amount in euro.
_MONEY_WORDS = frozenset({"euro", "eur", "importo", "amount"})
# One separator and exactly three digits after it: thousands or decimals?
_ONE_GROUP = re.compile(r"^[-+]?\d{1,3}([.,])\d{3}$")


def number_kind(name: str, info: Any) -> NumberKind:
    """How a column's numbers read: integers, euro amounts (by the column's name), others."""
    if _has(info, (msgspec.inspect.IntType,)) and not _has(info, _NUMBER_TYPES):
        return "integer"
    if _MONEY_WORDS & set(name.lower().split("_")):
        return "money"
    return "decimal"


def _ambiguous(shown: str, text: str, kind: NumberKind) -> str:
    whole = text.replace(".", "").replace(",", "")
    if kind == "decimal":
        return (
            f"'{shown}' is ambiguous: an Italian sheet separates thousands with a dot, other "
            f"programs write the decimal point. Write {whole} for the whole number, or "
            f"{text.replace('.', ',')} with a decimal comma"
        )
    if kind == "money":
        head = text.split(",")[0]
        return (
            f"'{shown}' is ambiguous: euro have two decimals, so this comma may separate "
            f"thousands. Write {whole} (or {head}.{text[-3:]}) for the thousands, or "
            f"{head},{text[-3:-1]} with two decimals"
        )
    dotted = text.replace(",", ".")
    return f"'{shown}' is ambiguous: this column takes whole numbers; write {whole} or {dotted}"


def normalise_number(cell: str, kind: NumberKind = "decimal") -> str:
    """Accept Italian and English number spellings: "1.234,56", "1,234.56", "€ 12,5" -> "12.5".

    The separator written last is the decimal one; a lone separator repeated is a thousands one.
    One separator followed by exactly three digits reads two ways, so the column decides:
    in euro ("money") and integer columns "1.500" is fifteen hundred (an Italian sheet);
    elsewhere "1.234" (hours, say) is refused, and so is "1,500" in euro and integer columns
    (euro have two decimals): `AmbiguousNumber` says how to write it. A native XLSX number
    (`NativeNumber`) is never reinterpreted.
    """
    if isinstance(cell, NativeNumber):
        return str(cell)
    if "€" in cell:
        kind = "money"
    text = re.sub(r"[\s\u00a0€']", "", cell)
    one = _ONE_GROUP.match(text)
    if one is not None:
        if one.group(1) == "." and kind in ("money", "integer"):
            return text.replace(".", "")
        if not (one.group(1) == "," and kind == "decimal"):
            raise AmbiguousNumber(_ambiguous(cell.strip(), text, kind))
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal_mark == "." else "."
        text = text.replace(thousands, "").replace(decimal_mark, ".")
    elif commas:
        text = text.replace(",", ".") if commas == 1 else text.replace(",", "")
    elif dots > 1:
        text = text.replace(".", "")
    return text


def _struct_fields(schema: type[msgspec.Struct]) -> list[msgspec.inspect.Field]:
    info = msgspec.inspect.type_info(schema)
    assert isinstance(info, msgspec.inspect.StructType)
    return list(info.fields)


def _split(cell: str) -> list[str]:
    return [part.strip() for part in _LIST_SPLIT.split(cell) if part.strip()]


def _error_of(error: msgspec.ValidationError) -> tuple[str | None, str]:
    """msgspec says "Expected `int`, got `str` - at `$.hours`": split field and reason."""
    text = str(error)
    match = _AT_FIELD.search(text)
    missing = _MISSING.search(text)
    if missing and (not match or not match.group(1)):
        return missing.group(1), f"'{missing.group(1)}' is required: this cell is blank"
    if not match:
        return None, text
    path = match.group(1)
    name = re.split(r"[.\[]", path, maxsplit=1)[0] or None
    return name, text[: match.start()]


def error_of(error: msgspec.ValidationError) -> tuple[str | None, str]:
    """The field and the reason of a msgspec validation error, as the row report words it."""
    return _error_of(error)


def validate_rows(
    table: Table,
    schema: type[T] | Callable[[dict[str, str | None]], T],
    *,
    aliases: Mapping[str, str] | None = None,
    check: Callable[[T], None] | None = None,
) -> Validated[T]:
    result: Validated[T] = Validated(rows_read=len(table.rows))
    rename = {normalise_header(k): v for k, v in (aliases or {}).items()}
    is_struct = isinstance(schema, type) and issubclass(schema, msgspec.Struct)
    list_fields: set[str] = set()
    number_fields: dict[str, NumberKind] = {}
    bool_fields: set[str] = set()
    date_fields: set[str] = set()
    if is_struct:
        fields = _struct_fields(schema)  # type: ignore[arg-type]
        known = {f.encode_name for f in fields}
        list_fields = {f.encode_name for f in fields if _has(f.type, _LIST_TYPES)}
        number_fields = {
            f.encode_name: number_kind(f.encode_name, f.type)
            for f in fields
            if _has(f.type, (*_NUMBER_TYPES, msgspec.inspect.IntType))
        }
        bool_fields = {f.encode_name for f in fields if _has(f.type, (msgspec.inspect.BoolType,))}
        date_fields = {f.encode_name for f in fields if _has(f.type, (msgspec.inspect.DateType,))}
        present = {rename.get(h, h) for h in table.headers}
        for header in table.headers:
            if rename.get(header, header) not in known:
                result.fail(1, header, f"unknown column '{header}'")
        for f in fields:
            if f.required and f.encode_name not in present:
                result.fail(1, f.encode_name, f"the required column '{f.encode_name}' is missing")
        if result.errors:
            return result
    for row in table.rows:
        if "__extra__" in row.values:
            result.fail(row.line, None, "this row has more cells than the header has columns")
            continue
        values = {rename.get(k, k): v for k, v in row.values.items()}
        try:
            if is_struct:
                cells: dict[str, Any] = {}
                for name, cell in values.items():
                    if cell is None:
                        continue  # blank: the field's default, or "missing" if required
                    if name in list_fields:
                        cells[name] = _split(cell)
                    elif name in number_fields:
                        try:
                            cells[name] = normalise_number(cell, number_fields[name])
                        except AmbiguousNumber as error:
                            raise InvalidInput(str(error), field=name) from error
                    elif name in bool_fields:
                        cells[name] = _bool_text(cell)
                    elif name in date_fields:
                        cells[name] = normalise_date(cell)
                    else:
                        cells[name] = cell
                item = msgspec.convert(cells, schema, strict=False)  # type: ignore[arg-type]
            else:
                item = schema(values)  # type: ignore[operator]
            if check is not None:
                check(item)
        except msgspec.ValidationError as error:
            name, message = _error_of(error)
            result.fail(row.line, name, message)
        except InvalidInput as error:
            result.fail(row.line, error.field, error.message)
        else:
            result.items.append((row.line, item))
    return result


def report(
    validated: Validated[Any], *, created: int = 0, updated: int = 0, dry_run: bool = False
) -> ImportReport:
    errors = sorted(validated.errors, key=lambda e: (e.line, e.field or ""))
    return ImportReport(
        rows_read=validated.rows_read,
        created=0 if errors else created,
        updated=0 if errors else updated,
        rejected=len({e.line for e in errors}),
        errors=errors,
        warnings=sorted(validated.warnings, key=lambda e: (e.line, e.field or "")),
        dry_run=dry_run,
    )


def import_status(rejected: int, *, all_or_nothing: bool = True) -> int:
    """The HTTP status of every import's answer (README, "Imports: one convention").

    200 with the report when the import ran (or, in a dry run, would run): everything
    written, or, for an import that applies what it can (HSDS, not strict), the good records
    written and the rejected ones listed. 422 with the same report when rows were rejected
    in an all-or-nothing import (the spreadsheets, the interventions, HSDS with strict):
    nothing was (or would be) written. A file that cannot be read at all is a 400 (413 if it
    expands too far) with the usual error body, not a report.
    """
    return 422 if all_or_nothing and rejected else 200


# --- writing ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(_plain(v)) for v in value)
    return value


def escape_formula(text: str, formulas: Formulas = "spreadsheet") -> str:
    """Text that a spreadsheet would run as a formula (starting with = + - @ tab CR) gets a
    leading apostrophe, which spreadsheets show as text. Numbers stay numbers. With
    `formulas="machine"` a signed number or phone number ("+39 031 1234") stays too."""
    if not text.startswith(_FORMULA_START) or _numeric(text):
        return text
    if formulas == "machine" and _INERT_SIGNED.match(text):
        return text
    return "'" + text


def unescape_formula(text: str) -> str:
    """Undo `escape_formula` on a value read back from one of our exports."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def _csv_cell(
    value: Any, formulas: Formulas = "spreadsheet", dialect: CsvDialect | None = None
) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        if dialect is not None:
            return dialect.true if value else dialect.false
        return "true" if value else "false"
    if dialect is not None and dialect.italian_dates and isinstance(value, date | datetime):
        if isinstance(value, datetime):
            return italian.short_datetime(value)
        return italian.short_date(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if dialect is not None and dialect.decimal_comma and isinstance(value, float | Decimal):
        return italian.cell_number(float(value))
    text = str(value)
    if formulas and isinstance(value, str):
        # CSV injection: a cell starting with = + - @ would run as a formula in a spreadsheet.
        return escape_formula(text, formulas)
    return text


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cells(columns: Sequence[str], row: Mapping[str, Any] | Sequence[Any]) -> list[Any]:
    if isinstance(row, Mapping):
        return [row.get(c) for c in columns]
    return list(row)


def to_csv(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    delimiter: str = ",",
    bom: bool = True,
    formulas: Formulas = "spreadsheet",
    dialect: CsvDialect | None = None,
    headers: Sequence[str] | None = None,
) -> bytes:
    """`bom=False, formulas="machine"` for files meant for programs that people may still
    open in a spreadsheet (the HSDS data package: "+39 031..." stays a phone number, while
    "=HYPERLINK(...)" is still neutralised); `formulas=None` writes text as it is.
    `dialect` (ITALIAN, MACHINE) sets the delimiter, the BOM and how values are spelled."""
    if dialect is not None:
        delimiter, bom = dialect.delimiter, dialect.bom
    if headers is not None and len(headers) != len(columns):
        raise ValueError("give one header per column")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([_csv_cell(h, formulas) for h in headers] if headers is not None else columns)
    for row in rows:
        writer.writerow([_csv_cell(v, formulas, dialect) for v in _cells(columns, row)])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # XLSX has no time zones: write the instant unambiguously as ISO text.
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        return escape_formula(_XLSX_ILLEGAL.sub(" ", value))
    return value


def _formatted(worksheet: Any, value: Any, number_format: str | None) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if number_format is None or value is None or isinstance(value, str | bool):
        return value
    cell = WriteOnlyCell(worksheet, value=value)
    cell.number_format = number_format
    return cell


def _sheet_title(name: str, taken: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name).strip() or "Foglio"
    title = title[:31]
    base, counter = title, 2
    while title in taken:
        suffix = f" ({counter})"
        title = base[: 31 - len(suffix)] + suffix
        counter += 1
    taken.add(title)
    return title


def to_xlsx(
    sheets: Sequence[Sheet]
    | Mapping[str, tuple[Sequence[str], Iterable[Mapping[str, Any] | Sequence[Any]]]],
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if isinstance(sheets, Mapping):
        sheets = [Sheet(name, columns, rows) for name, (columns, rows) in sheets.items()]
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    taken: set[str] = set()
    for sheet in sheets:
        worksheet = workbook.create_sheet(_sheet_title(sheet.name, taken))
        worksheet.freeze_panes = "A2"
        header = []
        for text in sheet.headers if sheet.headers is not None else sheet.columns:
            cell = WriteOnlyCell(worksheet, value=_xlsx_cell(text))
            cell.font = bold
            header.append(cell)
        worksheet.append(header)
        formats = [(sheet.formats or {}).get(c) for c in sheet.columns]
        for row in sheet.rows:
            values = [_xlsx_cell(v) for v in _cells(sheet.columns, row)]
            if any(formats):
                pairs = zip(values, formats, strict=True)
                worksheet.append([_formatted(worksheet, v, f) for v, f in pairs])
            else:
                worksheet.append(values)
    if not taken:
        workbook.create_sheet("Foglio")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
