"""The one Italian formatter of what people download: numbers, euro, shares, dates, times
(Europe/Rome) and period names, through Babel's CLDR data for it_IT.

Two families:
- for reading (report, PDF, charts): grouped thousands and fixed decimals, "12.000,00 €",
  "2,8%", "1 gennaio 2025", "6 dicembre 2026, ore 15:23";
- for spreadsheet cells (CSV in the Italian dialect): what Italian Excel reads back as a number
  or a date, so no thousands separator: "12000,5", "01/01/2025", "06/12/2026 15:23".

A missing (withheld or not computable) value reads "n.d." everywhere.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

LOCALE = "it_IT"
ROME = ZoneInfo("Europe/Rome")
MISSING = "n.d."

_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_KEY = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR_KEY = re.compile(r"^(\d{4})$")
_RANGE_KEY = re.compile(r"^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})$")


def today(moment: datetime | None = None) -> date:
    """The day in Italy of `moment` (default now), whatever the machine's time zone: the day a
    running period ends on, what "today" means for due dates and deadlines."""
    return (moment or datetime.now(UTC)).astimezone(ROME).date()


def number(value: float | int | None, digits: int | None = None) -> str:
    """1.234,5 (digits=None: up to two decimals, none for a whole number)."""
    if value is None:
        return MISSING
    if digits is None:
        pattern = "#,##0.##"
    elif digits == 0:
        pattern = "#,##0"
    else:
        pattern = "#,##0." + "0" * digits
    return format_decimal(value, format=pattern, locale=LOCALE)


def count(value: int, one: str, many: str) -> str:
    """«1 fascia», «3 fasce», «1.200 ore»: the number with the noun's form that agrees."""
    return f"{number(value, 0)} {one if value == 1 else many}"


def euro(value: float | None, digits: int = 2) -> str:
    if value is None:
        return MISSING
    return f"{number(value, digits)} €"


def percent(share: float | None, digits: int = 1) -> str:
    """A share between 0 and 1 as "2,8%"."""
    if share is None:
        return MISSING
    return f"{number(share * 100, digits)}%"


def long_date(day: date | None) -> str:
    return MISSING if day is None else format_date(day, format="d MMMM yyyy", locale=LOCALE)


def short_date(day: date | None) -> str:
    return MISSING if day is None else format_date(day, format="dd/MM/yyyy", locale=LOCALE)


def rome(moment: datetime) -> datetime:
    """An instant on the Italian clock (a naive datetime is taken as UTC, as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ROME)


def long_datetime(moment: datetime | None) -> str:
    """ "6 dicembre 2026, ore 15:23" on the Italian clock."""
    if moment is None:
        return MISSING
    return format_datetime(rome(moment), format="d MMMM yyyy, 'ore' HH:mm", locale=LOCALE)


def short_datetime(moment: datetime | None) -> str:
    if moment is None:
        return MISSING
    return format_datetime(rome(moment), format="dd/MM/yyyy HH:mm", locale=LOCALE)


def cell_number(value: float | int) -> str:
    """A number as Italian Excel reads it back as a number: decimal comma, no grouping."""
    if isinstance(value, int):
        return str(value)
    return format_decimal(value, format="0.##########", locale=LOCALE)


def period_label(key: str, *, short: bool = False) -> str:
    """A period key as people say it: 2025-03 -> "marzo 2025" ("mar 2025" short),
    2025-Q1 -> "1º trimestre 2025" ("T1 2025"), 2025 -> "anno 2025" ("2025"),
    2025-01-01/2025-06-30 -> "1 gennaio 2025 – 30 giugno 2025"."""
    if match := _MONTH_KEY.match(key):
        day = date(int(match.group(1)), int(match.group(2)), 1)
        return format_date(day, format="LLL yyyy" if short else "LLLL yyyy", locale=LOCALE)
    if match := _QUARTER_KEY.match(key):
        year, quarter = match.groups()
        return f"T{quarter} {year}" if short else f"{quarter}º trimestre {year}"
    if match := _YEAR_KEY.match(key):
        return key if short else f"anno {key}"
    if match := _RANGE_KEY.match(key):
        start, end = (date.fromisoformat(part) for part in match.groups())
        if short:
            return f"{short_date(start)}–{short_date(end)}"
        return f"{long_date(start)} – {long_date(end)}"
    return key
