"""The demo ambito carries a co-programming procedure modelled on seed 002, so every screen of
issue 16 has content: notice, five sessions split into tables, approved minutes, the summary
document, Piano objectives, one co-design with its partners' commitments and one patto with
its report. Read through the HTTP API as the demo's own users (and anonymously for the public
page); expected figures come from the demo's definition (registry/coprogramming/demo_spec.py).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import httpx
import pytest

from registry.coprogramming import demo_spec as spec
from registry.demo import DEMO_PASSWORD, load_demo
from registry.italian import ROME


@pytest.fixture(scope="module")
async def demo(app: object) -> dict[str, str]:
    return await load_demo()


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    answer = await client.post(
        "/api/auth/token", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def get(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: str
) -> object:
    answer = await client.get(path, headers=headers, params=params)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def weeks(days: int) -> list[int]:
    """The demo's weeks over `days` days since a start: one entry per whole week."""
    return list(range(days // 7))


async def test_the_demo_runs_a_procedure_like_seed_002(
    client: httpx.AsyncClient, demo: dict[str, str]
) -> None:
    udp = await login(client, "udp")
    procedures = await get(client, "/api/coprogramming/procedures", udp)
    [procedure] = [p for p in procedures if p["title"].startswith(spec.PROCEDURE_TITLE)]
    pid = procedure["id"]
    today = datetime.now(ROME).date()
    assert procedure["status"] == "closed"
    published = date.fromisoformat(procedure["notice_published_on"])
    closes = date.fromisoformat(procedure["applications_close_on"])
    assert published < closes < today
    # Written at the moments it happened (the demo's injected clock), not all today.
    assert datetime.fromisoformat(procedure["created_at"]).astimezone(ROME).date() < published

    # Applications: every organisation of the spec admitted, one registered on the way with
    # its RUNTS number; people counted as named.
    applications = await get(client, f"/api/coprogramming/procedures/{pid}/applications", udp)
    assert {a["holder_name"] for a in applications} == set(spec.PEOPLE)
    assert {a["status"] for a in applications} == {"admitted"}
    assert all(
        published <= datetime.fromisoformat(a["applied_at"]).astimezone(ROME).date() <= closes
        for a in applications
    )
    [new] = [a for a in applications if a["holder_name"] == spec.GIOVANI]
    assert new["runts_number"] == "118204"
    people = sum(len(p) for p in spec.PEOPLE.values())
    assert (procedure["organisations"], procedure["people"]) == (len(spec.PEOPLE), people)

    # Five sessions: introductory, three thematic with their tables, concluding; each one
    # before today, each table with its spokesperson, minutes approved after the session.
    sessions = await get(client, f"/api/coprogramming/procedures/{pid}/sessions", udp)
    assert [(s["number"], s["kind"], len(s["tables"])) for s in sessions] == [
        (s.number, s.kind.value, len(s.tables)) for s in spec.SESSIONS
    ]
    approved_minutes = set()
    for session, expected in zip(sessions, spec.SESSIONS, strict=True):
        starts = datetime.fromisoformat(session["starts_at"])
        assert starts.astimezone(ROME).date() == today - timedelta(days=expected.days_before)
        assert session["organisations"] == len(expected.present)
        assert all(t["spokesperson_name"] for t in session["tables"])
        assert session["minutes_status"] == "approved"
        minutes = await get(client, f"/api/coprogramming/sessions/{session['id']}/minutes", udp)
        latest = minutes[-1]
        assert latest["status"] == "approved" and latest["content_hash"]
        assert datetime.fromisoformat(latest["approved_at"]) > starts
        approved_minutes.add(latest["id"])
        for table, table_spec in zip(session["tables"], expected.tables, strict=True):
            answers = await get(
                client, f"/api/coprogramming/tables/{table['id']}/contributions", udp
            )
            assert sorted(a["question"] for a in answers) == sorted(
                q.value for q, *_ in table_spec.answers
            )

    # The summary document is assembled from exactly the approved minutes, and approved.
    [summary] = await get(client, f"/api/coprogramming/procedures/{pid}/summary", udp)
    assert summary["status"] == "approved"
    assert set(summary["sources"]) == approved_minutes

    # Objectives, each linked to the proposals and sessions it comes from.
    objectives = await get(client, f"/api/coprogramming/procedures/{pid}/objectives", udp)
    proposals = {
        p["id"]: p["text"]
        for p in await get(client, f"/api/coprogramming/procedures/{pid}/proposals", udp)
    }
    number_of = {s["id"]: s["number"] for s in sessions}
    assert [
        (
            o["code"],
            sorted(proposals[p] for p in o["proposal_ids"]),
            sorted(number_of[s] for s in o["session_ids"]),
        )
        for o in objectives
    ] == [
        (code, sorted(texts), sorted(numbers)) for code, _, _, _, texts, numbers in spec.OBJECTIVES
    ]

    # The public page (no login): notice, calendar, organisations and counts, approved
    # minutes and summary; no name or contact of any person named by the organisations.
    answer = await client.get(f"/api/public/coprogramming/procedures/{pid}")
    assert answer.status_code == 200, answer.text
    public = answer.json()
    assert len(public["organisations"]) == len(spec.PEOPLE) and public["people"] == people
    assert len(public["minutes"]) == len(spec.SESSIONS) and public["summary"] is not None
    text = json.dumps(public, ensure_ascii=False)
    for application in applications:
        for person in application["participants"]:
            assert person["name"] not in text
            assert not person["contact"] or person["contact"] not in text
    listed = await client.get("/api/public/coprogramming/ambiti/OLGIATESE/procedures")
    assert listed.status_code == 200 and pid in {p["id"] for p in listed.json()}

    # Auser's manager sees its own application and writes at its table of session 3.
    auser = await login(client, "auser")
    [own] = await get(client, f"/api/coprogramming/procedures/{pid}/applications", auser)
    assert own["holder_name"] == spec.AUSER and own["status"] == "admitted"
    third = sessions[2]["tables"][0]
    assert third["theme"] == "Anziani soli e caregiver"
    mine = await get(client, f"/api/coprogramming/tables/{third['id']}/contributions", auser)
    assert any(a["holder_name"] == spec.AUSER for a in mine)


async def test_the_demo_carries_a_codesign_and_a_patto_counted_in_the_ledger(
    client: httpx.AsyncClient, demo: dict[str, str]
) -> None:
    udp = await login(client, "udp")
    [procedure] = [
        p
        for p in await get(client, "/api/coprogramming/procedures", udp)
        if p["title"].startswith(spec.PROCEDURE_TITLE)
    ]
    [project] = await get(client, "/api/codesigns", udp, procedure_id=procedure["id"])
    assert project["proposal_id"] is not None
    assert {(p["holder_name"], p["role"]) for p in project["partners"]} == {
        (spec.AUSER, "lead"),
        (spec.TRASPORTO, "partner"),
        (spec.VICINATO, "partner"),
    }
    # A timeline: the start-up step (day 14) is done, the check (day 90) and the end ahead.
    assert [m["done_on"] is not None for m in project["milestones"]] == [True, False, False]
    # Week w of the 60 days since the start (day 7w+2): Auser 3 + w%3 hours, the transport
    # group 1 + w%2 trips, the neighbours 1 trip; confirmed when older than 14 days.
    days = 60
    given = {
        spec.AUSER: [(w, 3 + w % 3) for w in weeks(days)],
        spec.TRASPORTO: [(w, 1 + w % 2) for w in weeks(days)],
        spec.VICINATO: [(w, 1) for w in weeks(days)],
    }
    for commitment in project["commitments"]:
        entries = given[commitment["holder_name"]]
        confirmed = sum(q for w, q in entries if days - (7 * w + 2) > 14)
        waiting = sum(q for w, q in entries if days - (7 * w + 2) <= 14)
        assert (commitment["given"]["verified"], commitment["given"]["self_reported"]) == (
            confirmed,
            waiting,
        ), commitment
        assert commitment["kept_share"] == pytest.approx(confirmed / commitment["quantity"])

    [patto] = [
        p
        for p in await get(client, "/api/patti", udp)
        if p["title"].endswith("parco giochi di Binago")
    ]
    assert {p["holder_name"] for p in patto["parties"]} == {spec.VICINATO, spec.FALEGNAMERIA}
    # 220 days since signing; on day 7w+5 the neighbours give 3 hours, and every eighth week
    # (w % 8 == 3) the joinery 4 hours; all confirmed.
    span = 220
    care = weeks(span)
    by_holder = {c["holder_name"]: c["given"]["verified"] for c in patto["commitments"]}
    assert by_holder[spec.VICINATO] == 3 * len(care)
    assert by_holder[spec.FALEGNAMERIA] == 4 * len([w for w in care if w % 8 == 3])
    [report] = await get(client, f"/api/patti/{patto['id']}/reports", udp)
    start = date.fromisoformat(report["period_start"])
    length = (date.fromisoformat(report["period_end"]) - start).days
    assert start == date.fromisoformat(patto["starts_on"])
    in_period = [w for w in care if 7 * w + 5 <= length]
    [hours] = [u for u in report["figures"]["by_unit"] if u["unit"] == "hours"]
    assert hours["verified"] == 3 * len(in_period) + 4 * len([w for w in in_period if w % 8 == 3])

    # Auser's manager sees its own commitment among «my commitments», not the others'.
    auser = await login(client, "auser")
    mine = await get(client, "/api/commitments", auser)
    assert {c["holder_name"] for c in mine if c["holder_name"]} == {spec.AUSER}
