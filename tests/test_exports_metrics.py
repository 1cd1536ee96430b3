"""Exports for the Piano di Zona: XLSX opens with openpyxl, every CSV parses, the one-file
HTML report parses and holds its charts inline. The machine-readable variant keeps the API's
identifiers; tests/test_outputs_italian.py checks the Italian default."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from registry.access import Role
from registry.metrics.disclosure import SUMMARY_TABLES
from tests.conftest import Tenant
from tests.metrics_data import build

Q = {"from": "2025-01-01", "to": "2025-12-31", "granularity": "quarter", "live": "true"}


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "5")


async def test_xlsx_has_every_table(client, tenant: Tenant) -> None:
    await build(tenant)
    response = await client.get(
        "/api/metrics/export.xlsx",
        params={**Q, "dialect": "machine"},
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    names = set(book.sheetnames)
    # Every table the summary publishes, then the series, the network and the notes.
    for expected in (
        "about",
        *SUMMARY_TABLES,
        "timeseries_quarter",
        "network",
        "network_nodes_by_sector",
        "methods",
        "suppressed",
        "glossary",
    ):
        assert expected in names, expected
    totals = list(book["totals"].iter_rows(values_only=True))
    header = list(totals[0])
    row = dict(zip(header, totals[1], strict=False))
    assert row["hours_community"] == 12
    assert row["public_eur"] == 12000
    methods = list(book["methods"].iter_rows(values_only=True))
    assert any("ILO" in str(r[2]) for r in methods[1:])
    suppressed = list(book["suppressed"].iter_rows(values_only=True))
    assert len(suppressed) > 1  # the small cells are listed
    book.close()


async def test_every_csv(client, tenant: Tenant) -> None:
    await build(tenant)
    first = await client.get(
        "/api/metrics/summary", params=Q, headers=tenant.headers(Role.UDP_ADMIN)
    )
    names = [t["name"] for t in first.json()["tables"]]
    for name in (*names, "about", "timeseries_quarter", "network", "methods", "suppressed"):
        for dialect, delimiter in (("italian", ";"), ("machine", ",")):
            response = await client.get(
                f"/api/metrics/export/{name}.csv",
                params={**Q, "dialect": dialect},
                headers=tenant.headers(Role.UDP_ADMIN),
            )
            assert response.status_code == 200, (name, response.text)
            text = response.content.decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
            assert len(rows) >= 2, name
            assert len({len(r) for r in rows}) == 1, (name, dialect)  # one column per cell
    response = await client.get(
        "/api/metrics/export/nothing.csv", params=Q, headers=tenant.headers(Role.UDP_ADMIN)
    )
    assert response.status_code == 404
    assert "totals" in response.text


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href") and value and "://" in value:
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


async def test_report_renders(client, tenant: Tenant) -> None:
    await build(tenant)
    response = await client.get(
        "/api/metrics/report.html", params=Q, headers=tenant.headers(Role.SOCIAL_WORKER)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    parser = _Parser()
    parser.feed(response.text)
    parser.close()
    # hours, value, leverage, coverage, network picture, cohesion trend
    assert parser.tags.get("svg", 0) >= 6
    assert parser.tags.get("table", 0) >= 10
    assert parser.external == []  # one self-contained file
    text = " ".join(parser.text)
    for words in ("Valore di sostituzione", "Leva", "Copertura dei bisogni", "Rete di coesione"):
        assert words in text
    # no holder name of the ambito appears: the network picture is by sector only
    assert "Volontario individuale" not in text
