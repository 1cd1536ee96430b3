"""Identical slow reads asked at the same time computed once, without reading old data.

A caller never gets the answer of a computation that began before it arrived (it could
miss a write the caller has just made): while a computation for a key runs, every new caller
for that key waits for the next one, which starts when the running one ends and serves them
all. So at most two computations per key exist at once, however many callers there are.
Keys must hold everything the answer depends on (the ambito first): callers of different
ambiti never share an answer. Issue 18: 32 clients asking for the metrics summary made 32
computations queue for two worker processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Batcher:
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Task[Any]] = {}
        self._next: dict[Hashable, asyncio.Task[Any]] = {}

    async def run(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        pending = self._next.get(key)
        if pending is None:
            running = self._running.get(key)
            pending = asyncio.get_running_loop().create_task(self._after(key, running, compute))
            if running is None:
                self._running[key] = pending
            else:
                self._next[key] = pending
        # shield: a caller that goes away does not cancel the others' answer.
        return await asyncio.shield(pending)

    async def _after(
        self,
        key: Hashable,
        running: asyncio.Task[Any] | None,
        compute: Callable[[], Awaitable[T]],
    ) -> T:
        if running is not None:
            await asyncio.wait([running])  # its outcome is its callers' business
            if self._next.get(key) is asyncio.current_task():
                del self._next[key]
            self._running[key] = asyncio.current_task()  # type: ignore[assignment]
        try:
            return await compute()
        finally:
            if self._running.get(key) is asyncio.current_task():
                del self._running[key]
