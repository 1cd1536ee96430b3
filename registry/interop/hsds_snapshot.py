"""What an HSDS export (or the public directory) reads from the database, in one go: the
ambito, its comuni, the holders and resources of the scope, their windows, the taxonomy,
foreign addresses and the places held by matches."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from registry.ambiti.tables import Ambito, Comune
from registry.holders.tables import Holder
from registry.interop.tables import ForeignAddress
from registry.resources.tables import AvailabilityWindow, Resource
from registry.taxonomy.tables import TaxonomyTerm
from registry.vocabularies import HolderKind

Scope = Literal["full", "public"]
PUBLIC_RESOURCE_STATUSES = ("active", "stale", "paused")
_IN_CHUNK = 500


@dataclass(slots=True)
class Snapshot:
    """Everything one export needs, read from the database once."""

    ambito: dict[str, Any]
    comuni: dict[str, str]
    holders: list[dict[str, Any]]
    resources: list[dict[str, Any]]
    windows: dict[uuid.UUID, list[dict[str, Any]]]
    terms: dict[str, dict[str, Any]]
    reserved: dict[uuid.UUID, int] = field(default_factory=dict)
    # Foreign addresses of imported holders, by holder (interop ForeignAddress rows).
    foreign: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)

    def resources_of(self) -> dict[uuid.UUID, list[dict[str, Any]]]:
        found: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for row in self.resources:
            found.setdefault(row["holder"], []).append(row)
        return found


async def load_snapshot(
    ambito_id: uuid.UUID,
    scope: Scope,
    *,
    holder_ids: Iterable[uuid.UUID] | None = None,
    resource_ids: Iterable[uuid.UUID] | None = None,
) -> Snapshot:
    ambito = (
        await Ambito.select(Ambito.id, Ambito.code, Ambito.name, Ambito.region)
        .where(Ambito.id == ambito_id)
        .first()
    )
    comuni = {
        row["istat_code"]: row["name"]
        for row in await Comune.select(Comune.istat_code, Comune.name).where(
            Comune.ambito == ambito_id
        )
    }
    where = (Holder.ambito == ambito_id) & (Holder.status != "archived")
    if scope == "public":
        where &= (Holder.public_listing == True) & (  # noqa: E712 (a SQL expression)
            Holder.kind != HolderKind.INDIVIDUAL_VOLUNTEER.value
        )
    if holder_ids is not None:
        wanted = list(holder_ids)
        where &= Holder.id.is_in(wanted) if wanted else Holder.id.is_null()
    holders = await Holder.select().where(where).order_by(Holder.name).output(load_json=True)
    holder_set = {row["id"] for row in holders}
    rwhere = (Resource.ambito == ambito_id) & (Resource.status != "archived")
    if scope == "public":
        rwhere &= Resource.status.is_in(list(PUBLIC_RESOURCE_STATUSES))
    if resource_ids is not None:
        wanted = list(resource_ids)
        rwhere &= Resource.id.is_in(wanted) if wanted else Resource.id.is_null()
    resources = [
        row
        for row in await Resource.select().where(rwhere).order_by(Resource.title, Resource.id)
        if row["holder"] in holder_set
    ]
    ids = [row["id"] for row in resources]
    windows: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for lo in range(0, len(ids), _IN_CHUNK):
        rows = (
            await AvailabilityWindow.select()
            .where(AvailabilityWindow.resource.is_in(ids[lo : lo + _IN_CHUNK]))
            .order_by(AvailabilityWindow.valid_from)
            .order_by(AvailabilityWindow.start_time)
            .order_by(AvailabilityWindow.id)
        )
        for row in rows:
            windows.setdefault(row["resource"], []).append(row)
    terms = {
        row["code"]: row
        for row in await TaxonomyTerm.select(
            TaxonomyTerm.code,
            TaxonomyTerm.parent_code,
            TaxonomyTerm.name,
            TaxonomyTerm.description,
            TaxonomyTerm.position,
        )
    }
    holder_ids_loaded = [row["id"] for row in holders]
    foreign: dict[uuid.UUID, dict[str, Any]] = {}
    for lo in range(0, len(holder_ids_loaded), _IN_CHUNK):
        for row in await ForeignAddress.select().where(
            ForeignAddress.holder.is_in(holder_ids_loaded[lo : lo + _IN_CHUNK])
        ):
            foreign[row["holder"]] = row
    return Snapshot(
        ambito=ambito or {},
        comuni=comuni,
        holders=holders,
        resources=resources,
        windows=windows,
        terms=terms,
        reserved=await _reserved(ids),
        foreign=foreign,
    )


async def _reserved(resource_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Places held by accepted matches (registry/matches), for service_capacity.available."""
    try:
        from registry.matches.tables import ResourceCapacity
    except ImportError:  # the matches domain is optional for an export
        return {}
    found: dict[uuid.UUID, int] = {}
    for lo in range(0, len(resource_ids), _IN_CHUNK):
        rows = await ResourceCapacity.select(
            ResourceCapacity.resource, ResourceCapacity.reserved
        ).where(ResourceCapacity.resource.is_in(resource_ids[lo : lo + _IN_CHUNK]))
        found.update({row["resource"]: row["reserved"] for row in rows})
    return found
