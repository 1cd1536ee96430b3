"""Work in worker processes (registry/offload.py) survives a worker that died while idle."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from registry.offload import in_worker_process, start_workers


async def test_a_worker_killed_while_idle_does_not_fail_the_next_request() -> None:
    pid = await in_worker_process(os.getpid)
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # gone, but not reaped: still in anyio's idle list
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            break
        await asyncio.sleep(0.01)
    assert await in_worker_process(sum, [1, 2, 3]) == 6
    assert await in_worker_process(os.getpid) != pid


def _children() -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)  # both calls at once: each takes a worker of its own
    return os.getpid()


async def test_the_workers_started_ahead_serve_the_first_calls() -> None:
    await start_workers(2)
    started = _children()
    pids = await asyncio.gather(*(in_worker_process(_pid_after, 0.2) for _ in range(2)))
    assert len(set(pids)) == 2 and set(pids) <= started, (pids, started)
