"""Import of HSDS 3.1 data (JSON in any of its shapes, or a CSV data package) into an ambito.

Three steps. *Read*: the input becomes rows per entity (package.py) and every row of the
tables we map is checked against its HSDS schema. *Plan*: each organization becomes a
holder, each service a resource, each schedule an availability window; the plan is
validated with the same rules as the API (msgspec structs, holders' and resources' own
checks) and matched against what the ambito already has, so the report says exactly what
would be created, updated, left unchanged or rejected, and why. *Apply* (not in a dry
run): one transaction writes the plan.

Matching, so that a re-import creates no duplicates: an organization is found by the
identifier a previous import recorded (ExternalLink), else by its id when it is one of our
own ids (our export), else by codice fiscale / partita IVA, else by name and address; a
service by recorded identifier, own id, else by name within the same holder; a schedule
by recorded identifier, own id, else by an identical rule.

Records from other systems lack what the registry needs (holder kind, category, unit):
defaults are applied on creation only, each one reported as a warning; an update only
touches what the data actually says. What HSDS has and the registry does not map is
counted under `not_mapped`, with the reason.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import anyio.to_thread
import msgspec

from registry import geo
from registry.access import Principal, Role
from registry.ambiti.tables import Comune
from registry.common import now, set_fields
from registry.db import unit_of_work
from registry.errors import InvalidInput
from registry.holders.schemas import HolderCreate, HolderPatch
from registry.holders.service import _check_rules as check_holder_rules
from registry.holders.service import _normalised as holder_db_values
from registry.holders.tables import Holder
from registry.interop import package, vocab
from registry.interop.hsds_schema import Schemas, packaged
from registry.interop.package import Tables
from registry.interop.schemas import Counts, HsdsImportReport, ItemReport
from registry.interop.tables import ExternalLink, ForeignAddress
from registry.resources.schemas import ResourceCreate, ResourcePatch, WindowIn
from registry.resources.service import _storable as resource_db_values
from registry.resources.service import _window_values as window_db_values
from registry.resources.tables import AvailabilityWindow, Resource
from registry.taxonomy.tables import TaxonomyTerm
from registry.vocabularies import SECTOR_OF_KIND, HolderKind, ResourceUnit, Sector, UserArea

Progress = Callable[[str, int, int], None]

# A schedule with no start date gets this one (a Monday): fixed, so that re-importing the
# same data finds the same window instead of "updating" it to a new date every time.
DEFAULT_VALID_FROM = date(2000, 1, 3)
FALLBACK_CATEGORY = "servizi"
_KIND_LABELS = {
    norm_label
    for norm_label in (" ".join(v.casefold().split()) for v in vocab.KIND_LABELS.values())
}
_CHUNK = 200
# How an address says Italy; any other country is foreign (ISO 3166-1 alpha-2 in HSDS).
_ITALY = frozenset({"IT", "ITA", "ITALIA", "ITALY"})
_ISTAT = re.compile(r"\b(\d{6})\b")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_RRULE_PART = re.compile(r"^(FREQ|INTERVAL|BYDAY)=(.+)$")

NOT_MAPPED = {
    "program": "programs have no equivalent in the registry",
    "funding": "funding sources are recorded as funded interventions, not imported",
    "cost_option": "resources in the registry are free: no cost options",
    "accessibility": "accessibility of locations is not recorded",
    "required_document": "required documents are not recorded",
    "metadata": "change history is not imported (the registry keeps its own)",
    "meta_table_description": "table descriptions are not data",
}


# --- the report ---------------------------------------------------------------------------


# --- helpers ------------------------------------------------------------------------------


def norm(value: Any) -> str:
    return " ".join(str(value or "").casefold().split())


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return round(float(value))
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _hhmm(value: Any) -> str | None:
    match = _HHMM.match(_text(value))
    if not match:
        return None
    return f"{int(match[1]):02d}:{match[2]}"


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _error_text(error: Exception) -> str:
    if isinstance(error, InvalidInput):
        return f"{error.field}: {error.message}" if error.field else error.message
    return str(error)


@dataclass(slots=True)
class Existing:
    """What the ambito already holds, read once."""

    ambito_id: uuid.UUID
    comuni: dict[str, str]
    comune_by_name: dict[str, str]
    categories: dict[str, dict[str, Any]]
    category_by_name: dict[str, str]
    holders: dict[uuid.UUID, dict[str, Any]]
    resources: dict[uuid.UUID, dict[str, Any]]
    windows: dict[uuid.UUID, list[dict[str, Any]]]
    links: dict[tuple[str, str], dict[str, Any]]

    @classmethod
    async def load(cls, ambito_id: uuid.UUID) -> Existing:
        comuni = {
            r["istat_code"]: r["name"]
            for r in await Comune.select(Comune.istat_code, Comune.name).where(
                Comune.ambito == ambito_id
            )
        }
        terms = await TaxonomyTerm.select(
            TaxonomyTerm.code, TaxonomyTerm.parent_code, TaxonomyTerm.name
        )
        holders = await Holder.select().where(Holder.ambito == ambito_id).output(load_json=True)
        resources = await Resource.select().where(Resource.ambito == ambito_id)
        windows: dict[uuid.UUID, list[dict[str, Any]]] = {}
        ids = [r["id"] for r in resources]
        for lo in range(0, len(ids), 500):
            for row in await AvailabilityWindow.select().where(
                AvailabilityWindow.resource.is_in(ids[lo : lo + 500])
            ):
                windows.setdefault(row["resource"], []).append(row)
        links = await ExternalLink.select().where(ExternalLink.ambito == ambito_id)
        return cls(
            ambito_id=ambito_id,
            comuni=comuni,
            comune_by_name={norm(name): code for code, name in comuni.items()},
            categories={t["code"]: t for t in terms},
            category_by_name={norm(t["name"]): t["code"] for t in terms},
            holders={h["id"]: h for h in holders},
            resources={r["id"]: r for r in resources},
            windows=windows,
            links={(link["entity"], link["external_id"]): link for link in links},
        )


@dataclass(slots=True)
class OrgPlan:
    row: dict[str, Any]
    item: ItemReport
    holder_id: uuid.UUID | None = None
    create: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    authoritative: bool = False
    # The data gave an address: a foreign one field by field (ForeignAddress), else {}.
    address_given: bool = False
    foreign: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class WindowPlan:
    external_id: str
    window_id: uuid.UUID | None
    values: dict[str, Any]
    action: str = "create"  # create | update | unchanged


@dataclass(slots=True)
class ServicePlan:
    row: dict[str, Any]
    item: ItemReport
    org: OrgPlan | None = None
    resource_id: uuid.UUID | None = None
    create: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    windows: list[WindowPlan] | None = None  # None: leave availability as it is
    delete_windows: list[uuid.UUID] = field(default_factory=list)


class Index:
    """Rows of the input grouped by the keys the mapping looks them up by."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.by: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}

    def children(self, entity: str, key: str, value: Any) -> list[dict[str, Any]]:
        if value in (None, ""):
            return []
        groups = self.by.get((entity, key))
        if groups is None:
            groups = {}
            for row in self.tables.list(entity):
                if row.get(key) not in (None, ""):
                    groups.setdefault(str(row[key]), []).append(row)
            self.by[(entity, key)] = groups
        return groups.get(str(value), [])

    def attributes(self, link_id: Any) -> list[dict[str, Any]]:
        return self.children("attribute", "link_id", link_id)

    def term(self, attribute: dict[str, Any]) -> tuple[vocab.Vocabulary | None, dict[str, Any]]:
        term = self.tables.get("taxonomy_term", attribute.get("taxonomy_term_id")) or {}
        vocabulary = vocab.BY_ID.get(str(term.get("taxonomy_id") or ""))
        if vocabulary is None and term.get("taxonomy"):
            vocabulary = next(
                (v for v in vocab.VOCABULARIES if norm(v.name) == norm(term["taxonomy"])), None
            )
        return vocabulary, term


# --- the import ---------------------------------------------------------------------------


class Importer:
    def __init__(
        self,
        existing: Existing,
        tables: Tables,
        schemas: Schemas,
        source: str,
        progress: Progress | None = None,
    ) -> None:
        self.existing = existing
        self.tables = tables
        self.schemas = schemas
        self.source = source
        self.index = Index(tables)
        self.progress = progress or (lambda phase, done, total: None)
        self.warnings: list[str] = [f"{where}: {message}" for where, message in tables.problems]
        self.not_mapped: dict[str, str] = {}
        self.invalid: dict[tuple[str, str], list[str]] = {}
        self.orgs: dict[str, OrgPlan] = {}
        self.services: list[ServicePlan] = []
        self.window_counts = Counts()
        self.claimed_holders: dict[uuid.UUID, str] = {}
        self.claimed_resources: dict[uuid.UUID, str] = {}
        self._new_holder_keys: dict[tuple[str, str], str] = {}

    # -- validation against the HSDS schemas

    def check_schemas(self) -> None:
        for entity, rows in self.tables.rows.items():
            if entity not in self.schemas.documents:
                continue
            for row_id, row in rows.items():
                errors = self.schemas.row_errors(entity, row)
                if errors:
                    self.invalid[(entity, row_id)] = errors
                    if entity not in ("organization", "service", "schedule"):
                        where = self.tables.source(entity, row_id)
                        self.warnings.append(
                            f"{entity} {row_id} ({where}) ignored, not valid HSDS: {errors[0]}"
                        )
        for entity, why in NOT_MAPPED.items():
            count = len(self.tables.rows.get(entity, {}))
            if count:
                self.not_mapped[entity] = f"{count} row(s): {why}"
        for name, count in self.tables.unknown.items():
            self.not_mapped[name] = (
                f"{count} row(s): not an HSDS table" if count >= 0 else "not an HSDS table"
            )

    # -- organizations

    def plan_organizations(self) -> None:
        rows = self.tables.list("organization")
        for done, row in enumerate(rows, start=1):
            self.progress("planning organizations", done, len(rows))
            ext = str(row["id"])
            item = ItemReport(
                entity="organization",
                external_id=ext,
                name=_text(row.get("name")),
                action="create",
                source=self.tables.source("organization", ext),
            )
            plan = OrgPlan(row=row, item=item)
            self.orgs[ext] = plan
            errors = self.invalid.get(("organization", ext))
            if errors:
                self._reject(item, [f"not valid HSDS: {e}" for e in errors])
                continue
            try:
                self._plan_organization(plan)
            except (msgspec.ValidationError, InvalidInput) as error:
                self._reject(item, [_error_text(error)])

    def _reject(self, item: ItemReport, reasons: list[str]) -> None:
        item.action = "reject"
        item.reasons.extend(reasons)
        item.changes = []

    def _org_terms(self, org_id: str) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
        found: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        for attribute in self.index.attributes(org_id):
            vocabulary, term = self.index.term(attribute)
            key = vocabulary.key if vocabulary else "foreign"
            found.setdefault(key, []).append((attribute, term))
        return found

    def _extension(self, terms: dict[str, list[tuple[dict, dict]]], code: str) -> str | None:
        for attribute, term in terms.get(vocab.EXTENSION.key, []):
            if term.get("code") == code:
                return _text(attribute.get("value"))
        return None

    def _plan_organization(self, plan: OrgPlan) -> None:
        row, item, existing = plan.row, plan.item, self.existing
        org_id = str(row["id"])
        terms = self._org_terms(org_id)
        public_listing = self._extension(terms, vocab.EXT_PUBLIC_LISTING)
        # Our own full export carries every field: absent means empty, not unknown.
        plan.authoritative = public_listing is not None
        given: dict[str, Any] = {
            "name": _text(row.get("name")),
            "description": _text(row.get("description")),
        }
        defaults: dict[str, Any] = {}

        kind = next(
            (
                t.get("code")
                for _, t in terms.get(vocab.KIND.key, [])
                if t.get("code") in HolderKind.__members__.values()
            ),
            None,
        )
        if kind is None and row.get("legal_status"):
            legal = norm(row["legal_status"])
            kind = next(
                (
                    k.value
                    for k, label in vocab.KIND_LABELS.items()
                    if legal in (norm(label), k.value)
                ),
                None,
            )
        if kind:
            given["kind"] = kind
        else:
            defaults["kind"] = HolderKind.OTHER.value
        sector = next(
            (
                t.get("code")
                for _, t in terms.get(vocab.SECTOR.key, [])
                if t.get("code") in Sector.__members__.values()
            ),
            None,
        )
        if sector:
            given["sector"] = sector
        else:
            allowed = SECTOR_OF_KIND[HolderKind(kind or defaults["kind"])]
            if kind and len(allowed) == 1:
                given["sector"] = next(iter(allowed)).value
            else:
                defaults["sector"] = (
                    Sector.THIRD_SECTOR.value
                    if Sector.THIRD_SECTOR in allowed
                    else sorted(s.value for s in allowed)[0]
                )

        areas = [t.get("code") for _, t in terms.get(vocab.AREA.key, [])]
        areas += [
            t.get("code")
            for _, t in terms.get("foreign", [])
            if t.get("code") in UserArea.__members__.values()
        ]
        if areas or plan.authoritative:
            given["areas"] = list(dict.fromkeys(a for a in areas if a))
        comuni = []
        for _, term in terms.get(vocab.COMUNE.key, []):
            code, mapped = geo.resolve(_text(term.get("code")))
            if code in existing.comuni:
                comuni.append(code)
                if mapped:
                    item.warnings.append(f"comune: {mapped}")
            else:
                item.warnings.append(f"comune {code} is not a comune of this ambito: ignored")
        if comuni or plan.authoritative:
            given["comuni"] = list(dict.fromkeys(comuni))

        identifiers = self._identifiers(org_id, item)
        if identifiers or plan.authoritative:
            for key in ("codice_fiscale", "partita_iva", "runts_number"):
                given[key] = identifiers.get(key)

        address, seat = self._seat(org_id, item, plan)
        if address is not None:
            given["address"] = address
        elif plan.authoritative:
            given["address"] = ""
        if seat is not None or plan.authoritative:
            given["seat_comune"] = seat

        contacts = self._contacts(row, item)
        if contacts or plan.authoritative:
            given["contacts"] = contacts
        if public_listing is not None:
            given["public_listing"] = public_listing.lower() == "true"
        consent = self._extension(terms, vocab.EXT_CONSENT)
        if consent:
            try:
                given["consent"] = json.loads(consent)
            except ValueError:
                item.warnings.append("the consent record is not JSON: ignored")
        elif plan.authoritative:
            given["consent"] = None

        if norm(given["description"]) in _KIND_LABELS:
            given["description"] = ""  # the placeholder our export writes for "none"
        match = self._match_holder(org_id, given, identifiers)
        if match is not None and match["status"] == "archived":
            item.action = "skip"
            item.local_id = str(match["id"])
            item.reasons.append("matches an archived holder: left as it is")
            return
        if match is not None and match["id"] in self.claimed_holders:
            other = self.claimed_holders[match["id"]]
            self._reject(item, [f"the same holder as organization {other} of this file"])
            return
        if match is None:
            plan.create = True
            for key, value in defaults.items():
                given.setdefault(key, value)
                item.warnings.append(f"no {key} given: '{value}' (review it)")
            if "comuni" not in given:
                given["comuni"] = []
            data = msgspec.convert(given, HolderCreate)
            values = holder_db_values(set_fields(data))
            check_holder_rules(values)
            plan.values = values
            plan.holder_id = uuid.uuid4()
            item.local_id = str(plan.holder_id)
            key = self._holder_key(values.get("name"), values.get("address"))
            self._new_holder_keys[key] = org_id
        else:
            plan.holder_id = match["id"]
            item.local_id = str(match["id"])
            self.claimed_holders[match["id"]] = org_id
            if "contacts" in given:
                given["contacts"] = _keep_websites(given["contacts"], match["contacts"] or [])
            patch = msgspec.convert(given, HolderPatch)
            values = holder_db_values(set_fields(patch))
            check_holder_rules({**match, **values})
            changes = {k: v for k, v in values.items() if not _same(match.get(k), v)}
            plan.values = changes
            item.action = "update" if changes else "unchanged"
            item.changes = sorted(_public_name(k) for k in changes)

    @staticmethod
    def _holder_key(name: Any, address: Any) -> tuple[str, str]:
        return (norm(name), norm(address))

    def _match_holder(
        self, org_id: str, given: dict[str, Any], identifiers: dict[str, str | None]
    ) -> dict[str, Any] | None:
        existing = self.existing
        link = existing.links.get(("organization", org_id))
        if link and link["local_id"] in existing.holders:
            return existing.holders[link["local_id"]]
        try:
            own = uuid.UUID(org_id)
        except ValueError:
            own = None
        if own in existing.holders:
            return existing.holders[own]
        for key in ("codice_fiscale", "partita_iva"):
            value = identifiers.get(key)
            if value:
                for holder in existing.holders.values():
                    if holder[key] and holder[key].upper() == value.upper():
                        return holder
        key = self._holder_key(given.get("name"), given.get("address", ""))
        for holder in existing.holders.values():
            if self._holder_key(holder["name"], holder["address"]) == key:
                return holder
        if key in self._new_holder_keys:
            raise InvalidInput(
                f"the same name and address as organization {self._new_holder_keys[key]} "
                "of this file"
            )
        return None

    def _identifiers(self, org_id: str, item: ItemReport) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for row in self.index.children("organization_identifier", "organization_id", org_id):
            scheme = norm(row.get("identifier_scheme"))
            kind = norm(row.get("identifier_type"))
            value = _text(row.get("identifier"))
            if scheme == "it-cf" or "fiscale" in kind:
                found["codice_fiscale"] = value
            elif scheme == "it-iva" or "iva" in kind or "vat" in kind:
                found["partita_iva"] = value
            elif scheme == "it-runts" or "runts" in kind:
                found["runts_number"] = value
            else:
                item.warnings.append(
                    f"identifier {row.get('identifier_scheme') or row.get('identifier_type')} "
                    f"'{value}' has no field in the registry: ignored"
                )
        return found

    def _seat(
        self, org_id: str, item: ItemReport, plan: OrgPlan | None = None
    ) -> tuple[str | None, str | None]:
        locations = self.index.children("location", "organization_id", org_id)
        locations = [loc for loc in locations if ("location", str(loc["id"])) not in self.invalid]
        if not locations:
            return None, None
        locations.sort(
            key=lambda loc: (
                norm(loc.get("external_identifier_type")) != "istat",
                loc.get("location_type") != "physical",
            )
        )
        location = locations[0]
        if len(locations) > 1:
            item.warnings.append(
                f"{len(locations)} locations: the registry keeps one seat, "
                f"'{_text(location.get('name'))}' was used"
            )
        seat: str | None = None
        code = _text(location.get("external_identifier"))
        if norm(location.get("external_identifier_type")) == "istat" and code:
            code, mapped = geo.resolve(code)
            if code in self.existing.comuni:
                seat = code
                if mapped:
                    item.warnings.append(f"seat comune: {mapped}")
            else:
                item.warnings.append(f"seat comune {code} is not a comune of this ambito")
        addresses = [
            a
            for a in self.index.children("address", "location_id", location["id"])
            if ("address", str(a["id"])) not in self.invalid
        ]
        address: str | None = None
        if addresses:
            first = addresses[0]
            address = ", ".join(
                p for p in (_text(first.get("address_1")), _text(first.get("address_2"))) if p
            )
            city = _text(first.get("city"))
            if plan is not None:
                plan.address_given = True
            country = _text(first.get("country")).upper()
            if country and country not in _ITALY:
                return self._foreign(first, address, city, country, item, plan), None
            if seat is None and city:
                seat = self.existing.comune_by_name.get(norm(city))
                if seat is None:
                    item.warnings.append(
                        f"city '{city}' is not a comune of this ambito: seat comune left empty"
                    )
        return address, seat

    def _foreign(
        self,
        address: dict[str, Any],
        lines: str,
        city: str,
        country: str,
        item: ItemReport,
        plan: OrgPlan | None,
    ) -> str:
        """A foreign address: written in full in the holder's one address line, its parts
        kept for the export (ForeignAddress); never a seat comune."""
        postal = _text(address.get("postal_code"))
        state = _text(address.get("state_province"))
        place = " ".join(p for p in (postal, city) if p)
        line = _shorten(", ".join(p for p in (lines, place, state, country) if p), 300)
        if plan is not None:
            plan.foreign = {
                "address_line": line,
                "address_1": _shorten(_text(address.get("address_1")), 300),
                "address_2": _shorten(_text(address.get("address_2")), 300),
                "city": _shorten(city, 100),
                "state_province": _shorten(state, 100),
                "postal_code": _shorten(postal, 32),
                "country": country[:2],
            }
        item.warnings.append(
            f"address in another country ({country}): written in full in the address, "
            "with no seat comune; the export gives back its city, postal code and country"
        )
        return line

    def _contacts(self, row: dict[str, Any], item: ItemReport) -> list[dict[str, str]]:
        org_id = str(row["id"])
        contacts: list[dict[str, str]] = []

        def add(kind: str, value: Any, label: Any = "") -> None:
            text = _text(value)
            if not text:
                return
            if len(text) > 200:
                item.warnings.append(f"{kind} '{text[:40]}…' is too long: ignored")
                return
            if any(c["kind"] == kind and c["value"] == text for c in contacts):
                return
            contacts.append({"kind": kind, "value": text, "label": _shorten(_text(label), 100)})

        people = self.index.children("contact", "organization_id", org_id)
        for contact in people:
            if ("contact", str(contact["id"])) in self.invalid:
                continue
            if _text(contact.get("name")):
                add("person", contact["name"], contact.get("title") or contact.get("department"))
            elif _text(contact.get("email")):
                add("email", contact["email"], contact.get("department") or contact.get("title"))
        add("email", row.get("email"))
        for url in self.index.children("url", "organization_id", org_id):
            add("website", url.get("url"), url.get("label"))
        add("website", row.get("website"))
        for phone in self.index.children("phone", "organization_id", org_id):
            if ("phone", str(phone["id"])) not in self.invalid:
                add("phone", phone.get("number"), phone.get("description"))
        # Order as the registry shows them: e-mail, website, phone, people.
        order = {"email": 0, "website": 1, "phone": 2, "person": 3}
        contacts.sort(key=lambda c: order[c["kind"]])
        if len(contacts) > 20:
            item.warnings.append(f"{len(contacts)} contacts: only the first 20 are kept")
            contacts = contacts[:20]
        return contacts

    # -- services

    def plan_services(self) -> None:
        rows = self.tables.list("service")
        for done, row in enumerate(rows, start=1):
            self.progress("planning services", done, len(rows))
            ext = str(row["id"])
            item = ItemReport(
                entity="service",
                external_id=ext,
                name=_text(row.get("name")),
                action="create",
                source=self.tables.source("service", ext),
            )
            plan = ServicePlan(row=row, item=item)
            self.services.append(plan)
            errors = self.invalid.get(("service", ext))
            if errors:
                self._reject(item, [f"not valid HSDS: {e}" for e in errors])
                continue
            try:
                self._plan_service(plan)
            except (msgspec.ValidationError, InvalidInput) as error:
                self._reject(item, [_error_text(error)])
        # Capacities and schedules that belong to no service of this file.
        known = {str(r["id"]) for r in rows}
        for entity in ("service_capacity", "service_area", "language"):
            orphans = [
                r
                for r in self.tables.list(entity)
                if r.get("service_id") and str(r["service_id"]) not in known
            ]
            for orphan in orphans:
                self.warnings.append(
                    f"{entity} {orphan['id']} refers to service {orphan['service_id']}, "
                    "which is not in this file: ignored"
                )
        sal_services = {
            str(r["id"]): str(r.get("service_id") or "")
            for r in self.tables.list("service_at_location")
        }
        for schedule in self.tables.list("schedule"):
            owner = str(schedule.get("service_id") or "") or sal_services.get(
                str(schedule.get("service_at_location_id") or ""), ""
            )
            if not owner:
                self.warnings.append(
                    f"schedule {schedule['id']} belongs to a location only: opening hours of "
                    "places are not recorded (availability belongs to resources)"
                )
            elif owner not in known:
                self.warnings.append(
                    f"schedule {schedule['id']} refers to service {owner}, which is not in "
                    "this file: ignored"
                )

    def _service_terms(self, service_id: str) -> dict[str, list[tuple[dict, dict]]]:
        return self._org_terms(service_id)

    def _plan_service(self, plan: ServicePlan) -> None:
        row, item, existing = plan.row, plan.item, self.existing
        service_id = str(row["id"])
        org = self.orgs.get(str(row.get("organization_id") or ""))
        if org is None:
            holder_id = self._known_holder(str(row.get("organization_id") or ""))
            if holder_id is None:
                self._reject(
                    item,
                    [
                        f"its organization '{row.get('organization_id')}' is neither in this "
                        "file nor in the registry"
                    ],
                )
                return
            org = OrgPlan(
                row={},
                item=ItemReport(entity="organization", external_id="", name="", action="unchanged"),
                holder_id=holder_id,
            )
        elif org.item.action in ("reject", "skip"):
            self._reject(item, [f"its organization {org.item.external_id} was not imported"])
            return
        plan.org = org
        terms = self._service_terms(service_id)
        authoritative = org.authoritative
        given: dict[str, Any] = {
            "title": _text(row.get("name")),
            "description": _text(row.get("description")),
        }
        status = norm(row.get("status"))
        mapped_status = {
            "active": "active",
            "temporarily closed": "paused",
            "inactive": "paused",
            "defunct": "archived",
        }.get(status)
        if mapped_status is None:
            raise InvalidInput(f"unknown status '{row.get('status')}'", field="status")
        given["status"] = mapped_status

        category = next((t.get("code") for _, t in terms.get(vocab.CATEGORY.key, [])), None)
        if category is None:
            for _, term in terms.get("foreign", []):
                code = _text(term.get("code"))
                if code in existing.categories:
                    category = code
                elif norm(term.get("name")) in existing.category_by_name:
                    category = existing.category_by_name[norm(term.get("name"))]
                if category:
                    break
        if category:
            given["category_code"] = category

        capacities = self.index.children("service_capacity", "service_id", service_id)
        capacities = [
            c for c in capacities if ("service_capacity", str(c["id"])) not in self.invalid
        ]
        if capacities:
            capacity = capacities[0]
            if len(capacities) > 1:
                item.warnings.append(f"{len(capacities)} capacities: only the first is kept")
            unit = self._unit(capacity, item)
            if unit:
                given["unit"] = unit
            amount = _int(capacity.get("maximum"))
            if amount is None:
                amount = _int(capacity.get("available"))
            if amount is not None:
                given["capacity"] = amount

        areas = self.index.children("service_area", "service_id", service_id)
        if areas or authoritative:
            comuni = []
            for area in areas:
                code = self._comune_of_area(area, item.warnings)
                if code:
                    comuni.append(code)
                else:
                    item.warnings.append(
                        f"service area '{_shorten(_text(area.get('name')), 60)}' is not a comune "
                        "of this ambito: ignored"
                    )
            given["comuni"] = list(dict.fromkeys(comuni))
        groups = [t.get("code") for _, t in terms.get(vocab.AREA.key, [])]
        groups += [
            t.get("code")
            for _, t in terms.get("foreign", [])
            if t.get("code") in UserArea.__members__.values()
        ]
        if groups or authoritative:
            given["target_groups"] = list(dict.fromkeys(g for g in groups if g))
        languages = []
        for language in self.index.children("language", "service_id", service_id):
            code = norm(language.get("code"))
            code = vocab.LANGUAGE_ALIASES.get(code, code)
            if re.fullmatch(r"[a-z]{2}", code):
                languages.append(code)
            elif code or language.get("name"):
                item.warnings.append(
                    f"language '{language.get('code') or language.get('name')}' has no "
                    "ISO 639-1 code: ignored"
                )
        if languages or authoritative:
            given["languages"] = list(dict.fromkeys(languages))
        requirements = [t.get("code") for _, t in terms.get(vocab.REQUIREMENT.key, [])]
        if requirements or authoritative:
            given["requirements"] = list(dict.fromkeys(r for r in requirements if r))
        validity = self._extension(terms, vocab.EXT_VALIDITY)
        if validity:
            try:
                parsed = json.loads(validity)
                given["valid_from"] = parsed.get("valid_from")
                given["valid_until"] = parsed.get("valid_until")
            except (ValueError, AttributeError):
                item.warnings.append("the validity extension is not JSON: ignored")
        elif authoritative:
            given["valid_from"] = None
            given["valid_until"] = None
        assured = _date(row.get("assured_date"))

        match = self._match_resource(service_id, org, given["title"])
        if match is not None and match["status"] == "archived":
            item.action = "skip"
            item.local_id = str(match["id"])
            item.reasons.append("matches an archived resource: left as it is")
            return
        if match is not None and match["id"] in self.claimed_resources:
            self._reject(
                item,
                [
                    f"the same resource as service {self.claimed_resources[match['id']]} "
                    "of this file"
                ],
            )
            return
        if match is None:
            if given["status"] == "archived":
                item.action = "skip"
                item.reasons.append("a defunct service is not created")
                return
            plan.create = True
            if "category_code" not in given:
                given["category_code"] = FALLBACK_CATEGORY
                item.warnings.append(
                    f"no category of the registry: filed under '{FALLBACK_CATEGORY}' (review it)"
                )
            if "unit" not in given:
                given["unit"] = _default_unit(given["category_code"], existing)
                item.warnings.append(f"no unit given: '{given['unit']}' (review it)")
            data = msgspec.convert(given, ResourceCreate)
            values = set_fields(data)
            values.pop("holder_id", None)
            self._check_resource(values, {})
            plan.values = resource_db_values(values)
            moment = datetime.combine(assured, time(), tzinfo=UTC) if assured else None
            plan.values["confirmed_at"] = moment
            plan.resource_id = uuid.uuid4()
        else:
            plan.resource_id = match["id"]
            self.claimed_resources[match["id"]] = service_id
            holder_change = org.holder_id if match["holder"] != org.holder_id else None
            patch = msgspec.convert(given, ResourcePatch)
            values = set_fields(patch)
            self._check_resource(values, match)
            values = resource_db_values(values)
            # The registry's own derived states are not undone by a source that cannot
            # express them: stale and expired resources export as active / inactive.
            if values.get("status") == "active" and match["status"] == "stale":
                values.pop("status")
            if values.get("status") == "paused" and match["status"] == "expired":
                values.pop("status")
            if holder_change:
                values["holder"] = holder_change
            changes = {k: v for k, v in values.items() if not _same(match.get(k), v)}
            if assured and (
                match["confirmed_at"] is None
                or assured > match["confirmed_at"].astimezone(UTC).date()
            ):
                changes["confirmed_at"] = datetime.combine(assured, time(), tzinfo=UTC)
            plan.values = changes
            item.changes = sorted(_public_name(k) for k in changes)
        item.local_id = str(plan.resource_id)
        self._plan_windows(plan, service_id, match)
        if not plan.create:
            window_changed = any(w.action != "unchanged" for w in plan.windows or []) or bool(
                plan.delete_windows
            )
            if window_changed:
                item.changes.append("availability")
            item.action = "update" if item.changes else "unchanged"

    def _check_resource(self, values: dict[str, Any], current: dict[str, Any]) -> None:
        code = values.get("category_code")
        if code is not None and code not in self.existing.categories:
            raise InvalidInput(f"unknown category '{code}'", field="category_code")
        for index, comune in enumerate(values.get("comuni") or []):
            if comune not in self.existing.comuni:
                raise InvalidInput(
                    f"{comune} is not a comune of this ambito", field=f"comuni[{index}]"
                )
        start = values.get("valid_from", current.get("valid_from"))
        end = values.get("valid_until", current.get("valid_until"))
        if start and end and end < start:
            raise InvalidInput("valid_until must not be before valid_from", field="valid_until")

    def _known_holder(self, org_id: str) -> uuid.UUID | None:
        if not org_id:
            return None
        link = self.existing.links.get(("organization", org_id))
        if link and link["local_id"] in self.existing.holders:
            return link["local_id"]
        try:
            own = uuid.UUID(org_id)
        except ValueError:
            return None
        return own if own in self.existing.holders else None

    def _match_resource(self, service_id: str, org: OrgPlan, title: str) -> dict[str, Any] | None:
        existing = self.existing
        link = existing.links.get(("service", service_id))
        if link and link["local_id"] in existing.resources:
            return existing.resources[link["local_id"]]
        try:
            own = uuid.UUID(service_id)
        except ValueError:
            own = None
        if own in existing.resources:
            return existing.resources[own]
        if org.create or org.holder_id is None:
            return None
        for resource in existing.resources.values():
            if resource["holder"] == org.holder_id and norm(resource["title"]) == norm(title):
                return resource
        return None

    def _unit(self, capacity: dict[str, Any], item: ItemReport) -> str | None:
        unit = self.tables.get("unit", capacity.get("unit_id")) or {}
        codes = vocab.unit_codes()
        identifier = _text(unit.get("identifier"))
        if identifier in codes:
            return identifier
        name = norm(unit.get("name"))
        for code in codes:
            if name in (code, norm(vocab.unit_label(code)), code.replace("_", " ")):
                return code
        if unit:
            item.warnings.append(f"unit '{unit.get('name')}' has no equivalent in the registry")
        return None

    def _comune_of_area(self, area: dict[str, Any], warnings: list[str]) -> str | None:
        comuni = self.existing.comuni
        codes = [
            _text(term.get("code"))
            for vocabulary, term in map(self.index.term, self.index.attributes(area["id"]))
            if vocabulary is vocab.COMUNE
        ]
        for key in ("extent", "uri", "name", "description"):
            codes += _ISTAT.findall(_text(area.get(key)))
        for given in codes:
            # A suppressed code (a merger...) stands for its successor of today.
            code, mapped = geo.resolve(given)
            if code in comuni:
                if mapped:
                    warnings.append(f"service area: {mapped}")
                return code
        return self.existing.comune_by_name.get(norm(area.get("name")))

    # -- schedules

    def _schedules_of(self, service_id: str) -> list[dict[str, Any]]:
        found = list(self.index.children("schedule", "service_id", service_id))
        for sal in self.index.children("service_at_location", "service_id", service_id):
            for schedule in self.index.children("schedule", "service_at_location_id", sal["id"]):
                if schedule not in found:
                    found.append(schedule)
        return found

    def _plan_windows(
        self, plan: ServicePlan, service_id: str, match: dict[str, Any] | None
    ) -> None:
        schedules = self._schedules_of(service_id)
        if not schedules:
            return
        item = plan.item
        wanted: list[tuple[str, dict[str, Any]]] = []
        complete = True
        for schedule in schedules:
            ext = str(schedule["id"])
            errors = self.invalid.get(("schedule", ext))
            try:
                if errors:
                    raise InvalidInput(f"not valid HSDS: {errors[0]}")
                wanted.append((ext, self._window_values(schedule, item)))
            except (msgspec.ValidationError, InvalidInput) as error:
                complete = False
                self.window_counts.skipped += 1
                item.warnings.append(f"schedule {ext} skipped: {_error_text(error)}")
        if not complete and match is not None:
            item.warnings.append("availability left as it is, since a schedule could not be read")
            return
        current = {
            w["id"]: w for w in (self.existing.windows.get(match["id"], []) if match else [])
        }
        unmatched = dict(current)
        windows: list[WindowPlan] = []
        pending: list[tuple[str, dict[str, Any]]] = []
        for ext, values in wanted:
            window_id = None
            link = self.existing.links.get(("schedule", ext))
            if link and link["local_id"] in unmatched:
                window_id = link["local_id"]
            else:
                try:
                    own = uuid.UUID(ext)
                except ValueError:
                    own = None
                if own in unmatched:
                    window_id = own
            if window_id is None:
                pending.append((ext, values))
                continue
            old = unmatched.pop(window_id)
            changed = any(not _same(old.get(k), v) for k, v in values.items())
            windows.append(WindowPlan(ext, window_id, values, "update" if changed else "unchanged"))
        for ext, values in pending:
            same = next(
                (
                    wid
                    for wid, old in unmatched.items()
                    if all(_same(old.get(k), v) for k, v in values.items())
                ),
                None,
            )
            if same is not None:
                unmatched.pop(same)
                windows.append(WindowPlan(ext, same, values, "unchanged"))
            else:
                windows.append(WindowPlan(ext, None, values, "create"))
        plan.windows = windows
        plan.delete_windows = list(unmatched)

    def _window_values(self, schedule: dict[str, Any], item: ItemReport) -> dict[str, Any]:
        attributes = {}
        for attribute in self.index.attributes(schedule["id"]):
            vocabulary, term = self.index.term(attribute)
            if vocabulary is vocab.EXTENSION:
                attributes[term.get("code")] = _text(attribute.get("value"))
        freq = _text(schedule.get("freq")).upper()
        interval = _int(schedule.get("interval")) or 1
        by_day = [d.strip().upper() for d in _text(schedule.get("byday")).split(",") if d.strip()]
        rule = attributes.get(vocab.EXT_RRULE)
        if rule:
            parts = dict(m.groups() for p in rule.split(";") if (m := _RRULE_PART.match(p.strip())))
            freq = parts.get("FREQ", freq)
            interval = _int(parts.get("INTERVAL")) or 1
            by_day = [d for d in parts.get("BYDAY", "").split(",") if d]
        if not freq:
            raise InvalidInput("no freq: the schedule is not a recurring rule", field="freq")
        ext = str(schedule["id"])
        for key in ("bymonthday", "byweekno", "byyearday"):
            if _text(schedule.get(key)):
                item.warnings.append(f"schedule {ext}: {key} is not supported: ignored")
        if _text(schedule.get("count")):
            item.warnings.append(
                f"schedule {ext}: count is not supported (valid_to bounds the rule): ignored"
            )
        if _text(schedule.get("wkst")) not in ("", "MO"):
            item.warnings.append(
                f"schedule {ext}: weeks start on Monday in the registry (wkst ignored)"
            )
        opens, closes = _hhmm(schedule.get("opens_at")), _hhmm(schedule.get("closes_at"))
        if opens is None or closes is None:
            raise InvalidInput(
                "opens_at and closes_at (HH:MM) are needed for a window", field="opens_at"
            )
        valid_from = _date(schedule.get("valid_from")) or _date(schedule.get("dtstart"))
        if valid_from is None:
            valid_from = DEFAULT_VALID_FROM
            item.warnings.append(
                f"schedule {ext}: no start date, valid from {valid_from.isoformat()}"
            )
        ends = [d for d in (_date(schedule.get("valid_to")), _date(schedule.get("until"))) if d]
        notes = _text(schedule.get("notes"))
        if len(notes) > 300:
            item.warnings.append(f"schedule {ext}: notes shortened to 300 characters")
            notes = _shorten(notes, 300)
        exceptions = [
            d for d in (attributes.get(vocab.EXT_EXCEPTIONS) or "").split(",") if d.strip()
        ]
        data = msgspec.convert(
            {
                "freq": freq,
                "interval": interval,
                "by_day": by_day,
                "start_time": opens,
                "end_time": closes,
                "valid_from": valid_from,
                "valid_until": min(ends) if ends else None,
                "exceptions": [e.strip() for e in exceptions],
                "capacity": _int(attributes.get(vocab.EXT_WINDOW_CAPACITY)) or 1,
                "notes": notes,
            },
            WindowIn,
        )
        return window_db_values(data)

    # -- the report

    def report(self, *, dry_run: bool, applied: bool) -> HsdsImportReport:
        counts: dict[str, Counts] = {"organization": Counts(), "service": Counts()}
        items = [p.item for p in self.orgs.values()] + [p.item for p in self.services]
        keys = {
            "create": "created",
            "update": "updated",
            "unchanged": "unchanged",
            "reject": "rejected",
            "skip": "skipped",
        }
        for item in items:
            counter = counts[item.entity]
            setattr(counter, keys[item.action], getattr(counter, keys[item.action]) + 1)
        counts["schedule"] = self.window_counts
        return HsdsImportReport(
            dry_run=dry_run,
            applied=applied,
            source=self.source,
            rows_read=self.tables.count(),
            created=counts["organization"].created + counts["service"].created,
            updated=counts["organization"].updated + counts["service"].updated,
            unchanged=counts["organization"].unchanged + counts["service"].unchanged,
            rejected=counts["organization"].rejected + counts["service"].rejected,
            counts=counts,
            items=items,
            warnings=self.warnings,
            not_mapped=self.not_mapped,
        )

    # -- writing

    async def apply(self) -> None:
        moment = now()
        ambito_id = self.existing.ambito_id
        new_holders = [p for p in self.orgs.values() if p.item.action == "create"]
        updated_holders = [p for p in self.orgs.values() if p.item.action == "update"]
        new_resources = [p for p in self.services if p.item.action == "create"]
        updated_resources = [p for p in self.services if p.item.action == "update"]
        total = (
            len(new_holders) + len(updated_holders) + len(new_resources) + len(updated_resources)
        )
        done = 0

        def step(count: int = 1) -> None:
            nonlocal done
            done += count
            self.progress("writing", done, total)

        links: list[tuple[str, str, uuid.UUID]] = []
        async with unit_of_work():
            for lo in range(0, len(new_holders), _CHUNK):
                chunk = new_holders[lo : lo + _CHUNK]
                await Holder.insert(
                    *[
                        Holder(
                            id=p.holder_id,
                            **p.values,
                            ambito=ambito_id,
                            created_at=moment,
                            updated_at=moment,
                        )
                        for p in chunk
                    ]
                )
                step(len(chunk))
            for p in updated_holders:
                await Holder.update({**p.values, "updated_at": moment}).where(
                    Holder.id == p.holder_id
                )
                step()
            for p in self.orgs.values():
                if p.item.action in ("create", "update", "unchanged") and p.holder_id:
                    links.append(("organization", p.item.external_id, p.holder_id))
                    if p.address_given:
                        await self._write_foreign(p, moment)
            for lo in range(0, len(new_resources), _CHUNK):
                chunk = new_resources[lo : lo + _CHUNK]
                rows = []
                for p in chunk:
                    values = dict(p.values)
                    confirmed = values.pop("confirmed_at", None) or moment
                    rows.append(
                        Resource(
                            id=p.resource_id,
                            **values,
                            ambito=ambito_id,
                            holder=p.org.holder_id,  # type: ignore[union-attr]
                            created_at=moment,
                            updated_at=moment,
                            confirmed_at=confirmed,
                        )
                    )
                await Resource.insert(*rows)
                step(len(chunk))
            for p in updated_resources:
                if p.values:
                    await Resource.update({**p.values, "updated_at": moment}).where(
                        Resource.id == p.resource_id
                    )
                step()
            new_windows = []
            for p in self.services:
                if p.item.action not in ("create", "update", "unchanged") or p.resource_id is None:
                    continue
                links.append(("service", p.item.external_id, p.resource_id))
                if p.delete_windows:
                    await AvailabilityWindow.delete().where(
                        AvailabilityWindow.id.is_in(p.delete_windows)
                    )
                for w in p.windows or []:
                    if w.action == "create":
                        w.window_id = uuid.uuid4()
                        new_windows.append(
                            AvailabilityWindow(
                                id=w.window_id,
                                **w.values,
                                resource=p.resource_id,
                                created_at=moment,
                                updated_at=moment,
                            )
                        )
                    elif w.action == "update":
                        await AvailabilityWindow.update({**w.values, "updated_at": moment}).where(
                            AvailabilityWindow.id == w.window_id
                        )
                    links.append(("schedule", w.external_id, w.window_id))  # type: ignore[arg-type]
            for lo in range(0, len(new_windows), _CHUNK):
                await AvailabilityWindow.insert(*new_windows[lo : lo + _CHUNK])
            await self._write_links(links, moment)

    async def _write_foreign(self, plan: OrgPlan, moment: datetime) -> None:
        """The holder's foreign address parts: replaced by what the data says now."""
        await ForeignAddress.delete().where(ForeignAddress.holder == plan.holder_id)
        if plan.foreign:
            await ForeignAddress(holder=plan.holder_id, **plan.foreign, updated_at=moment).save()

    async def _write_links(self, links: list[tuple[str, str, uuid.UUID]], moment: datetime) -> None:
        fresh = []
        for entity, external_id, local_id in links:
            if not external_id or external_id == str(local_id):
                continue  # our own id: found again without a link
            current = self.existing.links.get((entity, external_id))
            if current is None:
                fresh.append(
                    ExternalLink(
                        ambito=self.existing.ambito_id,
                        entity=entity,
                        external_id=external_id[:200],
                        local_id=local_id,
                        source=self.source[:300],
                        created_at=moment,
                        updated_at=moment,
                    )
                )
            elif current["local_id"] != local_id:
                await ExternalLink.update(
                    {ExternalLink.local_id: local_id, ExternalLink.updated_at: moment}
                ).where(ExternalLink.id == current["id"])
        for lo in range(0, len(fresh), _CHUNK):
            await ExternalLink.insert(*fresh[lo : lo + _CHUNK])

    def count_windows(self) -> None:
        for p in self.services:
            if p.item.action in ("reject", "skip"):
                continue
            for w in p.windows or []:
                if w.action == "create":
                    self.window_counts.created += 1
                elif w.action == "update":
                    self.window_counts.updated += 1
                else:
                    self.window_counts.unchanged += 1
            self.window_counts.deleted += len(p.delete_windows)


def _keep_websites(
    new: list[dict[str, str]], current: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """Our export writes "www.x.it" as "http://www.x.it" (HSDS wants a URI): reading it back
    is no change."""
    typed = {c["value"] for c in current if c.get("kind") == "website"}
    for contact in new:
        if contact["kind"] == "website" and contact["value"].startswith("http://"):
            bare = contact["value"].removeprefix("http://")
            if bare in typed:
                contact["value"] = bare
    return new


def _default_unit(category: str, existing: Existing) -> str:
    """A sensible unit for a resource that came without one, from its category."""
    top = category
    while existing.categories.get(top, {}).get("parent_code"):
        top = existing.categories[top]["parent_code"]
    if category == "trasporto":
        return ResourceUnit.TRIPS.value
    if category == "pasti":
        return ResourceUnit.MEALS.value
    return {"spazi": ResourceUnit.ROOM_HOURS.value, "beni": ResourceUnit.ITEMS.value}.get(
        top, ResourceUnit.HOURS.value
    )


_PUBLIC_NAMES = {
    "consent_given_by": "consent",
    "consent_given_at": "consent",
    "consent_text_version": "consent",
    "holder": "holder_id",
}


def _public_name(column: str) -> str:
    return _PUBLIC_NAMES.get(column, column)


def _same(current: Any, new: Any) -> bool:
    """Equality between a stored value and a planned one, across the two backends' types."""
    if isinstance(current, datetime) and isinstance(new, datetime):
        return current.astimezone(UTC) == new.astimezone(UTC)
    if isinstance(current, str) and isinstance(new, (datetime, date, time)):
        return current == new.isoformat()
    if isinstance(current, (list, tuple)) and isinstance(new, (list, tuple)):
        return len(current) == len(new) and all(
            _same(a, b) for a, b in zip(current, new, strict=True)
        )
    if current is None and new == "":
        return True
    if hasattr(new, "value") and not isinstance(new, (int, str)):
        new = new.value
    return current == new


# --- entry points -------------------------------------------------------------------------


# Our own export nests about 6 levels; HSDS "full" shapes a few more. Deeper is not data.
MAX_JSON_DEPTH = 64


def _json_depth_ok(document: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether no container is nested deeper than `limit` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return False
                stack.append((child, depth + 1))
    return True


def parse_json(data: bytes) -> Any:
    """An uploaded JSON document, refused (400) when unreadable or nested too deep."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except RecursionError as error:
        raise InvalidInput(
            f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep: not HSDS", field="file"
        ) from error
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(
            f"the file is neither HSDS JSON nor a zipped CSV data package: {error}", field="file"
        ) from error
    if isinstance(document, dict | list) and not _json_depth_ok(document):
        raise InvalidInput(
            f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep: not HSDS", field="file"
        )
    return document


def read_input(
    data: bytes, filename: str, schemas: Schemas, progress: Progress | None = None
) -> Tables:
    """Bytes of an uploaded file: HSDS JSON, or a zip of a CSV data package."""
    name = filename.lower()
    if data[:4] == b"PK\x03\x04" or name.endswith(".zip"):
        return package.from_files(package.read_zip(data), schemas, progress)
    return package.from_json(parse_json(data), schemas)


def require_hsds(tables: Tables) -> None:
    """Refuse (400) an input in which nothing has an HSDS shape: `42`, `[]`, a JSON object
    of other keys, a zip without HSDS tables. An HSDS collection that is empty is fine.

    HSDS 1.x/2.x is refused too, saying so: its organizations and services look like 3.x,
    but its addresses and schedules (physical_addresses, regular_schedules...) would be lost
    table by table. Mapping it is left to the converters of Open Referral."""
    if tables.legacy:
        found = ", ".join(tables.legacy[:5])
        raise InvalidInput(
            f"this is HSDS 1.x/2.x data (it has {found}, which HSDS 3.0 replaced with "
            "address and schedule): the registry imports HSDS 3.x only, and importing it "
            "as 3.x would lose its locations, addresses and schedules. Convert it to HSDS "
            "3.x first (Open Referral publishes a migration guide and converters)",
            field="file",
        )
    if tables.recognised:
        return
    found = "; ".join(f"{where}: {message}" for where, message in tables.problems[:3])
    unknown = ", ".join(list(tables.unknown)[:5])
    detail = found or (f"files not HSDS: {unknown}" if unknown else "no records")
    raise InvalidInput(
        "this is not HSDS data: expected HSDS 3.1 JSON (organizations, services, an API "
        f"page...) or a zipped CSV data package of HSDS tables ({detail})",
        field="file",
    )


async def import_tables(
    actor: Principal,
    tables: Tables,
    *,
    source: str,
    dry_run: bool = False,
    strict: bool = False,
    schemas: Schemas | None = None,
    progress: Progress | None = None,
) -> HsdsImportReport:
    actor.require(Role.UDP_ADMIN)
    require_hsds(tables)
    schemas = schemas or packaged()

    def plan_in_memory(importer: Importer) -> Importer:
        importer.check_schemas()
        importer.plan_organizations()
        importer.plan_services()
        importer.count_windows()
        return importer

    async def plan() -> Importer:
        existing = await Existing.load(actor.ambito_id)
        importer = Importer(existing, tables, schemas, source, progress)
        # Planning is pure Python over what was loaded: a worker thread, not the event loop.
        return await anyio.to_thread.run_sync(plan_in_memory, importer)

    def rejected(importer: Importer) -> bool:
        items = [p.item for p in importer.orgs.values()] + [p.item for p in importer.services]
        return any(i.action == "reject" for i in items)

    applied = blocked = False
    if dry_run:
        importer = await plan()
    else:
        # Planned and written in one transaction: what is written is exactly what was
        # planned on the data as it was (no concurrent change slips in between).
        async with unit_of_work():
            importer = await plan()
            blocked = strict and rejected(importer)
            if not blocked:
                await importer.apply()
                applied = True
    report = importer.report(dry_run=dry_run, applied=applied)
    if blocked and not dry_run:
        report.warnings.insert(
            0, "strict import: nothing was written, since some records were rejected"
        )
    return report


async def import_hsds(
    actor: Principal,
    data: bytes,
    filename: str,
    *,
    dry_run: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
) -> HsdsImportReport:
    actor.require(Role.UDP_ADMIN)
    schemas = packaged()
    # Parsing and checking the upload is pure Python: in a worker thread, not on the loop.
    tables = await anyio.to_thread.run_sync(read_input, data, filename, schemas, progress)
    return await import_tables(
        actor,
        tables,
        source=filename,
        dry_run=dry_run,
        strict=strict,
        schemas=schemas,
        progress=progress,
    )
