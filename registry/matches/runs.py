"""Batch matching runs: the engine's allocation of an ambito's open needs, stored as a
draft for people to review. Nothing here ever creates a match by itself: proposing the
selected pairs is a separate, explicit request."""

from __future__ import annotations

import time
import uuid
from functools import partial
from typing import Any

import msgspec

from registry import italian, matching
from registry.access import Principal, Role
from registry.common import now, set_fields
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound
from registry.matches import engine_io
from registry.matches import service as matches
from registry.matches.schemas import (
    ComponentOut,
    MatchOut,
    ProposeIn,
    RunCreate,
    RunOut,
    RunPairOut,
    RunStatus,
    RunSummary,
    UnassignedOut,
)
from registry.matches.tables import MatchingRun, RunPair
from registry.offload import in_worker_process
from registry.plans import service as plans
from registry.plans.tables import Plan


def _weights(data: RunCreate) -> matching.Weights:
    overrides = set_fields(data.weights) if data.weights else {}
    try:
        return matching.Weights(**overrides)
    except ValueError as error:
        raise InvalidInput(str(error), field="weights") from error


async def create_run(actor: Principal, data: RunCreate) -> RunOut:
    """Allocate the open needs the caller may plan for: the whole ambito for the UdP, the
    plans it sees for a social worker; or just one plan."""
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)
    weights = _weights(data)
    where = plans.visible_where(actor)
    if data.plan_id is not None:
        plan = (
            await Plan.select(Plan.id, Plan.ambito, Plan.owner, Plan.shared_with)
            .where((Plan.id == data.plan_id) & (Plan.ambito == actor.ambito_id))
            .first()
        )
        if plan is None or not plans.can_see(actor, plan):
            raise InvalidInput("no such plan", field="plan_id")
        where &= Plan.id == data.plan_id
    today = italian.today()
    needs, plan_rows = await engine_io.open_needs(where)
    resources, info = await engine_io.load_resources(actor.ambito_id, today)
    taxonomy = await engine_io.load_taxonomy()
    holders = await engine_io.plan_holders(plan_rows)
    items = [
        engine_io.need_item(n, plan_rows[n["plan"]], holders.get(n["plan"], frozenset()))
        for n in needs
    ]
    started = time.perf_counter()
    # CPU-bound (candidate scoring in Python, then min-cost flow): in a worker process, as a
    # thread would hold the GIL that the event loop, and so every other request, waits for.
    allocation = await in_worker_process(
        partial(
            matching.allocate,
            max_candidates_per_need=data.max_candidates_per_need,
            as_of=today,
        ),
        items,
        resources,
        taxonomy,
        weights,
    )
    duration_ms = int((time.perf_counter() - started) * 1000)
    plan_of = {str(n["id"]): n["plan"] for n in needs}
    run = MatchingRun(
        ambito=actor.ambito_id,
        created_by=actor.user_id,
        plan=data.plan_id,
        status=RunStatus.DRAFT.value,
        weights=dict(weights.items()),
        max_candidates_per_need=data.max_candidates_per_need,
        needs_considered=len(items),
        resources_considered=len(resources),
        candidate_pairs=allocation.candidate_pairs,
        total_score=allocation.total_score,
        objective=allocation.objective,
        unassigned=[
            {
                "need_id": u.need_id,
                "plan_id": str(plan_of[u.need_id]),
                "code": u.code,
                "reason": u.reason,
            }
            for u in allocation.unassigned
        ],
        duration_ms=duration_ms,
        created_at=now(),
    )
    pairs = [
        RunPair(
            run=run.id,
            ambito=actor.ambito_id,
            plan=plan_of[need_id],
            need=uuid.UUID(need_id),
            resource=uuid.UUID(s.resource_id),
            holder=info[s.resource_id].holder_id,
            score=s.score,
            components=matches.components_of(s),
            explanation=s.explanation,
        )
        for need_id, s in sorted(allocation.assignments.items())
    ]
    async with unit_of_work():
        await run.save()
        if pairs:
            await RunPair.insert(*pairs)
    return await get_run(actor, run.id)


async def _run_row(actor: Principal, run_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await MatchingRun.select()
        .where((MatchingRun.id == run_id) & (MatchingRun.ambito == actor.ambito_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("no such matching run")
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)
    return row


async def _pair_filter(actor: Principal) -> set[uuid.UUID] | None:
    """Plans whose pairs `actor` may see in a run (None: all of them, for the UdP).

    Every social worker of the ambito reviews the UdP's runs, but only for its own (or
    shared) plans: the other pairs are left out as if they were not there.
    """
    if actor.role is Role.UDP_ADMIN:
        return None
    return {row["id"] for row in await Plan.select(Plan.id).where(plans.visible_where(actor))}


async def get_run(actor: Principal, run_id: uuid.UUID) -> RunOut:
    row = await _run_row(actor, run_id)
    visible = await _pair_filter(actor)
    pairs = (
        await RunPair.select(
            *RunPair.all_columns(),
            RunPair.resource.title.as_alias("resource_title"),
            RunPair.holder.name.as_alias("holder_name"),
        )
        .where(RunPair.run == run_id)
        .order_by(RunPair.score, ascending=False)
        .order_by(RunPair.id)
        .output(load_json=True)
    )
    return RunOut(
        id=row["id"],
        status=RunStatus(row["status"]),
        created_by=row["created_by"],
        plan_id=row["plan"],
        weights=row["weights"],
        max_candidates_per_need=row["max_candidates_per_need"],
        needs_considered=row["needs_considered"],
        resources_considered=row["resources_considered"],
        candidate_pairs=row["candidate_pairs"],
        total_score=row["total_score"],
        objective=row["objective"],
        duration_ms=row["duration_ms"],
        pairs=[
            RunPairOut(
                id=p["id"],
                plan_id=p["plan"],
                need_id=p["need"],
                resource_id=p["resource"],
                resource_title=p["resource_title"],
                holder_id=p["holder"],
                holder_name=p["holder_name"],
                score=p["score"],
                explanation=p["explanation"],
                components=msgspec.convert(p["components"] or [], list[ComponentOut]),
                match_id=p["match"],
            )
            for p in pairs
            if visible is None or p["plan"] in visible
        ],
        unassigned=[
            u
            for u in msgspec.convert(row["unassigned"] or [], list[UnassignedOut])
            if visible is None or u.plan_id in visible
        ],
        created_at=row["created_at"],
    )


async def list_runs(actor: Principal, *, limit: int = 50, offset: int = 0) -> list[RunSummary]:
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)
    where = MatchingRun.ambito == actor.ambito_id
    visible = await _pair_filter(actor)
    rows = (
        await MatchingRun.select(
            MatchingRun.id,
            MatchingRun.status,
            MatchingRun.created_by,
            MatchingRun.plan,
            MatchingRun.needs_considered,
            MatchingRun.resources_considered,
            MatchingRun.candidate_pairs,
            MatchingRun.total_score,
            MatchingRun.created_at,
        )
        .where(where)
        .order_by(MatchingRun.created_at, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    ids = [r["id"] for r in rows]
    counts: dict[uuid.UUID, int] = {}
    if ids:
        for pair in await RunPair.select(RunPair.run, RunPair.plan).where(RunPair.run.is_in(ids)):
            if visible is None or pair["plan"] in visible:
                counts[pair["run"]] = counts.get(pair["run"], 0) + 1
    return [
        RunSummary(
            id=r["id"],
            status=RunStatus(r["status"]),
            created_by=r["created_by"],
            plan_id=r["plan"],
            needs_considered=r["needs_considered"],
            resources_considered=r["resources_considered"],
            candidate_pairs=r["candidate_pairs"],
            assigned=counts.get(r["id"], 0),
            total_score=r["total_score"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def propose_pairs(actor: Principal, run_id: uuid.UUID, data: ProposeIn) -> list[MatchOut]:
    """Turn the selected pairs of a run into match proposals: all of them or none."""
    await _run_row(actor, run_id)
    visible = await _pair_filter(actor)
    rows = {
        p["id"]: p
        for p in await RunPair.select()
        .where((RunPair.run == run_id) & RunPair.id.is_in(list(set(data.pair_ids))))
        .output(load_json=True)
    }
    proposals: list[matches.Proposal] = []
    seen: set[uuid.UUID] = set()
    for index, pair_id in enumerate(data.pair_ids):
        field = f"pair_ids[{index}]"
        pair = rows.get(pair_id)
        if pair is None or (visible is not None and pair["plan"] not in visible):
            raise InvalidInput("no such pair in this run", field=field)
        if pair_id in seen:
            raise InvalidInput("this pair is listed twice", field=field)
        seen.add(pair_id)
        if pair["match"] is not None:
            raise Conflict("this pair was already turned into a proposal", field=field)
        await matches.check_pair(
            actor, pair["need"], pair["resource"], need_field=field, resource_field=field
        )
        proposals.append(
            matches.Proposal(
                plan_id=pair["plan"],
                need_id=pair["need"],
                resource_id=pair["resource"],
                holder_id=pair["holder"],
                score=pair["score"],
                components=pair["components"],
                explanation=pair["explanation"],
                warning="",
                run_id=run_id,
            )
        )
    created: list[uuid.UUID] = []
    async with unit_of_work():
        for proposal, pair_id in zip(proposals, data.pair_ids, strict=True):
            match_id = await matches.store_proposal(actor, proposal)
            await RunPair.update({RunPair.match: match_id}).where(
                (RunPair.id == pair_id) & RunPair.match.is_null()
            )
            created.append(match_id)
        await MatchingRun.update({MatchingRun.status: RunStatus.PROPOSED.value}).where(
            MatchingRun.id == run_id
        )
    return [await matches.get_match(actor, match_id) for match_id in created]
