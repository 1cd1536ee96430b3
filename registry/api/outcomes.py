"""What changes for the person (issue 15): the plan's goals, reviews, closure, own resources
and activations, nested under the plan. The rules are in registry/outcomes/ (one module a job)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from registry.api.params import Actor
from registry.outcomes import (
    activations,
    closure,
    follow_up,
    goals,
    overview,
    own_resources,
    reviews,
)
from registry.outcomes.schemas import (
    ActivationCreate,
    ActivationOut,
    ClosureIn,
    ClosureOut,
    GoalCreate,
    GoalOut,
    GoalPatch,
    NextReviewIn,
    OutcomesOut,
    OutcomeVocabularies,
    OwnResourceCreate,
    OwnResourceOut,
    OwnResourcePatch,
    ReviewCreate,
    ReviewDue,
    ReviewOut,
    ReviewPatch,
    ReviewSummary,
    vocabularies,
)

PLAN = "/{plan_id:uuid}"


class OutcomesController(Controller):
    path = "/api/plans"
    tags = ["outcomes"]

    @get(
        "/outcome-vocabularies",
        summary="Participant roles, closure reasons, own-resource kinds and sources, "
        "activation kinds and GAS levels, with their Italian labels",
    )
    async def vocabularies(self, actor: Actor) -> OutcomeVocabularies:
        return vocabularies()

    @get(
        "/review-schedule",
        summary="The open plans the caller may see with their next review date, overdue first "
        "(case codes only)",
    )
    async def review_schedule(
        self, actor: Actor, overdue: FromQuery[bool] = False
    ) -> list[ReviewDue]:
        return await follow_up.review_schedule(actor, overdue_only=overdue)

    @get(
        PLAN + "/outcomes",
        summary="Goals with their latest levels, GAS T-scores, next review, closure, own "
        "resources (the read is logged)",
    )
    async def outcomes(self, actor: Actor, plan_id: FromPath[uuid.UUID]) -> OutcomesOut:
        return await overview.get_outcomes(actor, plan_id)

    @put(PLAN + "/next-review", status_code=200, summary="Set or move the next review's date")
    async def next_review(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[NextReviewIn]
    ) -> OutcomesOut:
        return await overview.set_next_review(actor, plan_id, data)

    # --- goals ---

    @get(PLAN + "/goals", summary="The plan's GAS goals (the read is logged)")
    async def list_goals(self, actor: Actor, plan_id: FromPath[uuid.UUID]) -> list[GoalOut]:
        return await goals.list_goals(actor, plan_id)

    @post(PLAN + "/goals", summary="A goal with its five GAS levels described in words")
    async def create_goal(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[GoalCreate]
    ) -> GoalOut:
        return await goals.create_goal(actor, plan_id, data)

    @patch(PLAN + "/goals/{goal_id:uuid}")
    async def update_goal(
        self,
        actor: Actor,
        plan_id: FromPath[uuid.UUID],
        goal_id: FromPath[uuid.UUID],
        data: JSONBody[GoalPatch],
    ) -> GoalOut:
        return await goals.update_goal(actor, plan_id, goal_id, data)

    # --- reviews ---

    @get(PLAN + "/reviews", summary="The plan's reviews, newest first (no notes; logged)")
    async def list_reviews(self, actor: Actor, plan_id: FromPath[uuid.UUID]) -> list[ReviewSummary]:
        return await reviews.list_reviews(actor, plan_id)

    @post(PLAN + "/reviews", summary="A dated review: who took part, levels, changes, notes")
    async def create_review(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[ReviewCreate]
    ) -> ReviewOut:
        return await reviews.create_review(actor, plan_id, data)

    @get(PLAN + "/reviews/{review_id:uuid}", summary="One review with its notes (logged)")
    async def get_review(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], review_id: FromPath[uuid.UUID]
    ) -> ReviewOut:
        return await reviews.get_review(actor, plan_id, review_id)

    @patch(PLAN + "/reviews/{review_id:uuid}", summary="Correct a review")
    async def update_review(
        self,
        actor: Actor,
        plan_id: FromPath[uuid.UUID],
        review_id: FromPath[uuid.UUID],
        data: JSONBody[ReviewPatch],
    ) -> ReviewOut:
        return await reviews.update_review(actor, plan_id, review_id, data)

    # --- closure ---

    @get(PLAN + "/closure", summary="Why and when the plan was closed, final levels (logged)")
    async def get_closure(self, actor: Actor, plan_id: FromPath[uuid.UUID]) -> ClosureOut:
        return await closure.get_closure(actor, plan_id)

    @post(PLAN + "/closure", summary="Close the plan: a reason and the goals' final levels")
    async def close_plan(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[ClosureIn]
    ) -> ClosureOut:
        return await closure.close_plan(actor, plan_id, data)

    @delete(PLAN + "/closure", summary="Reopen a plan closed by mistake")
    async def reopen_plan(self, actor: Actor, plan_id: FromPath[uuid.UUID]) -> None:
        await closure.reopen_plan(actor, plan_id)

    # --- own resources ---

    @get(PLAN + "/own-resources", summary="What the person and the family bring (logged)")
    async def list_own(self, actor: Actor, plan_id: FromPath[uuid.UUID]) -> list[OwnResourceOut]:
        return await own_resources.list_own_resources(actor, plan_id)

    @post(PLAN + "/own-resources")
    async def create_own(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[OwnResourceCreate]
    ) -> OwnResourceOut:
        return await own_resources.create_own_resource(actor, plan_id, data)

    @patch(PLAN + "/own-resources/{own_resource_id:uuid}")
    async def update_own(
        self,
        actor: Actor,
        plan_id: FromPath[uuid.UUID],
        own_resource_id: FromPath[uuid.UUID],
        data: JSONBody[OwnResourcePatch],
    ) -> OwnResourceOut:
        return await own_resources.update_own_resource(actor, plan_id, own_resource_id, data)

    @delete(PLAN + "/own-resources/{own_resource_id:uuid}")
    async def delete_own(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], own_resource_id: FromPath[uuid.UUID]
    ) -> None:
        await own_resources.delete_own_resource(actor, plan_id, own_resource_id)

    # --- activation ---

    @get(PLAN + "/activations", summary="From beneficiary to contributor (logged)")
    async def list_activations(
        self, actor: Actor, plan_id: FromPath[uuid.UUID]
    ) -> list[ActivationOut]:
        return await activations.list_activations(actor, plan_id)

    @post(PLAN + "/activations", summary="The person became a volunteer or joined an activity")
    async def create_activation(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[ActivationCreate]
    ) -> ActivationOut:
        return await activations.create_activation(actor, plan_id, data)

    @delete(PLAN + "/activations/{activation_id:uuid}")
    async def delete_activation(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], activation_id: FromPath[uuid.UUID]
    ) -> None:
        await activations.delete_activation(actor, plan_id, activation_id)
