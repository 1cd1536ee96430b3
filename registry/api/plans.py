from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry.api.params import Actor, IstatQuery, Limit, Offset, text_query
from registry.audit import service as audit
from registry.audit.schemas import AccessLogOut, AuditAction
from registry.common import Page
from registry.matches.schemas import SuggestionsOut
from registry.matches.suggestions import suggest_for_need
from registry.plans import service
from registry.plans.schemas import (
    NeedCreate,
    NeedOut,
    NeedPatch,
    NeedStatus,
    PlanCreate,
    PlanOut,
    PlanPatch,
    PlanStatus,
    PlanSummary,
    SharingIn,
)


class PlanController(Controller):
    path = "/api/plans"
    tags = ["plans"]

    @get("/", summary="The plans the caller may see (no goals, no notes)")
    async def list_plans(
        self,
        actor: Actor,
        status: FromQuery[PlanStatus | None] = None,
        comune: IstatQuery = None,
        owner_id: FromQuery[uuid.UUID | None] = None,
        q: Annotated[str | None, text_query(32, description="case code prefix")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[PlanSummary]:
        return await service.list_plans(
            actor, status=status, comune=comune, owner_id=owner_id, q=q, limit=limit, offset=offset
        )

    @post("/")
    async def create_plan(self, actor: Actor, data: JSONBody[PlanCreate]) -> PlanOut:
        return await service.create_plan(actor, data)

    @get("/{plan_id:uuid}", summary="A plan with its personal details (the read is logged)")
    async def get_plan(self, actor: Actor, plan_id: FromPath[uuid.UUID]) -> PlanOut:
        return await service.get_plan(actor, plan_id)

    @patch("/{plan_id:uuid}")
    async def update_plan(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[PlanPatch]
    ) -> PlanOut:
        return await service.update_plan(actor, plan_id, data)

    @put("/{plan_id:uuid}/sharing", summary="Share the plan with social workers (UdP)")
    async def share_plan(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[SharingIn]
    ) -> PlanOut:
        return await service.share_plan(actor, plan_id, data)

    @get("/{plan_id:uuid}/needs", summary="The plan's needs (the read is logged)")
    async def list_needs(
        self,
        actor: Actor,
        plan_id: FromPath[uuid.UUID],
        status: FromQuery[NeedStatus | None] = None,
    ) -> list[NeedOut]:
        return await service.list_needs(actor, plan_id, status=status)

    @post("/{plan_id:uuid}/needs")
    async def create_need(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[NeedCreate]
    ) -> NeedOut:
        return await service.create_need(actor, plan_id, data)

    @get("/{plan_id:uuid}/needs/{need_id:uuid}", summary="One need (the read is logged)")
    async def get_need(
        self, actor: Actor, plan_id: FromPath[uuid.UUID], need_id: FromPath[uuid.UUID]
    ) -> NeedOut:
        return await service.get_need(actor, plan_id, need_id)

    @patch("/{plan_id:uuid}/needs/{need_id:uuid}")
    async def update_need(
        self,
        actor: Actor,
        plan_id: FromPath[uuid.UUID],
        need_id: FromPath[uuid.UUID],
        data: JSONBody[NeedPatch],
    ) -> NeedOut:
        return await service.update_need(actor, plan_id, need_id, data)

    @get(
        "/{plan_id:uuid}/needs/{need_id:uuid}/suggestions",
        summary="Resources ranked for the need, each score explained component by component",
    )
    async def suggestions(
        self,
        actor: Actor,
        plan_id: FromPath[uuid.UUID],
        need_id: FromPath[uuid.UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10,
    ) -> SuggestionsOut:
        return await suggest_for_need(actor, plan_id, need_id, limit)


class AuditController(Controller):
    """The access log of plans' personal data (here because it only ever logs plans)."""

    path = "/api/audit"
    tags = ["audit"]

    @get("/", summary="Who read or changed which plan, and when (UdP only)")
    async def list_entries(
        self,
        actor: Actor,
        plan_id: FromQuery[uuid.UUID | None] = None,
        user_id: FromQuery[uuid.UUID | None] = None,
        action: FromQuery[AuditAction | None] = None,
        since: FromQuery[datetime | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AccessLogOut]:
        return await audit.list_entries(
            actor,
            plan_id=plan_id,
            user_id=user_id,
            action=action,
            since=since,
            limit=limit,
            offset=offset,
        )
