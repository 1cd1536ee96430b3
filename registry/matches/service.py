"""Matches: a resource proposed for a need, its lifecycle, its history, and the atomic
reservation of the resource's capacity.

Lifecycle (who may do what):

    proposed --accept (holder side)--> accepted --confirm (plan side)--> active
    proposed --decline (holder side, reason)--> declined
    accepted --decline (holder side, reason)--> declined          (releases the place)
    proposed|accepted|active --withdraw (plan side)--> withdrawn    (releases a held place)
    active --complete (plan side)--> completed                     (releases the place)

The holder side is the manager of the resource's holder (or the UdP); the plan side is a
social worker who may see the plan (or the UdP). A place of a resource is held by every
match in accepted or active: remaining = capacity - held.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from registry import italian, matching
from registry.access import Principal, Role
from registry.common import Page, now
from registry.db import is_sqlite, unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.matches import engine_io
from registry.matches.schemas import (
    ComponentOut,
    MatchCreate,
    MatchEventOut,
    MatchOut,
    MatchStatus,
    NeedView,
)
from registry.matches.tables import Match, MatchEvent, ResourceCapacity
from registry.notifications import workflow as notify
from registry.plans import service as plans
from registry.plans.schemas import NeedStatus, NeedUnit, PlanStatus, TimeWindow
from registry.plans.tables import Need, Plan
from registry.resources.tables import Resource

MATCH_ROLES = (Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER)
OPEN = (MatchStatus.PROPOSED.value, MatchStatus.ACCEPTED.value, MatchStatus.ACTIVE.value)
HOLDING = (MatchStatus.ACCEPTED, MatchStatus.ACTIVE)
_PLAN_SIDE_TARGETS = {
    MatchStatus.ACTIVE.value,
    MatchStatus.COMPLETED.value,
    MatchStatus.WITHDRAWN.value,
}

_COLUMNS = (
    *Match.all_columns(),
    Match.resource.title.as_alias("resource_title"),
    Match.holder.name.as_alias("holder_name"),
    Match.plan.comune.as_alias("plan_comune"),
)


# --- the capacity reservation ---------------------------------------------------------------


async def _ensure_capacity_row(resource_id: uuid.UUID) -> None:
    """Create the resource's counter if missing, starting from the places already held.

    `ON CONFLICT DO NOTHING` makes concurrent creators harmless on both backends; the
    `WHERE true` keeps SQLite's parser from reading ON CONFLICT as a join constraint.
    """
    await ResourceCapacity.raw(
        "INSERT INTO resource_capacity (id, resource, reserved) "
        "SELECT {}, {}, count(*) FROM resource_match "
        "WHERE resource = {} AND status IN ('accepted', 'active') AND true "
        "ON CONFLICT (resource) DO NOTHING",
        str(uuid.uuid4()),
        str(resource_id),
        str(resource_id),
    )


async def _reserve(resource_id: uuid.UUID) -> bool:
    """Take one place if one is left: a single conditional UPDATE, so two concurrent
    acceptances can never both see the last place (PostgreSQL re-checks the WHERE on the
    row it waited for; SQLite runs writers one at a time)."""
    await _ensure_capacity_row(resource_id)
    rows = await ResourceCapacity.raw(
        "UPDATE resource_capacity SET reserved = reserved + 1 "
        "WHERE resource = {} AND reserved < (SELECT capacity FROM resource WHERE id = {}) "
        "RETURNING reserved",
        str(resource_id),
        str(resource_id),
    )
    return bool(rows)


async def _release(resource_id: uuid.UUID) -> None:
    await _ensure_capacity_row(resource_id)
    await ResourceCapacity.raw(
        "UPDATE resource_capacity SET reserved = reserved - 1 WHERE resource = {} AND reserved > 0",
        str(resource_id),
    )


# --- reading --------------------------------------------------------------------------------


def _components(raw: list[dict[str, Any]] | None) -> list[ComponentOut]:
    return msgspec.convert(raw or [], list[ComponentOut])


def components_of(suggestion: matching.Suggestion) -> list[dict[str, Any]]:
    return [
        {"name": c.name, "value": c.value, "weight": c.weight, "reason": c.reason}
        for c in suggestion.components
    ]


def need_view(need: dict[str, Any], plan_comune: str) -> NeedView:
    return NeedView(
        category_code=need["category_code"],
        schedule=msgspec.convert(need["schedule"] or [], list[TimeWindow]),
        comune=need["comune"] or plan_comune,
        quantity=need["quantity"],
        unit=NeedUnit(need["unit"]),
        start_date=need["start_date"],
        end_date=need["end_date"],
        languages=need["languages"] or [],
        requirements=need["requirements"] or [],
        max_distance_km=need["max_distance_km"],
    )


async def _outs(actor: Principal, rows: list[dict[str, Any]]) -> list[MatchOut]:
    need_ids = list({row["need"] for row in rows})
    needs = {
        n["id"]: n
        for n in (
            await Need.select().where(Need.id.is_in(need_ids)).output(load_json=True)
            if need_ids
            else []
        )
    }
    holder_side = actor.role is Role.HOLDER_MANAGER
    return [
        MatchOut(
            id=row["id"],
            status=MatchStatus(row["status"]),
            plan_id=None if holder_side else row["plan"],
            need_id=None if holder_side else row["need"],
            need=need_view(needs[row["need"]], row["plan_comune"]),
            resource_id=row["resource"],
            resource_title=row["resource_title"],
            holder_id=row["holder"],
            holder_name=row["holder_name"],
            score=row["score"],
            explanation=row["explanation"],
            components=_components(row["components"]),
            warning=row["warning"],
            run_id=row["run"],
            decline_reason=row["decline_reason"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        for row in rows
    ]


async def _visible_plan_ids(actor: Principal) -> list[uuid.UUID]:
    rows = await Plan.select(Plan.id).where(plans.visible_where(actor))
    return [row["id"] for row in rows]


async def _row(actor: Principal, match_id: uuid.UUID) -> dict[str, Any]:
    """The match if `actor` may see it; 404 otherwise (another ambito, another holder,
    a plan the social worker does not see); 403 for roles that never see matches."""
    row = (
        await Match.select(*_COLUMNS)
        .where((Match.id == match_id) & (Match.ambito == actor.ambito_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("no such match")
    actor.require(*MATCH_ROLES)
    if actor.role is Role.HOLDER_MANAGER and row["holder"] != actor.holder_id:
        raise NotFound("no such match")
    if actor.role is Role.SOCIAL_WORKER:
        plan = (
            await Plan.select(Plan.owner, Plan.shared_with, Plan.ambito)
            .where(Plan.id == row["plan"])
            .first()
        )
        if plan is None or not plans.can_see(actor, plan):
            raise NotFound("no such match")
    return row


async def get_match(actor: Principal, match_id: uuid.UUID) -> MatchOut:
    return (await _outs(actor, [await _row(actor, match_id)]))[0]


async def list_matches(
    actor: Principal,
    *,
    status: MatchStatus | None = None,
    plan_id: uuid.UUID | None = None,
    need_id: uuid.UUID | None = None,
    resource_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[MatchOut]:
    actor.require(*MATCH_ROLES)
    where = Match.ambito == actor.ambito_id
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None:
            return Page(items=[], total=0, limit=limit, offset=offset)
        where &= Match.holder == actor.holder_id
        if plan_id or need_id:
            raise InvalidInput("the holder side does not filter by plan or need", field="plan_id")
    elif actor.role is Role.SOCIAL_WORKER:
        visible = await _visible_plan_ids(actor)
        if not visible:
            return Page(items=[], total=0, limit=limit, offset=offset)
        where &= Match.plan.is_in(visible)
    if status:
        where &= Match.status == status.value
    if plan_id:
        where &= Match.plan == plan_id
    if need_id:
        where &= Match.need == need_id
    if resource_id:
        where &= Match.resource == resource_id
    rows = (
        await Match.select(*_COLUMNS)
        .where(where)
        .order_by(Match.updated_at, ascending=False)
        .order_by(Match.id)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    total = await Match.count().where(where)
    return Page(items=await _outs(actor, rows), total=total, limit=limit, offset=offset)


async def history(actor: Principal, match_id: uuid.UUID) -> list[MatchEventOut]:
    await _row(actor, match_id)
    rows = (
        await MatchEvent.select(
            *MatchEvent.all_columns(), MatchEvent.actor.username.as_alias("actor_username")
        )
        .where(MatchEvent.match == match_id)
        .order_by(MatchEvent.at)
        .order_by(MatchEvent.id)
    )
    # Reasons written on the plan side (why a match was withdrawn or completed) may speak
    # of the person: the holder side sees that it happened, not why.
    hide = actor.role is Role.HOLDER_MANAGER
    return [
        MatchEventOut(
            at=row["at"],
            actor_id=row["actor"],
            actor_username=row["actor_username"],
            from_status=MatchStatus(row["from_status"]) if row["from_status"] else None,
            to_status=MatchStatus(row["to_status"]),
            reason="" if hide and row["to_status"] in _PLAN_SIDE_TARGETS else row["reason"],
        )
        for row in rows
    ]


# --- proposing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proposal:
    """A checked (need, resource) pair ready to be stored as a proposed match."""

    plan_id: uuid.UUID
    need_id: uuid.UUID
    resource_id: uuid.UUID
    holder_id: uuid.UUID
    score: float | None
    components: list[dict[str, Any]]
    explanation: str
    warning: str
    run_id: uuid.UUID | None = None


async def _event(
    actor: Principal,
    match_id: uuid.UUID,
    from_status: str | None,
    to_status: str,
    reason: str = "",
    at: datetime | None = None,
) -> None:
    await MatchEvent.insert(
        MatchEvent(
            ambito=actor.ambito_id,
            match=match_id,
            actor=actor.user_id,
            at=at or now(),
            from_status=from_status,
            to_status=to_status,
            reason=reason,
        )
    )


async def check_pair(
    actor: Principal,
    need_id: uuid.UUID,
    resource_id: uuid.UUID,
    *,
    need_field: str = "need_id",
    resource_field: str = "resource_id",
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(plan, need, resource) rows once the pair may be proposed by `actor`."""
    need = (
        await Need.select()
        .where((Need.id == need_id) & (Need.ambito == actor.ambito_id))
        .output(load_json=True)
        .first()
    )
    plan = (
        await Plan.select().where(Plan.id == need["plan"]).output(load_json=True).first()
        if need
        else None
    )
    if need is None or plan is None or not plans.can_see(actor, plan):
        raise InvalidInput("no such need in a plan you can see", field=need_field)
    resource = (
        await Resource.select(Resource.id, Resource.holder, Resource.status, Resource.valid_until)
        .where((Resource.id == resource_id) & (Resource.ambito == actor.ambito_id))
        .first()
    )
    if resource is None:
        raise InvalidInput("no such resource in this ambito", field=resource_field)
    if plan["status"] != PlanStatus.ACTIVE:
        raise Conflict(f"the plan is {plan['status']}: only an active plan gets proposals")
    if need["status"] == NeedStatus.CLOSED:
        raise Conflict("the need is closed")
    if resource["status"] != "active" or (
        resource["valid_until"] is not None and resource["valid_until"] < italian.today()
    ):
        raise Conflict(
            f"the resource is not available for proposals (status {resource['status']})",
            field=resource_field,
        )
    duplicate = await Match.exists().where(
        (Match.need == need_id) & (Match.resource == resource_id) & Match.status.is_in(OPEN)
    )
    if duplicate:
        raise Conflict("this resource is already proposed for this need", field=resource_field)
    return plan, need, resource


async def store_proposal(actor: Principal, proposal: Proposal) -> uuid.UUID:
    """Insert the match, its first history row and the resource's counter (the caller
    holds the unit of work)."""
    moment = now()
    match = Match(
        ambito=actor.ambito_id,
        plan=proposal.plan_id,
        need=proposal.need_id,
        resource=proposal.resource_id,
        holder=proposal.holder_id,
        status=MatchStatus.PROPOSED.value,
        score=proposal.score,
        components=proposal.components,
        explanation=proposal.explanation,
        warning=proposal.warning[:300],
        run=proposal.run_id,
        proposed_by=actor.user_id,
        created_at=moment,
        updated_at=moment,
    )
    await match.save()
    await _event(actor, match.id, None, MatchStatus.PROPOSED.value)
    await _ensure_capacity_row(proposal.resource_id)
    await notify.match_proposed(actor, match.id)  # the holder's managers
    return match.id


async def propose(actor: Principal, data: MatchCreate) -> MatchOut:
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)
    plan, need, resource = await check_pair(actor, data.need_id, data.resource_id)
    # Score and explain the pair exactly as a suggestion would be; a pair the engine would
    # not have suggested can still be proposed (people decide), with a warning saying why.
    today = italian.today()
    items, _ = await engine_io.load_resources(actor.ambito_id, today)
    item = next((r for r in items if r.id == str(data.resource_id)), None)
    if item is None:
        raise Conflict("the resource or its holder is not available", field="resource_id")
    taxonomy = await engine_io.load_taxonomy()
    holders = (await engine_io.plan_holders([plan["id"]])).get(plan["id"], frozenset())
    need_item = engine_io.need_item(need, plan, holders)
    suggestion = matching.score(need_item, item, matching.Weights(), taxonomy)
    excluded = matching.exclusion_reason(need_item, item, taxonomy, as_of=today)
    warning = (
        f"Non suggerita dal motore: {matching.EXCLUSION_REASONS_IT.get(excluded, excluded)}"
        if excluded
        else ""
    )
    async with unit_of_work():
        match_id = await store_proposal(
            actor,
            Proposal(
                plan_id=plan["id"],
                need_id=need["id"],
                resource_id=resource["id"],
                holder_id=resource["holder"],
                score=suggestion.score,
                components=components_of(suggestion),
                explanation=suggestion.explanation,
                warning=warning,
            ),
        )
    return await get_match(actor, match_id)


# --- transitions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    side: str  # "holder" | "plan"
    sources: tuple[MatchStatus, ...]
    target: MatchStatus


RULES: dict[str, Rule] = {
    "accept": Rule("holder", (MatchStatus.PROPOSED,), MatchStatus.ACCEPTED),
    "decline": Rule("holder", (MatchStatus.PROPOSED, MatchStatus.ACCEPTED), MatchStatus.DECLINED),
    "confirm": Rule("plan", (MatchStatus.ACCEPTED,), MatchStatus.ACTIVE),
    "complete": Rule("plan", (MatchStatus.ACTIVE,), MatchStatus.COMPLETED),
    "withdraw": Rule(
        "plan",
        (MatchStatus.PROPOSED, MatchStatus.ACCEPTED, MatchStatus.ACTIVE),
        MatchStatus.WITHDRAWN,
    ),
}


def _check_side(actor: Principal, rule: Rule, action: str, row: dict[str, Any]) -> None:
    if rule.side == "holder":
        if not actor.manages_holder(row["holder"]):
            raise PermissionDenied(
                f"only the manager of the resource's holder (or the UdP) can {action} a match"
            )
    elif actor.role not in (Role.UDP_ADMIN, Role.SOCIAL_WORKER):
        raise PermissionDenied(f"only the plan's social worker (or the UdP) can {action} a match")


async def _update_need_status(need_id: uuid.UUID, target: MatchStatus) -> None:
    if target is MatchStatus.ACTIVE:
        await Need.update({Need.status: NeedStatus.MATCHED.value, Need.updated_at: now()}).where(
            (Need.id == need_id) & (Need.status == NeedStatus.OPEN.value)
        )
    elif target is MatchStatus.WITHDRAWN:
        still = await Match.exists().where(
            (Match.need == need_id) & (Match.status == MatchStatus.ACTIVE.value)
        )
        if not still:
            await Need.update({Need.status: NeedStatus.OPEN.value, Need.updated_at: now()}).where(
                (Need.id == need_id) & (Need.status == NeedStatus.MATCHED.value)
            )


async def _locked_status(match_id: uuid.UUID) -> MatchStatus | None:
    """The match's status, with the match row locked until the transaction ends.

    On PostgreSQL `FOR UPDATE` makes a second transition of the same match wait and then
    read the first one's result (so withdraw-after-accept works, instead of failing on a
    stale read); locks are always taken match row first, capacity row second, so two
    transitions never wait on each other in a cycle. SQLite has no FOR UPDATE and needs
    none: BEGIN IMMEDIATE already runs one writer at a time.
    """
    lock = "" if is_sqlite() else " FOR UPDATE"
    rows = await Match.raw(
        f"SELECT status FROM resource_match WHERE id = {{}}{lock}", str(match_id)
    )
    return MatchStatus(rows[0]["status"]) if rows else None


async def transition(
    actor: Principal, match_id: uuid.UUID, action: str, reason: str = ""
) -> MatchOut:
    rule = RULES[action]
    row = await _row(actor, match_id)
    _check_side(actor, rule, action, row)
    reason = reason.strip()
    if action == "decline" and not reason:
        raise InvalidInput("say why the proposal is declined", field="reason")
    async with unit_of_work():
        # Re-read inside the transaction: the state may have moved since the check above.
        source = await _locked_status(match_id)
        if source not in rule.sources:
            allowed = " or ".join(s.value for s in rule.sources)
            raise Conflict(
                f"cannot {action} a match that is {source.value if source else 'gone'}: "
                f"only from {allowed}",
                field="status",
            )
        if rule.target is MatchStatus.ACCEPTED and not await _reserve(row["resource"]):
            raise Conflict(
                "no capacity left on this resource: every place is taken by accepted or "
                "active matches",
                field="resource_id",
            )
        changes: dict[Any, Any] = {Match.status: rule.target.value, Match.updated_at: now()}
        if action == "decline":
            changes[Match.decline_reason] = reason
        # Conditional on the state read above: a concurrent transition makes this a no-op,
        # and raising rolls back the reservation taken just before.
        moved = (
            await Match.update(changes)
            .where((Match.id == match_id) & (Match.status == source.value))
            .returning(Match.id)
        )
        if not moved:
            raise Conflict(f"the match changed meanwhile: it is no longer {source.value}")
        if source in HOLDING and rule.target not in HOLDING:
            await _release(row["resource"])
        await _update_need_status(row["need"], rule.target)
        await _event(actor, match_id, source.value, rule.target.value, reason)
        await notify.match_moved(actor, match_id, action, reason)  # whoever acts next
    return await get_match(actor, match_id)


# --- a plan's closure -----------------------------------------------------------------------

# How a closure ends each open match of the plan, through the plan side's own transitions:
# help that was running is completed (it was given until the plan ended), a proposal or an
# acceptance that never started is withdrawn (its held place is released).
_ON_PLAN_CLOSURE = {
    MatchStatus.PROPOSED: "withdraw",
    MatchStatus.ACCEPTED: "withdraw",
    MatchStatus.ACTIVE: "complete",
}


async def end_for_closed_plan(
    actor: Principal, plan_id: uuid.UUID, reason: str, moment: datetime | None = None
) -> int:
    """End the plan's proposed, accepted and active matches as `transition` does (history
    row, place released, need status, the holder's managers told, who never see `reason`).

    The caller holds the unit of work that closes the plan, so the closure and the ends
    are stored together or not at all; `moment` is the closure's clock (the demo's, a
    test's). Returns how many matches ended.
    """
    rows = (
        await Match.select(Match.id, Match.status, Match.resource, Match.need)
        .where((Match.plan == plan_id) & (Match.ambito == actor.ambito_id))
        .where(Match.status.is_in(OPEN))
        .order_by(Match.created_at)
        .order_by(Match.id)
    )
    # Withdrawals first: a need that keeps an active match until its completion stays
    # "matched" (a withdrawal reopens a need only when no active match is left).
    rows.sort(key=lambda r: r["status"] == MatchStatus.ACTIVE.value)
    ended = 0
    at = moment or now()
    for row in rows:
        source = await _locked_status(row["id"])  # a concurrent answer may have moved it
        action = _ON_PLAN_CLOSURE.get(source) if source else None
        if source is None or action is None:
            continue
        rule = RULES[action]
        moved = (
            await Match.update({Match.status: rule.target.value, Match.updated_at: at})
            .where((Match.id == row["id"]) & (Match.status == source.value))
            .returning(Match.id)
        )
        if not moved:
            continue
        if source in HOLDING and rule.target not in HOLDING:
            await _release(row["resource"])
        await _update_need_status(row["need"], rule.target)
        await _event(actor, row["id"], source.value, rule.target.value, reason, at)
        await notify.match_moved(actor, row["id"], action, reason)
        ended += 1
    return ended
