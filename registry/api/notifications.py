from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry.api.params import Actor, AppSettings, Limit, Offset
from registry.notifications import inbox, outbox, preferences, webhook_endpoints
from registry.notifications.events import DeliveryStatus, EventType
from registry.notifications.schemas import (
    NotificationOut,
    NotificationPage,
    OutboxOut,
    OutboxPage,
    PingOut,
    PreferencesIn,
    PreferencesOut,
    UnreadCounts,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)


class NotificationController(Controller):
    path = "/api/notifications"
    tags = ["notifications"]

    @get("/", summary="My in-app notifications, newest first")
    async def list_notifications(
        self,
        actor: Actor,
        unread: Annotated[bool, QueryParameter(description="only the unread ones")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> NotificationPage:
        return await inbox.list_notifications(actor, unread_only=unread, limit=limit, offset=offset)

    @get("/counts", summary="My unread notifications, in all and per event type (menu counts)")
    async def unread_counts(self, actor: Actor) -> UnreadCounts:
        return await inbox.unread_counts(actor)

    @get("/preferences", summary="My e-mail choices: address, events, daily digest")
    async def get_preferences(self, actor: Actor, settings: AppSettings) -> PreferencesOut:
        return await preferences.get_preferences(actor, settings)

    @put("/preferences", summary="Set my e-mail choices")
    async def set_preferences(
        self, actor: Actor, settings: AppSettings, data: JSONBody[PreferencesIn]
    ) -> PreferencesOut:
        return await preferences.set_preferences(actor, data, settings)

    @post("/{notification_id:uuid}/read", status_code=200, summary="Mark one as read")
    async def mark_read(
        self, actor: Actor, notification_id: FromPath[uuid.UUID]
    ) -> NotificationOut:
        return await inbox.mark_read(actor, notification_id)

    @post("/read-all", status_code=200, summary="Mark all of mine as read")
    async def mark_all_read(self, actor: Actor) -> dict[str, int]:
        return {"marked": await inbox.mark_all_read(actor)}

    @get("/outbox", summary="Outgoing messages and their delivery status (UdP)")
    async def list_outbox(
        self,
        actor: Actor,
        status: FromQuery[DeliveryStatus | None] = None,
        event_type: FromQuery[EventType | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OutboxPage:
        return await outbox.list_outbox(
            actor, status=status, event_type=event_type, limit=limit, offset=offset
        )

    @post("/outbox/{message_id:uuid}/retry", status_code=200, summary="Retry a dead message")
    async def retry_message(self, actor: Actor, message_id: FromPath[uuid.UUID]) -> OutboxOut:
        return await outbox.retry_message(actor, message_id)

    @get("/webhooks", summary="The ambito's webhook endpoints (UdP)")
    async def list_webhooks(self, actor: Actor) -> list[WebhookOut]:
        return await webhook_endpoints.list_webhooks(actor)

    @post("/webhooks", summary="Add a webhook endpoint; its signing secret is shown only now")
    async def create_webhook(
        self, actor: Actor, settings: AppSettings, data: JSONBody[WebhookCreate]
    ) -> WebhookCreated:
        return await webhook_endpoints.create_webhook(actor, data, settings)

    @get("/webhooks/{webhook_id:uuid}")
    async def get_webhook(self, actor: Actor, webhook_id: FromPath[uuid.UUID]) -> WebhookOut:
        return await webhook_endpoints.get_webhook(actor, webhook_id)

    @patch("/webhooks/{webhook_id:uuid}")
    async def update_webhook(
        self,
        actor: Actor,
        settings: AppSettings,
        webhook_id: FromPath[uuid.UUID],
        data: JSONBody[WebhookPatch],
    ) -> WebhookOut:
        return await webhook_endpoints.update_webhook(actor, webhook_id, data, settings)

    @delete("/webhooks/{webhook_id:uuid}")
    async def delete_webhook(self, actor: Actor, webhook_id: FromPath[uuid.UUID]) -> None:
        await webhook_endpoints.delete_webhook(actor, webhook_id)

    @post(
        "/webhooks/{webhook_id:uuid}/ping",
        status_code=202,
        summary="Queue a test delivery to this endpoint",
    )
    async def ping_webhook(
        self, actor: Actor, settings: AppSettings, webhook_id: FromPath[uuid.UUID]
    ) -> PingOut:
        return await webhook_endpoints.ping_webhook(actor, webhook_id, settings)
