"""The one-file report for the Piano di Zona: self-contained HTML with inline SVG charts.

No plotting dependency and nothing fetched at view time: the charts are drawn here as SVG,
so the file can be mailed, archived and printed as it is. Withheld (suppressed) values are
drawn as gaps marked "n.d." and listed at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from registry.metrics.exports import Bundle
from registry.metrics.schemas import Money, PublishedTable
from registry.vocabularies import SECTOR_LABELS

PALETTE = ["#1f6f8b", "#e07a1f", "#5a9e3a", "#b03a48", "#7a5ba8", "#8a8a8a"]
COVERAGE_LABELS = {
    "community_only": "Solo comunità",
    "intervention_only": "Solo interventi finanziati",
    "both": "Entrambi",
    "none": "Nessuno",
}


def _num(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "n.d."
    if (isinstance(value, float) and not value.is_integer()) or digits:
        text = f"{value:,.{digits or 2}f}"
    else:
        text = f"{int(value):,}"
    # Italian separators: 1.234,56
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".") + suffix


def _eur(money: Money) -> str:
    return _num(money.amount_eur, 2, " €")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10**exponent
        if top >= value:
            return top
    return 10 ** (exponent + 1)


def _frame(
    title: str, width: int, height: int, left: int, top: int, plot_h: int, peak: float, digits: int
) -> list[str]:
    """The opening of a chart: the svg element, its title, and five gridlines with values."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f'<text x="{left}" y="18" class="t">{escape(title)}</text>',
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="a" text-anchor="end">'
            f"{escape(_num(peak * i / 4, digits))}</text>"
        )
    return parts


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], unit: str) -> str:
    width, height, left, bottom, top = 640, 260, 60, 40, 30
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = _nice_max(max([v for v in values if v is not None] or [0]))
    n = max(1, len(values))
    slot = plot_w / n
    parts = _frame(title, width, height, left, top, plot_h, peak, digits=0)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + slot * 0.15
        if value is None:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h - 4}" class="a" '
                f'text-anchor="middle">n.d.</text>'
            )
        else:
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{escape(label)}: '
                f"{escape(_num(value, 2))} {escape(unit)}</title></rect>"
            )
        if n <= 16 or i % max(1, n // 12) == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" class="a" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append(f'<text x="{left}" y="{height - 4}" class="a">{escape(unit)}</text></svg>')
    return "".join(parts)


def line_chart(
    title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], unit: str
) -> str:
    width, height, left, bottom, top = 640, 260, 70, 50, 30
    plot_w, plot_h = width - left - 20, height - top - bottom
    every = [v for values in series.values() for v in values if v is not None]
    peak = _nice_max(max(every or [0]))
    n = max(1, len(labels))
    step = plot_w / max(1, n - 1)
    parts = _frame(title, width, height, left, top, plot_h, peak, digits=2 if peak < 10 else 0)
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, value in enumerate(values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x = left + i * step if n > 1 else left + plot_w / 2
            y = top + plot_h - plot_h * value / peak
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                f"{escape(labels[i])} {escape(name)}: {escape(_num(value, 2))}</title></circle>"
            )
        if segment:
            segments.append(segment)
        for points in segments:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                'stroke-width="2"/>'
            )
        parts.append(
            f'<rect x="{left + index * 190}" y="{height - 18}" width="10" height="10" '
            f'fill="{colour}"/><text x="{left + index * 190 + 14}" y="{height - 9}" '
            f'class="a">{escape(name)}</text>'
        )
    for i, label in enumerate(labels):
        if n <= 16 or i % max(1, n // 12) == 0:
            x = left + i * step if n > 1 else left + plot_w / 2
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" class="a" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append(f'<text x="4" y="{top - 6}" class="a">{escape(unit)}</text></svg>')
    return "".join(parts)


def coverage_chart(table: PublishedTable) -> str:
    rows = [*table.rows, {**(table.total or {}), "area": "Totale"}]
    width, bar_h, left = 640, 22, 190
    height = 40 + len(rows) * (bar_h + 10) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Copertura dei bisogni" class="chart">',
        '<text x="10" y="18" class="t">Copertura dei bisogni (quota dei bisogni)</text>',
    ]
    for r_index, row in enumerate(rows):
        y = 34 + r_index * (bar_h + 10)
        label = str(row.get("area") or row.get("comune") or "")
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" class="a" text-anchor="end">{escape(label)}</text>'
        )
        x = float(left)
        shares = [row.get(f"share_{c}") for c in COVERAGE_LABELS]
        if any(s is None for s in shares):
            parts.append(f'<text x="{left}" y="{y + 15}" class="a">n.d. (pochi casi)</text>')
            continue
        for c_index, share in enumerate(shares):
            w = (width - left - 20) * float(share or 0)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{PALETTE[c_index]}"><title>{escape(list(COVERAGE_LABELS.values())[c_index])}'
                f": {escape(_num((share or 0) * 100, 1, ' %'))}</title></rect>"
            )
            x += w
    for c_index, label in enumerate(COVERAGE_LABELS.values()):
        parts.append(
            f'<rect x="{10 + c_index * 155}" y="{height - 16}" width="10" height="10" '
            f'fill="{PALETTE[c_index]}"/><text x="{24 + c_index * 155}" y="{height - 7}" '
            f'class="a">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def network_picture(nodes: PublishedTable, blocks: Sequence[Any]) -> str:
    """Sectors as circles (area ~ holders), ties within and between sectors as lines: an
    aggregate picture of the network in which no holder, let alone a person, is drawn."""
    width, height, cx, cy, radius = 640, 360, 320, 185, 120
    sectors = [r for r in nodes.rows]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Rete di coesione per settore" class="chart">',
        '<text x="10" y="18" class="t">Rete di coesione: legami tra e dentro i settori</text>',
    ]
    if not sectors:
        parts.append('<text x="10" y="50" class="a">Nessun detentore nel periodo.</text></svg>')
        return "".join(parts)
    where: dict[str, tuple[float, float]] = {}
    for i, row in enumerate(sectors):
        angle = 2 * math.pi * i / len(sectors) - math.pi / 2
        where[row["sector"]] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    peak = max([b.edges or 0 for b in blocks] or [1]) or 1
    for block in blocks:
        a, b = where.get(block.sector_a), where.get(block.sector_b)
        if a is None or b is None:
            continue
        label = _num(block.edges) if block.edges is not None else "<soglia"
        stroke = 1 + 9 * (block.edges or 0) / peak
        dash = ' stroke-dasharray="4 4"' if block.edges is None else ""
        if block.sector_a == block.sector_b:
            parts.append(
                f'<circle cx="{a[0]:.1f}" cy="{a[1] - 42:.1f}" r="18" fill="none" '
                f'stroke="#555" stroke-width="{stroke:.1f}"{dash}><title>legami interni: '
                f"{escape(label)}</title></circle>"
            )
            parts.append(
                f'<text x="{a[0]:.1f}" y="{a[1] - 64:.1f}" class="a" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
        else:
            parts.append(
                f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
                f'stroke="#555" stroke-width="{stroke:.1f}"{dash}/>'
            )
            parts.append(
                f'<text x="{(a[0] + b[0]) / 2:.1f}" y="{(a[1] + b[1]) / 2 - 4:.1f}" class="a" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    biggest = max([r["nodes"] or 0 for r in sectors] or [1]) or 1
    for i, row in enumerate(sectors):
        x, y = where[row["sector"]]
        r = 12 + 26 * math.sqrt((row["nodes"] or 0) / biggest)
        name = SECTOR_LABELS.get(row["sector"], row["sector"])
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{PALETTE[i % len(PALETTE)]}" '
            f'opacity="0.85"><title>{escape(name)}</title></circle>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{y + r + 14:.1f}" class="a" text-anchor="middle">'
            f"{escape(name)} ({escape(_num(row['nodes']))})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _table_html(table: PublishedTable) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    body = []
    rows = list(table.rows)
    if table.total is not None:
        rows.append({**table.total, table.columns[0]: "TOTALE"})
    for row in rows:
        cells = []
        for column in table.columns:
            value = row.get(column)
            text = (
                "n.d."
                if value is None
                else (_num(value, 2) if isinstance(value, float) else str(value))
            )
            cells.append(f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    notes = "".join(f"<p class='n'>{escape(n)}</p>" for n in table.notes)
    return (
        f"<h3>{escape(table.title)}</h3><div class='w'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>{notes}"
    )


STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:980px;
color:#1d1d1d;padding:0 1rem}h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:2px solid
#1f6f8b}h3{font-size:1rem;margin-top:1.4rem}.kpis{display:grid;grid-template-columns:repeat(auto-fill,
minmax(200px,1fr));gap:.8rem}.kpi{border:1px solid #d0d7de;border-radius:6px;padding:.7rem}
.kpi b{display:block;font-size:1.35rem}.kpi small{color:#555}.chart{width:100%;max-width:640px;
display:block;margin:1rem 0}.chart .t{font-weight:600;font-size:13px}.chart .a{font-size:10px;
fill:#333}.chart .g{stroke:#e3e3e3}.w{overflow-x:auto}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #d0d7de;padding:3px 6px;text-align:right}th{background:#f3f6f8}
td:first-child,th:first-child{text-align:left}.n{font-size:12px;color:#555}
@media print{h2{page-break-before:auto}.w{overflow:visible}}
"""


def render(bundle: Bundle) -> str:
    s, ts, net = bundle.summary, bundle.timeseries, bundle.network
    h = s.headline
    labels = [str(r["period"]) for r in ts.series.rows]

    def col(name: str) -> list[float | None]:
        return [r.get(name) for r in ts.series.rows]

    kpis = [
        ("Ore di volontariato verificate", _num(h.hours_community, 1), "al netto delle ore pagate"),
        ("FTE equivalenti", _num(h.fte, 2), "ore / 1.824"),
        ("Persone attive", _num(h.persons), "una persona conta una volta"),
        ("Detentori attivi", _num(h.holders), ""),
        (
            "Valore di sostituzione",
            _eur(h.replacement_value),
            f"tariffa media {_num(h.replacement_value.rate_eur_per_hour, 2)} €/h, anno "
            f"{h.replacement_value.rate_year or 'n.d.'}"
            + (" (default indicativi)" if h.replacement_value.uses_default_rates else ""),
        ),
        ("Valore in natura", _eur(h.in_kind_value), "valore dichiarato"),
        ("Spesa pubblica", _eur(h.public_spending), "interventi finanziati"),
        ("Leva", _num(h.leverage_ratio, 2), "valore comunità / euro pubblici"),
        (
            "Quota di co-produzione",
            _num((h.coproduction_share or 0) * 100, 1, " %")
            if h.coproduction_share is not None
            else "n.d.",
            "",
        ),
        (
            "Bisogni coperti da nessuno",
            _num((h.share_needs_none or 0) * 100, 1, " %")
            if h.share_needs_none is not None
            else "n.d.",
            f"su {_num(h.needs)} bisogni",
        ),
        (
            "Tempo di abbinamento (mediana)",
            _num(h.time_to_match_median_days, 1, " gg"),
            f"p90 {_num(h.time_to_match_p90_days, 1)} gg",
        ),
        (
            "Risorse confermate (90 gg)",
            _num((h.share_resources_confirmed_90_days or 0) * 100, 1, " %")
            if h.share_resources_confirmed_90_days is not None
            else "n.d.",
            "",
        ),
    ]
    kpi_html = "".join(
        f"<div class='kpi'><small>{escape(a)}</small><b>{escape(b)}</b><small>{escape(c)}</small>"
        "</div>"
        for a, b, c in kpis
    )
    coverage = next(t for t in s.tables if t.name == "need_coverage")
    charts = [
        bar_chart(
            "Ore di volontariato verificate per periodo", labels, col("hours_community"), "ore"
        ),
        line_chart(
            "Valore della comunità e spesa pubblica",
            labels,
            {
                "Valore comunità (€)": col("community_value_eur"),
                "Spesa pubblica (€)": col("public_eur"),
            },
            "€",
        ),
        line_chart(
            "Leva (valore comunità / euro pubblici)",
            labels,
            {"Leva": col("leverage_ratio")},
            "rapporto",
        ),
        coverage_chart(coverage),
        network_picture(net.nodes_by_sector, net.sector_blocks),
        line_chart(
            "Coesione nel tempo",
            [str(r["period"]) for r in net.periods.rows],
            {
                "Densità": [r.get("density") for r in net.periods.rows],
                "Clustering": [r.get("average_clustering") for r in net.periods.rows],
                "Indice E-I": [r.get("ei_index") for r in net.periods.rows],
            },
            "indice",
        ),
    ]
    tables = "".join(_table_html(t) for t in bundle.tables)
    f = s.filters
    filters = (
        ", ".join(
            f"{k}={v}"
            for k, v in (
                ("comune", f.comune),
                ("area", f.area),
                ("tipo", f.holder_kind),
                ("settore", f.sector),
            )
            if v
        )
        or "nessuno"
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in [*s.notes, s.suppression.note])
    return (
        "<!DOCTYPE html><html lang='it'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>Contributi e coesione – {escape(s.ambito_code)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>Contributi della comunità e coesione – Ambito {escape(s.ambito_code)}</h1>"
        f"<p>Periodo {escape(s.period.start.isoformat())} – {escape(s.period.end.isoformat())}"
        f" · filtri: {escape(filters)} · fonte: {escape(s.source)} · dati al "
        f"{escape(s.as_of.strftime('%Y-%m-%d %H:%M'))} UTC</p>"
        f"<h2>Indicatori principali</h2><div class='kpis'>{kpi_html}</div>"
        f"<h2>Grafici</h2>{''.join(charts)}"
        f"<h2>Note di metodo e riservatezza</h2><ul>{notes}</ul>"
        f"<h2>Tabelle</h2>{tables}"
        "</body></html>"
    )
