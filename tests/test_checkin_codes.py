"""Issued QR codes are stored: listed again by who could have issued them, reprinted with the
very same URL, revoked (and then refused at check-in)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image

from registry.access import Role
from registry.checkin.tables import CheckInCode
from tests.conftest import Tenant, make_tenant
from tests.test_checkin import (
    check_in,
    check_out,
    forged,
    new_activity,
    new_activity_of,
    new_code,
    path_of,
)
from tests.test_contributions import add_user, make_match

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch):
    from registry.checkin import codes, presences

    def move(**delta: float) -> datetime:
        moment = datetime.now(UTC) + timedelta(**delta)
        monkeypatch.setattr(codes, "clock", lambda: moment)
        monkeypatch.setattr(presences, "clock", lambda: moment)
        return moment

    return move


@dataclass
class Issued:
    """Three codes of one ambito: for an activity of the managed holder (by its manager), for
    an activity of the other holder (by the UdP), for a match of the social worker's plan."""

    tenant: Tenant
    own_activity: dict[str, Any]
    other_holder_activity: dict[str, Any]
    match: dict[str, Any]
    stranger_sw: dict[str, Any]  # a social worker of the ambito who does not work on the plan

    def ids(self, *names: str) -> set[str]:
        return {getattr(self, name)["id"] for name in names}


async def issue_three(client: httpx.AsyncClient) -> Issued:
    tenant = await make_tenant()
    own = await new_code(client, tenant, role=H)
    other = await new_code(
        client, tenant, role=U, activity_id=(await new_activity_of(client, tenant))["id"]
    )
    link = await make_match(tenant)
    match = await new_code(client, tenant, role=S, match_id=str(link["match"]))
    return Issued(tenant, own, other, match, await add_user(tenant, S))


def listed(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


# --- who sees which codes ---------------------------------------------------------------------

ALL = ("own_activity", "other_holder_activity", "match")
# role (or "stranger_sw") -> the codes listed, None for 403
VISIBLE: dict[str, tuple[str, ...] | None] = {
    "udp_admin": ALL,
    "social_worker": ("match",),
    "stranger_sw": (),
    "holder_manager": ("own_activity", "match"),  # the match is its holder's
    "volunteer": None,
}


def headers_of(issued: Issued, who: str) -> dict[str, str]:
    if who == "stranger_sw":
        return {"Authorization": issued.stranger_sw["Authorization"]}
    return issued.tenant.headers(Role(who))


@pytest.mark.parametrize("who", list(VISIBLE))
async def test_each_role_lists_the_codes_it_could_have_issued(client, who: str) -> None:
    issued = await issue_three(client)
    headers = headers_of(issued, who)
    response = await client.get("/api/checkin/codes", headers=headers)
    expected = VISIBLE[who]
    if expected is None:
        assert response.status_code == 403, response.text
        assert issued.own_activity["token"] not in response.text
    else:
        assert listed(response) == issued.ids(*expected)
        assert response.json()["total"] == len(expected)
    for name in ALL:
        code_id = getattr(issued, name)["id"]
        one = await client.get(f"/api/checkin/codes/{code_id}", headers=headers)
        if expected is None:
            assert one.status_code == 403, (name, one.text)
        elif name in expected:
            assert one.status_code == 200 and one.json()["token"] == getattr(issued, name)["token"]
        else:
            assert one.status_code == 404, (name, one.text)
            assert getattr(issued, name)["token"] not in one.text


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
async def test_another_ambito_never_sees_the_codes(client, role: Role) -> None:
    issued = await issue_three(client)
    stranger = await make_tenant()
    headers = stranger.headers(role)
    response = await client.get("/api/checkin/codes", headers=headers)
    if role is V:
        assert response.status_code == 403
    else:
        assert listed(response) == set()
    for name in ALL:
        code = getattr(issued, name)
        for method, path in (
            ("GET", f"/api/checkin/codes/{code['id']}"),
            ("POST", f"/api/checkin/codes/{code['id']}/revoke"),
        ):
            answer = await client.request(method, path, headers=headers)
            assert answer.status_code == 404, (name, method, answer.text)
            assert code["token"] not in answer.text
    assert (
        await CheckInCode.count().where(
            (CheckInCode.ambito == issued.tenant.ambito_id) & CheckInCode.revoked_at.is_not_null()
        )
        == 0
    )


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("udp_admin", "own_activity", 200),
        ("udp_admin", "match", 200),
        ("holder_manager", "own_activity", 200),
        ("holder_manager", "match", 200),
        ("holder_manager", "other_holder_activity", 404),
        ("social_worker", "match", 200),
        ("social_worker", "own_activity", 404),
        ("stranger_sw", "match", 404),
        ("volunteer", "own_activity", 403),
    ],
)
async def test_who_may_revoke(client, who: str, code: str, status: int) -> None:
    issued = await issue_three(client)
    code_id = getattr(issued, code)["id"]
    response = await client.post(
        f"/api/checkin/codes/{code_id}/revoke", headers=headers_of(issued, who)
    )
    assert response.status_code == status, response.text
    revoked = await CheckInCode.select(CheckInCode.revoked_at).where(CheckInCode.id == code_id)
    assert (revoked[0]["revoked_at"] is not None) == (status == 200)


# --- what a listed code carries ----------------------------------------------------------------


async def test_a_listed_code_reprints_the_same_qr(client, tenant: Tenant) -> None:
    issued = await new_code(client, tenant)
    assert issued["status"] == "valid" and issued["revoked_at"] is None
    page = await client.get("/api/checkin/codes", headers=tenant.headers(H))
    [item] = page.json()["items"]
    for key in ("id", "token", "url", "png_url", "svg_url", "sheet_url", "badge_url", "title"):
        assert item[key] == issued[key], key
    assert item["issued_by_id"] == str(tenant.users[H])
    assert item["valid_from"] == issued["valid_from"]
    assert item["valid_until"] == issued["valid_until"]
    png = await client.get(path_of(item["png_url"]))
    assert png.status_code == 200
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [d.text for d in decoded] == [issued["url"]]
    sheet = await client.get(path_of(item["sheet_url"]))
    assert sheet.status_code == 200 and "Pranzo solidale" in sheet.text


async def test_filters_and_pages(client, tenant: Tenant, later) -> None:
    first = await new_activity(client, tenant)
    a1 = await new_code(client, tenant, activity_id=first["id"])
    a2 = await new_code(
        client,
        tenant,
        activity_id=first["id"],
        valid_until=(datetime.now(UTC) + timedelta(minutes=30)).isoformat(),
    )
    b = await new_code(client, tenant)  # another activity
    link = await make_match(tenant)
    m = await new_code(client, tenant, role=S, match_id=str(link["match"]))
    revoked = await client.post(f"/api/checkin/codes/{b['id']}/revoke", headers=tenant.headers(H))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"

    def get(**params: Any):
        return client.get("/api/checkin/codes", params=params, headers=tenant.headers(U))

    assert listed(await get(activity_id=first["id"])) == {a1["id"], a2["id"]}
    assert listed(await get(match_id=str(link["match"]))) == {m["id"]}
    assert listed(await get(valid="true")) == {a1["id"], a2["id"], m["id"]}
    assert listed(await get(valid="false")) == {b["id"]}
    assert listed(await get(activity_id=first["id"], valid="false")) == set()

    later(hours=1)  # a2 has expired
    assert listed(await get(valid="true")) == {a1["id"], m["id"]}
    stale = await get(valid="false")
    assert {i["id"]: i["status"] for i in stale.json()["items"]} == {
        a2["id"]: "expired",
        b["id"]: "revoked",
    }

    pages = [await get(limit=3, offset=0), await get(limit=3, offset=3)]
    assert [p.json()["total"] for p in pages] == [4, 4]
    ids = [i["id"] for p in pages for i in p.json()["items"]]
    assert sorted(ids) == sorted([a1["id"], a2["id"], b["id"], m["id"]])
    bad = await get(limit=0)
    assert bad.status_code == 400


async def test_a_code_printed_in_advance_is_scheduled(client, tenant: Tenant) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    code = await new_code(
        client,
        tenant,
        valid_from=start.isoformat(),
        valid_until=(start + timedelta(hours=3)).isoformat(),
    )
    assert code["status"] == "scheduled"
    page = await client.get("/api/checkin/codes?valid=true", headers=tenant.headers(H))
    assert [i["status"] for i in page.json()["items"]] == ["scheduled"]


# --- revoking -----------------------------------------------------------------------------------


async def test_a_revoked_code_is_refused_at_check_in(client, tenant: Tenant, later) -> None:
    code = await new_code(client, tenant)
    other = await new_code(client, tenant)
    presence = (await check_in(client, tenant, code["token"])).json()
    response = await client.post(
        f"/api/checkin/codes/{code['id']}/revoke", headers=tenant.headers(H)
    )
    assert response.status_code == 200, response.text
    revoked_at = response.json()["revoked_at"]
    assert revoked_at and response.json()["status"] == "revoked"

    for answer in (
        await check_in(client, tenant, code["token"], H),
        await client.get(
            "/api/checkin/status", params={"t": code["token"]}, headers=tenant.headers(V)
        ),
        await client.get(path_of(code["png_url"])),
        await client.get(path_of(code["sheet_url"])),
        await check_out(client, tenant, token=code["token"]),
    ):
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert "revocato" in body["detail"] and "revoked" in body["detail"], body
        assert body["field"] == "token"

    # The presence opened before the revocation is still closed by its id.
    later(minutes=30)
    closed = await check_out(client, tenant, checkin_id=presence["id"])
    assert closed.status_code == 200 and closed.json()["minutes"] == 30

    # Revoking again changes nothing; the other code still works.
    again = await client.post(f"/api/checkin/codes/{code['id']}/revoke", headers=tenant.headers(U))
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked_at
    assert (await check_in(client, tenant, other["token"])).status_code == 201


async def test_tokens_without_a_stored_code(client, tenant: Tenant) -> None:
    activity = (await new_activity(client, tenant))["id"]
    # Issued before codes were stored (no "cid"): valid until it expires.
    legacy = forged(tenant, activity=activity)
    assert (await check_in(client, tenant, legacy)).status_code == 201
    # A genuine signature naming a code that was never stored: refused.
    unknown = forged(tenant, activity=activity, claims={"cid": str(uuid.uuid4())})
    response = await check_in(client, tenant, unknown)
    assert response.status_code == 400 and "alterato" in response.json()["detail"]


async def test_unknown_code_ids(client, tenant: Tenant) -> None:
    missing = uuid.uuid4()
    for method, path in (
        ("GET", f"/api/checkin/codes/{missing}"),
        ("POST", f"/api/checkin/codes/{missing}/revoke"),
    ):
        response = await client.request(method, path, headers=tenant.headers(U))
        assert response.status_code == 404
    response = await client.get("/api/checkin/codes/not-a-uuid", headers=tenant.headers(U))
    assert response.status_code in (400, 404)
    response = await client.get("/api/checkin/codes?valid=maybe", headers=tenant.headers(U))
    assert response.status_code == 400
