from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from registry.api.params import Actor, Limit, Offset
from registry.common import Page
from registry.matches import runs, service
from registry.matches.schemas import (
    DeclineIn,
    MatchCreate,
    MatchEventOut,
    MatchOut,
    MatchStatus,
    ProposeIn,
    RunCreate,
    RunOut,
    RunSummary,
    TransitionIn,
)


class MatchController(Controller):
    path = "/api/matches"
    tags = ["matches"]

    @get("/", summary="Matches the caller may see (holder side: those of its resources)")
    async def list_matches(
        self,
        actor: Actor,
        status: FromQuery[MatchStatus | None] = None,
        plan_id: FromQuery[uuid.UUID | None] = None,
        need_id: FromQuery[uuid.UUID | None] = None,
        resource_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[MatchOut]:
        return await service.list_matches(
            actor,
            status=status,
            plan_id=plan_id,
            need_id=need_id,
            resource_id=resource_id,
            limit=limit,
            offset=offset,
        )

    @post("/", summary="Propose a resource for a need")
    async def propose(self, actor: Actor, data: JSONBody[MatchCreate]) -> MatchOut:
        return await service.propose(actor, data)

    @get("/{match_id:uuid}")
    async def get_match(self, actor: Actor, match_id: FromPath[uuid.UUID]) -> MatchOut:
        return await service.get_match(actor, match_id)

    @get("/{match_id:uuid}/history", summary="Every transition: who, when, from, to, why")
    async def history(self, actor: Actor, match_id: FromPath[uuid.UUID]) -> list[MatchEventOut]:
        return await service.history(actor, match_id)

    @post(
        "/{match_id:uuid}/accept",
        status_code=200,
        summary="Holder side: accept, reserving one place of the resource (409 if none left)",
    )
    async def accept(self, actor: Actor, match_id: FromPath[uuid.UUID]) -> MatchOut:
        return await service.transition(actor, match_id, "accept")

    @post("/{match_id:uuid}/decline", status_code=200, summary="Holder side: decline, with reason")
    async def decline(
        self, actor: Actor, match_id: FromPath[uuid.UUID], data: JSONBody[DeclineIn]
    ) -> MatchOut:
        return await service.transition(actor, match_id, "decline", data.reason)

    @post("/{match_id:uuid}/confirm", status_code=200, summary="Plan side: accepted -> active")
    async def confirm(self, actor: Actor, match_id: FromPath[uuid.UUID]) -> MatchOut:
        return await service.transition(actor, match_id, "confirm")

    @post("/{match_id:uuid}/complete", status_code=200, summary="Plan side: active -> completed")
    async def complete(
        self,
        actor: Actor,
        match_id: FromPath[uuid.UUID],
        data: JSONBody[TransitionIn | None] = None,
    ) -> MatchOut:
        return await service.transition(actor, match_id, "complete", data.reason if data else "")

    @post("/{match_id:uuid}/withdraw", status_code=200, summary="Plan side: withdraw the match")
    async def withdraw(
        self,
        actor: Actor,
        match_id: FromPath[uuid.UUID],
        data: JSONBody[TransitionIn | None] = None,
    ) -> MatchOut:
        return await service.transition(actor, match_id, "withdraw", data.reason if data else "")


class MatchingRunController(Controller):
    path = "/api/matching/runs"
    tags = ["matching"]

    @post("/", summary="Allocate open needs to resources; stored as a draft, nothing accepted")
    async def create_run(self, actor: Actor, data: JSONBody[RunCreate]) -> RunOut:
        return await runs.create_run(actor, data)

    @get("/", summary="Runs the caller may see")
    async def list_runs(
        self, actor: Actor, limit: Limit = 50, offset: Offset = 0
    ) -> list[RunSummary]:
        return await runs.list_runs(actor, limit=limit, offset=offset)

    @get("/{run_id:uuid}")
    async def get_run(self, actor: Actor, run_id: FromPath[uuid.UUID]) -> RunOut:
        return await runs.get_run(actor, run_id)

    @post("/{run_id:uuid}/propose", summary="Turn selected pairs of a run into match proposals")
    async def propose(
        self, actor: Actor, run_id: FromPath[uuid.UUID], data: JSONBody[ProposeIn]
    ) -> list[MatchOut]:
        return await runs.propose_pairs(actor, run_id, data)
