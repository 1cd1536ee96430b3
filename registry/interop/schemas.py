"""Input and output structs of the exchange formats (feeds and the HSDS import report)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from registry.text import Line


class FeedKind(StrEnum):
    HOLDER = "holder"
    VOLUNTEER = "volunteer"


class FeedCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: FeedKind = FeedKind.HOLDER
    holder_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    label: Annotated[Line, msgspec.Meta(max_length=100)] = ""


class FeedOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    holder_id: uuid.UUID | None
    user_id: uuid.UUID | None
    label: str
    created_by: uuid.UUID
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class FeedCreated(msgspec.Struct, kw_only=True):
    """The only answer that ever carries the secret URL: it cannot be read again."""

    feed: FeedOut
    token: str
    url: str


class ItemReport(msgspec.Struct, kw_only=True):
    entity: str  # organization | service
    external_id: str
    name: str
    action: str  # create | update | unchanged | reject | skip
    local_id: str | None = None
    changes: list[str] = []
    reasons: list[str] = []
    warnings: list[str] = []
    source: str = ""


class Counts(msgspec.Struct, kw_only=True):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    deleted: int = 0


class HsdsImportReport(msgspec.Struct, kw_only=True):
    dry_run: bool
    applied: bool
    source: str
    rows_read: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    counts: dict[str, Counts]
    items: list[ItemReport]
    warnings: list[str]
    not_mapped: dict[str, str]
