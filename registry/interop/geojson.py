"""GeoJSON (RFC 7946) of an ambito's resources by comune, for maps.

One Point feature per comune of the ambito, at the comune's centroid (shipped in
registry/data/comuni.csv for every Italian comune), with the resources that
serve it. No address is ever published: a resource is placed on the comuni it serves,
not at its holder's seat, so the home of a volunteer can never be read off the map; a
holder that is a natural person appears by its kind, not by name. A comune missing from
the centroid table keeps its feature with a null geometry (allowed by RFC 7946, §3.2) and
is counted in the collection's `unlocated` member.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from registry.access import Principal
from registry.ambiti.tables import Ambito, Comune
from registry.holders.tables import Holder
from registry.interop import vocab
from registry.interop.hsds import natural_person, publicly_listed
from registry.resources.tables import Resource
from registry.taxonomy.tables import TaxonomyTerm

VISIBLE_STATUSES = ("active", "stale", "paused")


async def resources_by_comune(ambito_id: uuid.UUID, *, public: bool) -> dict[str, Any]:
    ambito = (
        await Ambito.select(Ambito.code, Ambito.name).where(Ambito.id == ambito_id).first()
    ) or {}
    comuni = await Comune.select(Comune.istat_code, Comune.name).where(Comune.ambito == ambito_id)
    holders = {
        h["id"]: h
        for h in await Holder.select(
            Holder.id, Holder.name, Holder.kind, Holder.status, Holder.public_listing
        ).where((Holder.ambito == ambito_id) & (Holder.status != "archived"))
    }
    if public:
        holders = {k: h for k, h in holders.items() if publicly_listed(h)}
    categories = {
        r["code"]: r["name"]
        for r in await TaxonomyTerm.select(TaxonomyTerm.code, TaxonomyTerm.name)
    }
    resources = await Resource.select(
        Resource.id,
        Resource.holder,
        Resource.title,
        Resource.category_code,
        Resource.unit,
        Resource.capacity,
        Resource.comuni,
        Resource.status,
    ).where((Resource.ambito == ambito_id) & Resource.status.is_in(list(VISIBLE_STATUSES)))
    serving: dict[str, list[dict[str, Any]]] = {}
    for resource in sorted(resources, key=lambda r: (r["title"], str(r["id"]))):
        holder = holders.get(resource["holder"])
        if holder is None:
            continue
        entry = {
            "id": str(resource["id"]),
            "title": resource["title"],
            "category_code": resource["category_code"],
            "category": categories.get(resource["category_code"], resource["category_code"]),
            "unit": resource["unit"],
            "capacity": resource["capacity"],
            "status": resource["status"],
            "holder": (
                vocab.KIND_LABELS.get(holder["kind"], holder["kind"])  # type: ignore[call-overload]
                if natural_person(holder)
                else holder["name"]
            ),
        }
        for code in resource["comuni"] or []:
            serving.setdefault(code, []).append(entry)
    places = vocab.comuni_places()
    features = []
    unlocated = 0
    for comune in sorted(comuni, key=lambda c: c["name"]):
        code = comune["istat_code"]
        place = places.get(code)
        items = serving.get(code, [])
        geometry = (
            {"type": "Point", "coordinates": [place.lon, place.lat]}
            if place is not None and place.lat is not None
            else None
        )
        unlocated += geometry is None
        features.append(
            {
                "type": "Feature",
                "id": code,
                "geometry": geometry,
                "properties": {
                    "istat_code": code,
                    "name": comune["name"],
                    "province": place.province if place else None,
                    "resource_count": len(items),
                    "categories": dict(sorted(Counter(i["category_code"] for i in items).items())),
                    "resources": items,
                },
            }
        )
    located = [f["geometry"]["coordinates"] for f in features if f["geometry"]]
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "ambito": {"code": ambito.get("code"), "name": ambito.get("name")},
        "unlocated": unlocated,
        "features": features,
    }
    if located:
        lons, lats = [c[0] for c in located], [c[1] for c in located]
        collection["bbox"] = [min(lons), min(lats), max(lons), max(lats)]
    return collection


async def for_actor(actor: Principal) -> dict[str, Any]:
    """Every role of the ambito may read its directory, so it may read its map."""
    return await resources_by_comune(actor.ambito_id, public=False)


async def for_public(code: str) -> dict[str, Any]:
    from registry.interop.service import public_ambito

    ambito = await public_ambito(code)
    return await resources_by_comune(ambito["id"], public=True)
