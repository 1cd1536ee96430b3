"""The exports of lists as spreadsheets (CSV/XLSX): holders, resources, availability,
comuni, taxonomy and users, with the columns the import of spreadsheets.py reads back."""

from __future__ import annotations

from typing import Any

import msgspec

from registry import italian
from registry.access import Principal, Role
from registry.ambiti.tables import Comune
from registry.errors import InvalidInput, NotFound
from registry.holders import service as holders
from registry.interop.spreadsheets import HOLDER_COLUMNS, RESOURCE_COLUMNS
from registry.offload import in_worker_process
from registry.resources import service as resources
from registry.resources.tables import AvailabilityWindow
from registry.tabular import writing
from registry.taxonomy.tables import TaxonomyTerm
from registry.users.tables import User

# --- exports of lists ---------------------------------------------------------------------

LISTS = ("holders", "resources", "availability", "comuni", "taxonomy", "users")


async def _all_pages(fetch: Any) -> list[Any]:
    items: list[Any] = []
    offset = 0
    while True:
        page = await fetch(limit=200, offset=offset)
        items.extend(page.items)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return items


def _contact_values(contacts: list[Any], kind: str) -> list[str]:
    return [c.value for c in contacts if c.kind == kind]


async def export_rows(
    actor: Principal, name: str, filters: dict[str, Any]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of one list, with the same visibility rules as its API listing."""
    if name == "holders":
        items = await _all_pages(lambda **page: holders.list_holders(actor, **filters, **page))
        rows = [
            {
                "id": h.id,
                "kind": h.kind,
                "sector": h.sector,
                "name": h.name,
                "description": h.description,
                "codice_fiscale": h.codice_fiscale,
                "partita_iva": h.partita_iva,
                "runts_number": h.runts_number,
                "address": h.address,
                "seat_comune": h.seat_comune,
                "comuni": h.comuni,
                "areas": h.areas,
                "email": _contact_values(h.contacts, "email"),
                "phone": _contact_values(h.contacts, "phone"),
                "website": _contact_values(h.contacts, "website"),
                "person": _contact_values(h.contacts, "person"),
                "public_listing": h.public_listing,
                "consent_given_by": h.consent.given_by if h.consent else None,
                "consent_given_at": h.consent.given_at if h.consent else None,
                "consent_text_version": h.consent.text_version if h.consent else None,
                "status": h.status,
                "created_at": h.created_at,
                "updated_at": h.updated_at,
            }
            for h in items
        ]
        return HOLDER_COLUMNS, rows
    if name == "resources":
        items = await _all_pages(lambda **page: resources.list_resources(actor, **filters, **page))
        names = {
            t["code"]: t["name"]
            for t in await TaxonomyTerm.select(TaxonomyTerm.code, TaxonomyTerm.name)
        }
        rows = [
            {
                "id": r.id,
                "holder_id": r.holder_id,
                "holder_name": r.holder_name,
                "title": r.title,
                "description": r.description,
                "category_code": r.category_code,
                "category": names.get(r.category_code),
                "unit": r.unit,
                "capacity": r.capacity,
                "comuni": r.comuni,
                "target_groups": r.target_groups,
                "languages": r.languages,
                "requirements": r.requirements,
                "valid_from": r.valid_from,
                "valid_until": r.valid_until,
                "status": r.status,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                "confirmed_at": r.confirmed_at,
            }
            for r in items
        ]
        return RESOURCE_COLUMNS, rows
    if name == "availability":
        items = await _all_pages(lambda **page: resources.list_resources(actor, **filters, **page))
        titles = {r.id: r.title for r in items}
        columns = [
            "id",
            "resource_id",
            "resource_title",
            "freq",
            "interval",
            "by_day",
            "start_time",
            "end_time",
            "valid_from",
            "valid_until",
            "exceptions",
            "capacity",
            "notes",
            "rrule",
        ]
        rows = []
        ids = list(titles)
        for lo in range(0, len(ids), 500):
            windows = (
                await AvailabilityWindow.select()
                .where(AvailabilityWindow.resource.is_in(ids[lo : lo + 500]))
                .order_by(AvailabilityWindow.valid_from)
            )
            for w in windows:
                window = resources._window_out(w)
                rows.append(
                    {
                        **msgspec.to_builtins(window),
                        "resource_title": titles[w["resource"]],
                    }
                )
        rows.sort(key=lambda r: (r["resource_title"], r["valid_from"], r["start_time"]))
        return columns, rows
    if name == "comuni":
        rows = (
            await Comune.select(Comune.istat_code, Comune.name, Comune.population)
            .where(Comune.ambito == actor.ambito_id)
            .order_by(Comune.name)
        )
        return ["istat_code", "name", "population"], rows
    if name == "taxonomy":
        rows = await TaxonomyTerm.select(
            TaxonomyTerm.code, TaxonomyTerm.parent_code, TaxonomyTerm.name, TaxonomyTerm.description
        ).order_by(TaxonomyTerm.parent_code, TaxonomyTerm.position, TaxonomyTerm.code)
        return ["code", "parent_code", "name", "description"], rows
    if name == "users":
        actor.require(Role.UDP_ADMIN)
        rows = (
            await User.select(
                User.id, User.username, User.role, User.holder, User.active, User.created_at
            )
            .where(User.ambito == actor.ambito_id)
            .order_by(User.username)
        )
        return ["id", "username", "role", "holder", "active", "created_at"], rows
    raise NotFound(f"no list named '{name}': one of {', '.join(LISTS)}")


async def export_list(
    actor: Principal, name: str, fmt: str, filters: dict[str, Any]
) -> tuple[str, str, bytes]:
    """(filename, media type, content) of a list as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput("format must be csv or xlsx", field="format")
    columns, rows = await export_rows(actor, name, filters)
    stamp = italian.today().isoformat()
    # Writing the file is pure Python: in a worker process, not on the event loop.
    if fmt == "csv":
        content = await in_worker_process(writing.to_csv, columns, rows)
        return f"{name}-{stamp}.csv", writing.CSV_MEDIA_TYPE, content
    content = await in_worker_process(writing.to_xlsx, [writing.Sheet(name, columns, rows)])
    return f"{name}-{stamp}.xlsx", writing.XLSX_MEDIA_TYPE, content
