"""The HSDS 3.1 JSON schemas: loading, local $ref resolution, validation, table layout.

A copy of the schema files ships in `hsds_schema/` (CC BY-SA 4.0, Open Referral) because
an import validates what it reads at run time; the tests validate the exports against the
packaged copy, whose SHA256SUMS records the published files.
No $ref is ever fetched from the network: every file is registered under a local base URI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

PACKAGED = Path(__file__).resolve().parent / "hsds_schema"
BASE_URI = "https://hsds.invalid/schema/"
HSDS_VERSION = "3.1"

# HSDS entity name -> its schema file (the entity's own "name" in the file).
ENTITIES = (
    "organization",
    "organization_identifier",
    "program",
    "service",
    "service_at_location",
    "location",
    "address",
    "phone",
    "contact",
    "schedule",
    "service_area",
    "language",
    "funding",
    "cost_option",
    "accessibility",
    "required_document",
    "url",
    "unit",
    "service_capacity",
    "taxonomy",
    "taxonomy_term",
    "attribute",
    "metadata",
    "meta_table_description",
)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str  # JSON type: string | number
    datapackage_type: str | None
    format: str | None
    description: str
    unique: bool


@dataclass(frozen=True, slots=True)
class TableLayout:
    """One table of the tabular (CSV) form: its file, columns and required columns."""

    entity: str
    path: str
    order: int
    description: str
    fields: tuple[Field, ...]
    required: frozenset[str]


class Schemas:
    """The schema files of one directory, with validators that resolve $refs locally."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.documents: dict[str, dict[str, Any]] = {}
        resources = []
        for path in sorted(directory.glob("*.json")):
            if path.name == "openapi.json":
                continue
            document = json.loads(path.read_text(encoding="utf-8"))
            self.documents[path.stem] = document
            resources.append((BASE_URI + path.name, Resource.from_contents(document, DRAFT202012)))
        self.registry: Registry = Registry().with_resources(resources)
        self._validators: dict[tuple[str, bool, bool], Draft202012Validator] = {}
        self._row_checks: dict[str, tuple[dict[str, tuple[str, tuple[Any, ...]]], list[str]]] = {}

    def validator(
        self, entity: str, *, check_formats: bool = True, flat: bool = False
    ) -> Draft202012Validator:
        """A validator for one entity; `flat` checks a tabular row (no nested arrays, and the
        table's own `tabular_required` columns)."""
        key = (entity, check_formats, flat)
        if key not in self._validators:
            schema: dict[str, Any] = {"$ref": BASE_URI + f"{entity}.json"}
            if flat:
                layout = self.layout(entity)
                document = self.documents[entity]
                schema = {
                    "type": "object",
                    "properties": {
                        name: spec
                        for name, spec in document["properties"].items()
                        if _is_column(spec)
                    },
                    "required": sorted(layout.required),
                }
            self._validators[key] = Draft202012Validator(
                schema,
                registry=self.registry,
                format_checker=FormatChecker() if check_formats else None,
            )
        return self._validators[key]

    def errors(
        self, entity: str, value: Any, *, check_formats: bool = True, flat: bool = False
    ) -> list[str]:
        """Every violation as "path: message", empty when the value is valid."""
        validator = self.validator(entity, check_formats=check_formats, flat=flat)
        found = []
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in error.absolute_path)
            found.append(f"{where or '(record)'}: {error.message}")
        return found

    def row_errors(self, entity: str, row: dict[str, Any]) -> list[str]:
        """`errors(entity, row, flat=True, check_formats=False)`, fast: a tabular row uses
        only `type`, `enum` and `required` of its schema, checked here directly (the import
        checks every row; jsonschema's general machinery made that its slowest step).
        tests/test_hsds.py checks that both agree."""
        checks = self._row_checks.get(entity)
        if checks is None:
            layout = self.layout(entity)
            properties = self.documents[entity]["properties"]
            columns = {
                f.name: (f.type, tuple(properties[f.name].get("enum", ()))) for f in layout.fields
            }
            checks = self._row_checks[entity] = (columns, sorted(layout.required))
        columns, required = checks
        found = [
            f"(record): '{name}' is a required property" for name in required if name not in row
        ]
        for name, value in row.items():
            spec = columns.get(name)
            if spec is None:
                continue
            kind, enum = spec
            if kind == "string" and not isinstance(value, str):
                found.append(f"{name}: {value!r} is not of type 'string'")
            elif kind == "number" and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                found.append(f"{name}: {value!r} is not of type 'number'")
            elif enum and value not in enum:
                found.append(f"{name}: {value!r} is not one of {list(enum)}")
        return found

    def layout(self, entity: str) -> TableLayout:
        document = self.documents[entity]
        fields = tuple(
            Field(
                name=name,
                type=spec.get("type", "string"),
                datapackage_type=spec.get("datapackage_type"),
                format=spec.get("format"),
                description=spec.get("description", ""),
                unique=bool(spec.get("constraints", {}).get("unique")),
            )
            for name, spec in document["properties"].items()
            if _is_column(spec)
        )
        return TableLayout(
            entity=entity,
            path=document["path"],
            order=document.get("datapackage_metadata", {}).get("order", 99),
            description=document.get("description", ""),
            fields=fields,
            # A nested object required in JSON (service_capacity.unit) is its *_id column
            # in the tables, which `tabular_required` names.
            required=(
                frozenset(document.get("required", []))
                | frozenset(document.get("tabular_required", []))
            )
            & frozenset(f.name for f in fields),
        )

    def layouts(self) -> list[TableLayout]:
        found = [self.layout(e) for e in ENTITIES if e in self.documents]
        return sorted(found, key=lambda layout: (layout.order, layout.entity))

    def entity_of_path(self, filename: str) -> str | None:
        for entity, document in self.documents.items():
            if document.get("path") == filename:
                return entity
        return None


def _is_column(spec: dict[str, Any]) -> bool:
    """A property that is a column of the CSV form (not a nested object or array)."""
    return "$ref" not in spec and spec.get("type") not in ("array", "object", None)


@cache
def packaged() -> Schemas:
    return Schemas(PACKAGED)
