from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import msgspec


class AuditAction(StrEnum):
    PLAN_LIST = "plan.list"
    PLAN_READ = "plan.read"
    PLAN_CREATE = "plan.create"
    PLAN_UPDATE = "plan.update"
    PLAN_SHARE = "plan.share"
    # A social worker asked for a plan of the ambito it may not see: answered 404, kept here.
    PLAN_DENIED = "plan.denied"
    NEEDS_READ = "needs.read"
    NEED_READ = "need.read"
    NEED_CREATE = "need.create"
    NEED_UPDATE = "need.update"
    # What changes for the person (issue 15): goals, reviews and notes are personal data.
    OUTCOMES_READ = "outcomes.read"
    GOALS_READ = "goals.read"
    GOAL_CREATE = "goal.create"
    GOAL_UPDATE = "goal.update"
    REVIEWS_READ = "reviews.read"
    REVIEW_READ = "review.read"
    REVIEW_CREATE = "review.create"
    REVIEW_UPDATE = "review.update"
    NEXT_REVIEW_SET = "review.schedule"
    CLOSURE_READ = "closure.read"
    PLAN_CLOSE = "plan.close"
    PLAN_REOPEN = "plan.reopen"
    OWN_RESOURCES_READ = "own_resources.read"
    OWN_RESOURCE_WRITE = "own_resource.write"
    ACTIVATIONS_READ = "activations.read"
    ACTIVATION_WRITE = "activation.write"


class AccessLogOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    at: datetime
    user_id: uuid.UUID
    username: str
    role: str
    action: AuditAction
    plan_id: uuid.UUID | None
    need_id: uuid.UUID | None
    detail: str
