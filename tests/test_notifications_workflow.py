"""The daily workflow's notifications (issue 17): every step that waits on someone reaches
that someone, in the app and on the ambito's webhooks; the holder side never learns who the
plan is about; a change that rolls back notifies nobody; steps taken stop counting."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from registry import italian
from registry.access import Role
from registry.notifications import workflow
from registry.notifications.tables import OutboxMessage
from tests.conftest import Tenant
from tests.test_checkin import new_code
from tests.test_contributions import make_match, post_entry
from tests.test_notifications_api import add_webhook
from tests.test_plans_support import add_resource, add_user, create_need, create_plan, propose

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
MONDAY_9_12 = [(["MO"], 9, 12)]
NOTES = "Nota riservata: vive sola, figlia all'estero"


async def inbox(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/notifications", params={"limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def counts(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/notifications/counts", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def of_type(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [item for item in items if item["event_type"] == kind]


async def proposal(client: httpx.AsyncClient, tenant: Tenant, **resource: Any) -> dict[str, Any]:
    """A plan (with notes) of the tenant's social worker, an accompaniment need on Monday
    9-11, and a proposal of a resource of the tenant's holder (unless told otherwise)."""
    plan = await create_plan(
        client,
        tenant,
        start_date=(italian.today() - timedelta(days=30)).isoformat(),
        end_date=None,
        notes=NOTES,
    )
    need = await create_need(client, tenant, plan["id"], category_code="accompagnamento")
    resource_id = await add_resource(
        tenant,
        title=resource.pop("title", "Accompagnamento del lunedì"),
        category="accompagnamento",
        capacity=2,
        windows=MONDAY_9_12,
        **resource,
    )
    match = await propose(client, tenant, need["id"], resource_id)
    return {"plan": plan, "need": need, "match": match}


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], match: dict, action: str, reason: str = ""
) -> httpx.Response:
    body = {"reason": reason} if reason else None
    return await client.post(f"/api/matches/{match['id']}/{action}", json=body, headers=headers)


async def test_a_proposal_reaches_the_holders_managers_and_never_says_who(
    client, tenant: Tenant
) -> None:
    colleague = await add_user(tenant, H, holder_id=tenant.holder_id)
    stranger = await add_user(tenant, H, holder_id=tenant.other_holder_id)
    await add_webhook(tenant, events=["match.proposed"])
    made = await proposal(client, tenant)
    case_code, plan_id = made["plan"]["case_code"], made["plan"]["id"]

    for headers in (tenant.headers(H), colleague["headers"]):
        [note] = await inbox(client, headers)
        assert note["event_type"] == "match.proposed"
        assert note["title"] == "Nuova proposta: «Accompagnamento del lunedì»"
        assert "«Accompagnamento a visite e uffici» (lunedì 09:00–11:00)" in note["body"]
        assert note["link"] == "#/proposte"
        for secret in (case_code, plan_id, "Nota riservata"):
            assert secret not in json.dumps(note)
    assert await inbox(client, stranger["headers"]) == []
    assert await inbox(client, tenant.headers(S)) == []  # who proposed is not told
    assert await counts(client, tenant.headers(H)) == {
        "unread": 1,
        "by_type": {"match.proposed": 1},
    }

    # The ambito's webhook got it too, with the same discretion.
    [message] = await OutboxMessage.select().where(
        (OutboxMessage.ambito == tenant.ambito_id) & (OutboxMessage.event_type == "match.proposed")
    )
    payload = json.loads(message["body"])
    assert payload["data"]["match_id"] == made["match"]["id"]
    assert payload["data"]["category_code"] == "accompagnamento"
    for secret in (case_code, plan_id, "Nota riservata"):
        assert secret not in message["body"]


async def test_the_answer_reaches_the_plans_social_workers(client, tenant: Tenant) -> None:
    shared = await add_user(tenant, S)
    made = await proposal(client, tenant)
    plan = made["plan"]
    sharing = await client.put(
        f"/api/plans/{plan['id']}/sharing",
        json={"shared_with": [str(shared["id"])]},
        headers=tenant.headers(U),
    )
    assert sharing.status_code == 200, sharing.text
    other_manager = await add_user(tenant, H, holder_id=tenant.other_holder_id)
    second = await add_resource(
        tenant,
        holder_id=tenant.other_holder_id,
        title="Accompagnamento solidale",
        category="accompagnamento",
        windows=MONDAY_9_12,
    )
    declined = await propose(client, tenant, made["need"]["id"], second)

    accepted = await act(client, tenant.headers(H), made["match"], "accept")
    assert accepted.status_code == 200, accepted.text
    answer = await act(
        client, other_manager["headers"], declined, "decline", "Nessun volontario il lunedì"
    )
    assert answer.status_code == 200, answer.text

    for headers in (tenant.headers(S), shared["headers"]):
        items = await inbox(client, headers)
        [yes] = of_type(items, "match.accepted")
        assert yes["title"] == (
            "Proposta accettata: «Accompagnamento del lunedì» (Associazione Alfa)"
        )
        assert yes["link"] == f"#/piani/{plan['id']}"
        [no] = of_type(items, "match.declined")
        assert no["title"] == "Proposta rifiutata: «Accompagnamento solidale» (Associazione Beta)"
        assert no["body"].endswith("Motivo: Nessun volontario il lunedì")
    # Answered: the proposals no longer wait on the holder side.
    assert (await counts(client, tenant.headers(H)))["by_type"] == {}
    assert (await counts(client, other_manager["headers"]))["by_type"] == {}
    assert (await counts(client, tenant.headers(S)))["by_type"] == {
        "match.accepted": 1,
        "match.declined": 1,
    }


async def test_plan_side_steps_reach_the_holder_side_without_their_reasons(
    client, tenant: Tenant
) -> None:
    made = await proposal(client, tenant)
    other = await proposal(client, tenant, title="Accompagnamento bis")
    case_codes = [made["plan"]["case_code"], other["plan"]["case_code"]]
    for match in (made["match"], other["match"]):
        assert (await act(client, tenant.headers(H), match, "accept")).status_code == 200
    assert (await act(client, tenant.headers(S), made["match"], "confirm")).status_code == 200
    # Confirmed: the acceptance no longer waits on the social worker.
    assert (await counts(client, tenant.headers(S)))["by_type"] == {"match.accepted": 1}
    done = await act(client, tenant.headers(S), made["match"], "complete", "obiettivo raggiunto")
    assert done.status_code == 200
    gone = await act(client, tenant.headers(S), other["match"], "withdraw", "ricoverata in RSA")
    assert gone.status_code == 200

    items = await inbox(client, tenant.headers(H))
    titles = {item["event_type"]: item["title"] for item in items}
    assert titles["match.confirmed"] == "Abbinamento avviato: «Accompagnamento del lunedì»"
    assert titles["match.completed"] == "Abbinamento concluso: «Accompagnamento del lunedì»"
    assert titles["match.withdrawn"] == "Proposta ritirata: «Accompagnamento bis»"
    text = json.dumps(items)
    for secret in (*case_codes, "obiettivo raggiunto", "ricoverata", "Nota riservata"):
        assert secret not in text


async def test_a_change_that_rolls_back_notifies_nobody(
    client, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await proposal(client, tenant)
    announced = workflow.match_moved

    async def then_fail(*args: Any) -> None:
        await announced(*args)  # the notifications are written...
        raise RuntimeError("the disk is full")  # ...and the change fails after them

    monkeypatch.setattr(workflow, "match_moved", then_fail)
    response = await act(client, tenant.headers(H), made["match"], "accept")
    assert response.status_code == 500
    monkeypatch.undo()

    match = await client.get(f"/api/matches/{made['match']['id']}", headers=tenant.headers(S))
    assert match.json()["status"] == "proposed"
    assert await inbox(client, tenant.headers(S)) == []
    # The proposal still waits on the holder side: its resolution rolled back too.
    assert (await counts(client, tenant.headers(H)))["by_type"] == {"match.proposed": 1}


async def test_a_reported_contribution_and_its_confirmation(client, tenant: Tenant) -> None:
    entry = await post_entry(client, tenant, V, quantity=2.5)
    [note] = await inbox(client, tenant.headers(H))
    assert note["event_type"] == "contribution.reported"
    assert note["title"].startswith("Contributo da confermare: 2,5 ore del ")
    assert await inbox(client, tenant.headers(V)) == []  # the author is not told
    assert await inbox(client, tenant.headers(S)) == []  # not tied to a plan of theirs

    confirmed = await client.post(
        f"/api/contributions/{entry['id']}/confirm", json={}, headers=tenant.headers(H)
    )
    assert confirmed.status_code == 200, confirmed.text
    [thanks] = await inbox(client, tenant.headers(V))
    assert thanks["event_type"] == "contribution.confirmed"
    assert thanks["title"].startswith("Contributo confermato: 2,5 ore del ")
    assert thanks["link"] == "#/ore"
    assert (await counts(client, tenant.headers(H)))["unread"] == 0  # nothing left to confirm

    # An entry for a match waits on the plan's social worker; a QR-measured one on nobody.
    link = await make_match(tenant)
    await post_entry(client, tenant, V, match_id=str(link["match"]))
    assert [n["event_type"] for n in await inbox(client, tenant.headers(S))] == [
        "contribution.reported"
    ]


async def test_a_correction_replaces_what_waited_for_confirmation(client, tenant: Tenant) -> None:
    entry = await post_entry(client, tenant, V)
    fixed = await client.post(
        f"/api/contributions/{entry['id']}/corrections",
        json={"quantity": 3, "reason": "erano tre ore"},
        headers={**tenant.headers(V), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert fixed.status_code == 201, fixed.text
    items = await inbox(client, tenant.headers(H))
    assert [(n["title"].split(" del ")[0], n["read_at"] is None) for n in items] == [
        ("Contributo da confermare: 3 ore", True),
        ("Contributo da confermare: 2 ore", False),
    ]


async def test_a_shared_plan_reaches_the_colleague_once(client, tenant: Tenant) -> None:
    colleague = await add_user(tenant, S)
    plan = await create_plan(client, tenant, end_date=None)
    body = {"shared_with": [str(colleague["id"])]}
    for _ in range(2):
        response = await client.put(
            f"/api/plans/{plan['id']}/sharing", json=body, headers=tenant.headers(U)
        )
        assert response.status_code == 200, response.text
    [note] = await inbox(client, colleague["headers"])
    assert note["event_type"] == "plan.shared"
    assert note["link"] == f"#/piani/{plan['id']}"
    assert await inbox(client, tenant.headers(S)) == []  # the owner saw it all along


async def test_a_revoked_code_reaches_its_holders_managers_once(client, tenant: Tenant) -> None:
    code = await new_code(client, tenant, role=U)
    for _ in range(2):
        response = await client.post(
            f"/api/checkin/codes/{code['id']}/revoke", headers=tenant.headers(U)
        )
        assert response.status_code == 200, response.text
    [note] = await inbox(client, tenant.headers(H))
    assert note["event_type"] == "checkin.code_revoked"
    assert note["title"] == f"Codice QR revocato: «{code['title']}»"
    assert note["link"] == "#/qr"
