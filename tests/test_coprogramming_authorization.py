"""Every co-programming endpoint × every role × own / other ambito, and the outcome each must
have (the style of tests/test_authorization_matrix.py); anonymous callers get 401 except on
the public page.

Reads run against one procedure per module; writes against a fresh one per role, so that
what one role did (an approval, a deletion) does not decide what the next one gets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from registry.access import Role
from tests.conftest import make_tenant
from tests.coprogramming_seed import Procedure, seed_procedure

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
ALL_OK = {U: 200, S: 200, H: 200, V: 200}
UDP_ONLY = {U: 200, S: 403, H: 403, V: 403}
UDP_CREATES = {U: 201, S: 403, H: 403, V: 403}
UDP_DELETES = {U: 204, S: 403, H: 403, V: 403}
PARTICIPANTS = {U: 200, S: 403, H: 200, V: 403}
DRAFT_HIDDEN = {U: 200, S: 404, H: 404, V: 404}
P = "/api/coprogramming"


def everyone(status: int) -> dict[Role, int]:
    return dict.fromkeys(Role, status)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    own: dict[Role, int]
    other: dict[Role, int] | None  # None: the path names no record of an ambito
    body: Callable[[Procedure], Any] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def session_body(_: Procedure) -> dict[str, Any]:
    starts = datetime.now(UTC) + timedelta(days=7)
    return {"number": 9, "kind": "thematic", "title": "Disabilità", "starts_at": starts.isoformat()}


CASES = [
    Case("GET", "/procedures", ALL_OK, None),
    Case("POST", "/procedures", UDP_CREATES, None, lambda p: {"title": "Nuovo avviso"}),
    Case("GET", "/procedures/{procedure}", ALL_OK, everyone(404)),
    Case("GET", "/procedures/{procedure}/overview", ALL_OK, everyone(404)),
    Case("PATCH", "/procedures/{procedure}", UDP_ONLY, everyone(404), lambda p: {"title": "X"}),
    Case("GET", "/procedures/{procedure}/applications", PARTICIPANTS, everyone(404)),
    Case(
        "POST",
        "/procedures/{procedure}/applications",
        # the holder manager already manages a holder: it cannot register another one
        UDP_CREATES,
        everyone(404),
        lambda p: {
            "new_holder": {"kind": "association", "sector": "third_sector", "name": "Nuova APS"},
            "participants": [{"name": "Anna Bianchi", "role": "volunteer"}],
        },
    ),
    Case("GET", "/applications/{application}", PARTICIPANTS, everyone(404)),
    # another organisation's application is not the holder manager's to see
    Case("GET", "/applications/{other_application}", {U: 200, S: 403, H: 404, V: 403}, None),
    Case(
        "PATCH", "/applications/{application}", PARTICIPANTS, everyone(404), lambda p: {"note": "n"}
    ),
    Case("GET", "/procedures/{procedure}/sessions", ALL_OK, everyone(404)),
    Case("POST", "/procedures/{procedure}/sessions", UDP_CREATES, everyone(404), session_body),
    Case("GET", "/sessions/{session}", ALL_OK, everyone(404)),
    Case("PATCH", "/sessions/{session}", UDP_ONLY, everyone(404), lambda p: {"place": "Sala"}),
    Case(
        "POST", "/sessions/{session}/tables", UDP_CREATES, everyone(404), lambda p: {"theme": "T"}
    ),
    Case("PATCH", "/tables/{table}", UDP_ONLY, everyone(404), lambda p: {"theme": "T2"}),
    Case("GET", "/sessions/{session}/attendance", PARTICIPANTS, everyone(404)),
    Case(
        "PUT",
        "/sessions/{session}/attendance",
        UDP_ONLY,
        everyone(404),
        lambda p: {"application_id": str(p.other_application), "people": 3},
    ),
    Case("DELETE", "/attendance/{attendance}", UDP_DELETES, everyone(404)),
    Case("GET", "/tables/{table}/contributions", PARTICIPANTS, everyone(404)),
    Case(
        "POST",
        "/tables/{table}/contributions",
        {U: 201, S: 403, H: 201, V: 403},
        everyone(404),
        lambda p: {"question": "problems", "text": "Solitudine degli anziani"},
    ),
    Case(
        "PATCH", "/contributions/{proposal}", PARTICIPANTS, everyone(404), lambda p: {"text": "Y"}
    ),
    Case("DELETE", "/contributions/{proposal}", {U: 204, S: 403, H: 204, V: 403}, everyone(404)),
    Case("GET", "/procedures/{procedure}/contributions", PARTICIPANTS, everyone(404)),
    Case("GET", "/procedures/{procedure}/proposals", PARTICIPANTS, everyone(404)),
    Case("GET", "/sessions/{session}/minutes", ALL_OK, everyone(404)),
    Case("POST", "/sessions/{session}/minutes/draft", UDP_CREATES, everyone(404)),
    Case("PUT", "/sessions/{session}/minutes", UDP_ONLY, everyone(404), lambda p: {"content": "V"}),
    Case("GET", "/minutes/{approved_minutes}", ALL_OK, everyone(404)),
    Case("GET", "/minutes/{draft_minutes}", DRAFT_HIDDEN, everyone(404)),
    Case("POST", "/minutes/{draft_minutes}/approve", DRAFT_HIDDEN, everyone(404)),
    Case("GET", "/minutes/{approved_minutes}/document", ALL_OK, everyone(404)),
    Case("GET", "/procedures/{procedure}/summary", ALL_OK, everyone(404)),
    Case("POST", "/procedures/{procedure}/summary/draft", UDP_CREATES, everyone(404)),
    Case(
        "PUT",
        "/procedures/{procedure}/summary",
        UDP_ONLY,
        everyone(404),
        lambda p: {"content": "S"},
    ),
    Case("GET", "/summary/{approved_summary}", ALL_OK, everyone(404)),
    Case("GET", "/summary/{draft_summary}", DRAFT_HIDDEN, everyone(404)),
    Case("POST", "/summary/{draft_summary}/approve", DRAFT_HIDDEN, everyone(404)),
    Case("GET", "/summary/{approved_summary}/document", ALL_OK, everyone(404)),
    Case("GET", "/procedures/{procedure}/objectives", ALL_OK, everyone(404)),
    Case(
        "POST",
        "/procedures/{procedure}/objectives",
        UDP_CREATES,
        everyone(404),
        lambda p: {"title": "Nuovo obiettivo", "proposal_ids": [str(p.proposal)]},
    ),
    Case("PATCH", "/objectives/{objective}", UDP_ONLY, everyone(404), lambda p: {"code": "OB2"}),
    Case("DELETE", "/objectives/{objective}", UDP_DELETES, everyone(404)),
]


def fill(path: str, p: Procedure) -> str:
    return P + path.format(**{k: v for k, v in vars(p).items() if k != "tenant"})


@pytest.fixture(scope="module")
async def shared(app: object) -> Procedure:
    return await seed_procedure(await make_tenant())


@pytest.fixture(scope="module")
async def foreign(app: object) -> Procedure:
    return await seed_procedure(await make_tenant())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_own_ambito(client, shared: Procedure, case: Case) -> None:
    got: dict[Role, int] = {}
    p = shared if case.method == "GET" else await seed_procedure(await make_tenant())
    # Refusals change nothing (nothing half-written), so a write needs a fresh procedure
    # only after a role whose write went through.
    dirty = False
    for role in (S, V, H, U):
        if dirty:
            p = await seed_procedure(await make_tenant())
        response = await client.request(
            case.method,
            fill(case.path, p),
            headers=p.tenant.headers(role),
            json=case.body(p) if case.body else None,
        )
        got[role] = response.status_code
        dirty = case.method != "GET" and response.status_code < 300
        if response.status_code == case.own[role] == 200 and case.path.endswith("/document"):
            assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert got == case.own


@pytest.mark.parametrize("case", [c for c in CASES if c.other is not None], ids=lambda c: c.id)
async def test_other_ambito(client, shared: Procedure, foreign: Procedure, case: Case) -> None:
    # The caller belongs to `shared`'s ambito; every record in the path (and body) is foreign.
    got = {}
    for role in Role:
        response = await client.request(
            case.method,
            fill(case.path, foreign),
            headers=shared.tenant.headers(role),
            json=case.body(foreign) if case.body else None,
        )
        got[role] = response.status_code
    assert got == case.other


async def test_anonymous(client, shared: Procedure) -> None:
    refused = {}
    for case in CASES:
        response = await client.request(
            case.method, fill(case.path, shared), json=case.body(shared) if case.body else None
        )
        refused[case.id] = response.status_code
    assert set(refused.values()) == {401}, refused
    # The public page needs no login, whoever asks.
    for headers in ({}, shared.tenant.headers(V)):
        page = await client.get(
            f"/api/public/coprogramming/procedures/{shared.procedure}", headers=headers
        )
        assert page.status_code == 200, page.text
        listing = await client.get(
            f"/api/public/coprogramming/ambiti/{shared.tenant.code}/procedures", headers=headers
        )
        assert [item["id"] for item in listing.json()] == [str(shared.procedure)]
    # Approved versions download without login; drafts do not exist for the public.
    public = "/api/public/coprogramming"
    for path, status in (
        (f"minutes/{shared.approved_minutes}", 200),
        (f"summary/{shared.approved_summary}", 200),
        (f"minutes/{shared.draft_minutes}", 404),
        (f"summary/{shared.draft_summary}", 404),
    ):
        document = await client.get(f"{public}/{path}/document")
        assert document.status_code == status, path
        if status == 200:
            assert "approvata il" in document.text and "Maria Rossi" not in document.text


def test_every_coprogramming_route_has_its_rows(app: Any) -> None:
    """A new co-programming endpoint fails here until it gets its row in CASES."""
    served = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith(P + "/"):
            for handler in route.route_handlers:
                for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                    served.add((method, re.sub(r"\{[^}]*\}", "{}", route.path[len(P) :])))
    covered = {(c.method, re.sub(r"\{[^}]*\}", "{}", c.path)) for c in CASES}
    assert served == covered
