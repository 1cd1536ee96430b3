"""Authentication (JWT via python-jose), the token endpoint, logout and the password flows."""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from datetime import timedelta
from time import time as _now
from typing import Any

from litestar import Controller, Request, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.params import JSONBody

from registry.access import (
    OBSERVER_ROLE,
    ObserverPrincipal,
    PlatformPrincipal,
    PlatformRole,
    Principal,
    check_area,
)
from registry.ambiti.platform import load_platform_admin
from registry.api.params import Actor, AppSettings
from registry.config import Settings
from registry.errors import PermissionDenied
from registry.region.accounts import load_observer
from registry.security import TokenError, issue, verify
from registry.users import service as users
from registry.users.schemas import PasswordChange, PasswordReset, TokenRequest, TokenResponse

AUDIENCE = "registry-api"
# Verified tokens remembered per process (issue 18): python-jose took 0.2-0.5 ms a request to
# check the same signature again. Keyed by a digest of key, audience and token, so only the
# very same token under the very same key finds an entry; its expiry is checked at each use,
# and the user is still read from the database at each request (logout, deactivation).
_VERIFIED_MAX = 4096
_verified: OrderedDict[bytes, dict[str, Any]] = OrderedDict()


def verified_claims(secret: str, token: str) -> dict[str, Any]:
    """verify(secret, AUDIENCE, token), remembered for the token's lifetime."""
    key = hashlib.blake2b(
        token.encode(), key=hashlib.sha256(secret.encode()).digest(), person=b"registry-api"
    ).digest()
    claims = _verified.get(key)
    if claims is None:
        claims = verify(secret, AUDIENCE, token)
        _verified[key] = claims
        if len(_verified) > _VERIFIED_MAX:
            _verified.popitem(last=False)
    elif not _now() < claims["exp"]:
        del _verified[key]
        raise TokenError("Signature has expired.")
    return claims


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
            claims = verified_claims(self.settings.secret_key, token)
            user_id = uuid.UUID(claims["sub"])
            # Tokens from before versions existed carry none: they count as version 0.
            version = int(claims.get("ver", 0))
        except (TokenError, KeyError, ValueError, TypeError) as error:
            raise NotAuthorizedException("invalid or expired token") from error
        principal: Principal | PlatformPrincipal | ObserverPrincipal | None
        if claims.get("role") == PlatformRole.PLATFORM_ADMIN:  # issue 14: not an ambito user
            principal = await load_platform_admin(user_id)
        elif claims.get("role") == OBSERVER_ROLE:  # issue 13: bound to a region
            principal = await load_observer(user_id)
        else:
            principal = await users.principal_for_token(user_id, version)
        if principal is None:
            raise NotAuthorizedException(
                "this session has ended (logout, new password, or the account was changed or "
                "deactivated): log in again"
            )
        check_area(principal, connection.scope["path"])  # issue 14: platform vs ambito
        return AuthenticationResult(user=principal, auth=claims)


def auth_middleware(settings: Settings) -> DefineMiddleware:
    return DefineMiddleware(
        JWTAuthenticationMiddleware,
        settings=settings,
        exclude=[r"^/$", r"^/health", r"^/schema", r"^/api/auth/token", r"^/web", r"^/static"],
        exclude_from_auth_key="public",
    )


def provide_actor(request: Request[Principal, Any, Any], settings: AppSettings) -> Principal:
    # `settings` is not read: asking for it puts the two dependencies one after the other.
    # Litestar resolves the dependencies of one level in an anyio task group, a task per
    # request: a sixth of the CPU of reading a resource by id.
    del settings
    if not isinstance(request.user, Principal):
        # A platform admin has no ambito: every ambito-scoped endpoint refuses it (issue 14).
        raise PermissionDenied("a platform administrator has no access to an ambito's records")
    return request.user


def client_address(request: Request[Any, Any, Any]) -> str:
    # Behind a reverse proxy this is the proxy unless uvicorn trusts its forwarded headers
    # (--forwarded-allow-ips); see README "Accounts and login".
    return request.client.host if request.client else "unknown"


def _token_response(settings: Settings, logged_in: users.LoggedIn) -> TokenResponse:
    principal = logged_in.principal
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    token = issue(
        settings.secret_key,
        AUDIENCE,
        str(principal.user_id),
        {
            "role": principal.role.value,
            "ambito": logged_in.ambito_code,
            "ver": logged_in.token_version,
        },
        ttl=ttl,
    )
    return TokenResponse(
        access_token=token,
        token_type="bearer",
        expires_in=int(ttl.total_seconds()),
        role=principal.role,
        ambito_code=logged_in.ambito_code,
    )


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/token", opt={"public": True}, status_code=200, summary="Log in: get a bearer token")
    async def token(
        self, request: Request, data: JSONBody[TokenRequest], settings: AppSettings
    ) -> TokenResponse:
        logged_in = await users.authenticate(data.username, data.password, client_address(request))
        return _token_response(settings, logged_in)

    @post("/logout", status_code=204, summary="Log out: ends every token of the caller")
    async def logout(self, actor: Actor) -> None:
        await users.logout(actor)

    @post(
        "/password",
        status_code=200,
        summary="Change one's own password (needs the current one); returns a new token",
    )
    async def change_password(
        self,
        request: Request,
        actor: Actor,
        data: JSONBody[PasswordChange],
        settings: AppSettings,
    ) -> TokenResponse:
        logged_in = await users.change_password(actor, data, client_address(request))
        return _token_response(settings, logged_in)

    @post(
        "/password-reset",
        opt={"public": True},
        status_code=204,
        summary="Set a new password through a one-time reset link from the UdP",
    )
    async def reset_password(self, data: JSONBody[PasswordReset], settings: AppSettings) -> None:
        await users.reset_password(data, settings)
