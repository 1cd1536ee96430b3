"""The demo ambito (`registry demo`, `registry serve --demo`) shows a living ambito.

Loaded into the test database once for the module; every check goes through the HTTP API as
the demo's own users, and asserts what a person logging in would care about, never the
generated numbers themselves.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import httpx
import pytest

from registry import italian
from registry.ambiti.tables import Ambito
from registry.checkin.tables import CheckIn
from registry.contributions.tables import Contribution, ContributionConfirmation
from registry.demo import DEMO_PASSWORD, load_demo
from registry.holders.tables import Holder
from registry.matches.tables import Match, ResourceCapacity
from registry.plans.tables import Need, Plan
from registry.users.tables import User

DEMO = "OLGIATESE"
THRESHOLD = 5  # REGISTRY_METRICS_MIN_COUNT's default


@pytest.fixture(scope="module")
async def demo(app: object) -> dict[str, str]:
    return await load_demo()


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    answer = await client.post(
        "/api/auth/token", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def last_quarter(today: date) -> dict[str, str]:
    """The last whole calendar quarter: its cells are withheld only where exactly one of its
    months withholds them, and all its months are whole. A period to date ends in a month
    that has just begun, whose few figures are withheld and take the period's with them (on
    the 1st of a month, the year to date hides its headline: the rule, not the demo)."""
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    start = (first - timedelta(days=1)).replace(day=1)
    start = start.replace(month=3 * ((start.month - 1) // 3) + 1)
    return {"from": start.isoformat(), "to": (first - timedelta(days=1)).isoformat()}


def last_twelve_months(today: date) -> dict[str, str]:
    first = date(today.year - 1, today.month, 1) + timedelta(days=31)
    return {"from": first.replace(day=1).isoformat(), "to": today.isoformat()}


async def _ambito_id() -> object:
    row = await Ambito.select(Ambito.id).where(Ambito.code == DEMO).first()
    assert row is not None
    return row["id"]


async def _volumes(ambito_id: object) -> dict[str, int]:
    return {
        "users": await User.count().where(User.ambito == ambito_id),
        "holders": await Holder.count().where(Holder.ambito == ambito_id),
        "plans": await Plan.count().where(Plan.ambito == ambito_id),
        "matches": await Match.count().where(Match.ambito == ambito_id),
        "entries": await Contribution.count().where(Contribution.ambito == ambito_id),
    }


async def test_the_demo_is_loaded_once(demo: dict[str, str]) -> None:
    ambito_id = await _ambito_id()
    before = await _volumes(ambito_id)
    assert await load_demo() == demo
    assert await _volumes(ambito_id) == before
    assert await Ambito.count().where(Ambito.code == DEMO) == 1
    # A year of activity, not a handful of rows.
    assert before["users"] >= 30 and before["plans"] >= 12 and before["entries"] >= 300


async def test_the_udp_dashboard_shows_figures(
    client: httpx.AsyncClient, demo: dict[str, str]
) -> None:
    udp = await login(client, "udp")
    today = italian.today()

    quarter = last_quarter(today)

    # The dashboard opens on the year to date.
    answer = await client.get("/api/metrics/summary", headers=udp)
    assert answer.status_code == 200, answer.text
    assert answer.json()["period"]["start"] == f"{today.year}-01-01"

    answer = await client.get("/api/metrics/summary", headers=udp, params=quarter)
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    headline = summary["headline"]
    assert headline["hours_community"] is not None and headline["hours_community"] > 0
    assert headline["persons"] is not None and headline["persons"] >= THRESHOLD
    assert headline["holders"] is not None and headline["holders"] >= THRESHOLD
    assert headline["public_spending"]["amount_eur"] > 0
    assert headline["leverage_ratio"] is not None and headline["leverage_ratio"] > 0
    assert headline["replacement_value"]["rate_eur_per_hour"] is not None
    assert headline["share_resources_confirmed_90_days"] is not None

    # The tables by area and by comune are published, not all withheld. Where fewer than
    # five holders gave time the hours are withheld (they would tell one holder's), and
    # comuni and areas with few volunteers withhold their persons too, with the cells that
    # would give them away.
    tables = {t["name"]: t for t in summary["tables"]}
    for name, key in (("by_area", "area"), ("by_comune", "comune")):
        active = [r for r in tables[name]["rows"] if r["entries"] != 0]
        shown = [r for r in active if r["persons"] is not None or r["hours_community"]]
        assert len({r[key] for r in shown}) >= 2, (name, active)

    # Several months with hours and value, next to public spending.
    answer = await client.get(
        "/api/metrics/timeseries",
        headers=udp,
        params={**last_twelve_months(today), "granularity": "month"},
    )
    assert answer.status_code == 200, answer.text
    months = [r for r in answer.json()["series"]["rows"] if r["hours_community"]]
    assert len(months) >= 6
    assert sum(1 for r in months if r["leverage_ratio"]) >= 6

    # Ties among holders, across sectors.
    answer = await client.get(
        "/api/metrics/network",
        headers=udp,
        params={**quarter, "granularity": "month"},
    )
    assert answer.status_code == 200, answer.text
    network = answer.json()
    assert any(r["edges"] for r in network["periods"]["rows"])
    assert any(b["sector_a"] != b["sector_b"] and b["edges"] for b in network["sector_blocks"]), (
        network["sector_blocks"]
    )

    # Needs met by the community, by funded interventions, by both.
    answer = await client.get("/api/metrics/coverage", headers=udp, params=quarter)
    assert answer.status_code == 200, answer.text
    coverage = {t["name"]: t for t in answer.json()["tables"]}["need_coverage"]
    total = coverage["total"]
    assert total["needs"] and (total["community_only"] or 0) + (total["both"] or 0) > 0
    # Several areas show how their needs were met. A small area's count of needs may be
    # withheld (with the cells that would give it away): which ones depends on the day the
    # demo is loaded, so any published figure counts.
    figures = ("needs", "community_only", "intervention_only", "both")
    assert sum(1 for r in coverage["rows"] if any(r[f] for f in figures)) >= 3, coverage


async def test_the_social_worker_has_plans(client: httpx.AsyncClient, demo: dict[str, str]) -> None:
    worker = await login(client, "assistente")
    answer = await client.get("/api/plans", headers=worker, params={"limit": 100})
    assert answer.status_code == 200, answer.text
    plans = answer.json()
    assert plans["total"] >= 12
    assert {p["owner_username"] for p in plans["items"]} == {"assistente"}
    assert len({p["target_group"] for p in plans["items"]}) >= 4
    assert len({p["comune"] for p in plans["items"]}) >= 4

    plan = next(p for p in plans["items"] if p["status"] == "active")
    needs = (await client.get(f"/api/plans/{plan['id']}/needs", headers=worker)).json()
    assert needs
    matches = (await client.get("/api/matches", headers=worker, params={"limit": 200})).json()
    statuses = Counter(m["status"] for m in matches["items"])
    assert statuses["active"] and statuses["completed"] and statuses["declined"]
    # Something waits for the social worker: accepted by the holder, to be confirmed.
    assert statuses["accepted"] >= 1


async def test_the_volunteer_sees_its_own_hours(
    client: httpx.AsyncClient, demo: dict[str, str]
) -> None:
    volunteer = await login(client, "volontario")
    me = (await client.get("/api/users/me", headers=volunteer)).json()
    answer = await client.get(
        "/api/contributions/summary", headers=volunteer, params={"volunteer_id": me["id"]}
    )
    assert answer.status_code == 200, answer.text
    hours = next(t for t in answer.json()["totals"] if t["unit"] == "hours")
    assert hours["verified"] > 0
    entries = (await client.get("/api/contributions", headers=volunteer)).json()
    assert entries["total"] > 0
    assert {e["volunteer_id"] for e in entries["items"]} == {me["id"]}
    assert any(e["verification"] == "qr_verified" for e in entries["items"])


async def test_the_association_has_a_proposal_and_an_entry_to_confirm(
    client: httpx.AsyncClient, demo: dict[str, str]
) -> None:
    auser = await login(client, "auser")
    me = (await client.get("/api/users/me", headers=auser)).json()
    proposals = (
        await client.get("/api/matches", headers=auser, params={"status": "proposed"})
    ).json()
    assert proposals["total"] >= 1
    proposal = proposals["items"][0]
    assert proposal["holder_id"] == me["holder_id"]
    assert proposal["plan_id"] is None  # the holder side never sees whose plan it is
    accepted = await client.post(f"/api/matches/{proposal['id']}/accept", headers=auser)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"

    waiting = (
        await client.get(
            "/api/contributions",
            headers=auser,
            params={"holder_id": me["holder_id"], "verification": "self_reported"},
        )
    ).json()
    own = [e for e in waiting["items"] if e["match_id"] is None]
    assert own, waiting
    confirmed = await client.post(
        f"/api/contributions/{own[0]['id']}/confirm", headers=auser, json={}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["verification"] == "confirmed"


async def test_the_demo_keeps_the_registry_invariants(demo: dict[str, str]) -> None:
    ambito_id = await _ambito_id()
    # Places held = matches accepted or active, never above the resource's capacity.
    held = Counter(
        r["resource"]
        for r in await Match.select(Match.resource).where(
            (Match.ambito == ambito_id) & Match.status.is_in(["accepted", "active"])
        )
    )
    counters = await ResourceCapacity.select(
        ResourceCapacity.resource,
        ResourceCapacity.reserved,
        ResourceCapacity.resource.capacity.as_alias("capacity"),
        ResourceCapacity.resource.ambito.as_alias("ambito"),
    ).where(ResourceCapacity.resource.ambito == ambito_id)
    assert counters
    for row in counters:
        assert row["reserved"] == held[row["resource"]] <= row["capacity"]
    assert set(held) <= {row["resource"] for row in counters}

    # The ledger: corrections name an entry of the same ambito, one successor at most;
    # every QR presence wrote one qr_verified entry of the same volunteer.
    entries = {
        r["id"]: r for r in await Contribution.select().where(Contribution.ambito == ambito_id)
    }
    successors = Counter(r["corrects"] for r in entries.values() if r["corrects"])
    assert successors and set(successors) <= set(entries)
    assert max(successors.values()) == 1
    assert {r["kind"] for r in entries.values()} == {"entry", "correction", "cancellation"}
    for row in await CheckIn.select().where(CheckIn.ambito == ambito_id):
        entry = entries[row["contribution"]]
        assert entry["verification"] == "qr_verified"
        assert entry["volunteer"] == row["volunteer"] and entry["holder"] == row["holder"]
    confirmed = await ContributionConfirmation.select(
        ContributionConfirmation.contribution, ContributionConfirmation.confirmed_at
    ).where(ContributionConfirmation.ambito == ambito_id)
    assert confirmed
    for row in confirmed:
        assert row["contribution"] in entries
        assert row["confirmed_at"] >= entries[row["contribution"]]["created_at"]

    # Every record belongs to the demo ambito through its holder, plan and need.
    holders = {r["id"] for r in await Holder.select(Holder.id).where(Holder.ambito == ambito_id)}
    assert {r["holder"] for r in entries.values()} <= holders
    plans = {r["id"] for r in await Plan.select(Plan.id).where(Plan.ambito == ambito_id)}
    needs = {
        r["id"]: r["plan"]
        for r in await Need.select(Need.id, Need.plan).where(Need.ambito == ambito_id)
    }
    assert set(needs.values()) <= plans
    for row in entries.values():
        if row["need_id"] is not None:
            assert needs[row["need_id"]] == row["plan_id"]
    for row in await Match.select(Match.plan, Match.need, Match.holder).where(
        Match.ambito == ambito_id
    ):
        assert needs[row["need"]] == row["plan"] and row["holder"] in holders
