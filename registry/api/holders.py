from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from registry.api.params import Actor, IstatQuery, Limit, Offset, TextQuery
from registry.common import Page
from registry.holders import service
from registry.holders.schemas import HolderCreate, HolderOut, HolderPatch
from registry.vocabularies import HolderKind, Sector


class HolderController(Controller):
    path = "/api/holders"
    tags = ["holders"]

    @get("/", summary="List the ambito's community holders")
    async def list_holders(
        self,
        actor: Actor,
        kind: FromQuery[HolderKind | None] = None,
        sector: FromQuery[Sector | None] = None,
        comune: IstatQuery = None,
        q: TextQuery = None,
        include_archived: FromQuery[bool] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[HolderOut]:
        return await service.list_holders(
            actor,
            kind=kind,
            sector=sector,
            comune=comune,
            q=q,
            include_archived=include_archived,
            limit=limit,
            offset=offset,
        )

    @post("/", summary="Register a holder")
    async def create_holder(self, actor: Actor, data: JSONBody[HolderCreate]) -> HolderOut:
        return await service.create_holder(actor, data)

    @get("/{holder_id:uuid}")
    async def get_holder(self, actor: Actor, holder_id: FromPath[uuid.UUID]) -> HolderOut:
        return await service.get_holder(actor, holder_id)

    @patch("/{holder_id:uuid}")
    async def update_holder(
        self, actor: Actor, holder_id: FromPath[uuid.UUID], data: JSONBody[HolderPatch]
    ) -> HolderOut:
        return await service.update_holder(actor, holder_id, data)

    @delete("/{holder_id:uuid}", summary="Archive a holder (its history is kept)")
    async def archive_holder(self, actor: Actor, holder_id: FromPath[uuid.UUID]) -> None:
        await service.archive_holder(actor, holder_id)
