"""Logging in, and every way a token can be wrong."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from jose import jwt

from registry.access import Role
from registry.api.auth import AUDIENCE
from registry.config import ConfigError, load_settings
from registry.security import issue
from tests.conftest import PASSWORD, SETTINGS, Tenant


async def login(client, username: str, password: str = PASSWORD):
    return await client.post("/api/auth/token", json={"username": username, "password": password})


async def test_login_gives_a_token_that_opens_the_api(client, tenant: Tenant) -> None:
    response = await login(client, tenant.usernames[Role.SOCIAL_WORKER])
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "social_worker" and body["ambito_code"] == tenant.code
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["username"] == tenant.usernames[Role.SOCIAL_WORKER]


async def test_wrong_password_and_unknown_user_get_the_same_401(client, tenant: Tenant) -> None:
    wrong = await login(client, tenant.usernames[Role.VOLUNTEER], "not-the-password")
    unknown = await login(client, "nobody-at-all", "whatever-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def _status_with(client, token: str) -> int:
    response = await client.get("/api/holders", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_expired_token_is_refused(client, tenant: Tenant) -> None:
    token = issue(
        SETTINGS.secret_key,
        AUDIENCE,
        str(tenant.users[Role.UDP_ADMIN]),
        ttl=timedelta(minutes=5),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    assert await _status_with(client, token) == 401


async def test_tampered_token_is_refused(client, tenant: Tenant) -> None:
    token = issue(SETTINGS.secret_key, AUDIENCE, str(tenant.users[Role.VOLUNTEER]))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(tenant.users[Role.UDP_ADMIN])  # try to become the administrator
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert await _status_with(client, f"{header}.{forged}.{signature}") == 401


async def test_alg_none_token_is_refused(client, tenant: Tenant) -> None:
    def segment(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(datetime.now(UTC).timestamp())
    unsigned = (
        segment({"alg": "none", "typ": "JWT"})
        + "."
        + segment({"sub": str(tenant.users[Role.UDP_ADMIN]), "aud": AUDIENCE, "exp": now + 600})
        + "."
    )
    assert await _status_with(client, unsigned) == 401


async def test_token_signed_with_another_key_is_refused(client, tenant: Tenant) -> None:
    token = issue(
        "another-secret-key-of-sufficient-length!!", AUDIENCE, str(tenant.users[Role.UDP_ADMIN])
    )
    assert await _status_with(client, token) == 401


async def test_token_for_another_audience_is_refused(client, tenant: Tenant) -> None:
    token = issue(SETTINGS.secret_key, "checkin", str(tenant.users[Role.UDP_ADMIN]))
    assert await _status_with(client, token) == 401


async def test_hs512_token_with_the_right_key_is_still_refused(client, tenant: Tenant) -> None:
    claims = {
        "sub": str(tenant.users[Role.UDP_ADMIN]),
        "aud": AUDIENCE,
        "exp": int((datetime.now(UTC) + timedelta(minutes=5)).timestamp()),
    }
    token = jwt.encode(claims, SETTINGS.secret_key, algorithm="HS512")
    assert await _status_with(client, token) == 401


async def test_garbage_and_missing_bearer_are_refused(client) -> None:
    for header in ({"Authorization": "Bearer not.a.jwt"}, {"Authorization": "Basic abc"}, {}):
        response = await client.get("/api/resources", headers=header)
        assert response.status_code == 401


async def test_deactivated_user_cannot_log_in_nor_use_a_fresh_session(
    client, tenant: Tenant
) -> None:
    admin = tenant.headers(Role.UDP_ADMIN)
    volunteer = tenant.users[Role.VOLUNTEER]
    response = await client.patch(f"/api/users/{volunteer}", json={"active": False}, headers=admin)
    assert response.status_code == 200 and response.json()["active"] is False
    assert (await login(client, tenant.usernames[Role.VOLUNTEER])).status_code == 401
    assert (
        await client.get("/api/holders", headers=tenant.headers(Role.VOLUNTEER))
    ).status_code == 401


def test_production_refuses_to_start_without_a_real_secret() -> None:
    settings = load_settings({"REGISTRY_ENV": "production"})
    try:
        settings.check()
    except ConfigError as error:
        assert "REGISTRY_SECRET_KEY" in str(error)
    else:
        raise AssertionError("production started with the development secret")
    # A random key passes; "x" * 40 no longer does (tests/test_config.py).
    strong = "Vq3-mZ8_tL1xR7pK0wN5yB2cH9dJ4fG6sA"
    load_settings({"REGISTRY_ENV": "production", "REGISTRY_SECRET_KEY": strong}).check()
