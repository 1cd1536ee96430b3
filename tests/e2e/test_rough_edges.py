"""Rough edges users met in a real browser (issue 17, item 2): counts that agree with the
badges, matches told apart, Italian in agreement, the check-in page's way back, the
interventions template, language names, the phone header, a map of the resources and a
short help on each screen."""

from __future__ import annotations

import re
import uuid
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, Api, go, login, shot


def test_udp_home_counts_what_the_lists_show_in_red(server: str, page: Page) -> None:
    api = Api(server, "udp")
    counts = api.get("/api/resources/freshness")
    listed = api.get("/api/resources", limit=200)
    red = [r for r in listed["items"] if r["freshness"] == "stale"]
    # The demo has resources past the stale cut-off the nightly job has not marked yet.
    assert any(r["status"] == "active" for r in red)
    assert counts["to_reconfirm"] == len(red) > 0

    login(page, server, "udp")
    stat = page.locator("#stat-to-reconfirm")
    expect(stat.locator(".value")).to_have_text(str(len(red)))
    expect(stat).to_contain_text("risorse da riconfermare")
    # The oldest resources on the same home carry the red badge the count counts.
    oldest = page.get_by_role("region", name="Risorse meno aggiornate")
    expect(oldest.locator(".badge-stale")).to_have_count(min(len(red), 6))
    expect(oldest.locator(".badge-stale").first).to_contain_text("Da riconfermare")
    shot(page, "udp-home-da-riconfermare")

    go(page, "Risorse")
    expect(page.locator("main .badge-stale")).to_have_count(len(red))


def test_checkin_page_leads_on_and_an_empty_checkout_is_not_a_success(
    server: str, phone: Page
) -> None:
    manager = Api(server, "auser")
    today = phone_today(server)
    activity = manager.post("/api/activities", {"title": "Merenda in oratorio", "starts_on": today})
    code = manager.post("/api/checkin/codes", {"activity_id": activity["id"]})

    phone.goto(code["url"])
    phone.locator("#username").fill("volontario")
    phone.locator("#password").fill("demo-password")
    phone.locator("#login").get_by_role("button", name="Accedi").click()
    phone.get_by_role("button", name="Entrata").click()
    # Out at once: less than a quarter of an hour, so no time is recorded.
    phone.get_by_role("button", name="Uscita").click()
    state = phone.locator("#state")
    expect(state).to_have_class(re.compile(r"\bnothing\b"))
    expect(state).not_to_have_class(re.compile(r"\bdone\b"))
    green = "rgb(0, 112, 60)"
    assert state.evaluate("(el) => getComputedStyle(el).color") != green
    expect(phone.get_by_text("dichiara le ore a mano")).to_be_visible()

    # Not a dead end: the page leads to the person's hours and to declaring them.
    after = phone.get_by_role("navigation", name="Dopo la presenza")
    expect(after.get_by_role("link", name="Le mie ore")).to_be_visible()
    after.get_by_role("link", name="Dichiara ore a mano").click()
    dialog = phone.get_by_role("dialog", name="Dichiara le ore")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Annulla").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Le mie ore")

    # The home speaks of the same two buttons the check-in page shows.
    phone.goto(f"{server}/#/")
    steps = phone.get_by_role("region", name="Registrare una presenza")
    expect(steps).to_contain_text("«Entrata»")
    expect(steps).to_contain_text("«Uscita»")
    expect(steps).not_to_contain_text("«Inizio»")


def phone_today(server: str) -> str:
    """Today's date for the server (its clock may be moved in CI), from a response header."""
    answer = httpx.get(f"{server}/health")
    moment = parsedate_to_datetime(answer.headers["date"]).astimezone(ZoneInfo("Europe/Rome"))
    return moment.date().isoformat()


def test_matches_of_the_same_resource_can_be_told_apart(server: str, page: Page) -> None:
    social = Api(server, "assistente")
    active = social.get("/api/matches", status="active", limit=100)["items"]
    titles = [m["resource_title"] for m in active]
    title = max(set(titles), key=titles.count)
    assert titles.count(title) > 1  # the demo has one resource in several matches

    login(page, server, "assistente")
    page.goto(f"{server}/#/qr")
    section = page.get_by_role("region", name="Abbinamenti in corso")
    rows = section.locator("li.match-row", has_text=title)
    expect(rows).to_have_count(titles.count(title))
    which = rows.locator(".match-which").all_inner_texts()
    assert len(set(which)) == len(which), which
    assert all(text.startswith("Piano ") for text in which), which
    # Each button names which match it is for.
    buttons = rows.get_by_role("button", name=re.compile("Genera il codice QR")).all()
    labels = [b.get_attribute("aria-label") for b in buttons]
    assert len(set(labels)) == len(labels), labels

    page.goto(f"{server}/#/proposte?status=active")
    expect(page.get_by_role("tab", name="In corso")).to_have_attribute("aria-selected", "true")
    cards = page.locator("#match-list .item-card", has_text=title)
    expect(cards.first).to_be_visible()
    texts = cards.locator(".match-which").all_inner_texts()
    assert len(texts) == len(set(texts)) > 1, texts


def test_match_tabs_control_a_panel_that_is_always_there(server: str, page: Page) -> None:
    # A new association, with nothing proposed yet: every tab is empty.
    udp = Api(server, "udp")
    suffix = uuid.uuid4().hex[:6]  # a server kept running between runs already has the last
    holder = udp.post(
        "/api/holders",
        {"kind": "association", "sector": "third_sector", "name": f"Associazione {suffix}"},
    )
    udp.post(
        "/api/users",
        {
            "username": f"referente.{suffix}",
            "password": PASSWORD,
            "role": "holder_manager",
            "holder_id": holder["id"],
        },
    )
    login(page, server, f"referente.{suffix}")
    go(page, "Proposte")
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposte di abbinamento")
    for tab in page.get_by_role("tab").all():
        tab.click()
        expect(page.locator("#match-list .empty")).to_be_visible()
        target = tab.get_attribute("aria-controls")
        expect(page.locator(f"#{target}")).to_have_count(1)
        expect(page.locator(f"#{target}")).to_have_attribute("role", "tabpanel")
    page.get_by_role("tab", name="Da valutare").click()
    expect(page.get_by_text("Nessuna proposta da valutare")).to_be_visible()
    shot(page, "proposte-niente-da-valutare")


def test_the_untouched_interventions_template_asks_to_replace_its_example(
    server: str, page: Page, tmp_path
) -> None:
    login(page, server, "udp")
    page.goto(f"{server}/#/interventi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Interventi finanziati")
    with page.expect_download() as info:
        page.get_by_role("button", name="Scarica il modello da compilare (XLSX)").click()
    template = tmp_path / "interventi-modello.xlsx"
    info.value.save_as(template)

    page.get_by_label("File").set_input_files(str(template))
    page.get_by_role("button", name="Controlla il file").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Nessuna riga importata: 1 errore su 1 riga")
    expect(summary).to_contain_text("riga di esempio")
    expect(page.get_by_text("Premi «Importa»")).to_have_count(0)
    shot(page, "interventi-modello-non-compilato")


def test_phone_header_fits_in_100_px_with_esci_beside_the_name(server: str, phone: Page) -> None:
    login(phone, server, "udp")
    header = phone.locator("header.site-header").bounding_box()
    assert header and header["height"] <= 100, header
    brand = phone.locator("#brand").bounding_box()
    leave = phone.get_by_role("button", name="Esci").bounding_box()
    assert brand and leave
    assert abs(leave["y"] - brand["y"]) < 24, (brand, leave)  # the same row, not a line alone
    expect(phone.get_by_role("link", name="Cambia password")).to_be_visible()
    expect(phone.get_by_role("button", name="Menu")).to_be_visible()
    shot(phone, "telefono-intestazione")


def test_resource_form_has_sections_language_names_and_aligned_labels(
    server: str, page: Page
) -> None:
    login(page, server, "auser")
    page.goto(f"{server}/#/risorse/nuova")
    form = page.locator("main form")
    expect(form.locator("fieldset.form-section")).to_have_count(3)
    legends = form.locator("fieldset.form-section > legend").all_inner_texts()
    assert legends == ["Che cosa offrite", "Per chi e dove", "Validità"], legends

    # In a row where only «Capacità» has a hint, the labels and the controls line up.
    names = ("Categoria", "Unità di misura", "Capacità")
    tops = [form.locator("label[for]", has_text=t).bounding_box()["y"] for t in names]
    assert max(tops) - min(tops) < 2, tops
    controls = [form.locator(f"[name={n}]").bounding_box()["y"] for n in ("unit", "capacity")]
    assert abs(controls[0] - controls[1]) < 2, controls

    # Languages by name, stored as ISO codes.
    languages = form.get_by_role("group", name="Lingue")
    expect(languages.get_by_label("italiano")).to_be_checked()
    languages.get_by_label("arabo").check()
    form.get_by_label("Titolo").fill("Sportello in arabo e italiano")
    form.get_by_label("Categoria").select_option(index=2)
    form.get_by_role("button", name="Crea la risorsa").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sportello in arabo e italiano")
    expect(page.locator("main")).to_contain_text("italiano, arabo")
    resource_id = page.url.rsplit("/", 1)[-1]
    stored = Api(server, "auser").get(f"/api/resources/{resource_id}")
    assert sorted(stored["languages"]) == ["ar", "it"]


def test_map_of_the_resources_by_comune(server: str, page: Page) -> None:
    collection = Api(server, "udp").get("/api/interop/geojson/resources")
    served = [f for f in collection["features"] if f["properties"]["resource_count"]]
    busiest = max(served, key=lambda f: f["properties"]["resource_count"])["properties"]
    quietest = min(served, key=lambda f: f["properties"]["resource_count"])["properties"]

    login(page, server, "udp")
    go(page, "Mappa")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mappa delle risorse")
    drawing = page.get_by_role("group", name=re.compile("Mappa dei comuni"))
    circles = drawing.locator("a.comune")
    expect(circles).to_have_count(len(collection["features"]))

    def radius(props: dict) -> float:
        n = props["resource_count"]
        name = f"{props['name']}: {n} {'risorsa' if n == 1 else 'risorse'}"
        link = drawing.get_by_role("link", name=name, exact=True)
        return float(link.locator("circle").get_attribute("r") or 0)

    if busiest["resource_count"] > quietest["resource_count"]:
        assert radius(busiest) > radius(quietest)
    table = page.get_by_role("table", name="Risorse per comune")
    expect(table.get_by_role("row", name=re.compile(busiest["name"]))).to_contain_text(
        str(busiest["resource_count"])
    )
    shot(page, "mappa-risorse")

    # A comune on the map opens its resources.
    n = busiest["resource_count"]
    link = drawing.get_by_role("link", name=f"{busiest['name']}: {n} risorse", exact=True)
    link.locator("circle").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risorse della comunità")
    expect(page.locator("main").get_by_text(f"{n} risorse trovate")).to_be_visible()


def test_each_screen_has_a_short_help(server: str, page: Page) -> None:
    login(page, server, "udp")
    for path, words in (
        ("/", "home riassume"),
        ("/risorse", "cartellino colorato"),
        ("/interventi", "«Controlla il file»"),
        ("/proposte", "L'ente accetta o rifiuta"),
        ("/mappa", "cerchio grande quanto"),
    ):
        page.goto(f"{server}/#{path}")
        page.wait_for_selector("main h1")
        help_box = page.locator("main details.help")
        expect(help_box).to_have_count(1)
        expect(help_box.locator("p")).not_to_be_visible()
        expect(help_box.locator("summary")).to_contain_text("Aiuto su questa pagina")
        help_box.locator("summary").click()
        expect(help_box.locator("p")).to_be_visible()
        expect(help_box.locator("p")).to_contain_text(words)
        sentences = [t for t in re.split(r"[.!?](?:\s|$)", help_box.locator("p").inner_text()) if t]
        assert 1 <= len(sentences) <= 3, sentences
    shot(page, "aiuto-mappa")


def test_explanations_name_comuni_not_their_istat_codes(server: str, page: Page) -> None:
    login(page, server, "assistente")
    page.goto(f"{server}/#/proposte?status=active")
    reasons = page.locator("#match-list .explanation .why")
    expect(reasons.first).to_be_visible()
    texts = reasons.all_inner_texts()
    codes = [t for t in texts if re.search(r"\b\d{6}\b", t)]
    assert not codes, codes[:3]
    seats = [t for t in texts if "sede" in t]
    ambiti = Api(server, "assistente").get("/api/ambiti")
    current = ambiti[0] if isinstance(ambiti, list) else ambiti
    names = {c["name"] for c in current["comuni"]}
    assert all(any(name in t for name in names) for t in seats if "(sede" in t), seats[:3]


def test_logging_out_while_a_request_is_on_its_way_is_no_expired_session(
    server: str, page: Page
) -> None:
    # A list still loading when the user presses «Esci» comes back 401 (the token is gone):
    # the page stays the login page with «Sei uscito», not «La sessione è scaduta».
    login(page, server, "udp")
    held: list = []
    page.route("**/api/resources?*", lambda route: held.append(route))
    go(page, "Risorse")
    for _ in range(50):  # until the screen has asked for its list (held, not answered)
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the list's request was not made"
    page.get_by_role("button", name="Esci").click()
    expect(page.get_by_text("Sei uscito dal registro.")).to_be_visible()
    with page.expect_response("**/api/resources?*") as answer:
        held[0].continue_()
    assert answer.value.status == 401
    page.wait_for_timeout(300)
    expect(page.get_by_text("Sei uscito dal registro.")).to_be_visible()
    expect(page.get_by_text("La sessione è scaduta")).to_have_count(0)
    expect(page.get_by_role("heading", name="Accedi al registro")).to_be_visible()
