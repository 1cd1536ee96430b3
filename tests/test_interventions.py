"""Funded interventions: CRUD, and the all-or-nothing import from CSV and XLSX."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from registry.access import Role
from registry.interventions.tables import FundedIntervention
from registry.tabular.reading import read_table
from tests.conftest import Tenant
from tests.test_contributions import make_match

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


def body(tenant: Tenant, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": f"SAD-{uuid.uuid4().hex[:6]}",
        "title": "Servizio di assistenza domiciliare",
        "fund_source": "national",
        "user_area": "anziani",
        "fnps_level": "home_care",
        "comuni": tenant.comuni,
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "committed_cents": 12_000_000,
        "spent_cents": 4_500_000,
        "hours_delivered": 1250.5,
        "beneficiaries": 42,
    }
    values.update(extra)
    return values


async def count(tenant: Tenant) -> int:
    return await FundedIntervention.count().where(FundedIntervention.ambito == tenant.ambito_id)


async def test_udp_writes_and_social_workers_read(client, tenant: Tenant) -> None:
    response = await client.post("/api/interventions", json=body(tenant), headers=tenant.headers(U))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["fnps_level_label"].startswith("Misure per favorire la permanenza")
    assert created["fund_source_label"] == "Fondi nazionali"
    assert created["user_area_label"] == "Anziani"
    assert created["hours_delivered"] == 1250.5 and created["spent_cents"] == 4_500_000
    path = f"/api/interventions/{created['id']}"
    seen = await client.get(path, headers=tenant.headers(S))
    assert seen.status_code == 200 and seen.json() == created
    listed = await client.get(
        "/api/interventions",
        params={"year": 2026, "fnps_level": "home_care"},
        headers=tenant.headers(S),
    )
    assert [i["id"] for i in listed.json()["items"]] == [created["id"]]
    none = await client.get("/api/interventions", params={"year": 2024}, headers=tenant.headers(S))
    assert none.json()["total"] == 0
    changed = await client.patch(path, json={"spent_cents": 6_000_000}, headers=tenant.headers(U))
    assert changed.status_code == 200 and changed.json()["spent_cents"] == 6_000_000
    for role in (S, H, V):
        assert (
            await client.patch(path, json={"beneficiaries": 1}, headers=tenant.headers(role))
        ).status_code == 403
    for role in (H, V):
        assert (await client.get(path, headers=tenant.headers(role))).status_code == 403
    assert (await client.delete(path, headers=tenant.headers(S))).status_code == 403
    assert (await client.delete(path, headers=tenant.headers(U))).status_code == 204
    assert (await client.get(path, headers=tenant.headers(U))).status_code == 404


async def test_plans_it_serves(client, tenant: Tenant) -> None:
    link = await make_match(tenant)
    response = await client.post(
        "/api/interventions",
        json=body(tenant, plan_ids=[str(link["plan"])]),
        headers=tenant.headers(U),
    )
    assert response.status_code == 201 and response.json()["plan_ids"] == [str(link["plan"])]


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"period_end": "2025-12-31"}, "period_end", 400),
        ({"spent_cents": 99_000_000}, "spent_cents", 400),
        ({"comuni": ["999999"]}, "comuni[0]", 400),
        ({"plan_ids": [str(uuid.uuid4())]}, "plan_ids[0]", 400),
        ({"fund_source": "lottery"}, "fund_source", 400),
        ({"fnps_level": "other"}, "fnps_level", 400),
        ({"committed_cents": -1}, "committed_cents", 400),
        ({"title": ""}, "title", 400),
        ({"period_start": "2026-13-01"}, "period_start", 400),
    ],
)
async def test_bad_input_names_the_field(client, tenant: Tenant, change, field, status) -> None:
    response = await client.post(
        "/api/interventions", json=body(tenant, **change), headers=tenant.headers(U)
    )
    assert response.status_code == status, response.text
    assert field in response.text
    assert await count(tenant) == 0


async def test_codes_are_unique_in_the_ambito(client, tenant: Tenant) -> None:
    first = body(tenant)
    assert (
        await client.post("/api/interventions", json=first, headers=tenant.headers(U))
    ).status_code == 201
    again = await client.post("/api/interventions", json=first, headers=tenant.headers(U))
    assert again.status_code == 409 and again.json()["field"] == "code"


# --- import ---------------------------------------------------------------------------------

HEADER_IT = ";".join(
    [
        "codice",
        "titolo",
        "fonte",
        "area_utenza",
        "macro_livello",
        "comuni",
        "data_inizio",
        "data_fine",
        "impegnato",
        "speso",
        "ore_erogate",
        "beneficiari",
    ]
)
TAIL = "2026-01-01;2026-12-31;100;50;10;1"  # period, euro, hours, beneficiaries of a good row


def good_csv(tenant: Tenant, prefix: str) -> bytes:
    a, b = tenant.comuni
    lines = [
        HEADER_IT,
        f"{prefix}-1;Assistenza domiciliare anziani;Fondi nazionali;anziani;home_care;{a};"
        '2026-01-01;2026-12-31;"120.000,00";"45.000,50";1250;42',
        f"{prefix}-2;Centro diurno disabili;regional;disabili;residential;{a}, {b};"
        "2026-01-01;2026-06-30;80000;80000;3000,5;15",
        f"{prefix}-3;Sportello inclusione;eu_pnrr;poverta-disagio-adulti;inclusion_income;;"
        "2026-03-01;2027-02-28;1.000.000;0;0;0",
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


async def post_file(
    client: httpx.AsyncClient, tenant: Tenant, data: bytes, role: Role = U, **params: Any
) -> httpx.Response:
    return await client.post(
        "/api/interventions/import",
        content=data,
        params=params,
        headers={**tenant.headers(role), "Content-Type": "text/csv"},
    )


async def test_a_good_csv_imports_every_row(client, tenant: Tenant) -> None:
    response = await post_file(client, tenant, good_csv(tenant, "A"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows_read"], report["created"], report["updated"], report["rejected"]) == (
        3,
        3,
        0,
        0,
    )
    assert report["errors"] == []
    listed = await client.get("/api/interventions", params={"q": "A-1"}, headers=tenant.headers(U))
    first = listed.json()["items"][0]
    assert first["committed_cents"] == 12_000_000 and first["spent_cents"] == 4_500_050
    assert first["fund_source"] == "national"
    second = (
        await client.get("/api/interventions", params={"q": "A-2"}, headers=tenant.headers(U))
    ).json()["items"][0]
    assert second["comuni"] == tenant.comuni and second["hours_delivered"] == 3000.5
    # The same file again updates the rows it names by code: no duplicates.
    again = (await post_file(client, tenant, good_csv(tenant, "A"))).json()
    assert (again["created"], again["updated"]) == (0, 3)
    assert await count(tenant) == 3


async def test_a_csv_with_bad_rows_imports_nothing_and_lists_them(client, tenant: Tenant) -> None:
    a = tenant.comuni[0]
    lines = [
        HEADER_IT,
        f"B-1;Buona riga;national;anziani;home_care;{a};2026-01-01;2026-12-31;100;50;10;1",
        f"B-2;Fonte sbagliata;lotteria;anziani;home_care;{a};2026-01-01;2026-12-31;100;50;10;1",
        f"B-3;Date invertite;national;anziani;home_care;{a};2026-12-31;2026-01-01;100;50;10;1",
        "B-4;Comune estraneo;national;anziani;home_care;999999;" + TAIL,
        f"B-5;Speso troppo;national;anziani;home_care;{a};2026-01-01;2026-12-31;100;150;10;1",
        f";;national;anziani;home_care;{a};2026-01-01;2026-12-31;100;50;10;1",
        f"B-7;Centesimi;national;anziani;home_care;{a};2026-01-01;2026-12-31;10,555;0;10;1",
        f"B-1;Codice ripetuto;national;anziani;home_care;{a};2026-01-01;2026-12-31;100;50;10;1",
        f"B-9;Data illeggibile;national;anziani;home_care;{a};31 febbraio;2026-12-31;100;50;10;1",
    ]
    response = await post_file(client, tenant, "\n".join(lines).encode())
    assert response.status_code == 422, response.text
    report = response.json()
    assert (report["rows_read"], report["created"], report["rejected"]) == (9, 0, 8)
    found = {(e["line"], e["field"]) for e in report["errors"]}
    assert found == {
        (3, "fund_source"),
        (4, "period_end"),
        (5, "comuni[0]"),
        (6, "euro_spent"),
        (7, "title"),
        (8, "euro_committed"),
        (9, "code"),
        (10, "period_start"),
    }
    assert all(e["message"] for e in report["errors"])
    assert await count(tenant) == 0


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def test_xlsx_import_good_and_bad(client, tenant: Tenant) -> None:
    from datetime import date

    header = [
        "Code",
        "Title",
        "Fund source",
        "User area",
        "FNPS level",
        "Comuni",
        "Period start",
        "Period end",
        "Euro committed",
        "Euro spent",
        "Hours delivered",
        "Beneficiaries",
    ]
    good = [
        header,
        [
            "X-1",
            "Trasporto sociale",
            "municipal",
            "Disabili",
            "access_taking_charge",
            tenant.comuni[0],
            date(2026, 1, 1),
            date(2026, 12, 31),
            15000.5,
            12000,
            800,
            25,
        ],
        [
            "X-2",
            "Nido comunale",
            "other",
            "famiglie-minori",
            "early_childhood_community",
            None,
            date(2026, 9, 1),
            date(2027, 7, 31),
            200000,
            0,
            0,
            60,
        ],
    ]
    response = await post_file(client, tenant, xlsx(good))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    first = (
        await client.get("/api/interventions", params={"q": "X-1"}, headers=tenant.headers(S))
    ).json()["items"][0]
    assert first["committed_cents"] == 1_500_050 and first["user_area"] == "disabili"

    bad = [
        header,
        [
            "X-3",
            "Riga buona",
            "national",
            "anziani",
            "home_care",
            None,
            date(2026, 1, 1),
            date(2026, 2, 1),
            1,
            1,
            1,
            1,
        ],
        [
            "X-4",
            "Ore negative",
            "national",
            "anziani",
            "home_care",
            None,
            date(2026, 1, 1),
            date(2026, 2, 1),
            1,
            1,
            -5,
            1,
        ],
        [None, None, None, None, None, None, None, None, None, None, None, None],
        [
            "X-5",
            "Beneficiari",
            "national",
            "anziani",
            "home_care",
            None,
            date(2026, 1, 1),
            date(2026, 2, 1),
            1,
            1,
            1,
            "molti",
        ],
    ]
    response = await post_file(client, tenant, xlsx(bad))
    assert response.status_code == 422
    assert {(e["line"], e["field"]) for e in response.json()["errors"]} == {
        (3, "hours_delivered"),
        (5, "beneficiaries"),
    }
    assert await count(tenant) == 2


async def test_dry_run_writes_nothing(client, tenant: Tenant) -> None:
    response = await post_file(client, tenant, good_csv(tenant, "D"), dry_run="true")
    assert response.status_code == 200
    assert response.json()["dry_run"] is True and response.json()["created"] == 3
    assert await count(tenant) == 0


async def test_export_then_import_round_trip(client, tenant: Tenant) -> None:
    await post_file(client, tenant, good_csv(tenant, "E"))
    for fmt in ("xlsx", "csv"):
        exported = await client.get(
            "/api/interventions/export", params={"format": fmt}, headers=tenant.headers(S)
        )
        assert exported.status_code == 200
        assert f"interventi.{fmt}" in exported.headers["content-disposition"]
        assert len(read_table(exported.content).rows) == 3
        response = await post_file(client, tenant, exported.content)
        assert response.status_code == 200, response.text
        assert (response.json()["created"], response.json()["updated"]) == (0, 3)
    assert await count(tenant) == 3


async def test_template_lists_the_allowed_values(client, tenant: Tenant) -> None:
    response = await client.get("/api/interventions/template", headers=tenant.headers(U))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Interventi", "Valori ammessi"]
    values = {row[1] for row in workbook["Valori ammessi"].iter_rows(values_only=True)}
    assert {"eu_pnrr", "inclusion_income", "anziani"} <= values


async def test_only_the_udp_imports_and_unreadable_files_are_400(client, tenant: Tenant) -> None:
    for role in (S, H, V):
        assert (await post_file(client, tenant, good_csv(tenant, "F"), role)).status_code == 403
    response = await post_file(client, tenant, b"")
    assert response.status_code == 400 and response.json()["field"] == "file"
    response = await post_file(client, tenant, b"PK\x03\x04broken")
    assert response.status_code == 400 and response.json()["field"] == "file"
    response = await post_file(client, tenant, b"titolo;colore\nA;rosso\n")
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"colore", "fund_source"}
    assert await count(tenant) == 0


async def test_template_has_italian_headers_and_an_example_to_replace(
    client, tenant: Tenant
) -> None:
    answer = await client.get("/api/interventions/template?format=xlsx", headers=tenant.headers(U))
    sheet = load_workbook(io.BytesIO(answer.content))["Interventi"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:4] == ("codice", "titolo", "descrizione", "fonte_finanziamento")
    assert "data_inizio" in header and "euro_spesi" in header
    [example] = rows
    assert example[0] == "ESEMPIO-DA-SOSTITUIRE" and str(example[1]).startswith("ESEMPIO")

    # Uploaded untouched: refused, saying the example row must be replaced; nothing written.
    for dry_run in (True, False):
        response = await client.post(
            "/api/interventions/import",
            content=answer.content,
            params={"filename": "interventi-modello.xlsx", "dry_run": dry_run},
            headers={**tenant.headers(U), "Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "code" and "riga di esempio" in error["message"]
    assert await count(tenant) == 0

    # The same row with its own code is an intervention like any other: the Italian
    # headers and labels of the template are read back.
    sheet.cell(row=2, column=1, value="SAD-2026")
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    response = await client.post(
        "/api/interventions/import",
        content=buffer.getvalue(),
        params={"filename": "interventi.xlsx"},
        headers={**tenant.headers(U), "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["rows_read"], response.json()["created"]) == (1, 1)

    csv = await client.get("/api/interventions/template?format=csv", headers=tenant.headers(U))
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("codice,titolo,") and lines[1].startswith("ESEMPIO-DA-SOSTITUIRE")
