"""Ledger rows become visible in the order of their stamps.

The metrics keep figures at the ledger's marks (the latest `created_at` and `confirmed_at`
read) and later add only the rows stamped after them. A row stamped before the marks but
committed after they were read would be missed for good: on PostgreSQL two writers commit in
any order, so each ledger write takes its ambito's turn and is stamped inside it."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from registry import italian
from registry.access import Role
from registry.common import now
from registry.contributions import confirmations, recording
from registry.contributions.tables import Contribution
from registry.metrics import compute, snapshots
from tests.conftest import Tenant


def _year() -> compute.Period:
    """The running year, as the snapshot job stores it (up to today)."""
    today = italian.today()
    return compute.buckets(date(today.year, 1, 1), today, "year")[0]


async def _entries(t: Tenant, *, live: bool) -> tuple[int, int]:
    period = _year()
    (fig,), _, _ = await snapshots.figures_of(t.ambito_id, [period], period, now(), live=live)
    totals = fig.tables["totals"].rows[0].data
    return totals["entries"], totals["entries_self_reported_unverified"]


class _Held:
    """Holds the first ledger write of `module` in its transaction, right after its row was
    stamped and inserted, until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any) -> None:
        self.inside, self.release, self.calls = asyncio.Event(), asyncio.Event(), 0
        original = module.stamped_insert

        async def held(*args: Any) -> Any:
            await original(*args)
            self.calls += 1
            if self.calls == 1:
                self.inside.set()
                await self.release.wait()

        monkeypatch.setattr(module, "stamped_insert", held)


async def _race(client: Any, t: Tenant, held: _Held, first: Any, second: Any) -> list[Any]:
    """`first` held in its transaction, `second` sent meanwhile, the snapshot job run while
    both may still be open; then `first` is let go."""
    one = asyncio.create_task(first)
    await asyncio.wait_for(held.inside.wait(), 10)
    two = asyncio.create_task(second)
    await asyncio.sleep(0.3)  # without a turn to wait for, the second one commits now
    job = asyncio.create_task(snapshots.take_snapshot(now(), [t.ambito_id]))
    await asyncio.sleep(0.5)  # the job reads the marks (on SQLite it then waits to store)
    held.release.set()
    done = await asyncio.gather(one, two)
    await job
    return done


def _entry(t: Tenant, hours: float, key: str) -> dict[str, Any]:
    return {
        "json": {
            "holder_id": str(t.holder_id),
            "unit": "hours",
            "quantity": hours,
            "occurred_on": str(italian.today() - timedelta(days=1)),
        },
        "headers": {**t.headers(Role.UDP_ADMIN), "Idempotency-Key": key},
    }


async def test_an_entry_committed_after_a_later_one_still_reaches_the_stored_figures(
    client: Any, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _Held(monkeypatch, recording)
    first, second = await _race(
        client,
        tenant,
        held,
        client.post("/api/contributions", **_entry(tenant, 1, "order-1")),
        client.post("/api/contributions", **_entry(tenant, 2, "order-2")),
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert first.json()["created_at"] < second.json()["created_at"]
    # Both entries in the figures kept at the job's marks, as computed from the ledger alone.
    assert await _entries(tenant, live=False) == await _entries(tenant, live=True)
    assert await _entries(tenant, live=False) == (0, 2), "self-reported, not yet confirmed"


async def test_a_confirmation_committed_after_a_later_one_still_reaches_the_stored_figures(
    client: Any, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = []
    for n in (1, 2):
        response = await client.post("/api/contributions", **_entry(tenant, n, f"to-confirm-{n}"))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    await snapshots.take_snapshot(now(), [tenant.ambito_id])
    udp = tenant.headers(Role.UDP_ADMIN)
    held = _Held(monkeypatch, confirmations)
    first, second = await _race(
        client,
        tenant,
        held,
        client.post(f"/api/contributions/{ids[0]}/confirm", json={}, headers=udp),
        client.post(f"/api/contributions/{ids[1]}/confirm", json={}, headers=udp),
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert await _entries(tenant, live=False) == await _entries(tenant, live=True) == (2, 0)


async def test_a_row_is_never_stamped_before_the_latest_one_of_its_table(
    client: Any, tenant: Tenant
) -> None:
    """Two servers' clocks may disagree: the latest entry was stamped by one a minute ahead."""
    first = await client.post("/api/contributions", **_entry(tenant, 1, "skew-1"))
    assert first.status_code == 201, first.text
    ahead = now() + timedelta(minutes=1)
    await Contribution.update({Contribution.created_at: ahead}).where(
        Contribution.id == first.json()["id"]
    )
    second = await client.post("/api/contributions", **_entry(tenant, 2, "skew-2"))
    assert second.status_code == 201, second.text
    stamped = datetime.fromisoformat(second.json()["created_at"])
    assert ahead < stamped < ahead + timedelta(seconds=1)
