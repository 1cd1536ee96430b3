"""The report for the Piano di Zona: one self-contained HTML document with inline SVG charts,
and the same document as an A4 PDF.

No plotting dependency and nothing fetched at view time: the charts are drawn as SVG
(report_charts.py), so the file can be mailed, archived and printed as it is. Everything is
in Italian: labels from registry/metrics/labels.py, numbers, dates and times (Europe/Rome)
from registry/italian.py. Withheld values read "n.d." and are listed, with their reason, at the
end. The print style sheet makes an A4 document (margins, numbered pages, one section per
page, tables that repeat their header); `pdf()` renders it with WeasyPrint. Both run in a
worker process (registry/offload.py), never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry import italian
from registry.metrics import labels
from registry.metrics.exports import Bundle, italian_rows, period_text
from registry.metrics.report_charts import (
    N_D,
    _esc,
    bar_chart,
    coverage_chart,
    line_chart,
    network_picture,
)
from registry.metrics.schemas import Money, PublishedTable
from registry.partnerships.report import chapter_html
from registry.vocabularies import HOLDER_KIND_LABELS, SECTOR_LABELS, USER_AREA_LABELS

# Key columns repeated when a wide table is split into several narrower ones for A4.
KEY_COLUMNS = ("period", "sector", "holder_kind", "comune", "area", "task_level", "unit")
MAX_COLUMNS = 8


# --- tables --------------------------------------------------------------------------------


def _column_groups(columns: Sequence[str]) -> list[list[str]]:
    """A4 holds about eight columns: a wider table is split, its key columns repeated."""
    keys = [c for c in columns if c in KEY_COLUMNS]
    rest = [c for c in columns if c not in KEY_COLUMNS]
    if len(columns) <= MAX_COLUMNS:
        return [list(columns)]
    size = max(1, MAX_COLUMNS - len(keys))
    return [keys + rest[i : i + size] for i in range(0, len(rest), size)]


def _cell_html(column: str, raw: Any, shown: Any) -> str:
    if raw is None:
        return f'<td class="nd" title="valore nascosto o non calcolabile">{N_D}</td>'
    text = labels.text(column, shown) if not isinstance(shown, str) else shown
    kind = "" if isinstance(shown, str) else ' class="num"'
    return f"<td{kind}>{_esc(text)}</td>"


def table_html(table: PublishedTable, b: Bundle, *, explain: bool = True) -> str:
    columns = [c for c in table.columns if c not in labels.REPORT_HIDDEN]
    raw_rows = list(table.rows)
    if table.total is not None:
        raw_rows.append(table.total)
    shown_rows = italian_rows(table, b.comuni)
    title = labels.table_name(table.name).title
    parts = [f"<h3>{_esc(title)}</h3>"]
    if not raw_rows:
        parts.append("<p class='n'>Nessun dato nel periodo.</p>")
        return "".join(parts)
    groups = _column_groups(columns)
    for g_index, group in enumerate(groups):
        caption = (
            f"<caption>{_esc(title)}, parte {g_index + 1} di {len(groups)}</caption>"
            if len(groups) > 1
            else ""
        )
        head = "".join(f"<th>{_esc(labels.header(c))}</th>" for c in group)
        body = []
        for index, (raw, shown) in enumerate(zip(raw_rows, shown_rows, strict=True)):
            total = table.total is not None and index == len(raw_rows) - 1
            cells = []
            for c_index, column in enumerate(group):
                if total and c_index == 0 and column not in (table.total or {}):
                    cells.append("<th>Totale</th>")
                else:
                    cells.append(_cell_html(column, raw.get(column), shown.get(column)))
            row_class = " class='tot'" if total else ""
            body.append(f"<tr{row_class}>{''.join(cells)}</tr>")
        parts.append(
            f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )
    if explain:
        explained = [c for c in columns if c in labels.EXPLANATIONS]
        if explained:
            parts.append(
                "<dl class='x'>"
                + "".join(
                    f"<dt>{_esc(labels.header(c))}</dt><dd>{_esc(labels.EXPLANATIONS[c])}</dd>"
                    for c in explained
                )
                + "</dl>"
            )
    parts.extend(f"<p class='n'>{_esc(_nd(n))}</p>" for n in table.notes)
    return "".join(parts)


_nd = labels.prose


def _withheld_summary(suppressed: PublishedTable) -> str:
    """How many values each table withholds and why: the cell-by-cell list is in the
    workbook (sheet «Valori nascosti»), too long for a document."""
    if not suppressed.rows:
        return "<p class='read'>Nessun valore nascosto.</p>"
    by_table: dict[str, dict[str, int]] = {}
    for row in suppressed.rows:
        reasons = by_table.setdefault(row["table"], {})
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    body = "".join(
        f"<tr><td>{_esc(labels.table_name(name).title)}</td>"
        f"<td class='num'>{italian.number(sum(reasons.values()), 0)}</td><td>"
        + "; ".join(
            f"{italian.number(count, 0)}: {_esc(labels.REASONS.get(reason, reason))}"
            for reason, count in sorted(reasons.items(), key=lambda item: -item[1])
        )
        + "</td></tr>"
        for name, reasons in by_table.items()
    )
    return (
        "<h3>Valori nascosti per tabella</h3><table><thead><tr><th>Tabella</th>"
        "<th>Valori nascosti</th><th>Motivi</th></tr></thead>"
        f"<tbody>{body}</tbody></table><p class='n'>L'elenco cella per cella è nel foglio "
        "«Valori nascosti» della cartella di lavoro (XLSX) e nel file "
        f"{labels.TABLES['suppressed'].file}.csv.</p>"
    )


# --- the document ---------------------------------------------------------------------------


STYLE = """
html{font-family:'Liberation Sans',Arial,Helvetica,sans-serif;color:#1d1d1d;font-size:15px}
body{margin:2rem auto;max-width:980px;padding:0 1rem;line-height:1.45}
h1{font-size:1.7rem;margin:0 0 .3rem}h2{margin-top:2.2rem;border-bottom:2px solid #1f6f8b;
font-size:1.3rem}h3{font-size:1rem;margin:1.4rem 0 .4rem}.sub{font-size:1.1rem;color:#333;
margin:0 0 .8rem}.meta{font-size:.9rem;color:#333}.meta dt{font-weight:600;float:left;
clear:left;width:11rem}.meta dd{margin:0 0 .2rem 11rem}.toc ol{padding-left:1.2rem}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:.7rem}
.kpi{border:1px solid #d0d7de;border-radius:6px;padding:.6rem;break-inside:avoid}
.kpi b{display:block;font-size:1.3rem;margin:.15rem 0}.kpi small{display:block;color:#444;
font-size:.8rem}.chart{width:100%;max-width:640px;display:block;margin:1rem 0;
break-inside:avoid}.chart .t{font-weight:600;font-size:13px}.chart .a{font-size:10px;fill:#333}
.chart .g{stroke:#e3e3e3}table{border-collapse:collapse;font-size:12px;margin:.3rem 0 .8rem;
width:100%}caption{text-align:left;font-size:11px;color:#555;caption-side:top}td,th{border:1px
solid #d0d7de;padding:3px 5px;text-align:left;vertical-align:top}th{background:#eef3f6}
td.num,td.nd{text-align:right;white-space:nowrap}td.nd{color:#8a4b00}tr.tot td,tr.tot th
{font-weight:700;background:#f6f8fa}.n{font-size:12px;color:#444}dl.x{font-size:12px;
color:#333}dl.x dt{font-weight:600}dl.x dd{margin:0 0 .35rem 1rem}.read{font-size:.9rem}
ul.notes{font-size:.9rem}thead{display:table-header-group}tr{break-inside:avoid}
@page{size:A4;margin:18mm 15mm 20mm 15mm;@bottom-right{content:"pagina " counter(page)
" di " counter(pages);font-size:9pt;color:#555}@bottom-left{content:string(doc);font-size:9pt;
color:#555}}
.doc{string-set:doc "Rapporto per il Piano di Zona – " content()}
@media print{html{font-size:10.5pt}body{margin:0;max-width:none;padding:0}
section.s{break-before:page}h2,h3{break-after:avoid}.toc a{color:inherit;text-decoration:none}
.kpis{grid-template-columns:repeat(3,1fr)}.kpi{border-color:#999}table{font-size:8.5pt}
.chart{max-width:100%}nav.app,.no-print{display:none}}
"""


def _kpis(b: Bundle) -> str:
    h = b.summary.headline
    ex = labels.EXPLANATIONS

    def money_note(m: Money) -> str:
        rate = m.rate_eur_per_hour
        note = f"tariffa media {italian.euro(rate)}/ora" if rate is not None else ""
        if m.rate_year:
            note += f", tariffe {m.rate_year}"
        if m.uses_default_rates:
            note += " (tariffe predefinite indicative)"
        return note

    cards = [
        (
            "Ore di volontariato verificate",
            italian.number(h.hours_community, 1),
            ex["hours_community"],
        ),
        ("Equivalenti a tempo pieno (FTE)", italian.number(h.fte, 2), ex["fte"]),
        ("Persone attive", italian.number(h.persons, 0), ex["persons"]),
        ("Soggetti della comunità attivi", italian.number(h.holders, 0), ex["holders"]),
        (
            "Valore di sostituzione del tempo",
            italian.euro(h.replacement_value.amount_eur),
            f"{money_note(h.replacement_value)}. {ex['replacement_value_eur']}",
        ),
        ("Valore in natura", italian.euro(h.in_kind_value.amount_eur), ex["in_kind_value_eur"]),
        ("Spesa pubblica", italian.euro(h.public_spending.amount_eur), ex["public_eur"]),
        (
            "Leva sulla spesa pubblica",
            f"{italian.number(h.leverage_ratio, 2)} €" if h.leverage_ratio is not None else N_D,
            ex["leverage_ratio"],
        ),
        ("Quota di co-produzione", italian.percent(h.coproduction_share), ex["coproduction_share"]),
        (
            "Bisogni senza alcuna copertura",
            italian.percent(h.share_needs_none),
            f"su {italian.number(h.needs, 0)} bisogni. {ex['share_none']}",
        ),
        (
            "Ore abbinate su ore offerte",
            italian.percent(h.matched_over_offered_hours),
            ex["matched_over_offered"],
        ),
        (
            "Tempo di abbinamento (mediana)",
            f"{italian.number(h.time_to_match_median_days, 1)} giorni"
            if h.time_to_match_median_days is not None
            else N_D,
            f"90° percentile: {italian.number(h.time_to_match_p90_days, 1)} giorni. "
            f"{ex['p90_days']}",
        ),
        (
            "Risorse confermate negli ultimi 90 giorni",
            italian.percent(h.share_resources_confirmed_90_days),
            ex["share_confirmed"],
        ),
    ]
    return "".join(
        f"<div class='kpi'><small>{_esc(a)}</small><b>{_esc(v)}</b><small>{_esc(c)}</small></div>"
        for a, v, c in cards
    )


def _filters(b: Bundle) -> str:
    f = b.summary.filters
    parts = []
    if f.comune:
        parts.append(f"comune di {labels.comune_name(f.comune, b.comuni)}")
    if f.area:
        parts.append(f"area {USER_AREA_LABELS.get(f.area, f.area)}")  # type: ignore[call-overload]
    if f.holder_kind:
        parts.append(f"tipo {HOLDER_KIND_LABELS.get(f.holder_kind, f.holder_kind)}")  # type: ignore[call-overload]
    if f.sector:
        parts.append(f"settore {SECTOR_LABELS.get(f.sector, f.sector)}")  # type: ignore[call-overload]
    return ", ".join(parts) or "nessuno: tutto l'ambito"


def outcomes_body(b: Bundle) -> str:
    """The chapter «Esiti per le persone»: what changes for the persons of the plans (issue
    15), from the published outcome tables, with their definitions."""
    if b.outcomes is None:
        return "<p class='read'>Esiti non calcolati per questo rapporto.</p>"
    tables = {t.name: t for t in b.outcomes.tables}
    total = tables["outcomes_by_area"].total or {}

    def shown(column: str) -> str:
        return labels.text(column, total.get(column))

    cards = [
        ("plans", shown("plans")),
        ("share_reviews_on_time", shown("share_reviews_on_time")),
        ("share_goals_attained", shown("share_goals_attained")),
        ("mean_t_change", shown("mean_t_change")),
        ("closures", shown("closures")),
        ("share_plans_activated", shown("share_plans_activated")),
    ]
    kpis = "".join(
        f"<div class='kpi'><small>{_esc(labels.header(c))}</small><b>{_esc(v)}</b></div>"
        for c, v in cards
    )
    shares = [total.get(f"mean_share_{s}") for s in ("own", "community", "funded")]
    chart = bar_chart(
        "Da dove viene il sostegno dei piani (quota media per piano)",
        ["Persona o famiglia", "Comunità", "Interventi finanziati"],
        [None if v is None else round(v * 100, 1) for v in shares],
        "% delle ore di sostegno",
    )
    series = tables.get("outcomes_by_month")
    if series is not None and len(series.rows) > 1:

        def pct(column: str) -> list[float | None]:
            return [None if r.get(column) is None else r[column] * 100 for r in series.rows]

        chart += line_chart(
            "Verifiche puntuali e obiettivi raggiunti, mese per mese",
            [italian.period_label(str(r["period"]), short=True) for r in series.rows],
            {
                "Verifiche puntuali (%)": pct("share_reviews_on_time"),
                "Obiettivi raggiunti o superati (%)": pct("share_goals_attained"),
            },
            "%",
        )
    return (
        "<p class='read'>Cosa cambia per le persone dei piani personalizzati: verifiche "
        "tenute in tempo, obiettivi raggiunti sulla scala GAS (Goal Attainment Scaling), "
        "variazione del punteggio T dalla situazione di partenza, chiusure e loro motivi, "
        "persone che da beneficiarie diventano a loro volta contributrici, e da dove viene il "
        "sostegno: dalla persona e dalla famiglia, dalla comunità, dagli interventi "
        "finanziati. Ogni piano conta nell'area di utenza e nel comune del piano; i piani "
        "sono pseudonimi e si pubblicano solo dati d'insieme, con le stesse regole di "
        "riservatezza degli altri indicatori.</p>"
        f"<div class='kpis'>{kpis}</div>"
        + chart
        + "".join(table_html(tables[n], b) for n in tables)
        + "<ul class='notes'>"
        + "".join(f"<li>{_esc(_nd(n))}</li>" for n in b.outcomes.notes)
        + "</ul>"
    )


SECTIONS = [
    ("sintesi", "Sintesi"),
    ("valore", "Tempo e valore della comunità"),
    ("copertura", "Copertura dei bisogni e uso delle risorse"),
    ("rete", "Rete di coesione"),
    ("esiti", "Esiti per le persone"),
    ("coprogrammazione", "Co-programmazione"),
    ("dettaglio", "Tabelle di dettaglio"),
    ("metodo", "Metodo, riservatezza e valori nascosti"),
]


def render(b: Bundle) -> str:
    s, ts, net = b.summary, b.timeseries, b.network
    tables = {t.name: t for t in b.tables}
    periods = [italian.period_label(str(r["period"]), short=True) for r in ts.series.rows]

    def col(name: str) -> list[float | None]:
        return [r.get(name) for r in ts.series.rows]

    ambito = f"{b.ambito_name} ({s.ambito_code})" if b.ambito_name else s.ambito_code
    title = f"Contributi della comunità e coesione sociale – {b.ambito_name or s.ambito_code}"
    threshold = b.threshold
    net_labels = [italian.period_label(str(r["period"]), short=True) for r in net.periods.rows]
    toc = "".join(f"<li><a href='#{key}'>{_esc(name)}</a></li>" for key, name in SECTIONS)
    suppressed = tables["suppressed"]

    def section(key: str, body: str) -> str:
        number = [k for k, _ in SECTIONS].index(key) + 1
        name = dict(SECTIONS)[key]
        return f"<section class='s' id='{key}'><h2>{number}. {_esc(name)}</h2>{body}</section>"

    value_body = (
        "<p class='read'>Il tempo donato è valorizzato al costo di sostituzione; il valore "
        "della comunità (tempo e natura) è messo accanto alla spesa pubblica degli interventi "
        "finanziati dello stesso periodo. I periodi con " + N_D + " hanno valori nascosti per "
        "riservatezza.</p>"
        + bar_chart(
            "Ore di volontariato verificate per periodo", periods, col("hours_community"), "ore"
        )
        + line_chart(
            "Valore della comunità e spesa pubblica",
            periods,
            {
                "Valore della comunità (€)": col("community_value_eur"),
                "Spesa pubblica (€)": col("public_eur"),
            },
            "euro",
        )
        + line_chart(
            "Leva: euro di comunità per 1 € pubblico",
            periods,
            {"Leva": col("leverage_ratio")},
            "€ per 1 € pubblico",
        )
        + f"<p class='read'>{_esc(labels.EXPLANATIONS['leverage_ratio'])}</p>"
        + table_html(tables["totals"], b)
        + table_html(ts.series, b, explain=False)
    )
    coverage_body = (
        coverage_chart(tables["need_coverage"])
        + "".join(
            table_html(tables[n], b)
            for n in ("need_coverage", "need_coverage_by_comune", "use", "time_to_match")
        )
        + table_html(tables["freshness"], b)
    )
    network_body = (
        "<p class='read'>I nodi della rete sono i soggetti della comunità; un legame unisce "
        "due soggetti che hanno contribuito allo stesso piano, organizzato insieme un'attività "
        "o un progetto di co-progettazione, partecipato alla stessa sessione o allo stesso "
        "tavolo di co-programmazione o a un'interazione registrata a mano (contata una volta "
        "sola nel mese in cui coincide con una sessione). Si pubblicano solo indicatori "
        "d'insieme e per settore, mai di un singolo soggetto o di una persona.</p>"
        + network_picture(net.nodes_by_sector, net.sector_blocks)
        + line_chart(
            "Coesione nel tempo",
            net_labels,
            {
                "Densità": [r.get("density") for r in net.periods.rows],
                "Clustering medio": [r.get("average_clustering") for r in net.periods.rows],
                "Indice E-I": [r.get("ei_index") for r in net.periods.rows],
            },
            "indice",
        )
        + table_html(net.periods, b)
        + table_html(net.nodes_by_sector, b)
        + "<ul class='notes'>"
        + "".join(f"<li>{_esc(_nd(n))}</li>" for n in net.notes)
        + "</ul>"
    )
    detail_names = (
        "by_sector",
        "by_kind",
        "by_comune",
        "by_area",
        "by_task_level",
        "by_unit",
        "public_by_fund_source",
    )
    detail_body = "".join(table_html(tables[n], b) for n in detail_names if n in tables)
    notes = [*s.notes, *ts.notes[-2:-1]]
    method_body = (
        "<h3>Valori nascosti (" + N_D + ")</h3>"
        f"<p class='read'>{_esc(labels.withheld_note(threshold))}</p>"
        f"<p class='read'>In questo rapporto: {italian.number(len(suppressed.rows), 0)} "
        "valori nascosti.</p>"
        "<h3>Note di metodo</h3><ul class='notes'>"
        + "".join(f"<li>{_esc(_nd(n))}</li>" for n in dict.fromkeys(notes))
        + "</ul>"
        + table_html(tables["methods"], b, explain=False)
        + _withheld_summary(suppressed)
        + table_html(tables["glossary"], b, explain=False)
    )
    return (
        "<!DOCTYPE html><html lang='it'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{_esc(title)}</title>"
        f"<style>{STYLE}</style></head><body>"
        "<header>"
        f"<h1>Contributi della comunità e coesione sociale</h1>"
        f"<p class='sub'>Rapporto per il Piano di Zona · Ambito territoriale sociale "
        f"<span class='doc'>{_esc(ambito)}</span></p>"
        "<dl class='meta'>"
        f"<dt>Periodo</dt><dd>{_esc(period_text(b))}</dd>"
        f"<dt>Filtri</dt><dd>{_esc(_filters(b))}</dd>"
        f"<dt>Dati al</dt><dd>{_esc(italian.long_datetime(s.as_of))} (ora italiana), "
        f"{_esc(labels.SOURCES.get(s.source, s.source))}</dd>"
        f"<dt>Riservatezza</dt><dd>nessun conteggio sotto {threshold} è pubblicato</dd>"
        "</dl></header>"
        f"<nav class='toc'><h2>Sommario</h2><ol>{toc}</ol></nav>"
        + section(
            "sintesi",
            f"<div class='kpis'>{_kpis(b)}</div>"
            f"<p class='read'>{_esc(labels.withheld_note(threshold))}</p>",
        )
        + section("valore", value_body)
        + section("copertura", coverage_body)
        + section("rete", network_body)
        + section("esiti", outcomes_body(b))
        + section("coprogrammazione", chapter_html(b.coprogramming, b.threshold))
        + section("dettaglio", detail_body)
        + section("metodo", method_body)
        + "</body></html>"
    )


def pdf(b: Bundle) -> bytes:
    """The report as an A4 PDF (WeasyPrint: pure Python over Pango, no browser)."""
    from weasyprint import HTML  # imported in the worker process only: it is heavy

    return HTML(string=render(b)).write_pdf()
