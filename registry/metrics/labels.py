"""What the Ufficio di Piano reads in the report and the exports, in Italian: table names
(files and sheets), column headers, values (comuni by name, vocabularies by label), how each
indicator is read and why a figure is withheld.

The published tables keep English identifiers (the API and the machine-readable CSV use them);
this module is the one place that turns them into Italian for people. Vocabulary labels come
from registry/vocabularies.py, comuni names from registry/geo.py.

The community holders of the seeds are «soggetti della comunità» here (associations, parishes,
informal networks, single volunteers, schools, companies, public offices): never «detentori».
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import msgspec

from registry import geo, italian
from registry.metrics.rates import TASK_LEVELS
from registry.outcomes.schemas import CLOSURE_REASON_LABELS
from registry.vocabularies import (
    CONTRIBUTION_UNIT_LABELS,
    FUND_SOURCE_LABELS,
    HOLDER_KIND_LABELS,
    SECTOR_LABELS,
    USER_AREA_LABELS,
)

HOLDERS = "soggetti della comunità"


@dataclass(frozen=True, slots=True)
class TableName:
    file: str  # CSV file name without extension (lower case, dashes)
    sheet: str  # XLSX sheet name (at most 31 characters)
    title: str  # heading in the report


TABLES: dict[str, TableName] = {
    "about": TableName("periodo-e-fonte", "Periodo e fonte", "Periodo, filtri e fonte dei dati"),
    "glossary": TableName("come-leggere", "Come leggere", "Come leggere gli indicatori"),
    "totals": TableName("indicatori-principali", "Indicatori principali", "Indicatori principali"),
    "by_sector": TableName("per-settore", "Per settore", f"Contributi per settore dei {HOLDERS}"),
    "by_kind": TableName(
        "per-tipo-di-soggetto", "Per tipo di soggetto", "Contributi per tipo di soggetto"
    ),
    "by_holder_kind": TableName(
        "per-tipo", "Per tipo", "Contributi per tipo di soggetto (solo tipo)"
    ),
    "by_comune": TableName("per-comune", "Per comune", "Contributi e leva per comune"),
    "by_area": TableName(
        "per-area-di-utenza", "Per area di utenza", "Contributi e leva per area di utenza"
    ),
    "by_task_level": TableName(
        "per-livello-di-mansione",
        "Per livello di mansione",
        "Ore e valore di sostituzione per livello di mansione",
    ),
    "by_unit": TableName(
        "in-natura-per-unita", "In natura per unità", "Contributi in natura per unità"
    ),
    "public_by_fund_source": TableName(
        "spesa-pubblica-per-fonte",
        "Spesa pubblica per fonte",
        "Spesa pubblica per fonte di finanziamento",
    ),
    "need_coverage": TableName(
        "copertura-bisogni-per-area",
        "Copertura per area",
        "Copertura dei bisogni per area di utenza",
    ),
    "need_coverage_by_comune": TableName(
        "copertura-bisogni-per-comune",
        "Copertura per comune",
        "Copertura dei bisogni per comune",
    ),
    "use": TableName("uso-non-consumo", "Uso non consumo", "Uso, non consumo delle risorse"),
    "time_to_match": TableName(
        "tempo-di-abbinamento", "Tempo di abbinamento", "Tempo di abbinamento (giorni)"
    ),
    "freshness": TableName(
        "aggiornamento-risorse", "Aggiornamento risorse", "Aggiornamento delle risorse"
    ),
    "timeseries_month": TableName("serie-mensile", "Serie mensile", "Serie storica per mese"),
    "timeseries_quarter": TableName(
        "serie-trimestrale", "Serie trimestrale", "Serie storica per trimestre"
    ),
    "network": TableName(
        "rete-di-coesione", "Rete di coesione", "Rete di coesione: indicatori per periodo"
    ),
    "network_nodes_by_sector": TableName(
        "rete-per-settore", "Rete per settore", "Soggetti della rete per settore (ultimo periodo)"
    ),
    "methods": TableName(
        "metodi-e-tariffe", "Metodi e tariffe", "Metodi, tariffe e anni delle tariffe"
    ),
    "suppressed": TableName("valori-nascosti", "Valori nascosti", "Valori nascosti e perché"),
    # outcomes for the persons of the plans (registry/metrics/outcomes.py, issue 15)
    "outcomes_by_area": TableName(
        "esiti-per-area-di-utenza", "Esiti per area di utenza", "Esiti per area di utenza"
    ),
    "outcomes_by_comune": TableName("esiti-per-comune", "Esiti per comune", "Esiti per comune"),
    "outcome_closures": TableName(
        "piani-chiusi-per-motivo", "Piani chiusi per motivo", "Piani chiusi per motivo"
    ),
    "outcomes_by_month": TableName("esiti-per-mese", "Esiti per mese", "Esiti mese per mese"),
}


class LabelsOut(msgspec.Struct, kw_only=True):
    """The Italian names the web app shows: one source for the app, the report and the
    exports."""

    columns: dict[str, str]
    tables: dict[str, str]
    explanations: dict[str, str]
    withheld: str


def labels_out(threshold: int) -> LabelsOut:
    return LabelsOut(
        columns=dict(COLUMNS),
        tables={name: label.title for name, label in TABLES.items()},
        explanations=dict(EXPLANATIONS),
        withheld=withheld_note(threshold),
    )


def table_name(name: str) -> TableName:
    return TABLES.get(name) or TableName(name.replace("_", "-"), name[:31], name)


def table_by_file(file: str) -> str | None:
    """The table a CSV file name (Italian or English) stands for."""
    if file in TABLES:
        return file
    return next((name for name, label in TABLES.items() if label.file == file), None)


COLUMNS: dict[str, str] = {
    # keys
    "period": "Periodo",
    "sector": "Settore",
    "holder_kind": "Tipo di soggetto",
    "comune": "Comune",
    "area": "Area di utenza",
    "task_level": "Livello di mansione",
    "unit": "Unità",
    "fund_source": "Fonte di finanziamento",
    # counts and hours
    "persons": "Persone",
    "holders": "Soggetti della comunità",
    "entries": "Registrazioni verificate",
    "entries_self_reported_unverified": "Registrazioni autodichiarate da verificare",
    "hours_verified": "Ore verificate",
    "hours_paid_by_interventions": "Ore già pagate da interventi finanziati",
    "hours_community": "Ore di volontariato (al netto delle pagate)",
    "hours_self_reported_unverified": "Ore autodichiarate da verificare (non contate)",
    "fte": "Equivalenti a tempo pieno (FTE)",
    # money
    "replacement_value_eur": "Valore di sostituzione (€)",
    "in_kind_value_eur": "Valore in natura (€)",
    "community_value_eur": "Valore della comunità (€)",
    "public_eur": "Spesa pubblica (€)",
    "leverage_ratio": "Leva (€ di comunità per 1 € pubblico)",
    "coproduction_share": "Quota di co-produzione",
    "value_method": "Metodo di valorizzazione",
    "rate_eur_per_hour": "Tariffa oraria (€)",
    "rate_years": "Anni delle tariffe",
    "rate_is_default": "Tariffa predefinita",
    "valued_entries": "Registrazioni con valore dichiarato",
    "quantity": "Quantità",
    # coverage and use
    "needs": "Bisogni",
    "community_only": "Solo comunità",
    "intervention_only": "Solo interventi finanziati",
    "both": "Comunità e interventi",
    "none": "Nessuna copertura",
    "share_community_only": "Quota solo comunità",
    "share_intervention_only": "Quota solo interventi",
    "share_both": "Quota comunità e interventi",
    "share_none": "Quota non coperta",
    "matched_entries": "Registrazioni abbinate (ore)",
    "matched_entries_other_units": "Registrazioni abbinate (altre unità)",
    "matched_hours": "Ore abbinate",
    "matched_hours_other_units": "Ore abbinate (altre unità di tempo)",
    "offered_hours": "Ore offerte",
    "matched_over_offered": "Ore abbinate su ore offerte",
    "resources_used": "Risorse usate",
    "resources_used_in_2_plus_plans": "Risorse usate in 2 o più piani",
    "share_resources_reused": "Quota di risorse riusate",
    "needs_recorded": "Bisogni registrati",
    "needs_matched": "Bisogni abbinati",
    "share_needs_matched": "Quota di bisogni abbinati",
    "median_days": "Mediana (giorni)",
    "p90_days": "90° percentile (giorni)",
    "resources": "Risorse",
    "confirmed_last_90_days": "Confermate negli ultimi 90 giorni",
    "share_confirmed": "Quota confermata",
    "as_of": "Dati al",
    # network
    "nodes": "Soggetti nella rete",
    "person_nodes": "Volontari singoli nella rete",
    "edges": "Legami",
    "new_ties": "Legami nuovi",
    "components": "Componenti",
    "communities": "Comunità (gruppi)",
    "density": "Densità",
    "average_degree": "Grado medio",
    "largest_component_share": "Quota nella componente maggiore",
    "average_clustering": "Clustering medio",
    "ei_index": "Indice E-I tra settori",
    "sector_assortativity": "Assortatività per settore",
    "modularity": "Modularità",
    "edges_co_contribution": "Legami da co-contribuzione",
    "edges_joint_activity": "Legami da attività comuni",
    "edges_interaction": "Legami da interazioni registrate",
    "period_start": "Dal",
    "period_end": "Al",
    # the exports' own tables
    "ambito": "Ambito",
    "ambito_code": "Codice ambito",
    "from": "Dal",
    "to": "Al",
    "source": "Fonte dei dati",
    "threshold": "Soglia di riservatezza",
    "figure": "Cifra",
    "amount_eur": "Importo (€)",
    "method": "Metodo",
    "rate_year": "Anno della tariffa",
    "rate_source": "Fonte della tariffa",
    "table": "Tabella",
    "row": "Riga",
    "column": "Colonna",
    "reason": "Motivo",
    "indicator": "Indicatore",
    "meaning": "Come si legge",
    # outcomes (registry/metrics/outcomes.py)
    "closure_reason": "Motivo di chiusura",
    "plans": "Piani attivi",
    "reviews_due": "Verifiche in scadenza",
    "reviews_on_time": "Verifiche puntuali",
    "share_reviews_on_time": "Quota di verifiche puntuali",
    "goals_rated": "Obiettivi valutati",
    "goals_attained": "Obiettivi raggiunti o superati",
    "share_goals_attained": "Quota di obiettivi raggiunti o superati",
    "plans_scored": "Piani con punteggio T",
    "mean_t_change": "Variazione media del punteggio T (GAS)",
    "closures": "Piani chiusi",
    "plans_activated": "Piani con persona attivata",
    "share_plans_activated": "Quota di piani con persona attivata",
    "plans_with_support": "Piani con ore di sostegno",
    "support_hours_own": "Ore dalla persona o dalla famiglia",
    "support_hours_community": "Ore dalla comunità",
    "support_hours_funded": "Ore da interventi finanziati",
    "mean_share_own": "Quota media dalla persona o dalla famiglia",
    "mean_share_community": "Quota media dalla comunità",
    "mean_share_funded": "Quota media da interventi finanziati",
}

# Columns whose numbers are euro, shares (0-1, shown as %), or indices with more decimals.
EURO = {c for c in COLUMNS if c.endswith("_eur") or c in ("rate_eur_per_hour", "amount_eur")}
SHARES = {
    "coproduction_share",
    "share_community_only",
    "share_intervention_only",
    "share_both",
    "share_none",
    "matched_over_offered",
    "share_resources_reused",
    "share_needs_matched",
    "share_confirmed",
    "largest_component_share",
    "share_reviews_on_time",
    "share_goals_attained",
    "share_plans_activated",
    "mean_share_own",
    "mean_share_community",
    "mean_share_funded",
}
INDICES = {
    "leverage_ratio",
    "fte",
    "density",
    "average_clustering",
    "ei_index",
    "sector_assortativity",
    "modularity",
}
# Shown in the tables of the report only when they say something the reader needs.
REPORT_HIDDEN = {"value_method", "rate_years", "period_start", "period_end", "as_of"}

VALUE_METHODS = {
    "replacement_cost": "costo di sostituzione",
    "replacement_cost+declared_in_kind": "costo di sostituzione + valore dichiarato in natura",
    "declared_fair_value": "valore normale dichiarato",
    "spent_prorated": "euro spesi, ripartiti per giorni",
    "": "",
}
FIGURES = {
    "replacement_value": "Valore di sostituzione del tempo",
    "in_kind_value": "Valore in natura (beni e spazi)",
    "community_value": "Valore della comunità",
    "public_spending": "Spesa pubblica degli interventi",
}
SOURCES = {"live": "calcolati al momento", "snapshot": "elaborazione notturna"}

# Why a cell is withheld (registry/metrics/suppression.py and disclosure.py name the reasons).
REASONS = {
    "primary": "conteggio sotto la soglia di riservatezza (o somma su di esso)",
    "secondary": "permetterebbe di ricalcolare un valore nascosto dai totali",
    "derived": "calcolato da un valore nascosto",
    "period": "nascosto in almeno un mese del periodo",
    "filter": "non pubblicabile con il filtro scelto (si ricaverebbe per differenza)",
}

# How each indicator is read: shown next to it in the report, as a sheet in the workbook.
EXPLANATIONS: dict[str, str] = {
    "hours_community": (
        "Ore di attività verificate (QR o conferma), tolte quelle già pagate da un intervento "
        "finanziato: tempo donato alla comunità."
    ),
    "hours_self_reported_unverified": (
        "Ore registrate da chi le ha svolte e non ancora confermate: indicate a parte, non "
        "entrano in nessun totale."
    ),
    "fte": (
        "Equivalenti a tempo pieno: ore di volontariato diviso 1.824 (38 ore per 48 settimane, "
        "convenzione CNEL-ISTAT). 0,5 FTE è il lavoro di una persona a metà tempo per un anno."
    ),
    "persons": (
        "Persone distinte che hanno contribuito: chi è attivo in più realtà conta una volta."
    ),
    "holders": (
        "Soggetti della comunità (associazioni, parrocchie, reti informali, volontari singoli, "
        "scuole, imprese, uffici pubblici) con almeno un contributo verificato."
    ),
    "replacement_value_eur": (
        "Quanto costerebbe pagare le stesse ore al livello di mansione equivalente (costo di "
        "sostituzione, Manuale ILO; art. 17 CTS e DM 107/2021). Una stima, non una spesa."
    ),
    "in_kind_value_eur": "Valore normale dichiarato di beni e spazi messi a disposizione.",
    "public_eur": (
        "Euro spesi dagli interventi finanziati nel periodo (ripartiti per giorni) e, per "
        "comune, in parti uguali tra i comuni serviti."
    ),
    "leverage_ratio": (
        "Leva: euro di valore della comunità (tempo + natura) per ogni euro di spesa pubblica. "
        "0,25 vuol dire 25 centesimi di comunità per 1 € pubblico."
    ),
    "coproduction_share": (
        "Quota di co-produzione: valore della comunità diviso (valore della comunità + spesa "
        "pubblica)."
    ),
    "share_none": (
        "Bisogni dei piani che nel periodo non hanno avuto né un abbinamento con la comunità "
        "né un intervento finanziato."
    ),
    "matched_over_offered": (
        "Uso, non consumo: ore effettivamente abbinate ai bisogni diviso ore offerte dalle "
        "risorse disponibili."
    ),
    "median_days": (
        "Giorni tra la registrazione di un bisogno e l'accettazione del suo abbinamento: metà "
        "dei bisogni è abbinata entro la mediana."
    ),
    "p90_days": (
        "90° percentile: 9 bisogni abbinati su 10 lo sono entro questo numero di giorni; "
        "misura i casi più lenti."
    ),
    "share_confirmed": (
        "Risorse confermate dal loro soggetto negli ultimi 90 giorni: dati recenti, affidabili "
        "per l'abbinamento."
    ),
    "density": (
        "Densità: legami presenti diviso legami possibili tra tutti i soggetti (da 0 a 1)."
    ),
    "average_degree": "Grado medio: numero medio di legami di un soggetto.",
    "average_clustering": (
        "Clustering medio: quanto i soggetti legati a uno stesso soggetto sono legati anche tra "
        "loro (da 0 a 1)."
    ),
    "ei_index": (
        "Indice E-I (Krackhardt e Stern, 1988): (legami tra settori diversi − legami dentro lo "
        "stesso settore) / tutti i legami. Va da −1 (ogni settore lavora da sé) a +1 (solo "
        "legami tra settori): valori che crescono dicono più ponti tra pubblico, terzo "
        "settore, informale e imprese."
    ),
    "sector_assortativity": (
        "Assortatività per settore: da −1 a +1; positiva quando i soggetti si legano soprattutto "
        "a soggetti del proprio settore, negativa quando preferiscono altri settori, vicina a 0 "
        "quando il settore non conta."
    ),
    "modularity": (
        "Modularità: quanto la rete si divide in gruppi chiusi (da −0,5 a 1). Sopra 0,3 la rete "
        "è fatta di gruppi poco collegati tra loro; bassa vuol dire una rete più integrata."
    ),
    "new_ties": "Legami che compaiono per la prima volta nel periodo.",
    "largest_component_share": (
        "Quota di soggetti nella parte più grande della rete in cui tutti sono raggiungibili."
    ),
    # outcomes for the persons of the plans (registry/metrics/outcomes.py, issue 15)
    "plans": "Piani attivi in almeno un giorno del periodo (le bozze non contano).",
    "share_reviews_on_time": (
        "Verifiche puntuali: tra le verifiche in scadenza nel periodo (la scadenza è la data "
        "della prossima verifica fissata alla verifica precedente), quota di quelle tenute "
        "entro la scadenza. Una verifica scaduta e non ancora tenuta conta come non puntuale; "
        "una che scade da oggi in poi non è ancora contata."
    ),
    "share_goals_attained": (
        "Obiettivi raggiunti o superati: tra gli obiettivi con un livello registrato nel "
        "periodo (conta l'ultimo del periodo), quota al livello 0 (atteso) o superiore (+1, "
        "+2) della scala GAS; contano anche gli obiettivi abbandonati dopo essere stati "
        "valutati nel periodo."
    ),
    "mean_t_change": (
        "Variazione media del punteggio T (Goal Attainment Scaling, Kiresuk e Sherman 1968): "
        "per ogni piano, T con gli ultimi livelli del periodo meno T con i livelli di partenza "
        "registrati per gli stessi obiettivi (−1 se non indicato); poi la media sui piani. "
        "T = 50 + 10·Σ pᵢxᵢ / √(0,7·Σ pᵢ² + 0,3·(Σ pᵢ)²), con pesi p e livelli x da −2 a +2: "
        "T = 50 vuol dire obiettivi raggiunti come atteso, e ogni 10 punti in più sono circa "
        "un livello sopra l'atteso. Gli obiettivi abbandonati non entrano nel punteggio."
    ),
    "closures": "Piani chiusi nel periodo; i motivi sono nella tabella «Piani chiusi per motivo».",
    "share_plans_activated": (
        "Attivazione: piani in cui la persona ha cominciato nel periodo a dare a sua volta "
        "(come volontaria o in un'attività della comunità), sul totale dei piani attivi."
    ),
    "mean_share_own": (
        "Da dove viene il sostegno di ogni piano, in ore del periodo: dalla persona o dalla "
        "famiglia (risorse proprie in tempo, minuti a settimana per i giorni in cui valgono), "
        "dalla comunità (ore verificate del registro date al piano, tolte quelle già pagate da "
        "un intervento) e dagli interventi finanziati (ore erogate, ripartite per giorni e in "
        "parti uguali tra i piani serviti). Quote calcolate piano per piano, poi la media sui "
        "piani con almeno un'ora di sostegno; accanto, le ore totali."
    ),
}
WITHHELD = (
    "«n.d.» (non disponibile) indica un valore nascosto per riservatezza o non calcolabile: "
    "un conteggio tra 1 e {low} persone o soggetti potrebbe far riconoscere qualcuno, quindi "
    "non si pubblica (soglia {threshold}, regole Sistan: almeno 3); si nascondono anche le "
    "celle da cui lo si potrebbe ricalcolare per differenza dai totali e i rapporti calcolati "
    "da valori nascosti. L'elenco cella per cella, con il motivo, è nel foglio «Valori "
    "nascosti» delle esportazioni."
)


# Column identifiers in notes: any snake_case word, and the one-word ones that are not also
# Italian words (comune, area are both).
_ONE_WORD = ("persons", "holders", "entries", "needs", "resources", "nodes", "edges", "fte")
_IDENTIFIER = re.compile(r"\b(?:[a-z]+(?:_[a-z0-9]+)+|" + "|".join(_ONE_WORD) + r")\b")


def prose(text: str) -> str:
    """A note written by the metrics code, for people: a column identifier it names becomes
    the column's Italian name, and null (the API's word for withheld) becomes n.d."""
    text = _IDENTIFIER.sub(lambda m: f"«{header(m.group(0))}»" if m.group(0) in COLUMNS else
                           m.group(0), text)  # fmt: skip
    text = text.replace("(null)", f"({italian.MISSING})").replace("null", italian.MISSING)
    # The seeds' community holders: notes written before the wording was settled say
    # «detentori», which reads wrong to Italian readers.
    for old, new in _HOLDER_WORDS:
        text = text.replace(old, new)
    return text


_HOLDER_WORDS = (
    ("i detentori", "i soggetti della comunità"),
    ("e detentori", "e soggetti della comunità"),
    ("dei detentori", "dei soggetti della comunità"),
    ("di detentore", "di soggetto"),
    ("Detentori", "Soggetti della comunità"),
    ("detentori", "soggetti della comunità"),
    ("detentore", "soggetto della comunità"),
)


def withheld_note(threshold: int) -> str:
    return WITHHELD.format(low=max(1, threshold - 1), threshold=threshold)


def header(column: str) -> str:
    return COLUMNS.get(column, column.replace("_", " ").capitalize())


def comune_name(code: str, names: Mapping[str, str] | None = None) -> str:
    """The comune's name: ISTAT's list first, then the ambito's own register, else the code."""
    place = geo.comune(code)
    if place is not None and place.name:
        return place.name
    if names and code in names:
        return names[code]
    return code


def value(column: str, raw: Any, comuni: Mapping[str, str] | None = None) -> Any:
    """A cell for people: identifiers become labels, numbers stay numbers (the writer
    formats them), None stays None (shown as n.d.)."""
    if raw is None:
        return None
    if isinstance(raw, Enum):
        raw = raw.value
    if isinstance(raw, bool):
        return "sì" if raw else "no"
    if not isinstance(raw, str):
        return raw
    labels: Mapping[Any, str] | None = {
        "sector": SECTOR_LABELS,
        "holder_kind": HOLDER_KIND_LABELS,
        "area": USER_AREA_LABELS,
        "fund_source": FUND_SOURCE_LABELS,
        "unit": CONTRIBUTION_UNIT_LABELS,
        "value_method": VALUE_METHODS,
        "task_level": TASK_LEVELS,
        "figure": FIGURES,
        "source": SOURCES,
        "reason": REASONS,
        "closure_reason": CLOSURE_REASON_LABELS,
    }.get(column)
    if labels is not None:
        return labels.get(raw, raw)  # type: ignore[call-overload]
    if column == "comune":
        return comune_name(raw, comuni)
    if column == "period":
        return italian.period_label(raw)
    if column == "table":
        return table_name(raw).title
    if column in ("column", "indicator"):
        return header(raw)
    if column in ("as_of", "from", "to", "period_start", "period_end") and _iso_date(raw):
        return date.fromisoformat(raw)
    return raw


def _iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def text(column: str, raw: Any, comuni: Mapping[str, str] | None = None) -> str:
    """A cell as text to read (report, PDF): grouped thousands, €, %, dates in words."""
    shown = value(column, raw, comuni)
    if shown is None:
        return italian.MISSING
    if isinstance(shown, datetime):
        return italian.long_datetime(shown)
    if isinstance(shown, date):
        return italian.short_date(shown)
    if isinstance(shown, bool | str):
        return str(shown)
    if column in SHARES:
        return italian.percent(shown)
    if column in EURO:
        return italian.euro(shown)
    if column in INDICES:
        return italian.number(shown, 3 if abs(shown) < 1 else 2)
    if isinstance(shown, float) and not shown.is_integer():
        return italian.number(shown, 1 if column.startswith("hours") else 2)
    return italian.number(shown, 0)
