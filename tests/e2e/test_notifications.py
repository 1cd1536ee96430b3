"""Notifications in the browser (issue 17): a social worker's proposal reaches the
association (menu count and notification), the association accepts, and the answer reaches
the social worker; each user chooses which notifications also arrive by e-mail."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect

from registry import italian
from tests.e2e.conftest import PASSWORD, Api, go, login, shot


def _menu_link(page: Page, name: str):
    return page.get_by_role("navigation", name="Menu principale").get_by_role(
        "link", name=name, exact=True
    )


def _arrange(server: str) -> tuple[dict, dict, dict[str, str]]:
    """An association's resource with a Tuesday window, a plan with a need, a proposal.

    The association, its referent and the social worker are new, made for this test: other
    browser tests (the journeys) propose and answer with the demo's users, and their
    notifications and proposals would be counted and listed here too."""
    udp = Api(server, "udp")
    suffix = uuid.uuid4().hex[:6]  # a server kept running between runs already has the last
    holder = udp.post(
        "/api/holders",
        {"kind": "association", "sector": "third_sector", "name": f"Associazione {suffix}"},
    )
    who = {
        "holder": holder["name"],
        "referent": f"referente.nt.{suffix}",
        "social": f"assistente.nt.{suffix}",
        "case": f"E2E-NT-{suffix.upper()}",
    }
    udp.post(
        "/api/users",
        {
            "username": who["referent"],
            "password": PASSWORD,
            "role": "holder_manager",
            "holder_id": holder["id"],
        },
    )
    udp.post(
        "/api/users",
        {"username": who["social"], "password": PASSWORD, "role": "social_worker"},
    )
    auser = Api(server, who["referent"])
    social = Api(server, who["social"])
    holder_id = holder["id"]
    ambito = social.get("/api/ambiti")[0]
    comune = next(c["istat_code"] for c in ambito["comuni"] if c["name"] == "Olgiate Comasco")
    resource = auser.post(
        "/api/resources",
        {
            "holder_id": holder_id,
            "title": "Spesa a domicilio del martedì",
            "category_code": "compagnia-ascolto",
            "unit": "hours",
            "capacity": 2,
            "comuni": [comune],
            "target_groups": ["anziani"],
            "languages": ["it"],
        },
    )
    auser.post(
        f"/api/resources/{resource['id']}/availability",
        {
            "freq": "WEEKLY",
            "by_day": ["TU"],
            "start_time": "09:00",
            "end_time": "12:00",
            "valid_from": (italian.today() - timedelta(days=7)).isoformat(),
        },
    )
    plan = social.post(
        "/api/plans",
        {
            "case_code": who["case"],
            "comune": comune,
            "target_group": "anziani",
            "start_date": (italian.today() - timedelta(days=7)).isoformat(),
            "notes": "Nota riservata del servizio",
        },
    )
    need = social.post(
        f"/api/plans/{plan['id']}/needs",
        {
            "category_code": "compagnia-ascolto",
            "unit": "hours_per_week",
            "quantity": 2,
            "schedule": [{"weekday": "TU", "start": "09:00", "end": "11:00"}],
        },
    )
    social.post("/api/matches", {"need_id": need["id"], "resource_id": resource["id"]})
    return plan, resource, who


def test_a_proposal_reaches_the_association_and_its_answer_the_social_worker(
    server: str, page: Page
) -> None:
    plan, resource, who = _arrange(server)

    # The association: the menu counts the proposal, the notification says what is asked.
    login(page, server, who["referent"])
    expect(_menu_link(page, "Proposte (1)")).to_be_visible()
    expect(_menu_link(page, "Notifiche (1)")).to_be_visible()
    go(page, "Notifiche")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifiche")
    card = page.locator(".item-card", has_text="Nuova proposta")
    expect(card.get_by_role("heading")).to_have_text(f"Nuova proposta: «{resource['title']}»")
    expect(card).to_contain_text("martedì 09:00–11:00")
    expect(card).not_to_contain_text(who["case"])
    expect(card).not_to_contain_text("Nota riservata")
    shot(page, "associazione-notifiche")

    # Straight from the notification to the proposal, and accept it.
    card.get_by_role("link", name="Apri").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposte di abbinamento")
    proposal = page.locator(".item-card", has_text=resource["title"])
    proposal.get_by_role("button", name=re.compile("^Accetta")).click()
    expect(page.locator("#flash")).to_contain_text("Proposta accettata")
    # Answered: nothing waits on the association any more.
    expect(_menu_link(page, "Proposte")).to_be_visible()
    expect(_menu_link(page, "Notifiche")).to_be_visible()

    # The social worker: the answer is counted and told, with the way back to the plan.
    page.locator("#logout").click()
    login(page, server, who["social"])
    expect(_menu_link(page, "Abbinamenti (1)")).to_be_visible()
    expect(_menu_link(page, "Notifiche (1)")).to_be_visible()
    go(page, "Notifiche")
    answer = page.locator(".item-card", has_text="Proposta accettata")
    expect(answer.get_by_role("heading")).to_have_text(
        f"Proposta accettata: «{resource['title']}» ({who['holder']})"
    )
    expect(answer).to_contain_text(who["case"])
    shot(page, "assistente-notifiche")
    answer.get_by_role("link", name="Apri").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Piano {who['case']}")
    [match] = Api(server, who["social"]).get("/api/matches", plan_id=plan["id"])["items"]
    assert match["status"] == "accepted"


def test_a_user_chooses_which_notifications_arrive_by_email(server: str, page: Page) -> None:
    login(page, server, "volontario")
    go(page, "Notifiche")
    page.get_by_role("tab", name="Preferenze e-mail").click()
    expect(page.get_by_text("non è ancora configurato")).to_be_visible()
    page.get_by_label("Indirizzo e-mail").fill("non-un-indirizzo")
    page.get_by_role("button", name="Salva le preferenze").click()
    expect(page.locator(".error-summary")).to_be_visible()
    page.get_by_label("Indirizzo e-mail").fill("volontaria@example.org")
    page.get_by_label("Contributo confermato").check()
    page.get_by_label(re.compile("^Un solo riepilogo al giorno")).check()
    page.get_by_role("button", name="Salva le preferenze").click()
    expect(page.locator("#flash")).to_contain_text("Preferenze salvate")
    shot(page, "volontario-preferenze-email")
    saved = Api(server, "volontario").get("/api/notifications/preferences")
    assert (saved["email"], saved["email_events"], saved["digest"]) == (
        "volontaria@example.org",
        ["contribution.confirmed"],
        True,
    )
