from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from registry.access import Role
from registry.text import END, Line

Username = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[a-z0-9._-]+" + END)]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    # One line: the username is stored with a failed login, and PostgreSQL refuses NUL.
    username: Annotated[Line, msgspec.Meta(min_length=1, max_length=64)]
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


class UserPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    active: bool | msgspec.UnsetType = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Password


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    token: Annotated[Line, msgspec.Meta(min_length=1, max_length=4096)]
    new_password: Password


class ResetLinkOut(msgspec.Struct, kw_only=True):
    user_id: uuid.UUID
    username: str
    # The secret is in the fragment (after "#"): browsers never send it to a server, so it
    # reaches no access log.
    url: str
    expires_at: datetime


class LoginFailureOut(msgspec.Struct, kw_only=True):
    at: datetime
    username: str
    user_id: uuid.UUID | None
    address: str
    reason: str
