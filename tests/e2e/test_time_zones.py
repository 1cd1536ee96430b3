"""The screens take today's date in Italy, not the browser's: a UdP member travelling, or a
browser set to another zone, still gets the dashboard of the running period (the server
accepts a period that runs to Italy's today and refuses one that ends on another day)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from registry import italian
from tests.e2e.conftest import DESKTOP, Console, _context, go, login

# Twelve hours behind Rome and thirteen ahead: at any hour one of the two browsers is on
# another calendar day than Italy.
ZONES = ("Pacific/Pago_Pago", "Pacific/Kiritimati")

# The browser's own calendar day, as YYYY-MM-DD.
BROWSER_DAY = "() => new Date().toLocaleDateString('en-CA')"


def test_the_dashboard_runs_to_italys_today_whatever_the_browsers_zone(
    server: str, browser: Browser
) -> None:
    browser_days = []
    for zone in ZONES:
        context = _context(browser, DESKTOP, phone=False, zone=zone)
        page = context.new_page()
        console = Console()
        page.on("pageerror", console.on_page_error)
        login(page, server, "udp")
        browser_days.append(page.evaluate(BROWSER_DAY))
        go(page, "Cruscotto")

        expect(page.get_by_label("Al", exact=True)).to_have_value(italian.today().isoformat())
        expect(page.get_by_role("heading", name="In sintesi")).to_be_visible(timeout=20_000)
        expect(page.get_by_text("I dati inviati non sono validi")).to_have_count(0)
        context.close()
        assert not console.errors, console.errors
    # The premise: one of the browsers was on a day that is not Italy's.
    assert any(day != italian.today().isoformat() for day in browser_days), browser_days
