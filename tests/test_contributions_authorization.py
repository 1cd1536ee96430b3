"""Every endpoint of the ledger, activities, check-in and funded interventions × every role
× own / other ambito, and the outcome each must have (the style of
tests/test_authorization_matrix.py).

"own" runs the request against records of the caller's ambito; "other" against the same
kind of record in another ambito, which must never be visible (404) nor usable.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from registry import italian
from registry.access import Principal, Role
from registry.checkin import codes as checkin
from registry.checkin.schemas import CodeRequest
from registry.checkin.tokens import AUDIENCE
from registry.contributions.tables import ActivityOrganiser, CommunityActivity, Contribution
from registry.interventions.tables import FundedIntervention
from registry.security import issue
from tests.conftest import SETTINGS, Tenant, make_tenant

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
ALL_OK = {U: 200, S: 200, H: 200, V: 200}
PLAN_SIDE_READS = {U: 200, S: 200, H: 403, V: 403}
UDP_ONLY = {U: 200, S: 403, H: 403, V: 403}


def everyone(status: int) -> dict[Role, int]:
    return dict.fromkeys(Role, status)


@dataclass
class Seeded:
    tenant: Tenant
    entry_id: uuid.UUID
    activity_id: uuid.UUID
    intervention_id: uuid.UUID
    token: str
    code_id: uuid.UUID  # a stored QR code for the activity, issued by the UdP


async def seed(tenant: Tenant) -> Seeded:
    """One of each record: an entry of the managed holder by its volunteer (recorded by the
    UdP), an activity it organises, a funded intervention, a QR token for the activity (and a
    stored code for it)."""
    today = italian.today()
    moment = datetime.now(UTC)
    entry = Contribution(
        ambito=tenant.ambito_id,
        holder=tenant.holder_id,
        volunteer=tenant.users[V],
        unit="hours",
        quantity=90,
        occurred_on=today,
        created_by=tenant.users[U],
        created_by_role="udp_admin",
        created_at=moment,
    )
    await entry.save()
    activity = CommunityActivity(
        ambito=tenant.ambito_id,
        title="Festa",
        starts_on=today,
        created_by=tenant.users[U],
        created_at=moment,
        updated_at=moment,
    )
    await activity.save()
    await ActivityOrganiser(activity=activity.id, holder=tenant.holder_id).save()
    intervention = FundedIntervention(
        ambito=tenant.ambito_id,
        title="SAD",
        fund_source="national",
        user_area="anziani",
        fnps_level="home_care",
        comuni=[],
        plan_ids=[],
        period_start=today,
        period_end=today,
        created_at=moment,
        updated_at=moment,
    )
    await intervention.save()
    token = issue(
        SETTINGS.secret_key,
        AUDIENCE,
        f"activity:{activity.id}",
        {
            "amb": str(tenant.ambito_id),
            "hld": str(tenant.holder_id),
            "nbf": int(moment.timestamp()),
        },
        ttl=timedelta(hours=4),
        now=moment,
    )
    udp = Principal(user_id=tenant.users[U], username="udp", role=U, ambito_id=tenant.ambito_id)
    code = await checkin.issue_code(udp, SETTINGS, CodeRequest(activity_id=activity.id))
    return Seeded(tenant, entry.id, activity.id, intervention.id, token, code.id)


def csv_file(_: Seeded) -> bytes:
    return (
        "code;title;fund_source;user_area;fnps_level;period_start;period_end\n"
        f"M-{uuid.uuid4().hex[:6]};Pasti a domicilio;regional;anziani;home_care;"
        "2026-01-01;2026-12-31\n"
    ).encode()


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    own: dict[Role, int]
    other: dict[Role, int] | None  # None: the path names no record of an ambito
    body: Callable[[Seeded], Any] | None = None
    content: Callable[[Seeded], bytes] | None = None
    idempotent: bool = False  # sends an Idempotency-Key
    public: bool = False  # the token is the capability: no login needed

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


CASES = [
    # --- the ledger
    Case("GET", "/api/contributions", ALL_OK, None),
    Case(
        "POST",
        "/api/contributions",
        # a social worker records only for its plans
        {U: 201, S: 403, H: 201, V: 201},
        # another ambito's holder is unknown here: a bad reference
        everyone(400),
        lambda s: {
            "holder_id": str(s.tenant.holder_id),
            "unit": "hours",
            "quantity": 1,
            "occurred_on": italian.today().isoformat(),
        },
        idempotent=True,
    ),
    Case("GET", "/api/contributions/summary", ALL_OK, None),
    Case("GET", "/api/contributions/{entry}", {U: 200, S: 404, H: 200, V: 200}, everyone(404)),
    Case(
        "GET",
        "/api/contributions/{entry}/history",
        {U: 200, S: 404, H: 200, V: 200},
        everyone(404),
    ),
    Case(
        "POST",
        "/api/contributions/{entry}/corrections",
        # the volunteer did not record this entry (the UdP did): not its to correct
        {U: 201, S: 404, H: 201, V: 403},
        everyone(404),
        lambda s: {"quantity": 2, "reason": "orario sbagliato"},
    ),
    Case(
        "POST",
        "/api/contributions/{entry}/cancellation",
        {U: 201, S: 404, H: 201, V: 403},
        everyone(404),
        lambda s: {"reason": "doppia"},
    ),
    Case(
        "POST",
        "/api/contributions/{entry}/confirm",
        {U: 200, S: 404, H: 200, V: 403},
        everyone(404),
    ),
    # --- community activities
    Case("GET", "/api/activities", ALL_OK, None),
    Case(
        "POST",
        "/api/activities",
        {U: 201, S: 403, H: 201, V: 403},
        {U: 400, S: 403, H: 400, V: 403},
        lambda s: {
            "title": "Mercatino",
            "starts_on": italian.today().isoformat(),
            "holder_ids": [str(s.tenant.holder_id)],
        },
    ),
    Case("GET", "/api/activities/{activity}", ALL_OK, everyone(404)),
    Case(
        "PATCH",
        "/api/activities/{activity}",
        {U: 200, S: 403, H: 200, V: 403},
        everyone(404),
        lambda s: {"description": "aggiornata"},
    ),
    # --- QR check-in
    Case(
        "POST",
        "/api/checkin/codes",
        {U: 201, S: 403, H: 201, V: 403},
        everyone(400),
        lambda s: {"activity_id": str(s.activity_id)},
    ),
    # a social worker sees only the codes of its plans' matches: not an activity's
    Case("GET", "/api/checkin/codes", {U: 200, S: 200, H: 200, V: 403}, None),
    Case("GET", "/api/checkin/codes/{code}", {U: 200, S: 404, H: 200, V: 403}, everyone(404)),
    Case(
        "POST",
        "/api/checkin/codes/{code}/revoke",
        {U: 200, S: 404, H: 200, V: 403},
        everyone(404),
    ),
    Case("GET", "/api/checkin/status?t={token}", ALL_OK, everyone(403)),
    Case("GET", "/api/checkin/open", ALL_OK, None),
    Case(
        "POST",
        "/api/checkin/in",
        {U: 403, S: 403, H: 201, V: 201},
        everyone(403),
        lambda s: {"token": s.token},
    ),
    Case(
        "POST",
        "/api/checkin/out",
        everyone(409),  # nobody checked in yet
        everyone(403),
        lambda s: {"token": s.token},
    ),
    Case("GET", "/api/checkin/qr.png?t={token}", ALL_OK, ALL_OK, public=True),
    Case("GET", "/api/checkin/qr.svg?t={token}", ALL_OK, ALL_OK, public=True),
    Case("GET", "/api/checkin/sheet?t={token}", ALL_OK, ALL_OK, public=True),
    # --- funded interventions
    Case("GET", "/api/interventions", PLAN_SIDE_READS, None),
    Case(
        "POST",
        "/api/interventions",
        {U: 201, S: 403, H: 403, V: 403},
        None,
        lambda s: {
            "title": "Centro diurno",
            "fund_source": "regional",
            "user_area": "disabili",
            "fnps_level": "residential",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "comuni": s.tenant.comuni,
        },
    ),
    Case("GET", "/api/interventions/{intervention}", PLAN_SIDE_READS, everyone(404)),
    Case(
        "PATCH",
        "/api/interventions/{intervention}",
        UDP_ONLY,
        everyone(404),
        lambda s: {"beneficiaries": 12},
    ),
    Case(
        "DELETE",
        "/api/interventions/{intervention}",
        {U: 204, S: 403, H: 403, V: 403},
        everyone(404),
    ),
    Case("POST", "/api/interventions/import", UDP_ONLY, None, content=csv_file),
    Case("GET", "/api/interventions/export", PLAN_SIDE_READS, None),
    Case("GET", "/api/interventions/template?format=csv", PLAN_SIDE_READS, None),
]


def fill(path: str, seeded: Seeded) -> str:
    return path.format(
        entry=seeded.entry_id,
        activity=seeded.activity_id,
        intervention=seeded.intervention_id,
        token=seeded.token,
        code=seeded.code_id,
    )


def request_args(case: Case, seeded: Seeded, headers: dict[str, str]) -> dict[str, Any]:
    args: dict[str, Any] = {"headers": dict(headers)}
    if case.idempotent:
        args["headers"]["Idempotency-Key"] = uuid.uuid4().hex
    if case.body is not None:
        args["json"] = case.body(seeded)
    if case.content is not None:
        args["content"] = case.content(seeded)
        args["headers"]["Content-Type"] = "text/csv"
    return args


@pytest.fixture(scope="module")
async def foreign(app: object) -> Seeded:
    return await seed(await make_tenant())


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_own_ambito(client, case: Case, role: Role) -> None:
    seeded = await seed(await make_tenant())
    response = await client.request(
        case.method,
        fill(case.path, seeded),
        **request_args(case, seeded, seeded.tenant.headers(role)),
    )
    assert response.status_code == case.own[role], response.text


OTHER_CASES = [case for case in CASES if case.other is not None]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("case", OTHER_CASES, ids=lambda c: c.id)
async def test_other_ambito(client, foreign: Seeded, case: Case, role: Role) -> None:
    tenant = await make_tenant()
    # The caller belongs to `tenant`; every record in the path (and body) is `foreign`'s.
    response = await client.request(
        case.method,
        fill(case.path, foreign),
        **request_args(case, foreign, tenant.headers(role)),
    )
    assert case.other is not None
    assert response.status_code == case.other[role], response.text
    if response.status_code in (403, 404):
        assert str(foreign.tenant.holder_id) not in response.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_anonymous(client, case: Case) -> None:
    seeded = await seed(await make_tenant())
    response = await client.request(
        case.method, fill(case.path, seeded), **request_args(case, seeded, {})
    )
    assert response.status_code == (200 if case.public else 401), response.text


async def test_lists_never_leak_another_ambito(client, foreign: Seeded) -> None:
    tenant = await make_tenant()
    for path in (
        "/api/contributions?include_superseded=true",
        "/api/activities",
        "/api/interventions",
        "/api/checkin/open",
        "/api/checkin/codes",
        "/api/interventions/export?format=csv",
    ):
        response = await client.get(path, headers=tenant.headers(U))
        assert response.status_code == 200
        for leaked in (
            foreign.entry_id,
            foreign.activity_id,
            foreign.intervention_id,
            foreign.code_id,
        ):
            assert str(leaked) not in response.text, f"{path} leaks {leaked}"
    summary = await client.get("/api/contributions/summary", headers=tenant.headers(U))
    assert summary.json()["totals"] == []
