"""The public HSDS directory: no login, per ambito, valid HSDS, only publicly listed
holders, never personal data."""

from __future__ import annotations

import pytest

from registry.interop.hsds_schema import Schemas
from tests.conftest import Tenant, make_tenant
from tests.fixtures.interop import reference_schemas, rich_data

PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}


@pytest.fixture(scope="module")
def reference() -> Schemas:
    return reference_schemas()


@pytest.fixture
async def rich(tenant: Tenant):  # type: ignore[no-untyped-def]
    return await rich_data(tenant)


async def get(client, path: str) -> dict:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_services_and_organizations_show_only_the_public_directory(
    client, tenant: Tenant, rich, reference
) -> None:
    base = f"/api/hsds/{tenant.code}"
    root = await get(client, base)
    assert root["version"] == "3.1"
    services = await get(client, f"{base}/services?per_page=200")
    assert set(services) == PAGE_KEYS
    names = {s["name"] for s in services["contents"]}
    assert "Accompagnamento a visite mediche" in names and "Orto condiviso" in names
    assert "Sala riunioni" in names  # paused: listed as temporarily closed
    assert "Compagnia telefonica" not in names  # an individual volunteer's
    assert "Doposcuola parrocchiale" not in names  # its holder chose not to be listed
    for item in services["contents"]:
        assert reference.errors("service", item) == []
        assert not any(isinstance(v, list) for v in item.values())  # list: one-to-one fields
    orgs = await get(client, f"{base}/organizations?per_page=200&full=true")
    org_names = {o["name"] for o in orgs["contents"]}
    assert "Mario Rossi" not in org_names
    assert not any(n.startswith("Parrocchia non elencata") for n in org_names)
    for org in orgs["contents"]:
        services_of = org.pop("services")
        assert reference.errors("organization", org) == []
        for service in services_of:
            assert reference.errors("service", service) == []


async def test_no_personal_data(client, tenant: Tenant, rich) -> None:
    base = f"/api/hsds/{tenant.code}"
    texts = []
    for path in (
        "/services?per_page=200&full=true",
        "/organizations?per_page=200&full=true",
        "/locations?per_page=200",
        "/service_at_locations?per_page=200",
        f"/organizations/{rich.association}",
        f"/organizations/{rich.network}",
        f"/services/{rich.resources['transport']}",
    ):
        response = await client.get(base + path)
        assert response.status_code == 200, (path, response.text)
        texts.append(response.text)
    text = "\n".join(texts)
    for secret in (
        "Mario Rossi",  # an individual volunteer's name
        "RSSMRA80A01H501U",  # ... codice fiscale
        "Via Privata 3",  # ... home address
        "+39 333 0000000",  # ... phone
        "Giulia Bianchi",  # a named person of an association
        "anna.verdi@example.org",  # an informal network's (personal) e-mail
        "Via Roma 40",  # ... and address
        "given_by",  # consent records
        "public-listing",
    ):
        assert secret not in text, secret
    network = await get(client, f"{base}/organizations/{rich.network}")
    assert "locations" not in network and "organization_identifiers" not in network
    association = await get(client, f"{base}/organizations/{rich.association}")
    assert association["email"] == "info@auser.example.org"  # an organisation's own contact
    assert association["locations"][0]["addresses"][0]["address_1"] == "Via Garibaldi 12"


async def test_hidden_records_are_404_and_ambiti_are_separate(client, tenant: Tenant, rich) -> None:
    base = f"/api/hsds/{tenant.code}"
    for path in (
        f"/services/{rich.resources['hidden']}",
        f"/services/{rich.resources['company']}",
        f"/organizations/{rich.hidden}",
        f"/organizations/{rich.volunteer}",
        "/services/not-a-uuid",
    ):
        response = await client.get(base + path)
        assert response.status_code in (400, 404), path
    assert (await client.get("/api/hsds/NON-ESISTE/services")).status_code == 404
    other = await make_tenant()
    response = await client.get(f"/api/hsds/{other.code}/services/{rich.resources['transport']}")
    assert response.status_code == 404
    listing = await get(client, f"/api/hsds/{other.code}/services?per_page=200")
    assert str(rich.resources["transport"]) not in str(listing)


async def test_filters_paging_and_taxonomies(client, tenant: Tenant, rich, reference) -> None:
    base = f"/api/hsds/{tenant.code}"
    first = await get(client, f"{base}/services?per_page=2&page=1")
    assert (first["size"], first["first_page"], first["page_number"]) == (2, True, 1)
    assert first["total_pages"] == -(-first["total_items"] // 2)
    last = await get(client, f"{base}/services?per_page=2&page={first['total_pages']}")
    assert last["last_page"]
    found = await get(client, f"{base}/services?search=visite")
    assert [s["name"] for s in found["contents"]] == ["Accompagnamento a visite mediche"]
    by_org = await get(client, f"{base}/services?organization_id={rich.network}")
    assert [s["name"] for s in by_org["contents"]] == ["Orto condiviso"]
    taxonomies = await get(client, f"{base}/taxonomies")
    for taxonomy in taxonomies["contents"]:
        assert reference.errors("taxonomy", taxonomy) == []
    category_taxonomy = next(t for t in taxonomies["contents"] if t["name"].startswith("Categorie"))
    terms = await get(
        client,
        f"{base}/taxonomy_terms?taxonomy_id={category_taxonomy['id']}&top_only=true&per_page=200",
    )
    assert {t["code"] for t in terms["contents"]} >= {"servizi", "spazi", "beni"}
    servizi = next(t for t in terms["contents"] if t["code"] == "servizi")
    # A term selects its services and those of its sub-terms.
    by_term = await get(client, f"{base}/services?taxonomy_term_id={servizi['id']}")
    assert {s["name"] for s in by_term["contents"]} == {
        "Accompagnamento a visite mediche",  # accompagnamento, under servizi
        "Trasporto Associazione Alfa",  # the tenant's own (trasporto, under servizi)
        "Trasporto Associazione Beta",
    }
    term = await get(client, f"{base}/taxonomy_terms/{servizi['id']}")
    assert reference.errors("taxonomy_term", term) == []
    locations = await get(client, f"{base}/locations")
    for location in locations["contents"]:
        assert reference.errors("location", location) == []
    one = await get(client, f"{base}/locations/{locations['contents'][0]['id']}")
    assert one == locations["contents"][0]
    bad = await client.get(f"{base}/services?per_page=500")
    assert bad.status_code == 400


async def test_one_service_at_location_by_id(client, tenant: Tenant, rich, reference) -> None:
    """GET /service_at_locations/{id} (README, HSDS 3.1 API): the entry of the listing, with
    its full service and its location; 404 elsewhere, 400 for what is not an id."""
    base = f"/api/hsds/{tenant.code}"
    listing = await get(client, f"{base}/service_at_locations?per_page=200")
    assert listing["contents"], "the rich data has public services with a location"
    for entry in listing["contents"]:
        one = await get(client, f"{base}/service_at_locations/{entry['id']}")
        assert one["id"] == entry["id"]
        assert one["service_id"] == entry["service_id"] == one["service"]["id"]
        assert one["location"] == entry["location"]
        assert reference.errors("service", one["service"]) == []
        assert reference.errors("location", one["location"]) == []
        assert "Mario Rossi" not in str(one) and "Giulia Bianchi" not in str(one)
    first = listing["contents"][0]["id"]
    # The same id in upper case is the same entry.
    assert (await get(client, f"{base}/service_at_locations/{first.upper()}"))["id"] == first
    other = await make_tenant()
    response = await client.get(f"/api/hsds/{other.code}/service_at_locations/{first}")
    assert response.status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(f"{base}/service_at_locations/{unknown}")).status_code == 404
    assert (await client.get(f"{base}/service_at_locations/nope")).status_code == 400
