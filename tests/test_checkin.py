"""QR check-in: codes, images that decode back to the URL, presences, refused tokens."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image

from registry import italian
from registry.access import Role
from registry.checkin import codes, presences, tokens
from registry.checkin.tables import CheckIn
from registry.contributions.tables import Contribution
from registry.security import issue
from tests.conftest import SETTINGS, Tenant, make_tenant
from tests.test_contributions import make_match

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


async def new_activity(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    response = await client.post(
        "/api/activities",
        json={
            "title": "Pranzo solidale",
            "starts_on": italian.today().isoformat(),
            "comune": tenant.comuni[0],
        },
        headers=tenant.headers(H),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def new_code(
    client: httpx.AsyncClient, tenant: Tenant, role: Role = H, **body: Any
) -> dict[str, Any]:
    if "match_id" not in body and "activity_id" not in body:
        body["activity_id"] = (await new_activity(client, tenant))["id"]
    response = await client.post("/api/checkin/codes", json=body, headers=tenant.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


def path_of(url: str) -> str:
    return url.replace(SETTINGS.public_base_url, "")


async def check_in(client: httpx.AsyncClient, tenant: Tenant, token: str, role: Role = V):
    return await client.post("/api/checkin/in", json={"token": token}, headers=tenant.headers(role))


async def check_out(client: httpx.AsyncClient, tenant: Tenant, role: Role = V, **body: Any):
    return await client.post("/api/checkin/out", json=body, headers=tenant.headers(role))


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch):
    """Move the check-in service's clock: later(minutes=...) for check-outs."""

    def move(**delta: float) -> datetime:
        moment = datetime.now(UTC) + timedelta(**delta)
        monkeypatch.setattr(codes, "clock", lambda: moment)
        monkeypatch.setattr(presences, "clock", lambda: moment)
        return moment

    return move


# --- codes and images -----------------------------------------------------------------------


async def test_png_decodes_back_to_the_url(client, tenant: Tenant) -> None:
    code = await new_code(client, tenant)
    assert code["url"] == f"{SETTINGS.public_base_url}/checkin/?t={code['token']}"
    assert code["holder_id"] == str(tenant.holder_id) and code["title"] == "Pranzo solidale"
    response = await client.get(path_of(code["png_url"]))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert [d.text for d in decoded] == [code["url"]]
    assert decoded[0].format == zxingcpp.BarcodeFormat.QRCode


async def test_svg_sheet_and_badge(client, tenant: Tenant) -> None:
    code = await new_code(client, tenant)
    svg = await client.get(path_of(code["svg_url"]))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and "<path" in svg.text
    for url, marker in (
        (code["sheet_url"], "Registra la tua presenza"),
        (code["badge_url"], "badge"),
    ):
        page = await client.get(path_of(url))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert marker in page.text and "Pranzo solidale" in page.text and "<svg" in page.text
        assert "@page" in page.text


async def test_a_small_png_still_decodes(client, tenant: Tenant) -> None:
    """4 pixels per module (the size of a badge on screen) still reads back the URL."""
    code = await new_code(client, tenant)
    png = await client.get(path_of(code["png_url"]) + "&scale=4")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert decoded[0].text == code["url"]


async def test_the_phone_page_is_served(client) -> None:
    response = await client.get("/checkin/?t=abc")
    assert response.status_code == 200
    assert "Entrata" in response.text and "Uscita" in response.text
    script = await client.get("/checkin/checkin.js")
    assert script.status_code == 200 and "/api/checkin/in" in script.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "activity_id"),
        ({"activity_id": "00000000-0000-0000-0000-000000000001"}, "activity_id"),
        (
            {"valid_from": "2026-03-01T10:00:00+01:00", "valid_until": "2026-03-01T09:00:00+01:00"},
            "valid_until",
        ),
        (
            {"valid_from": "2020-03-01T10:00:00+01:00", "valid_until": "2020-03-01T12:00:00+01:00"},
            "valid_until",
        ),
        ({"valid_until": "2099-01-01T00:00:00Z"}, "valid_until"),
        ({"holder_id": "00000000-0000-0000-0000-000000000001"}, "holder_id"),
    ],
)
async def test_bad_code_requests_name_the_field(client, tenant: Tenant, body, field) -> None:
    if "activity_id" not in body and body:
        body = {**body, "activity_id": (await new_activity(client, tenant))["id"]}
    response = await client.post("/api/checkin/codes", json=body, headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


# --- presences ------------------------------------------------------------------------------


async def test_check_in_and_out_records_a_qr_verified_entry(client, tenant: Tenant, later) -> None:
    code = await new_code(client, tenant)
    status = await client.get(
        "/api/checkin/status", params={"t": code["token"]}, headers=tenant.headers(V)
    )
    assert status.status_code == 200 and status.json()["checkin"] is None
    assert status.json()["code"]["title"] == "Pranzo solidale"

    response = await check_in(client, tenant, code["token"])
    assert response.status_code == 201, response.text
    presence = response.json()
    assert presence["status"] == "open" and "Entrata registrata" in presence["message"]
    opened = await client.get("/api/checkin/open", headers=tenant.headers(V))
    assert [p["id"] for p in opened.json()] == [presence["id"]]

    later(hours=2, minutes=7)  # 2 h 07 min -> 2 h 00 min
    response = await check_out(client, tenant, checkin_id=presence["id"])
    assert response.status_code == 200, response.text
    closed = response.json()
    assert closed["status"] == "closed" and closed["minutes"] == 120
    entry = closed["contribution"]
    assert entry["verification"] == "qr_verified" and entry["unit"] == "hours"
    assert entry["quantity"] == 2 and entry["volunteer_id"] == str(tenant.users[V])
    assert entry["activity_id"] == code["target_id"] and entry["comune"] == tenant.comuni[0]
    summary = await client.get("/api/contributions/summary", headers=tenant.headers(H))
    hours = {t["unit"]: t for t in summary.json()["totals"]}["hours"]
    assert (hours["verified"], hours["self_reported"]) == (2, 0)


@pytest.mark.parametrize(
    ("minutes", "recorded"),
    [(7, 0), (8, 15), (52, 45), (53, 60), (128, 135), (60 * 20, 12 * 60)],
)
async def test_time_is_rounded_to_the_quarter_hour(
    client, tenant: Tenant, later, minutes: int, recorded: int
) -> None:
    code = await new_code(
        client, tenant, valid_until=(datetime.now(UTC) + timedelta(days=2)).isoformat()
    )
    presence = (await check_in(client, tenant, code["token"])).json()
    later(minutes=minutes, seconds=1)
    closed = (await check_out(client, tenant, token=code["token"])).json()
    assert closed["minutes"] == recorded, closed
    stored = await Contribution.count().where(
        Contribution.idempotency_key == f"checkin:{presence['id']}"
    )
    assert stored == (1 if recorded else 0)


async def test_time_is_capped_by_the_window(client, tenant: Tenant, later) -> None:
    code = await new_code(
        client, tenant, valid_until=(datetime.now(UTC) + timedelta(minutes=61)).isoformat()
    )
    presence = (await check_in(client, tenant, code["token"])).json()
    later(hours=5)  # forgot to check out: the code ended after an hour
    closed = (await check_out(client, tenant, checkin_id=presence["id"])).json()
    assert closed["minutes"] == 60
    ended = datetime.fromisoformat(closed["contribution"]["ended_at"])
    assert ended == datetime.fromisoformat(code["valid_until"])


async def test_a_token_cannot_be_replayed(client, tenant: Tenant, later) -> None:
    code = await new_code(client, tenant)
    replies = await asyncio.gather(*[check_in(client, tenant, code["token"]) for _ in range(10)])
    assert sorted(r.status_code for r in replies) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in replies}) == 1
    presence = replies[0].json()["id"]
    later(hours=1)
    outs = await asyncio.gather(
        *[check_out(client, tenant, checkin_id=presence) for _ in range(10)]
    )
    assert sorted(r.status_code for r in outs) == [200] + [409] * 9
    assert "già" in next(r for r in outs if r.status_code == 409).json()["detail"]
    assert (
        await Contribution.count().where(Contribution.idempotency_key == f"checkin:{presence}") == 1
    )
    # Again on the check-in's own day: an hour later is tomorrow in Rome after 23:00, when a
    # new presence is allowed (the test failed when run then).
    later(seconds=1)
    again = await check_in(client, tenant, code["token"])
    assert again.status_code == 409
    assert await CheckIn.count().where(CheckIn.id == presence) == 1


async def test_match_codes_record_entries_for_the_plan(client, tenant: Tenant, later) -> None:
    link = await make_match(tenant)
    code = await new_code(client, tenant, role=S, match_id=str(link["match"]))
    assert code["holder_id"] == str(tenant.holder_id) and code["target"] == "match"
    presence = (await check_in(client, tenant, code["token"])).json()
    later(minutes=45)
    closed = (await check_out(client, tenant, token=code["token"])).json()
    assert closed["minutes"] == 45
    seen = await client.get(
        "/api/contributions", params={"plan_id": str(link["plan"])}, headers=tenant.headers(S)
    )
    entries = seen.json()["items"]
    assert [e["verification"] for e in entries] == ["qr_verified"]
    assert entries[0]["plan_id"] == str(link["plan"]) and entries[0]["match_id"] == str(
        link["match"]
    )
    assert presence["target_id"] == str(link["match"])


# --- refused tokens -------------------------------------------------------------------------


def forged(tenant: Tenant, **overrides: Any) -> str:
    moment = overrides.pop("now", datetime.now(UTC))
    claims = {
        "amb": str(tenant.ambito_id),
        "hld": str(tenant.holder_id),
        "nbf": int(moment.timestamp()),
        **overrides.pop("claims", {}),
    }
    return issue(
        overrides.pop("secret", SETTINGS.secret_key),
        overrides.pop("audience", tokens.AUDIENCE),
        overrides.pop("subject", f"activity:{overrides.pop('activity')}"),
        claims,
        ttl=overrides.pop("ttl", timedelta(hours=2)),
        now=moment,
    )


async def test_refused_tokens_say_why_in_italian_and_english(client, tenant: Tenant) -> None:
    activity = (await new_activity(client, tenant))["id"]
    valid = forged(tenant, activity=activity)
    head, payload, signature = valid.split(".")
    cases = {
        "expired": (
            forged(tenant, activity=activity, now=datetime.now(UTC) - timedelta(hours=5)),
            400,
            ("scaduto", "expired"),
        ),
        "not yet valid": (
            forged(tenant, activity=activity, now=datetime.now(UTC) + timedelta(hours=3)),
            400,
            ("non ancora valido", "not valid before"),
        ),
        "tampered": (f"{head}.{payload[:-4]}AAAA.{signature}", 400, ("alterato", "tampered")),
        "other key": (
            forged(tenant, activity=activity, secret="x" * 40),
            400,
            ("alterato", "tampered"),
        ),
        "login token": (
            forged(tenant, activity=activity, audience="registry-api"),
            400,
            ("alterato", "tampered"),
        ),
        "garbage": ("not-a-token", 400, ("alterato", "tampered")),
    }
    for name, (token, status, words) in cases.items():
        for response in (
            await check_in(client, tenant, token),
            await client.get("/api/checkin/status", params={"t": token}, headers=tenant.headers(V)),
            *(
                # A code for later may be printed in advance (see below).
                [await client.get("/api/checkin/qr.png", params={"t": token})]
                if name != "not yet valid"
                else []
            ),
        ):
            assert response.status_code == status, (name, response.text)
            detail = response.json()["detail"]
            assert all(word in detail for word in words), (name, detail)
            assert response.json()["field"] == "token"
    assert await CheckIn.count().where(CheckIn.ambito == tenant.ambito_id) == 0


async def test_a_code_for_later_can_be_printed_now(client, tenant: Tenant) -> None:
    activity = (await new_activity(client, tenant))["id"]
    later = forged(tenant, activity=activity, now=datetime.now(UTC) + timedelta(hours=3))
    for path in ("/api/checkin/qr.png", "/api/checkin/qr.svg", "/api/checkin/sheet"):
        response = await client.get(path, params={"t": later})
        assert response.status_code == 200, (path, response.text)
    # ...but nobody can check in with it before its window opens.
    response = await check_in(client, tenant, later)
    assert response.status_code == 400 and "non ancora valido" in response.json()["detail"]


async def test_foreign_ambito_tokens_are_refused(client, tenant: Tenant) -> None:
    other = await make_tenant()
    code = await new_code(client, other)
    response = await check_in(client, tenant, code["token"])
    assert response.status_code == 403
    assert (
        "altro ambito" in response.json()["detail"]
        and "another ambito" in response.json()["detail"]
    )
    response = await check_out(client, tenant, token=code["token"])
    assert response.status_code == 403


async def test_who_may_check_in(client, tenant: Tenant) -> None:
    code = await new_code(client, tenant)
    for role, status in ((U, 403), (S, 403), (H, 201), (V, 201)):
        response = await check_in(client, tenant, code["token"], role)
        assert response.status_code == status, (role, response.text)
    other_holders = await new_code(
        client, tenant, role=U, activity_id=(await new_activity_of(client, tenant))["id"]
    )
    response = await check_in(client, tenant, other_holders["token"], H)
    assert response.status_code == 403


async def new_activity_of(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    response = await client.post(
        "/api/activities",
        json={
            "title": "Raccolta alimentare",
            "starts_on": italian.today().isoformat(),
            "holder_ids": [str(tenant.other_holder_id)],
        },
        headers=tenant.headers(U),
    )
    assert response.status_code == 201
    return response.json()


async def test_check_out_needs_an_open_presence(client, tenant: Tenant) -> None:
    code = await new_code(client, tenant)
    response = await check_out(client, tenant, token=code["token"])
    assert response.status_code == 409
    response = await check_out(client, tenant)
    assert response.status_code == 400 and response.json()["field"] == "checkin_id"
    presence = (await check_in(client, tenant, code["token"], H)).json()
    # Someone else's presence is not yours to close.
    response = await check_out(client, tenant, checkin_id=presence["id"])
    assert response.status_code == 404
