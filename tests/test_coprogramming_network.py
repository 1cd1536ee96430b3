"""Ties of the cohesion network from co-programming attendance and co-design partners, without
double counting hand-recorded interactions (rule in registry/partnerships/network.py).

The data, all in one calendar month M (the month before this one):
- session 1: table T1 holds A, B, C; table T2 holds D alone;
- session 2 (a week later): table T3 holds A, B; E attends the plenary (no table);
- an interaction recorded by hand ties A and C in M;
- a co-design project has partners C and D, both from session 1's day.
By hand: session ties AB, AC, BC (session 1), AB, AE, BE (session 2); AB once in M, AC
dropped (tied by hand): derived interaction ties AB, BC, AE, BE; co-design CD. With the hand
tie AC the month's network has 6 edges: 5 of kind interaction, 1 joint activity.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from registry import italian
from registry.access import Principal, Role
from registry.contributions import confirmations
from registry.contributions.schemas import ConfirmationIn
from registry.coprogramming.tables import (
    Application,
    Attendance,
    Minutes,
    Objective,
    ObjectiveLink,
    Participant,
    Procedure,
    ProcedureSession,
    TableContribution,
    WorkingTable,
)
from registry.holders.tables import Holder
from registry.metrics import network
from registry.metrics.compute import Period
from registry.metrics.loading import Scope
from registry.metrics.network import Tie
from registry.metrics.network_loading import load_network
from registry.partnerships import commitments, patti, projects
from registry.partnerships.network import deduplicated, session_ties
from registry.partnerships.report import CommitmentLine, ProcedureLine, chapter, chapter_html
from registry.partnerships.schemas import (
    CommitmentContribution,
    CommitmentCreate,
    PartnerIn,
    PattoCreate,
    ProjectCreate,
    PublicParty,
)
from registry.vocabularies import ContributionUnit
from tests.conftest import Tenant

ROME = ZoneInfo("Europe/Rome")


def test_session_ties_and_the_rule() -> None:
    d = date(2026, 3, 2)
    ties = session_ties(
        [
            ("s1", "t1", "A", d),
            ("s1", "t1", "B", d),
            ("s1", "t2", "C", d),
            ("s1", None, "P", d),  # the plenary: tied to all three
        ]
    )
    assert {(t.a, t.b) for t in ties} == {("A", "B"), ("A", "P"), ("B", "P"), ("C", "P")}
    later = Tie("A", "B", date(2026, 4, 1), "interaction")
    kept = deduplicated(
        [*ties, Tie("B", "A", d + timedelta(days=3), "interaction"), later],
        [Tie("P", "C", date(2026, 3, 20), "interaction")],
    )
    # AB once in March, again in April; CP dropped: tied by hand in the same month.
    assert sorted((t.a, t.b, t.on.month) for t in kept) == [
        ("A", "B", 3),
        ("A", "B", 4),
        ("A", "P", 3),
        ("B", "P", 3),
    ]


async def _holder(tenant: Tenant, name: str, sector: str = "third_sector") -> uuid.UUID:
    holder = Holder(
        ambito=tenant.ambito_id,
        kind="association" if sector == "third_sector" else "informal_network",
        sector=sector,
        name=name,
        comuni=tenant.comuni,
        areas=[],
        contacts="[]",
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    await holder.save()
    return holder.id


@dataclass
class Built:
    month: Period
    d1: date
    d2: date
    names: dict[str, str]


async def build(client: httpx.AsyncClient, tenant: Tenant) -> Built:
    """The month M of the module's docstring, and for the report's chapter: the people each
    organisation registered (A 2, B 1, C 1, E 1), three proposals and a problem, approved
    minutes of session 1, two objectives adopted (one from a proposal) and one not, a patto
    with E, and commitments with entries given under them."""
    first_of_month = italian.today().replace(day=1)
    month_start = (first_of_month - timedelta(days=1)).replace(day=1)
    month_end = first_of_month - timedelta(days=1)
    d1, d2 = month_start + timedelta(days=2), month_start + timedelta(days=9)
    a, b = tenant.holder_id, tenant.other_holder_id
    c, d = await _holder(tenant, "Caritas"), await _holder(tenant, "Croce Bianca")
    e = await _holder(tenant, "Vicini di via Roma", "informal")
    names = {str(a): "A", str(b): "B", str(c): "C", str(d): "D", str(e): "E"}
    moment = datetime.now(UTC)
    procedure = Procedure(
        ambito=tenant.ambito_id,
        kind="coprogramming",
        title="Piano di Zona",
        piano_period="2025-2027",
        status="running",
        created_at=moment,
        updated_at=moment,
    )
    await procedure.save()
    applications = {}
    for holder, people in ((a, 2), (b, 1), (c, 1), (d, 0), (e, 1)):
        application = Application(
            ambito=tenant.ambito_id, procedure=procedure.id, holder=holder, applied_at=moment
        )
        await application.save()
        applications[holder] = application.id
        for n in range(people):
            await Participant(
                ambito=tenant.ambito_id,
                application=application.id,
                name=f"Persona {n}",
                role="delegate",
            ).save()
    layout = {
        (1, d1): {"T1": [a, b, c], "T2": [d]},
        (2, d2): {"T3": [a, b], None: [e]},
    }
    proposals_at = {"T1": 2, "T3": 1}
    first_proposal = None
    for (number, day), tables in layout.items():
        session = ProcedureSession(
            ambito=tenant.ambito_id,
            procedure=procedure.id,
            number=number,
            kind="thematic",
            title=f"Sessione {number}",
            # Just after midnight in Rome is still the day before in UTC: the day is Rome's.
            starts_at=datetime.combine(day, time(0, 30), ROME),
            created_at=moment,
        )
        await session.save()
        if number == 1:
            await Minutes(
                ambito=tenant.ambito_id,
                session=session.id,
                version=1,
                status="approved",
                content="Verbale",
                created_at=moment,
                updated_at=moment,
            ).save()
        for theme, holders in tables.items():
            table = None
            if theme is not None:
                table = WorkingTable(
                    ambito=tenant.ambito_id, session=session.id, theme=theme, created_at=moment
                )
                await table.save()
                for question, count in (
                    ("proposals", proposals_at.get(theme, 0)),
                    ("problems", 1 if theme == "T1" else 0),
                ):
                    for n in range(count):
                        contribution = TableContribution(
                            ambito=tenant.ambito_id,
                            working_table=table.id,
                            question=question,
                            text=f"{question} {n}",
                            created_at=moment,
                            updated_at=moment,
                        )
                        await contribution.save()
                        if question == "proposals" and first_proposal is None:
                            first_proposal = contribution.id
            for holder in holders:
                await Attendance(
                    ambito=tenant.ambito_id,
                    session=session.id,
                    application=applications[holder],
                    working_table=table.id if table else None,
                    people=2,
                    recorded_at=moment,
                ).save()
    for code, adopted_on in (("O1", d2), ("O2", d2), ("O3", None)):
        objective = Objective(
            ambito=tenant.ambito_id,
            procedure=procedure.id,
            code=code,
            title=f"Obiettivo {code}",
            adopted_on=adopted_on,
            created_at=moment,
            updated_at=moment,
        )
        await objective.save()
        if code == "O1":
            await ObjectiveLink(
                ambito=tenant.ambito_id, objective=objective.id, proposal=first_proposal
            ).save()
    response = await client.post(
        "/api/interactions",
        json={
            "kind": "co_programming_table",
            "title": "Tavolo anziani",
            "occurred_on": (d1 + timedelta(days=5)).isoformat(),
            "holder_ids": [str(a), str(c)],
        },
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    assert response.status_code == 201, response.text
    udp = Principal(tenant.users[Role.UDP_ADMIN], "udp", Role.UDP_ADMIN, tenant.ambito_id)
    project = await projects.create_project(
        udp,
        ProjectCreate(
            title="Custodi sociali",
            starts_on=d1,
            proposal_id=first_proposal,
            partners=[PartnerIn(holder_id=c), PartnerIn(holder_id=d)],
        ),
    )
    patto = await patti.create_patto(
        udp,
        PattoCreate(
            title="Giardino",
            public_party=PublicParty.AMBITO,
            parties=[e],
            starts_on=month_start,
            ends_on=month_start + timedelta(days=364),
        ),
    )
    # Committed: C 10 h, D 4 room-hours (project), E 5 h (patto). Given: C 10 h and E 2 h
    # confirmed, D 1 room-hour never confirmed.
    for parent, holder, unit, quantity, given, confirm in (
        (project.id, c, ContributionUnit.HOURS, 10, 10, True),
        (project.id, d, ContributionUnit.ROOM_HOURS, 4, 1, False),
        (patto.id, e, ContributionUnit.HOURS, 5, 2, True),
    ):
        data = CommitmentCreate(
            holder_id=holder, description="Impegno", unit=unit, quantity=quantity
        )
        if parent == project.id:
            commitment = await projects.add_project_commitment(udp, parent, data)
        else:
            commitment = await patti.add_patto_commitment(udp, parent, data)
        entry, _ = await commitments.record_contribution(
            udp,
            commitment.id,
            CommitmentContribution(quantity=given, occurred_on=d2),
            uuid.uuid4().hex,
        )
        if confirm:
            await confirmations.confirm(udp, entry.id, ConfirmationIn())
    return Built(Period(month_start.strftime("%Y-%m"), month_start, month_end), d1, d2, names)


async def test_attendance_and_partners_are_ties(
    client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "5")  # 5 holders: published
    built = await build(client, tenant)
    d1, d2, names = built.d1, built.d2, built.names
    nodes, _participations, ties = await load_network(tenant.ambito_id, built.month.end, Scope())
    found = sorted((t.kind, *sorted((names[t.a], names[t.b])), t.on) for t in ties)
    assert found == sorted(
        [
            ("interaction", "A", "C", d1 + timedelta(days=5)),  # by hand
            ("interaction", "A", "B", d1),
            ("interaction", "B", "C", d1),
            ("interaction", "A", "E", d2),
            ("interaction", "B", "E", d2),
            ("joint_activity", "C", "D", d1),
        ]
    )
    table, _, _ = network.network_table(nodes, ties, [built.month])
    row = table.rows[0].data
    assert (row["nodes"], row["edges"]) == (5, 6)
    assert (row["edges_interaction"], row["edges_joint_activity"]) == (5, 1)
    # The dashboard's network figures (live) carry them: 5 holders, 6 ties in M.
    response = await client.get(
        "/api/metrics/network",
        params={
            "from": built.month.start.isoformat(),
            "to": built.month.end.isoformat(),
            "granularity": "month",
            "live": "true",
        },
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    assert response.status_code == 200, response.text
    published = response.json()["periods"]["rows"][-1]
    assert (published["nodes"], published["edges"]) == (5, 6)
    # Before the sessions nothing of this was a tie.
    _, _, before = await load_network(tenant.ambito_id, d1 - timedelta(days=1), Scope())
    assert before == []


async def test_report_chapter(client: httpx.AsyncClient, tenant: Tenant) -> None:
    built = await build(client, tenant)
    data = await chapter(tenant.ambito_id, built.month.start, built.month.end)
    assert (data.sessions, data.sessions_with_approved_minutes) == (2, 1)
    assert [(s.sector, s.organisations, s.people) for s in data.by_sector] == [
        ("informal", 1, 1),
        ("third_sector", 4, 4),
    ]
    assert (data.proposals, data.objectives_adopted, data.objectives_from_proposals) == (3, 2, 1)
    assert (data.projects, data.patti) == (1, 1)
    assert data.procedures == [
        ProcedureLine("Piano di Zona", "coprogramming", "2025-2027", 2, 5, 3, 2)
    ]
    assert data.commitments == [
        CommitmentLine("hours", 2, 15.0, 12.0, 1),
        CommitmentLine("room_hours", 1, 4.0, 0.0, 0),
    ]
    # Fewer than 5 people in a sector: withheld, and the total with them.
    html = chapter_html(data, 5)
    assert "<td>Informale</td><td class='num'>1</td><td class='num'>n.d.</td>" in html
    assert "<td>Totale</td><td class='num'>5</td><td class='num'>n.d.</td>" in html
    assert "Persona" not in html  # people are counted, never named
    response = await client.get(
        "/api/metrics/report.html",
        params={"from": built.month.start.isoformat(), "to": built.month.end.isoformat()},
        headers=tenant.headers(Role.UDP_ADMIN),
    )
    assert response.status_code == 200, response.text
    assert "Co-programmazione</h2>" in response.text
    assert "Obiettivi legati a proposte" in response.text
