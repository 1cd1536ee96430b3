"""Validating a table's rows against a schema, and the report of an import.

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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import msgspec

from registry.errors import InvalidInput
from registry.tabular.reading import NativeNumber, Table, normalise_header

__all__ = [
    "AmbiguousNumber",
    "ImportReport",
    "RowError",
    "Validated",
    "error_of",
    "import_status",
    "normalise_number",
    "number_kind",
    "report",
    "validate_rows",
]

T = TypeVar("T")
_LIST_SPLIT = re.compile(r"[;|,\n]")
_AT_FIELD = re.compile(r"\s*-\s*at\s*`\$\.?([^`]*)`\s*$")
_MISSING = re.compile(r"missing required field `([^`]+)`")


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
