"""What an HSDS import plans with: the values' readers, what the ambito already holds,
the plan of each organization, service and schedule, the input's index, and the
importer's shared state (the schemas' check, the report)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from registry.ambiti.tables import Comune
from registry.errors import InvalidInput
from registry.holders.tables import Holder
from registry.interop import vocab
from registry.interop.hsds_schema import Schemas
from registry.interop.package import Tables
from registry.interop.schemas import Counts, HsdsImportReport, ItemReport
from registry.interop.tables import ExternalLink
from registry.resources.tables import AvailabilityWindow, Resource
from registry.taxonomy.tables import TaxonomyTerm
from registry.vocabularies import ResourceUnit

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


class _ImporterBase:
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
