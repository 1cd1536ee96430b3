from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, MediaType, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry.api.params import Actor, AppSettings, IstatQuery, Limit, Offset, TextQuery, text_query
from registry.common import Page
from registry.freshness import state as freshness
from registry.resources import service
from registry.resources.availability import MAX_RANGE_DAYS
from registry.resources.schemas import (
    ResourceCreate,
    ResourceOut,
    ResourcePatch,
    SlotsOut,
    WindowIn,
    WindowOut,
)
from registry.vocabularies import ResourceStatus, UserArea


class ResourceController(Controller):
    path = "/api/resources"
    tags = ["resources"]

    @get("/", summary="Search the ambito's resources")
    async def list_resources(
        self,
        actor: Actor,
        settings: AppSettings,
        category: Annotated[
            str | None, text_query(64, description="a taxonomy code; includes children")
        ] = None,
        comune: IstatQuery = None,
        target_group: FromQuery[UserArea | None] = None,
        holder_id: FromQuery[uuid.UUID | None] = None,
        q: TextQuery = None,
        status: FromQuery[ResourceStatus | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Response[Page[ResourceOut]]:
        if service.unfiltered(status, category, comune, target_group, holder_id, q):
            # Already the JSON of a Page[ResourceOut], made by the database.
            raw = await service.default_page_json(actor, settings, limit=limit, offset=offset)
            return Response(raw, media_type=MediaType.JSON)
        page = await service.list_resources(
            actor,
            category=category,
            comune=comune,
            target_group=target_group,
            holder_id=holder_id,
            q=q,
            status=status,
            limit=limit,
            offset=offset,
        )
        page.items = freshness.with_freshness(page.items, settings)
        return Response(page)

    @get(
        "/freshness",
        summary="How many current resources are fresh, due a reminder or to reconfirm",
    )
    async def freshness_counts(
        self, actor: Actor, settings: AppSettings, holder_id: FromQuery[uuid.UUID | None] = None
    ) -> freshness.FreshnessCounts:
        return await freshness.counts(actor, settings, holder_id=holder_id)

    @post("/")
    async def create_resource(
        self, actor: Actor, data: JSONBody[ResourceCreate], settings: AppSettings
    ) -> ResourceOut:
        return freshness.with_freshness_one(await service.create_resource(actor, data), settings)

    @get("/{resource_id:uuid}")
    async def get_resource(
        self, actor: Actor, resource_id: FromPath[uuid.UUID], settings: AppSettings
    ) -> ResourceOut:
        resource = await service.get_resource(actor, resource_id)
        return freshness.with_freshness_one(resource, settings)

    @patch("/{resource_id:uuid}")
    async def update_resource(
        self,
        actor: Actor,
        resource_id: FromPath[uuid.UUID],
        data: JSONBody[ResourcePatch],
        settings: AppSettings,
    ) -> ResourceOut:
        resource = await service.update_resource(actor, resource_id, data)
        return freshness.with_freshness_one(resource, settings)

    @delete("/{resource_id:uuid}", summary="Archive a resource (its history is kept)")
    async def archive_resource(self, actor: Actor, resource_id: FromPath[uuid.UUID]) -> None:
        await service.archive_resource(actor, resource_id)

    @post(
        "/{resource_id:uuid}/confirm",
        status_code=200,
        summary="Confirm that the resource and its availability are still true",
    )
    async def confirm_resource(
        self, actor: Actor, resource_id: FromPath[uuid.UUID], settings: AppSettings
    ) -> ResourceOut:
        resource = await service.confirm_resource(actor, resource_id)
        return freshness.with_freshness_one(resource, settings)

    @get("/{resource_id:uuid}/availability", summary="Recurring availability windows")
    async def list_windows(self, actor: Actor, resource_id: FromPath[uuid.UUID]) -> list[WindowOut]:
        return await service.list_windows(actor, resource_id)

    @post("/{resource_id:uuid}/availability")
    async def add_window(
        self, actor: Actor, resource_id: FromPath[uuid.UUID], data: JSONBody[WindowIn]
    ) -> WindowOut:
        return await service.add_window(actor, resource_id, data)

    @put("/{resource_id:uuid}/availability/{window_id:uuid}")
    async def replace_window(
        self,
        actor: Actor,
        resource_id: FromPath[uuid.UUID],
        window_id: FromPath[uuid.UUID],
        data: JSONBody[WindowIn],
    ) -> WindowOut:
        return await service.replace_window(actor, resource_id, window_id, data)

    @delete("/{resource_id:uuid}/availability/{window_id:uuid}")
    async def delete_window(
        self, actor: Actor, resource_id: FromPath[uuid.UUID], window_id: FromPath[uuid.UUID]
    ) -> None:
        await service.delete_window(actor, resource_id, window_id)

    @get("/{resource_id:uuid}/slots", summary="Availability expanded into dated slots")
    async def slots(
        self,
        actor: Actor,
        resource_id: FromPath[uuid.UUID],
        settings: AppSettings,
        from_date: Annotated[date, QueryParameter(name="from", description="first day")],
        to_date: Annotated[
            date,
            QueryParameter(
                name="to",
                description=f"last day (inclusive), at most {MAX_RANGE_DAYS} days from 'from'",
            ),
        ],
    ) -> SlotsOut:
        return await service.slots(actor, resource_id, from_date, to_date, settings.timezone)
