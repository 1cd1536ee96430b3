"""The gap map of an ambito (issue 13): open needs by category and comune, per 1,000
residents, and the categories for which no resource exists anywhere in the ambito.

The counts are small by nature (a few needs per category and comune), so the cross table
goes through the same small-cell suppression as every published table (suppression.py): a
count between 1 and the threshold is withheld, and so is a second cell wherever a withheld
one could be recomputed from a category's total, a comune's total or the grand total. A rate
per 1,000 residents is a derived cell: withheld with its count.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from registry import geo
from registry.ambiti.tables import Comune
from registry.metrics.suppression import Row, Table, suppress
from registry.plans.tables import Need
from registry.resources.tables import Resource
from registry.taxonomy.tables import TaxonomyTerm

TOTAL_COLUMN = "total"
# A resource that exists, even if paused or awaiting reconfirmation; expired and archived
# ones do not (the same set the resources map shows).
EXISTING_RESOURCES = ("active", "paused", "stale")
# Needs of active plans only, as the matching reads them (a closed plan needs nothing).
OPEN_PLAN_STATUSES = ("active",)


@dataclass(frozen=True, slots=True)
class GapInputs:
    """Plain data: open needs as (category, comune), the ambito's comuni, the taxonomy."""

    needs: list[tuple[str, str]]
    comuni: list[tuple[str, str, int | None]]  # code, name, population (in the ambito)
    categories: dict[str, tuple[str, str | None]]  # code -> (name, parent code)
    resource_categories: set[str]


@dataclass(slots=True)
class GapResult:
    rows: list[dict[str, Any]]
    comuni: list[dict[str, Any]]
    total: int | None
    total_per_1000: float | None
    withheld: int


async def load_gap_inputs(ambito_id: uuid.UUID) -> GapInputs:
    needs = await Need.select(Need.category_code, Need.comune, Need.plan.comune).where(
        (Need.ambito == ambito_id)
        & (Need.status == "open")
        & Need.plan.status.is_in(list(OPEN_PLAN_STATUSES))
    )
    comuni = await Comune.select(Comune.istat_code, Comune.name, Comune.population).where(
        Comune.ambito == ambito_id
    )
    terms = await TaxonomyTerm.select(
        TaxonomyTerm.code, TaxonomyTerm.name, TaxonomyTerm.parent_code
    )
    resources = await Resource.select(Resource.category_code).where(
        (Resource.ambito == ambito_id) & Resource.status.is_in(list(EXISTING_RESOURCES))
    )
    return GapInputs(
        needs=[(n["category_code"], n["comune"] or n["plan.comune"]) for n in needs],
        comuni=[(c["istat_code"], c["name"], c["population"]) for c in comuni],
        categories={t["code"]: (t["name"], t["parent_code"]) for t in terms},
        resource_categories={r["category_code"] for r in resources},
    )


def _served(category: str, inputs: GapInputs) -> bool:
    """A resource of the category or of a broader one serves it (the matching's rule)."""
    seen: set[str] = set()
    code: str | None = category
    while code is not None and code not in seen:
        if code in inputs.resource_categories:
            return True
        seen.add(code)
        code = inputs.categories.get(code, ("", None))[1]
    return False


def _rate(count: int | None, population: int | None) -> float | None:
    if count is None or not population:
        return None
    return round(count * 1000 / population, 2)


def gap_table(inputs: GapInputs, threshold: int) -> GapResult:
    """The suppressed cross table (categories × comuni) with its margins and rates."""
    counts = Counter(inputs.needs)
    names = {code: name for code, name, _ in inputs.comuni}
    population = {code: pop for code, _, pop in inputs.comuni}
    # A need may name a comune that has since left the ambito: it keeps its own column,
    # with no population here (so no rate).
    for _, comune in counts:
        if comune not in names:
            place = geo.comune(comune)
            names[comune] = place.name if place else comune
            population[comune] = None
    columns = sorted(names, key=lambda c: (names[c], c))
    categories = sorted({cat for cat, _ in counts})
    rows = []
    for category in categories:
        data: dict[str, Any] = {c: counts.get((category, c), 0) for c in columns}
        data[TOTAL_COLUMN] = sum(data[c] for c in columns)
        rows.append(Row({"category_code": category}, data))
    total_data: dict[str, Any] = {c: sum(r.data[c] for r in rows) for c in columns}
    total_data[TOTAL_COLUMN] = sum(total_data[c] for c in columns)
    table = Table(
        name="gap_map",
        title="Bisogni aperti per categoria e comune",
        keys=["category_code"],
        counts=[*columns, TOTAL_COLUMN],
        values=[],
        rows=rows,
        total=Row({}, total_data),
        row_sums=[(TOTAL_COLUMN, list(columns))],
    )
    safe, withheld = suppress(table, threshold)
    out_rows = []
    for row in safe.rows:
        category = row.key["category_code"]
        out_rows.append(
            {
                "category_code": category,
                "category_name": inputs.categories.get(category, (category, None))[0],
                "no_resource": not _served(category, inputs),
                "total": row.data[TOTAL_COLUMN],
                "counts": {c: row.data[c] for c in columns},
                "per_1000": {c: _rate(row.data[c], population[c]) for c in columns},
            }
        )
    residents = [population[c] for c in columns if c in {code for code, _, _ in inputs.comuni}]
    whole = sum(p for p in residents if p) if residents and all(residents) else None
    for row in out_rows:
        row["total_per_1000"] = _rate(row["total"], whole)
    assert safe.total is not None
    out_comuni = []
    for code in columns:
        location = geo.comune_location(code)
        out_comuni.append(
            {
                "istat_code": code,
                "name": names[code],
                "population": population[code],
                "open_needs": safe.total.data[code],
                "per_1000": _rate(safe.total.data[code], population[code]),
                "lat": location[0] if location else None,
                "lon": location[1] if location else None,
            }
        )
    grand = safe.total.data[TOTAL_COLUMN]
    return GapResult(
        rows=out_rows,
        comuni=out_comuni,
        total=grand,
        total_per_1000=_rate(grand, whole),
        withheld=len(withheld),
    )
