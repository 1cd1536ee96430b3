"""HSDS export and the public directory: who may read what, and the HSDS API pages.

The UdP exports its whole ambito ("full" scope). The public directory needs no login and
answers per ambito code; it shows only the "public" scope (see hsds.py).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.ambiti.tables import Ambito
from registry.db import text_contains
from registry.errors import InvalidInput, NotFound
from registry.holders.tables import Holder
from registry.interop import hsds, package, vocab
from registry.interop.hsds_schema import HSDS_VERSION, packaged
from registry.interop.hsds_snapshot import PUBLIC_RESOURCE_STATUSES, Snapshot, load_snapshot
from registry.offload import in_worker_process
from registry.resources.tables import Resource
from registry.taxonomy import service as taxonomy
from registry.vocabularies import HolderKind

MAX_PER_PAGE = 200


async def export_document(actor: Principal) -> dict[str, Any]:
    actor.require(Role.UDP_ADMIN)
    snapshot = await load_snapshot(actor.ambito_id, "full")
    return hsds.export_document(snapshot, "full")


async def export_datapackage(actor: Principal) -> tuple[str, bytes]:
    # Flattening and zipping are pure Python over the document: in a worker process, never
    # on the event loop (registry/offload.py).
    return await in_worker_process(package_document, await export_document(actor))


def package_document(document: dict[str, Any]) -> tuple[str, bytes]:
    """(file name, zip) of the CSV data package of an exported HSDS document."""
    schemas = packaged()
    tables = package.tables_from_export(document, schemas)
    code = (document["ambito"]["code"] or "ambito").lower()
    name = f"hsds-{code}"
    title = f"Risorse di comunità: {document['ambito']['name']} (HSDS {HSDS_VERSION})"
    return f"{name}.zip", package.datapackage_zip(tables, schemas, name, title)


# --- the public directory -----------------------------------------------------------------


async def public_ambito(code: str) -> dict[str, Any]:
    """The ambito by its code; unknown codes are 404 (no login: nothing else to check), and
    so is a deactivated ambito: its directory is no longer in service."""
    row = (
        await Ambito.select(Ambito.id, Ambito.code, Ambito.name)
        .where((Ambito.code == code) & (Ambito.active == True))  # noqa: E712
        .first()
    )
    if row is None:
        raise NotFound(f"no ambito with code '{code}'")
    return row


def page(items: list[Any], total: int, number: int, per_page: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / per_page)) if per_page else 1
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": number,
        "size": len(items),
        "first_page": number == 1,
        "last_page": number >= pages,
        "empty": total == 0,
        "contents": items,
    }


def _check_paging(number: int, per_page: int) -> None:
    if number < 1:
        raise InvalidInput("page starts at 1", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"per_page must be between 1 and {MAX_PER_PAGE}", field="per_page")


def _public_holders(ambito_id: uuid.UUID) -> Any:
    return (
        (Holder.ambito == ambito_id)
        & (Holder.status != "archived")
        & (Holder.public_listing == True)  # noqa: E712 (a SQL expression)
        & (Holder.kind != HolderKind.INDIVIDUAL_VOLUNTEER.value)
    )


def _uuid(value: str | None, field: str) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise InvalidInput(f"'{value}' is not an identifier", field=field) from error


async def _category_codes(taxonomy_term_id: str | None) -> list[str] | None:
    """The categories a taxonomy_term_id filter selects (a term and its sub-terms)."""
    if not taxonomy_term_id:
        return None
    parents = await taxonomy.parent_map()
    for code in parents:
        if vocab.CATEGORY.term_id(code) == taxonomy_term_id:
            return taxonomy.descendants(parents, code)
    return []


async def public_services(
    code: str,
    *,
    number: int = 1,
    per_page: int = 50,
    search: str | None = None,
    taxonomy_term_id: str | None = None,
    organization_id: str | None = None,
    modified_after: datetime | None = None,
    full: bool = False,
) -> dict[str, Any]:
    _check_paging(number, per_page)
    ambito = await public_ambito(code)
    holder_ids = [
        row["id"] for row in await Holder.select(Holder.id).where(_public_holders(ambito["id"]))
    ]
    where = (Resource.ambito == ambito["id"]) & Resource.status.is_in(
        list(PUBLIC_RESOURCE_STATUSES)
    )
    where &= Resource.holder.is_in(holder_ids) if holder_ids else Resource.id.is_null()
    if search:
        where &= text_contains(Resource.title, search) | text_contains(Resource.description, search)
    categories = await _category_codes(taxonomy_term_id)
    if categories is not None:
        where &= Resource.category_code.is_in(categories) if categories else Resource.id.is_null()
    org = _uuid(organization_id, "organization_id")
    if org is not None:
        where &= Resource.holder == org
    if modified_after is not None:
        where &= Resource.updated_at >= modified_after
    total = await Resource.count().where(where)
    ids = [
        row["id"]
        for row in await Resource.select(Resource.id)
        .where(where)
        .order_by(Resource.title)
        .order_by(Resource.id)
        .limit(per_page)
        .offset((number - 1) * per_page)
    ]
    snapshot = await load_snapshot(ambito["id"], "public", resource_ids=ids)
    holders = {h["id"]: h for h in snapshot.holders}
    terms = hsds.Terms(snapshot)
    by_id = {r["id"]: r for r in snapshot.resources}
    items = []
    for resource_id in ids:
        resource = by_id.get(resource_id)
        if resource is None or resource["holder"] not in holders:
            continue
        item = hsds.service(
            resource, holders[resource["holder"]], snapshot, "public", terms, with_organization=True
        )
        items.append(item if full else _one_to_one(item))
    return page(items, total, number, per_page)


def _one_to_one(record: dict[str, Any]) -> dict[str, Any]:
    """A list entry: the record's own fields and its organization, no nested arrays."""
    return {k: v for k, v in record.items() if not isinstance(v, list)}


async def public_service(code: str, service_id: str) -> dict[str, Any]:
    ambito = await public_ambito(code)
    wanted = _uuid(service_id, "id")
    snapshot = await load_snapshot(ambito["id"], "public", resource_ids=[wanted])  # type: ignore[list-item]
    holders = {h["id"]: h for h in snapshot.holders}
    for resource in snapshot.resources:
        if resource["holder"] in holders:
            terms = hsds.Terms(snapshot)
            return hsds.service(
                resource,
                holders[resource["holder"]],
                snapshot,
                "public",
                terms,
                with_organization=True,
            )
    raise NotFound("no such service in the public directory")


async def public_organizations(
    code: str,
    *,
    number: int = 1,
    per_page: int = 50,
    search: str | None = None,
    full: bool = False,
) -> dict[str, Any]:
    _check_paging(number, per_page)
    ambito = await public_ambito(code)
    where = _public_holders(ambito["id"])
    if search:
        where &= text_contains(Holder.name, search)
    total = await Holder.count().where(where)
    ids = [
        row["id"]
        for row in await Holder.select(Holder.id)
        .where(where)
        .order_by(Holder.name)
        .order_by(Holder.id)
        .limit(per_page)
        .offset((number - 1) * per_page)
    ]
    items = await _organizations(ambito["id"], ids, full=full)
    return page(items, total, number, per_page)


async def _organizations(
    ambito_id: uuid.UUID, ids: list[uuid.UUID], *, full: bool
) -> list[dict[str, Any]]:
    snapshot = await load_snapshot(ambito_id, "public", holder_ids=ids)
    terms = hsds.Terms(snapshot)
    by_holder = snapshot.resources_of()
    order = {holder_id: index for index, holder_id in enumerate(ids)}
    items = []
    for holder in sorted(snapshot.holders, key=lambda h: order.get(h["id"], 0)):
        org = hsds.organization(holder, snapshot, "public", terms)
        if full:
            org["services"] = [
                hsds.service(r, holder, snapshot, "public", terms)
                for r in by_holder.get(holder["id"], [])
            ]
            items.append(org)
        else:
            items.append(_one_to_one(org))
    return items


async def public_organization(code: str, organization_id: str) -> dict[str, Any]:
    ambito = await public_ambito(code)
    wanted = _uuid(organization_id, "id")
    items = await _organizations(ambito["id"], [wanted], full=True)  # type: ignore[list-item]
    if not items:
        raise NotFound("no such organization in the public directory")
    return items[0]


async def public_locations(code: str, *, number: int = 1, per_page: int = 50) -> dict[str, Any]:
    _check_paging(number, per_page)
    ambito = await public_ambito(code)
    snapshot = await load_snapshot(ambito["id"], "public")
    locations = [
        location
        for holder in snapshot.holders
        if (location := hsds.location_of(holder, snapshot, "public")) is not None
    ]
    start = (number - 1) * per_page
    return page(locations[start : start + per_page], len(locations), number, per_page)


async def public_location(code: str, location_id: str) -> dict[str, Any]:
    listing = await public_locations(code, per_page=MAX_PER_PAGE)
    pages = listing["total_pages"]
    for number in range(1, pages + 1):
        if number > 1:
            listing = await public_locations(code, number=number, per_page=MAX_PER_PAGE)
        for location in listing["contents"]:
            if location["id"] == location_id:
                return location
    raise NotFound("no such location in the public directory")


def _service_at_locations(snapshot: Snapshot, *, with_service: bool = False) -> list[Any]:
    """One entry per public service whose organization has a public location (its seat)."""
    holders = {h["id"]: h for h in snapshot.holders}
    terms = hsds.Terms(snapshot) if with_service else None
    entries = []
    for resource in snapshot.resources:
        holder = holders[resource["holder"]]
        location = hsds.location_of(holder, snapshot, "public")
        if location is None:
            continue
        entry = {
            "id": vocab.stable_id("service_at_location", str(resource["id"]), location["id"]),
            "service_id": str(resource["id"]),
            "location_id": location["id"],
            "location": location,
        }
        if terms is not None:
            entry["service"] = hsds.service(
                resource, holder, snapshot, "public", terms, with_organization=True
            )
        entries.append(entry)
    return entries


async def public_service_at_locations(
    code: str, *, number: int = 1, per_page: int = 50
) -> dict[str, Any]:
    _check_paging(number, per_page)
    ambito = await public_ambito(code)
    entries = _service_at_locations(await load_snapshot(ambito["id"], "public"))
    start = (number - 1) * per_page
    return page(entries[start : start + per_page], len(entries), number, per_page)


async def public_service_at_location(code: str, entry_id: str) -> dict[str, Any]:
    """One service_at_location (HSDS 3.1 API), with its service and its location."""
    ambito = await public_ambito(code)
    wanted = str(_uuid(entry_id, "id"))  # ids are UUIDs: anything else is a 400, not a scan
    snapshot = await load_snapshot(ambito["id"], "public")
    for entry in _service_at_locations(snapshot):
        if entry["id"] == wanted:
            resource_id = uuid.UUID(entry["service_id"])
            one = await load_snapshot(ambito["id"], "public", resource_ids=[resource_id])
            for full in _service_at_locations(one, with_service=True):
                if full["id"] == wanted:
                    return full
    raise NotFound("no such service_at_location in the public directory")


async def public_taxonomies(code: str) -> dict[str, Any]:
    await public_ambito(code)
    items = [hsds.taxonomy_object(v) for v in vocab.VOCABULARIES]
    return page(items, len(items), 1, max(1, len(items)))


async def public_taxonomy_terms(
    code: str,
    *,
    number: int = 1,
    per_page: int = 50,
    taxonomy_id: str | None = None,
    parent_id: str | None = None,
    top_only: bool = False,
) -> dict[str, Any]:
    _check_paging(number, per_page)
    ambito = await public_ambito(code)
    snapshot = await load_snapshot(ambito["id"], "public", holder_ids=[], resource_ids=[])
    requirements = {
        r
        for row in await Resource.select(Resource.requirements).where(
            Resource.ambito == ambito["id"]
        )
        for r in row["requirements"] or []
    }
    terms = hsds.Terms(snapshot).all_terms(requirements)
    if taxonomy_id:
        terms = [t for t in terms if t.get("taxonomy_id") == taxonomy_id]
    if parent_id:
        terms = [t for t in terms if t.get("parent_id") == parent_id]
    if top_only:
        terms = [t for t in terms if not t.get("parent_id")]
    start = (number - 1) * per_page
    return page(terms[start : start + per_page], len(terms), number, per_page)


async def public_taxonomy(code: str, taxonomy_id: str) -> dict[str, Any]:
    await public_ambito(code)
    vocabulary = vocab.BY_ID.get(taxonomy_id)
    if vocabulary is None:
        raise NotFound("no such taxonomy")
    return hsds.taxonomy_object(vocabulary)


async def public_taxonomy_term(code: str, term_id: str) -> dict[str, Any]:
    listing = await public_taxonomy_terms(code, per_page=MAX_PER_PAGE)
    for number in range(1, listing["total_pages"] + 1):
        if number > 1:
            listing = await public_taxonomy_terms(code, number=number, per_page=MAX_PER_PAGE)
        for term in listing["contents"]:
            if term["id"] == term_id:
                return term
    raise NotFound("no such taxonomy term")


def api_root(base_url: str, code: str) -> dict[str, str]:
    return {
        "version": HSDS_VERSION,
        "profile": f"{base_url}/api/hsds/{code}",
        "openapi_url": f"{base_url}/schema/openapi.json",
    }
