"""Issue 15 on the UdP's dashboard: the section «Esiti per le persone» shows the outcome
figures of the demo's plans (GAS goals, reviews, closures, activations, own resources), their
definitions and tables, with withheld values as n.d. and nothing unreadable."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import check_screen, go, login


def test_udp_reads_the_outcomes_on_the_dashboard(server: str, page: Page) -> None:
    login(page, server, "udp")
    go(page, "Cruscotto")
    section = page.locator("section[aria-labelledby=outcomes-title]")
    expect(section.get_by_role("heading", name="Esiti per le persone")).to_be_visible(
        timeout=60_000
    )
    expect(section.get_by_text("Come leggere gli esiti")).to_be_visible(timeout=60_000)
    # The demo's plans are active this year: a count, never empty.
    plans = section.locator(".stat", has_text="piani attivi nel periodo").locator(".value")
    expect(plans).to_have_text(re.compile(r"^(\d[\d.]*|n\.d\.)$"))
    for what in ("obiettivi raggiunti o superati", "variazione media del punteggio T (GAS)"):
        expect(section.locator(".stat", has_text=what)).to_have_count(1)
    for title in ("Esiti per area di utenza", "Esiti per comune", "Piani chiusi per motivo"):
        expect(section.locator("summary strong", has_text=title)).to_be_visible()
    section.get_by_text("Come leggere gli esiti").click()
    expect(section.get_by_text("Goal Attainment Scaling").first).to_be_visible()
    section.locator("summary strong", has_text="Esiti per area di utenza").click()
    expect(section.get_by_role("columnheader", name="Quota di verifiche puntuali")).to_be_visible()
    # Month by month: the months by their Italian names, as in the other tables.
    section.locator("summary strong", has_text="Esiti mese per mese").click()
    monthly = section.locator("details.data-table", has_text="Esiti mese per mese")
    months = "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre"
    months += "|novembre|dicembre"
    expect(monthly.locator("tbody tr td").first).to_have_text(re.compile(rf"^({months}) \d{{4}}$"))
    check_screen(page)
