from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import msgspec


class AuditAction(StrEnum):
    PLAN_LIST = "plan.list"
    PLAN_READ = "plan.read"
    PLAN_CREATE = "plan.create"
    PLAN_UPDATE = "plan.update"
    PLAN_SHARE = "plan.share"
    # A social worker asked for a plan of the ambito it may not see: answered 404, kept here.
    PLAN_DENIED = "plan.denied"
    NEEDS_READ = "needs.read"
    NEED_READ = "need.read"
    NEED_CREATE = "need.create"
    NEED_UPDATE = "need.update"


class AccessLogOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    at: datetime
    user_id: uuid.UUID
    username: str
    role: str
    action: AuditAction
    plan_id: uuid.UUID | None
    need_id: uuid.UUID | None
    detail: str
