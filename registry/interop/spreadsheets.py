"""Spreadsheets of holders and resources: bulk import (CSV/XLSX); the exports of lists are
spreadsheet_exports.py.

Reading, row validation, the error report and the writers are registry/tabular/, the
project's one spreadsheet mechanism; this module adds the columns, the lookups in the
ambito (comuni by code or name, holders by id, codice fiscale or name, categories by code
or name) and the writes. An import is all or nothing: with any bad row nothing is written
and the report lists every problem with its line and column; `dry_run` only reports.

A row updates the record it names by `id`; without an id a holder is found by codice
fiscale / partita IVA or by name and address, a resource by title within its holder, so a
spreadsheet exported here, edited and imported again updates instead of duplicating.
Columns that an export adds for reading (created_at, holder_name, ...) are accepted and
ignored on import.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import msgspec

from registry import geo, italian
from registry.access import Principal, Role
from registry.ambiti.tables import Comune
from registry.common import now, set_fields
from registry.db import unit_of_work
from registry.errors import InvalidInput
from registry.holders.schemas import HolderCreate
from registry.holders.service import _check_rules as check_holder_rules
from registry.holders.service import _normalised as holder_db_values
from registry.holders.tables import Holder
from registry.interop import vocab
from registry.resources.schemas import ResourceCreate
from registry.resources.service import _storable as resource_db_values
from registry.resources.tables import Resource
from registry.tabular import reading, validating, writing
from registry.taxonomy.tables import TaxonomyTerm
from registry.vocabularies import HolderKind, ResourceStatus, Sector, UserArea

MAX_ROWS = 5_000
_CHUNK = 200


def norm(value: Any) -> str:
    return " ".join(str(value or "").casefold().split())


class HolderRow(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: uuid.UUID | None = None
    kind: str
    sector: str
    name: str
    description: str = ""
    codice_fiscale: str | None = None
    partita_iva: str | None = None
    runts_number: str | None = None
    address: str = ""
    seat_comune: str | None = None
    comuni: list[str] = []
    areas: list[str] = []
    email: list[str] = []
    phone: list[str] = []
    website: list[str] = []
    person: list[str] = []
    public_listing: bool = True
    consent_given_by: str | None = None
    consent_given_at: datetime | None = None
    consent_text_version: str | None = None
    # written by the export for people to read; ignored on import
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


HOLDER_COLUMNS = [
    "id",
    "kind",
    "sector",
    "name",
    "description",
    "codice_fiscale",
    "partita_iva",
    "runts_number",
    "address",
    "seat_comune",
    "comuni",
    "areas",
    "email",
    "phone",
    "website",
    "person",
    "public_listing",
    "consent_given_by",
    "consent_given_at",
    "consent_text_version",
    "status",
    "created_at",
    "updated_at",
]
HOLDER_ALIASES = {
    "tipo": "kind",
    "settore": "sector",
    "nome": "name",
    "denominazione": "name",
    "descrizione": "description",
    "cf": "codice_fiscale",
    "p_iva": "partita_iva",
    "piva": "partita_iva",
    "runts": "runts_number",
    "numero_runts": "runts_number",
    "indirizzo": "address",
    "comune_sede": "seat_comune",
    "sede": "seat_comune",
    "comuni_serviti": "comuni",
    "aree": "areas",
    "aree_di_utenza": "areas",
    "telefono": "phone",
    "sito": "website",
    "sito_web": "website",
    "referente": "person",
    "elenco_pubblico": "public_listing",
    "consenso_dato_da": "consent_given_by",
    "consenso_data": "consent_given_at",
    "consenso_versione": "consent_text_version",
}


class ResourceRow(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: uuid.UUID | None = None
    holder_id: uuid.UUID | None = None
    holder: str | None = None
    title: str
    description: str = ""
    category_code: str
    unit: str
    capacity: int = 1
    comuni: list[str] = []
    target_groups: list[str] = []
    languages: list[str] = []
    requirements: list[str] = []
    valid_from: date | None = None
    valid_until: date | None = None
    status: str = "active"
    # written by the export for people to read; ignored on import
    holder_name: str | None = None
    category: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    confirmed_at: str | None = None


RESOURCE_COLUMNS = [
    "id",
    "holder_id",
    "holder_name",
    "title",
    "description",
    "category_code",
    "category",
    "unit",
    "capacity",
    "comuni",
    "target_groups",
    "languages",
    "requirements",
    "valid_from",
    "valid_until",
    "status",
    "created_at",
    "updated_at",
    "confirmed_at",
]
RESOURCE_ALIASES = {
    "titolo": "title",
    "descrizione": "description",
    "categoria_codice": "category_code",
    "categoria": "category_code",
    "unita": "unit",
    "unità": "unit",
    "capacita": "capacity",
    "capacità": "capacity",
    "comuni_serviti": "comuni",
    "destinatari": "target_groups",
    "aree_di_utenza": "target_groups",
    "lingue": "languages",
    "requisiti": "requirements",
    "valida_dal": "valid_from",
    "valida_al": "valid_until",
    "stato": "status",
    "titolare": "holder",
    "titolare_id": "holder_id",
}
_KIND_BY_LABEL = {norm(label): k.value for k, label in vocab.KIND_LABELS.items()}
_SECTOR_BY_LABEL = {norm(label): s.value for s, label in vocab.SECTOR_LABELS.items()}
_AREA_BY_LABEL = {norm(label): a.value for a, label in vocab.AREA_LABELS.items()}
_UNIT_BY_LABEL = {norm(label): code for code, label in vocab.UNIT_LABELS.items()}


def _vocabulary(value: str, codes: Iterable[str], labels: dict[str, str], what: str) -> str:
    if value in codes:
        return value
    found = labels.get(norm(value))
    if found is None:
        raise InvalidInput(f"'{value}' is not a known {what}", field=what)
    return found


class _Comuni:
    def __init__(self, rows: list[dict[str, Any]], validated: validating.Validated[Any]) -> None:
        self.codes = {r["istat_code"] for r in rows}
        self.by_name = {norm(r["name"]): r["istat_code"] for r in rows}
        self.validated = validated

    def resolve(self, value: str, field: str, line: int) -> str:
        """A code or name of the ambito; a suppressed code (a merger...) becomes today's code
        with a warning; a code whose leading zero a spreadsheet dropped is explained."""
        if value in self.codes:
            return value
        current, warning = geo.resolve(value, lang="it")
        if warning and current in self.codes:
            self.validated.warn(line, field, warning)
            return current
        code = self.by_name.get(norm(value))
        if code is None:
            message = geo.leading_zero_message(value, lang="it")
            message = message or f"«{value}» non è un comune di questo ambito"
            raise InvalidInput(message, field=field)
        return code


async def _comuni(ambito_id: uuid.UUID, validated: validating.Validated[Any]) -> _Comuni:
    rows = await Comune.select(Comune.istat_code, Comune.name).where(Comune.ambito == ambito_id)
    return _Comuni(rows, validated)


def _read(data: bytes, filename: str | None) -> reading.Table:
    return reading.read_table(data, filename, max_rows=MAX_ROWS)


# --- holders ------------------------------------------------------------------------------


def unescape(value: str) -> str:
    """Undo the apostrophe our exports put before + - = @ (so that a spreadsheet does not
    run "+39 031..." as a formula) when such a file is imported as it is."""
    return writing.unescape_formula(value)


def _holder_contacts(row: HolderRow, current: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Contacts from the columns; a value that already existed keeps its label."""
    labels = {(c["kind"], c["value"]): c.get("label", "") for c in current}
    found = []
    for kind, values in (
        ("email", row.email),
        ("website", row.website),
        ("phone", row.phone),
        ("person", row.person),
    ):
        for value in values:
            value = unescape(value)
            found.append({"kind": kind, "value": value, "label": labels.get((kind, value), "")})
    return found


async def import_holders(
    actor: Principal, data: bytes, filename: str | None = None, *, dry_run: bool = False
) -> validating.ImportReport:
    actor.require(Role.UDP_ADMIN)
    validated = validating.validate_rows(_read(data, filename), HolderRow, aliases=HOLDER_ALIASES)
    comuni = await _comuni(actor.ambito_id, validated)
    existing = {
        h["id"]: h
        for h in await Holder.select()
        .where(Holder.ambito == actor.ambito_id)
        .output(load_json=True)
    }
    by_key = {(norm(h["name"]), norm(h["address"])): h for h in existing.values()}
    creates: list[dict[str, Any]] = []
    updates: list[tuple[uuid.UUID, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for line, row in validated.items:
        try:
            current = None
            if row.id is not None:
                current = existing.get(row.id)
                if current is None:
                    raise InvalidInput("no holder with this id in the ambito", field="id")
            given: dict[str, Any] = {
                "kind": _vocabulary(
                    row.kind, HolderKind.__members__.values(), _KIND_BY_LABEL, "kind"
                ),
                "sector": _vocabulary(
                    row.sector, Sector.__members__.values(), _SECTOR_BY_LABEL, "sector"
                ),
                "name": unescape(row.name),
                "description": unescape(row.description),
                "codice_fiscale": row.codice_fiscale,
                "partita_iva": row.partita_iva,
                "runts_number": row.runts_number,
                "address": row.address,
                "seat_comune": comuni.resolve(row.seat_comune, "seat_comune", line)
                if row.seat_comune
                else None,
                # Two suppressed codes may map to one comune of today: keep it once.
                "comuni": list(
                    dict.fromkeys(
                        comuni.resolve(c, f"comuni[{i}]", line) for i, c in enumerate(row.comuni)
                    )
                ),
                "areas": [
                    _vocabulary(a, UserArea.__members__.values(), _AREA_BY_LABEL, "areas")
                    for a in row.areas
                ],
                "public_listing": row.public_listing,
                "consent": None,
            }
            if row.consent_given_at or row.consent_given_by or row.consent_text_version:
                given["consent"] = {
                    "given_by": row.consent_given_by or "",
                    # A spreadsheet's date and time is Italy's wall clock, without an offset.
                    "given_at": (
                        row.consent_given_at.replace(tzinfo=italian.ROME)
                        if row.consent_given_at and row.consent_given_at.tzinfo is None
                        else row.consent_given_at
                    ),
                    "text_version": row.consent_text_version or "",
                }
            if current is None:
                for key in ("codice_fiscale", "partita_iva"):
                    value = (given[key] or "").strip().upper()
                    match = next(
                        (h for h in existing.values() if value and (h[key] or "").upper() == value),
                        None,
                    )
                    current = current or match
                current = current or by_key.get((norm(row.name), norm(row.address)))
            given["contacts"] = _holder_contacts(row, (current or {}).get("contacts") or [])
            values = holder_db_values(set_fields(msgspec.convert(given, HolderCreate)))
            check_holder_rules(values)
            key = current["id"] if current else (norm(row.name), norm(row.address))
            if key in seen:
                raise InvalidInput(f"the same holder as line {seen[key]}", field="name")
            seen[key] = line
            if current is None:
                creates.append(values)
            else:
                updates.append((current["id"], values))
        except msgspec.ValidationError as error:
            name, message = validating._error_of(error)
            validated.fail(line, name, message)
        except InvalidInput as error:
            validated.fail(line, error.field, error.message)
    if not validated.errors and not dry_run:
        moment = now()
        async with unit_of_work():
            for lo in range(0, len(creates), _CHUNK):
                await Holder.insert(
                    *[
                        Holder(
                            **values, ambito=actor.ambito_id, created_at=moment, updated_at=moment
                        )
                        for values in creates[lo : lo + _CHUNK]
                    ]
                )
            for holder_id, values in updates:
                await Holder.update({**values, "updated_at": moment}).where(Holder.id == holder_id)
    return validating.report(validated, created=len(creates), updated=len(updates), dry_run=dry_run)


# --- resources ----------------------------------------------------------------------------


async def import_resources(
    actor: Principal, data: bytes, filename: str | None = None, *, dry_run: bool = False
) -> validating.ImportReport:
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    validated = validating.validate_rows(
        _read(data, filename), ResourceRow, aliases=RESOURCE_ALIASES
    )
    comuni = await _comuni(actor.ambito_id, validated)
    holder_rows = await Holder.select(
        Holder.id, Holder.name, Holder.codice_fiscale, Holder.status
    ).where(Holder.ambito == actor.ambito_id)
    holder_ids = {h["id"] for h in holder_rows if h["status"] != "archived"}
    by_name: dict[str, list[uuid.UUID]] = {}
    for h in holder_rows:
        if h["status"] != "archived":
            by_name.setdefault(norm(h["name"]), []).append(h["id"])
            if h["codice_fiscale"]:
                by_name.setdefault(norm(h["codice_fiscale"]), []).append(h["id"])
    terms = await TaxonomyTerm.select(TaxonomyTerm.code, TaxonomyTerm.name)
    categories = {t["code"] for t in terms}
    category_by_name = {norm(t["name"]): t["code"] for t in terms}
    existing = {
        r["id"]: r for r in await Resource.select().where(Resource.ambito == actor.ambito_id)
    }
    by_title = {(r["holder"], norm(r["title"])): r for r in existing.values()}
    creates: list[dict[str, Any]] = []
    updates: list[tuple[uuid.UUID, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for line, row in validated.items:
        try:
            current = None
            if row.id is not None:
                current = existing.get(row.id)
                if current is None:
                    raise InvalidInput("no resource with this id in the ambito", field="id")
            holder_id = row.holder_id
            if holder_id is None and row.holder:
                matches = by_name.get(norm(row.holder), [])
                if len(matches) != 1:
                    raise InvalidInput(
                        f"'{row.holder}' names {'no' if not matches else 'more than one'} holder "
                        "of this ambito: use holder_id",
                        field="holder",
                    )
                holder_id = matches[0]
            if holder_id is None:
                holder_id = current["holder"] if current else actor.holder_id
            if holder_id is None:
                raise InvalidInput("holder_id (or holder) is required", field="holder_id")
            if holder_id not in holder_ids:
                raise InvalidInput("no such holder in this ambito", field="holder_id")
            if not actor.manages_holder(holder_id) or (
                current is not None and not actor.manages_holder(current["holder"])
            ):
                raise InvalidInput(
                    "a holder manager adds and edits resources only of its own holder",
                    field="holder_id",
                )
            category = row.category_code
            if category not in categories:
                category = category_by_name.get(norm(category), category)
            if category not in categories:
                raise InvalidInput(f"unknown category '{row.category_code}'", field="category_code")
            status = row.status
            if status in (ResourceStatus.STALE, ResourceStatus.EXPIRED):
                if current is not None and current["status"] == status:
                    status = None  # an exported row says what the registry set: keep it
                else:
                    raise InvalidInput(
                        "status 'stale' and 'expired' are set by the registry itself",
                        field="status",
                    )
            given: dict[str, Any] = {
                "title": unescape(row.title),
                "description": unescape(row.description),
                "category_code": category,
                "unit": _vocabulary(row.unit, vocab.unit_codes(), _UNIT_BY_LABEL, "unit"),
                "capacity": row.capacity,
                # Two suppressed codes may map to one comune of today: keep it once.
                "comuni": list(
                    dict.fromkeys(
                        comuni.resolve(c, f"comuni[{i}]", line) for i, c in enumerate(row.comuni)
                    )
                ),
                "target_groups": [
                    _vocabulary(a, UserArea.__members__.values(), _AREA_BY_LABEL, "target_groups")
                    for a in row.target_groups
                ],
                "languages": [lang.lower() for lang in row.languages],
                "requirements": row.requirements,
                "valid_from": row.valid_from,
                "valid_until": row.valid_until,
            }
            if status:
                given["status"] = status
            if row.valid_from and row.valid_until and row.valid_until < row.valid_from:
                raise InvalidInput("valid_until must not be before valid_from", field="valid_until")
            values = set_fields(msgspec.convert(given, ResourceCreate))
            values.pop("holder_id", None)
            if not status:
                values.pop("status", None)
            values = resource_db_values(values)
            values["holder"] = holder_id
            current = current or by_title.get((holder_id, norm(row.title)))
            key = current["id"] if current else (holder_id, norm(row.title))
            if key in seen:
                raise InvalidInput(f"the same resource as line {seen[key]}", field="title")
            seen[key] = line
            if current is None:
                creates.append(values)
            else:
                updates.append((current["id"], values))
        except msgspec.ValidationError as error:
            name, message = validating._error_of(error)
            validated.fail(line, name, message)
        except InvalidInput as error:
            validated.fail(line, error.field, error.message)
    if not validated.errors and not dry_run:
        moment = now()
        async with unit_of_work():
            for lo in range(0, len(creates), _CHUNK):
                await Resource.insert(
                    *[
                        Resource(
                            **values,
                            ambito=actor.ambito_id,
                            created_at=moment,
                            updated_at=moment,
                            confirmed_at=moment,
                        )
                        for values in creates[lo : lo + _CHUNK]
                    ]
                )
            for resource_id, values in updates:
                await Resource.update({**values, "updated_at": moment}).where(
                    Resource.id == resource_id
                )
    return validating.report(validated, created=len(creates), updated=len(updates), dry_run=dry_run)
