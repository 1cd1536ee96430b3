"""The demo ambito's year of outcomes (issue 15): GAS goals, reviews about every three months
(most on time, some late, a few still waiting), the person's own resources, five people who
became contributors, two closures; then the overdue-review job, so the social worker finds
its reminders.

Written through the services of registry/outcomes/ with the clock moved (`now=`) to the day each
thing happened, as the `assistente` social worker who owns the demo plans. Drawn from a
seeded `random.Random`, relative to the demo's `moment`: every load writes the same year.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any

import msgspec

from registry.access import Principal, Role
from registry.contributions.tables import CommunityActivity
from registry.db import unit_of_work
from registry.holders.tables import Holder
from registry.italian import today as local_today
from registry.outcomes.activations import create_activation
from registry.outcomes.closure import close_plan
from registry.outcomes.follow_up import notify_overdue_reviews
from registry.outcomes.goals import create_goal
from registry.outcomes.overview import set_next_review
from registry.outcomes.own_resources import create_own_resource
from registry.outcomes.reviews import create_review
from registry.outcomes.schemas import (
    ActivationCreate,
    ClosureIn,
    GoalCreate,
    NextReviewIn,
    OwnResourceCreate,
    ReviewCreate,
)
from registry.plans.tables import Plan
from registry.users.tables import User

SEED = 20_261_215
REVIEW_EVERY = 90  # days

# (kind, source, description, minutes a week) by user area.
OWN: dict[str, list[tuple[str, str, str, int]]] = {
    "anziani": [
        ("time", "family", "La figlia passa due sere a settimana e fa la spesa grossa", 240),
        ("relations", "person", "Una vicina di casa la chiama ogni mattina", 70),
    ],
    "disabili": [
        ("time", "family", "I genitori lo accompagnano il sabato e la domenica", 300),
        ("skills", "person", "Usa bene il computer e ama disegnare", 0),
    ],
    "immigrati": [
        ("skills", "person", "Parla arabo e francese: fa da interprete ad altre famiglie", 60),
        ("relations", "family", "Il cognato aiuta con i documenti e gli appuntamenti", 60),
    ],
    "poverta-disagio-adulti": [
        ("means", "person", "Ha un'auto e la patente", 0),
        ("time", "person", "Si rende disponibile per piccoli lavori di manutenzione", 120),
    ],
    "famiglie-minori": [
        ("time", "family", "La nonna tiene i bambini due pomeriggi a settimana", 360),
        ("skills", "person", "Cucina bene e prepara i pasti anche per i vicini", 0),
    ],
}
CHANGES = [
    "Confermati gli aiuti in corso; nessun cambiamento",
    "Ridotto l'accompagnamento: la persona si organizza da sola",
    "Aggiunto un pomeriggio di compagnia",
    "Cambiato il giorno del trasporto per l'orario del centro",
    "Coinvolta la famiglia nella spesa settimanale",
    "Chiesto un nuovo abbinamento per il bisogno ancora scoperto",
]
NOTES = [
    "Colloquio sereno; la persona appare più fiduciosa.",
    "Qualche tensione in famiglia sull'organizzazione della settimana.",
    "La persona chiede di essere più autonoma negli spostamenti.",
    "Da rivalutare la situazione economica al prossimo incontro.",
    "",
]
EXTRA_PARTICIPANTS = ["family", "volunteer", "community_holder", "health_service", "school"]
# Plan key -> (days ago, reason): the demo's closures.
CLOSURES = {"A2": (70, "goals_reached"), "D5": (100, "goals_reached")}
# Plans whose latest review is past due and not yet held: the social worker's reminders.
OVERDUE = {"A4", "V2"}
# Plan key -> (kind, volunteer username or None, holder name or None, activity title or None,
# days after the plan's start).
ACTIVATIONS: dict[str, tuple[str, str | None, str | None, str | None, int]] = {
    "I1": ("volunteer", "fatima.e", "Scuola di italiano Parole in cammino", None, 200),
    "A3": ("volunteer", None, "Auser Olgiate Comasco", None, 240),
    "F3": ("volunteer", None, "Oratorio di Villa Guardia", None, 120),
    "V1": ("activity", None, None, "Tavola solidale del giovedì", 150),
    "D2": ("activity", None, None, "Orto sociale di Guanzate", 60),
}


def scale(title: str) -> list[str]:
    return [
        f"Peggio dell'inizio: «{title}» si allontana",
        "Come all'inizio: nessun cambiamento",
        f"Risultato atteso: «{title}»",
        f"Più del previsto: «{title}», con meno aiuto del previsto",
        f"Molto più del previsto: «{title}», in autonomia",
    ]


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _in(struct: type[Any], **values: Any) -> Any:
    """An input as the API decodes it (enums and dates checked)."""
    return msgspec.convert(values, struct)


async def build(ambito_id: uuid.UUID, moment: datetime) -> dict[str, int]:
    """Write the outcomes of the demo plans `demo_activity.build` wrote."""

    rng = Random(SEED)
    today = local_today(moment)
    worker = (
        await User.select(User.id, User.username)
        .where((User.ambito == ambito_id) & (User.username == "assistente"))
        .first()
    )
    if worker is None:
        return {}
    actor = Principal(worker["id"], worker["username"], Role.SOCIAL_WORKER, ambito_id)
    plans = {
        tuple(row["goals"] or []): row
        for row in await Plan.select(Plan.id, Plan.goals, Plan.start_date, Plan.status)
        .where((Plan.ambito == ambito_id) & (Plan.owner == worker["id"]))
        .output(load_json=True)
    }
    counts = {"goals": 0, "reviews": 0, "own_resources": 0, "activations": 0, "closures": 0}
    # One transaction for the whole year (the services' own units of work join it): one
    # commit instead of hundreds, and a demo that fails half-way leaves no half year.
    async with unit_of_work():
        await _plans(actor, rng, today, plans, counts)
        await notify_overdue_reviews(moment, [ambito_id])
    return counts


async def _plans(
    actor: Principal,
    rng: Random,
    today: date,
    plans: dict[tuple[str, ...], dict[str, Any]],
    counts: dict[str, int],
) -> None:
    from registry.demo_activity.specs import PLANS

    for spec in PLANS:
        plan = plans.get(tuple(spec.goals))
        if plan is None:
            continue
        plan_id, start = plan["id"], plan["start_date"]
        closure = CLOSURES.get(spec.key)
        closed_on = today - timedelta(days=closure[0]) if closure else None
        if plan["status"] == "closed":
            # Closed by the demo's plans in bulk: reopened here, so that its reviews and its
            # closure go through the service like every other.
            await Plan.update({Plan.status: "active"}).where(Plan.id == plan_id)
        last = min(d for d in (today, closed_on) if d is not None)

        goals = []
        for index, title in enumerate(spec.goals):
            baseline = rng.choice([-1, -1, -2])
            goal = await create_goal(
                actor,
                plan_id,
                _in(
                    GoalCreate,
                    title=title,
                    scale=scale(title),
                    weight=1 + (index == 0),
                    baseline=baseline,
                ),
                now=at(start),
            )
            goals.append([goal.id, baseline])
            counts["goals"] += 1
        due = start + timedelta(days=REVIEW_EVERY)
        await set_next_review(actor, plan_id, _in(NextReviewIn, next_review_on=due), now=at(start))
        while due <= last:
            if spec.key in OVERDUE and due + timedelta(days=REVIEW_EVERY) > last:
                break
            held = due + timedelta(days=rng.choice([-6, -3, -1, 0, 0, 4, 12]))
            if held > last or held < start:
                break  # still waiting: overdue once its date is past
            for item in goals:
                item[1] = max(-2, min(2, item[1] + rng.choice([0, 1, 1, 1, -1])))
            following = held + timedelta(days=REVIEW_EVERY)
            participants = ["person", "social_worker", *rng.sample(EXTRA_PARTICIPANTS, 2)]
            await create_review(
                actor,
                plan_id,
                _in(
                    ReviewCreate,
                    held_on=held,
                    participants=participants,
                    levels=[{"goal_id": g, "level": lv} for g, lv in goals],
                    changes=rng.choice(CHANGES),
                    notes=rng.choice(NOTES),
                    next_review_on=following,
                ),
                now=at(held, 15),
            )
            counts["reviews"] += 1
            due = following
        for kind, source, description, minutes in OWN.get(spec.area, [])[: rng.choice([1, 2, 2])]:
            await create_own_resource(
                actor,
                plan_id,
                _in(
                    OwnResourceCreate,
                    kind=kind,
                    source=source,
                    description=description,
                    minutes_per_week=minutes,
                    start_date=start,
                ),
                now=at(start),
            )
            counts["own_resources"] += 1
        if spec.key in ACTIVATIONS:
            counts["activations"] += await _activate(
                actor, plan_id, start, today, ACTIVATIONS[spec.key]
            )
        if closure and closed_on is not None:
            await close_plan(
                actor,
                plan_id,
                _in(
                    ClosureIn,
                    closed_on=closed_on,
                    reason=closure[1],
                    levels=[{"goal_id": g, "level": max(0, lv)} for g, lv in goals],
                    participants=["person", "family", "social_worker"],
                ),
                now=at(closed_on, 16),
            )
            counts["closures"] += 1


async def _activate(
    actor: Principal,
    plan_id: uuid.UUID,
    start: date,
    today: date,
    spec: tuple[str, str | None, str | None, str | None, int],
) -> int:
    kind, username, holder_name, activity_title, after = spec
    started = start + timedelta(days=after)
    if started > today:
        return 0
    volunteer = holder = activity = None
    if username:
        row = (
            await User.select(User.id)
            .where((User.ambito == actor.ambito_id) & (User.username == username))
            .first()
        )
        volunteer = row["id"] if row else None
    if holder_name:
        row = (
            await Holder.select(Holder.id)
            .where((Holder.ambito == actor.ambito_id) & (Holder.name == holder_name))
            .first()
        )
        holder = row["id"] if row else None
    if activity_title:
        row = (
            await CommunityActivity.select(CommunityActivity.id)
            .where(
                (CommunityActivity.ambito == actor.ambito_id)
                & (CommunityActivity.title == activity_title)
            )
            .first()
        )
        activity = row["id"] if row else None
    if volunteer is None and holder is None and activity is None:
        return 0
    await create_activation(
        actor,
        plan_id,
        _in(
            ActivationCreate,
            kind=kind,
            volunteer_id=volunteer,
            holder_id=holder,
            activity_id=activity,
            consent_on=started - timedelta(days=7),
            started_on=started,
        ),
        now=at(started),
    )
    return 1
