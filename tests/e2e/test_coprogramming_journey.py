"""Co-programming (issue 16) in a real browser: the UdP opens the demo's procedure (modelled on
seed 002), adds a working table to a session and seats Auser there; Auser's manager writes a
proposal at that table; the UdP drafts a new version of the minutes from the tables and
approves it; the public page, without login, shows the approved minutes and no person's name.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, Api, go, login, shot

SESSION = "Non autosufficienza e vulnerabilità"


def switch_user(page: Page, username: str) -> None:
    """Log out, then in again as someone else on the login screen the app shows (no reload
    in between: a second navigation could re-render the form while it is being filled)."""
    page.get_by_role("button", name="Esci").click()
    expect(page.get_by_text("Sei uscito dal registro.")).to_be_visible()
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    # Logged in once the header names the new user (the home has then been opened).
    expect(page.locator("#who")).to_contain_text(f"{username} ·")
    expect(page.locator("main h1")).to_be_visible()


def test_udp_and_a_holder_run_a_session_and_the_public_sees_the_minutes(
    server: str, page: Page
) -> None:
    udp = Api(server, "udp")
    [procedure] = [
        p
        for p in udp.get("/api/coprogramming/procedures")
        if p["title"].startswith("Co-programmazione del Piano di Zona")
    ]
    applications = udp.get(f"/api/coprogramming/procedures/{procedure['id']}/applications")
    auser = next(a for a in applications if a["holder_name"] == "Auser Olgiate Comasco")
    speaker = f"{auser['participants'][0]['name']} (Auser Olgiate Comasco)"
    # Unique per run, so the journey also runs against a long-lived REGISTRY_E2E_SERVER.
    sessions = udp.get(f"/api/coprogramming/procedures/{procedure['id']}/sessions")
    session_page = next(
        f"{server}/#/coprogrammazione/{procedure['id']}/sessioni/{s['id']}"
        for s in sessions
        if s["title"] == SESSION
    )
    suffix = uuid.uuid4().hex[:6]
    theme = f"Trasporti e prossimità {suffix}"
    proposal = f"Un pulmino condiviso tra le associazioni per le visite {suffix}"

    # The UdP adds a table to session 3, with Auser's first person as spokesperson.
    login(page, server, "udp")
    go(page, "Co-programmazione")
    page.get_by_role("link", name=procedure["title"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(procedure["title"])
    page.get_by_role("link", name=SESSION).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(SESSION))
    page.get_by_role("button", name="Aggiungi un tavolo").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Tema del tavolo").fill(theme)
    dialog.get_by_label("Portavoce").select_option(label=speaker)
    dialog.get_by_role("button", name="Aggiungi il tavolo").click()
    expect(page.get_by_role("heading", name=f"Tavolo: {theme}")).to_be_visible()
    # Auser sits at the new table.
    page.get_by_label("Tavolo di Auser Olgiate Comasco").select_option(label=theme)
    page.get_by_role("button", name="Aggiorna: Auser Olgiate Comasco").click()
    expect(page.locator("#flash")).to_contain_text("Presenza registrata")
    shot(page, "udp-coprogrammazione-sessione")

    # Auser's manager writes a proposal at its table.
    switch_user(page, "auser")
    page.goto(session_page)
    form = page.get_by_role("form", name=f"Nuovo contributo al tavolo {theme}")
    form.get_by_label("Domanda").select_option("proposals")
    form.get_by_role("textbox", name="Contributo").fill(proposal)
    form.get_by_role("button", name="Aggiungi il contributo").click()
    table = page.get_by_role("region", name=f"Tavolo: {theme}")
    expect(table).to_contain_text(proposal)
    expect(table).to_contain_text("il vostro tavolo")

    # The UdP drafts the next version of the minutes from the tables and approves it.
    switch_user(page, "udp")
    page.goto(session_page)
    minutes = page.get_by_role("region", name="Verbale della sessione")
    version = int(re.search(r"Versione (\d+)", minutes.inner_text()).group(1))
    minutes.get_by_role("button", name="Nuova versione dai tavoli").click()
    expect(minutes).to_contain_text(f"Versione {version + 1} Bozza")
    expect(minutes).to_contain_text(proposal)
    minutes.get_by_role("button", name="Approva il verbale").click()
    page.get_by_role("dialog").get_by_role("button", name="Approva").click()
    expect(minutes).to_contain_text(f"Versione {version + 1} Approvato")
    expect(minutes.get_by_role("button", name="Approva il verbale")).to_have_count(0)

    # The public page, no login: the approved minutes with the proposal, nobody's name.
    page.get_by_role("button", name="Esci").click()
    expect(page.get_by_text("Sei uscito dal registro.")).to_be_visible()
    page.goto(f"{server}/pubblico/?procedura={procedure['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(procedure["title"])
    published = page.get_by_role("region", name="Verbali approvati")
    expect(published).to_contain_text(f"versione {version + 1}")
    text = page.locator("main").text_content() or ""
    assert proposal in text
    for application in applications:
        for person in application["participants"]:
            assert person["name"] not in text, person["name"]
    shot(page, "pubblico-coprogrammazione")
