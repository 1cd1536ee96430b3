"""What one request (or one worker process's call) computed and the next may use again: a
bounded mapping per process, emptied when full. Its keys carry everything the value depends
on (the ambito and the data marks, or the stored text itself), so a value is never served for
other data; `seconds` bounds how long one is served when something it depends on has no mark
(the link of a volunteer user to a holder, a day's freshness)."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    def __init__(
        self,
        limit: int,
        *,
        seconds: float | None = None,
        weigh: Callable[[K], int] = lambda key: 1,
    ) -> None:
        """At most `limit` entries, or `limit` of their weight (their keys' by `weigh`, or as
        given to `put`)."""
        self._limit = limit
        self._seconds = seconds
        self._weigh = weigh
        self._weight = 0
        self._values: dict[K, tuple[float, V, int]] = {}

    def get(self, key: K) -> V | None:
        found = self._values.get(key)
        if found is None:
            return None
        if self._seconds is not None and time.monotonic() - found[0] >= self._seconds:
            return None
        return found[1]

    def put(self, key: K, value: V, weight: int | None = None) -> V:
        """Keep `value`; `weight`: its own, instead of its key's by `weigh` (a value put again
        under its key weighs what it weighs now)."""
        if weight is None:
            weight = self._weigh(key)
        self.drop(key)
        if self._weight + weight > self._limit:
            self._values.clear()
            self._weight = 0
        self._weight += weight
        self._values[key] = (time.monotonic(), value, weight)
        return value

    def drop(self, key: K) -> None:
        found = self._values.pop(key, None)
        if found is not None:
            self._weight -= found[2]
