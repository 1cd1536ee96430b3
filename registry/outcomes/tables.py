"""What changes for the person (issue 15): GAS goals, reviews, closure, own resources,
activation. Every row carries its plan's ambito, so every tenant filter is one column.

Free text (goal titles and scales, review changes and notes, own-resource descriptions,
closure notes) is personal data: `service.erase_plan_free_text` blanks it and keeps the rest.
"""

from piccolo.columns import (
    JSON,
    UUID,
    Array,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.contributions.tables import CommunityActivity
from registry.holders.tables import Holder
from registry.plans.tables import Plan
from registry.users.tables import User


class PlanGoal(Table, tablename="plan_goal"):
    """A goal of a plan with its Goal Attainment Scale: five levels −2..+2 described in words
    when the goal is set, a weight and the baseline level."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    plan = ForeignKey(Plan, null=False, on_delete=OnDelete.cascade, index=True)
    position = Integer(default=0)
    title = Text(default="")
    # Five descriptions, in order −2, −1, 0, +1, +2.
    scale = JSON(default="[]")
    weight = Integer(default=1)
    baseline = Integer(default=-1)
    # The need the goal is about, if any (plain UUID: a need may be rewritten, the goal stays).
    need_id = UUID(null=True, default=None)
    # active | dropped (a dropped goal keeps its levels but leaves the T-score from then on).
    status = Varchar(length=16, default="active")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class PlanFollowUp(Table, tablename="plan_follow_up"):
    """One row per plan: when the next review is due, and for which due date the social
    worker was last told it is overdue (so the job tells once per due date)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    plan = ForeignKey(Plan, null=False, on_delete=OnDelete.cascade, unique=True)
    next_review_on = Date(null=True, default=None, index=True)
    overdue_notified_for = Date(null=True, default=None)
    updated_at = Timestamptz()


class PlanReview(Table, tablename="plan_review"):
    """A dated review of the plan (kind "review"), or the final levels at closure
    (kind "closure")."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    plan = ForeignKey(Plan, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16, default="review")
    held_on = Date(index=True)
    # The next-review date in force when the review was recorded; None: none was set.
    due_on = Date(null=True, default=None)
    # Roles of who took part (ParticipantRole values), never names.
    participants = Array(base_column=Varchar(length=32))
    changes = Text(default="")
    # Private like Plan.notes: only in the review's own detail, never in lists or exports.
    notes = Text(default="")
    next_review_on = Date(null=True, default=None)
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ReviewLevel(Table, tablename="plan_review_level"):
    """The level reached on one goal at one review (unique per review and goal)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    review = ForeignKey(PlanReview, null=False, on_delete=OnDelete.cascade, index=True)
    goal = ForeignKey(PlanGoal, null=False, on_delete=OnDelete.cascade, index=True)
    level = Integer()


class PlanClosure(Table, tablename="plan_closure"):
    """Why and when a plan was closed; its final levels are the closure review's."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    plan = ForeignKey(Plan, null=False, on_delete=OnDelete.cascade, unique=True)
    closed_on = Date(index=True)
    reason = Varchar(length=32)
    review = ForeignKey(PlanReview, null=True, default=None, on_delete=OnDelete.set_null)
    note = Text(default="")
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()


class OwnResource(Table, tablename="plan_own_resource"):
    """What the person or the family brings to the plan: time, skills, relations, means."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    plan = ForeignKey(Plan, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16)
    source = Varchar(length=16)
    description = Text(default="")
    # Minutes a week the resource covers (0: not measured in time, e.g. a car lent).
    minutes_per_week = Integer(default=0)
    start_date = Date(null=True, default=None)
    end_date = Date(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Activation(Table, tablename="plan_activation"):
    """A person of a plan who became a volunteer or joined a community activity: from
    beneficiary to contributor. Read only from the plan's side: the holder side never sees it."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    plan = ForeignKey(Plan, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16)
    volunteer = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    holder = ForeignKey(Holder, null=True, default=None, on_delete=OnDelete.set_null)
    activity = ForeignKey(CommunityActivity, null=True, default=None, on_delete=OnDelete.set_null)
    consent_on = Date()
    started_on = Date(index=True)
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
