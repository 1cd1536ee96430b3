"""Issue 15 in the browser: a social worker confirms a contribution from its «Contributi» menu,
sets two goals with their GAS scales, records a review (and sees the T-score), closes the
plan with a reason, and prints the plan: the case code is there, the private notes are not.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from registry import italian
from tests.e2e.conftest import Api, go, login, shot

CASE_CODE = f"E2E-GAS-{uuid.uuid4().hex[:6].upper()}"
LATE_CODE = f"E2E-VER-{uuid.uuid4().hex[:6].upper()}"
# Free text a printout must never carry: the plan's private notes and a review's notes.
PLAN_NOTE = "Nota riservata del piano E2E"
REVIEW_NOTE = "Colloquio con la signora Bianchi"


def gas_t(levels: list[int]) -> float:
    """Kiresuk & Sherman with every weight 1 and ρ = 0.3 (the definition, by hand)."""
    n = len(levels)
    return 50 + 10 * sum(levels) / math.sqrt(0.7 * n + 0.3 * n * n)


def t_text(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


MONTHS = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
]


def long_date(day: date) -> str:
    """As the screens write a date: «6 dicembre 2026»."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _arrange(server: str) -> tuple[dict, str]:
    """A plan of «assistente» with a need, a resource of Auser accepted for it, and an entry
    Auser recorded for the match: it waits for the social worker's confirmation. And a plan
    whose review was due three days ago."""
    social = Api(server, "assistente")
    auser = Api(server, "auser")
    holder_id = auser.get("/api/users/me")["holder_id"]
    ambito = social.get("/api/ambiti")[0]
    comune = next(c["istat_code"] for c in ambito["comuni"] if c["name"] == "Olgiate Comasco")
    today = italian.today()
    # A resource of its own: the demo's places may be taken by the other journeys.
    resource = auser.post(
        "/api/resources",
        {
            "holder_id": holder_id,
            "title": f"Compagnia {CASE_CODE}",
            "category_code": "compagnia-ascolto",
            "unit": "hours",
            "capacity": 1,
            "comuni": [comune],
            "target_groups": ["anziani"],
        },
    )
    plan = social.post(
        "/api/plans",
        {
            "case_code": CASE_CODE,
            "comune": comune,
            "target_group": "anziani",
            "start_date": (today - timedelta(days=60)).isoformat(),
            "notes": PLAN_NOTE,
        },
    )
    need = social.post(
        f"/api/plans/{plan['id']}/needs",
        {
            "category_code": resource["category_code"],
            "unit": "hours_per_week",
            "quantity": 2,
            "schedule": [{"weekday": "TU", "start": "09:00", "end": "11:00"}],
        },
    )
    match = social.post("/api/matches", {"need_id": need["id"], "resource_id": resource["id"]})
    late = social.post(
        "/api/plans",
        {
            "case_code": LATE_CODE,
            "comune": comune,
            "target_group": "anziani",
            "start_date": (today - timedelta(days=120)).isoformat(),
        },
    )
    social.post(
        f"/api/plans/{late['id']}/reviews",
        {
            "held_on": (today - timedelta(days=60)).isoformat(),
            "participants": ["person"],
            "next_review_on": (today - timedelta(days=3)).isoformat(),
        },
    )
    auser.post(f"/api/matches/{match['id']}/accept")
    note = f"Accompagnamento {CASE_CODE}"
    auser.post_with_key(
        "/api/contributions",
        {
            "match_id": match["id"],
            "holder_id": holder_id,
            "unit": "hours",
            "quantity": 2,
            "occurred_on": (today - timedelta(days=1)).isoformat(),
            "note": note,
        },
        str(uuid.uuid4()),
    )
    return plan, note


def _goal(page: Page, title: str, scale: list[str], baseline: str) -> None:
    page.get_by_role("button", name="+ Aggiungi un obiettivo").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(re.compile(r"^Obiettivo")).fill(title)
    for level, text in zip(("−2", "−1", "0", "+1", "+2"), scale, strict=True):
        dialog.get_by_label(re.compile(rf"^{re.escape(level)} ")).fill(text)
    dialog.get_by_label("Livello di partenza").select_option(baseline)
    dialog.get_by_role("button", name="Aggiungi l'obiettivo").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#flash")).to_contain_text("Obiettivo aggiunto")


def test_goals_review_closure_print_and_contributions(server: str, page: Page) -> None:
    plan, note = _arrange(server)
    today = italian.today()

    login(page, server, "assistente")
    # The entries waiting for this social worker: one menu item away.
    go(page, "Contributi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contributi per i miei piani")
    row = page.get_by_role("row", name=re.compile(re.escape(note)))
    expect(row).to_contain_text("Dichiarato")
    shot(page, "assistente-contributi-da-confermare")
    row.get_by_role("button", name=re.compile("^Conferma")).click()
    expect(page.locator("#flash")).to_contain_text("Contributo confermato")
    # Confirmed, it leaves the list of entries to confirm.
    expect(page.get_by_role("row", name=re.compile(re.escape(note)))).to_have_count(0)

    # The plans list tells which plan's review is overdue, and when the next one is.
    go(page, "Piani personalizzati")
    late_row = page.get_by_role("row", name=re.compile(LATE_CODE))
    expect(late_row).to_contain_text("Verifica in ritardo")
    expect(late_row).to_contain_text(f"prevista per il {long_date(today - timedelta(days=3))}")
    expect(page.get_by_role("row", name=re.compile(CASE_CODE))).to_contain_text("da fissare")
    expect(page.locator("main p[role=status]")).to_contain_text("la verifica in ritardo")

    page.goto(f"{server}/#/piani/{plan['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Piano {CASE_CODE}")
    outcomes = page.locator("section.outcomes")
    expect(outcomes.get_by_role("heading", name="Obiettivi ed esiti")).to_be_visible()

    first = "Uscire di casa da sola"
    second = "Riprendere i contatti con le amiche"
    _goal(
        page,
        first,
        [
            "Non esce mai",
            "Esce solo accompagnata",
            "Esce da sola una volta a settimana",
            "Esce da sola due volte a settimana",
            "Esce da sola ogni giorno",
        ],
        "-2",
    )
    _goal(
        page,
        second,
        [
            "Nessun contatto",
            "Una telefonata al mese",
            "Un incontro al mese",
            "Un incontro a settimana",
            "Partecipa a un gruppo",
        ],
        "-1",
    )
    # Every goal at its baseline: T of (−2, −1).
    expect(outcomes.locator(".stat").first).to_contain_text(t_text(gas_t([-2, -1])))

    # What the person brings, next to the needs.
    outcomes.get_by_role("button", name="+ Aggiungi", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Chi la mette").select_option("family")
    dialog.get_by_label(re.compile(r"^Descrizione")).fill("La figlia la accompagna il sabato")
    dialog.get_by_label("Ore a settimana").fill("3")
    dialog.get_by_role("button", name="Aggiungi", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(outcomes).to_contain_text(
        "La famiglia: La figlia la accompagna il sabato — 3 ore a settimana"
    )
    expect(outcomes.locator(".split-legend")).to_contain_text("Persona e famiglia")

    # A review: who took part by role, a level per goal (the T-score is previewed), private
    # notes, the next review in three months.
    outcomes.get_by_role("button", name="Registra una verifica").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Familiari").check()
    dialog.get_by_label(first).select_option("0")
    dialog.get_by_label(second).select_option("1")
    expect(dialog.locator(".t-preview")).to_contain_text(t_text(gas_t([0, 1])))
    dialog.get_by_label("Cosa cambia nel piano").fill("Si aggiunge un accompagnamento al mercato")
    dialog.get_by_label("Note riservate").fill(REVIEW_NOTE)
    next_review = today + timedelta(days=90)
    dialog.get_by_label("Prossima verifica").fill(next_review.isoformat())
    shot(page, "assistente-verifica")
    dialog.get_by_role("button", name="Registra la verifica").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#flash")).to_contain_text(f"Punteggio T: {t_text(gas_t([0, 1]))}")
    review_row = outcomes.get_by_role("row", name=re.compile("accompagnamento al mercato"))
    for role in ("La persona", "Familiari", "Assistente sociale"):
        expect(review_row).to_contain_text(role)
    expect(review_row).to_contain_text(t_text(gas_t([0, 1])))
    # The private notes stay out of the list.
    expect(outcomes).not_to_contain_text(REVIEW_NOTE)
    shot(page, "assistente-esiti")

    # The print view: the case code, the goals with their scales, never the private notes.
    page.get_by_role("link", name="Versione da stampare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Piano personalizzato {CASE_CODE}")
    sheet = page.locator(".print-sheet")
    expect(sheet).to_contain_text("Esce da sola una volta a settimana")
    expect(sheet).to_contain_text(f"Prossima verifica{long_date(next_review)}")
    for private in (PLAN_NOTE, REVIEW_NOTE, "Bianchi"):
        expect(sheet).not_to_contain_text(private)
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    shot(page, "assistente-piano-stampa")
    page.emulate_media(media="screen")
    page.get_by_role("link", name="Torna al piano").click()

    # The plan's form writes no free-text goals and does not close the plan.
    page.get_by_role("button", name="Modifica il piano").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Stato").locator("option")).to_have_text(
        ["Bozza", "Attivo", "Sospeso"]
    )
    expect(dialog.locator("textarea[name=goals]")).to_have_count(0)
    expect(dialog).to_contain_text("si fissano nella sezione «Obiettivi ed esiti»")
    dialog.get_by_role("button", name="Annulla").click()

    # Closure: a reason from the vocabulary and the final levels.
    outcomes = page.locator("section.outcomes")
    outcomes.get_by_role("button", name="Chiudi il piano").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Motivo").select_option(label="Obiettivi raggiunti")
    dialog.get_by_label(first).select_option("1")
    dialog.get_by_label(second).select_option("2")
    dialog.get_by_role("button", name="Chiudi il piano").click()
    expect(dialog).to_be_hidden()
    final = t_text(gas_t([1, 2]))
    expect(page.locator("#flash")).to_contain_text(f"Punteggio T finale: {final}")
    expect(outcomes.locator(".closure-notice")).to_contain_text("Obiettivi raggiunti")
    expect(page.locator("section.card dl.facts")).to_contain_text("Chiuso")
    # A closed plan is read, not edited; the match accepted for its need ended with it.
    expect(outcomes.get_by_role("button", name="Registra una verifica")).to_have_count(0)
    expect(page.get_by_role("button", name="+ Aggiungi un bisogno")).to_have_count(0)
    need_card = page.locator(".item-card", has_text=f"Compagnia {CASE_CODE}")
    expect(need_card).to_contain_text("Ritirata")
    # Its form still saves (the notes, say) and keeps it closed.
    page.get_by_role("button", name="Modifica il piano").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Stato")).to_have_value("Chiuso")
    dialog.get_by_role("button", name="Salva il piano").click()
    expect(page.locator("#flash")).to_contain_text("Piano aggiornato")
    expect(page.locator("section.card dl.facts")).to_contain_text("Chiuso")
    shot(page, "assistente-piano-chiuso")
