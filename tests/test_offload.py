"""Work in worker processes (registry/offload.py) survives a worker that died while idle."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from registry.offload import in_worker_process


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
