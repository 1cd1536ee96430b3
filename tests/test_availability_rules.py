"""RRULE expansion of availability windows (pure, no database)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import InvalidInput
from registry.resources.availability import (
    MAX_RANGE_DAYS,
    Window,
    _weekday,
    expand,
    occurrences,
    validate,
    weekly_pattern,
)


def window(**changes) -> Window:
    base = {
        "freq": "WEEKLY",
        "by_day": ("MO", "WE"),
        "start_time": time(9),
        "end_time": time(12),
        "valid_from": date(2026, 1, 5),
    }
    return Window(**{**base, **changes})


def test_weekly_on_two_days_gives_those_days_only() -> None:
    days = occurrences(window(), date(2026, 3, 1), date(2026, 3, 14))
    assert days == [date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 9), date(2026, 3, 11)]


def test_interval_counts_from_the_window_start_not_the_range_start() -> None:
    # Every second week from Monday 5 January 2026: 5 Jan, 19 Jan, 2 Feb, 16 Feb, 2 Mar...
    every_other = window(by_day=("MO",), interval=2)
    assert occurrences(every_other, date(2026, 2, 23), date(2026, 3, 10)) == [date(2026, 3, 2)]


def test_monthly_first_saturday_and_last_friday() -> None:
    rule = window(freq="MONTHLY", by_day=("1SA", "-1FR"))
    days = occurrences(rule, date(2026, 5, 1), date(2026, 6, 30))
    assert days == [date(2026, 5, 2), date(2026, 5, 29), date(2026, 6, 6), date(2026, 6, 26)]


def test_exceptions_and_validity_bounds_are_respected() -> None:
    rule = window(
        by_day=("MO",), valid_until=date(2026, 3, 23), exceptions=frozenset({date(2026, 3, 9)})
    )
    days = occurrences(rule, date(2026, 3, 1), date(2026, 4, 30))
    assert days == [date(2026, 3, 2), date(2026, 3, 16), date(2026, 3, 23)]


def test_daily_window_before_it_starts_is_empty() -> None:
    assert occurrences(window(freq="DAILY", by_day=()), date(2025, 1, 1), date(2025, 12, 31)) == []


def test_slots_carry_times_and_capacity_in_order() -> None:
    morning = window(by_day=("TU",), capacity=3, id="a")
    evening = window(by_day=("TU",), start_time=time(18), end_time=time(20), id="b")
    slots = expand([evening, morning], date(2026, 3, 3), date(2026, 3, 3))
    assert [(s.window_id, s.start.time(), s.end.time(), s.capacity) for s in slots] == [
        ("a", time(9), time(12), 3),
        ("b", time(18), time(20), 1),
    ]


def test_ranges_are_bounded() -> None:
    with pytest.raises(InvalidInput) as error:
        expand([window(freq="DAILY", by_day=())], date(2026, 1, 1), date(2027, 6, 1))
    assert error.value.field == "to" and str(MAX_RANGE_DAYS) in error.value.message
    with pytest.raises(InvalidInput):
        expand([window()], date(2026, 3, 10), date(2026, 3, 1))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"freq": "HOURLY"}, "freq"),
        ({"interval": 0}, "interval"),
        ({"interval": 500}, "interval"),
        ({"start_time": time(12), "end_time": time(9)}, "end_time"),
        ({"valid_until": date(2025, 1, 1)}, "valid_until"),
        ({"by_day": ("MO", "XX")}, "by_day[1]"),
        ({"by_day": ("1MO",)}, "by_day[0]"),  # ordinal without MONTHLY
        ({"by_day": ("MO", "MO")}, "by_day"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_invalid_windows_name_their_field(changes: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate(window(**changes))
    assert error.value.field == field


def test_weekly_pattern_for_matching() -> None:
    assert weekly_pattern(window()) == [(0, 540, 720), (2, 540, 720)]
    assert len(weekly_pattern(window(freq="DAILY", by_day=()))) == 7


def _walked_from_the_start(rule: Window, start: date, end: date) -> list[date]:
    """The expansion as RFC 5545 reads it: every period from valid_from on (slow, obvious)."""
    last = min(end, rule.valid_until) if rule.valid_until else end
    walked = rrule.rrule(
        {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY, "MONTHLY": rrule.MONTHLY}[rule.freq],
        interval=rule.interval,
        dtstart=datetime.combine(rule.valid_from, time()),
        until=datetime.combine(last, time()),
        byweekday=[_weekday(d) for d in rule.by_day] or None,
        wkst=rrule.MO,
    )
    return [
        moment.date()
        for moment in walked
        if start <= moment.date() <= last and moment.date() not in rule.exceptions
    ]


_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_MONTHLY_DAYS = [*_DAYS, "1MO", "2TU", "3WE", "4TH", "-1FR", "1SA", "-1SU", "5SA"]


@st.composite
def _rules_and_ranges(draw: st.DrawFn) -> tuple[Window, date, date]:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]))
    pool = _MONTHLY_DAYS if freq == "MONTHLY" else _DAYS
    valid_from = draw(st.dates(date(1995, 1, 1), date(2030, 12, 31)))
    start = draw(st.dates(valid_from - timedelta(days=60), date(2036, 12, 31)))
    end = start + timedelta(days=draw(st.integers(0, MAX_RANGE_DAYS - 1)))
    until = draw(st.none() | st.dates(valid_from, date(2037, 12, 31)))
    rule = window(
        freq=freq,
        interval=draw(st.integers(1, 7)),
        by_day=tuple(draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))),
        valid_from=valid_from,
        valid_until=until,
        exceptions=frozenset(draw(st.lists(st.dates(start, end), max_size=3))),
    )
    return rule, start, end


@settings(max_examples=150, deadline=None)
@given(_rules_and_ranges())
def test_expansion_near_the_range_equals_walking_from_the_window_start(
    case: tuple[Window, date, date],
) -> None:
    rule, start, end = case
    assert occurrences(rule, start, end) == _walked_from_the_start(rule, start, end)


def test_an_old_window_expands_in_a_far_range() -> None:
    # Monthly on the 31st since 2000: the months of 9999 that have a 31st.
    rule = window(freq="MONTHLY", by_day=(), valid_from=date(2000, 1, 31))
    days = occurrences(rule, date(9999, 1, 1), date(9999, 12, 31))
    assert [d.month for d in days] == [1, 3, 5, 7, 8, 10, 12]
    every_third_day = window(freq="DAILY", by_day=(), interval=3, valid_from=date(2000, 1, 1))
    days = occurrences(every_third_day, date(9999, 12, 1), date(9999, 12, 31))
    assert all((d - date(2000, 1, 1)).days % 3 == 0 for d in days) and len(days) in (10, 11)
    fortnightly = window(by_day=("FR",), interval=2, valid_from=date(2000, 1, 3))
    days = occurrences(fortnightly, date(9999, 12, 1), date(9999, 12, 31))
    assert days and all(d.weekday() == 4 for d in days)
    assert all((d - date(2000, 1, 7)).days % 14 == 0 for d in days)


def test_slots_are_moments_with_the_offset_of_the_day() -> None:
    rome = ZoneInfo("Europe/Rome")
    night = window(freq="DAILY", by_day=(), start_time=time(2, 30), end_time=time(5))
    slots = {s.day: s for s in expand([night], date(2026, 3, 28), date(2026, 11, 1), rome)}
    assert slots[date(2026, 3, 28)].start.isoformat() == "2026-03-28T02:30:00+01:00"
    # 02:30 does not exist on the spring night: it is read as 03:30 summer time.
    assert slots[date(2026, 3, 29)].start.isoformat() == "2026-03-29T03:30:00+02:00"
    # On the autumn night 02:30 happens twice: the first one (summer time) is meant.
    assert slots[date(2026, 10, 25)].start.isoformat() == "2026-10-25T02:30:00+02:00"
    assert slots[date(2026, 10, 25)].end.isoformat() == "2026-10-25T05:00:00+01:00"
    assert slots[date(2026, 11, 1)].start.isoformat() == "2026-11-01T02:30:00+01:00"
