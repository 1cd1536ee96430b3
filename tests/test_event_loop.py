"""No request may stall the event loop.

A real uvicorn server on a loopback port (its own temporary SQLite database, the demo
ambito) answers each heavy request over and over for a second while `GET /health` is sent
every 20 ms, each probe on its own: the probes' p95 must stay under 100 ms. The server, the
data and the requests are bench/event_loop.py's, which prints the same figures.

The machine is shared: one pause of the whole server process (the OS, a garbage collection)
can spoil one measurement, so a second one is taken before failing. A request that holds the
event loop fails both.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

# Latency bounds: run alone (not beside another pytest-xdist worker), see the Makefile.
pytestmark = pytest.mark.serial

P95_BOUND = 0.100  # seconds
HEAVY = [
    "login with a wrong password",
    "slots 9999-01-01..9999-12-31",
    "metrics summary, live, filtered",
    "metrics timeseries, live",
    "metrics network, live",
    "metrics export.xlsx, live",
    "metrics report.html, live",
    "resources export xlsx",
    "HSDS export (data package)",
    "resources spreadsheet import (dry run)",
    "HSDS import (dry run)",
    "QR png, scale 40",
    "QR printable sheet",
    "matching run",
    "matching suggestions for a need",
]


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "bench" / "event_loop.py"
    spec = importlib.util.spec_from_file_location("bench_event_loop", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[tuple[str, dict]]:
    async with bench.running_registry() as base:
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            cases = {case.name: case for case in await bench.prepare(client)}
        # The first use starts the worker processes: not what is measured.
        await bench.measure(base, cases["QR png, scale 40"], 0)
        yield base, cases


async def _measured(base: str, case: Any) -> Any:
    """The better of up to two measurements of one second."""
    outcome = await bench.measure(base, case, 1.0)
    if outcome.health.p95 >= P95_BOUND:
        outcome = min(outcome, await bench.measure(base, case, 1.0), key=lambda o: o.health.p95)
    return outcome


async def test_health_is_fast_when_idle(server: tuple[str, dict]) -> None:
    base, _ = server
    outcome = await _measured(base, None)
    assert outcome.health.probes >= 20
    assert outcome.health.p95 < P95_BOUND, outcome


@pytest.mark.parametrize("name", HEAVY)
async def test_health_stays_fast_while_a_heavy_request_runs(
    server: tuple[str, dict], name: str
) -> None:
    base, cases = server
    # measure() fails unless every heavy request got its expected status.
    outcome = await _measured(base, cases[name])
    assert outcome.requests >= 1 and outcome.health.probes >= 20
    assert outcome.health.p95 < P95_BOUND, (
        f"/health p95 {outcome.health.p95 * 1000:.0f} ms (max {outcome.health.max * 1000:.0f} "
        f"ms) while '{name}' ran (median {outcome.request_seconds:.2f} s a request)"
    )
