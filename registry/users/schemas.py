from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from registry.access import Role

Username = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[a-z0-9._-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    role: Role
    ambito_code: str


class UserCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    username: Username
    password: Password
    role: Role
    holder_id: uuid.UUID | None = None


class UserOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    username: str
    role: Role
    ambito_id: uuid.UUID
    ambito_code: str
    holder_id: uuid.UUID | None
    active: bool
    created_at: datetime
