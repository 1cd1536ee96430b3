"""Every endpoint of co-design projects, patti and commitments × every role × own / other
ambito (the style of tests/test_authorization_matrix.py), and anonymous callers.

"own" runs the request against records of the caller's ambito, where the holder manager's
holder is a partner of the project and a party to the patto; "other" against the same
records of another ambito, which must never be visible (404) nor usable.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from registry import italian
from registry.access import Principal, Role
from registry.errors import PermissionDenied
from registry.holders.tables import Holder
from registry.partnerships import commitments, patti, patto_reports, projects
from registry.partnerships.schemas import (
    CommitmentCreate,
    MilestoneCreate,
    PartnerIn,
    PattoCreate,
    PattoReportCreate,
    ProjectCreate,
    PublicParty,
)
from registry.vocabularies import ContributionUnit
from tests.conftest import Tenant, make_tenant

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
MANAGERS_READ = {U: 200, S: 403, H: 200, V: 403}
UDP_WRITES = {U: 201, S: 403, H: 403, V: 403}
UDP_CHANGES = {U: 200, S: 403, H: 403, V: 403}


def everyone(status: int) -> dict[Role, int]:
    return dict.fromkeys(Role, status)


@dataclass
class Seeded:
    tenant: Tenant
    third_holder: uuid.UUID
    project: uuid.UUID
    milestone: uuid.UUID
    commitment: uuid.UUID  # the managed holder's, under the project
    patto: uuid.UUID


async def seed(tenant: Tenant) -> Seeded:
    """A project (partners: the managed holder and the other one) with a commitment of the
    managed holder and a milestone; a patto (party: the managed holder) with a report."""
    udp = Principal(tenant.users[U], "udp", U, tenant.ambito_id)
    start = italian.today() - timedelta(days=100)
    third = Holder(
        ambito=tenant.ambito_id,
        kind="informal_network",
        sector="informal",
        name="Gruppo di vicinato",
        comuni=tenant.comuni,
        areas=[],
        contacts="[]",
    )
    await third.save()
    project = await projects.create_project(
        udp,
        ProjectCreate(
            title="Doposcuola",
            starts_on=start,
            partners=[
                PartnerIn(holder_id=tenant.holder_id),
                PartnerIn(holder_id=tenant.other_holder_id),
            ],
        ),
    )
    commitment = await projects.add_project_commitment(
        udp,
        project.id,
        CommitmentCreate(
            holder_id=tenant.holder_id,
            description="Ore di tutoraggio",
            unit=ContributionUnit.HOURS,
            quantity=20,
        ),
    )
    milestone = await projects.add_milestone(
        udp, project.id, MilestoneCreate(title="Avvio", due_on=start + timedelta(days=10))
    )
    patto = await patti.create_patto(
        udp,
        PattoCreate(
            title="Aiuole",
            public_party=PublicParty.AMBITO,
            parties=[tenant.holder_id],
            starts_on=start,
            ends_on=start + timedelta(days=364),
        ),
    )
    await patto_reports.add_report(
        udp,
        patto.id,
        PattoReportCreate(period_start=start, period_end=start + timedelta(days=30), text="ok"),
    )
    return Seeded(tenant, third.id, project.id, milestone.id, commitment.id, patto.id)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    own: dict[Role, int]
    other: dict[Role, int] | None  # None: the path names no record of an ambito
    body: Callable[[Seeded], Any] | None = None
    idempotent: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _today() -> str:
    return italian.today().isoformat()


CASES = [
    Case("GET", "/api/codesigns", MANAGERS_READ, None),
    Case(
        "POST",
        "/api/codesigns",
        UDP_WRITES,
        # another ambito's holder is unknown here: a bad reference
        {U: 400, S: 403, H: 403, V: 403},
        lambda s: {
            "title": "Orti sociali",
            "starts_on": _today(),
            "partners": [{"holder_id": str(s.tenant.holder_id)}],
        },
    ),
    Case("GET", "/api/codesigns/{project}", MANAGERS_READ, everyone(404)),
    Case("PATCH", "/api/codesigns/{project}", UDP_CHANGES, everyone(404), lambda s: {"title": "X"}),
    Case(
        "POST",
        "/api/codesigns/{project}/partners",
        UDP_WRITES,
        everyone(404),
        lambda s: {"holder_id": str(s.third_holder)},
    ),
    Case(
        "POST",
        "/api/codesigns/{project}/commitments",
        UDP_WRITES,
        everyone(404),
        lambda s: {"holder_id": str(s.tenant.other_holder_id), "description": "Aula"},
    ),
    Case(
        "POST",
        "/api/codesigns/{project}/milestones",
        UDP_WRITES,
        everyone(404),
        lambda s: {"title": "Verifica", "due_on": _today()},
    ),
    Case(
        "PATCH",
        "/api/codesigns/{project}/milestones/{milestone}",
        UDP_CHANGES,
        everyone(404),
        lambda s: {"done_on": _today()},
    ),
    Case("GET", "/api/codesigns/{project}/monitoring", MANAGERS_READ, everyone(404)),
    Case("GET", "/api/patti", MANAGERS_READ, None),
    Case(
        "POST",
        "/api/patti",
        UDP_WRITES,
        {U: 400, S: 403, H: 403, V: 403},
        lambda s: {
            "title": "Biblioteca di quartiere",
            "public_party": "ambito",
            "parties": [str(s.tenant.holder_id)],
            "starts_on": _today(),
            "ends_on": (italian.today() + timedelta(days=365)).isoformat(),
        },
    ),
    Case("GET", "/api/patti/{patto}", MANAGERS_READ, everyone(404)),
    Case("PATCH", "/api/patti/{patto}", UDP_CHANGES, everyone(404), lambda s: {"object": "Y"}),
    Case(
        "POST",
        "/api/patti/{patto}/parties",
        UDP_WRITES,
        everyone(404),
        lambda s: {"holder_id": str(s.third_holder)},
    ),
    Case(
        "POST",
        "/api/patti/{patto}/commitments",
        UDP_WRITES,
        everyone(404),
        lambda s: {"description": "Assicurazione dei volontari"},
    ),
    Case(
        "POST",
        "/api/patti/{patto}/renewal",
        UDP_WRITES,
        everyone(404),
        lambda s: {"ends_on": (italian.today() + timedelta(days=700)).isoformat()},
    ),
    Case("GET", "/api/patti/{patto}/monitoring", MANAGERS_READ, everyone(404)),
    Case("GET", "/api/patti/{patto}/reports", MANAGERS_READ, everyone(404)),
    Case(
        "POST",
        "/api/patti/{patto}/reports",
        UDP_WRITES,
        everyone(404),
        lambda s: {
            "period_start": (italian.today() - timedelta(days=60)).isoformat(),
            "period_end": (italian.today() - timedelta(days=1)).isoformat(),
        },
    ),
    Case("GET", "/api/commitments", MANAGERS_READ, None),
    Case(
        "POST",
        "/api/commitments/{commitment}/contributions",
        {U: 201, S: 403, H: 201, V: 403},
        everyone(404),
        lambda s: {"quantity": 1.5, "occurred_on": _today()},
        idempotent=True,
    ),
]


def fill(path: str, s: Seeded) -> str:
    return path.format(
        project=s.project, milestone=s.milestone, commitment=s.commitment, patto=s.patto
    )


async def call(
    client: httpx.AsyncClient, case: Case, s: Seeded, headers: dict[str, str]
) -> httpx.Response:
    args: dict[str, Any] = {"headers": dict(headers)}
    if case.idempotent:
        args["headers"]["Idempotency-Key"] = uuid.uuid4().hex
    if case.body is not None:
        args["json"] = case.body(s)
    return await client.request(case.method, fill(case.path, s), **args)


@pytest.fixture(scope="module")
async def foreign(app: object) -> Seeded:
    return await seed(await make_tenant())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_roles_own_and_other_ambito(
    client: httpx.AsyncClient, foreign: Seeded, case: Case
) -> None:
    for role in Role:
        # A fresh ambito per role: a write by one role does not change what the next meets.
        own = await seed(await make_tenant())
        response = await call(client, case, own, own.tenant.headers(role))
        assert response.status_code == case.own[role], (role, response.text)
        if case.other is not None:
            response = await call(client, case, foreign, own.tenant.headers(role))
            assert response.status_code == case.other[role], (role, response.text)
            if response.status_code in (403, 404):
                assert str(foreign.tenant.holder_id) not in response.text
    response = await call(client, case, foreign, {})
    assert response.status_code == 401, response.text


async def test_holder_manager_not_a_party_sees_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """The holder manager of a holder outside the patto and the project: 403 on them, empty
    lists; a partner's manager does not see the other partners' commitments."""
    s = await seed(tenant)
    udp = Principal(tenant.users[U], "udp", U, tenant.ambito_id)
    outsider = Principal(uuid.uuid4(), "x", H, tenant.ambito_id, holder_id=s.third_holder)
    for read in (
        patti.get_patto(outsider, s.patto),
        patto_reports.list_reports(outsider, s.patto),
        projects.get_project(outsider, s.project),
        projects.project_monitoring(outsider, s.project),
    ):
        with pytest.raises(PermissionDenied):
            await read
    assert await patti.list_patti(outsider) == []
    assert await projects.list_projects(outsider) == []
    assert await commitments.list_commitments(outsider) == []
    # A manager's account not yet tied to an organisation takes part in nothing.
    unattached = Principal(uuid.uuid4(), "z", H, tenant.ambito_id)
    assert await patti.list_patti(unattached) == []
    assert await projects.list_projects(unattached) == []
    assert await commitments.list_commitments(unattached) == []
    with pytest.raises(PermissionDenied):
        await patti.get_patto(unattached, s.patto)
    other_partner = Principal(
        uuid.uuid4(), "y", H, tenant.ambito_id, holder_id=tenant.other_holder_id
    )
    seen = await projects.get_project(other_partner, s.project)
    assert seen.commitments == []  # the only commitment is the managed holder's
    assert len((await projects.get_project(udp, s.project)).commitments) == 1
