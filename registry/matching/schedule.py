"""Weekly windows as minute-of-week intervals, overlaps and Italian wording."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .model import MINUTES_PER_DAY, WeeklyWindow

WEEKDAYS_IT: tuple[str, ...] = (
    "lunedì",
    "martedì",
    "mercoledì",
    "giovedì",
    "venerdì",
    "sabato",
    "domenica",
)

Interval = tuple[int, int]


def normalise(windows: Sequence[WeeklyWindow]) -> tuple[Interval, ...]:
    """Merge windows into sorted, disjoint minute-of-week intervals.

    Merging first means overlapping windows on one side are never counted
    twice. Windows never cross midnight, so intervals of different days
    never touch with positive length and a week-level overlap equals the sum
    of the per-day overlaps.
    """
    if len(windows) <= 1:  # the common case, without sorting or merging
        return tuple(
            (
                w.weekday * MINUTES_PER_DAY + w.start_minute,
                w.weekday * MINUTES_PER_DAY + w.end_minute,
            )
            for w in windows
        )
    spans = sorted(
        (w.weekday * MINUTES_PER_DAY + w.start_minute, w.weekday * MINUTES_PER_DAY + w.end_minute)
        for w in windows
    )
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def total_minutes(intervals: Iterable[Interval]) -> int:
    return sum(e - s for s, e in intervals)


def overlap_minutes(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> int:
    """Minutes in both interval lists (each normalised), by a linear merge."""
    i = j = total = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if hi > lo:
            total += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def per_day(need: tuple[Interval, ...], offer: tuple[Interval, ...]) -> list[tuple[int, int, int]]:
    """(weekday, overlap minutes, needed minutes) for each day the need asks for."""
    days: dict[int, list[int]] = {}
    for s, e in need:
        day = s // MINUTES_PER_DAY
        days.setdefault(day, [0, 0])[1] += e - s
    for s, e in need:
        day = s // MINUTES_PER_DAY
        days[day][0] += overlap_minutes(((s, e),), offer)
    return [(d, v[0], v[1]) for d, v in sorted(days.items())]


def hours_it(minutes: int) -> str:
    """Hours with an Italian decimal comma: 180 -> "3", 90 -> "1,5"."""
    text = f"{minutes / 60:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def duration_it(minutes: int) -> str:
    """A duration in words: "1 ora", "3 ore", "2 ore e 30 minuti", "45 minuti"."""
    h, m = divmod(minutes, 60)
    parts = []
    if h:
        parts.append(f"{h} {'ora' if h == 1 else 'ore'}")
    if m or not h:
        parts.append(f"{m} {'minuto' if m == 1 else 'minuti'}")
    return " e ".join(parts)


def on_day_it(weekday: int) -> str:
    """ "il martedì", "la domenica" (recurring day, with its article)."""
    return f"{'la' if weekday == 6 else 'il'} {WEEKDAYS_IT[weekday]}"
