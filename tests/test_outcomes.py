"""What changes for the person (issue 15): GAS T-score by hand, goals, reviews on time or late,
the overdue-review job, closure, own resources, activation, the access log, erasure, and the
loaders of the outcome figures.

Dates are derived from today (Europe/Rome) or injected with `now=`, never fixed.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
import pytest

from registry.access import Principal, Role
from registry.errors import InvalidInput
from registry.italian import today as local_today
from registry.notifications.tables import Notification
from registry.outcomes.activations import create_activation
from registry.outcomes.closure import close_plan
from registry.outcomes.erasure import erase_plan_free_text
from registry.outcomes.follow_up import notify_overdue_reviews, review_schedule
from registry.outcomes.gas import t_score
from registry.outcomes.goals import create_goal, list_goals, update_goal
from registry.outcomes.loaders import (
    load_activations,
    load_closures,
    load_goals,
    load_own_resources,
    load_reviews,
    load_t_scores,
)
from registry.outcomes.overview import get_outcomes, set_next_review
from registry.outcomes.own_resources import create_own_resource
from registry.outcomes.reviews import create_review, get_review, update_review
from registry.outcomes.schemas import (
    ActivationCreate,
    ClosureIn,
    GoalCreate,
    GoalPatch,
    NextReviewIn,
    OwnResourceCreate,
    ReviewCreate,
    ReviewPatch,
)
from tests.conftest import Tenant
from tests.test_plans_support import H, S, U, V, create_plan

SCALE = [
    "Non esce mai di casa",
    "Esce una volta al mese",
    "Esce una volta a settimana",
    "Esce due volte a settimana",
    "Esce da sola ogni giorno",
]


def make(struct: type[Any], **values: Any) -> Any:
    """An input struct as the API decodes it (enums, dates and ids converted and checked)."""
    return msgspec.convert(values, struct)


def moment(day: date) -> datetime:
    """Noon in Rome of `day`, in UTC: far from midnight whatever the time zone rules."""
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def principal(tenant: Tenant, role: Role = S) -> Principal:
    return Principal(tenant.users[role], tenant.usernames[role], role, tenant.ambito_id)


# --- the GAS T-score, by hand ---------------------------------------------------------------


def test_gas_t_score_hand_computed() -> None:
    # All at the expected level: 50, whatever the weights.
    assert t_score([(0, 1), (0, 1), (0, 3)]) == 50
    # Two goals at +1, weights 1: 50 + 10·2 / √(0.7·2 + 0.3·4) = 50 + 20/√2.6 = 62.4035.
    assert t_score([(1, 1), (1, 1)]) == pytest.approx(62.4035, abs=1e-4)
    # One goal at −1: 50 + 10·(−1)/√(0.7 + 0.3) = 40.
    assert t_score([(-1, 1)]) == pytest.approx(40)
    # +2 weight 2 and −1 weight 1: 50 + 10·3 / √(0.7·5 + 0.3·9) = 50 + 30/√6.2 = 62.048.
    assert t_score([(2, 2), (-1, 1)]) == pytest.approx(50 + 30 / math.sqrt(6.2))
    assert t_score([(2, 2), (-1, 1)]) == pytest.approx(62.0482, abs=1e-4)
    assert t_score([]) is None
    with pytest.raises(ValueError):
        t_score([(3, 1)])


# --- the API journey: goals, a review, notes kept private, closure ------------------------


async def test_goals_review_closure_through_the_api(client, tenant: Tenant) -> None:
    today = local_today()
    start = today - timedelta(days=120)
    plan = await create_plan(client, tenant, start_date=start.isoformat(), end_date=None)
    base = f"/api/plans/{plan['id']}"
    sw = tenant.headers(S)

    goals = []
    for title, weight, baseline in (("Uscire di casa", 2, -1), ("Pasti regolari", 1, -2)):
        response = await client.post(
            f"{base}/goals",
            json={"title": title, "scale": SCALE, "weight": weight, "baseline": baseline},
            headers=sw,
        )
        assert response.status_code == 201, response.text
        goals.append(response.json())
    assert [g["position"] for g in goals] == [0, 1]
    assert goals[0]["latest_level"] is None

    # Bad input: a named field, never a 500.
    bad = await client.post(f"{base}/goals", json={"title": "x", "scale": SCALE[:4]}, headers=sw)
    assert bad.status_code == 400 and "scale" in bad.text
    bad = await client.post(
        f"{base}/reviews",
        json={
            "held_on": today.isoformat(),
            "participants": ["person"],
            "levels": [{"goal_id": str(uuid.uuid4()), "level": 1}],
        },
        headers=sw,
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "levels[0].goal_id")
    bad = await client.post(
        f"{base}/reviews",
        json={"held_on": (today + timedelta(days=1)).isoformat(), "participants": ["person"]},
        headers=sw,
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "held_on")
    # A role twice, in a review or a closure: the same rule names the same field.
    for path, extra in (
        ("reviews", {"held_on": today.isoformat()}),
        ("closure", {"closed_on": today.isoformat(), "reason": "other"}),
    ):
        bad = await client.post(
            f"{base}/{path}", json={**extra, "participants": ["person", "person"]}, headers=sw
        )
        assert (bad.status_code, bad.json()["field"]) == (400, "participants"), path
    bad = await client.post(
        f"{base}/reviews",
        json={
            "held_on": today.isoformat(),
            "participants": ["person"],
            "levels": [{"goal_id": goals[0]["id"], "level": 3}],
        },
        headers=sw,
    )
    assert bad.status_code == 400 and "levels" in bad.text

    # The first review is due today: held today, it is on time.
    response = await client.put(
        f"{base}/next-review", json={"next_review_on": today.isoformat()}, headers=sw
    )
    assert response.status_code == 200, response.text
    assert response.json()["review_overdue"] is False
    secret = "La figlia ha detto che non vuole più occuparsene"
    response = await client.post(
        f"{base}/reviews",
        json={
            "held_on": today.isoformat(),
            "participants": ["person", "family", "social_worker"],
            "levels": [
                {"goal_id": goals[0]["id"], "level": 1},
                {"goal_id": goals[1]["id"], "level": 0},
            ],
            "changes": "Due uscite a settimana con Auser",
            "notes": secret,
            "next_review_on": (today + timedelta(days=90)).isoformat(),
        },
        headers=sw,
    )
    assert response.status_code == 201, response.text
    review = response.json()
    assert (review["due_on"], review["on_time"]) == (today.isoformat(), True)
    # Weights 2 and 1 at +1 and 0: 50 + 10·2/√(0.7·5 + 0.3·9) = 50 + 20/√6.2 = 58.0.
    assert review["t_score"] == pytest.approx(58.0, abs=0.05)
    assert review["notes"] == secret

    listed = (await client.get(f"{base}/reviews", headers=sw)).json()
    assert len(listed) == 1 and "notes" not in listed[0]
    detail = await client.get(f"{base}/reviews/{review['id']}", headers=tenant.headers(U))
    assert detail.status_code == 200 and detail.json()["notes"] == secret

    summary = (await client.get(f"{base}/outcomes", headers=sw)).json()
    # Baselines −1 (weight 2) and −2: 50 + 10·(−4)/√6.2 = 33.9; now as the review: 58.0.
    assert summary["baseline_t_score"] == pytest.approx(33.9, abs=0.05)
    assert summary["current_t_score"] == pytest.approx(58.0, abs=0.05)
    assert summary["next_review_on"] == (today + timedelta(days=90)).isoformat()
    assert (summary["reviews"], summary["last_review_on"]) == (1, today.isoformat())
    assert [g["latest_level"] for g in summary["goals"]] == [1, 0]
    listed_goals = (await client.get(f"{base}/goals", headers=tenant.headers(U))).json()
    assert [(g["title"], g["scale"]) for g in listed_goals] == [
        ("Uscire di casa", SCALE),
        ("Pasti regolari", SCALE),
    ]

    # Own resources: 2 hours a week from the start, shown in the split.
    response = await client.post(
        f"{base}/own-resources",
        json={
            "kind": "time",
            "source": "family",
            "description": "La nipote la accompagna",
            "minutes_per_week": 120,
            "start_date": start.isoformat(),
        },
        headers=sw,
    )
    assert response.status_code == 201, response.text
    split = (await client.get(f"{base}/outcomes", headers=sw)).json()["own"]
    # 121 days (start to today, both included) of 120 minutes a week: 120·121/7 = 2074.3.
    assert split["own_minutes"] == round(120 * 121 / 7)
    assert (split["own_minutes_per_week"], split["own_resources"]) == (120, 1)

    # Closure: final levels, reason; the plan is closed and nothing more is written.
    response = await client.post(
        f"{base}/closure",
        json={
            "closed_on": today.isoformat(),
            "reason": "goals_reached",
            "levels": [
                {"goal_id": goals[0]["id"], "level": 2},
                {"goal_id": goals[1]["id"], "level": 1},
            ],
        },
        headers=sw,
    )
    assert response.status_code == 201, response.text
    closure = response.json()
    # +2 weight 2 and +1: 50 + 10·5/√6.2 = 70.1.
    assert closure["t_score"] == pytest.approx(70.1, abs=0.05)
    assert closure["reason_label"] == "Obiettivi raggiunti"
    assert (await client.get(base, headers=sw)).json()["status"] == "closed"
    again = await client.post(
        f"{base}/reviews",
        json={"held_on": today.isoformat(), "participants": ["person"]},
        headers=sw,
    )
    assert again.status_code == 409
    closed = await client.post(
        f"{base}/closure", json={"closed_on": today.isoformat(), "reason": "other"}, headers=sw
    )
    assert closed.status_code == 409
    reopened = await client.delete(f"{base}/closure", headers=sw)
    assert reopened.status_code == 204
    # Two closures at once: one is recorded, the other is told the plan was just closed.
    answers = await asyncio.gather(
        *(
            client.post(
                f"{base}/closure",
                json={"closed_on": today.isoformat(), "reason": reason, "levels": []},
                headers=sw,
            )
            for reason in ("goals_reached", "moved_away")
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    winner = next(a.json() for a in answers if a.status_code == 201)
    assert (await client.get(f"{base}/closure", headers=sw)).json()["reason"] == winner["reason"]

    # Every read is in the access log, and the log never carries the notes.
    log = (
        await client.get(f"/api/audit?plan_id={plan['id']}&limit=200", headers=tenant.headers(U))
    ).json()["items"]
    actions = {e["action"] for e in log}
    assert {"goals.read", "reviews.read", "review.read", "outcomes.read", "plan.close"} <= actions
    assert all(secret not in e["detail"] for e in log)

    # Reopened (a closure by mistake): active again, the closure gone.
    assert (await client.delete(f"{base}/closure", headers=sw)).status_code == 204
    assert (await client.get(base, headers=sw)).json()["status"] == "active"
    assert (await client.get(f"{base}/closure", headers=sw)).status_code == 404


# --- a year of follow-up with the clock injected: on time, late, the job, the loaders ------


async def test_concurrent_closures_and_reopenings_record_one_each(client, tenant: Tenant) -> None:
    """Two closures (or two reopenings) of one plan at the same moment: one is recorded, the
    other is told so; never two closures told 201 with one of them silently replaced. Repeated,
    since a race shows only in some interleavings (on PostgreSQL the second closure could delete
    the first one's row once committed)."""
    plan = await create_plan(
        client, tenant, start_date=(local_today() - timedelta(days=30)).isoformat(), end_date=None
    )
    base = f"/api/plans/{plan['id']}"
    sw = tenant.headers(S)
    today = local_today().isoformat()
    for _ in range(8):
        closures = await asyncio.gather(
            *(
                client.post(
                    f"{base}/closure",
                    json={"closed_on": today, "reason": reason, "levels": []},
                    headers=sw,
                )
                for reason in ("goals_reached", "moved_away")
            )
        )
        assert sorted(a.status_code for a in closures) == [201, 409], [a.text for a in closures]
        winner = next(a.json() for a in closures if a.status_code == 201)
        stored = (await client.get(f"{base}/closure", headers=sw)).json()
        assert (stored["reason"], stored["review_id"]) == (winner["reason"], winner["review_id"])
        reopenings = await asyncio.gather(
            *(client.delete(f"{base}/closure", headers=sw) for _ in range(2))
        )
        assert sorted(a.status_code for a in reopenings) == [204, 404]
        assert (await client.get(base, headers=sw)).json()["status"] == "active"


async def test_review_timeline_job_loaders_and_erasure(client, tenant: Tenant) -> None:
    today = local_today()
    t0 = today - timedelta(days=200)
    plan = await create_plan(client, tenant, start_date=t0.isoformat(), end_date=None)
    plan_id = uuid.UUID(plan["id"])
    sw = principal(tenant)

    g1 = await create_goal(
        sw,
        plan_id,
        make(GoalCreate, title="Uscire", scale=SCALE, weight=1, baseline=-1),
        now=moment(t0),
    )
    g2 = await create_goal(
        sw,
        plan_id,
        make(GoalCreate, title="Pasti", scale=SCALE, weight=1, baseline=-2),
        now=moment(t0),
    )
    await set_next_review(
        sw, plan_id, make(NextReviewIn, next_review_on=t0 + timedelta(days=90)), now=moment(t0)
    )
    first = await create_review(
        sw,
        plan_id,
        make(
            ReviewCreate,
            held_on=t0 + timedelta(days=85),
            participants=["person"],
            levels=[{"goal_id": g1.id, "level": 0}, {"goal_id": g2.id, "level": -1}],
            notes="nota privata",
            next_review_on=t0 + timedelta(days=180),
        ),
        now=moment(t0 + timedelta(days=85)),
    )
    assert (first.due_on, first.on_time) == (t0 + timedelta(days=90), True)

    # Two days after the due date nobody reviewed: the job tells the owner once.
    later = moment(t0 + timedelta(days=182))
    assert await notify_overdue_reviews(later, [tenant.ambito_id]) == {"overdue_told": 1}
    assert await notify_overdue_reviews(later, [tenant.ambito_id]) == {"overdue_told": 0}
    (due,) = await review_schedule(sw, overdue_only=True, now=later)
    assert (due.plan_id, due.next_review_on, due.overdue) == (
        plan_id,
        t0 + timedelta(days=180),
        True,
    )
    assert due.last_review_on == t0 + timedelta(days=85)
    assert await review_schedule(sw, overdue_only=True, now=moment(t0 + timedelta(days=179))) == []
    told = (
        await Notification.select(Notification.user, Notification.read_at)
        .where(Notification.event_type == "plan.review_overdue")
        .where(Notification.ambito == tenant.ambito_id)
    )
    assert [(n["user"], n["read_at"]) for n in told] == [(tenant.users[S], None)]

    late = await create_review(
        sw,
        plan_id,
        make(
            ReviewCreate,
            held_on=t0 + timedelta(days=190),
            participants=["person", "volunteer"],
            levels=[{"goal_id": g1.id, "level": 1}, {"goal_id": g2.id, "level": 0}],
            next_review_on=t0 + timedelta(days=280),
        ),
        now=moment(t0 + timedelta(days=190)),
    )
    assert (late.due_on, late.on_time) == (t0 + timedelta(days=180), False)
    told = await Notification.select(Notification.read_at).where(
        (Notification.event_type == "plan.review_overdue")
        & (Notification.ambito == tenant.ambito_id)
    )
    assert told[0]["read_at"] is not None, "the review resolves the overdue notification"

    await create_own_resource(
        sw,
        plan_id,
        make(
            OwnResourceCreate,
            kind="time",
            source="person",
            description="Cucina da sola",
            minutes_per_week=120,
            start_date=t0,
            end_date=None,
        ),
        now=moment(t0),
    )
    await create_activation(
        sw,
        plan_id,
        make(
            ActivationCreate,
            kind="volunteer",
            volunteer_id=tenant.users[V],
            holder_id=tenant.holder_id,
            consent_on=t0 + timedelta(days=150),
            started_on=t0 + timedelta(days=151),
        ),
        now=moment(t0 + timedelta(days=151)),
    )
    # Holders and volunteers see nothing of the plan's outcomes.
    for role in (H, V):
        response = await client.get(
            f"/api/plans/{plan_id}/activations", headers=tenant.headers(role)
        )
        assert response.status_code == 403

    # Loaders over [t0, t0+199]: hand-computed.
    start, end = t0, t0 + timedelta(days=199)
    reviews = await load_reviews(tenant.ambito_id, start, end, today=today)
    assert sorted((r.held_on, r.due_on, r.on_time) for r in reviews) == [
        (t0 + timedelta(days=85), t0 + timedelta(days=90), True),
        (t0 + timedelta(days=190), t0 + timedelta(days=180), False),
    ]
    goals = await load_goals(tenant.ambito_id, start, end)
    assert sorted((g.baseline, g.latest_level) for g in goals) == [(-2, 0), (-1, 1)]
    # Levels as of t0+100: only the first review counts.
    goals = await load_goals(tenant.ambito_id, start, t0 + timedelta(days=100))
    assert sorted((g.baseline, g.latest_level) for g in goals) == [(-2, -1), (-1, 0)]
    (scores,) = await load_t_scores(tenant.ambito_id, start, end)
    # Latest review +1, 0 (weights 1): 50 + 10/√2.6 = 56.20; baselines −1, −2: 50 − 30/√2.6.
    assert scores.latest_t == pytest.approx(50 + 10 / math.sqrt(2.6))
    assert scores.baseline_t == pytest.approx(50 - 30 / math.sqrt(2.6))
    # 10 weeks of 120 minutes: 20 hours in [t0, t0+69].
    (own,) = await load_own_resources(tenant.ambito_id, t0, t0 + timedelta(days=69))
    assert own.hours_in_period == pytest.approx(20.0)
    (activation,) = await load_activations(tenant.ambito_id, start, end)
    assert (activation.kind, activation.started_on) == ("volunteer", t0 + timedelta(days=151))
    # The next review, due after the period, is not counted; within a longer one it waits.
    waiting = await load_reviews(
        tenant.ambito_id, start, t0 + timedelta(days=300), today=t0 + timedelta(days=290)
    )
    pending = [r for r in waiting if r.held_on is None]
    assert [(r.due_on, r.on_time) for r in pending] == [(t0 + timedelta(days=280), False)]
    # Correcting the latest review's next date moves the plan's due date; an earlier one's
    # correction does not.
    await update_review(
        sw, plan_id, late.id, make(ReviewPatch, next_review_on=t0 + timedelta(days=270))
    )
    await update_review(
        sw, plan_id, first.id, make(ReviewPatch, next_review_on=t0 + timedelta(days=175))
    )
    waiting = await load_reviews(
        tenant.ambito_id, start, t0 + timedelta(days=300), today=t0 + timedelta(days=290)
    )
    assert [r.due_on for r in waiting if r.held_on is None] == [t0 + timedelta(days=270)]
    # A dropped goal leaves the plan's current T-score: only g1 (+1) is left, T = 60.
    await update_goal(sw, plan_id, g2.id, make(GoalPatch, status="dropped"))
    summary = await get_outcomes(sw, plan_id)
    assert (summary.current_t_score, summary.baseline_t_score) == (60.0, 40.0)
    # A review that rated it may still be corrected with it; a new one may not rate it.
    levels = [{"goal_id": g1.id, "level": 2}, {"goal_id": g2.id, "level": 1}]
    corrected = await update_review(sw, plan_id, late.id, make(ReviewPatch, levels=levels))
    assert [(lv.goal_id, lv.level) for lv in corrected.levels] == [(g1.id, 2), (g2.id, 1)]
    with pytest.raises(InvalidInput) as refused:
        await create_review(
            sw, plan_id, make(ReviewCreate, held_on=today, participants=["person"], levels=levels)
        )
    assert refused.value.field == "levels[1].goal_id"

    # Closure and its loader.
    closure = await close_plan(
        sw,
        plan_id,
        make(
            ClosureIn, closed_on=today, reason="moved_away", levels=[{"goal_id": g1.id, "level": 2}]
        ),
    )
    assert closure.reason == "moved_away"
    (closed,) = await load_closures(tenant.ambito_id, today, today)
    assert closed.reason == "moved_away" and closed.final_t == pytest.approx(70.0)
    assert closed.baseline_t == pytest.approx(40.0)
    assert await notify_overdue_reviews(
        moment(today + timedelta(days=400)), [tenant.ambito_id]
    ) == {"overdue_told": 0}, "a closed plan is never overdue"

    # Erasure keeps levels and figures, blanks the texts.
    before = await load_t_scores(tenant.ambito_id, start, end)
    counts = await erase_plan_free_text(plan_id)
    assert counts == {"goals": 2, "reviews": 3, "own_resources": 1, "closures": 1}
    detail = await get_review(principal(tenant, U), plan_id, first.id)
    assert (detail.notes, detail.levels) == ("", first.levels)
    titles = {g.title for g in await list_goals(principal(tenant, U), plan_id)}
    assert titles == {""}
    assert await load_t_scores(tenant.ambito_id, start, end) == before


# --- who may do what ------------------------------------------------------------------------

READ = {U: 200, S: 200, H: 403, V: 403}
WRITE = {U: 403, S: 201, H: 403, V: 403}
OTHER = {U: 404, S: 404, H: 403, V: 403}


async def _bundle(client, tenant: Tenant) -> dict[str, Any]:
    """A plan of the tenant's social worker with a goal, a review, an own resource and an
    activation."""
    today = local_today()
    plan = await create_plan(
        client, tenant, start_date=(today - timedelta(days=30)).isoformat(), end_date=None
    )
    plan_id = uuid.UUID(plan["id"])
    sw = principal(tenant)
    goal = await create_goal(sw, plan_id, make(GoalCreate, title="Uscire", scale=SCALE))
    review = await create_review(
        sw, plan_id, make(ReviewCreate, held_on=today, participants=["person"])
    )
    own = await create_own_resource(
        sw, plan_id, make(OwnResourceCreate, kind="skills", source="person", description="Cucito")
    )
    activation = await create_activation(
        sw,
        plan_id,
        make(
            ActivationCreate,
            kind="volunteer",
            holder_id=tenant.holder_id,
            consent_on=today,
            started_on=today,
        ),
    )
    return {
        "plan": plan_id,
        "goal": goal.id,
        "review": review.id,
        "own": own.id,
        "activation": activation.id,
        "today": today,
    }


def _cases(b: dict[str, Any]) -> list[tuple[str, str, Any, dict[Role, int]]]:
    p = f"/api/plans/{b['plan']}"
    today = b["today"].isoformat()
    write_200 = {**WRITE, S: 200}
    write_204 = {**WRITE, S: 204}
    return [
        ("GET", f"{p}/outcomes", None, READ),
        ("PUT", f"{p}/next-review", {"next_review_on": today}, write_200),
        ("GET", f"{p}/goals", None, READ),
        ("POST", f"{p}/goals", {"title": "Nuovo", "scale": SCALE}, WRITE),
        ("PATCH", f"{p}/goals/{b['goal']}", {"weight": 3}, write_200),
        ("GET", f"{p}/reviews", None, READ),
        ("POST", f"{p}/reviews", {"held_on": today, "participants": ["family"]}, WRITE),
        ("GET", f"{p}/reviews/{b['review']}", None, READ),
        ("PATCH", f"{p}/reviews/{b['review']}", {"changes": "Nuovo orario"}, write_200),
        ("GET", f"{p}/own-resources", None, READ),
        (
            "POST",
            f"{p}/own-resources",
            {"kind": "means", "source": "family", "description": "Auto"},
            WRITE,
        ),
        ("PATCH", f"{p}/own-resources/{b['own']}", {"minutes_per_week": 60}, write_200),
        ("DELETE", f"{p}/own-resources/{b['own']}", None, write_204),
        ("GET", f"{p}/activations", None, READ),
        (
            "POST",
            f"{p}/activations",
            {
                "kind": "volunteer",
                "volunteer_id": None,
                "holder_id": None,
                "activity_id": None,
                "consent_on": today,
                "started_on": today,
            },
            {**WRITE, S: 400},
        ),
        ("DELETE", f"{p}/activations/{b['activation']}", None, write_204),
        ("POST", f"{p}/closure", {"closed_on": today, "reason": "person_declined"}, WRITE),
        ("GET", f"{p}/closure", None, {**READ, U: 404, S: 404}),  # not closed
        ("DELETE", f"{p}/closure", None, {**READ, U: 404, S: 404}),
    ]


async def test_authorization_matrix(client, tenant: Tenant, other_tenant: Tenant) -> None:
    own = await _bundle(client, tenant)
    foreign = await _bundle(client, other_tenant)
    # A social worker of the same ambito the plan is not shared with: as if it did not exist.
    from tests.test_plans_support import add_user

    stranger = await add_user(tenant, S)
    failures = []
    for (method, path, body, expected), (_, other_path, _, _) in zip(
        _cases(own), _cases(foreign), strict=True
    ):
        for role in Role:
            if expected[role] < 300 and method != "GET":
                fresh = await _bundle(client, tenant)  # a write that succeeds changes it
                path_now = path.replace(str(own["plan"]), str(fresh["plan"]))
                for key in ("goal", "review", "own", "activation"):
                    path_now = path_now.replace(str(own[key]), str(fresh[key]))
            else:
                path_now = path
            response = await client.request(
                method, path_now, json=body, headers=tenant.headers(role)
            )
            if response.status_code != expected[role]:
                failures.append(f"own {role} {method} {path}: {response.status_code}")
            response = await client.request(
                method, other_path, json=body, headers=tenant.headers(role)
            )
            if response.status_code != OTHER[role]:
                failures.append(f"other {role} {method} {path}: {response.status_code}")
        response = await client.request(method, path, json=body, headers=stranger["headers"])
        if response.status_code != 404:
            failures.append(f"unshared social worker {method} {path}: {response.status_code}")
    hidden = await client.get("/api/plans/review-schedule", headers=stranger["headers"])
    assert str(own["plan"]) not in {d["plan_id"] for d in hidden.json()}
    # Shared by the UdP, the same plan is the other social worker's to read and write.
    shared = await client.put(
        f"/api/plans/{own['plan']}/sharing",
        json={"shared_with": [str(stranger["id"])]},
        headers=tenant.headers(U),
    )
    assert shared.status_code == 200, shared.text
    goals = await client.get(f"/api/plans/{own['plan']}/goals", headers=stranger["headers"])
    assert goals.status_code == 200 and len(goals.json()) == 1
    seen = await client.get("/api/plans/review-schedule", headers=stranger["headers"])
    assert str(own["plan"]) in {d["plan_id"] for d in seen.json()}
    added = await client.post(
        f"/api/plans/{own['plan']}/goals",
        json={"title": "Condiviso", "scale": SCALE},
        headers=stranger["headers"],
    )
    assert added.status_code == 201, added.text
    # The review schedule: the plan side only, each social worker its own plans.
    for role, status in READ.items():
        response = await client.get("/api/plans/review-schedule", headers=tenant.headers(role))
        assert response.status_code == status, (role, response.text)
    mine = await client.get("/api/plans/review-schedule", headers=tenant.headers(S))
    assert str(own["plan"]) in {d["plan_id"] for d in mine.json()}
    theirs = await client.get("/api/plans/review-schedule", headers=other_tenant.headers(S))
    assert str(own["plan"]) not in {d["plan_id"] for d in theirs.json()}
    # The vocabularies with their Italian labels: not plan data, every role of the ambito.
    for role in Role:
        response = await client.get("/api/plans/outcome-vocabularies", headers=tenant.headers(role))
        if response.status_code != 200:
            failures.append(f"vocabularies {role}: {response.status_code}")
    reasons = {t["value"]: t["label"] for t in response.json()["closure_reasons"]}
    assert reasons["taken_over"] == "Presa in carico da altro servizio" and len(reasons) == 7
    assert [t["value"] for t in response.json()["gas_levels"]] == ["-2", "-1", "0", "1", "2"]
    assert not failures, failures


# --- the social worker and the ledger of its plans ------------------------------------------


async def test_social_worker_records_and_confirms_for_its_plans(client, tenant: Tenant) -> None:
    from registry.plans.tables import Plan
    from tests.test_contributions import make_match
    from tests.test_plans_support import add_user

    today = local_today()
    owner = await add_user(tenant, S)
    stranger = await add_user(tenant, S)
    link = await make_match(tenant)
    # A plan of another social worker, shared with the tenant's: it works on it too.
    await Plan.update({Plan.owner: owner["id"], Plan.shared_with: [str(tenant.users[S])]}).where(
        Plan.id == link["plan"]
    )

    def body(**extra: Any) -> dict[str, Any]:
        return {"unit": "hours", "quantity": 1.5, "occurred_on": today.isoformat(), **extra}

    def key() -> dict[str, str]:
        return {"Idempotency-Key": uuid.uuid4().hex}

    # The match names the holder: no holder_id needed.
    mine = await client.post(
        "/api/contributions",
        json=body(match_id=str(link["match"])),
        headers={**tenant.headers(S), **key()},
    )
    assert mine.status_code == 201, mine.text
    assert (mine.json()["holder_id"], mine.json()["plan_id"]) == (
        str(tenant.holder_id),
        str(link["plan"]),
    )
    # For a need of the plan, with the holder named.
    by_need = await client.post(
        "/api/contributions",
        json=body(need_id=str(link["need"]), holder_id=str(tenant.holder_id)),
        headers={**tenant.headers(S), **key()},
    )
    assert by_need.status_code == 201, by_need.text
    # Not shared with this one: the match is not among its plans.
    refused = await client.post(
        "/api/contributions",
        json=body(match_id=str(link["match"])),
        headers={**stranger["headers"], **key()},
    )
    assert (refused.status_code, refused.json()["field"]) == (400, "match_id")
    refused = await client.post(
        "/api/contributions",
        json=body(need_id=str(link["need"]), holder_id=str(tenant.holder_id)),
        headers={**stranger["headers"], **key()},
    )
    assert (refused.status_code, refused.json()["field"]) == (400, "need_id")
    volunteer = await client.post(
        "/api/contributions",
        json=body(match_id=str(link["match"]), holder_id=str(tenant.holder_id)),
        headers={**tenant.headers(V), **key()},
    )
    assert volunteer.status_code == 201, volunteer.text
    # An entry of the holder not tied to a plan: the holder manager's to confirm.
    general = await client.post(
        "/api/contributions",
        json=body(holder_id=str(tenant.holder_id)),
        headers={**tenant.headers(V), **key()},
    )
    assert general.status_code == 201, general.text

    async def awaiting(headers: dict[str, str]) -> set[str]:
        response = await client.get(
            "/api/contributions", params={"awaiting_confirmation": "true"}, headers=headers
        )
        assert response.status_code == 200, response.text
        return {e["id"] for e in response.json()["items"]}

    plan_entries = {mine.json()["id"], by_need.json()["id"], volunteer.json()["id"]}
    assert await awaiting(tenant.headers(S)) == plan_entries
    assert await awaiting(owner["headers"]) == plan_entries
    assert await awaiting(stranger["headers"]) == set()
    assert await awaiting(tenant.headers(H)) == {general.json()["id"]}
    assert await awaiting(tenant.headers(V)) == set()
    confirmed = await client.post(
        f"/api/contributions/{volunteer.json()['id']}/confirm", headers=tenant.headers(S)
    )
    assert confirmed.status_code == 200, confirmed.text
    assert await awaiting(tenant.headers(S)) == plan_entries - {volunteer.json()["id"]}
