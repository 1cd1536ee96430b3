"""The regional observer (issue 13): accounts made by a platform admin, a login of its own,
only the ambiti of its region, the same published figures as each ambito's dashboard, rates
per 1,000 residents withheld with their numerator, the export, and 403 everywhere else."""

from __future__ import annotations

import io
import random
import re
import uuid
from collections import Counter
from typing import Any

import httpx
import openpyxl
import pytest

from registry import geo
from registry.access import Role
from registry.ambiti.tables import Ambito, Comune
from registry.region.regions import region_of_comune
from tests.conftest import PASSWORD, Tenant, make_tenant
from tests.metrics_data import build
from tests.test_ambiti_admin import platform_headers, registry
from tests.test_authorization_matrix import _authenticated_routes, _sample_path

U, S = Role.UDP_ADMIN, Role.SOCIAL_WORKER
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}
AOSTA, MOLISE = "02", "14"
_pick = random.Random()


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "5")


async def regional_tenant(
    province: str, populations: tuple[int | None, ...] = (3000, 1000)
) -> Tenant:
    """A test ambito whose two comuni are real comuni of `province` (so of its region), with
    these populations."""
    taken = {row["istat_code"] for row in await Comune.select(Comune.istat_code)}
    free = [p.istat_code for p in geo.comuni_of_province(province) if p.istat_code not in taken]
    tenant = await make_tenant()
    chosen = _pick.sample(free, 2)
    for old, new, population in zip(tenant.comuni, chosen, populations, strict=True):
        await Comune.update(
            {
                Comune.istat_code: new,
                Comune.name: geo.comune(new).name,
                Comune.population: population,
            }  # type: ignore[union-attr]
        ).where(Comune.istat_code == old)
    tenant.comuni = chosen
    return tenant


async def observer_headers(
    client: httpx.AsyncClient, region: str, admin: dict[str, str] | None = None
) -> dict[str, str]:
    admin = admin or await platform_headers(client)
    username = f"regione-{uuid.uuid4().hex[:10]}"
    response = await client.post(
        "/api/platform/regional-observers",
        json={"username": username, "password": PASSWORD, "region": region},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    response = await client.post(
        "/api/region/token", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def row_of(body: dict[str, Any], code: str) -> dict[str, Any]:
    rows = [r for r in body["ambiti"] if r["code"] == code]
    assert len(rows) == 1, f"{code} not listed once"
    return rows[0]


# --- accounts and login -------------------------------------------------------------------


async def test_platform_admin_creates_an_observer_who_logs_in_to_its_region(client) -> None:
    admin = await platform_headers(client)
    username = f"osservatorio-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": PASSWORD, "region": "03"}
    created = await client.post("/api/platform/regional-observers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["region_name"] == "Lombardia"
    again = await client.post("/api/platform/regional-observers", json=body, headers=admin)
    assert again.status_code == 409
    listed = await client.get("/api/platform/regional-observers", headers=admin)
    assert username in {o["username"] for o in listed.json()}

    login = await client.post(
        "/api/region/token", json={"username": username, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert (login.json()["role"], login.json()["region"]) == ("regional_observer", "03")
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = await client.get("/api/region/me", headers=headers)
    assert me.json()["region_name"] == "Lombardia"

    wrong = await client.post(
        "/api/region/token", json={"username": username, "password": "nope-nope"}
    )
    assert wrong.status_code == 401
    # An observer's name is not an ambito login, and the other way round.
    assert (
        await client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    ).status_code == 401

    off = await client.patch(
        f"/api/platform/regional-observers/{username}", json={"active": False}, headers=admin
    )
    assert off.status_code == 200 and off.json()["active"] is False
    assert (await client.get("/api/region/me", headers=headers)).status_code == 401


async def test_observer_input_is_checked(client, tenant: Tenant) -> None:
    admin = await platform_headers(client)
    for region in ("21", "3", "00", "Lombardia"):
        response = await client.post(
            "/api/platform/regional-observers",
            json={"username": f"r-{uuid.uuid4().hex[:8]}", "password": PASSWORD, "region": region},
            headers=admin,
        )
        assert response.status_code == 400, region
    taken = await client.post(
        "/api/platform/regional-observers",
        json={"username": tenant.usernames[U], "password": PASSWORD, "region": "03"},
        headers=admin,
    )
    assert taken.status_code == 409
    missing = await client.patch(
        "/api/platform/regional-observers/nobody-here", json={"active": True}, headers=admin
    )
    assert missing.status_code == 404
    headers = await observer_headers(client, AOSTA, admin)
    for query in (
        {"from": "2025-01-15", "to": "2025-12-31"},
        {"from": "2025-01-01"},
        {"from": "2026-13-01", "to": "2026-12-31"},
    ):
        assert (
            await client.get("/api/region/ambiti", params=query, headers=headers)
        ).status_code == 400
    bad = await client.get("/api/region/ambiti/export", params={"format": "pdf"}, headers=headers)
    assert bad.status_code == 400


async def test_cli_creates_an_observer(client) -> None:
    username = f"regione-cli-{uuid.uuid4().hex[:6]}"
    done = await registry(
        "region-observer", "add", username, "--region", "14", stdin=f"{PASSWORD}\n"
    )
    assert done.returncode == 0, done.stderr
    assert "Molise" in done.stdout
    login = await client.post(
        "/api/region/token", json={"username": username, "password": PASSWORD}
    )
    assert login.status_code == 200 and login.json()["region"] == "14"
    refused = await registry(
        "region-observer", "add", f"x-{username}", "--region", "99", stdin=f"{PASSWORD}\n"
    )
    assert refused.returncode == 2 and "region" in refused.stderr
    off = await registry("region-observer", "deactivate", username)
    assert off.returncode == 0, off.stderr
    again = await client.post(
        "/api/region/token", json={"username": username, "password": PASSWORD}
    )
    assert again.status_code == 401


# --- who may read what --------------------------------------------------------------------


async def test_observer_lists_only_the_ambiti_of_its_region(client) -> None:
    first, second = await regional_tenant("AO"), await regional_tenant("AO")
    elsewhere = await regional_tenant("CB")
    headers = await observer_headers(client, AOSTA)
    response = await client.get("/api/region/ambiti", params=YEAR, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["region_name"].startswith("Valle d'Aosta")
    codes = {r["code"] for r in body["ambiti"]}
    assert {first.code, second.code} <= codes
    assert elsewhere.code not in codes
    for row in body["ambiti"]:
        # An ambito belongs to the region of most of its comuni of today's ISTAT list (other
        # tests make ambiti with made-up comuni, or across regions: only the majority decides).
        ambito = await Ambito.select(Ambito.id).where(Ambito.code == row["code"]).first()
        codes = await Comune.select(Comune.istat_code).where(Comune.ambito == ambito["id"])
        regions = Counter(region_of_comune(c["istat_code"]) for c in codes)
        regions.pop(None, None)
        assert regions and max(regions.values()) == regions[AOSTA], (row["code"], regions)

    molise = await observer_headers(client, MOLISE)
    other = (await client.get("/api/region/ambiti", params=YEAR, headers=molise)).json()
    assert elsewhere.code in {r["code"] for r in other["ambiti"]}
    assert first.code not in {r["code"] for r in other["ambiti"]}


async def test_observer_is_refused_by_every_other_endpoint(
    app: Any, client, tenant: Tenant
) -> None:
    headers = await observer_headers(client, AOSTA)
    routes = [r for r in _authenticated_routes(app) if not r[1].startswith("/api/region/")]
    assert len(routes) > 50
    wrong = {}
    for method, template in routes:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = await client.request(method, _sample_path(template), json=body, headers=headers)
        if response.status_code != 403:
            wrong[f"{method} {template}"] = response.status_code
    assert wrong == {}
    # ...and the region's endpoints refuse everyone else.
    platform = await platform_headers(client)
    for who in (tenant.headers(U), tenant.headers(S), platform):
        for path in ("/api/region/ambiti", "/api/region/ambiti/export", "/api/region/me"):
            assert (await client.get(path, headers=who)).status_code == 403, path
    assert (await client.get("/api/region/ambiti")).status_code == 401


# --- the figures ---------------------------------------------------------------------------


async def test_the_figures_are_the_ambito_dashboards_with_rates_per_1000(client) -> None:
    tenant = await regional_tenant("AO", (3000, 1000))
    await build(tenant)
    headers = await observer_headers(client, AOSTA)
    body = (await client.get("/api/region/ambiti", params=YEAR, headers=headers)).json()
    row = row_of(body, tenant.code)
    dashboard = await client.get("/api/metrics/summary", params=YEAR, headers=tenant.headers(S))
    head = dashboard.json()["headline"]
    assert row["residents"] == 4000
    assert row["hours_community"] == head["hours_community"] == 12.0
    assert row["hours_per_1000"] == 3.0  # 12 h over 4,000 residents
    assert row["community_value_eur"] == head["community_value"]["amount_eur"]
    assert row["value_eur_per_1000"] == round(head["community_value"]["amount_eur"] / 4, 2)
    assert row["leverage_ratio"] == head["leverage_ratio"]
    assert row["needs"] == head["needs"]
    assert row["share_resources_confirmed_90_days"] == head["share_resources_confirmed_90_days"]
    # A cell the dashboard withholds is withheld here too, and said so.
    for field in ("share_needs_community_only", "share_needs_none"):
        assert row[field] == head[field]
        assert (row[field] is None) == (field in row["withheld"])
    # The ambito's own dashboard shows the same row.
    own = await client.get("/api/gap-map/rates", params=YEAR, headers=tenant.headers(U))
    assert own.status_code == 200
    assert own.json()["hours_per_1000"] == 3.0


async def test_a_rate_is_withheld_with_its_numerator(client, monkeypatch) -> None:
    tenant = await regional_tenant("AO", (3000, 1000))
    await build(tenant)
    # Six volunteers are fewer than 10: the dashboard withholds the hours, so the rate goes.
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "10")
    dashboard = await client.get("/api/metrics/summary", params=YEAR, headers=tenant.headers(S))
    assert dashboard.json()["headline"]["hours_community"] is None
    headers = await observer_headers(client, AOSTA)
    body = (await client.get("/api/region/ambiti", params=YEAR, headers=headers)).json()
    row = row_of(body, tenant.code)
    assert row["hours_community"] is None and row["hours_per_1000"] is None
    assert {"hours_community", "hours_per_1000"} <= set(row["withheld"])
    assert row["residents"] == 4000
    assert "12" not in str(row["hours_per_1000"])


async def test_no_rate_without_the_population_of_every_comune(client) -> None:
    tenant = await regional_tenant("AO", (3000, None))
    await build(tenant)
    missing = geo.comune(tenant.comuni[1]).name  # type: ignore[union-attr]
    headers = await observer_headers(client, AOSTA)
    row = row_of(
        (await client.get("/api/region/ambiti", params=YEAR, headers=headers)).json(), tenant.code
    )
    assert row["hours_community"] == 12.0
    assert row["residents"] is None
    assert row["hours_per_1000"] is None and row["value_eur_per_1000"] is None
    assert row["comuni_without_population"] == [missing]
    assert any(missing in note for note in row["notes"])
    # Not a withheld cell: nothing to hide, just no population.
    assert "hours_per_1000" not in row["withheld"]


async def test_export_csv_for_italian_excel_and_xlsx(client) -> None:
    tenant = await regional_tenant("AO", (3000, 1000))
    await build(tenant)
    headers = await observer_headers(client, AOSTA)
    response = await client.get(
        "/api/region/ambiti/export", params={**YEAR, "format": "csv"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Ambito;Codice ambito;Comuni;Residenti;Ore dei volontari;")
    line = next(x for x in lines if f";{tenant.code};" in x)
    cells = line.split(";")
    assert cells[0] == f"Ambito di prova {tenant.code}"
    assert geo.comune(tenant.comuni[0]).name in cells[2]  # type: ignore[union-attr]
    assert cells[3] == "4000"
    assert cells[5] == "3"  # hours per 1,000 residents
    assert re.fullmatch(r"\d+,\d+", cells[6])  # the community value with a decimal comma

    xlsx = await client.get(
        "/api/region/ambiti/export", params={**YEAR, "format": "xlsx"}, headers=headers
    )
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Ambito", "Codice ambito")
    mine = next(r for r in rows if r[1] == tenant.code)
    assert mine[3] == 4000 and mine[5] == 3.0
