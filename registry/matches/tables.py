from piccolo.columns import (
    JSON,
    UUID,
    Float,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.holders.tables import Holder
from registry.plans.tables import Need, Plan
from registry.resources.tables import Resource
from registry.users.tables import User


class MatchingRun(Table, tablename="matching_run"):
    """A batch allocation stored as a proposal for people to review: never a match itself."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True)
    # The one plan the run was limited to, if any.
    plan = ForeignKey(Plan, null=True, default=None, on_delete=OnDelete.set_null)
    status = Varchar(length=16, default="draft", index=True)  # draft | proposed
    weights = JSON(default="{}")
    max_candidates_per_need = Integer(null=True, default=None)
    needs_considered = Integer(default=0)
    resources_considered = Integer(default=0)
    candidate_pairs = Integer(default=0)
    total_score = Float(default=0.0)
    objective = Float(default=0.0)
    # [{"need_id", "plan_id", "code", "reason"}] for needs the allocation left alone.
    unassigned = JSON(default="[]")
    duration_ms = Integer(default=0)
    created_at = Timestamptz()


class Match(Table, tablename="resource_match"):
    """A resource proposed for a need, and where it stands in its lifecycle."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    plan = ForeignKey(Plan, null=False, on_delete=OnDelete.restrict, index=True)
    need = ForeignKey(Need, null=False, on_delete=OnDelete.restrict, index=True)
    resource = ForeignKey(Resource, null=False, on_delete=OnDelete.restrict, index=True)
    # Denormalised from the resource: the holder side's filter is one indexed column.
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=16, default="proposed", index=True)
    score = Float(null=True, default=None)
    # [{"name", "value", "weight", "reason"}] as the engine explained the pair.
    components = JSON(default="[]")
    explanation = Text(default="")
    warning = Varchar(length=300, default="")
    run = ForeignKey(MatchingRun, null=True, default=None, on_delete=OnDelete.set_null)
    proposed_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    decline_reason = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class MatchEvent(Table, tablename="match_event"):
    """One transition of a match: the history is append-only."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    match = ForeignKey(Match, null=False, on_delete=OnDelete.cascade, index=True)
    actor = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    at = Timestamptz()
    from_status = Varchar(length=16, null=True, default=None)  # None: the proposal itself
    to_status = Varchar(length=16)
    reason = Text(default="")


class ResourceCapacity(Table, tablename="resource_capacity"):
    """Places of a resource held by accepted or active matches.

    The reservation is one conditional UPDATE on this row
    (`reserved = reserved + 1 WHERE reserved < capacity`): atomic on SQLite and on
    PostgreSQL alike, so concurrent acceptances can never overbook a resource.
    """

    id = UUID(primary_key=True)
    resource = ForeignKey(Resource, null=False, unique=True, on_delete=OnDelete.cascade)
    reserved = Integer(default=0)


class RunPair(Table, tablename="matching_run_pair"):
    """One (need, resource) pair of a run's allocation, with its score and explanation."""

    id = UUID(primary_key=True)
    run = ForeignKey(MatchingRun, null=False, on_delete=OnDelete.cascade, index=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    plan = ForeignKey(Plan, null=False, on_delete=OnDelete.cascade)
    need = ForeignKey(Need, null=False, on_delete=OnDelete.cascade)
    resource = ForeignKey(Resource, null=False, on_delete=OnDelete.cascade)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.cascade)
    score = Float()
    components = JSON(default="[]")
    explanation = Text(default="")
    # Set when someone turned the pair into a match proposal.
    match = ForeignKey(Match, null=True, default=None, on_delete=OnDelete.set_null)
