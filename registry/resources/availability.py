"""Availability windows with RFC 5545 RRULE semantics, expanded into concrete slots.

Pure: plain values in, plain values out. Expansion is always bounded by the requested
range (at most MAX_RANGE_DAYS) and by MAX_SLOTS, so no rule can expand without limit, and its
work is proportional to that range: the rule is re-anchored arithmetically near the range's
start instead of being walked from the window's own start (which may be decades earlier).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from dateutil import rrule

from registry.errors import InvalidInput

MAX_RANGE_DAYS = 366
MAX_SLOTS = 5000
MAX_INTERVAL = 52

_WEEKDAYS = {
    "MO": rrule.MO,
    "TU": rrule.TU,
    "WE": rrule.WE,
    "TH": rrule.TH,
    "FR": rrule.FR,
    "SA": rrule.SA,
    "SU": rrule.SU,
}
WEEKDAY_INDEX = {code: index for index, code in enumerate(_WEEKDAYS)}
_BY_DAY = re.compile(r"^(?P<ordinal>[+-]?[1-5])?(?P<day>MO|TU|WE|TH|FR|SA|SU)$")
_FREQ = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY, "MONTHLY": rrule.MONTHLY}


@dataclass(frozen=True, slots=True)
class Window:
    freq: str
    start_time: time
    end_time: time
    valid_from: date
    interval: int = 1
    by_day: tuple[str, ...] = ()
    valid_until: date | None = None
    exceptions: frozenset[date] = field(default_factory=frozenset)
    capacity: int = 1
    id: object = None


def window_from_row(row: Mapping[str, Any]) -> Window:
    """A stored availability_window row as a rule."""
    return Window(
        id=row["id"],
        freq=row["freq"],
        interval=row["interval"],
        by_day=tuple(row["by_day"] or ()),
        start_time=row["start_time"],
        end_time=row["end_time"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        exceptions=frozenset(row["exceptions"] or ()),
        capacity=row["capacity"],
    )


@dataclass(frozen=True, slots=True)
class Slot:
    window_id: object
    day: date
    start: datetime
    end: datetime
    capacity: int


def validate(window: Window) -> None:
    """Raise InvalidInput naming the field when the window is not a sensible rule."""
    if window.freq not in _FREQ:
        raise InvalidInput("freq must be DAILY, WEEKLY or MONTHLY", field="freq")
    if not 1 <= window.interval <= MAX_INTERVAL:
        raise InvalidInput(f"interval must be between 1 and {MAX_INTERVAL}", field="interval")
    if window.start_time >= window.end_time:
        raise InvalidInput("end_time must be after start_time (same day)", field="end_time")
    if window.valid_until is not None and window.valid_until < window.valid_from:
        raise InvalidInput("valid_until must not be before valid_from", field="valid_until")
    if window.capacity < 1:
        raise InvalidInput("capacity must be at least 1", field="capacity")
    for index, item in enumerate(window.by_day):
        match = _BY_DAY.match(item)
        if match is None:
            raise InvalidInput(
                f"'{item}' is not a day: use MO TU WE TH FR SA SU, or e.g. 1MO / -1FR monthly",
                field=f"by_day[{index}]",
            )
        if match["ordinal"] and window.freq != "MONTHLY":
            raise InvalidInput(
                "an ordinal day (e.g. 1MO) only makes sense with freq MONTHLY",
                field=f"by_day[{index}]",
            )
    if len(set(window.by_day)) != len(window.by_day):
        raise InvalidInput("by_day repeats a day", field="by_day")


def _weekday(item: str) -> rrule.weekday:
    match = _BY_DAY.match(item)
    assert match is not None
    day = _WEEKDAYS[match["day"]]
    return day(int(match["ordinal"])) if match["ordinal"] else day


def check_range(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f"the range may span at most {MAX_RANGE_DAYS} days", field="to")


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _anchor(window: Window, first: date) -> date:
    """The latest day on or before `first` that starts a whole number of rule periods (of
    `interval` days, weeks or months) after valid_from; valid_from itself when `first` is
    still in the first period. Expanding from it yields the same days as expanding from
    valid_from, without walking every period in between."""
    origin = window.valid_from
    if window.freq == "DAILY":
        periods = (first - origin).days // window.interval
        return origin + timedelta(days=periods * window.interval)
    if window.freq == "WEEKLY":
        # Weeks start on Monday (wkst=MO below), as dateutil counts them.
        periods = (_monday(first) - _monday(origin)).days // 7 // window.interval
        if periods == 0:
            return origin
        return _monday(origin) + timedelta(weeks=periods * window.interval)
    months = (first.year - origin.year) * 12 + first.month - origin.month
    periods = months // window.interval
    if periods == 0:
        return origin
    index = origin.year * 12 + origin.month - 1 + periods * window.interval
    return date(index // 12, index % 12 + 1, 1)


def occurrences(window: Window, start: date, end: date) -> list[date]:
    """Days in [start, end] on which the window applies."""
    first = max(start, window.valid_from)
    last = min(end, window.valid_until) if window.valid_until else end
    if first > last:
        return []
    by_weekday = [_weekday(d) for d in window.by_day] or None
    by_month_day = None
    if by_weekday is None and window.freq == "WEEKLY":
        # Without BYDAY the day comes from dtstart, which _anchor may move to a Monday.
        by_weekday = [window.valid_from.weekday()]
    if by_weekday is None and window.freq == "MONTHLY":
        by_month_day = window.valid_from.day  # likewise: _anchor moves to the 1st
    rule = rrule.rrule(
        _FREQ[window.freq],
        interval=window.interval,
        # dtstart anchors the interval count: the window's own start, or a day a whole
        # number of periods later (the count is the same from there).
        dtstart=datetime.combine(_anchor(window, first), time()),
        until=datetime.combine(last, time()),
        byweekday=by_weekday,
        bymonthday=by_month_day,
        wkst=rrule.MO,
        cache=False,
    )
    days: list[date] = []
    for moment in rule.xafter(datetime.combine(first, time()), inc=True):
        day = moment.date()
        if day > last:
            break
        if day not in window.exceptions:
            days.append(day)
            if len(days) > MAX_SLOTS:
                break
    return days


def local_moment(day: date, at: time, zone: tzinfo | None) -> datetime:
    """A wall-clock time of the ambito as an aware moment (naive when zone is None).

    On the autumn night the hour repeats: the first of the two (summer time) is meant. On the
    spring night a time that does not exist (02:30) becomes the moment it is read as, given
    with the offset in force (03:30+02:00).
    """
    if zone is None:
        return datetime.combine(day, at)
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)


def expand(windows: list[Window], start: date, end: date, zone: tzinfo | None = None) -> list[Slot]:
    """Dated slots of the windows in [start, end]; with `zone`, their start and end are
    aware moments of that time zone (so they carry their UTC offset)."""
    check_range(start, end)
    slots: list[Slot] = []
    for window in windows:
        for day in occurrences(window, start, end):
            slots.append(
                Slot(
                    window_id=window.id,
                    day=day,
                    start=local_moment(day, window.start_time, zone),
                    end=local_moment(day, window.end_time, zone),
                    capacity=window.capacity,
                )
            )
            if len(slots) > MAX_SLOTS:
                raise InvalidInput(
                    f"this range expands to more than {MAX_SLOTS} slots: ask for a shorter one",
                    field="to",
                )
    slots.sort(key=lambda slot: (slot.start, str(slot.window_id)))
    return slots


def weekly_pattern(window: Window) -> list[tuple[int, int, int]]:
    """(weekday, start minute, end minute) triples: the shape matching compares schedules on."""
    if window.freq == "DAILY" or not window.by_day:
        days = range(7) if window.freq == "DAILY" else [window.valid_from.weekday()]
    else:
        days = sorted({WEEKDAY_INDEX[_BY_DAY.match(d)["day"]] for d in window.by_day})  # type: ignore[index]
    start = window.start_time.hour * 60 + window.start_time.minute
    end = window.end_time.hour * 60 + window.end_time.minute
    return [(day, start, end) for day in days]


def parse_hhmm(value: str, field_name: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"'{value}' is not a time of day HH:MM", field=field_name) from error
