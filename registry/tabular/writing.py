"""Writing spreadsheets: CSV in a dialect and XLSX workbooks, with the formula guard.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from registry import italian

__all__ = [
    "ITALIAN",
    "MACHINE",
    "CsvDialect",
    "Sheet",
    "escape_formula",
    "to_csv",
    "to_xlsx",
    "unescape_formula",
]
# "spreadsheet": every text starting like a formula is guarded; "machine": only text that
# could run something (numbers and phone numbers stay as they are); None: text as it is.
Formulas = Literal["spreadsheet", "machine"] | None

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Without the charset: Litestar adds "; charset=utf-8" to every text/* answer itself.
CSV_MEDIA_TYPE = "text/csv"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# After + or -, only these: a number or a phone number, which cannot call a function or
# reference anything (that needs a letter, a quote, "!" or "|").
_INERT_SIGNED = re.compile(r"^[+-][\d\s./()+-]*$")
# What XLSX (XML 1.0) cannot hold: C0 controls except tab, LF and CR.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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
