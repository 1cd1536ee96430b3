"""Accounts: login throttling, password change and reset, logout, revocation, and the last
udp_admin of an ambito."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from registry.access import Role
from registry.api.auth import AUDIENCE
from registry.security import issue
from registry.users import throttle
from registry.users.service import RESET_AUDIENCE
from registry.users.tables import LoginThrottle, User
from tests.conftest import PASSWORD, SETTINGS, Tenant, make_tenant

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
NEW_PASSWORD = "una-nuova-password-lunga"
_addresses = itertools.count(1)


def new_address() -> str:
    # Each test logs in from its own address, so the per-address counts stay its own.
    n = next(_addresses)
    return f"10.{uuid.uuid4().int % 250}.{n // 250}.{n % 250}"


def client_from(app: object, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def http(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(app, new_address()) as client:
        yield client


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD):
    return await client.post("/api/auth/token", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def token_of(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await login(client, username, password)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def works(client: httpx.AsyncClient, token: str) -> bool:
    response = await client.get("/api/users/me", headers=bearer(token))
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


# --- throttling ---------------------------------------------------------------------------


async def test_ten_wrong_passwords_block_the_username_with_a_growing_retry_after(
    http, tenant: Tenant
) -> None:
    name = tenant.usernames[V]
    statuses = [(await login(http, name, "sbagliata")).status_code for _ in range(10)]
    assert statuses == [401] * 10
    blocked = await login(http, name, "sbagliata")
    assert blocked.status_code == 429
    first_wait = int(blocked.headers["Retry-After"])
    assert 0 < first_wait <= 60
    # Even the right password waits: the block does not look at it.
    assert (await login(http, name)).status_code == 429

    # The block ends; ten more failures block again, for twice as long.
    await LoginThrottle.update({LoginThrottle.blocked_until: datetime.now(UTC)}).where(
        LoginThrottle.key == f"user:{name}"
    )
    for _ in range(10):
        assert (await login(http, name, "sbagliata")).status_code == 401
    again = await login(http, name, "sbagliata")
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) > first_wait


async def test_the_username_block_holds_from_any_address(app, tenant: Tenant) -> None:
    name = tenant.usernames[S]
    for _ in range(10):
        async with client_from(app, new_address()) as client:
            assert (await login(client, name, "sbagliata")).status_code == 401
    async with client_from(app, new_address()) as client:
        assert (await login(client, name)).status_code == 429


async def test_one_address_trying_many_usernames_is_blocked(app, tenant: Tenant) -> None:
    address = new_address()
    async with client_from(app, address) as client:
        for n in range(throttle.ADDRESS_LIMIT):
            assert (await login(client, f"nessuno-{n}-{tenant.code}", "x")).status_code == 401
        assert (await login(client, tenant.usernames[U])).status_code == 429
    # Another address is not affected.
    async with client_from(app, new_address()) as client:
        assert (await login(client, tenant.usernames[U])).status_code == 200


async def test_attempts_sent_at_once_cannot_all_slip_under_the_limit(app, tenant: Tenant) -> None:
    async with client_from(app, new_address()) as client:
        responses = await asyncio.gather(
            *[login(client, tenant.usernames[H], "sbagliata") for _ in range(16)]
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) == throttle.USER_LIMIT, statuses
    assert statuses.count(429) == 16 - throttle.USER_LIMIT


async def test_a_right_password_resets_the_username_count(http, tenant: Tenant) -> None:
    name = tenant.usernames[V]
    for _ in range(9):
        assert (await login(http, name, "sbagliata")).status_code == 401
    assert (await login(http, name)).status_code == 200
    for _ in range(9):
        assert (await login(http, name, "sbagliata")).status_code == 401
    assert (await login(http, name)).status_code == 200


async def test_unknown_user_and_wrong_password_are_throttled_alike(http, tenant: Tenant) -> None:
    unknown = f"sconosciuto-{tenant.code.lower()}"
    for name in (tenant.usernames[V], unknown):
        answers = [(await login(http, name, "sbagliata")).status_code for _ in range(11)]
        assert answers == [401] * 10 + [429]


async def test_udp_reads_the_failed_logins_of_its_ambito_only(
    http, tenant: Tenant, other_tenant: Tenant
) -> None:
    await login(http, tenant.usernames[V], "sbagliata")
    await login(http, other_tenant.usernames[V], "sbagliata")
    await login(http, f"sconosciuto-{tenant.code.lower()}", "sbagliata")
    response = await http.get("/api/users/login-failures", headers=tenant.headers(U))
    assert response.status_code == 200
    rows = response.json()
    assert [row["username"] for row in rows] == [tenant.usernames[V]]
    assert rows[0]["reason"] == "wrong_password" and rows[0]["user_id"] == str(tenant.users[V])
    assert rows[0]["address"].startswith("10.")


async def test_a_control_character_in_the_username_is_a_400(http) -> None:
    response = await login(http, "udp\x00admin", "x")
    assert response.status_code == 400 and "username" in response.text


# --- tokens: required claims, revocation ----------------------------------------------------


def _raw_token(user_id: uuid.UUID, **drop: bool) -> str:
    from jose import jwt

    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    for claim in drop:
        del claims[claim]
    return jwt.encode(claims, SETTINGS.secret_key, algorithm="HS256")


@pytest.mark.parametrize("missing", ["aud", "exp", "iat", "sub"])
async def test_a_token_missing_a_required_claim_is_refused(
    http, tenant: Tenant, missing: str
) -> None:
    assert await works(http, _raw_token(tenant.users[U]))
    assert not await works(http, _raw_token(tenant.users[U], **{missing: True}))


async def test_deactivation_ends_old_tokens_even_after_reactivation(http, tenant: Tenant) -> None:
    token = await token_of(http, tenant.usernames[V])
    path = f"/api/users/{tenant.users[V]}"
    admin = tenant.headers(U)
    assert (await http.patch(path, json={"active": False}, headers=admin)).status_code == 200
    assert (await http.patch(path, json={"active": True}, headers=admin)).status_code == 200
    assert not await works(http, token)
    assert await works(http, await token_of(http, tenant.usernames[V]))


async def test_a_role_change_ends_old_tokens(http, tenant: Tenant) -> None:
    token = await token_of(http, tenant.usernames[S])
    response = await http.patch(
        f"/api/users/{tenant.users[S]}", json={"role": "volunteer"}, headers=tenant.headers(U)
    )
    assert response.status_code == 200 and response.json()["role"] == "volunteer"
    assert not await works(http, token)
    response = await login(http, tenant.usernames[S])
    assert response.json()["role"] == "volunteer"


async def test_a_change_made_by_another_process_ends_tokens_at_once(http, tenant: Tenant) -> None:
    token = await token_of(http, tenant.usernames[V])
    assert await works(http, token)
    # What another worker does: only the database changes, nothing in this process hears of it.
    await User.update({User.active: False}).where(User.id == tenant.users[V])
    assert not await works(http, token)


async def test_logout_ends_the_token(http, tenant: Tenant) -> None:
    token = await token_of(http, tenant.usernames[H])
    assert (await http.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    assert not await works(http, token)
    assert (await http.post("/api/auth/logout", headers=bearer(token))).status_code == 401
    assert await works(http, await token_of(http, tenant.usernames[H]))


# --- password change by the user ------------------------------------------------------------


async def test_password_change_needs_the_current_password(http, tenant: Tenant) -> None:
    token = await token_of(http, tenant.usernames[S])
    wrong = await http.post(
        "/api/auth/password",
        json={"current_password": "non-questa", "new_password": NEW_PASSWORD},
        headers=bearer(token),
    )
    assert wrong.status_code == 400 and wrong.json()["field"] == "current_password"
    assert (await login(http, tenant.usernames[S])).status_code == 200


async def test_password_change_replaces_the_password_and_ends_old_tokens(
    http, tenant: Tenant
) -> None:
    old_token = await token_of(http, tenant.usernames[S])
    other_session = await token_of(http, tenant.usernames[S])
    response = await http.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(old_token),
    )
    assert response.status_code == 200
    fresh = response.json()["access_token"]
    assert await works(http, fresh)
    assert not await works(http, old_token) and not await works(http, other_session)
    assert (await login(http, tenant.usernames[S])).status_code == 401
    assert (await login(http, tenant.usernames[S], NEW_PASSWORD)).status_code == 200


async def test_password_change_refuses_a_short_new_password(http, tenant: Tenant) -> None:
    response = await http.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "corta"},
        headers=tenant.headers(V),
    )
    assert response.status_code == 400 and "new_password" in response.text


async def test_guessing_the_current_password_is_throttled(http, tenant: Tenant) -> None:
    token = await token_of(http, tenant.usernames[V])
    statuses = []
    for _ in range(11):
        response = await http.post(
            "/api/auth/password",
            json={"current_password": "tentativo", "new_password": NEW_PASSWORD},
            headers=bearer(token),
        )
        statuses.append(response.status_code)
    assert statuses == [400] * 10 + [429]


# --- password reset by the UdP --------------------------------------------------------------


async def reset_link(client: httpx.AsyncClient, tenant: Tenant, role: Role) -> str:
    response = await client.post(
        f"/api/users/{tenant.users[role]}/password-reset", headers=tenant.headers(U)
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()["url"]


def token_in(url: str) -> str:
    fragment = urlsplit(url).fragment
    assert fragment.startswith("token=")
    return fragment.removeprefix("token=")


async def test_reset_link_sets_a_new_password_once(http, tenant: Tenant) -> None:
    session = await token_of(http, tenant.usernames[V])
    url = await reset_link(http, tenant, V)
    # The secret is in the fragment: the path and query a server would log hold none of it.
    parts = urlsplit(url)
    assert parts.path == "/reset/" and parts.query == ""
    body = {"token": token_in(url), "new_password": NEW_PASSWORD}
    assert (await http.post("/api/auth/password-reset", json=body)).status_code == 204
    assert (await login(http, tenant.usernames[V], NEW_PASSWORD)).status_code == 200
    assert (await login(http, tenant.usernames[V])).status_code == 401
    assert not await works(http, session)
    again = await http.post(
        "/api/auth/password-reset", json={**body, "new_password": "ancora-unaltra-password"}
    )
    assert again.status_code == 400 and again.json()["field"] == "token"
    assert (await login(http, tenant.usernames[V], NEW_PASSWORD)).status_code == 200


async def test_reset_lifts_a_username_block(http, tenant: Tenant) -> None:
    name = tenant.usernames[V]
    for _ in range(10):
        await login(http, name, "sbagliata")
    assert (await login(http, name)).status_code == 429
    url = await reset_link(http, tenant, V)
    body = {"token": token_in(url), "new_password": NEW_PASSWORD}
    assert (await http.post("/api/auth/password-reset", json=body)).status_code == 204
    assert (await login(http, name, NEW_PASSWORD)).status_code == 200


async def test_reset_link_dies_with_a_deactivation(http, tenant: Tenant) -> None:
    url = await reset_link(http, tenant, V)
    path = f"/api/users/{tenant.users[V]}"
    await http.patch(path, json={"active": False}, headers=tenant.headers(U))
    await http.patch(path, json={"active": True}, headers=tenant.headers(U))
    body = {"token": token_in(url), "new_password": NEW_PASSWORD}
    assert (await http.post("/api/auth/password-reset", json=body)).status_code == 400


async def test_expired_or_foreign_reset_tokens_are_refused(http, tenant: Tenant) -> None:
    user = str(tenant.users[V])
    expired = issue(
        SETTINGS.secret_key,
        RESET_AUDIENCE,
        user,
        {"ver": 0},
        ttl=timedelta(minutes=5),
        now=datetime.now(UTC) - timedelta(hours=2),
    )
    login_token = issue(SETTINGS.secret_key, AUDIENCE, user, {"ver": 0})
    for token in (expired, login_token, "non-un-token"):
        response = await http.post(
            "/api/auth/password-reset", json={"token": token, "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 400 and response.json()["field"] == "token"
    # A reset token is no login token either.
    reset_token = issue(SETTINGS.secret_key, RESET_AUDIENCE, user, {"ver": 0})
    assert not await works(http, reset_token)
    assert (await login(http, tenant.usernames[V])).status_code == 200


async def test_the_same_link_used_twice_at_once_sets_one_password(http, tenant: Tenant) -> None:
    token = token_in(await reset_link(http, tenant, V))
    first, second = "prima-password-nuova", "seconda-password-nuova"
    responses = await asyncio.gather(
        *[
            http.post("/api/auth/password-reset", json={"token": token, "new_password": p})
            for p in (first, second)
        ]
    )
    assert sorted(r.status_code for r in responses) == [204, 400]
    ok = [(await login(http, tenant.usernames[V], p)).status_code for p in (first, second)]
    assert sorted(ok) == [200, 401]


async def test_no_reset_link_for_a_deactivated_account(http, tenant: Tenant) -> None:
    path = f"/api/users/{tenant.users[V]}"
    await http.patch(path, json={"active": False}, headers=tenant.headers(U))
    response = await http.post(f"{path}/password-reset", headers=tenant.headers(U))
    assert response.status_code == 409


# --- the last udp_admin ----------------------------------------------------------------------


async def test_udp_admin_cannot_deactivate_or_demote_itself(http, tenant: Tenant) -> None:
    path = f"/api/users/{tenant.users[U]}"
    for body in ({"active": False}, {"role": "social_worker"}):
        response = await http.patch(path, json=body, headers=tenant.headers(U))
        assert response.status_code == 409, response.text
        assert "your own account" in response.json()["detail"]
    assert await works(http, await token_of(http, tenant.usernames[U]))


async def test_the_last_active_udp_admin_stays(http, tenant: Tenant) -> None:
    admin = tenant.headers(U)
    # A second administrator, then the first one steps down through the second.
    second = tenant.users[S]
    promoted = await http.patch(f"/api/users/{second}", json={"role": "udp_admin"}, headers=admin)
    assert promoted.status_code == 200
    second_token = await token_of(http, tenant.usernames[S])
    first = f"/api/users/{tenant.users[U]}"
    assert (
        await http.patch(first, json={"role": "volunteer"}, headers=bearer(second_token))
    ).status_code == 200
    # Now the second is the last one: the former administrator can do nothing about it.
    response = await http.patch(
        f"/api/users/{second}", json={"active": False}, headers=bearer(second_token)
    )
    assert response.status_code == 409 and "own account" in response.json()["detail"]


async def test_two_admins_deactivating_each_other_at_once_leave_one(app, tenant: Tenant) -> None:
    other = tenant.users[S]
    async with client_from(app, new_address()) as http:
        promoted = await http.patch(
            f"/api/users/{other}", json={"role": "udp_admin"}, headers=tenant.headers(U)
        )
        assert promoted.status_code == 200
        first = await token_of(http, tenant.usernames[U])
        second = await token_of(http, tenant.usernames[S])
        responses = await asyncio.gather(
            http.patch(f"/api/users/{other}", json={"active": False}, headers=bearer(first)),
            http.patch(
                f"/api/users/{tenant.users[U]}", json={"active": False}, headers=bearer(second)
            ),
        )
    statuses = sorted(r.status_code for r in responses)
    # Either one wins and the other is refused, or the loser's token already ended (401).
    assert statuses[0] == 200 and statuses[1] in (401, 409), statuses
    admins = await User.count().where(
        (User.ambito == tenant.ambito_id) & (User.role == "udp_admin") & (User.active == True)  # noqa: E712
    )
    assert admins == 1


async def test_an_empty_patch_is_a_400(http, tenant: Tenant) -> None:
    response = await http.patch(f"/api/users/{tenant.users[V]}", json={}, headers=tenant.headers(U))
    assert response.status_code == 400


# --- authorization of the new endpoints ------------------------------------------------------

ONLY_UDP = {U: 201, S: 403, H: 403, V: 403}
CASES = [
    # (method, path, own ambito, another ambito's user; None: no record in the path)
    ("POST", "/api/users/{volunteer}/password-reset", ONLY_UDP, {U: 404, S: 403, H: 403, V: 403}),
    ("GET", "/api/users/login-failures", {U: 200, S: 403, H: 403, V: 403}, None),
    ("POST", "/api/auth/logout", dict.fromkeys(Role, 204), None),
    (
        "PATCH#role",
        "/api/users/{volunteer}",
        {U: 200, S: 403, H: 403, V: 403},
        {U: 404, S: 403, H: 403, V: 403},
    ),
]
BODIES = {"PATCH#role": {"role": "social_worker"}}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]} {c[1]}")
async def test_authorization_of_the_new_endpoints(http, case, role: Role) -> None:
    method, path, own, other = case
    tenant, foreign = await make_tenant(), await make_tenant()
    body = BODIES.get(method)
    verb = method.split("#")[0]
    response = await http.request(
        verb, path.format(volunteer=tenant.users[V]), json=body, headers=tenant.headers(role)
    )
    assert response.status_code == own[role], response.text
    if other is not None:
        response = await http.request(
            verb, path.format(volunteer=foreign.users[V]), json=body, headers=tenant.headers(role)
        )
        assert response.status_code == other[role], response.text
        assert str(foreign.users[V]) not in response.text or response.status_code == 403
    anonymous = await http.request(verb, path.format(volunteer=tenant.users[V]), json=body)
    assert anonymous.status_code == 401
