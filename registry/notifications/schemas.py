from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from registry.notifications.events import USER_EVENTS, Channel, DeliveryStatus, EventType
from registry.text import Line, email_address

Url = Annotated[
    Line, msgspec.Meta(min_length=8, max_length=500, examples=["https://example.org/hook"])
]
Description = Annotated[Line, msgspec.Meta(max_length=200)]
EventList = Annotated[list[EventType], msgspec.Meta(max_length=len(EventType))]


class WebhookCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: Url
    description: Description = ""
    events: EventList = []  # empty: every event
    active: bool = True


class WebhookPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: Url | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    events: EventList | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class WebhookOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ambito_id: uuid.UUID
    url: str
    description: str
    events: list[str]
    active: bool
    # Only the last characters: the whole secret is shown once, when the endpoint is created.
    secret_hint: str
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut, kw_only=True):
    secret: str
    signature_header: str = "X-Registry-Signature-256"


class OutboxOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    channel: Channel
    endpoint_id: uuid.UUID | None
    recipient: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    last_status_code: int | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class OutboxSummary(msgspec.Struct):
    pending: int
    retrying: int
    delivered: int
    dead: int


class OutboxPage(msgspec.Struct, kw_only=True):
    items: list[OutboxOut]
    total: int
    limit: int
    offset: int
    counts: OutboxSummary


class NotificationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    event_type: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(msgspec.Struct, kw_only=True):
    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


class PingOut(msgspec.Struct):
    event_id: uuid.UUID
    messages: int


class UnreadCounts(msgspec.Struct, kw_only=True):
    """Unread notifications of the user: in all, and per event type (for the menu counts)."""

    unread: int
    by_type: dict[str, int]


UserEventList = Annotated[list[EventType], msgspec.Meta(max_length=len(USER_EVENTS))]


class PreferencesIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Empty: no e-mail at all (notifications stay in the app).
    email: Annotated[Line, msgspec.Meta(max_length=320)] = ""
    email_events: UserEventList = []
    digest: bool = False

    def __post_init__(self) -> None:
        if self.email:
            self.email = email_address(self.email)


class PreferencesOut(msgspec.Struct, kw_only=True):
    email: str
    email_events: list[str]
    digest: bool
    # The events this user's role receives, to choose among.
    available_events: list[str]
    # False when this registry has no SMTP server: e-mails are then never sent.
    email_configured: bool
