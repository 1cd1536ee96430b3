"""The charts of the report for the Piano di Zona (report.py), drawn as inline SVG: bars,
lines, the coverage of the needs and the picture of the network by sector. Withheld values
read "n.d."."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from registry import italian
from registry.metrics.schemas import PublishedTable
from registry.vocabularies import SECTOR_LABELS, USER_AREA_LABELS

PALETTE = ["#1f6f8b", "#e07a1f", "#5a9e3a", "#b03a48", "#7a5ba8", "#8a8a8a"]
COVERAGE_LABELS = {
    "community_only": "Solo comunità",
    "intervention_only": "Solo interventi finanziati",
    "both": "Comunità e interventi",
    "none": "Nessuna copertura",
}
N_D = "n.d."


def _esc(value: Any) -> str:
    return escape(str(value), quote=True)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10**exponent
        if top >= value:
            return top
    return 10 ** (exponent + 1)


def _axis(value: float, peak: float) -> str:
    return italian.number(value, 0 if peak >= 10 else 2)


def _frame(
    title: str, width: int, height: int, left: int, top: int, plot_h: int, peak: float
) -> list[str]:
    """The opening of a chart: the svg element, its title, and five gridlines with values."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_esc(title)}" class="chart">',
        f'<text x="{left}" y="18" class="t">{_esc(title)}</text>',
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="a y" text-anchor="end">'
            f"{_esc(_axis(peak * i / 4, peak))}</text>"
        )
    return parts


def bar_chart(title: str, labels_: Sequence[str], values: Sequence[float | None], unit: str) -> str:
    width, height, left, bottom, top = 640, 260, 64, 40, 30
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = _nice_max(max([v for v in values if v is not None] or [0]))
    n = max(1, len(values))
    slot = plot_w / n
    parts = _frame(title, width, height, left, top, plot_h, peak)
    for i, (label, value) in enumerate(zip(labels_, values, strict=True)):
        x = left + i * slot + slot * 0.15
        if value is None:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h - 4}" class="a" '
                f'text-anchor="middle">{N_D}</text>'
            )
        else:
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{_esc(label)}: '
                f"{_esc(italian.number(value))} {_esc(unit)}</title></rect>"
            )
        if n <= 16 or i % max(1, n // 12) == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" class="a" '
                f'text-anchor="middle">{_esc(label)}</text>'
            )
    parts.append(f'<text x="{left}" y="{height - 4}" class="a">{_esc(unit)}</text></svg>')
    return "".join(parts)


def line_chart(
    title: str, labels_: Sequence[str], series: dict[str, Sequence[float | None]], unit: str
) -> str:
    width, height, left, bottom, top = 640, 260, 74, 50, 30
    plot_w, plot_h = width - left - 20, height - top - bottom
    every = [v for values in series.values() for v in values if v is not None]
    low = min(every or [0])
    peak = _nice_max(max([abs(v) for v in every] or [0]))
    # Indices such as E-I go from -1 to +1: the axis then runs from -peak to +peak.
    floor = -peak if low < 0 else 0.0
    n = max(1, len(labels_))
    step = plot_w / max(1, n - 1)

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * (value - floor) / (peak - floor)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_esc(title)}" class="chart">',
        f'<text x="{left}" y="18" class="t">{_esc(title)}</text>',
    ]
    for i in range(5):
        tick = floor + (peak - floor) * i / 4
        y = y_of(tick)
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="a y" text-anchor="end">'
            f"{_esc(_axis(tick, peak))}</text>"
        )
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
            y = y_of(value)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                f"{_esc(labels_[i])} {_esc(name)}: {_esc(italian.number(value))}</title></circle>"
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
            f'class="a">{_esc(name)}</text>'
        )
    for i, label in enumerate(labels_):
        if n <= 16 or i % max(1, n // 12) == 0:
            x = left + i * step if n > 1 else left + plot_w / 2
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" class="a" '
                f'text-anchor="middle">{_esc(label)}</text>'
            )
    parts.append(f'<text x="4" y="{top - 6}" class="a">{_esc(unit)}</text></svg>')
    return "".join(parts)


def coverage_chart(table: PublishedTable) -> str:
    rows = [*table.rows, {**(table.total or {}), "area": "Totale"}]
    width, bar_h, left = 640, 22, 230
    height = 40 + len(rows) * (bar_h + 10) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Copertura dei bisogni" class="chart">',
        '<text x="10" y="18" class="t">Copertura dei bisogni per area di utenza '
        "(quota dei bisogni)</text>",
    ]
    for r_index, row in enumerate(rows):
        y = 34 + r_index * (bar_h + 10)
        area = str(row.get("area") or "")
        label = USER_AREA_LABELS.get(area, area)  # type: ignore[call-overload]
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" class="a" text-anchor="end">{_esc(label)}</text>'
        )
        x = float(left)
        shares = [row.get(f"share_{c}") for c in COVERAGE_LABELS]
        if any(s is None for s in shares):
            parts.append(
                f'<text x="{left}" y="{y + 15}" class="a">{N_D}: troppo pochi bisogni per '
                "pubblicarne la copertura</text>"
            )
            continue
        for c_index, share in enumerate(shares):
            w = (width - left - 20) * float(share or 0)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{PALETTE[c_index]}"><title>{_esc(list(COVERAGE_LABELS.values())[c_index])}'
                f": {_esc(italian.percent(share))}</title></rect>"
            )
            x += w
    for c_index, label in enumerate(COVERAGE_LABELS.values()):
        parts.append(
            f'<rect x="{10 + c_index * 155}" y="{height - 16}" width="10" height="10" '
            f'fill="{PALETTE[c_index]}"/><text x="{24 + c_index * 155}" y="{height - 7}" '
            f'class="a">{_esc(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def network_picture(nodes: PublishedTable, blocks: Sequence[Any]) -> str:
    """Sectors as circles (area ~ soggetti), ties within and between sectors as lines: an
    aggregate picture of the network in which no soggetto, let alone a person, is drawn."""
    width, height, cx, cy, radius = 640, 360, 320, 185, 120
    sectors = list(nodes.rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Rete di coesione per settore" class="chart">',
        '<text x="10" y="18" class="t">Rete di coesione: legami tra e dentro i settori</text>',
    ]
    if not sectors:
        parts.append(
            '<text x="10" y="50" class="a">Nessun soggetto della comunità nel periodo.</text></svg>'
        )
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
        label = italian.number(block.edges, 0) if block.edges is not None else N_D
        stroke = 1 + 9 * (block.edges or 0) / peak
        dash = ' stroke-dasharray="4 4"' if block.edges is None else ""
        if block.sector_a == block.sector_b:
            parts.append(
                f'<circle cx="{a[0]:.1f}" cy="{a[1] - 42:.1f}" r="18" fill="none" '
                f'stroke="#555" stroke-width="{stroke:.1f}"{dash}><title>legami interni: '
                f"{_esc(label)}</title></circle>"
            )
            parts.append(
                f'<text x="{a[0]:.1f}" y="{a[1] - 64:.1f}" class="a" '
                f'text-anchor="middle">{_esc(label)}</text>'
            )
        else:
            parts.append(
                f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
                f'stroke="#555" stroke-width="{stroke:.1f}"{dash}/>'
            )
            parts.append(
                f'<text x="{(a[0] + b[0]) / 2:.1f}" y="{(a[1] + b[1]) / 2 - 4:.1f}" class="a" '
                f'text-anchor="middle">{_esc(label)}</text>'
            )
    biggest = max([r["nodes"] or 0 for r in sectors] or [1]) or 1
    for i, row in enumerate(sectors):
        x, y = where[row["sector"]]
        r = 12 + 26 * math.sqrt((row["nodes"] or 0) / biggest)
        name = SECTOR_LABELS.get(row["sector"], row["sector"])
        count = italian.number(row["nodes"], 0) if row["nodes"] is not None else N_D
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{PALETTE[i % len(PALETTE)]}" '
            f'opacity="0.85"><title>{_esc(name)}</title></circle>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{y + r + 14:.1f}" class="a" text-anchor="middle">'
            f"{_esc(name)} ({_esc(count)})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
