"""Creating and running ambiti (issue 14): the `registry ambito` command, the platform
admin's API, comune membership history across moves, merges and splits, and deactivation.

Comuni here are real ISTAT codes (ambito creation checks them against geo's list), taken
from provinces numbered below 100 so they never meet conftest's made-up codes (≥ 200000).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from registry import geo, italian
from registry.access import Role
from registry.ambiti import platform
from registry.ambiti.schemas import ComuneIn
from registry.ambiti.service import add_comuni, ambito_tables, merge_ambiti, record_counts
from registry.ambiti.tables import Ambito, Comune, ComuneMembership
from registry.db import all_tables
from registry.users.tables import User
from tests import metrics_data
from tests.conftest import PASSWORD, Tenant, make_tenant, new_code
from tests.fixtures.interop import rich_data

REPO = Path(__file__).resolve().parents[1]
_pick = random.Random()


async def free_comuni(count: int) -> list[str]:
    """Real comuni of today that belong to no ambito yet."""
    taken = {row["istat_code"] for row in await Comune.select(Comune.istat_code)}
    pool = [c for c in geo.comuni_places() if c < "100000" and c not in taken]
    return _pick.sample(pool, count)


async def free_province() -> str:
    """A small province none of whose comuni belongs to an ambito yet."""
    taken = {row["istat_code"] for row in await Comune.select(Comune.istat_code)}
    sizes: dict[str, int] = {}
    for code, place in geo.comuni_places().items():
        if code < "100000":
            sizes[place.province] = sizes.get(place.province, 0) + 1
    for province in sorted(sizes, key=lambda p: sizes[p]):
        if not any(p.istat_code in taken for p in geo.comuni_of_province(province)):
            return province
    raise AssertionError("no free province left")


def ambito_code() -> str:
    return f"ATS-{new_code()}"


async def registry(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "registry.cli", *args],
            cwd=REPO,
            env={**os.environ, "REGISTRY_SCHEDULER": "0"},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )

    # In a thread: the test's event loop stays free while the other process works.
    return await asyncio.to_thread(run)


async def platform_headers(client: httpx.AsyncClient) -> dict[str, str]:
    username = f"platform-{uuid.uuid4().hex[:10]}"
    await platform.create_platform_admin(username, PASSWORD)
    response = await client.post(
        "/api/platform/token", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "platform_admin"
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", json={"username": username, "password": password})


# --- the command line ---------------------------------------------------------------------


async def test_cli_creates_an_ambito_with_its_comuni_and_first_udp(app: object) -> None:
    code = ambito_code()
    comuni = await free_comuni(3)
    done = await registry(
        "ambito", "create", code, "--name", "Ambito della prova", "--region", "Lombardia",
        "--comuni", ",".join(comuni), "--udp", f"udp-{code.lower()}",
        stdin="una-password-lunga\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"ambito {code} created with 3 comuni" in done.stdout
    row = await Ambito.select(Ambito.id, Ambito.active).where(Ambito.code == code).first()
    assert row["active"] is True
    stored = await Comune.select(Comune.istat_code, Comune.name).where(Comune.ambito == row["id"])
    assert sorted(c["istat_code"] for c in stored) == sorted(comuni)
    # Names come from the ISTAT list, not from the operator.
    assert {c["name"] for c in stored} == {geo.comune(c).name for c in comuni}  # type: ignore[union-attr]
    periods = await ComuneMembership.select().where(ComuneMembership.ambito == row["id"])
    assert len(periods) == 3
    assert all(p["valid_until"] is None and p["reason"] == "created" for p in periods)
    udp = await User.select(User.role).where(User.username == f"udp-{code.lower()}").first()
    assert udp["role"] == "udp_admin"

    listed = await registry("ambito", "list")
    assert listed.returncode == 0
    line = next(line for line in listed.stdout.splitlines() if line.startswith(code))
    assert line.split()[1] == "3" and "active" in line
    shown = await registry("ambito", "show", code)
    assert shown.returncode == 0
    assert "users: 1 udp_admin" in shown.stdout
    for comune in comuni:
        assert comune in shown.stdout


async def test_cli_creates_an_ambito_from_a_province_and_a_file(
    app: object, tmp_path: Path
) -> None:
    province = await free_province()
    expected = {p.istat_code for p in geo.comuni_of_province(province)}
    code = ambito_code()
    done = await registry(
        "ambito", "create", code, "--name", f"Provincia {province}", "--region", "Italia",
        "--province", province,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "next: registry ambito add-udp" in done.stdout
    ambito = await Ambito.select(Ambito.id).where(Ambito.code == code).first()
    stored = {r["istat_code"] for r in await Comune.select().where(Comune.ambito == ambito["id"])}
    assert stored == expected

    # A spreadsheet with a codice_istat column, as the UdP has it (semicolons, Excel style).
    comuni = await free_comuni(2)
    sheet = tmp_path / "comuni.csv"
    sheet.write_text("codice_istat;comune\n" + "".join(f"{c};x\n" for c in comuni))
    other = ambito_code()
    done = await registry(
        "ambito", "create", other, "--name", "Da file", "--region", "Italia",
        "--comuni-file", str(sheet),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ambito = await Ambito.select(Ambito.id).where(Ambito.code == other).first()
    stored = {r["istat_code"] for r in await Comune.select().where(Comune.ambito == ambito["id"])}
    assert stored == set(comuni)


async def test_cli_refuses_bad_comuni_and_writes_nothing(app: object) -> None:
    good = await free_comuni(1)
    dropped_zero = next(c for c in geo.comuni_places() if c.startswith("0") and c < "100000")
    code = ambito_code()
    cases = [
        ([good[0], dropped_zero[1:]], f"did you mean {dropped_zero}"),
        ([good[0], "999999"], "999999 is not the ISTAT code of a comune of today"),
        ([good[0], "abc"], "'abc' is not an ISTAT code"),
    ]
    for codes, message in cases:
        done = await registry(
            "ambito", "create", code, "--name", "x", "--region", "Lombardia",
            "--comuni", ",".join(codes),
        )  # fmt: skip
        assert done.returncode == 2
        assert "comuni[1]" in done.stderr and message in done.stderr, done.stderr
    bad_code = await registry(
        "ambito", "create", "ats minuscolo", "--name", "x", "--region", "L", "--comuni", good[0]
    )
    assert bad_code.returncode == 2 and "code" in bad_code.stderr
    assert not await Ambito.exists().where(Ambito.code == code)
    assert not await Comune.exists().where(Comune.istat_code == good[0])
    # A comune already in an ambito is named with the ambito it is in.
    first = ambito_code()
    assert (await registry(
        "ambito", "create", first, "--name", "x", "--region", "L", "--comuni", good[0]
    )).returncode == 0  # fmt: skip
    clash = await registry(
        "ambito", "create", code, "--name", "x", "--region", "L", "--comuni", good[0]
    )
    assert clash.returncode == 2
    assert f"{good[0]} ({first})" in clash.stderr
    assert not await Ambito.exists().where(Ambito.code == code)
    missing = await registry("ambito", "show", "NESSUNO")
    assert missing.returncode == 2 and "no ambito with code 'NESSUNO'" in missing.stderr


async def test_cli_first_udp_only_once(app: object) -> None:
    code = ambito_code()
    comuni = await free_comuni(1)
    assert (await registry(
        "ambito", "create", code, "--name", "x", "--region", "L", "--comuni", comuni[0]
    )).returncode == 0  # fmt: skip
    first = await registry("ambito", "add-udp", code, f"a-{code.lower()}", stdin="password-lunga\n")
    assert first.returncode == 0, first.stderr
    again = await registry("ambito", "add-udp", code, f"b-{code.lower()}", stdin="password-lunga\n")
    assert again.returncode == 2
    assert "already has an active udp_admin" in again.stderr
    assert not await User.exists().where(User.username == f"b-{code.lower()}")
    # With --udp, a taken username or a short password stops the creation before it starts.
    other = ambito_code()
    comune = (await free_comuni(1))[0]
    for username, password, message in (
        (f"a-{code.lower()}", "password-lunga", "already taken"),
        (f"c-{code.lower()}", "corta", "password"),
    ):
        done = await registry(
            "ambito", "create", other, "--name", "x", "--region", "L", "--comuni", comune,
            "--udp", username, stdin=f"{password}\n",
        )  # fmt: skip
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert not await Ambito.exists().where(Ambito.code == other)
        assert not await Comune.exists().where(Comune.istat_code == comune)


# --- membership history: a comune moves, two ambiti merge, one splits --------------------


async def _all_counts(tenants: list[Tenant]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    totals = {t._meta.tablename: await t.count() for t in all_tables()}
    by_ambito = {t.code: await record_counts(t.ambito_id) for t in tenants}
    return totals, by_ambito


async def test_move_and_merge_keep_history_and_every_record(app: object) -> None:
    first, second = await make_tenant(), await make_tenant()
    for tenant in (first, second):
        await rich_data(tenant)
    # Plans, needs, matches, the ledger, activities, a funded intervention in the one merged.
    await metrics_data.build(first)
    travelling = (await free_comuni(1))[0]
    started = italian.today() - timedelta(days=400)
    await add_comuni(
        first.ambito_id, [ComuneIn(istat_code=travelling, name="In viaggio")], valid_from=started
    )
    totals_before, counts_before = await _all_counts([first, second])
    owned = counts_before[first.code]
    for table in (
        "holder",
        "resource",
        "care_plan",
        "plan_need",
        "resource_match",
        "contribution",
        "app_user",
    ):
        assert owned[table] > 0, table
    assert owned["funded_intervention"] > 0 and owned["community_activity"] > 0

    from registry.ambiti.service import move_comuni

    moved_on = italian.today() - timedelta(days=100)
    result = await move_comuni([travelling], second.code, moved_on)
    assert result.moved == [travelling] and result.added == []
    comune = await Comune.select(Comune.ambito).where(Comune.istat_code == travelling).first()
    assert comune["ambito"] == second.ambito_id
    periods = (
        await ComuneMembership.select(
            ComuneMembership.ambito, ComuneMembership.valid_from, ComuneMembership.valid_until
        )
        .where(ComuneMembership.istat_code == travelling)
        .order_by(ComuneMembership.valid_from)
    )
    assert [(p["ambito"], p["valid_from"], p["valid_until"]) for p in periods] == [
        (first.ambito_id, started, moved_on),
        (second.ambito_id, moved_on, None),
    ]

    # The tenants' own comuni joined today: the merge cannot predate that.
    merged = await merge_ambiti(first.code, second.code)
    assert sorted(merged.moved) == sorted(first.comuni)
    assert await Comune.count().where(Comune.ambito == first.ambito_id) == 0
    assert await Comune.count().where(Comune.ambito == second.ambito_id) == 5
    state = await Ambito.select().where(Ambito.id == first.ambito_id).first()
    assert state["active"] is False and state["merged_into"] == second.code
    # Every comune has exactly one open period, in the ambito it belongs to now.
    for code in [*first.comuni, *second.comuni, travelling]:
        open_periods = await ComuneMembership.select(ComuneMembership.ambito).where(
            (ComuneMembership.istat_code == code) & ComuneMembership.valid_until.is_null()
        )
        assert [p["ambito"] for p in open_periods] == [second.ambito_id]

    totals_after, counts_after = await _all_counts([first, second])
    # Records stay attached to the ambito that wrote them: not one moved, not one lost.
    assert counts_after == counts_before
    changed = {t for t in totals_before if totals_before[t] != totals_after[t]}
    assert changed <= {"comune_membership", "login_failure", "login_throttle"}
    assert totals_after["comune_membership"] == totals_before["comune_membership"] + 3
    assert totals_after["comune"] == totals_before["comune"]
    assert totals_after["ambito"] == totals_before["ambito"]
    assert ambito_tables(), "no ambito-owned table found"


async def test_split_makes_a_new_ambito_from_some_comuni(app: object) -> None:
    from registry.ambiti.service import split_ambito

    tenant = await make_tenant()
    await rich_data(tenant)
    real = await free_comuni(3)
    await add_comuni(
        tenant.ambito_id,
        [ComuneIn(istat_code=c, name=c) for c in real],
        valid_from=italian.today() - timedelta(days=30),
    )
    before = await record_counts(tenant.ambito_id)
    new = ambito_code()
    result = await split_ambito(tenant.code, new, "Nuovo ambito", real[:2])
    assert sorted(result.moved) == sorted(real[:2])
    row = await Ambito.select().where(Ambito.code == new).first()
    assert row["region"] == "Lombardia" and row["active"] is True
    assert await Comune.count().where(Comune.ambito == row["id"]) == 2
    assert await record_counts(tenant.ambito_id) == before
    assert set((await record_counts(row["id"])).values()) == {0}


async def test_moves_refuse_what_would_break_history(app: object) -> None:
    from registry.ambiti.service import move_comuni, split_ambito
    from registry.errors import Conflict, InvalidInput, NotFound

    first, second = await make_tenant(), await make_tenant()
    comune = (await free_comuni(1))[0]
    joined = italian.today() - timedelta(days=5)
    await add_comuni(first.ambito_id, [ComuneIn(istat_code=comune, name="x")], valid_from=joined)
    with pytest.raises(InvalidInput, match="would overlap"):
        await move_comuni([comune], second.code, joined - timedelta(days=1))
    with pytest.raises(InvalidInput, match="in the future"):
        await move_comuni([comune], second.code, italian.today() + timedelta(days=1))
    with pytest.raises(InvalidInput, match="already belongs"):
        await move_comuni([comune], first.code)
    with pytest.raises(NotFound):
        await move_comuni([comune], "NESSUNO")
    with pytest.raises(InvalidInput, match="merged into itself"):
        await merge_ambiti(first.code, first.code)
    with pytest.raises(InvalidInput, match="at least one comune"):
        await split_ambito(first.code, ambito_code(), "x", [comune, *first.comuni])
    with pytest.raises(InvalidInput, match="not a comune of"):
        await split_ambito(second.code, ambito_code(), "x", [comune])
    # Nothing of the refused operations was written.
    periods = await ComuneMembership.select().where(ComuneMembership.istat_code == comune)
    assert len(periods) == 1 and periods[0]["ambito"] == first.ambito_id
    await merge_ambiti(first.code, second.code)
    with pytest.raises(Conflict, match="already deactivated"):
        await merge_ambiti(first.code, second.code)
    with pytest.raises(Conflict, match="deactivated"):
        await move_comuni([comune], first.code)


async def test_a_comune_added_by_the_udp_takes_its_name_from_istat(client) -> None:
    tenant = await make_tenant()
    named, unnamed = await free_comuni(2)
    for body in (
        {"istat_code": named, "name": "Un nome inventato", "population": 1200},
        {"istat_code": unnamed},
    ):
        response = await client.post(
            f"/api/ambiti/{tenant.code}/comuni", json=body, headers=tenant.headers(Role.UDP_ADMIN)
        )
        assert response.status_code == 201, response.text
    listed = {c["istat_code"]: c for c in response.json()["comuni"]}
    assert listed[named]["name"] == geo.comune(named).name  # type: ignore[union-attr]
    assert listed[named]["population"] == 1200
    assert listed[unnamed]["name"] == geo.comune(unnamed).name  # type: ignore[union-attr]


async def test_cli_move_merge_split(app: object) -> None:
    codes = [ambito_code() for _ in range(3)]
    comuni = await free_comuni(4)
    for code, mine in ((codes[0], comuni[:2]), (codes[1], comuni[2:])):
        done = await registry(
            "ambito", "create", code, "--name", code, "--region", "L", "--comuni", ",".join(mine)
        )
        assert done.returncode == 0, done.stderr
    moved = await registry("ambito", "move", comuni[0], "--to", codes[1], "--on", "2020-13-01")
    assert moved.returncode == 2 and "not a date" in moved.stderr
    moved = await registry("ambito", "move", comuni[0], "--to", codes[1])
    assert moved.returncode == 0, moved.stderr
    assert f"moved to {codes[1]}" in moved.stdout
    split = await registry(
        "ambito", "split", codes[1], "--into", codes[2], "--name", "Nuovo", "--comuni", comuni[0]
    )
    assert split.returncode == 0, split.stderr
    merged = await registry("ambito", "merge", codes[0], "--into", codes[2])
    assert merged.returncode == 0, merged.stderr
    assert f"ambito {codes[0]} is deactivated" in merged.stdout
    shown = await registry("ambito", "show", codes[2])
    assert shown.returncode == 0
    # The travelling comune's whole path: created in 0, moved to 1, split off into 2.
    path = [
        line.split()[1] for line in shown.stdout.splitlines() if line.startswith(f"  {comuni[0]}")
    ]
    assert path[-3:] == [codes[0], codes[1], codes[2]]
    deactivated = await registry("ambito", "deactivate", codes[2])
    assert deactivated.returncode == 0 and "deactivated" in deactivated.stdout
    again = await registry("ambito", "activate", codes[0])
    assert again.returncode == 2 and f"merged into '{codes[2]}'" in again.stderr


# --- the platform admin's API ---------------------------------------------------------------


async def test_platform_admin_creates_an_ambito_and_its_first_udp(
    client: httpx.AsyncClient,
) -> None:
    headers = await platform_headers(client)
    code = ambito_code()
    comuni = await free_comuni(2)
    response = await client.post(
        "/api/platform/ambiti",
        json={"code": code, "name": "Ambito via API", "region": "Piemonte", "comuni": comuni},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ambito"]["code"] == code and body["ambito"]["comuni_count"] == 2
    assert sorted(c["istat_code"] for c in body["comuni"]) == sorted(comuni)
    assert body["users"] == {}

    username = f"udp-{code.lower()}"
    response = await client.post(
        f"/api/platform/ambiti/{code}/udp-admin",
        json={"username": username, "password": "una-password-lunga"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "udp_admin"
    again = await client.post(
        f"/api/platform/ambiti/{code}/udp-admin",
        json={"username": f"{username}-2", "password": "una-password-lunga"},
        headers=headers,
    )
    assert again.status_code == 409

    # The new UdP works in its ambito: it logs in, sees it, adds its users.
    logged = await login(client, username, "una-password-lunga")
    assert logged.status_code == 200, logged.text
    udp = {"Authorization": f"Bearer {logged.json()['access_token']}"}
    mine = await client.get("/api/ambiti", headers=udp)
    assert [a["code"] for a in mine.json()] == [code]
    added = await client.post(
        "/api/users",
        json={
            "username": f"as-{code.lower()}",
            "password": "una-password-lunga",
            "role": "social_worker",
        },
        headers=udp,
    )
    assert added.status_code == 201, added.text

    listed = await client.get("/api/platform/ambiti", headers=headers)
    assert listed.status_code == 200
    assert code in [a["code"] for a in listed.json()]
    detail = await client.get(f"/api/platform/ambiti/{code}", headers=headers)
    assert detail.json()["users"] == {"social_worker": 1, "udp_admin": 1}


async def test_platform_api_refuses_bad_input_with_4xx(client: httpx.AsyncClient) -> None:
    headers = await platform_headers(client)
    comuni = await free_comuni(1)
    code = ambito_code()
    cases = [
        ({"code": code, "name": "x", "region": "L", "comuni": ["13005"]}, 400, "comuni[0]"),
        ({"code": code, "name": "x", "region": "L", "province": "ZZ"}, 400, "province"),
        ({"code": "minuscolo", "name": "x", "region": "L"}, 400, "code"),
        ({"code": code, "name": "", "region": "L"}, 400, "name"),
        ({"code": code, "name": "x", "region": "L", "extra": 1}, 400, "extra"),
        (
            {"code": code, "name": "x", "region": "L", "comuni": [comuni[0], comuni[0]]},
            400,
            "twice",
        ),
    ]
    for body, status, named in cases:
        response = await client.post("/api/platform/ambiti", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert named in response.text
    assert not await Ambito.exists().where(Ambito.code == code)
    assert not await Comune.exists().where(Comune.istat_code == comuni[0])
    created = await client.post(
        "/api/platform/ambiti",
        json={"code": code, "name": "x", "region": "L", "comuni": comuni},
        headers=headers,
    )
    assert created.status_code == 201
    duplicate = await client.post(
        "/api/platform/ambiti", json={"code": code, "name": "x", "region": "L"}, headers=headers
    )
    assert duplicate.status_code == 409
    missing = await client.get("/api/platform/ambiti/NESSUNO", headers=headers)
    assert missing.status_code == 404
    empty = await client.patch(f"/api/platform/ambiti/{code}", json={}, headers=headers)
    assert empty.status_code == 400
    future = (italian.today() + timedelta(days=3)).isoformat()
    move = await client.post(
        "/api/platform/comuni/move",
        json={"comuni": comuni, "to": code, "on": future},
        headers=headers,
    )
    assert move.status_code == 400 and "future" in move.text


async def test_deactivated_ambito_users_cannot_log_in_nor_use_tokens(
    client: httpx.AsyncClient,
) -> None:
    headers = await platform_headers(client)
    tenant = await make_tenant()
    username = tenant.usernames[Role.SOCIAL_WORKER]
    logged = await login(client, username, PASSWORD)
    assert logged.status_code == 200
    token = {"Authorization": f"Bearer {logged.json()['access_token']}"}
    assert (await client.get("/api/holders", headers=token)).status_code == 200

    off = await client.patch(
        f"/api/platform/ambiti/{tenant.code}", json={"active": False}, headers=headers
    )
    assert off.status_code == 200 and off.json()["active"] is False
    assert (await client.get("/api/holders", headers=token)).status_code == 401
    assert (
        await client.get("/api/holders", headers=tenant.headers(Role.UDP_ADMIN))
    ).status_code == 401
    assert (await login(client, username, PASSWORD)).status_code == 401
    # Nothing was deleted: the records wait for a reactivation (or an export).
    assert await record_counts(tenant.ambito_id) != {}
    assert (await record_counts(tenant.ambito_id))["holder"] == 2

    on = await client.patch(
        f"/api/platform/ambiti/{tenant.code}", json={"active": True}, headers=headers
    )
    assert on.status_code == 200 and on.json()["active"] is True
    assert (await login(client, username, PASSWORD)).status_code == 200
    assert (
        await client.get("/api/holders", headers=tenant.headers(Role.UDP_ADMIN))
    ).status_code == 200


async def test_platform_login_and_tokens(client: httpx.AsyncClient) -> None:
    username = f"platform-{uuid.uuid4().hex[:10]}"
    await platform.create_platform_admin(username, PASSWORD)
    wrong = await client.post(
        "/api/platform/token", json={"username": username, "password": "sbagliata-davvero"}
    )
    assert wrong.status_code == 401
    # An ambito user cannot log in here, and a platform admin has no ambito login.
    tenant = await make_tenant()
    as_user = await client.post(
        "/api/platform/token",
        json={"username": tenant.usernames[Role.UDP_ADMIN], "password": PASSWORD},
    )
    assert as_user.status_code == 401
    assert (await login(client, username, PASSWORD)).status_code == 401
    headers = await platform_headers(client)
    assert (await client.get("/api/platform/ambiti", headers=headers)).status_code == 200
    # A name is one account: platform admins and ambito users share the namespace.
    from registry.errors import Conflict

    with pytest.raises(Conflict):
        await platform.create_platform_admin(tenant.usernames[Role.VOLUNTEER], PASSWORD)
    own = await client.post(
        "/api/platform/token", json={"username": username, "password": PASSWORD}
    )
    own_headers = {"Authorization": f"Bearer {own.json()['access_token']}"}
    assert (await client.get("/api/platform/ambiti", headers=own_headers)).status_code == 200
    await platform.set_platform_admin_active(username, False)
    # Its token ends at once, and it cannot log in again.
    assert (await client.get("/api/platform/ambiti", headers=own_headers)).status_code == 401
    refused = await client.post(
        "/api/platform/token", json={"username": username, "password": PASSWORD}
    )
    assert refused.status_code == 401


async def test_a_deactivated_ambito_leaves_public_service_and_the_jobs(
    client: httpx.AsyncClient,
) -> None:
    from datetime import UTC, datetime

    from registry.scheduled_jobs import in_service

    headers = await platform_headers(client)
    tenant = await make_tenant()
    feed = await client.post(
        "/api/interop/feeds",
        json={"kind": "holder", "holder_id": str(tenant.holder_id), "label": "Telefono"},
        headers=tenant.headers(Role.HOLDER_MANAGER),
    )
    assert feed.status_code == 201, feed.text
    feed_path = "/" + feed.json()["url"].split("://", 1)[1].split("/", 1)[1]
    public = [
        f"/api/hsds/{tenant.code}/services",
        f"/api/hsds/{tenant.code}/organizations",
        feed_path,
    ]
    for path in public:
        assert (await client.get(path)).status_code == 200, path
    assert tenant.ambito_id in await in_service([tenant.ambito_id])

    off = await client.patch(
        f"/api/platform/ambiti/{tenant.code}", json={"active": False}, headers=headers
    )
    assert off.status_code == 200
    for path in public:
        assert (await client.get(path)).status_code == 404, path
    # The scheduled jobs skip it: no reminders, re-matching or snapshots for a closed ambito.
    assert await in_service([tenant.ambito_id]) == []
    assert tenant.ambito_id not in await in_service(None)
    from registry import scheduled_jobs
    from registry.config import load_settings

    run = await scheduled_jobs.run_job(
        "freshness", load_settings(), now=datetime.now(UTC), ambito_ids=[tenant.ambito_id]
    )
    assert run.status == "ok" and run.summary == scheduled_jobs.NONE_IN_SERVICE

    on = await client.patch(
        f"/api/platform/ambiti/{tenant.code}", json={"active": True}, headers=headers
    )
    assert on.status_code == 200
    for path in public:
        assert (await client.get(path)).status_code == 200, path
