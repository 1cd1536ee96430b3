"""The Region's comparison of its ambiti, and the per-resident figures of one ambito.

Every figure comes from the ambito's own published answers (metrics.service.summary and
cohesion): the same disclosure control as the ambito's dashboard, never an unsuppressed
number. A rate per 1,000 residents is a derived cell: withheld when its numerator is.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from registry.access import ObserverPrincipal, Principal, Role
from registry.ambiti.tables import Ambito, Comune
from registry.metrics import service as metrics
from registry.metrics.compute import Period
from registry.metrics.gaps import gap_table, load_gap_inputs
from registry.metrics.schemas import NetworkOut, SummaryOut
from registry.offload import in_worker_process
from registry.region.regions import region_name, region_of_comune
from registry.region.schemas import (
    AmbitoFigures,
    GapComune,
    GapMapOut,
    GapRow,
    RegionOverview,
    UncoveredCategory,
)
from registry.tabular import writing


@dataclass(frozen=True, slots=True)
class AmbitoOfRegion:
    id: uuid.UUID
    code: str
    name: str
    comuni: list[tuple[str, str, int | None]]  # code, name, population


async def ambiti_of_region(region: str) -> list[AmbitoOfRegion]:
    """The active ambiti whose comuni lie in the region (by most of them: an ambito never
    spans two regions, but a hand-made one might), ordered by name. An ambito with no comune
    of today's ISTAT list belongs to no region."""
    ambiti = {
        a["id"]: a
        for a in await Ambito.select(Ambito.id, Ambito.code, Ambito.name).where(
            Ambito.active.eq(True)
        )
    }
    comuni: dict[uuid.UUID, list[tuple[str, str, int | None]]] = {}
    for row in await Comune.select(
        Comune.ambito, Comune.istat_code, Comune.name, Comune.population
    ).where(Comune.ambito.is_in(list(ambiti)) if ambiti else Comune.id.is_null()):
        comuni.setdefault(row["ambito"], []).append(
            (row["istat_code"], row["name"], row["population"])
        )
    found = []
    for ambito_id, places in comuni.items():
        regions = Counter(r for r in (region_of_comune(c) for c, _, _ in places) if r)
        if not regions:
            continue
        top = max(sorted(regions), key=lambda r: regions[r])
        if top == region:
            a = ambiti[ambito_id]
            found.append(
                AmbitoOfRegion(a["id"], a["code"], a["name"], sorted(places, key=lambda p: p[1]))
            )
    return sorted(found, key=lambda a: (a.name, a.code))


def _reader_for(observer: ObserverPrincipal, ambito_id: uuid.UUID) -> Principal:
    """The observer reads an ambito's figures through the very functions its social workers
    use (same disclosure control, same withheld cells), as a reader of that ambito only."""
    return Principal(
        user_id=observer.user_id,
        username=observer.username,
        role=Role.SOCIAL_WORKER,
        ambito_id=ambito_id,
    )


def _per_1000(value: float | None, residents: int | None) -> float | None:
    if value is None or not residents:
        return None
    return round(value * 1000 / residents, 2)


_SUMMARY_CELLS = {
    "hours_community": ("totals", "hours_community"),
    "community_value_eur": ("totals", "community_value_eur"),
    "leverage_ratio": ("totals", "leverage_ratio"),
    "needs": ("need_coverage", "needs"),
    "share_needs_community_only": ("need_coverage", "share_community_only"),
    "share_needs_intervention_only": ("need_coverage", "share_intervention_only"),
    "share_needs_both": ("need_coverage", "share_both"),
    "share_needs_none": ("need_coverage", "share_none"),
    "share_resources_confirmed_90_days": ("freshness", "share_confirmed"),
}
_NETWORK_CELLS = {
    "network_density": "density",
    "network_largest_component_share": "largest_component_share",
    "network_ei_index": "ei_index",
}


def figures_of(
    code: str,
    name: str,
    places: Sequence[tuple[str, str, int | None]],
    summary: SummaryOut,
    network: NetworkOut,
) -> AmbitoFigures:
    """One row of the comparison from the ambito's published answers."""
    head = summary.headline
    missing = [n for _, n, pop in places if pop is None]
    residents = None if missing or not places else sum(p or 0 for _, _, p in places)
    hidden = {(c.table, c.column) for c in summary.suppression.cells}
    last = network.periods.rows[-1] if network.periods.rows else {}
    last_key = {"period": str(last.get("period"))} if last else {}
    network_hidden = {c.column for c in network.suppression.cells if dict(c.key) == last_key}
    values: dict[str, Any] = {
        "hours_community": head.hours_community,
        "community_value_eur": head.community_value.amount_eur,
        "leverage_ratio": head.leverage_ratio,
        "needs": head.needs,
        "share_needs_community_only": head.share_needs_community_only,
        "share_needs_intervention_only": head.share_needs_intervention_only,
        "share_needs_both": head.share_needs_both,
        "share_needs_none": head.share_needs_none,
        "share_resources_confirmed_90_days": head.share_resources_confirmed_90_days,
    }
    withheld = [
        field for field, cell in _SUMMARY_CELLS.items() if values[field] is None and cell in hidden
    ]
    for field, column in _NETWORK_CELLS.items():
        values[field] = last.get(column)
        if values[field] is None and column in network_hidden:
            withheld.append(field)
    for rate, numerator in (
        ("hours_per_1000", "hours_community"),
        ("value_eur_per_1000", "community_value_eur"),
    ):
        values[rate] = _per_1000(values[numerator], residents)
        if numerator in withheld:
            withheld.append(rate)  # derived from a withheld cell
    notes = []
    if missing:
        notes.append(
            "Tassi per 1.000 residenti non calcolati: manca la popolazione di "
            + ", ".join(missing)
            + "."
        )
    return AmbitoFigures(
        code=code,
        name=name,
        comuni=[n for _, n, _ in places],
        residents=residents,
        comuni_without_population=missing,
        public_eur=head.public_spending.amount_eur,
        withheld=withheld,
        source=summary.source,
        notes=notes,
        **values,
    )


async def _figures(
    reader: Principal, code: str, name: str, places: Sequence[tuple[str, str, int | None]],
    period: Period,
) -> AmbitoFigures:  # fmt: skip
    scope = metrics.Scope()
    summary = await metrics.summary(reader, period, scope)
    network = await metrics.cohesion(reader, period, "year", scope)
    return figures_of(code, name, places, summary, network)


NOTES = [
    "Ogni valore è quello pubblicato nel cruscotto dell'ambito, con lo stesso controllo "
    "della divulgazione: un valore nascosto là è nascosto anche qui, e con esso il "
    "tasso per 1.000 residenti calcolato da esso.",
    "Ore: ore verificate dei volontari, escluse quelle pagate da interventi finanziati. "
    "Valore: valore di sostituzione delle ore più il valore dichiarato dei beni (in natura).",
    "Residenti: somma della popolazione registrata per i comuni dell'ambito; se un comune non "
    "ha popolazione, i tassi dell'ambito non sono calcolati.",
    "Rete (coesione): densità, quota della componente maggiore e indice E-I tra settori "
    "nell'ultimo anno solare del periodo.",
]


async def overview(observer: ObserverPrincipal, period: Period) -> RegionOverview:
    """The ambiti of the observer's region side by side (read-only)."""
    rows = []
    for ambito in await ambiti_of_region(observer.region):
        reader = _reader_for(observer, ambito.id)
        rows.append(await _figures(reader, ambito.code, ambito.name, ambito.comuni, period))
    return RegionOverview(
        region=observer.region,
        region_name=region_name(observer.region),
        period=metrics.period_out(period),
        threshold=metrics.min_count(),
        ambiti=rows,
        notes=NOTES,
    )


async def ambito_rates(actor: Principal, period: Period) -> AmbitoFigures:
    """The ambito's own per-resident figures (its dashboard), the row the Region sees."""
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)
    row = await Ambito.select(Ambito.code, Ambito.name).where(Ambito.id == actor.ambito_id).first()
    assert row is not None  # the actor's own ambito
    places = await Comune.select(Comune.istat_code, Comune.name, Comune.population).where(
        Comune.ambito == actor.ambito_id
    )
    comuni = sorted(
        ((p["istat_code"], p["name"], p["population"]) for p in places), key=lambda p: p[1]
    )
    return await _figures(actor, row["code"], row["name"], comuni, period)


async def gap_map(actor: Principal, period: Period) -> GapMapOut:
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER)
    inputs = await load_gap_inputs(actor.ambito_id)
    threshold = metrics.min_count()
    result = gap_table(inputs, threshold)
    rates = await ambito_rates(actor, period)
    rows = [GapRow(**r) for r in result.rows]
    uncovered = [
        UncoveredCategory(
            category_code=r.category_code, category_name=r.category_name, open_needs=r.total
        )
        for r in rows
        if r.no_resource
    ]
    return GapMapOut(
        ambito_code=rates.code,
        threshold=threshold,
        rows=rows,
        comuni=[GapComune(**c) for c in result.comuni],
        total_open_needs=result.total,
        total_per_1000=result.total_per_1000,
        uncovered=uncovered,
        withheld_cells=result.withheld,
        rates=rates,
        notes=[
            "Bisogni aperti oggi (non ancora abbinati né chiusi) dei piani attivi, nel "
            "comune del bisogno o, se non indicato, in quello del piano.",
            f"Conteggi tra 1 e {threshold - 1} nascosti, e con essi una seconda cella "
            "dove il totale permetterebbe di ricalcolarli; i tassi per 1.000 residenti "
            "seguono il conteggio da cui sono calcolati.",
            "Senza risorse: nessuna risorsa esistente (attiva, sospesa o da riconfermare) "
            "della categoria o di una più generale in tutto l'ambito.",
            *rates.notes,
        ],
    )


# --- the export ---------------------------------------------------------------------------

EXPORT_COLUMNS: list[tuple[str, str]] = [
    ("name", "Ambito"),
    ("code", "Codice ambito"),
    ("comuni", "Comuni"),
    ("residents", "Residenti"),
    ("hours_community", "Ore dei volontari"),
    ("hours_per_1000", "Ore per 1.000 residenti"),
    ("community_value_eur", "Valore della comunità (euro)"),
    ("value_eur_per_1000", "Valore per 1.000 residenti (euro)"),
    ("public_eur", "Spesa pubblica (euro)"),
    ("leverage_ratio", "Leva sulla spesa pubblica"),
    ("needs", "Bisogni dei piani"),
    ("share_needs_community_only", "Quota bisogni coperti solo dalla comunità"),
    ("share_needs_intervention_only", "Quota bisogni coperti solo da interventi"),
    ("share_needs_both", "Quota bisogni coperti da entrambi"),
    ("share_needs_none", "Quota bisogni non coperti"),
    ("share_resources_confirmed_90_days", "Quota risorse confermate negli ultimi 90 giorni"),
    ("network_density", "Densità della rete"),
    ("network_largest_component_share", "Quota della componente maggiore"),
    ("network_ei_index", "Indice E-I tra settori"),
    ("withheld", "Valori nascosti"),
    ("notes", "Note"),
]
WITHHELD = "nascosto"


def _plain_rows(answer: RegionOverview) -> list[dict[str, Any]]:
    """The rows as plain values (pickled to the worker process)."""
    labels = dict(EXPORT_COLUMNS)
    out = []
    for row in answer.ambiti:
        values: dict[str, Any] = {}
        for key, _ in EXPORT_COLUMNS:
            value = getattr(row, key)
            if key == "comuni":
                value = ", ".join(value)
            elif key == "withheld":
                value = "; ".join(labels[c] for c in value)
            elif key == "notes":
                value = " ".join(value)
            elif value is None and key in row.withheld:
                value = WITHHELD
            values[key] = value
        out.append(values)
    return out


def region_csv(rows: list[dict[str, Any]]) -> bytes:
    """`;`, decimal commas, a BOM: what Excel with an Italian locale opens right."""
    keys = [key for key, _ in EXPORT_COLUMNS]
    headers = [label for _, label in EXPORT_COLUMNS]
    return writing.to_csv(keys, rows, dialect=writing.ITALIAN, headers=headers)


_XLSX_FORMATS = {
    **dict.fromkeys(("community_value_eur", "value_eur_per_1000", "public_eur"), '#,##0.00 "€"'),
    **{key: "0.0%" for key, _ in EXPORT_COLUMNS if key.startswith("share_")},
}


def region_xlsx(rows: list[dict[str, Any]], sheet: str) -> bytes:
    keys = [key for key, _ in EXPORT_COLUMNS]
    headers = [label for _, label in EXPORT_COLUMNS]
    return writing.to_xlsx(
        [writing.Sheet(sheet, keys, rows, headers=headers, formats=_XLSX_FORMATS)]
    )


async def export(observer: ObserverPrincipal, period: Period, fmt: str) -> tuple[bytes, str]:
    """The comparison as a file (CSV for Italian Excel, or XLSX) and its file name."""
    answer = await overview(observer, period)
    rows = _plain_rows(answer)
    stem = f"confronto-ambiti-{_slug(answer.region_name)}-{period.start:%Y-%m}-{period.end:%Y-%m}"
    if fmt == "xlsx":
        return await in_worker_process(region_xlsx, rows, "Ambiti"), f"{stem}.xlsx"
    return await in_worker_process(region_csv, rows), f"{stem}.csv"


def _slug(text: str) -> str:
    keep = "".join(ch.lower() if ch.isalnum() and ch.isascii() else "-" for ch in text)
    return "-".join(part for part in keep.split("-") if part)


__all__ = ["ambiti_of_region", "ambito_rates", "export", "gap_map", "overview"]
