"""Spreadsheets of holders and resources: bulk import (CSV and XLSX, row-level errors,
all or nothing, dry run) through registry/tabular/, and the exports of every list."""

from __future__ import annotations

import io
import uuid

from openpyxl import load_workbook

from registry.access import Role
from registry.holders.tables import Holder
from registry.resources.tables import Resource
from registry.tabular import reading, writing
from tests.conftest import Tenant
from tests.fixtures.interop import partita_iva

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


async def upload(
    client, tenant: Tenant, role: Role, what: str, data: bytes, name: str, dry_run=False
):
    response = await client.post(
        f"/api/interop/{what}/import" + ("?dry_run=true" if dry_run else ""),
        files={"file": (name, data, "application/octet-stream")},
        headers=tenant.headers(role),
    )
    return response


def holders_csv(tenant: Tenant, *rows: str) -> bytes:
    header = (
        "tipo;settore;nome;indirizzo;comune_sede;comuni_serviti;aree;email;telefono;codice_fiscale"
    )
    return ("\n".join([header, *rows]) + "\n").encode()


async def test_holders_csv_good_rows(client, tenant: Tenant) -> None:
    c1, c2 = tenant.comuni
    data = holders_csv(
        tenant,
        f"association;third_sector;Banco alimentare {tenant.code};Via Roma 1;{c1};{c1}, {c2};"
        f"anziani;info@banco.example.org;+39 031 111;{partita_iva()}",
        f"Parrocchia;Terzo settore;Parrocchia San Carlo {tenant.code};;Comune {c2};Comune {c2};"
        "Famiglie e minori;;;",
    )
    dry = await upload(client, tenant, U, "holders", data, "enti.csv", dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json() == {
        "rows_read": 2,
        "created": 2,
        "updated": 0,
        "rejected": 0,
        "errors": [],
        "warnings": [],
        "dry_run": True,
    }
    before = await Holder.count().where(Holder.ambito == tenant.ambito_id)
    assert before == 2
    done = await upload(client, tenant, U, "holders", data, "enti.csv")
    assert done.json()["created"] == 2
    row = await Holder.select().where(Holder.name == f"Parrocchia San Carlo {tenant.code}").first()
    assert (row["kind"], row["seat_comune"], row["areas"]) == ("parish", c2, ["famiglie-minori"])
    # The same file again updates instead of duplicating (found by codice fiscale / name).
    again = await upload(client, tenant, U, "holders", data, "enti.csv")
    assert (again.json()["created"], again.json()["updated"]) == (0, 2)
    assert await Holder.count().where(Holder.ambito == tenant.ambito_id) == 4


async def test_holders_bad_rows_are_reported_and_nothing_is_written(client, tenant: Tenant) -> None:
    c1, _ = tenant.comuni
    data = holders_csv(
        tenant,
        f"association;third_sector;Buona {tenant.code};;{c1};{c1};;;;",
        f"association;business;Settore sbagliato;;{c1};;;;;",
        "individual_volunteer;informal;Senza consenso;;;;;;;",
        "association;third_sector;Comune altrui;;999999;;;;;",
        "nessuno;third_sector;Tipo ignoto;;;;;;;",
        "association;third_sector;CF sbagliato;;;;;;;12345",
    )
    response = await upload(client, tenant, U, "holders", data, "enti.csv")
    body = response.json()
    assert response.status_code == 422  # all or nothing: rows rejected (README)
    assert body["created"] == 0 and body["rejected"] == 5
    errors = {(e["line"], e["field"]) for e in body["errors"]}
    assert errors == {
        (3, "sector"),
        (4, "consent"),
        (5, "seat_comune"),
        (6, "kind"),
        (7, "codice_fiscale"),
    }
    assert await Holder.count().where(Holder.name == f"Buona {tenant.code}") == 0
    unknown = await upload(client, tenant, U, "holders", b"nome;colore\nA;rosso\n", "x.csv")
    assert unknown.json()["errors"][0] == {
        "line": 1,
        "field": "colore",
        "message": "unknown column 'colore'",
    } or any(e["field"] == "colore" for e in unknown.json()["errors"])


async def test_holders_xlsx_and_export_round_trip(client, tenant: Tenant) -> None:
    columns = ["kind", "sector", "name", "comuni", "public_listing", "email", "person", "phone"]
    rows = [
        [
            "company",
            "business",
            f"Ditta {tenant.code}",
            tenant.comuni[0],
            "no",
            "a@b.it",
            "Ada",
            "+39 031 5555",
        ],
        ["school", "public", f"Scuola {tenant.code}", ";".join(tenant.comuni), "true", "", "", ""],
    ]
    workbook = writing.to_xlsx([writing.Sheet("enti", columns, rows)])
    response = await upload(client, tenant, U, "holders", workbook, "enti.xlsx")
    assert response.json()["created"] == 2, response.text
    company = (
        await Holder.select()
        .where(Holder.name == f"Ditta {tenant.code}")
        .output(load_json=True)
        .first()
    )
    assert company["public_listing"] is False
    assert {c["kind"] for c in company["contacts"]} == {"email", "person", "phone"}
    for fmt in ("csv", "xlsx"):
        exported = await client.get(
            f"/api/interop/export/holders?format={fmt}", headers=tenant.headers(U)
        )
        assert exported.status_code == 200
        assert "attachment" in exported.headers["content-disposition"]
        again = await upload(client, tenant, U, "holders", exported.content, f"enti.{fmt}")
        body = again.json()
        assert body["rejected"] == 0, body["errors"]
        assert (body["created"], body["updated"]) == (0, 4)
    assert await Holder.count().where(Holder.ambito == tenant.ambito_id) == 4
    company = await Holder.select().where(Holder.id == company["id"]).output(load_json=True).first()
    # The export's formula guard ('+39...) does not stick to the phone number.
    assert [c["value"] for c in company["contacts"] if c["kind"] == "phone"] == ["+39 031 5555"]


async def test_resources_import_and_roles(client, tenant: Tenant) -> None:
    c1, c2 = tenant.comuni
    data = (
        "titolo;categoria;unita;capacita;comuni_serviti;titolare;valida_dal;valida_al;lingue\n"
        f"Pulmino;trasporto;trips;8;{c1}, {c2};Associazione Alfa;2026-01-01;2026-12-31;it, en\n"
        f"Aula studio;Sala per incontri e attività;Ore di sala;2;{c1};Associazione Alfa;;;\n"
    ).encode()
    manager = await upload(client, tenant, H, "resources", data, "risorse.csv")
    assert manager.status_code == 200 and manager.json()["created"] == 2, manager.text
    rows = await Resource.select().where(
        (Resource.holder == tenant.holder_id) & (Resource.title == "Aula studio")
    )
    assert rows[0]["category_code"] == "sala-incontri" and rows[0]["unit"] == "room_hours"
    # A holder manager cannot touch another holder's resources.
    other = data.replace(b"Associazione Alfa", b"Associazione Beta")
    refused = await upload(client, tenant, H, "resources", other, "risorse.csv")
    assert refused.json()["rejected"] == 2
    assert refused.json()["errors"][0]["field"] == "holder_id"
    bad = (
        "title;category_code;unit;capacity;holder_id;valid_from;valid_until;status\n"
        f"A;nessuna;hours;1;{tenant.holder_id};;;active\n"
        f"B;trasporto;chili;1;{tenant.holder_id};;;active\n"
        f"C;trasporto;hours;-3;{tenant.holder_id};;;active\n"
        f"D;trasporto;hours;1;{uuid.uuid4()};;;active\n"
        f"E;trasporto;hours;1;{tenant.holder_id};2026-05-01;2026-01-01;active\n"
        f"F;trasporto;hours;1;{tenant.holder_id};;;stale\n"
        f"G;trasporto;hours;1;{tenant.holder_id};;;active\n"
    ).encode()
    report = (await upload(client, tenant, U, "resources", bad, "r.csv")).json()
    assert {(e["line"], e["field"]) for e in report["errors"]} == {
        (2, "category_code"),
        (3, "unit"),
        (4, "capacity"),
        (5, "holder_id"),
        (6, "valid_until"),
        (7, "status"),
    }
    assert report["created"] == 0
    assert await Resource.count().where(Resource.title == "G") == 0
    for role in (S, V):
        denied = await upload(client, tenant, role, "resources", data, "r.csv")
        assert denied.status_code == 403


async def test_resources_export_reimport_updates(client, tenant: Tenant) -> None:
    exported = await client.get(
        "/api/interop/export/resources?format=xlsx", headers=tenant.headers(U)
    )
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:4] == ["id", "holder_id", "holder_name", "title"]
    report = (await upload(client, tenant, U, "resources", exported.content, "r.xlsx")).json()
    assert report["errors"] == [] and (report["created"], report["updated"]) == (0, 2)


async def test_every_list_exports_as_csv_and_xlsx(client, tenant: Tenant) -> None:
    for name in ("holders", "resources", "availability", "comuni", "taxonomy", "users"):
        for fmt in ("csv", "xlsx"):
            response = await client.get(
                f"/api/interop/export/{name}?format={fmt}", headers=tenant.headers(U)
            )
            assert response.status_code == 200, (name, fmt, response.text)
            if fmt == "csv":
                table = reading.read_table(response.content)
                assert table.rows, name
            else:
                assert load_workbook(io.BytesIO(response.content)).worksheets[0].max_row > 1
    availability = await client.get("/api/interop/export/availability", headers=tenant.headers(V))
    assert "FREQ=WEEKLY;BYDAY=MO,WE" in availability.text
    assert (
        await client.get("/api/interop/export/users", headers=tenant.headers(V))
    ).status_code == 403
    assert (
        await client.get("/api/interop/export/nothing", headers=tenant.headers(U))
    ).status_code == 404
    filtered = await client.get("/api/interop/export/holders?q=Beta", headers=tenant.headers(U))
    assert "Associazione Beta" in filtered.text and "Associazione Alfa" not in filtered.text
