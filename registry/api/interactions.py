from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from registry.api.params import Actor, Limit, Offset
from registry.metrics import interactions as service
from registry.metrics.schemas import InteractionCreate, InteractionOut


class InteractionController(Controller):
    path = "/api/interactions"
    tags = ["metrics"]

    @get("/", summary="Interactions among holders recorded by hand")
    async def list_interactions(
        self, actor: Actor, limit: Limit = 50, offset: Offset = 0
    ) -> list[InteractionOut]:
        return await service.list_interactions(actor, limit=limit, offset=offset)

    @post("/", summary="Record an interaction (e.g. a shared co-programming table)")
    async def create_interaction(
        self, actor: Actor, data: JSONBody[InteractionCreate]
    ) -> InteractionOut:
        return await service.create_interaction(actor, data)

    @get("/{interaction_id:uuid}")
    async def get_interaction(
        self, actor: Actor, interaction_id: FromPath[uuid.UUID]
    ) -> InteractionOut:
        return await service.get_interaction(actor, interaction_id)

    @delete("/{interaction_id:uuid}")
    async def delete_interaction(self, actor: Actor, interaction_id: FromPath[uuid.UUID]) -> None:
        await service.delete_interaction(actor, interaction_id)
