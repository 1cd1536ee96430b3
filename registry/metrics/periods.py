"""The period and threshold of a metrics query: validation of the dates asked and the
suppression threshold."""

from __future__ import annotations

import os
from datetime import date, timedelta

from registry.errors import InvalidInput
from registry.metrics import compute
from registry.metrics.compute import Period

MAX_RANGE_DAYS = 366 * 5
SISTAN_MINIMUM = 3


def min_count() -> int:
    """The suppression threshold (REGISTRY_METRICS_MIN_COUNT, default 5, never below the
    Sistan minimum of 3)."""
    raw = os.environ.get("REGISTRY_METRICS_MIN_COUNT", "").strip()
    if not raw:
        return 5
    try:
        value = int(raw)
    except ValueError as error:
        raise RuntimeError("REGISTRY_METRICS_MIN_COUNT must be a whole number") from error
    return max(SISTAN_MINIMUM, value)


def month_end(day: date) -> date:
    return _natural(day.replace(day=1), "month").end


def check_range(start: date | None, end: date | None, today: date) -> Period:
    """The period asked, validated: whole calendar months, never past today.

    Default: the year to date (1 January to today). `from` must be the first day of a month
    and `to` the last day of a month or today: figures are published for whole months only,
    so two answers can never be subtracted to reveal a day or a week a table withholds
    (method notes of the report, README "Metrics"). A `to` after today is cut to today:
    public spending is prorated over the days already lived, like the contributions."""
    if start is None and end is None:
        start, end = date(today.year, 1, 1), today
    elif start is None:
        raise InvalidInput("give 'from' together with 'to'", field="from")
    elif end is None:
        raise InvalidInput("give 'to' together with 'from'", field="to")
    if end < start:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    if start > today:
        raise InvalidInput(
            "'from' is in the future: the metrics cover days already lived", field="from"
        )
    if start.day != 1:
        raise InvalidInput(
            "'from' must be the first day of a month: figures are published for whole "
            "calendar months only (so that overlapping periods cannot reveal withheld cells)",
            field="from",
        )
    if end != month_end(end) and end != today:
        raise InvalidInput(
            "'to' must be the last day of a month, or today for the running month: figures "
            "are published for whole calendar months only",
            field="to",
        )
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput("the period can span at most five years", field="to")
    end = min(end, today)
    key = calendar_key(start, end, today)
    return Period(key or f"{start.isoformat()}/{end.isoformat()}", start, end)


def calendar_key(start: date, end: date, today: date | None = None) -> str | None:
    """'2025', '2025-Q2' or '2025-03' when [start, end] is exactly that calendar period, or
    that period to date (it is running and `end` is today)."""
    if start.day != 1:
        return None
    for granularity, months in (("month", None), ("quarter", (1, 4, 7, 10)), ("year", (1,))):
        if months is not None and start.month not in months:
            continue
        natural = _natural(start, granularity)
        if natural.end == end or (end == today and natural.end > end):
            return natural.key
    return None


def _natural(start: date, granularity: str) -> Period:
    step = {"month": 1, "quarter": 3, "year": 12}[granularity]
    month = start.month - 1 + step
    following = date(start.year + month // 12, month % 12 + 1, 1)
    return Period(compute.bucket_key(start, granularity), start, following - timedelta(days=1))
