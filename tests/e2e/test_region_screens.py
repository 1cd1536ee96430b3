"""Issue 13 in the browser: the UdP's gap map on the demo ambito, and the Region's own login
page (the demo has no regional observer: its accounts are made by a platform admin)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import go, login, shot


def test_udp_reads_the_gap_map(server: str, page: Page) -> None:
    login(page, server, "udp")
    go(page, "Bisogni scoperti")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bisogni scoperti")
    uncovered = page.get_by_role("region", name="Categorie senza alcuna risorsa nell'ambito")
    # The demo's open needs of relief for carers have no resource anywhere in the ambito.
    expect(uncovered).to_contain_text("Sollievo per chi assiste un familiare")
    expect(page.get_by_role("img", name="Mappa dei comuni", exact=False)).to_be_visible()
    table = page.get_by_role("table", name="Bisogni aperti per categoria e comune", exact=False)
    expect(table.get_by_role("rowheader", name="Sollievo", exact=False)).to_be_visible()
    expect(page.get_by_role("region", name="Per residente (anno in corso)")).to_contain_text(
        "95.825"
    )
    shot(page, "lacune")


def test_the_region_screen_has_its_own_login(server: str, page: Page) -> None:
    page.goto(f"{server}/#/regione")
    expect(page.get_by_role("heading", level=1)).to_have_text("Osservatorio regionale")
    # An ambito account is not a regional observer.
    page.get_by_label("Nome utente").fill("udp")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Accedi").click()
    expect(page.locator(".error-summary")).to_contain_text("Nome utente o password errati")
    shot(page, "regione-accesso")
