"""CPU-heavy pure work off the event loop, in worker processes.

A worker thread is not enough for pure-Python work (QR codes, workbooks, reports): it holds
the GIL, and the event loop waits for it at every switch, so `/health` still took hundreds
of milliseconds while one rendered (bench/event_loop.py). A worker process has its own
interpreter. anyio keeps the workers (at most one per core, started on first use, stopped
after 5 idle minutes or with the event loop); arguments and results travel pickled, so give
plain values, module-level functions, and keep them small.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_process

T = TypeVar("T")


async def in_worker_process(func: Callable[..., T], *args: Any) -> T:
    """func(*args) in a worker process; its exception, if any, is raised here.

    A worker that died meanwhile (the kernel's OOM killer, an operator's kill) is still in
    anyio's idle list until it is taken, and taking it failed the request with a 500: the
    work is pure, so it is given once more, to a new worker."""
    try:
        return await anyio.to_process.run_sync(_then_freeze, func, *args)
    except anyio.BrokenWorkerProcess:
        return await anyio.to_process.run_sync(_then_freeze, func, *args)


def _then_freeze(func: Callable[..., T], *args: Any) -> T:
    """func(*args), then every object the worker holds is set aside from the cyclic garbage
    collector (gc.freeze). What the metrics keep between calls (registry/metrics/kept.py:
    decoded months, protections) is most of a worker's heap, and each full collection went
    through all of it: a summary that took 9 ms took 140 ms one call in ten. Frozen objects
    are still freed when no longer referenced; only a cycle among them would stay, and the
    call's own objects are gone by now but its result."""
    result = func(*args)
    gc.freeze()
    return result


def _started() -> None:
    """Nothing but the imports of the pure modules most offloaded work runs (the metrics')."""
    import registry.metrics.month_facts
    import registry.metrics.publication  # noqa: F401


async def start_workers(count: int | None = None) -> None:
    """Start the worker processes now, one per core, so that the first requests that need
    them do not wait for new interpreters: under load the first summaries after a start
    took 0.7-1 s, half of it starting the two workers and importing the metrics there.
    anyio starts a new worker for each call made while every other one is busy."""
    await asyncio.gather(
        *(in_worker_process(_started) for _ in range(count or os.cpu_count() or 1))
    )
