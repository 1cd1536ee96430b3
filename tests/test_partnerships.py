"""Co-design projects and patti di collaborazione through the API: commitments against what
the ledger shows was given (computed by hand below), corrections and cancellations followed,
reports with the period's figures, renewals, and patto hours in the dashboard's totals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from registry import italian, scheduled_jobs
from registry.access import Role
from registry.holders.tables import Holder
from registry.metrics import reference_loading
from registry.metrics.compute import Period
from registry.metrics.loading import Scope
from registry.partnerships.patti import add_months
from registry.partnerships.patto_reports import notify_due_reports
from registry.users.tables import User
from tests.conftest import Tenant

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "3")


async def informal_group(tenant: Tenant, name: str = "Vicini di via Roma") -> uuid.UUID:
    holder = Holder(
        ambito=tenant.ambito_id,
        kind="informal_network",
        sector="informal",
        name=name,
        comuni=tenant.comuni,
        areas=[],
        contacts="[]",
    )
    await holder.save()
    return holder.id


async def volunteer(tenant: Tenant, suffix: str) -> uuid.UUID:
    user = User(
        username=f"volontario-{suffix}-{tenant.code.lower()}",
        password_hash="x",
        role=V.value,
        ambito=tenant.ambito_id,
    )
    await user.save()
    return user.id


async def give(
    client: httpx.AsyncClient,
    tenant: Tenant,
    commitment_id: str,
    quantity: float,
    occurred_on: date,
    *,
    role: Role = U,
    key: str | None = None,
    confirm: bool = True,
    volunteer: uuid.UUID | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"quantity": quantity, "occurred_on": occurred_on.isoformat()}
    if volunteer is not None:
        body["volunteer_id"] = str(volunteer)
    response = await client.post(
        f"/api/commitments/{commitment_id}/contributions",
        json=body,
        headers={**tenant.headers(role), "Idempotency-Key": key or uuid.uuid4().hex},
    )
    assert response.status_code in (200, 201), response.text
    entry = response.json()
    if confirm:
        confirmed = await client.post(
            f"/api/contributions/{entry['id']}/confirm", headers=tenant.headers(U)
        )
        assert confirmed.status_code == 200, confirmed.text
    return entry


async def test_codesign_commitments_against_the_ledger(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    today = italian.today()
    start = today - timedelta(days=60)
    udp = tenant.headers(U)
    response = await client.post(
        "/api/codesigns",
        json={
            "title": "Trasporto solidale per le visite",
            "starts_on": start.isoformat(),
            "partners": [
                {"holder_id": str(tenant.holder_id), "role": "lead"},
                {"holder_id": str(tenant.other_holder_id)},
            ],
        },
        headers=udp,
    )
    assert response.status_code == 201, response.text
    project = response.json()
    assert [(p["holder_id"], p["role"]) for p in project["partners"]] == [
        (str(tenant.holder_id), "lead"),
        (str(tenant.other_holder_id), "partner"),
    ]
    assert all(p["joined_on"] == start.isoformat() for p in project["partners"])
    base = f"/api/codesigns/{project['id']}"
    response = await client.post(
        f"{base}/commitments",
        json={
            "holder_id": str(tenant.holder_id),
            "description": "Accompagnamento alle visite",
            "unit": "hours",
            "quantity": 10,
        },
        headers=udp,
    )
    assert response.status_code == 201, response.text
    hours = response.json()
    response = await client.post(
        f"{base}/commitments",
        json={
            "holder_id": str(tenant.other_holder_id),
            "description": "Sala per gli incontri",
            "unit": "room_hours",
            "quantity": 6,
        },
        headers=udp,
    )
    room = response.json()
    milestone = await client.post(
        f"{base}/milestones",
        json={"title": "Avvio del servizio", "due_on": (start + timedelta(days=30)).isoformat()},
        headers=udp,
    )
    assert milestone.status_code == 201, milestone.text
    done = await client.patch(
        f"{base}/milestones/{milestone.json()['id']}",
        json={"done_on": (start + timedelta(days=28)).isoformat()},
        headers=udp,
    )
    assert done.json()["done_on"] == (start + timedelta(days=28)).isoformat()

    # e1: 2.5 h confirmed, then corrected to 3 h (the correction starts unconfirmed) and
    # confirmed again; e2: 1.5 h never confirmed; e3: 1 h cancelled; e4: 2 room-hours.
    e1 = await give(client, tenant, hours["id"], 2.5, start + timedelta(days=5))
    corrected = await client.post(
        f"/api/contributions/{e1['id']}/corrections",
        json={"quantity": 3, "reason": "erano tre ore"},
        headers=udp,
    )
    assert corrected.status_code == 201, corrected.text
    await client.post(f"/api/contributions/{corrected.json()['id']}/confirm", headers=udp)
    # e2 is recorded by the holder's own manager: its own commitment.
    key = uuid.uuid4().hex
    e2 = await give(
        client, tenant, hours["id"], 1.5, start + timedelta(days=6), role=H, key=key, confirm=False
    )
    replay = await give(
        client, tenant, hours["id"], 1.5, start + timedelta(days=6), role=H, key=key, confirm=False
    )
    assert replay["id"] == e2["id"]
    e3 = await give(client, tenant, hours["id"], 1, start + timedelta(days=7), confirm=False)
    cancelled = await client.post(
        f"/api/contributions/{e3['id']}/cancellation", json={"reason": "doppia"}, headers=udp
    )
    assert cancelled.status_code == 201, cancelled.text
    await give(client, tenant, room["id"], 2, start + timedelta(days=8))
    # Not its holder's commitment: the holder manager cannot give under it.
    response = await client.post(
        f"/api/commitments/{room['id']}/contributions",
        json={"quantity": 1, "occurred_on": today.isoformat()},
        headers={**tenant.headers(H), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 403, response.text

    monitoring = (await client.get(f"{base}/monitoring", headers=udp)).json()
    by_id = {c["id"]: c for c in monitoring["commitments"]}
    assert by_id[hours["id"]]["quantity"] == 10.0
    assert by_id[hours["id"]]["given"] == {
        "verified": 3.0,
        "self_reported": 1.5,
        "entries": 2,
        "value_cents": 0,
    }
    assert by_id[hours["id"]]["kept_share"] == 0.3
    assert by_id[room["id"]]["given"]["verified"] == 2.0
    assert by_id[room["id"]]["kept_share"] == round(2 / 6, 4)
    assert [
        (p["holder_id"], p["unit"], p["committed"], p["verified"], p["self_reported"])
        for p in monitoring["partners"]
    ] == [
        (str(tenant.holder_id), "hours", 10.0, 3.0, 1.5),
        (str(tenant.other_holder_id), "room_hours", 6.0, 2.0, 0.0),
    ]
    # The entries are the ledger's: its own totals count them (3 + 1.5 h, 2 room-hours).
    totals = (await client.get("/api/contributions/summary", headers=udp)).json()["totals"]
    assert {t["unit"]: (t["verified"], t["self_reported"]) for t in totals} == {
        "hours": (3.0, 1.5),
        "room_hours": (2.0, 0.0),
    }

    # The holder manager sees the project with its own commitment only.
    mine = (await client.get(base, headers=tenant.headers(H))).json()
    assert [c["id"] for c in mine["commitments"]] == [hours["id"]]
    listed = (await client.get("/api/commitments", headers=tenant.headers(H))).json()
    assert [c["id"] for c in listed] == [hours["id"]]
    assert listed[0]["given"]["verified"] == 3.0
    # Before the project started there is nothing to give under it.
    response = await client.post(
        f"/api/commitments/{hours['id']}/contributions",
        json={"quantity": 1, "occurred_on": (start - timedelta(days=1)).isoformat()},
        headers={**udp, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "occurred_on"


async def test_patto_reports_renewal_and_dashboard(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    today = italian.today()
    # The first of a month seven months ago: the first quarter's entries fall in its month.
    start = add_months(today.replace(day=1), -7)
    end = start + timedelta(days=364)
    group = await informal_group(tenant)
    udp = tenant.headers(U)
    response = await client.post(
        "/api/patti",
        json={
            "title": "Cura del giardino di via Roma",
            "object": "Manutenzione condivisa dell'area verde",
            "public_party": "comune",
            "comune": tenant.comuni[0],
            "parties": [str(group), str(tenant.holder_id), str(tenant.other_holder_id)],
            "starts_on": start.isoformat(),
            "ends_on": end.isoformat(),
            "report_every_months": 3,
        },
        headers=udp,
    )
    assert response.status_code == 201, response.text
    patto = response.json()
    first_due = add_months(start, 3) - timedelta(days=1)
    assert patto["next_report_due"] == first_due.isoformat()
    base = f"/api/patti/{patto['id']}"
    commitments = {}
    for holder, text, unit, quantity in (
        (None, "Fornitura di attrezzi e assicurazione", None, None),
        (group, "Cura del giardino", "hours", 40),
        (tenant.holder_id, "Apertura del cancello", "hours", 10),
        (tenant.other_holder_id, "Piantine", "items", 30),
    ):
        body: dict[str, Any] = {"description": text}
        if holder is not None:
            body["holder_id"] = str(holder)
        if unit is not None:
            body |= {"unit": unit, "quantity": quantity}
        response = await client.post(f"{base}/commitments", json=body, headers=udp)
        assert response.status_code == 201, response.text
        commitments[text.split()[0]] = response.json()
    # The public side's commitment is not an entry of the community ledger.
    response = await client.post(
        f"/api/commitments/{commitments['Fornitura']['id']}/contributions",
        json={"quantity": 1, "occurred_on": today.isoformat()},
        headers={**udp, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 400, response.text

    # In the first quarter: 4 h + 2.5 h of the group, 1 h of the holder, 12 plants;
    # later: 2 h of the group (outside the first report's period).
    # Three people give the hours (the dashboard publishes no figure of fewer).
    v1, v2, v3 = tenant.users[V], await volunteer(tenant, "a"), await volunteer(tenant, "b")
    cura, apertura = commitments["Cura"]["id"], commitments["Apertura"]["id"]
    await give(client, tenant, cura, 4, start + timedelta(days=10), volunteer=v1)
    await give(client, tenant, cura, 2.5, start + timedelta(days=20), volunteer=v2)
    await give(client, tenant, apertura, 1, start + timedelta(days=11), volunteer=v3)
    await give(client, tenant, commitments["Piantine"]["id"], 12, start + timedelta(days=12))
    await give(client, tenant, cura, 2, first_due + timedelta(days=3), volunteer=v1)

    response = await client.post(
        f"{base}/reports",
        json={
            "period_start": start.isoformat(),
            "period_end": first_due.isoformat(),
            "text": "Primo trimestre: aiuole sistemate.",
        },
        headers=udp,
    )
    assert response.status_code == 201, response.text
    figures = response.json()["figures"]
    assert {u["unit"]: (u["verified"], u["entries"]) for u in figures["by_unit"]} == {
        "hours": (7.5, 3),
        "items": (12.0, 1),
    }
    assert {c["description"]: c["verified"] for c in figures["commitments"]} == {
        "Fornitura di attrezzi e assicurazione": 0.0,
        "Cura del giardino": 6.5,
        "Apertura del cancello": 1.0,
        "Piantine": 12.0,
    }
    after = (await client.get(base, headers=udp)).json()
    second_due = min(add_months(start, 6) - timedelta(days=1), end)
    assert after["next_report_due"] == second_due.isoformat()

    # A party's manager reads the patto (its own and the public side's commitments) and
    # the reports; the figures of the report are the whole patto's.
    seen = (await client.get(base, headers=tenant.headers(H))).json()
    assert {c["description"] for c in seen["commitments"]} == {
        "Fornitura di attrezzi e assicurazione",
        "Apertura del cancello",
    }
    reports = (await client.get(f"{base}/reports", headers=tenant.headers(H))).json()
    assert [r["text"] for r in reports] == ["Primo trimestre: aiuole sistemate."]
    assert reports[0]["figures"] == figures

    # Patto hours are contributions like any other: the dashboard's figures count them (7.5 +
    # 2 h verified, 3 persons, 3 holders), read before the small-cell control (which withholds
    # any figure of a few entries spread over months).
    figures = await reference_loading.live_figures(
        tenant.ambito_id, Period("p", start, today), Scope(), datetime.now(UTC)
    )
    totals = figures.tables["totals"].rows[0].data
    assert (totals["hours_verified"], totals["hours_community"]) == (9.5, 9.5)
    assert (totals["persons"], totals["holders"], totals["entries"]) == (3, 3, 5)
    # Through the API, over the patto's first month (4 + 2.5 + 1 h from three people and
    # three holders: enough to be published).
    month = {
        "from": start.isoformat(),
        "to": (add_months(start, 1) - timedelta(days=1)).isoformat(),
        "live": "true",
    }
    summary = await client.get("/api/metrics/summary", params=month, headers=udp)
    assert summary.status_code == 200, summary.text
    assert summary.json()["headline"]["hours_verified"] == 7.5

    # A neighbours' group joins the patto in force (once); the renewal keeps it.
    newcomer = await informal_group(tenant, "Genitori della scuola")
    joined = await client.post(f"{base}/parties", json={"holder_id": str(newcomer)}, headers=udp)
    assert joined.status_code == 201, joined.text
    assert str(newcomer) in {p["holder_id"] for p in joined.json()["parties"]}
    twice = await client.post(f"{base}/parties", json={"holder_id": str(newcomer)}, headers=udp)
    assert twice.status_code == 409, twice.text

    # Renewal: a new period linked to this one, commitments copied; only once.
    response = await client.post(
        f"{base}/renewal", json={"ends_on": (end + timedelta(days=365)).isoformat()}, headers=udp
    )
    assert response.status_code == 201, response.text
    renewal = response.json()
    assert renewal["renews_id"] == patto["id"]
    assert renewal["starts_on"] == (end + timedelta(days=1)).isoformat()
    assert len(renewal["commitments"]) == 4
    assert len(renewal["parties"]) == 4
    assert all(c["given"]["entries"] == 0 for c in renewal["commitments"])
    old = (await client.get(base, headers=udp)).json()
    assert (old["status"], old["renewed_by_id"]) == ("renewed", renewal["id"])
    again = await client.post(
        f"{base}/renewal", json={"ends_on": (end + timedelta(days=365)).isoformat()}, headers=udp
    )
    assert again.status_code == 409, again.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/patti",
            {"public_party": "comune", "ends_on": "2026-01-01", "starts_on": "2026-02-01"},
            "ends_on",
        ),
        ("/api/patti", {"public_party": "comune"}, "comune"),
        ("/api/patti", {"public_party": "ambito", "comune": "OWN"}, "comune"),
        ("/api/patti", {"public_party": "ambito", "parties": ["STRANGER"]}, "parties[0]"),
        ("/api/patti", {"public_party": "ambito", "report_every_months": 0}, "report_every_months"),
        ("/api/codesigns", {"proposal_id": "RANDOM"}, "proposal_id"),
        ("/api/codesigns", {"procedure_id": "RANDOM"}, "procedure_id"),
        ("/api/codesigns", {"partners": []}, "partners"),
        ("/api/codesigns", {"ends_on": "2020-01-01"}, "ends_on"),
        # The last day of the calendar: a renewal the day after would be a 500.
        ("/api/patti", {"public_party": "ambito", "ends_on": "9999-12-31"}, "ends_on"),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient, tenant: Tenant, path: str, body: dict[str, Any], field: str
) -> None:
    base: dict[str, Any] = {"title": "Prova", "starts_on": "2026-02-01"}
    if path == "/api/patti":
        base |= {"ends_on": "2026-12-31", "parties": [str(tenant.holder_id)]}
    else:
        base |= {"partners": [{"holder_id": str(tenant.holder_id)}]}
    payload = {**base, **body}
    for name, value in list(payload.items()):
        if value == "OWN":
            payload[name] = tenant.comuni[0]
        elif value == "RANDOM":
            payload[name] = str(uuid.uuid4())
        elif isinstance(value, list) and value == ["STRANGER"]:
            payload[name] = [str(uuid.uuid4())]
    response = await client.post(path, json=payload, headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert field in response.text


async def test_concurrent_copies_of_one_entry(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """Four copies of one request at once (a client retrying): one entry, one link."""
    start = italian.today() - timedelta(days=10)
    udp = tenant.headers(U)
    patto = await client.post(
        "/api/patti",
        json={
            "title": "Portineria di quartiere",
            "public_party": "ambito",
            "parties": [str(tenant.holder_id)],
            "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=100)).isoformat(),
        },
        headers=udp,
    )
    commitment = await client.post(
        f"/api/patti/{patto.json()['id']}/commitments",
        json={"holder_id": str(tenant.holder_id), "description": "Ore", "unit": "hours"},
        headers=udp,
    )
    key = uuid.uuid4().hex
    responses = await asyncio.gather(
        *[
            client.post(
                f"/api/commitments/{commitment.json()['id']}/contributions",
                json={"quantity": 2, "occurred_on": start.isoformat()},
                headers={**udp, "Idempotency-Key": key},
            )
            for _ in range(4)
        ]
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    monitoring = await client.get(f"/api/patti/{patto.json()['id']}/monitoring", headers=udp)
    assert monitoring.json()["commitments"][0]["given"]["self_reported"] == 2.0


async def test_report_due_reminder(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """The job tells the UdP once about the latest reporting period that ended without a
    report, and nothing once the reports cover it."""
    today = italian.today()
    start = add_months(today.replace(day=1), -7)
    udp = tenant.headers(U)
    patto = await client.post(
        "/api/patti",
        json={
            "title": "Orto condiviso",
            "public_party": "ambito",
            "parties": [str(tenant.holder_id)],
            "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=364)).isoformat(),
            "report_every_months": 3,
        },
        headers=udp,
    )
    assert patto.status_code == 201, patto.text
    second_end = add_months(start, 6) - timedelta(days=1)  # ended; the third has not
    assert "patto_reports" in scheduled_jobs.JOBS
    assert await notify_due_reports(datetime.now(UTC), [tenant.ambito_id]) == {
        "reports_due_told": 1
    }
    assert await notify_due_reports(datetime.now(UTC), [tenant.ambito_id]) == {
        "reports_due_told": 0
    }
    page = (await client.get("/api/notifications", headers=udp)).json()
    due = [n for n in page["items"] if n["event_type"] == "patto.report_due"]
    assert len(due) == 1
    assert second_end.strftime("%d/%m/%Y") in due[0]["body"]
    assert due[0]["link"] == f"#/impegni/patti/{patto.json()['id']}"
    # The holder's manager is not the one who writes reports: not told.
    mine = (await client.get("/api/notifications", headers=tenant.headers(H))).json()
    assert not [n for n in mine["items"] if n["event_type"] == "patto.report_due"]
    report = await client.post(
        f"/api/patti/{patto.json()['id']}/reports",
        json={"period_start": start.isoformat(), "period_end": second_end.isoformat()},
        headers=udp,
    )
    assert report.status_code == 201, report.text
    assert await notify_due_reports(datetime.now(UTC), [tenant.ambito_id]) == {
        "reports_due_told": 0
    }
