"""The resource taxonomy: a small tree, read often, changed rarely."""

from __future__ import annotations

import time
from typing import NamedTuple

from registry.errors import InvalidInput, NotFound
from registry.taxonomy.seed import seed_rows
from registry.taxonomy.tables import TaxonomyTerm


async def ensure_seeded() -> int:
    """Insert the seeded terms that are missing; returns how many were added."""
    existing = {row["code"] for row in await TaxonomyTerm.select(TaxonomyTerm.code)}
    missing = [TaxonomyTerm(**row) for row in seed_rows() if row["code"] not in existing]
    if missing:
        await TaxonomyTerm.insert(*missing)
        global _tree
        _tree = None
    return len(missing)


async def list_terms(parent: str | None = None) -> list[dict]:
    query = TaxonomyTerm.select(
        TaxonomyTerm.code, TaxonomyTerm.parent_code, TaxonomyTerm.name, TaxonomyTerm.description
    ).order_by(TaxonomyTerm.parent_code, TaxonomyTerm.position, TaxonomyTerm.code)
    if parent is not None:
        query = query.where(TaxonomyTerm.parent_code == parent)
    return await query


async def get_term(code: str) -> dict:
    row = (
        await TaxonomyTerm.select(
            TaxonomyTerm.code, TaxonomyTerm.parent_code, TaxonomyTerm.name, TaxonomyTerm.description
        )
        .where(TaxonomyTerm.code == code)
        .first()
    )
    if row is None:
        raise NotFound(f"no taxonomy term with code '{code}'")
    return row


class Tree(NamedTuple):
    parents: dict[str, str | None]
    labels: dict[str, str]


_tree: tuple[float, Tree] | None = None
_TREE_TTL_SECONDS = 60.0


async def tree() -> Tree:
    """The terms as {code: parent} and {code: name}: reference data the same for every
    ambito, changed only by ensure_seeded, so it is cached briefly in-process (the matching
    engine reads it for every suggestion)."""
    global _tree
    if _tree is None or time.monotonic() - _tree[0] > _TREE_TTL_SECONDS:
        rows = await TaxonomyTerm.select(
            TaxonomyTerm.code, TaxonomyTerm.parent_code, TaxonomyTerm.name
        )
        found = Tree(
            {r["code"]: r["parent_code"] for r in rows}, {r["code"]: r["name"] for r in rows}
        )
        _tree = (time.monotonic(), found)
    return _tree[1]


async def parent_map() -> dict[str, str | None]:
    """The tree as {code: parent}."""
    return (await tree()).parents


def descendants(parents: dict[str, str | None], code: str) -> list[str]:
    """The term and everything below it."""
    children: dict[str | None, list[str]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, stack = [], [code]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


async def require_leaf_or_term(code: str, field: str = "category_code") -> None:
    if not await TaxonomyTerm.exists().where(TaxonomyTerm.code == code):
        raise InvalidInput(f"unknown category '{code}': see GET /api/taxonomy", field=field)
