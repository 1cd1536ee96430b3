"""One journey per role, in a real browser against the real server.

Each journey does what a person of that role does on an ordinary day, checks what the
screen says back, and saves screenshots of the main screens for a reviewer.
"""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect

from registry import italian
from tests.e2e.conftest import Api, go, login, shot


def _resource(api: Api, holder_id: str, title_part: str) -> dict:
    page = api.get("/api/resources", holder_id=holder_id, q=title_part)
    assert page["items"], f"demo resource '{title_part}' not found"
    return page["items"][0]


def _comune(api: Api, name: str) -> str:
    ambito = api.get("/api/ambiti")[0]
    return next(c["istat_code"] for c in ambito["comuni"] if c["name"] == name)


def test_association_adds_availability_and_accepts_a_match(server: str, page: Page) -> None:
    # Arrange: a social worker has proposed one of Auser's resources for a need.
    auser = Api(server, "auser")
    holder_id = auser.get("/api/users/me")["holder_id"]
    trips = _resource(auser, holder_id, "Accompagnamento")
    social = Api(server, "assistente")
    plan = social.post(
        "/api/plans",
        {
            "case_code": "E2E-AS-001",
            "comune": _comune(social, "Olgiate Comasco"),
            "target_group": "anziani",
            "start_date": "2026-01-01",
        },
    )
    need = social.post(
        f"/api/plans/{plan['id']}/needs",
        {
            "category_code": trips["category_code"],
            "unit": "trips_per_week",
            "quantity": 1,
            "schedule": [{"weekday": "TU", "start": "09:00", "end": "11:00"}],
        },
    )
    match = social.post("/api/matches", {"need_id": need["id"], "resource_id": trips["id"]})

    login(page, server, "auser")
    expect(page.get_by_role("heading", level=1)).to_have_text("Auser Olgiate Comasco")
    shot(page, "associazione-home")

    go(page, "Le mie risorse")
    expect(page.get_by_role("heading", level=1)).to_have_text("Le mie risorse")
    expect(page.locator("main").get_by_text(re.compile(r"\d+ risorse trovate"))).to_be_visible()
    shot(page, "associazione-risorse")

    # Availability: add a Saturday window from the calendar itself.
    page.get_by_role(
        "link", name="Compagnia telefonica e a domicilio per anziani soli", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Compagnia telefonica e a domicilio per anziani soli"
    )
    page.get_by_role("button", name=re.compile(r"^Aggiungi disponibilità sabato")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label(re.compile(r"^Dalle")).fill("15:00")
    dialog.get_by_label(re.compile(r"^Alle")).fill("17:00")
    dialog.get_by_label(re.compile("^Capacità")).fill("2")
    dialog.get_by_role("button", name="Aggiungi la fascia").click()
    expect(dialog).to_be_hidden()
    saturday_block = page.locator(".slot", has_text="15:00–17:00")
    expect(saturday_block).to_have_count(1)
    expect(page.locator(".rules")).to_contain_text("il sabato, 15:00–17:00")
    shot(page, "associazione-calendario")

    # Edit it in place: click the block, move the end time.
    saturday_block.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(re.compile(r"^Alle")).fill("18:00")
    dialog.get_by_role("button", name="Salva le modifiche").click()
    expect(page.locator(".slot", has_text="15:00–18:00")).to_have_count(1)

    # One-click "still true".
    page.get_by_role("button", name="Sì, è ancora tutto vero").click()
    expect(page.locator("#flash")).to_contain_text("risulta confermata oggi")
    expect(page.get_by_text("(oggi)")).to_be_visible()

    # The proposal: read what is asked (never who), accept it.
    go(page, "Proposte")
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposte di abbinamento")
    card = page.locator(".item-card", has_text="Accompagnamento a visite mediche")
    expect(card).to_contain_text("martedì 09:00–11:00")
    expect(card).not_to_contain_text("E2E-AS-001")
    shot(page, "associazione-proposte")
    card.get_by_role("button", name=re.compile("^Accetta")).click()
    expect(page.locator("#flash")).to_contain_text("Proposta accettata")
    # It leaves the proposals to assess; the demo's other proposal is still waiting there.
    expect(page.locator(".item-card", has_text="Accompagnamento a visite mediche")).to_have_count(0)
    expect(page.locator(".item-card", has_text="Compagnia telefonica")).to_have_count(1)
    page.get_by_role("tab", name="Accettate").click()
    expect(page.locator(".item-card", has_text="Accompagnamento a visite mediche")).to_contain_text(
        "Accettata"
    )

    assert social.get(f"/api/matches/{match['id']}")["status"] == "accepted"
    windows = auser.get(
        f"/api/resources/{_resource(auser, holder_id, 'Compagnia')['id']}/availability"
    )
    assert any(
        w["by_day"] == ["SA"] and w["end_time"] == "18:00" and w["capacity"] == 2 for w in windows
    )


def test_social_worker_creates_a_plan_gets_suggestions_and_proposes(
    server: str, page: Page
) -> None:
    login(page, server, "assistente")
    shot(page, "assistente-home")
    go(page, "Piani personalizzati")
    page.get_by_role("link", name="+ Nuovo piano").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nuovo piano personalizzato")

    # A codice fiscale is not a pseudonym: the form says so next to the field.
    page.get_by_label("Codice del caso").fill("RSSMRA80A01H501U")
    page.get_by_label("Comune di residenza").select_option(label="Olgiate Comasco")
    page.get_by_label("Destinatari (area)").select_option(label="Anziani")
    # Goals are set afterwards, with their GAS scale, in «Obiettivi ed esiti».
    expect(page.get_by_text("Dopo aver creato il piano, fissa gli obiettivi")).to_be_visible()
    page.get_by_role("button", name="Crea il piano").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(page.get_by_label("Codice del caso")).to_have_attribute("aria-invalid", "true")
    shot(page, "assistente-errore-codice")

    page.get_by_label("Codice del caso").fill("E2E-SW-002")
    page.get_by_role("button", name="Crea il piano").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Piano E2E-SW-002")
    expect(page.locator("#flash")).to_contain_text("Ora aggiungi il primo bisogno")

    page.get_by_role("button", name="+ Aggiungi un bisogno").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Di cosa c'è bisogno").select_option(value="compagnia-ascolto")
    dialog.get_by_label("Quantità").fill("2")
    dialog.get_by_label("Unità").select_option(value="hours_per_week")
    dialog.get_by_role("button", name="+ Aggiungi una fascia oraria").click()
    dialog.get_by_label("Giorno").select_option(value="WE")
    dialog.get_by_label(re.compile(r"^Dalle")).fill("09:30")
    dialog.get_by_label(re.compile(r"^Alle")).fill("11:30")
    dialog.get_by_role("button", name="Aggiungi il bisogno").click()
    expect(dialog).to_be_hidden()

    suggestions = page.locator(".suggestion")
    expect(suggestions.first).to_be_visible()
    first = suggestions.first
    first.get_by_text("Perché questa risorsa").click()
    expect(first.locator(".explain li").first).to_be_visible()
    shot(page, "assistente-suggerimenti")
    title = first.locator("h4 a").inner_text()
    first.get_by_role("button", name=re.compile("^Proponi")).click()
    expect(page.locator("#flash")).to_contain_text("Proposta inviata")
    expect(page.locator(".item-card", has_text="Abbinamenti")).to_contain_text(title)
    expect(page.locator(".item-card", has_text="Abbinamenti")).to_contain_text("Proposta")
    shot(page, "assistente-piano")

    social = Api(server, "assistente")
    plan = next(p for p in social.get("/api/plans")["items"] if p["case_code"] == "E2E-SW-002")
    statuses = [m["status"] for m in social.get("/api/matches", plan_id=plan["id"])["items"]]
    assert statuses == ["proposed"]


def test_volunteer_checks_in_through_the_qr_url(server: str, page: Page, phone: Page) -> None:
    # The association prints a code for a community activity...
    login(page, server, "auser")
    go(page, "Codici QR")
    expect(page.get_by_role("heading", level=1)).to_have_text("Codici QR per le presenze")
    page.get_by_role("button", name="+ Nuova attività").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Titolo").fill("Raccolta alimentare E2E")
    dialog.get_by_role("button", name="Crea l'attività").click()
    expect(page.locator("#flash")).to_contain_text("Attività creata")
    page.get_by_role("button", name="Genera il codice QR per «Raccolta alimentare E2E»").click()
    page.get_by_role("dialog").get_by_role("button", name="Genera il codice QR").click()
    card = page.get_by_role("article", name=re.compile("Raccolta alimentare E2E"))
    image = card.get_by_role("img", name=re.compile("Codice QR"))
    expect(image).to_be_visible()
    loaded = "(img) => img.complete && img.naturalWidth > 100"
    page.wait_for_function(loaded, arg=image.element_handle())
    shot(page, "associazione-qr")
    url = card.locator("a.qr-url").get_attribute("href")
    assert url and url.startswith(server) and "t=" in url

    # ...a volunteer scans it with the phone: the page asks to log in, then Entrata / Uscita.
    phone.goto(url)
    phone.locator("#username").fill("volontario")
    phone.locator("#password").fill("demo-password")
    phone.locator("#login").get_by_role("button", name="Accedi").click()
    expect(phone.get_by_role("heading", name="Raccolta alimentare E2E")).to_be_visible()
    phone.get_by_role("button", name="Entrata").click()
    expect(phone.get_by_role("button", name="Uscita")).to_be_visible()
    phone.screenshot(path=str(_screens() / "telefono-volontario-checkin.png"), full_page=True)
    phone.get_by_role("button", name="Uscita").click()
    expect(phone.locator("#state")).to_contain_text(re.compile("uscit|registrat", re.I))

    volunteer = Api(server, "volontario")
    assert volunteer.get("/api/checkin/open") == []

    # The code is stored: after a reload it is still listed, with the same URL, and can be
    # revoked (with a confirmation); it then shows among the revoked ones and the phone
    # page refuses it.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Codici QR per le presenze")
    card = page.get_by_role("article", name=re.compile("Raccolta alimentare E2E"))
    expect(card.locator("a.qr-url")).to_have_attribute("href", url)
    expect(card.get_by_role("img", name=re.compile("Codice QR"))).to_be_visible()
    card.get_by_role("button", name="Revoca il codice QR per «Raccolta alimentare E2E»").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("non si potrà più registrare la presenza")
    dialog.get_by_role("button", name="Revoca il codice").click()
    expect(page.locator("#flash")).to_contain_text("revocato")
    expect(card).to_have_count(0)
    expect(page.get_by_text("Nessun codice QR valido")).to_be_visible()
    page.get_by_text(re.compile(r"Codici scaduti o revocati \(1\)")).click()
    revoked = page.locator("details li", has_text="Raccolta alimentare E2E")
    expect(revoked).to_contain_text("Revocato il")
    shot(page, "associazione-qr-revocato")
    phone.goto(url)
    expect(phone.locator("#alert")).to_contain_text("revocato")

    # The same login works in the web app (shared session): the hours page opens directly.
    phone.goto(f"{server}/#/ore")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Le mie ore")


def _screens():
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


BAD_CSV = (
    "titolo;fonte;area;macro_livello;inizio;fine;impegnato;speso;ore;beneficiari\n"
    "Assistenza domiciliare anziani;Fondi regionali;Anziani;home_care;"
    "2026-01-01;2026-12-31;120000;80000;3000;45\n"
    "Centro diurno disabili;Fondi nazionali;Disabili;home_care;"
    "2026-06-01;2026-01-31;50000;30000;1200;12\n"
)
GOOD_CSV = BAD_CSV.replace("2026-06-01;2026-01-31", "2026-01-01;2026-12-31")


def test_udp_reads_the_dashboard_and_downloads_an_export(server: str, page: Page) -> None:
    # Arrange: verified hours of the community this year.
    import uuid

    auser = Api(server, "auser")
    for day in range(1, 7):
        entry = auser.post_with_key(
            "/api/contributions",
            {"unit": "hours", "quantity": 2, "occurred_on": f"2026-03-{day:02d}"},
            str(uuid.uuid4()),
        )
        if entry["verification"] == "self_reported":
            auser.post(f"/api/contributions/{entry['id']}/confirm", {})

    login(page, server, "udp")
    go(page, "Interventi finanziati")
    expect(page.get_by_role("heading", level=1)).to_have_text("Interventi finanziati")
    # The demo's own interventions of the year are listed.
    expect(page.get_by_role("row", name=re.compile("Misura B2 FNA"))).to_be_visible()

    # A spreadsheet with a bad row: every error is listed with its line, nothing is imported.
    csv = {"name": "interventi.csv", "mimeType": "text/csv"}
    page.get_by_label("File").set_input_files({**csv, "buffer": BAD_CSV.encode()})
    page.get_by_role("button", name="Importa").click()
    errors = page.locator(".error-summary")
    expect(errors).to_contain_text("Nessuna riga importata")
    expect(errors.get_by_role("row", name=re.compile("Fine"))).to_contain_text("3")
    shot(page, "udp-interventi-errori")
    page.get_by_label("File").set_input_files({**csv, "buffer": GOOD_CSV.encode()})
    page.get_by_role("button", name="Importa").click()
    expect(page.get_by_text("Importazione riuscita: 2 interventi aggiunti")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Centro diurno disabili"))).to_be_visible()
    shot(page, "udp-interventi")

    go(page, "Cruscotto")
    # The entries written above make March's figures live (its snapshot no longer holds):
    # on a busy machine (CI runs two test workers) that takes longer than the default 5 s.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Cruscotto dell'Ufficio di Piano", timeout=20_000
    )
    # The demo's year of activity ends today.
    today = italian.today()
    # Whole months only: the first day of the month eleven months back, to today.
    back = today.year * 12 + today.month - 1 - 11
    page.get_by_label("Dal", exact=True).fill(date(back // 12, back % 12 + 1, 1).isoformat())
    page.get_by_label("Al", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Aggiorna").click()
    expect(page.get_by_role("heading", name="In sintesi")).to_be_visible(timeout=20_000)
    public = page.locator(".stat", has_text="spesa pubblica degli interventi")
    expect(public.locator(".value")).not_to_have_text("0 €")
    # The demo's year of activity: figures, not withheld cells (n.d.).
    # (Needs matched are withheld over these twelve months: a month of them records fewer
    # needs than the threshold, and a longer period publishes a cell only where every
    # month does, registry/metrics/disclosure.py.)
    for what in ("ore verificate", "valore di comunità per 1 € pubblico"):
        expect(page.locator(".stat", has_text=what).locator(".value")).not_to_have_text("n.d.")
    expect(page.locator("figure svg[role=img]")).to_have_count(7)
    shot(page, "udp-cruscotto")

    with page.expect_download() as info:
        page.get_by_role("button", name="Tutte le tabelle (XLSX)").click()
    download = info.value
    path = download.path()
    assert download.suggested_filename.endswith(".xlsx")
    with open(path, "rb") as handle:
        assert handle.read(2) == b"PK", "an XLSX file is a ZIP archive"
    expect(page.locator("#flash")).to_contain_text("Scaricato")

    with page.expect_download() as info:
        page.get_by_role("button", name="Rapporto per il Piano di Zona (HTML)").click()
    with open(info.value.path(), encoding="utf-8") as handle:
        assert "<svg" in handle.read()
