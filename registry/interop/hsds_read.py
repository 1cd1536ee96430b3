"""Reading an HSDS upload: JSON (refused when unreadable or nested too deep) or a zipped
CSV data package, into rows per entity; refusing input that has no HSDS shape."""

from __future__ import annotations

import json
from typing import Any

from registry.errors import InvalidInput
from registry.interop import package
from registry.interop.hsds_plan import Progress
from registry.interop.hsds_schema import Schemas
from registry.interop.package import Tables

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
