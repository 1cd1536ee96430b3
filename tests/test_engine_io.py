"""What the matching engine is given (registry/matches/engine_io.load_resources): the
ambito's resources that may be suggested today, each with the places left, its holder's
load and whether the holder is new to the network, and its weekly windows still running."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from registry import italian
from registry.holders.tables import Holder
from registry.matches import engine_io
from registry.matches.tables import Match
from registry.matching import WeeklyWindow
from registry.resources.tables import AvailabilityWindow
from tests.conftest import Tenant
from tests.metrics_data import _holder
from tests.test_plans_support import S, add_resource, create_need, create_plan


async def _match(
    tenant: Tenant, plan: dict, need: dict, resource: uuid.UUID, holder: uuid.UUID, status: str
) -> None:
    moment = datetime.now(UTC)
    await Match(
        ambito=tenant.ambito_id,
        plan=plan["id"],
        need=need["id"],
        resource=resource,
        holder=holder,
        status=status,
        proposed_by=tenant.users[S],
        created_at=moment,
        updated_at=moment,
    ).save()


async def test_the_engine_gets_each_suggestable_resource_with_its_places_load_and_windows(
    client, tenant: Tenant, other_tenant: Tenant
) -> None:
    today = italian.today()
    busy, tied = tenant.holder_id, await _holder(tenant, "Legata", "association", "third_sector")
    fresh = await _holder(tenant, "Nuova", "association", "third_sector")
    gone = await _holder(tenant, "Archiviata", "association", "third_sector")
    await Holder.update({Holder.status: "archived"}).where(Holder.id == gone)
    r_busy = await add_resource(tenant, holder_id=busy, capacity=3, windows=[(["MO"], 9, 12)])
    # A Tuesday window that has ended says nothing about when the resource is free.
    await AvailabilityWindow(
        resource=r_busy,
        freq="WEEKLY",
        by_day=["TU"],
        start_time=time(15),
        end_time=time(17),
        valid_from=date(2025, 1, 6),
        valid_until=today - timedelta(days=1),
        exceptions=[],
        capacity=1,
    ).save()
    r_tied = await add_resource(tenant, holder_id=tied, capacity=1)
    r_fresh = await add_resource(tenant, holder_id=fresh, capacity=2)
    left_out = [
        await add_resource(tenant, status="paused"),
        await add_resource(tenant, valid_until=today - timedelta(days=1)),
        await add_resource(tenant, holder_id=gone),
    ]
    plan = await create_plan(client, tenant)
    need = await create_need(client, tenant, plan["id"])
    for resource, holder, status in (
        (r_busy, busy, "accepted"),
        (r_busy, busy, "active"),
        (r_busy, busy, "proposed"),  # holds no place
        (r_tied, tied, "completed"),  # no place, but the holder is in the network
        (r_tied, tied, "declined"),
    ):
        await _match(tenant, plan, need, resource, holder, status)
    # Another ambito's resources and matches are not this one's.
    other = await add_resource(other_tenant, capacity=5)
    other_plan = await create_plan(client, other_tenant)
    other_need = await create_need(client, other_tenant, other_plan["id"])
    await _match(other_tenant, other_plan, other_need, other, other_tenant.holder_id, "accepted")

    items, info = await engine_io.load_resources(tenant.ambito_id, today)
    by_id = {uuid.UUID(item.id): item for item in items}
    assert not set(left_out) & set(by_id) and other not in by_id
    assert {r_busy, r_tied, r_fresh} <= set(by_id)
    busy_item, tied_item, fresh_item = by_id[r_busy], by_id[r_tied], by_id[r_fresh]
    assert (busy_item.capacity, tied_item.capacity, fresh_item.capacity) == (1, 1, 2)
    assert (busy_item.holder_load, tied_item.holder_load, fresh_item.holder_load) == (2, 0, 0)
    assert (busy_item.holder_is_new, tied_item.holder_is_new, fresh_item.holder_is_new) == (
        False,
        False,
        True,
    )
    assert busy_item.windows == (WeeklyWindow(0, 9 * 60, 12 * 60),)
    assert tied_item.windows == () and busy_item.holder_id == str(busy)
    assert info[str(r_busy)].remaining == 1 and info[str(r_fresh)].holder_name == "Nuova"
    assert busy_item.comuni == frozenset(tenant.comuni[:1])
    assert busy_item.target_groups == frozenset({"anziani"})
