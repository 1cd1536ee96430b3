"""The other main screens: login errors and keyboard use, the UdP's users and directory,
a holder's profile on a phone, a volunteer's own hours."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Api, go, login, shot


def test_login_error_is_clear_and_the_page_works_by_keyboard(server: str, page: Page) -> None:
    page.goto(f"{server}/#/accesso")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accedi al registro")
    shot(page, "accesso")

    # The first Tab reaches the skip link, which takes the focus to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Vai al contenuto principale")).to_be_focused()

    page.get_by_role("button", name="Accedi").click()
    expect(page.locator(".error-summary")).to_contain_text("Inserisci il nome utente")
    expect(page.get_by_label("Nome utente")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Nome utente").fill("auser")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_label("Password").press("Enter")
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Nome utente o password errati")
    expect(summary).to_be_focused()

    # Logging in by keyboard only lands on the home, with the title focused.
    page.get_by_label("Password").fill("demo-password")
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Auser Olgiate Comasco")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    page.get_by_role("button", name="Esci").click()
    expect(page.get_by_text("Sei uscito dal registro.")).to_be_visible()


def test_udp_manages_users_and_reads_the_directory(server: str, page: Page) -> None:
    login(page, server, "udp")
    expect(page.get_by_text("enti e realtà registrati")).to_be_visible()
    shot(page, "udp-home")

    go(page, "Utenti")
    expect(page.get_by_role("heading", level=1)).to_have_text("Utenti")
    page.get_by_role("button", name="+ Nuovo utente").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Nome utente").fill("e2e.referente")
    dialog.get_by_label("Password iniziale").fill("short")
    dialog.get_by_label("Ruolo").select_option(value="holder_manager")
    dialog.get_by_label("Ente gestito").select_option(label="Oratorio di Villa Guardia")
    dialog.get_by_role("button", name="Crea l'account").click()
    # The API's own validation message is shown next to the password.
    expect(dialog.locator(".error-summary")).to_be_visible()
    dialog.get_by_label("Password iniziale").fill("una-password-lunga")
    dialog.get_by_role("button", name="Crea l'account").click()
    expect(page.locator("#flash")).to_contain_text("Account «e2e.referente» creato")
    row = page.get_by_role("row", name=re.compile("e2e.referente"))
    expect(row).to_contain_text("Oratorio di Villa Guardia")
    row.get_by_role("button", name="Disattiva e2e.referente").click()
    expect(row).to_contain_text("Disattivato")
    shot(page, "udp-utenti")

    go(page, "Enti")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enti e realtà della comunità")
    page.get_by_label("Tipo").select_option(value="parish")
    page.get_by_role("button", name="Cerca").click()
    expect(page.locator("main").get_by_text("2 enti trovati")).to_be_visible()
    shot(page, "udp-enti")

    go(page, "Risorse")
    page.get_by_label("Cerca per parola").fill("zzz-niente")
    page.get_by_role("button", name="Cerca").click()
    expect(page.get_by_text("Nessuna risorsa corrisponde ai filtri")).to_be_visible()

    go(page, "Notifiche")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifiche")
    page.get_by_role("tab", name="Consegne").click()
    expect(page.get_by_text("Non consegnato")).to_be_visible()
    page.get_by_role("tab", name="Webhook").click()
    expect(page.get_by_role("button", name="+ Aggiungi un webhook")).to_be_visible()
    shot(page, "udp-notifiche")


def test_holder_edits_its_profile_on_a_phone(server: str, phone: Page) -> None:
    login(phone, server, "auser")
    shot(phone, "telefono-associazione-home")
    go(phone, "La mia organizzazione")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Auser Olgiate Comasco")
    phone.get_by_role("button", name="Modifica il profilo").click()
    phone.get_by_label("Descrizione").fill("Per gli anziani: compagnia, trasporti, ascolto.")
    phone.get_by_role("button", name="+ Aggiungi un contatto").click()
    phone.get_by_label("Recapito").last.fill("031 123456")
    phone.get_by_label("Tipo di contatto").last.select_option(value="phone")
    phone.get_by_role("button", name="Salva il profilo").click()
    expect(phone.locator("#flash")).to_contain_text("Profilo aggiornato")
    expect(phone.get_by_role("link", name="031 123456")).to_have_attribute("href", "tel:031123456")
    shot(phone, "telefono-associazione-profilo")


def test_volunteer_declares_hours_on_a_phone_and_the_holder_confirms(
    server: str, phone: Page, page: Page
) -> None:
    login(phone, server, "volontario")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Ciao, volontario")
    shot(phone, "telefono-volontario-home")
    go(phone, "Le mie ore")
    phone.get_by_role("button", name="+ Dichiara ore").click()
    dialog = phone.get_by_role("dialog")
    dialog.get_by_label("Ente").select_option(label="Auser Olgiate Comasco")
    dialog.get_by_label("Quantità").fill("1.5")
    dialog.get_by_label("Nota").fill("Spesa per la signora del terzo piano")
    dialog.get_by_role("button", name="Dichiara le ore").click()
    expect(phone.locator("#flash")).to_contain_text("Ore dichiarate")
    expect(phone.locator("main table")).to_contain_text("1,5 ore")
    expect(phone.locator("main table")).to_contain_text("Dichiarato")
    shot(phone, "telefono-volontario-ore")

    login(page, server, "auser")
    go(page, "Contributi")
    row = page.get_by_role("row", name=re.compile("Spesa per la signora"))
    row.get_by_role("button", name=re.compile("^Conferma")).click()
    expect(page.locator("#flash")).to_contain_text("Contributo confermato")
    shot(page, "associazione-contributi")

    volunteer = Api(server, "volontario")
    mine = volunteer.get("/api/contributions", limit=200)["items"]
    declared = [e for e in mine if e["note"] == "Spesa per la signora del terzo piano"]
    assert [(e["quantity"], e["verification"]) for e in declared] == [(1.5, "confirmed")]
    # Next to the hours the demo's volunteer had already given.
    assert len(mine) > 1 and {e["volunteer_id"] for e in mine} == {declared[0]["volunteer_id"]}


def test_a_new_association_registers_itself_and_its_first_resource(server: str, page: Page) -> None:
    Api(server, "udp").post(
        "/api/users",
        {"username": "e2e.parrocchia", "password": "una-password-lunga", "role": "holder_manager"},
    )
    login(page, server, "e2e.parrocchia", "una-password-lunga")
    expect(page.get_by_text("La tua organizzazione non è ancora nel registro")).to_be_visible()
    page.get_by_role("link", name="Registra la mia organizzazione").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registra la tua organizzazione")
    page.get_by_label(re.compile(r"^Nome( \*)?$")).fill("Parrocchia San Giorgio E2E")
    page.get_by_label(re.compile(r"^Tipo( \*)?$")).select_option(value="parish")
    page.get_by_label("Codice fiscale").fill("123")
    page.get_by_role("checkbox", name="Faloppio").check()
    page.get_by_role("checkbox", name="Anziani").check()
    page.get_by_label("Recapito").fill("parrocchia@example.org")
    page.get_by_role("button", name="Registra").click()
    # An invalid codice fiscale is named next to its field; the rest is kept.
    expect(page.get_by_label("Codice fiscale")).to_have_attribute("aria-invalid", "true")
    shot(page, "nuovo-ente-errore")
    page.get_by_label("Codice fiscale").fill("")
    page.get_by_role("button", name="Registra").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Nuova risorsa")
    expect(page.locator("#flash")).to_contain_text("Organizzazione registrata")
    page.get_by_label("Titolo").fill("Salone parrocchiale per incontri")
    page.get_by_label("Categoria").select_option(value="sala-incontri")
    page.get_by_label("Unità di misura").select_option(value="room_hours")
    page.get_by_role("button", name="Crea la risorsa").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Salone parrocchiale per incontri")
    expect(page.get_by_text("Nessuna fascia di disponibilità")).to_be_visible()
    shot(page, "nuova-risorsa")


def test_udp_sets_an_hourly_rate_and_records_an_interaction(server: str, page: Page) -> None:
    login(page, server, "udp")
    page.goto(f"{server}/#/tariffe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tariffe e rete")
    page.get_by_role("button", name="+ Imposta una tariffa").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Anno").fill("2026")
    dialog.get_by_label("Euro all'ora").fill("23.5")
    dialog.get_by_label("Fonte").fill("Tabella CCNL cooperative sociali 2026")
    dialog.get_by_role("button", name="Salva la tariffa").click()
    expect(page.locator("#flash")).to_contain_text("Tariffa salvata")
    expect(page.get_by_role("row", name=re.compile("2026"))).to_contain_text("23,50")

    page.get_by_role("button", name="+ Registra un'interazione").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Titolo").fill("Tavolo anziani del Piano di Zona")
    dialog.get_by_role("button", name="Registra").click()
    expect(dialog.locator(".error-summary")).to_contain_text("Scegli almeno due enti")
    dialog.get_by_role("checkbox", name="Auser Olgiate Comasco").check()
    dialog.get_by_role("checkbox", name="Caritas parrocchiale San Gerardo").check()
    dialog.get_by_role("button", name="Registra").click()
    expect(page.locator("#flash")).to_contain_text("Interazione registrata")
    expect(page.locator(".rules")).to_contain_text("Tavolo anziani del Piano di Zona")
    shot(page, "udp-tariffe-rete")
