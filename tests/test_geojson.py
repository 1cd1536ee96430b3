"""GeoJSON of resources by comune: valid RFC 7946, centroids for real ISTAT codes, no
addresses and no natural persons' names, the public map respecting public listing."""

from __future__ import annotations

from typing import Any

from registry.access import Role
from registry.ambiti.schemas import ComuneIn
from registry.ambiti.service import add_comuni
from registry.ambiti.tables import Comune
from registry.interop.vocab import comuni_places
from tests.conftest import Tenant
from tests.fixtures.interop import rich_data


def check_rfc7946(collection: dict[str, Any]) -> None:
    assert collection["type"] == "FeatureCollection"
    assert isinstance(collection["features"], list)
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        if geometry is None:
            continue  # an unlocated feature (RFC 7946, 3.2)
        assert geometry["type"] == "Point"
        lon, lat = geometry["coordinates"]
        assert isinstance(lon, float) and isinstance(lat, float)
        # Italy, in the GeoJSON order [longitude, latitude]
        assert 6 < lon < 19 and 35 < lat < 48
    if "bbox" in collection:
        west, south, east, north = collection["bbox"]
        assert west <= east and south <= north


async def test_resources_by_comune(client, tenant: Tenant) -> None:
    await rich_data(tenant)
    response = await client.get(
        "/api/interop/geojson/resources", headers=tenant.headers(Role.VOLUNTEER)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    collection = response.json()
    check_rfc7946(collection)
    # Test comuni have made-up ISTAT codes: no centroid, so null geometry, and counted.
    assert collection["unlocated"] == 2
    features = {f["id"]: f for f in collection["features"]}
    first = features[tenant.comuni[0]]["properties"]
    titles = {r["title"] for r in first["resources"]}
    assert "Accompagnamento a visite mediche" in titles and "Orto condiviso" in titles
    assert first["resource_count"] == len(first["resources"])
    assert first["categories"]["accompagnamento"] == 1
    text = response.text
    for address in ("Via Garibaldi", "Via Privata", "Via Roma 40"):
        assert address not in text
    # A natural person is shown by kind, not by name.
    assert "Mario Rossi" not in text
    assert "Volontario/a singolo/a" in text


async def test_real_comuni_get_their_centroid(client, tenant: Tenant) -> None:
    # Two real ISTAT codes (province of Lecco) not used by any other test.
    codes = ["097001", "097002"]
    existing = await Comune.select(Comune.istat_code).where(Comune.istat_code.is_in(codes))
    if not existing:
        await add_comuni(
            tenant.ambito_id, [ComuneIn(istat_code=c, name=f"Comune reale {c}") for c in codes]
        )
    places = comuni_places()
    assert len(places) > 7800 and all(places[c].province == "LC" for c in codes)
    response = await client.get(
        "/api/interop/geojson/resources", headers=tenant.headers(Role.UDP_ADMIN)
    )
    collection = response.json()
    check_rfc7946(collection)
    located = [f for f in collection["features"] if f["geometry"]]
    if not existing:
        assert {f["id"] for f in located} == set(codes)
        place = places["097001"]
        feature = next(f for f in located if f["id"] == "097001")
        assert feature["geometry"]["coordinates"] == [place.lon, place.lat]
        assert feature["properties"]["province"] == "LC"
        assert collection["bbox"]


async def test_public_map_respects_public_listing(client, tenant: Tenant) -> None:
    await rich_data(tenant)
    response = await client.get(f"/api/geo/{tenant.code}/resources.geojson")
    assert response.status_code == 200
    collection = response.json()
    check_rfc7946(collection)
    text = response.text
    assert "Doposcuola parrocchiale" not in text  # holder not publicly listed
    assert "Compagnia telefonica" not in text  # individual volunteers are never published
    assert "Orto condiviso" in text
    assert (await client.get("/api/geo/NESSUNO/resources.geojson")).status_code == 404
    # The authenticated map of the ambito shows them all.
    internal = await client.get("/api/interop/geojson/resources", headers=udp_headers(tenant))
    assert "Doposcuola parrocchiale" in internal.text


def udp_headers(tenant: Tenant) -> dict[str, str]:
    return tenant.headers(Role.UDP_ADMIN)
