"""HSDS 3.1: export validated against the schemas, the CSV data package, round trip,
duplicate-free re-import, the shared examples, the dry-run report."""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from registry.holders.tables import Holder
from registry.interop import hsds, package
from registry.interop.hsds_import import import_hsds
from registry.interop.hsds_schema import PACKAGED, Schemas, packaged
from registry.interop.service import export_datapackage, export_document
from registry.interop.tables import ExternalLink
from registry.resources.tables import AvailabilityWindow, Resource
from tests.conftest import Tenant, make_tenant
from tests.fixtures.interop import HSDS_EXAMPLES, reference_schemas, rich_data, udp

EXAMPLES = HSDS_EXAMPLES


@pytest.fixture(scope="module")
def reference() -> Schemas:
    return reference_schemas()


def test_packaged_schemas_are_the_published_ones() -> None:
    """The packaged copy is byte for byte the published HSDS 3.1 schemas: SHA256SUMS was
    written from Open Referral's files (shared/hsds/schema) and a change to a copy shows here."""
    recorded = dict(
        reversed(line.split("  ", 1))
        for line in (PACKAGED / "SHA256SUMS").read_text().splitlines()
        if line.strip()
    )
    packaged_files = {path.name for path in PACKAGED.glob("*.json")}
    assert packaged_files == set(recorded), "a schema file is missing or not recorded"
    for name, digest in recorded.items():
        assert hashlib.sha256((PACKAGED / name).read_bytes()).hexdigest() == digest, name


def validate_document(document: dict[str, Any], schemas: Schemas) -> list[str]:
    errors = []
    for org in document["organizations"]:
        services = org.get("services", [])
        bare = {k: v for k, v in org.items() if k != "services"}
        errors += [f"organization {org['id']}: {e}" for e in schemas.errors("organization", bare)]
        for service in services:
            errors += [f"service {service['id']}: {e}" for e in schemas.errors("service", service)]
    for taxonomy in document["taxonomies"]:
        errors += schemas.errors("taxonomy", taxonomy)
    for term in document["taxonomy_terms"]:
        errors += schemas.errors("taxonomy_term", term)
    return errors


async def empty_ambito(tenant: Tenant) -> None:
    """Remove every holder and resource of the ambito (the round trip's empty ambito)."""
    resource_ids = [
        r["id"]
        for r in await Resource.select(Resource.id).where(Resource.ambito == tenant.ambito_id)
    ]
    if resource_ids:
        await AvailabilityWindow.delete().where(AvailabilityWindow.resource.is_in(resource_ids))
        await Resource.delete().where(Resource.id.is_in(resource_ids))
    from registry.users.tables import User

    await User.update({User.holder: None}).where(User.ambito == tenant.ambito_id)
    await Holder.delete().where(Holder.ambito == tenant.ambito_id)
    await ExternalLink.delete().where(ExternalLink.ambito == tenant.ambito_id)


_VOLATILE = {"last_modified", "updated"}


def without_ids(value: Any) -> Any:
    """The document with every identifier and modification time removed, lists sorted:
    what must survive a round trip (ids are new records' ids; see README)."""
    if isinstance(value, dict):
        return {
            k: without_ids(v)
            for k, v in value.items()
            if k != "id" and not k.endswith("_id") and k not in _VOLATILE
        }
    if isinstance(value, list):
        items = [without_ids(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def strip_generated(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    for org in document["organizations"]:
        # The holder's uuid5-derived ids (location, phones...) change with the holder's id.
        org.pop("id")
    return without_ids(document)


@pytest.fixture
async def rich(tenant: Tenant):  # type: ignore[no-untyped-def]
    return await rich_data(tenant)


async def test_export_is_valid_hsds(tenant: Tenant, rich, reference: Schemas) -> None:
    document = await export_document(udp(tenant))
    assert validate_document(document, reference) == []
    orgs = {o["name"]: o for o in document["organizations"]}
    association = next(o for o in orgs.values() if o["id"] == str(rich.association))
    assert {i["identifier_scheme"] for i in association["organization_identifiers"]} == {
        "IT-CF",
        "IT-IVA",
        "IT-RUNTS",
    }
    assert association["locations"][0]["external_identifier"] == tenant.comuni[0]
    assert association["locations"][0]["addresses"][0]["address_1"] == "Via Garibaldi 12"
    transport = next(
        s for s in association["services"] if s["id"] == str(rich.resources["transport"])
    )
    weekly = next(s for s in transport["schedules"] if s["freq"] == "WEEKLY")
    assert weekly["byday"] == "MO,TH"
    assert (weekly["opens_at"], weekly["closes_at"]) == ("09:00:00", "12:30:00")
    assert (weekly["valid_from"], weekly["valid_to"]) == ("2026-01-05", "2026-12-31")
    monthly = next(s for s in transport["schedules"] if s["freq"] == "MONTHLY")
    assert (monthly["interval"], monthly["byday"]) == (2, "1SA,-1FR")
    assert {a["name"] for a in transport["service_areas"]} == {f"Comune {c}" for c in tenant.comuni}
    area_codes = {a["attributes"][0]["taxonomy_term"]["code"] for a in transport["service_areas"]}
    assert area_codes == set(tenant.comuni)
    capacity = transport["capacities"][0]
    assert (capacity["maximum"], capacity["unit"]["identifier"]) == (4, "trips")
    category = next(a for a in transport["attributes"] if a["link_type"] == "category")
    assert category["taxonomy_term"]["code"] == "accompagnamento"
    assert category["taxonomy_term"]["parent_id"]
    # A rule HSDS cannot say (DAILY every 2 days) travels as an extension, with no freq.
    room = next(s for s in association["services"] if s["id"] == str(rich.resources["room"]))
    assert room["status"] == "temporarily closed"
    assert "freq" not in room["schedules"][0]
    assert any(a["value"] == "FREQ=DAILY;INTERVAL=2" for a in room["schedules"][0]["attributes"])


async def test_datapackage_is_a_valid_tabular_package(
    tenant: Tenant, rich, reference: Schemas
) -> None:
    filename, content = await export_datapackage(udp(tenant))
    assert filename.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(content))
    descriptor = json.loads(archive.read("datapackage.json"))
    assert descriptor["profile"] == "tabular-data-package"
    rows: dict[str, list[dict[str, Any]]] = {}
    for resource in descriptor["resources"]:
        text = archive.read(resource["path"]).decode("utf-8")
        reader = csv.DictReader(io.StringIO(text))
        layout = reference.layout(resource["name"])
        assert reader.fieldnames == [f.name for f in layout.fields], resource["path"]
        assert [f["name"] for f in resource["schema"]["fields"]] == reader.fieldnames
        types = {f.name: f.type for f in layout.fields}
        rows[resource["name"]] = []
        for line, raw in enumerate(reader, start=2):
            typed = {
                k: (float(v) if types[k] == "number" else v)
                for k, v in raw.items()
                if v != "" or k in layout.required
            }
            errors = reference.errors(resource["name"], typed, flat=True)
            assert errors == [], f"{resource['path']}:{line}: {errors}"
            # A Frictionless reader takes an empty cell for a missing value: required
            # columns are filled (the postal code only when a CAP is known, see README).
            empty = {k for k in layout.required if raw[k] == ""} - {"postal_code"}
            assert not empty, f"{resource['path']}:{line}: empty {empty}"
            rows[resource["name"]].append(raw)
    ids = {name: {r["id"] for r in table} for name, table in rows.items()}
    for row in rows["service"]:
        assert row["organization_id"] in ids["organization"]
    for name in ("schedule", "service_area", "service_capacity", "language"):
        for row in rows[name]:
            assert row["service_id"] in ids["service"], name
    for row in rows["location"]:
        assert row["organization_id"] in ids["organization"]
    for row in rows["address"]:
        assert row["location_id"] in ids["location"]
    for row in rows["service_capacity"]:
        assert row["unit_id"] in ids["unit"]
    for row in rows["attribute"]:
        assert row["taxonomy_term_id"] in ids["taxonomy_term"]
        assert row["link_id"] in ids[row["link_entity"]]
    for row in rows["taxonomy_term"]:
        assert row["taxonomy_id"] in ids["taxonomy"]
        assert row["parent_id"] == "" or row["parent_id"] in ids["taxonomy_term"]
    # The tenant's own two holders and resources (one window), plus rich_data's.
    assert len(rows["organization"]) == 6 and len(rows["service"]) == 7
    assert len(rows["schedule"]) == 6


async def test_round_trip_json_and_datapackage(tenant: Tenant, rich) -> None:
    actor = udp(tenant)
    first = await export_document(actor)
    _, zipped = await export_datapackage(actor)
    for data, name in ((json.dumps(first).encode(), "export.json"), (zipped, "export.zip")):
        await empty_ambito(tenant)
        assert (await export_document(actor))["organizations"] == []
        report = await import_hsds(actor, data, name)
        assert report.rejected == 0, report.items
        assert report.counts["organization"].created == 6
        assert report.counts["service"].created == 7
        assert report.counts["schedule"].created == 6
        again = await export_document(actor)
        assert strip_generated(again) == strip_generated(first), name
        # Dates and times survive exactly, including the assured (confirmed) date.
        services = [s for o in again["organizations"] for s in o["services"]]
        assert {s["assured_date"] for s in services} == {
            s["assured_date"] for o in first["organizations"] for s in o["services"]
        }


async def test_reimport_creates_no_duplicates(tenant: Tenant, rich) -> None:
    actor = udp(tenant)
    document = await export_document(actor)
    data = json.dumps(document).encode()
    # Into the same ambito: every record is found by its own id.
    report = await import_hsds(actor, data, "same.json")
    assert report.created == 0 and report.updated == 0 and report.rejected == 0
    assert report.unchanged == 13
    # Into an empty ambito twice: the second time finds the records the first created.
    target = await make_tenant()
    document = _rehome(document, tenant, target)
    data = json.dumps(document).encode()
    first = await import_hsds(udp(target), data, "foreign.json")
    # The target's own "Associazione Alfa/Beta" (same name, no address) and their resources
    # are found by name: 4 unchanged, the other 9 records created.
    assert (first.created, first.unchanged, first.rejected) == (9, 4, 0)
    holders_before = await Holder.count().where(Holder.ambito == target.ambito_id)
    second = await import_hsds(udp(target), data, "foreign.json")
    assert (second.created, second.updated, second.unchanged) == (0, 0, 13)
    assert second.counts["schedule"].unchanged == 6
    assert await Holder.count().where(Holder.ambito == target.ambito_id) == holders_before
    # Without the recorded identifiers, the same data is matched by name and address.
    await ExternalLink.delete().where(ExternalLink.ambito == target.ambito_id)
    text = data.decode()
    for org in document["organizations"]:
        ids = [org["id"]] + [s["id"] for s in org["services"]]
        ids += [w["id"] for s in org["services"] for w in s.get("schedules", [])]
        for old in ids:
            text = text.replace(old, str(uuid.uuid4()))
    third = await import_hsds(udp(target), text.encode(), "renamed.json")
    assert third.created == 0 and third.rejected == 0, third.items
    assert await Holder.count().where(Holder.ambito == target.ambito_id) == holders_before
    assert third.counts["schedule"].created == 0


def _rehome(document: dict[str, Any], source: Tenant, target: Tenant) -> dict[str, Any]:
    """The export of `source` with its comuni codes and names renamed to `target`'s."""
    text = json.dumps(document)
    for old, new in zip(source.comuni, target.comuni, strict=True):
        text = text.replace(old, new)
    return json.loads(text)


async def test_dry_run_reports_without_writing(tenant: Tenant, rich) -> None:
    actor = udp(tenant)
    document = await export_document(actor)
    target = await make_tenant()
    document = _rehome(document, tenant, target)
    # One organization the registry cannot take (a volunteer without consent), one updated.
    volunteer = next(o for o in document["organizations"] if o["name"] == "Mario Rossi")
    volunteer["attributes"] = [
        a for a in volunteer["attributes"] if a.get("value", "").find("given_by") < 0
    ]
    report = await import_hsds(udp(target), json.dumps(document).encode(), "x.json", dry_run=True)
    assert report.dry_run and not report.applied
    rejected = [i for i in report.items if i.action == "reject"]
    assert {i.name for i in rejected} == {"Mario Rossi", "Compagnia telefonica"}
    assert any("consent" in r for r in rejected[0].reasons)
    assert any("not imported" in r for r in rejected[1].reasons)
    assert report.counts["organization"].created == 3  # Alfa and Beta: found by name
    assert await Holder.count().where(Holder.ambito == target.ambito_id) == 2  # the tenant's own
    # Strict: nothing is written when something is rejected.
    strict = await import_hsds(udp(target), json.dumps(document).encode(), "x.json", strict=True)
    assert not strict.applied
    assert await Holder.count().where(Holder.ambito == target.ambito_id) == 2
    # An update names the fields it changes.
    applied = await import_hsds(udp(target), json.dumps(document).encode(), "x.json")
    assert applied.applied and applied.counts["organization"].created == 3
    association = next(o for o in document["organizations"] if o["name"].startswith("Auser"))
    association["description"] = "Nuova descrizione"
    association["services"][0]["name"] = association["services"][0]["name"]  # unchanged
    again = await import_hsds(udp(target), json.dumps(document).encode(), "x.json", dry_run=True)
    item = next(i for i in again.items if i.name == association["name"])
    assert (item.action, item.changes) == ("update", ["description"])


def _example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))


def _zip_dir(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(directory.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()


async def test_shared_examples_import_without_errors(app: object) -> None:
    files = _example_files()
    target = await make_tenant()
    actor = udp(target)
    for path in files:
        report = await import_hsds(actor, path.read_bytes(), path.name)
        assert report.rejected == 0, (path.name, [i for i in report.items if i.action == "reject"])
    csv_report = await import_hsds(actor, _zip_dir(EXAMPLES / "csv"), "csv.zip")
    assert csv_report.rejected == 0, csv_report.items
    # One organization ("Example Organization Inc.") and one service, however often they came.
    names = {
        r["name"] for r in await Holder.select(Holder.name).where(Holder.ambito == target.ambito_id)
    }
    assert "Example Organization Inc." in names
    services = await Resource.select(Resource.title, Resource.category_code, Resource.unit).where(
        (Resource.ambito == target.ambito_id) & (Resource.title == "Community Counselling")
    )
    assert len(services) == 1
    assert services[0]["category_code"] == "servizi"
    # The unmapped parts are said, not silently dropped.
    assert "program" in csv_report.not_mapped and "funding" in csv_report.not_mapped
    assert any("service_capacity" in w for w in csv_report.warnings)


async def test_examples_import_creates_the_example_records(app: object) -> None:
    _example_files()
    target = await make_tenant()
    report = await import_hsds(
        udp(target),
        (EXAMPLES / "service_full.json").read_bytes(),
        "service_full.json",
        dry_run=True,
    )
    assert [(i.entity, i.action) for i in report.items] == [
        ("organization", "create"),
        ("service", "create"),
    ]
    service = report.items[1]
    assert any("category" in w for w in service.warnings)
    assert any("bymonthday" in w for w in service.warnings)
    assert report.counts["schedule"].created == 1


async def test_bad_input_is_a_clear_400(client, tenant: Tenant) -> None:
    from registry.access import Role

    response = await client.post(
        "/api/interop/hsds/import", content=b"not json", headers=tenant.headers(Role.UDP_ADMIN)
    )
    assert response.status_code == 400
    assert response.json()["field"] == "file"
    bad = {"organizations": [{"id": str(uuid.uuid4()), "name": "Senza descrizione"}]}
    response = await client.post(
        "/api/interop/hsds/import?dry_run=true",
        content=json.dumps(bad).encode(),
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["rejected"] == 1
    assert "description" in body["items"][0]["reasons"][0]


async def test_http_export_and_multipart_import(client, tenant: Tenant, rich) -> None:
    from registry.access import Role

    headers = tenant.headers(Role.UDP_ADMIN)
    response = await client.get("/api/interop/hsds/export", headers=headers)
    assert response.status_code == 200
    document = response.json()
    assert len(document["organizations"]) == 6
    response = await client.get("/api/interop/hsds/export?format=datapackage", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    response = await client.post(
        "/api/interop/hsds/import?dry_run=true",
        files={"file": ("pacchetto.zip", response.content, "application/zip")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["unchanged"] == 13


def test_flatten_keeps_foreign_keys(reference: Schemas) -> None:
    document = json.loads((EXAMPLES / "organization_full.json").read_text())
    tables = package.from_json(document, reference)
    service = tables.list("service")[0]
    assert service["organization_id"] == document["id"]
    location = tables.list("location")[0]
    assert location["organization_id"] == document["id"]
    attribute = tables.list("attribute")[0]
    assert attribute["taxonomy_term_id"] == "3f7b145d-84af-42d7-8fae-eaca714b02b2"
    assert tables.list("taxonomy_term")[0]["taxonomy_id"] == "5c4d79d7-cc55-470e-9f1f-8cad074e4892"


def test_hsds_version_is_3_1() -> None:
    assert hsds.vocab_version() == "3.1"
    assert packaged().layout("service").path == "services.csv"


def test_fast_row_check_agrees_with_jsonschema(reference: Schemas) -> None:
    """The import's quick check of tabular rows says what jsonschema says."""
    cases = [
        ("organization", {"id": "x", "name": "A", "description": "d"}),
        ("organization", {"id": "x", "name": "A"}),
        ("service", {"id": "x", "name": "A", "status": "closed", "organization_id": "o"}),
        ("service", {"id": "x", "name": 3, "status": "active", "organization_id": "o"}),
        ("schedule", {"id": "x", "freq": "DAILY", "interval": "2"}),
        ("schedule", {"id": "x", "freq": "WEEKLY", "interval": 2, "byday": "MO"}),
        ("service_capacity", {"id": "x", "service_id": "s", "available": 1, "updated": "t"}),
        ("location", {"id": "x", "location_type": "physical", "latitude": True}),
    ]
    for entity, row in cases:
        slow = reference.errors(entity, row, check_formats=False, flat=True)
        fast = reference.row_errors(entity, row)
        assert bool(slow) == bool(fast), (entity, row, slow, fast)
        assert len(slow) == len(fast), (entity, row, slow, fast)


def _legacy_package() -> bytes:
    """A minimal HSDS 1.x/2.x data package: 3.x-looking organizations and services, and the
    address and schedule tables 3.0 replaced."""
    org, service, location = (str(uuid.uuid4()) for _ in range(3))
    files = {
        "organizations.csv": f"id,name,description\n{org},Vecchia Org,Una descrizione\n",
        "services.csv": f"id,organization_id,name,status\n{service},{org},Mensa,active\n",
        "locations.csv": f"id,organization_id,name\n{location},{org},Sede\n",
        "physical_addresses.csv": (
            "id,location_id,address_1,city,postal_code,country\n"
            f"{uuid.uuid4()},{location},Via Roma 1,Como,22100,IT\n"
        ),
        "regular_schedules.csv": (
            f"id,service_id,weekday,opens_at,closes_at\n{uuid.uuid4()},{service},1,09:00,12:00\n"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


async def test_hsds_1_or_2_is_recognised_and_refused_clearly(client, tenant: Tenant) -> None:
    from registry.access import Role

    headers = tenant.headers(Role.UDP_ADMIN)
    before = await Holder.count().where(Holder.ambito == tenant.ambito_id)
    response = await client.post(
        "/api/interop/hsds/import",
        files={"file": ("hsds2.zip", _legacy_package(), "application/zip")},
        headers=headers,
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == "file"
    assert "HSDS 1.x/2.x" in str(body) and "3.x" in str(body)
    assert "physical_addresses.csv" in str(body) and "regular_schedules.csv" in str(body)
    # The same data as JSON (HSDS 2.x API shape) says the same.
    legacy_json = {
        "organizations": [
            {
                "id": str(uuid.uuid4()),
                "name": "Vecchia Org",
                "description": "Una descrizione",
                "locations": [{"id": str(uuid.uuid4()), "physical_addresses": [{"city": "Como"}]}],
            }
        ]
    }
    response = await client.post(
        "/api/interop/hsds/import?dry_run=true",
        content=json.dumps(legacy_json).encode(),
        headers=headers,
    )
    assert response.status_code == 400, response.text
    assert "HSDS 1.x/2.x" in str(response.json()) and "physical_addresses" in str(response.json())
    assert await Holder.count().where(Holder.ambito == tenant.ambito_id) == before


def _foreign_org(country: str = "US") -> dict[str, Any]:
    """The UK-profile example of the issue: city MyCity, postal code ABC 1234."""
    org, location = str(uuid.uuid4()), str(uuid.uuid4())
    return {
        "organizations": [
            {
                "id": org,
                "name": "Overseas Partner",
                "description": "A partner abroad",
                "locations": [
                    {
                        "id": location,
                        "location_type": "physical",
                        "organization_id": org,
                        "addresses": [
                            {
                                "id": str(uuid.uuid4()),
                                "location_id": location,
                                "address_1": "1 Some Street",
                                "city": "MyCity",
                                "state_province": "MyState",
                                "postal_code": "ABC 1234",
                                "country": country,
                                "address_type": "physical",
                            }
                        ],
                    }
                ],
            }
        ]
    }


async def test_a_foreign_address_travels_as_it_came(app: object, reference: Schemas) -> None:
    target = await make_tenant()
    actor = udp(target)
    report = await import_hsds(actor, json.dumps(_foreign_org()).encode(), "partner.json")
    assert report.rejected == 0, report.items
    [item] = [i for i in report.items if i.entity == "organization"]
    assert any("another country (US)" in w for w in item.warnings), item.warnings
    holder = (
        await Holder.select()
        .where((Holder.ambito == target.ambito_id) & (Holder.name == "Overseas Partner"))
        .first()
    )
    assert holder["address"] == "1 Some Street, ABC 1234 MyCity, MyState, US"
    assert holder["seat_comune"] is None

    exported = await export_document(actor)
    [org] = [o for o in exported["organizations"] if o["name"] == "Overseas Partner"]
    [address] = org["locations"][0]["addresses"]
    assert reference.errors("address", address) == []
    assert (address["address_1"], address["city"], address["postal_code"]) == (
        "1 Some Street",
        "MyCity",
        "ABC 1234",
    )
    assert (address["country"], address["state_province"]) == ("US", "MyState")
    assert "region" not in address  # never the ambito's region for an address abroad

    # Re-importing the export changes nothing; editing the address by hand drops the parts.
    again = await import_hsds(actor, json.dumps(exported).encode(), "again.json")
    assert again.counts["organization"].updated == 0 and again.rejected == 0
    await Holder.update({Holder.address: "Via Roma 1"}).where(Holder.id == holder["id"])
    edited = await export_document(actor)
    [org] = [o for o in edited["organizations"] if o["name"] == "Overseas Partner"]
    assert org["locations"][0]["addresses"][0]["address_1"] == "Via Roma 1"


async def test_an_italian_address_is_not_foreign(app: object) -> None:
    target = await make_tenant()
    report = await import_hsds(
        udp(target), json.dumps(_foreign_org("IT")).encode(), "italian.json", dry_run=True
    )
    [item] = [i for i in report.items if i.entity == "organization"]
    assert not any("another country" in w for w in item.warnings)
