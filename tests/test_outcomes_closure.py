"""A plan closes only through its closure (issue 15): a status change to "closed" is refused,
and the closure ends the plan's open matches as the matches domain ends them, together with
the closure or not at all.

Dates are derived from today (Europe/Rome), never fixed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from registry.access import Principal
from registry.italian import today as local_today
from registry.matches.tables import Match, MatchEvent, ResourceCapacity
from registry.notifications import workflow
from registry.notifications.tables import Notification
from registry.outcomes.closure import close_plan
from registry.outcomes.schemas import ClosureIn
from registry.outcomes.tables import PlanClosure
from registry.plans.tables import Plan
from tests.conftest import Tenant
from tests.test_plans_support import H, S, U, add_resource, create_need, create_plan, propose


async def _held(resource_id: uuid.UUID) -> int:
    row = (
        await ResourceCapacity.select(ResourceCapacity.reserved)
        .where(ResourceCapacity.resource == resource_id)
        .first()
    )
    return row["reserved"] if row else 0


async def _step(client: httpx.AsyncClient, tenant: Tenant, match: dict, *actions: str) -> None:
    for action in actions:
        role = H if action in ("accept", "decline") else S
        body = {"reason": "Nessun volontario libero"} if action == "decline" else {}
        response = await client.post(
            f"/api/matches/{match['id']}/{action}", json=body, headers=tenant.headers(role)
        )
        assert response.status_code == 200, response.text


async def _statuses(*matches: dict) -> list[str]:
    rows = await Match.select(Match.id, Match.status).where(
        Match.id.is_in([m["id"] for m in matches])
    )
    by_id = {str(r["id"]): r["status"] for r in rows}
    return [by_id[m["id"]] for m in matches]


async def _plan_with_matches(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    """A plan started 60 days ago with two needs and four matches: active, accepted,
    proposed and declined; and another plan's accepted match on the same resource."""
    start = local_today() - timedelta(days=60)
    plan = await create_plan(client, tenant, start_date=start.isoformat(), end_date=None)
    needs = [
        await create_need(client, tenant, plan["id"], category_code="accompagnamento")
        for _ in range(2)
    ]
    shared = await add_resource(tenant, category="accompagnamento", capacity=2)
    single = await add_resource(tenant, category="accompagnamento", capacity=1)
    spare = [await add_resource(tenant, category="accompagnamento") for _ in range(2)]
    active = await propose(client, tenant, needs[0]["id"], shared)
    await _step(client, tenant, active, "accept", "confirm")
    accepted = await propose(client, tenant, needs[1]["id"], single)
    await _step(client, tenant, accepted, "accept")
    proposed = await propose(client, tenant, needs[0]["id"], spare[0])
    declined = await propose(client, tenant, needs[1]["id"], spare[1])
    await _step(client, tenant, declined, "decline")
    other_plan = await create_plan(client, tenant, start_date=start.isoformat(), end_date=None)
    other_need = await create_need(
        client, tenant, other_plan["id"], category_code="accompagnamento"
    )
    other = await propose(client, tenant, other_need["id"], shared)
    await _step(client, tenant, other, "accept")
    assert (await _held(shared), await _held(single)) == (2, 1)
    return {
        "plan": plan,
        "needs": needs,
        "matches": [active, accepted, proposed, declined, other],
        "shared": shared,
        "single": single,
    }


async def test_a_plan_closes_only_through_its_closure_which_ends_its_matches(
    client, tenant: Tenant
) -> None:
    world = await _plan_with_matches(client, tenant)
    plan, matches = world["plan"], world["matches"]
    base = f"/api/plans/{plan['id']}"
    sw = tenant.headers(S)
    before = await _statuses(*matches)
    assert before == ["active", "accepted", "proposed", "declined", "accepted"]

    # A status change to "closed" is refused naming `status`, for the UdP too: nothing moves.
    for role in (S, U):
        response = await client.patch(base, json={"status": "closed"}, headers=tenant.headers(role))
        assert (response.status_code, response.json()["field"]) == (400, "status"), response.text
        assert "closure" in response.json()["detail"]
    assert (await client.get(base, headers=sw)).json()["status"] == "active"
    assert await _statuses(*matches) == before

    response = await client.post(
        f"{base}/closure",
        json={"closed_on": local_today().isoformat(), "reason": "moved_away"},
        headers=sw,
    )
    assert response.status_code == 201, response.text
    assert (await client.get(base, headers=sw)).json()["status"] == "closed"

    # Running help is completed, what never started is withdrawn; a declined match and
    # another plan's match are left alone.
    assert await _statuses(*matches) == [
        "completed",
        "withdrawn",
        "withdrawn",
        "declined",
        "accepted",
    ]
    # Places released: the shared resource keeps only the other plan's, the single is free.
    assert (await _held(world["shared"]), await _held(world["single"])) == (1, 0)
    # The first need kept its active match until the completion: still "matched"; the
    # second never had an active one: "open".
    needs = (await client.get(f"{base}/needs", headers=sw)).json()
    by_id = {n["id"]: n["status"] for n in needs}
    assert [by_id[n["id"]] for n in world["needs"]] == ["matched", "open"]

    # The history says why on the plan side, not on the holder side.
    reason = "Piano chiuso: Trasferimento in altro territorio"
    url = f"/api/matches/{matches[0]['id']}/history"
    last = (await client.get(url, headers=sw)).json()[-1]
    assert (last["from_status"], last["to_status"], last["reason"]) == (
        "active",
        "completed",
        reason,
    )
    assert last["actor_id"] == str(tenant.users[S])
    holder_view = await client.get(url, headers=tenant.headers(H))
    assert holder_view.json()[-1]["reason"] == "" and "Trasferimento" not in holder_view.text

    # The holder's manager is told of each end, as for any other end (and never why).
    news = await Notification.select(Notification.event_type, Notification.subject).where(
        (Notification.user == tenant.users[H])
        & Notification.event_type.is_in(["match.completed", "match.withdrawn"])
    )
    assert sorted((n["subject"], n["event_type"]) for n in news) == sorted(
        [
            (f"match:{matches[0]['id']}", "match.completed"),
            (f"match:{matches[1]['id']}", "match.withdrawn"),
            (f"match:{matches[2]['id']}", "match.withdrawn"),
        ]
    )
    bodies = await Notification.select(Notification.title, Notification.body).where(
        Notification.user == tenant.users[H]
    )
    assert all("Trasferimento" not in n["title"] + n["body"] for n in bodies)

    # A closed plan: saving the edit form unchanged (status "closed") still works; leaving
    # "closed" by a status change is refused, the closure is undone instead.
    response = await client.patch(
        base, json={"status": "closed", "notes": "Trasferita a Como"}, headers=sw
    )
    assert (response.status_code, response.json()["notes"]) == (200, "Trasferita a Como")
    response = await client.patch(base, json={"status": "active"}, headers=sw)
    assert (response.status_code, response.json()["field"]) == (400, "status")
    assert "DELETE" in response.json()["detail"]
    assert (await client.delete(f"{base}/closure", headers=sw)).status_code == 204
    assert (await client.get(base, headers=sw)).json()["status"] == "active"
    # Reopening does not bring the ended matches back.
    assert (await _statuses(*matches))[:3] == ["completed", "withdrawn", "withdrawn"]

    # A plan closed before closures existed (no closure record) may still be reopened.
    legacy = await create_plan(client, tenant)
    await Plan.update({Plan.status: "closed"}).where(Plan.id == legacy["id"])
    response = await client.patch(
        f"/api/plans/{legacy['id']}", json={"status": "active"}, headers=sw
    )
    assert (response.status_code, response.json()["status"]) == (200, "active")


async def test_closure_and_the_ends_of_its_matches_are_stored_together(
    client, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await _plan_with_matches(client, tenant)
    plan_id = uuid.UUID(world["plan"]["id"])
    before = await _statuses(*world["matches"])

    # The holder's notification fails after the first match has moved: nothing is kept.
    async def broken(*args: Any) -> None:
        raise RuntimeError("notification channel down")

    monkeypatch.setattr(workflow, "match_moved", broken)
    actor = Principal(tenant.users[S], tenant.usernames[S], S, tenant.ambito_id)
    closure = msgspec.convert(
        {"closed_on": local_today().isoformat(), "reason": "goals_reached"}, ClosureIn
    )
    with pytest.raises(RuntimeError):
        await close_plan(actor, plan_id, closure)
    status = await Plan.select(Plan.status).where(Plan.id == plan_id).first()
    assert status == {"status": "active"}
    assert not await PlanClosure.exists().where(PlanClosure.plan == plan_id)
    assert await _statuses(*world["matches"]) == before
    assert (await _held(world["shared"]), await _held(world["single"])) == (2, 1)

    monkeypatch.undo()
    # With the clock injected (as the demo does), the ends carry the closure's moment.
    moment = datetime.combine(local_today(), time(10, 0), tzinfo=UTC)
    await close_plan(actor, plan_id, closure, now=moment)
    assert (await _statuses(*world["matches"]))[:3] == ["completed", "withdrawn", "withdrawn"]
    ends = await MatchEvent.select(MatchEvent.at, MatchEvent.reason).where(
        MatchEvent.match.is_in([m["id"] for m in world["matches"][:3]])
        & MatchEvent.to_status.is_in(["completed", "withdrawn"])
    )
    assert [(e["at"], e["reason"]) for e in ends] == [
        (moment, "Piano chiuso: Obiettivi raggiunti")
    ] * 3
