"""The plan screen's suggestions when nothing fits: «Quasi adatte», apart, with the reason."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Api, check_screen, login, shot


def test_a_need_nothing_fits_shows_what_nearly_fits(server: str, page: Page) -> None:
    social = Api(server, "assistente")
    # In the demo nobody offers respite care («sollievo») in Albiolo, but related help exists.
    plan = social.post(
        "/api/plans",
        {
            "case_code": "E2E-NEAR-01",
            "comune": "013005",
            "target_group": "anziani",
            "start_date": "2026-01-01",
        },
    )
    need = social.post(
        f"/api/plans/{plan['id']}/needs",
        {"category_code": "sollievo", "quantity": 2, "unit": "hours_per_week"},
    )
    answer = social.get(f"/api/plans/{plan['id']}/needs/{need['id']}/suggestions")
    assert answer["suggestions"] == [] and answer["near_misses"], answer

    login(page, server, "assistente")
    page.goto(f"{server}/#/piani/{plan['id']}")
    page.get_by_role("button", name="Mostra i suggerimenti").click()
    expect(page.get_by_text("Nessuna risorsa adatta, per ora")).to_be_visible()
    section = page.locator(".near-misses")
    expect(section.get_by_role("heading", name="Quasi adatte")).to_be_visible()
    first = section.locator(".near-miss").first
    expect(first).to_contain_text("Quasi adatta")
    expect(first).to_contain_text(answer["near_misses"][0]["difference"]["reason"])
    # Never mixed: no ranked suggestion on the page.
    expect(page.locator(".suggestion")).to_have_count(0)
    expect(first.get_by_role("button", name="Proponi comunque")).to_be_visible()
    check_screen(page)
    shot(page, "assistente-quasi-adatte")
