"""What an Ufficio di Piano downloads reads in Italian: file, sheet and column names, comuni by
name, vocabularies by label, numbers and dates as Italian Excel reads them (`;`, decimal
comma, BOM) with a machine-readable variant, and the report as an HTML document and an A4 PDF.

Nothing here depends on the day the tests run: the data are in 2025, the period asked is
2025, and instants are formatted from fixed datetimes.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from registry import italian
from registry.access import Role
from registry.contributions.tables import Contribution
from registry.tabular.writing import ITALIAN, MACHINE, to_csv
from tests.conftest import Tenant
from tests.metrics_data import build

Q = {"from": "2025-01-01", "to": "2025-12-31", "granularity": "quarter", "live": "true"}
COMO = "013075"  # a real ISTAT code: its name comes from registry/geo.py
# API identifiers and slugs that must never reach a reader of the Italian outputs.
ENGLISH = (
    "hours_paid_by_interventions",
    "matched_over_offered",
    "ei_index",
    "entries_self_reported_unverified",
    "hours_community",
    "third_sector",
    "individual_volunteer",
    "famiglie-minori",
    "poverta-disagio-adulti",
    "replacement_cost",
)


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "5")


async def _scenario(tenant: Tenant) -> None:
    await build(tenant)
    # The six volunteers' QR-verified hours were given in Como: the by-comune table then names
    # a comune of ISTAT's list next to the tenant's own (made-up codes, in the ambito's register).
    await Contribution.update({Contribution.comune: COMO}).where(
        (Contribution.ambito == tenant.ambito_id)
        & (Contribution.verification == "qr_verified")
        & (Contribution.volunteer.is_not_null())
    )


async def _get(client, tenant: Tenant, path: str, **extra: str):
    response = await client.get(
        f"/api/metrics/{path}", params={**Q, **extra}, headers=tenant.headers(Role.UDP_ADMIN)
    )
    assert response.status_code == 200, response.text
    return response


def _italian_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Italian Excel needs the UTF-8 BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _filename(response) -> str:
    match = re.search(r'filename="([^"]+)"', response.headers["content-disposition"])
    assert match is not None
    return match.group(1)


# --- the formatter and the CSV dialects -----------------------------------------------------


def test_one_italian_formatter() -> None:
    assert italian.number(10000.0) == "10.000"
    assert italian.number(1234.567, 2) == "1.234,57"
    assert italian.euro(12000) == "12.000,00 €"
    assert italian.percent(0.0282) == "2,8%"
    assert italian.long_date(date(2025, 1, 1)) == "1 gennaio 2025"
    assert italian.short_date(date(2025, 12, 31)) == "31/12/2025"
    # Europe/Rome, summer and winter time on the night the clocks go back.
    assert italian.long_datetime(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)).endswith("ore 02:30")
    assert italian.long_datetime(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)).endswith("ore 02:30")
    assert italian.short_datetime(datetime(2025, 1, 15, 23, 30, tzinfo=UTC)) == "16/01/2025 00:30"
    assert italian.period_label("2025-Q1") == "1º trimestre 2025"
    assert italian.period_label("2025-03") == "marzo 2025"
    assert italian.number(None) == "n.d."


def test_csv_dialects() -> None:
    rows = [{"name": "=SOMMA(A1)", "hours": 1234.5, "day": date(2025, 3, 1), "ok": True}]
    columns = ["name", "hours", "day", "ok"]
    it = to_csv(columns, rows, dialect=ITALIAN, headers=["Nome", "Ore", "Giorno", "Valido"])
    assert it.startswith(b"\xef\xbb\xbf")
    assert it.decode("utf-8-sig").splitlines() == [
        "Nome;Ore;Giorno;Valido",
        "'=SOMMA(A1);1234,5;01/03/2025;sì",
    ]
    machine = to_csv(columns, rows, dialect=MACHINE)
    assert machine.decode("utf-8").splitlines() == [
        "name,hours,day,ok",
        "'=SOMMA(A1),1234.5,2025-03-01,true",
    ]


# --- CSV ---------------------------------------------------------------------------------------


async def test_csv_is_italian_by_default(client, tenant: Tenant) -> None:
    await _scenario(tenant)
    response = await _get(client, tenant, "export/totals.csv")
    assert _filename(response).startswith(f"indicatori-principali-{tenant.code}-")
    rows = _italian_csv(response.content)
    header, values = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert "Ore già pagate da interventi finanziati" in header
    assert "Equivalenti a tempo pieno (FTE)" in header
    for word in ENGLISH:
        assert word not in response.content.decode("utf-8-sig"), word
    # decimal comma without thousands separator: Italian Excel reads these as numbers
    assert values["Spesa pubblica (€)"] == "12000"
    assert values["Ore di volontariato (al netto delle pagate)"] == "12"
    assert values["Leva (€ di comunità per 1 € pubblico)"] == "0,029"
    assert values["Equivalenti a tempo pieno (FTE)"] == "0,007"
    assert values["Metodo di valorizzazione"].startswith("costo di sostituzione")


async def test_csv_names_comuni_and_labels(client, tenant: Tenant) -> None:
    await _scenario(tenant)
    # the Italian file name works in the address too
    by_comune = _italian_csv((await _get(client, tenant, "export/per-comune.csv")).content)
    comuni = [row[0] for row in by_comune[1:]]
    assert "Como" in comuni
    assert f"Comune {tenant.comuni[0]}" in comuni  # the ambito's register names its own
    assert comuni[-1] == "Totale"
    assert not any(re.fullmatch(r"\d{6}", c) for c in comuni)

    by_kind = _italian_csv((await _get(client, tenant, "export/by_kind.csv")).content)
    assert by_kind[0][:2] == ["Settore", "Tipo di soggetto"]
    kinds = {row[1] for row in by_kind[1:-1]}
    assert {"Associazione / ETS", "Parrocchia", "Volontario/a singolo/a"} <= kinds
    assert {row[0] for row in by_kind[1:-1]} <= {"Pubblico", "Terzo settore", "Informale"}

    coverage = _italian_csv((await _get(client, tenant, "export/need_coverage.csv")).content)
    assert {"Anziani", "Disabili"} <= {row[0] for row in coverage[1:]}

    series = _italian_csv((await _get(client, tenant, "export/timeseries_quarter.csv")).content)
    assert [row[0] for row in series[1:5]] == [f"{q}º trimestre 2025" for q in range(1, 5)]
    assert series[1][series[0].index("Dal")] == "01/01/2025"


async def test_csv_machine_variant(client, tenant: Tenant) -> None:
    await _scenario(tenant)
    response = await _get(client, tenant, "export/totals.csv", dialect="machine")
    assert _filename(response) == "totals.csv"
    assert not response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    summary = (await _get(client, tenant, "summary")).json()
    totals = next(t for t in summary["tables"] if t["name"] == "totals")
    assert rows[0] == totals["columns"]  # the API's own identifiers
    values = dict(zip(rows[0], rows[1], strict=True))
    assert values["leverage_ratio"] == "0.029"
    assert values["public_eur"] == "12000.0"
    by_comune = list(
        csv.reader(
            io.StringIO(
                (await _get(client, tenant, "export/by_comune.csv", dialect="machine")).text
            )
        )
    )
    assert {row[0] for row in by_comune[1:-1]} >= {COMO, tenant.comuni[0]}


async def test_csv_bad_requests(client, tenant: Tenant) -> None:
    await _scenario(tenant)
    headers = tenant.headers(Role.UDP_ADMIN)
    missing = await client.get("/api/metrics/export/nessuna.csv", params=Q, headers=headers)
    assert missing.status_code == 404
    assert "indicatori-principali" in missing.text  # the Italian names are listed
    dialect = await client.get(
        "/api/metrics/export/totals.csv", params={**Q, "dialect": "excel"}, headers=headers
    )
    assert dialect.status_code == 400
    assert "dialect" in dialect.text


# --- XLSX --------------------------------------------------------------------------------------


async def test_xlsx_is_italian(client, tenant: Tenant) -> None:
    await _scenario(tenant)
    response = await _get(client, tenant, "export.xlsx")
    assert _filename(response).startswith(f"indicatori-{tenant.code}-")
    book = load_workbook(io.BytesIO(response.content))
    for sheet in (
        "Periodo e fonte",
        "Indicatori principali",
        "Per settore",
        "Per comune",
        "Serie trimestrale",
        "Rete di coesione",
        "Valori nascosti",
        "Come leggere",
    ):
        assert sheet in book.sheetnames, sheet
    assert not {"about", "totals", "by_sector"} & set(book.sheetnames)
    about = list(book["Periodo e fonte"].iter_rows(values_only=True))
    info = dict(zip(about[0], about[1], strict=True))
    assert info["Ambito"] == f"Ambito di prova {tenant.code}"
    assert info["Dal"] == datetime(2025, 1, 1)  # a real date cell
    assert book["Periodo e fonte"]["C2"].number_format == "DD/MM/YYYY"
    totals = book["Indicatori principali"]
    header = [c.value for c in totals[1]]
    public = totals.cell(row=2, column=header.index("Spesa pubblica (€)") + 1)
    assert public.value == 12000 and "€" in public.number_format
    assert "Ore già pagate da interventi finanziati" in header
    comuni = [r[0] for r in book["Per comune"].iter_rows(min_row=2, values_only=True)]
    assert "Como" in comuni
    glossary = {r[0]: r[1] for r in book["Come leggere"].iter_rows(min_row=2, values_only=True)}
    assert "Krackhardt" in glossary["Indice E-I tra settori"]
    every = " ".join(
        str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
    )
    for word in ENGLISH:
        assert word not in every, word
    assert "etentor" not in every


async def test_xlsx_machine_variant(client, tenant: Tenant) -> None:
    await _scenario(tenant)
    response = await _get(client, tenant, "export.xlsx", dialect="machine")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert {"about", "totals", "by_comune", "suppressed"} <= set(book.sheetnames)
    book.close()


# --- the report -------------------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.headers: list[str] = []
        self.axis: list[str] = []
        self._where: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "th":
            self._where = "th"
        elif tag == "text" and a.get("class") == "a y":  # a value on a chart's y axis
            self._where = "axis"

    def handle_endtag(self, tag: str) -> None:
        self._where = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._where == "th":
            self.headers.append(data)
        elif self._where == "axis":
            self.axis.append(data)


async def test_report_reads_as_an_italian_document(client, tenant: Tenant) -> None:
    await _scenario(tenant)
    response = await _get(client, tenant, "report.html", download="true")
    assert _filename(response).startswith(f"rapporto-piano-di-zona-{tenant.code}-")
    page = _Text()
    page.feed(response.text)
    text = " ".join(page.text)
    assert f"Ambito di prova {tenant.code}" in text
    assert "dal 1 gennaio 2025 al 31 dicembre 2025" in text
    assert "(ora italiana)" in text and "UTC" not in text
    assert "Ore già pagate da interventi finanziati" in page.headers
    assert "Como" in text and "Terzo settore" in text and "Anziani" in text
    for word in (*ENGLISH, "True", "False", "etentor"):
        assert word not in text, word
    # every indicator explained where it is shown, and why a figure is withheld
    for words in (
        "Krackhardt",
        "Assortatività per settore: da −1 a +1",
        "Modularità: quanto la rete",
        "euro di valore della comunità",
        "1.824",
        "90° percentile: 9 bisogni abbinati su 10",
        "sotto la soglia di riservatezza",
        "potrebbe far riconoscere qualcuno",
    ):
        assert words in text, words
    # Italian numbers on the chart axes: 5.000, 0,25, never 5,000
    assert page.axis
    for tick in page.axis:
        assert re.fullmatch(r"-?\d{1,3}(\.\d{3})*(,\d+)?", tick), tick
    assert "12.000,00 €" in text
    # a printable A4 document: page size, margins, a section per page, no navigation
    assert "@page{size:A4" in response.text
    assert "break-before:page" in response.text


async def test_report_pdf(client, tenant: Tenant) -> None:
    await _scenario(tenant)
    response = await _get(client, tenant, "report.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert _filename(response).endswith(".pdf")
    assert response.content.startswith(b"%PDF-")
    pdf = PdfReader(io.BytesIO(response.content))
    assert len(pdf.pages) >= 6  # cover and one page or more per section
    for page in pdf.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1  # A4 portrait, in points
    text = "\n".join(page.extract_text() for page in pdf.pages)
    flat = re.sub(r"\s+", " ", text)
    assert "Contributi della comunità e coesione sociale" in flat
    assert f"Ambito di prova {tenant.code}" in flat
    assert "12.000,00 €" in flat  # public spending, in Italian
    assert "Indice E-I tra settori" in flat
    assert "pagina 1 di" in flat
