"""Authentication (JWT via python-jose) and the token endpoint."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from litestar import Controller, Request, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.params import JSONBody

from registry.access import Principal
from registry.api.params import AppSettings
from registry.config import Settings
from registry.security import TokenError, issue, verify
from registry.users import service as users
from registry.users.schemas import TokenRequest, TokenResponse

AUDIENCE = "registry-api"


class JWTAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.settings = settings

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("missing bearer token: POST /api/auth/token first")
        try:
            claims = verify(self.settings.secret_key, AUDIENCE, token)
            user_id = uuid.UUID(claims["sub"])
        except (TokenError, KeyError, ValueError) as error:
            raise NotAuthorizedException("invalid or expired token") from error
        principal = await users.principals.get(user_id)
        if principal is None:
            raise NotAuthorizedException("this account no longer exists or was deactivated")
        return AuthenticationResult(user=principal, auth=claims)


def auth_middleware(settings: Settings) -> DefineMiddleware:
    return DefineMiddleware(
        JWTAuthenticationMiddleware,
        settings=settings,
        exclude=[r"^/$", r"^/health", r"^/schema", r"^/api/auth/token", r"^/web", r"^/static"],
        exclude_from_auth_key="public",
    )


def provide_actor(request: Request[Principal, Any, Any]) -> Principal:
    return request.user


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/token", opt={"public": True}, status_code=200, summary="Log in: get a bearer token")
    async def token(self, data: JSONBody[TokenRequest], settings: AppSettings) -> TokenResponse:
        principal, ambito_code = await users.authenticate(data.username, data.password)
        ttl = timedelta(minutes=settings.token_ttl_minutes)
        token = issue(
            settings.secret_key,
            AUDIENCE,
            str(principal.user_id),
            {"role": principal.role.value, "ambito": ambito_code},
            ttl=ttl,
        )
        return TokenResponse(
            access_token=token,
            token_type="bearer",
            expires_in=int(ttl.total_seconds()),
            role=principal.role,
            ambito_code=ambito_code,
        )
