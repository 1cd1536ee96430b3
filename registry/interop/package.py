"""HSDS in tables: nested JSON <-> one row list per entity, and the CSV data package.

`flatten` turns any HSDS JSON shape (organization_full, service_full, paginated lists,
tabular JSON, our export document) into rows per entity, the same rows the CSV form holds,
with the foreign keys filled from the nesting. The export writes those rows as a
Frictionless tabular data package (datapackage.json + one CSV per table, zipped); the
import reads a data package through registry/tabular/reading.py, the project's one CSV reader.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from registry.interop.hsds_schema import Schemas, TableLayout
from registry.interop.vocab import stable_id
from registry.tabular import reading, writing

# Properties that nest another entity although the schema does not list them
# (organization_full.json nests "services"; service_at_location_full.json nests "service").
_EXTRA_ARRAYS = {("organization", "services"): "service"}
_EXTRA_SINGLE = {("service_at_location", "service"): "service"}
# A single nested object sets this key of its parent.
_SINGLE_FK = {
    "organization": "organization_id",
    "program": "program_id",
    "taxonomy_term": "taxonomy_term_id",
    "taxonomy_detail": "taxonomy_id",
    "unit": "unit_id",
    "location": "location_id",
    "service": "service_id",
}
MAX_PACKAGE_ROWS = 1_000_000
# Tables and properties of HSDS 1.x/2.x that 3.0 renamed or merged (physical and postal
# addresses became `address`, regular and holiday schedules `schedule`, ...). Their
# presence tells an older version, whose locations, addresses and schedules would
# otherwise be dropped table by table without a word.
LEGACY_NAMES = frozenset(
    {
        "physical_addresses",
        "postal_addresses",
        "regular_schedules",
        "holiday_schedules",
        "services_at_location",
        "service_taxonomy",
        "accessibility_for_disabilities",
        "payment_accepted",
        "eligibility",
    }
)


@dataclass(slots=True)
class Tables:
    """Rows per entity, deduplicated by id; `sources` says where each row came from."""

    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, message)
    unknown: dict[str, int] = field(default_factory=dict)  # files/keys not HSDS
    # The input had an HSDS shape (a known collection, page or table), even if empty.
    recognised: bool = False
    # Tables or properties only HSDS 1.x/2.x has (LEGACY_NAMES), where they were found.
    legacy: list[str] = field(default_factory=list)

    def add(self, entity: str, row: dict[str, Any], source: str) -> str:
        row_id = row.get("id")
        if row_id in (None, ""):
            row_id = stable_id("anonymous", entity, source)
            row["id"] = row_id
        row_id = str(row_id)
        self.recognised = True
        table = self.rows.setdefault(entity, {})
        current = table.get(row_id)
        if current is None:
            table[row_id] = row
            self.sources[(entity, row_id)] = source
        else:
            # The same record nested twice (a phone under its contact and its location):
            # one row, with every foreign key either occurrence gave.
            for key, value in row.items():
                if current.get(key) in (None, "") and value not in (None, ""):
                    current[key] = value
        return row_id

    def list(self, entity: str) -> list[dict[str, Any]]:
        return list(self.rows.get(entity, {}).values())

    def get(self, entity: str, row_id: Any) -> dict[str, Any] | None:
        if row_id in (None, ""):
            return None
        return self.rows.get(entity, {}).get(str(row_id))

    def source(self, entity: str, row_id: str) -> str:
        return self.sources.get((entity, row_id), "")

    def count(self) -> int:
        return sum(len(t) for t in self.rows.values())


class Flattener:
    def __init__(self, schemas: Schemas) -> None:
        self.schemas = schemas
        self.arrays: dict[tuple[str, str], str] = dict(_EXTRA_ARRAYS)
        self.singles: dict[tuple[str, str], str] = dict(_EXTRA_SINGLE)
        self.columns: dict[str, set[str]] = {}
        for entity, document in schemas.documents.items():
            self.columns[entity] = set()
            for name, spec in document.get("properties", {}).items():
                ref = spec.get("$ref") or spec.get("items", {}).get("$ref")
                if ref:
                    target = PurePosixPath(ref).stem
                    if spec.get("type") == "array":
                        self.arrays[(entity, name)] = target
                    else:
                        self.singles[(entity, name)] = target
                elif spec.get("type") not in ("array", "object"):
                    self.columns[entity].add(name)

    def flatten(
        self,
        entity: str,
        obj: dict[str, Any],
        tables: Tables,
        source: str,
        parent: tuple[str, str] | None = None,
    ) -> str:
        row: dict[str, Any] = {}
        nested: list[tuple[str, str, Any]] = []
        for key, value in obj.items():
            if (entity, key) in self.arrays:
                nested.append(("array", key, value))
            elif (entity, key) in self.singles:
                nested.append(("single", key, value))
            elif key in self.columns.get(entity, ()):
                row[key] = value
        if parent is not None:
            parent_entity, parent_id = parent
            if entity == "attribute":
                row.setdefault("link_id", parent_id)
                row.setdefault("link_entity", parent_entity)
            elif entity == "metadata":
                row.setdefault("resource_id", parent_id)
                row.setdefault("resource_type", parent_entity)
            elif f"{parent_entity}_id" in self.columns.get(entity, ()) and row.get(
                f"{parent_entity}_id"
            ) in (None, ""):
                row[f"{parent_entity}_id"] = parent_id
        # Single nested objects first: they set this row's foreign keys.
        for kind, key, value in nested:
            if kind == "single" and isinstance(value, dict):
                target = self.singles[(entity, key)]
                child_id = self.flatten(target, value, tables, f"{source}.{key}")
                fk = _SINGLE_FK.get(key) or _SINGLE_FK.get(target)
                if fk and fk in self.columns.get(entity, ()) and row.get(fk) in (None, ""):
                    row[fk] = child_id
        row_id = tables.add(entity, row, source)
        for kind, key, value in nested:
            if kind == "array" and isinstance(value, list):
                target = self.arrays[(entity, key)]
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        self.flatten(
                            target, item, tables, f"{source}.{key}[{index}]", (entity, row_id)
                        )
                    else:
                        tables.problems.append((f"{source}.{key}[{index}]", "not an object"))
        return row_id


def detect_entity(obj: dict[str, Any]) -> str | None:
    """Which HSDS entity a lone JSON object is (paginated lists and single records)."""
    if "location" in obj and ("service" in obj or "service_id" in obj):
        return "service_at_location"
    if "location_type" in obj:
        return "location"
    if "status" in obj or "service_areas" in obj or "capacities" in obj:
        return "service"
    if "taxonomy_detail" in obj or "taxonomy_id" in obj or "parent_id" in obj or "term_uri" in obj:
        return "taxonomy_term"
    if "version" in obj and "name" in obj and "id" in obj and "services" not in obj:
        return "taxonomy"
    if "name" in obj and "id" in obj:
        return "organization"
    return None


_TOP_KEYS = {
    "organizations": "organization",
    "services": "service",
    "locations": "location",
    "service_at_locations": "service_at_location",
    "taxonomies": "taxonomy",
    "taxonomy_terms": "taxonomy_term",
}


def _legacy_keys(document: Any, depth: int = 0) -> set[str]:
    """LEGACY_NAMES used as keys (or as `name.csv` keys) in the first levels of a JSON."""
    found: set[str] = set()
    if depth > 6:  # collection > records > nested records > their lists: deep enough
        return found
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(key, str) and key.removesuffix(".csv") in LEGACY_NAMES:
                found.add(key)
            if isinstance(value, dict | list):
                found |= _legacy_keys(value, depth + 1)
    elif isinstance(document, list):
        for item in document[:50]:  # a sample is enough to tell the version
            found |= _legacy_keys(item, depth + 1)
    return found


def from_json(document: Any, schemas: Schemas) -> Tables:
    flattener = Flattener(schemas)
    tables = Tables()
    tables.legacy = sorted(_legacy_keys(document))

    def add_many(entity: str | None, items: Iterable[Any], where: str) -> None:
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                tables.problems.append((f"{where}[{index}]", "not an object"))
                continue
            kind = entity or detect_entity(item)
            if kind is None:
                tables.problems.append((f"{where}[{index}]", "not an HSDS record"))
                continue
            flattener.flatten(kind, item, tables, f"{where}[{index}]")

    if isinstance(document, list):
        add_many(None, document, "$")
    elif isinstance(document, dict):
        csv_keys = [k for k in document if isinstance(k, str) and k.endswith(".csv")]
        if csv_keys:  # tabular JSON: {"organizations.csv": [rows...], ...}
            for key in csv_keys:
                entity = schemas.entity_of_path(key)
                rows = document[key] or []
                if entity is None or not isinstance(rows, list):
                    tables.unknown[key] = len(rows) if isinstance(rows, list) else 0
                    continue
                tables.recognised = True
                for index, row in enumerate(rows):
                    if not isinstance(row, dict):
                        tables.problems.append((f"{key}[{index}]", "not an object"))
                        continue
                    flat = {k: v for k, v in row.items() if k in flattener.columns[entity]}
                    tables.add(entity, flat, f"{key}[{index}]")
        elif isinstance(document.get("contents"), list):  # an HSDS API page
            tables.recognised = "total_items" in document or bool(document["contents"])
            add_many(None, document["contents"], "$.contents")
        elif "id" not in document and any(key in document for key in _TOP_KEYS):
            # A collection such as our export ({"organizations": [...], ...}); a record with
            # nested "services" (organization_full) has an id of its own.
            for key, entity in _TOP_KEYS.items():
                if isinstance(document.get(key), list):
                    tables.recognised = True
                    add_many(entity, document[key], f"$.{key}")
        else:
            entity = detect_entity(document)
            if entity is not None:
                flattener.flatten(entity, document, tables, "$")
            elif {"version", "openapi_url"} <= set(document):
                # An HSDS API's root document: HSDS, but it holds no records.
                tables.recognised = True
                tables.problems.append(("$", "the HSDS API root document holds no records"))
            else:
                tables.problems.append(("$", "no HSDS records found in this JSON"))
    else:
        tables.problems.append(("$", "the JSON is neither an object nor a list"))
    return tables


# --- CSV data package ---------------------------------------------------------------------

_FRICTIONLESS_TYPES = {"number": "number", "integer": "integer", "string": "string"}


def datapackage_descriptor(schemas: Schemas, name: str, title: str) -> dict[str, Any]:
    """A Frictionless tabular data package descriptor generated from the HSDS schemas."""
    resources = []
    for layout in schemas.layouts():
        fields = []
        for f in layout.fields:
            spec: dict[str, Any] = {
                "name": f.name,
                "type": f.datapackage_type or _FRICTIONLESS_TYPES.get(f.type, "string"),
                "description": f.description,
            }
            if f.format in ("uuid", "email", "uri") and spec["type"] == "string":
                spec["format"] = f.format
            constraints: dict[str, Any] = {}
            if f.name in layout.required:
                constraints["required"] = True
            if f.unique:
                constraints["unique"] = True
            if constraints:
                spec["constraints"] = constraints
            fields.append(spec)
        resources.append(
            {
                "name": layout.entity,
                "path": layout.path,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": layout.description,
                "schema": {"fields": fields, "primaryKey": ["id"]},
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": name,
        "title": title,
        "version": "3.1",
        "licenses": [{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0"}],
        "resources": resources,
    }


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_files(tables: Tables, schemas: Schemas) -> dict[str, bytes]:
    """One CSV per HSDS table (every table, empty ones with their header only)."""
    files: dict[str, bytes] = {}
    for layout in schemas.layouts():
        columns = [f.name for f in layout.fields]
        rows = [{c: _cell(row.get(c)) for c in columns} for row in tables.list(layout.entity)]
        # For programs, though people open them in spreadsheets too: no BOM, "+39 031..."
        # stays a phone number, but "=HYPERLINK(...)" gets the apostrophe (README).
        files[layout.path] = writing.to_csv(columns, rows, bom=False, formulas="machine")
    return files


def datapackage_zip(tables: Tables, schemas: Schemas, name: str, title: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        descriptor = datapackage_descriptor(schemas, name, title)
        archive.writestr("datapackage.json", json.dumps(descriptor, indent=2, ensure_ascii=False))
        for path, content in csv_files(tables, schemas).items():
            archive.writestr(path, content)
    return buffer.getvalue()


def _typed(value: str | None, layout_types: dict[str, str], name: str) -> Any:
    if value is None:
        return None
    if layout_types.get(name) == "number":
        try:
            number = float(value)
        except ValueError:
            return value  # left as text: the schema check reports it
        return int(number) if number.is_integer() else number
    return value


def from_files(
    files: dict[str, bytes],
    schemas: Schemas,
    progress: Callable[[str, int, int], None] | None = None,
) -> Tables:
    """Rows from a data package's CSV files ({name: content}); tables are recognised by the
    datapackage.json resources when present, else by the HSDS file names."""
    tables = Tables()
    paths: dict[str, str] = {}
    descriptor_name = next((n for n in files if PurePosixPath(n).name == "datapackage.json"), None)
    if descriptor_name is not None:
        try:
            descriptor = json.loads(files[descriptor_name].decode("utf-8-sig"))
            base = PurePosixPath(descriptor_name).parent
            for resource in descriptor.get("resources", []) if isinstance(descriptor, dict) else []:
                if isinstance(resource, dict) and resource.get("path") and resource.get("name"):
                    paths[str(base / resource["path"])] = resource["name"]
        except (ValueError, UnicodeDecodeError):
            # The HSDS example package ships a datapackage.json that is not JSON (a link):
            # the file names still say which table is which.
            tables.problems.append((descriptor_name, "datapackage.json is not valid JSON: ignored"))
    csv_names = sorted(n for n in files if n.lower().endswith(".csv"))
    for index, name in enumerate(csv_names, start=1):
        entity = paths.get(name) or schemas.entity_of_path(PurePosixPath(name).name)
        if progress:
            progress("reading", index, len(csv_names))
        if entity not in schemas.documents:
            tables.unknown[name] = -1
            if PurePosixPath(name).stem in LEGACY_NAMES:
                tables.legacy.append(PurePosixPath(name).name)
            continue
        tables.recognised = True
        layout = schemas.layout(entity)
        types = {f.name: f.type for f in layout.fields}
        # A CSV cannot tell an empty text from a missing one: a required text column left
        # blank (an unknown postal code) is read as "", which the schemas accept.
        blank_text = [
            f.name
            for f in layout.fields
            if f.name in layout.required and f.type == "string" and not f.format
        ]
        try:
            table = reading.read_table(files[name], name, max_rows=MAX_PACKAGE_ROWS)
        except reading.TabularError as error:
            tables.problems.append((name, error.message))
            continue
        for row in table.rows:
            # A blank cell is a missing value (as in Frictionless), not an empty string.
            values = {
                k: _typed(writing.unescape_formula(v), types, k)
                for k, v in row.values.items()
                if k in types and v is not None
            }
            for column in blank_text:
                values.setdefault(column, "")
            tables.add(entity, values, f"{PurePosixPath(name).name}:{row.line}")
    return tables


def _package_member(name: str) -> bool:
    return not name.startswith("__MACOSX/") and name.lower().endswith((".csv", ".json"))


def read_zip(data: bytes) -> dict[str, bytes]:
    """The CSV and JSON files of a zipped data package, within reading.ArchiveLimits."""
    return reading.read_zip(data, _package_member)


def tables_from_export(document: dict[str, Any], schemas: Schemas) -> Tables:
    """The tabular form of our own export document (for the CSV package)."""
    return from_json(document, schemas)


def layouts_by_entity(schemas: Schemas) -> dict[str, TableLayout]:
    return {layout.entity: layout for layout in schemas.layouts()}
