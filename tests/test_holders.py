"""Registering community holders: identifiers, consent, sectors, ownership."""

from __future__ import annotations

from registry.access import Role
from tests.conftest import Tenant, make_tenant

U, H = Role.UDP_ADMIN, Role.HOLDER_MANAGER

ASSOCIATION = {"kind": "association", "sector": "third_sector", "name": "Auser Binago"}


async def test_udp_registers_a_holder_with_valid_identifiers(client, tenant: Tenant) -> None:
    body = {
        **ASSOCIATION,
        "codice_fiscale": "80012000826",
        "partita_iva": "80012000826",
        "runts_number": "123456",
        "comuni": tenant.comuni,
        "areas": ["anziani", "disabili"],
        "contacts": [{"kind": "email", "value": "info@auser.example.org"}],
    }
    response = await client.post("/api/holders", json=body, headers=tenant.headers(U))
    assert response.status_code == 201, response.text
    holder = response.json()
    assert holder["codice_fiscale"] == "80012000826"
    assert holder["comuni"] == tenant.comuni
    assert holder["contacts"][0]["value"] == "info@auser.example.org"
    fetched = await client.get(f"/api/holders/{holder['id']}", headers=tenant.headers(U))
    assert fetched.json() == holder


async def test_identifiers_with_bad_check_digits_are_refused_by_name(
    client, tenant: Tenant
) -> None:
    cases = [
        ("codice_fiscale", "80012000827"),  # organisation, wrong check digit
        ("codice_fiscale", "RSSMRA85T10A562X"),  # person, wrong check character
        ("codice_fiscale", "ABC"),
        ("partita_iva", "80012000827"),
        ("partita_iva", "1234"),
    ]
    for field, value in cases:
        response = await client.post(
            "/api/holders", json={**ASSOCIATION, field: value}, headers=tenant.headers(U)
        )
        assert response.status_code == 400, (field, value)
        assert response.json()["field"] == field
        assert value in response.json()["detail"]
    listed = await client.get("/api/holders?q=Auser", headers=tenant.headers(U))
    assert listed.json()["total"] == 0, "a refused holder must not be stored"


async def test_a_person_needs_a_consent_record(client, tenant: Tenant) -> None:
    person = {"kind": "individual_volunteer", "sector": "informal", "name": "Giulia"}
    refused = await client.post("/api/holders", json=person, headers=tenant.headers(U))
    assert refused.status_code == 400 and refused.json()["field"] == "consent"
    consent = {"given_by": "Giulia", "given_at": "2026-10-01T10:00:00Z", "text_version": "v2"}
    accepted = await client.post(
        "/api/holders", json={**person, "consent": consent}, headers=tenant.headers(U)
    )
    assert accepted.status_code == 201
    assert accepted.json()["consent"]["text_version"] == "v2"


async def test_kind_and_sector_must_agree(client, tenant: Tenant) -> None:
    response = await client.post(
        "/api/holders",
        json={"kind": "company", "sector": "third_sector", "name": "Srl"},
        headers=tenant.headers(U),
    )
    assert response.status_code == 400 and response.json()["field"] == "sector"


async def test_comuni_must_belong_to_the_ambito(client, tenant: Tenant) -> None:
    foreign = await make_tenant()
    response = await client.post(
        "/api/holders",
        json={**ASSOCIATION, "comuni": [tenant.comuni[0], foreign.comuni[0]]},
        headers=tenant.headers(U),
    )
    assert response.status_code == 400
    assert response.json()["field"] == "comuni[1]"


async def test_an_association_registers_itself_once_and_then_manages_it(client) -> None:
    tenant = await make_tenant()
    # A fresh holder-manager account with no holder yet.
    created = await client.post(
        "/api/users",
        json={
            "username": f"nuova-{tenant.code.lower()}",
            "password": "password-lunga",
            "role": "holder_manager",
        },
        headers=tenant.headers(U),
    )
    assert created.status_code == 201
    login = await client.post(
        "/api/auth/token",
        json={"username": f"nuova-{tenant.code.lower()}", "password": "password-lunga"},
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    first = await client.post("/api/holders", json=ASSOCIATION, headers=headers)
    assert first.status_code == 201
    second = await client.post("/api/holders", json=ASSOCIATION, headers=headers)
    assert second.status_code == 403
    holder_id = first.json()["id"]
    me = await client.get("/api/users/me", headers=headers)
    assert me.json()["holder_id"] == holder_id
    edited = await client.patch(
        f"/api/holders/{holder_id}", json={"description": "Trasporti solidali"}, headers=headers
    )
    assert edited.status_code == 200 and edited.json()["description"] == "Trasporti solidali"


async def test_patch_changes_only_what_it_names(client, tenant: Tenant) -> None:
    before = (
        await client.get(f"/api/holders/{tenant.holder_id}", headers=tenant.headers(H))
    ).json()
    after = await client.patch(
        f"/api/holders/{tenant.holder_id}",
        json={"public_listing": False},
        headers=tenant.headers(H),
    )
    assert after.status_code == 200
    changed = {k for k in before if before[k] != after.json()[k]}
    assert changed == {"public_listing", "updated_at"}


async def test_archived_holders_leave_the_list_but_keep_their_record(
    client, tenant: Tenant
) -> None:
    assert (
        await client.delete(f"/api/holders/{tenant.other_holder_id}", headers=tenant.headers(U))
    ).status_code == 204
    listed = await client.get("/api/holders", headers=tenant.headers(U))
    assert str(tenant.other_holder_id) not in listed.text
    kept = await client.get(f"/api/holders/{tenant.other_holder_id}", headers=tenant.headers(U))
    assert kept.status_code == 200 and kept.json()["status"] == "archived"
    with_archived = await client.get(
        "/api/holders?include_archived=true", headers=tenant.headers(U)
    )
    assert str(tenant.other_holder_id) in with_archived.text


async def test_holder_filters(client, tenant: Tenant) -> None:
    await client.post(
        "/api/holders",
        json={
            "kind": "parish",
            "sector": "third_sector",
            "name": "Parrocchia San Michele",
            "comuni": [tenant.comuni[1]],
        },
        headers=tenant.headers(U),
    )
    by_kind = await client.get("/api/holders?kind=parish", headers=tenant.headers(U))
    assert [h["name"] for h in by_kind.json()["items"]] == ["Parrocchia San Michele"]
    by_text = await client.get("/api/holders?q=michele", headers=tenant.headers(U))
    assert by_text.json()["total"] == 1
    by_comune = await client.get(
        f"/api/holders?comune={tenant.comuni[1]}&kind=parish", headers=tenant.headers(U)
    )
    assert by_comune.json()["total"] == 1
