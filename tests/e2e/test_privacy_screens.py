"""Personal data in the browser (issue 19): a volunteer downloads what the registry holds
about them and asks to be erased; the UdP records an access request received on paper,
hands over the data and declines the erasure with a reason."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, Api, go, login, shot


def test_volunteer_download_and_the_udp_requests_screen(page: Page, server: str) -> None:
    # A volunteer of its own, so other browser tests' data does not change what is listed.
    udp = Api(server, "udp")
    name = f"volontario.pr.{uuid.uuid4().hex[:6]}"
    volunteer = udp.post(
        "/api/users", {"username": name, "password": PASSWORD, "role": "volunteer"}
    )

    login(page, server, name)
    go(page, "I miei dati")
    expect(page.get_by_role("heading", name="I miei dati", level=1)).to_be_visible()
    shot(page, "privacy-my-data")
    with page.expect_download() as info:
        page.get_by_role("button", name="Scarica il riepilogo").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "DATI PERSONALI CONSERVATI" in text and f"Nome utente: {name}" in text
    with page.expect_download() as info:
        page.get_by_role("button", name="Scarica i dati (JSON)").click()
    data = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert data["profile"]["username"] == name
    # It asks to be erased: the request waits for the UdP, and cannot be asked twice.
    mine = page.locator("#my-erasure")
    mine.get_by_role("button", name="Chiedi la cancellazione").click()
    page.get_by_role("dialog").get_by_role("button", name="Chiedi la cancellazione").click()
    expect(mine).to_contain_text("in attesa")
    expect(mine.get_by_role("button", name="Chiedi la cancellazione")).to_be_disabled()

    page.locator("#logout").click()
    login(page, server, "udp")
    go(page, "Dati personali")
    expect(page.get_by_role("heading", name="Dati personali", level=1)).to_be_visible()
    page.get_by_label("Persona").select_option(volunteer["id"])
    reference = f"prot. {uuid.uuid4().hex[:5]}"
    page.get_by_label("Riferimento").fill(reference)
    page.get_by_role("button", name="Registra ed esegui").click()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("eseguita")
    shot(page, "privacy-requests")
    # The request asked in the app waits in the list; the UdP declines it, with the reason.
    asked = page.get_by_role("row").filter(has_text=name).filter(has_text="in attesa")
    asked.get_by_label("Motivo del rifiuto").select_option("identity_not_verified")
    asked.get_by_role("button", name="Respingi").click()
    declined = page.get_by_role("row").filter(has_text=name).filter(has_text="respinta")
    expect(declined).to_contain_text("Identità non verificata")
    with page.expect_download() as info:
        row.get_by_role("button", name="Riepilogo").click()
    assert f"Nome utente: {name}" in Path(info.value.path()).read_text(encoding="utf-8")
    page.get_by_role("tab", name="Conservazione").click()
    expect(page.get_by_role("cell", name="Registro degli accessi ai progetti")).to_be_visible()
    page.get_by_role("tab", name="Registri per il DPO").click()
    expect(
        page.get_by_role("cell", name="Progetti personalizzati (pseudonimizzati)")
    ).to_be_visible()
    shot(page, "privacy-dpo")

    # A social worker records that the person of its plan asked for erasure.
    page.locator("#logout").click()
    social = Api(server, "assistente")
    ambito = social.get("/api/ambiti")[0]
    case = f"E2E-PR-{uuid.uuid4().hex[:5].upper()}"
    plan = social.post(
        "/api/plans",
        {
            "case_code": case,
            "comune": ambito["comuni"][0]["istat_code"],
            "target_group": "anziani",
            "start_date": "2026-01-01",
            "notes": "Nota da cancellare",
        },
    )
    login(page, server, "assistente")
    go(page, "I miei dati")
    page.get_by_label("Piano").select_option(plan["id"])
    page.get_by_role("button", name="Cancella il testo del piano").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancella").click()
    # The visible message (the live region for screen readers gets the same text 50 ms later).
    expect(page.locator("#flash")).to_contain_text("Richiesta eseguita: 1 nota cancellata")
    assert social.get(f"/api/plans/{plan['id']}")["notes"] == ""

    # A holder manager erases, on the person's request, a contact of its own organisation.
    page.locator("#logout").click()
    suffix = uuid.uuid4().hex[:6]
    udp = Api(server, "udp")  # the UdP's logout in the browser ended its earlier token
    holder = udp.post(
        "/api/holders",
        {
            "kind": "association",
            "sector": "third_sector",
            "name": f"Associazione privacy {suffix}",
            "contacts": [
                {"kind": "person", "value": "Giulia Verdi", "label": "referente"},
                {"kind": "email", "value": f"info.{suffix}@example.org"},
            ],
        },
    )
    referent = f"referente.pr.{suffix}"
    udp.post(
        "/api/users",
        {
            "username": referent,
            "password": PASSWORD,
            "role": "holder_manager",
            "holder_id": holder["id"],
        },
    )
    login(page, server, referent)
    go(page, "I miei dati")
    page.get_by_label("Contatto da cancellare su richiesta della persona").select_option(
        "Giulia Verdi"
    )
    page.get_by_role("button", name="Cancella il contatto").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancella").click()
    expect(page.locator("#flash")).to_contain_text("Richiesta eseguita: 1 contatto cancellato")
    shot(page, "privacy-holder-manager")
    contacts = udp.get(f"/api/holders/{holder['id']}")["contacts"]
    assert [c["value"] for c in contacts] == [f"info.{suffix}@example.org"]
