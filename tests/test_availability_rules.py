"""RRULE expansion of availability windows (pure, no database)."""

from __future__ import annotations

from datetime import date, time

import pytest

from registry.errors import InvalidInput
from registry.resources.availability import (
    MAX_RANGE_DAYS,
    Window,
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
