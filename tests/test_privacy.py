"""The life of personal data (issue 19), end to end on the real database: erasure that keeps
the published figures, the own-data download, retention, plan erasure, consent withdrawal,
the DPO's records, and who may do each (role x own/other ambito).

The figures are those of tests/metrics_data.py (March 2025, a closed period whatever day
the suite runs); every other date is derived from the clock the test passes in.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from registry import scheduled_jobs
from registry.access import Role
from registry.audit.tables import AccessLog
from registry.checkin.tables import CheckIn, CheckInCode
from registry.contributions.tables import Contribution
from registry.coprogramming.tables import Application, Participant, Procedure
from registry.freshness.tables import ReconfirmLink
from registry.holders.tables import Holder
from registry.interop import ical
from registry.notifications.tables import Notification, NotificationSettings, OutboxMessage
from registry.outcomes.tables import PlanClosure, PlanGoal, PlanReview
from registry.plans.tables import Plan
from registry.privacy.tables import PrivacyRequest
from registry.resources.tables import Resource
from registry.users.tables import LoginFailure, User
from tests.conftest import SETTINGS, Tenant, make_tenant
from tests.metrics_data import build

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}
QUARTER = {"from": "2025-01-01", "to": "2025-03-31"}


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    # The scenario's cells are small: a threshold of 2 keeps most figures visible, so a
    # moved figure shows as a changed number and not only as a changed suppression.
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "2")


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    """The figures of a summary, without when and how they were computed."""
    body = dict(body)
    body.pop("source", None)
    body.pop("as_of", None)
    for table in body.get("tables", []):
        if table["name"] == "freshness":
            for row in table["rows"]:
                row.pop("as_of", None)
    return body


async def _published(client: httpx.AsyncClient, t: Tenant) -> dict[str, Any]:
    """Everything a UdP publishes about 2025: dashboard, network, CSV, XLSX, report."""
    h = t.headers(U)
    out: dict[str, Any] = {}
    for name, params in (("year", YEAR), ("quarter", QUARTER)):
        for live in ("false", "true"):
            r = await client.get("/api/metrics/summary", params={**params, "live": live}, headers=h)
            assert r.status_code == 200, r.text
            out[f"summary-{name}-{live}"] = _stable(r.json())
    r = await client.get(
        "/api/metrics/network", params={**YEAR, "granularity": "quarter"}, headers=h
    )
    out["network"] = r.json()["periods"]
    r = await client.get(
        "/api/metrics/timeseries", params={**YEAR, "granularity": "month"}, headers=h
    )
    out["series"] = r.json()["series"]
    r = await client.get("/api/metrics/coverage", params={**YEAR, "live": "true"}, headers=h)
    out["coverage"] = _stable(r.json())
    # The workbook below holds every table; one CSV checks the CSV path too.
    for table in ("by_holder_kind",):
        r = await client.get(f"/api/metrics/export/{table}.csv", params=YEAR, headers=h)
        out[f"csv-{table}"] = (r.status_code, r.content)
    r = await client.get("/api/metrics/export.xlsx", params={**YEAR, "live": "true"}, headers=h)
    assert r.status_code == 200
    out["xlsx"] = _cells(r.content)
    r = await client.get("/api/metrics/report.html", params={**YEAR, "live": "true"}, headers=h)
    assert r.status_code == 200
    out["report"] = _figures_of_report(r.text)
    return out


def _cells(content: bytes) -> list[list[Any]]:
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    # The sheet of the period states the time it was computed at: the clock, not a figure.
    return [
        [
            sheet.title,
            *[
                [_figures_of_report(c) if isinstance(c, str) else c for c in row]
                for row in sheet.iter_rows(values_only=True)
            ],
        ]
        for sheet in book.worksheets
    ]


def _figures_of_report(html: str) -> str:
    # The report states when it was made; the rest (every figure, chart and table) must match.
    import re

    return re.sub(r"\d{1,2}[:.]\d{2}(:\d{2})?", "HH:MM", html)


async def _contains(client: httpx.AsyncClient, t: Tenant, secrets: list[str]) -> list[str]:
    """Every endpoint, export and public page where a personal value could appear: the
    ones where one of `secrets` still appears."""
    h = t.headers(U)
    code = t.code
    urls = [
        ("GET", "/api/users", h),
        ("GET", "/api/holders?include_archived=true&limit=200", h),
        ("GET", "/api/interop/export/holders?format=csv&include_archived=true", h),
        ("GET", "/api/interop/export/resources?format=csv", h),
        ("GET", "/api/interop/export/users?format=csv", h),
        ("GET", "/api/interop/hsds/export", h),
        ("GET", "/api/contributions?limit=200&include_history=true", h),
        ("GET", "/api/contributions?limit=200", t.headers(H)),
        ("GET", "/api/notifications?limit=200", h),
        ("GET", "/api/notifications/outbox?limit=200", h),
        ("GET", "/api/privacy/requests", h),
        ("GET", "/api/privacy/events", h),
        ("GET", "/api/audit?limit=200", h),
        ("GET", "/api/privacy/access-log.csv", h),
        ("GET", "/api/users/login-failures", h),
        ("GET", f"/api/hsds/{code}/organizations", {}),
        ("GET", f"/api/hsds/{code}/services", {}),
        ("GET", f"/api/geo/{code}/resources.geojson", {}),
        ("GET", "/api/interop/geojson/resources", h),
        ("GET", "/api/resources?limit=200", h),
        ("GET", "/api/resources?limit=200", t.headers(S)),
    ]
    found = []
    for method, url, headers in urls:
        r = await client.request(method, url, headers=headers)
        assert r.status_code < 500, (url, r.text)
        text = r.content.decode("utf-8", "replace").casefold()
        found += [f"{url}: {s}" for s in secrets if s.casefold() in text]
    return found


async def test_erasure_keeps_published_figures_and_leaves_no_trace(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    t = tenant
    s = await build(t)
    v1 = s.volunteers[0]  # gives time through A, B and as the individual holder IV
    user = await User.select(User.username).where(User.id == v1).first()
    assert user is not None
    username = user["username"]
    name = f"Mario Rossini {t.code}"
    email = f"mario.rossini.{t.code.lower()}@example.org"
    phone = f"+39 333 {t.code[-6:]}"
    await Holder.update(
        {
            Holder.name: name,
            Holder.address: "Via Segreta 7",
            Holder.contacts: json.dumps(
                [{"kind": "email", "value": email}, {"kind": "phone", "value": phone}]
            ),
            Holder.consent_given_by: name,
            Holder.consent_given_at: datetime(2024, 1, 15, tzinfo=UTC),
            Holder.consent_text_version: "v1",
        }
    ).where(Holder.id == s.holders["IV"])
    own = Resource(
        ambito=t.ambito_id,
        holder=s.holders["IV"],
        title=f"Compagnia con {name}",
        description=f"Chiamare {phone}",
        category_code="accompagnamento",
        unit="hours",
        capacity=1,
        comuni=t.comuni,
        target_groups=["anziani"],
        languages=["it"],
        requirements=[],
    )
    await own.save()
    await Contribution.update({Contribution.note: f"con {name}"}).where(
        Contribution.volunteer == v1
    )
    moment = datetime.now(UTC)
    await NotificationSettings(
        ambito=t.ambito_id, user=v1, email=email, email_events=[], digest=False, updated_at=moment
    ).save()
    await Notification(
        ambito=t.ambito_id,
        user=v1,
        event_id=uuid.uuid4(),
        event_type="match.accepted",
        title="Abbinamento accettato",
        created_at=moment,
    ).save()
    # What another person received that names V1.
    await Notification(
        ambito=t.ambito_id,
        user=t.users[U],
        event_id=uuid.uuid4(),
        event_type="contribution.created",
        title=f"{username} ha registrato 2 ore",
        body=f"Voce di {name}",
        created_at=moment,
    ).save()
    await OutboxMessage(
        ambito=t.ambito_id,
        event_id=uuid.uuid4(),
        event_type="match.accepted",
        channel="email",
        recipient=email,
        subject="Abbinamento",
        body=f"Ciao {name}",
        status="delivered",
        next_attempt_at=moment,
        created_at=moment,
        updated_at=moment,
    ).save()
    await CheckIn(
        ambito=t.ambito_id,
        volunteer=v1,
        holder=t.holder_id,
        token_id="tok-1",
        day=date(2025, 3, 10),
        window_start=datetime(2025, 3, 10, 8, tzinfo=UTC),
        window_end=datetime(2025, 3, 10, 12, tzinfo=UTC),
        checked_in_at=datetime(2025, 3, 10, 9, tzinfo=UTC),
        checked_out_at=datetime(2025, 3, 10, 11, tzinfo=UTC),
    ).save()
    old_token = t.headers(V)  # stands in for V1's own token below
    await scheduled_jobs.run_job(
        "metrics_snapshot", SETTINGS, now=moment, trigger="test", ambito_ids=[t.ambito_id]
    )
    before = await _published(client, t)
    # The hand-computed figures of tests/metrics_data.py, so the comparison compares numbers.
    headline = before["summary-year-true"]["headline"]
    assert (headline["persons"], headline["holders"], headline["hours_verified"]) == (6, 5, 18.0)
    secrets = [username, name, email, phone, "Via Segreta"]
    assert await _contains(client, t, secrets), "the scenario must expose what is erased"

    response = await client.post(
        "/api/privacy/requests",
        json={"kind": "erasure", "subject_id": str(v1), "reference": "prot. 123/2026"},
        headers=t.headers(U),
    )
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["status"] == "executed" and request["channel"] == "paper"
    outcome = request["outcome"]
    # Five of V1's entries (3 via A/B with V1, plus none created by V1) stay as anonymous ones.
    assert outcome["ledger_entries_kept"] == 2
    assert (outcome["notifications"], outcome["notification_settings"]) == (1, 1)
    assert (outcome["messages"], outcome["holder"], outcome["account"]) == (1, 1, 1)
    # The UdP's notification names V1 twice: its username (title) and holder name (body).
    assert outcome["messages_renamed"] == 2

    after = await _published(client, t)
    assert after == before
    assert await _contains(client, t, secrets) == []
    resource = await Resource.select(Resource.status).where(Resource.id == own.id).first()
    assert resource == {"status": "paused"}  # out of the suggestions, figures unchanged
    # The ledger is still there, linked to the same (anonymous) account; the presence is gone.
    assert await Contribution.count().where(Contribution.volunteer == v1) == 2
    assert await CheckIn.count().where(CheckIn.volunteer == v1) == 0
    assert outcome["checkins"] == 1
    row = await User.select().where(User.id == v1).first()
    assert row is not None and row["username"].startswith("anonimo-") and not row["active"]
    # The account is closed: a login with the old name fails, a token of the account too.
    r = await client.post(
        "/api/auth/token", json={"username": username, "password": "correct-horse-battery"}
    )
    assert r.status_code == 401
    from tests.conftest import token_for

    r = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {token_for(v1, V, t.code)}"}
    )
    assert r.status_code == 401
    assert old_token  # other volunteers are untouched
    # The request record holds none of the erased data.
    stored = await PrivacyRequest.select().where(PrivacyRequest.id == request["id"]).first()
    assert stored is not None
    assert not [x for x in secrets if x.casefold() in json.dumps(stored, default=str).casefold()]
    # A second erasure of the same account is refused, naming the field.
    again = await client.post(
        "/api/privacy/requests",
        json={"kind": "erasure", "subject_id": str(v1)},
        headers=t.headers(U),
    )
    assert again.status_code == 400 and again.json()["field"] == "subject_id"
    staff = await client.post(
        "/api/privacy/requests",
        json={"kind": "erasure", "subject_id": str(t.users[S])},
        headers=t.headers(U),
    )
    assert staff.status_code == 400 and staff.json()["field"] == "subject_id"


async def _volunteer_with_data(t: Tenant, moment: datetime) -> uuid.UUID:
    volunteer = t.users[V]
    for minutes, day in ((120, date(2025, 3, 3)), (90, date(2025, 3, 4))):
        await Contribution(
            ambito=t.ambito_id,
            holder=t.holder_id,
            volunteer=volunteer,
            unit="hours",
            quantity=minutes,
            occurred_on=day,
            verification="qr_verified",
            created_by=volunteer,
            created_by_role="volunteer",
            created_at=moment,
        ).save()
    await CheckIn(
        ambito=t.ambito_id,
        volunteer=volunteer,
        holder=t.holder_id,
        token_id="tok-2",
        day=date(2025, 3, 3),
        window_start=datetime(2025, 3, 3, 8, tzinfo=UTC),
        window_end=datetime(2025, 3, 3, 12, tzinfo=UTC),
        checked_in_at=datetime(2025, 3, 3, 9, tzinfo=UTC),
        checked_out_at=datetime(2025, 3, 3, 11, tzinfo=UTC),
    ).save()
    await NotificationSettings(
        ambito=t.ambito_id,
        user=volunteer,
        email="v@example.org",
        email_events=[],
        digest=True,
        updated_at=moment,
    ).save()
    await Notification(
        ambito=t.ambito_id,
        user=volunteer,
        event_id=uuid.uuid4(),
        event_type="match.accepted",
        title="Un nuovo impegno",
        created_at=moment,
    ).save()
    return volunteer


async def test_volunteer_downloads_its_data_and_the_udp_answers_a_paper_request(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    t = tenant
    volunteer = await _volunteer_with_data(t, datetime.now(UTC))
    r = await client.get("/api/privacy/me/export", headers=t.headers(V))
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    data = r.json()
    assert data["profile"]["username"] == t.usernames[V]
    assert [(c["quantity"], c["occurred_on"]) for c in data["contributions"]] == [
        (120, "2025-03-03"),
        (90, "2025-03-04"),
    ]
    assert [c["day"] for c in data["checkins"]] == ["2025-03-03"]
    assert data["notification_settings"]["email"] == "v@example.org"
    assert [n["title"] for n in data["notifications"]] == ["Un nuovo impegno"]
    text = await client.get(
        "/api/privacy/me/export", params={"format": "text"}, headers=t.headers(V)
    )
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    body = text.text
    assert "Ruolo: Volontario/a" in body and "CONTRIBUTI REGISTRATI (2)" in body
    assert "03/03/2025  Associazione Alfa: 2:00 ore verificato con QR" in body
    assert "04/03/2025  Associazione Alfa: 1:30 ore verificato con QR" in body
    assert "PRESENZE CON QR (1)" in body and "entrata 10:00, uscita 12:00" in body
    assert "v@example.org (riepilogo giornaliero)" in body
    # Nobody else's data: the holder manager's own download has none of it.
    other = (await client.get("/api/privacy/me/export", headers=t.headers(H))).json()
    assert other["contributions"] == [] and other["profile"]["username"] == t.usernames[H]
    # Its association is named, not handed over: the card's contacts are other people's.
    assert other["holder"] == {
        "id": str(t.holder_id),
        "kind": "association",
        "name": "Associazione Alfa",
    }
    text = await client.get(
        "/api/privacy/me/export", params={"format": "text"}, headers=t.headers(H)
    )
    assert "ORGANIZZAZIONE PER CUI OPERA\n  Associazione Alfa" in text.text

    # The same, asked on paper at the UdP's desk.
    r = await client.post(
        "/api/privacy/requests",
        json={"kind": "access", "subject_id": str(volunteer), "channel": "paper"},
        headers=t.headers(U),
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    r = await client.get(f"/api/privacy/requests/{request_id}/export", headers=t.headers(U))
    assert r.status_code == 200
    paper = r.json()
    for key in ("profile", "contributions", "checkins", "notifications", "holder"):
        assert paper[key] == data[key], key
    assert [p["kind"] for p in paper["privacy_requests"]] == ["access"]
    events = (await client.get("/api/privacy/events", headers=t.headers(U))).json()["items"]
    # The volunteer and the holder manager twice each (JSON, text), the UdP once (paper).
    assert [e["action"] for e in events].count("access_export") == 5
    listed = (await client.get("/api/privacy/requests", headers=t.headers(U))).json()
    assert [(i["kind"], i["subject_id"]) for i in listed["items"]] == [("access", str(volunteer))]


async def test_volunteer_asks_for_erasure_and_the_udp_declines_then_carries_it_out(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Erasure asked in the app waits for the UdP: declined with a reason the volunteer is
    told, then asked again and carried out; nothing is erased while it waits."""
    t = tenant
    await _volunteer_with_data(t, datetime.now(UTC))
    v, u = t.headers(V), t.headers(U)

    async def told(user: uuid.UUID, kind: str) -> list[dict[str, Any]]:
        rows = await Notification.select().where(
            (Notification.user == user) & (Notification.event_type == kind)
        )
        return list(rows)

    r = await client.post("/api/privacy/me/erasure", headers=v)
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["kind"], first["status"], first["channel"]) == ("erasure", "pending", "app")
    assert first["subject_id"] == str(t.users[V]) and first["executed_at"] is None
    again = await client.post("/api/privacy/me/erasure", headers=v)
    assert again.status_code == 409 and "already waiting" in again.text
    # The UdP is told, without the volunteer's name; the request waits in its list.
    [notice] = await told(t.users[U], "privacy.request_received")
    assert t.usernames[V] not in notice["title"] + notice["body"]
    assert notice["read_at"] is None
    listed = (await client.get("/api/privacy/requests", headers=u)).json()["items"]
    assert [(i["id"], i["status"]) for i in listed] == [(first["id"], "pending")]
    # Nothing is erased while it waits: the volunteer still signs in and has its data.
    mine = await client.get("/api/privacy/me/export", headers=v)
    assert mine.status_code == 200 and len(mine.json()["contributions"]) == 2

    r = await client.post(
        f"/api/privacy/requests/{first['id']}/decline", json={"reason": "maybe"}, headers=u
    )
    assert r.status_code == 400 and "reason" in r.text
    r = await client.post(
        f"/api/privacy/requests/{first['id']}/decline",
        json={"reason": "identity_not_verified", "reference": "prot. 7/2026"},
        headers=u,
    )
    assert r.status_code == 200, r.text
    declined = r.json()
    assert (declined["status"], declined["outcome"]) == (
        "declined",
        {"declined": "identity_not_verified"},
    )
    [answer] = await told(t.users[V], "privacy.request_declined")
    assert "verificare l'identità" in answer["body"]
    [notice] = await told(t.users[U], "privacy.request_received")
    assert notice["read_at"] is not None  # resolved: marked read
    r = await client.post(f"/api/privacy/requests/{first['id']}/execute", headers=u)
    assert r.status_code == 409 and "declined" in r.text
    assert (await client.get("/api/privacy/me/export", headers=v)).status_code == 200
    mine = (await client.get("/api/privacy/me/requests", headers=v)).json()
    assert [(m["id"], m["status"]) for m in mine] == [(first["id"], "declined")]

    # Asked again, and carried out: the account is closed, the hours stay anonymous.
    second = (await client.post("/api/privacy/me/erasure", headers=v)).json()
    assert second["status"] == "pending"
    r = await client.post(f"/api/privacy/requests/{second['id']}/execute", headers=u)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "executed" and done["executed_at"] is not None
    # The UdP's notice of it is resolved too, like the declined one's.
    notices = await told(t.users[U], "privacy.request_received")
    assert len(notices) == 2 and all(n["read_at"] is not None for n in notices)
    assert done["outcome"]["account"] == 1 and done["outcome"]["ledger_entries_kept"] == 2
    assert (await client.get("/api/privacy/me/export", headers=v)).status_code == 401
    user = await User.select(User.username, User.active).where(User.id == t.users[V]).first()
    assert user is not None and not user["active"] and user["username"] != t.usernames[V]
    assert await Contribution.count().where(Contribution.volunteer == t.users[V]) == 2
    events = (await client.get("/api/privacy/events", headers=u)).json()["items"]
    assert {e["action"] for e in events} >= {"declined", "erasure"}
    r = await client.post(f"/api/privacy/requests/{second['id']}/execute", headers=u)
    assert r.status_code == 409


async def test_retention_job_removes_what_expired_and_keeps_the_figures(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    t = tenant
    s = await build(t)
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=800), now - timedelta(days=10)
    # Closed plans: PL-1 (the plan the scenario's hours serve) last changed 6 years ago and
    # without a closure record; PL-2 closed (closure record) 6 years ago but edited a week
    # ago; PL-3 closed a week ago, its row last changed 6 years ago. The closure's date is the
    # clock when there is one: PL-1 and PL-2 have passed the 5 years, PL-3 has not.
    pl3 = Plan(
        ambito=t.ambito_id,
        owner=t.users[S],
        shared_with=[],
        case_code="PL-3",
        comune=t.comuni[0],
        target_group="anziani",
        goals="[]",
        start_date=date(2019, 1, 1),
    )
    await pl3.save()
    plan_ids = [*s.plan_ids, pl3.id]
    await Plan.update(
        {Plan.status: "closed", Plan.notes: "Nota riservata", Plan.goals: ["Autonomia"]}
    ).where(Plan.id.is_in(plan_ids))
    six_years, week = now - timedelta(days=6 * 365), now - timedelta(days=7)
    for plan_id, updated, closed in (
        (s.plan_ids[0], six_years, None),
        (s.plan_ids[1], week, six_years),
        (pl3.id, six_years, week),
    ):
        await Plan.update({Plan.updated_at: updated}).where(Plan.id == plan_id)
        if closed is not None:
            await PlanClosure(
                ambito=t.ambito_id,
                plan=plan_id,
                closed_on=closed.date(),
                reason="goals_met",
                created_by=t.users[S],
                created_at=closed,
            ).save()
    before = _stable(
        (
            await client.get(
                "/api/metrics/summary", params={**YEAR, "live": "true"}, headers=t.headers(U)
            )
        ).json()
    )
    for at in (old, recent):
        await AccessLog(
            ambito=t.ambito_id,
            user=t.users[S],
            username="x",
            role="social_worker",
            at=at,
            action="plan.read",
            plan_id=s.plan_ids[0],
        ).save()
        await CheckIn(
            ambito=t.ambito_id,
            volunteer=t.users[V],
            holder=t.holder_id,
            token_id=f"t{at}",
            day=at.date(),
            window_start=at,
            window_end=at + timedelta(hours=3),
            checked_in_at=at,
            checked_out_at=at + timedelta(hours=2),
        ).save()
        for status in ("delivered", "pending"):
            await OutboxMessage(
                ambito=t.ambito_id,
                event_id=uuid.uuid4(),
                event_type="x",
                channel="email",
                recipient="a@example.org",
                body="b",
                status=status,
                next_attempt_at=at,
                created_at=at,
                updated_at=at,
            ).save()
        await Notification(
            ambito=t.ambito_id,
            user=t.users[V],
            event_id=uuid.uuid4(),
            event_type="x",
            title="t",
            created_at=at,
        ).save()
        await ReconfirmLink(
            ambito=t.ambito_id,
            resource=t.resource_id,
            jti=f"jti-{uuid.uuid4()}",
            reason="reminder",
            issued_at=at,
            expires_at=at + timedelta(days=7),
        ).save()
        await CheckInCode(
            ambito=t.ambito_id,
            holder=t.holder_id,
            title="QR",
            token=f"secret-{at}",
            valid_from=at,
            valid_until=at + timedelta(days=1),
            issued_by=t.users[U],
            issued_by_role="udp_admin",
            issued_at=at,
        ).save()
        await LoginFailure(
            at=at, username="x", ambito=t.ambito_id, address="10.0.0.1", reason="password"
        ).save()
    # The UdP keeps the access log 3 years instead of 2: the 800-day-old row stays.
    r = await client.put(
        "/api/privacy/retention/access_log", json={"days": 1095}, headers=t.headers(U)
    )
    assert r.status_code == 200, r.text
    assert {x["kind"]: (x["days"], x["default_days"]) for x in r.json()}["access_log"] == (
        1095,
        730,
    )

    run = await scheduled_jobs.run_job("retention", SETTINGS, now=now, ambito_ids=[t.ambito_id])
    assert run.status == "ok", run.error
    assert {k: v for k, v in run.summary.items() if k != "expired_tokens"} == {
        "closed_plans": 2,
        "access_log": 0,
        "checkins": 1,
        "outbox": 1,  # the pending one is still owed
        "notifications": 1,
        "login_failures": 1,
        "ambiti": 1,
    }
    # One reconfirmation link and one QR token (both expired 800 days ago), plus any
    # throttle row of the installation that expired: at least our 2.
    assert run.summary["expired_tokens"] >= 2
    plans = {
        p["id"]: p
        for p in await Plan.select().where(Plan.id.is_in(plan_ids)).output(load_json=True)
    }
    for plan_id in s.plan_ids:
        erased = plans[plan_id]
        assert (erased["notes"], erased["goals"]) == ("", ["[cancellato]"])
        assert erased["case_code"].startswith("ANON-")
    kept = plans[pl3.id]
    assert (kept["notes"], kept["goals"], kept["case_code"]) == (
        "Nota riservata",
        ["Autonomia"],
        "PL-3",
    )
    assert await AccessLog.count().where(AccessLog.ambito == t.ambito_id) == 2
    tokens = await CheckInCode.select(CheckInCode.token).where(CheckInCode.ambito == t.ambito_id)
    assert sorted(bool(x["token"]) for x in tokens) == [False, True]
    after = _stable(
        (
            await client.get(
                "/api/metrics/summary", params={**YEAR, "live": "true"}, headers=t.headers(U)
            )
        ).json()
    )
    assert after == before
    # Idempotent: the same clock again removes nothing.
    again = await scheduled_jobs.run_job("retention", SETTINGS, now=now, ambito_ids=[t.ambito_id])
    assert {k: v for k, v in again.summary.items() if k not in ("ambiti", "expired_tokens")} == (
        dict.fromkeys(
            ("closed_plans", "access_log", "checkins", "outbox", "notifications", "login_failures"),
            0,
        )
    )
    events = (await client.get("/api/privacy/events", headers=t.headers(U))).json()["items"]
    assert [e["action"] for e in events] == ["retention"] and events[0]["by_job"] is True
    # Text written afterwards on an erased plan closed long ago (PL-2: its closure record
    # keeps the clock) goes at the next run.
    await Plan.update({Plan.notes: "Scritta dopo"}).where(Plan.id == s.plan_ids[1])
    third = await scheduled_jobs.run_job("retention", SETTINGS, now=now, ambito_ids=[t.ambito_id])
    assert third.summary["closed_plans"] == 1
    assert (await Plan.select(Plan.notes).where(Plan.id == s.plan_ids[1]).first()) == {"notes": ""}
    # The UdP's settings are checked, naming the field.
    bad = await client.put("/api/privacy/retention/plans", json={"days": 5}, headers=t.headers(U))
    assert bad.status_code == 400 and bad.json()["field"] == "kind"
    bad = await client.put(
        "/api/privacy/retention/checkins", json={"days": 0}, headers=t.headers(U)
    )
    assert bad.status_code == 400 and "days" in bad.text


async def test_plan_erasure_on_request_keeps_counts(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    t = tenant
    r = await client.post(
        "/api/plans",
        json={
            "case_code": "CASO-77",
            "comune": t.comuni[0],
            "target_group": "anziani",
            "goals": ["Uscire di casa due volte a settimana", "Rientro al lavoro"],
            "start_date": "2025-01-01",
            "notes": "Diagnosi riservata",
        },
        headers=t.headers(S),
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    # The outcomes domain's free text of the plan (issue 15): a GAS goal and a review.
    moment = datetime.now(UTC)
    goal = PlanGoal(
        ambito=t.ambito_id,
        plan=plan_id,
        title="Camminare da sola",
        scale=["a", "b", "c", "d", "e"],
        created_at=moment,
        updated_at=moment,
    )
    await goal.save()
    await PlanReview(
        ambito=t.ambito_id,
        plan=plan_id,
        held_on=moment.date(),
        participants=[],
        changes="Cambiata terapia",
        notes="Ricovero",
        created_by=t.users[S],
        created_at=moment,
        updated_at=moment,
    ).save()
    r = await client.post(
        "/api/privacy/requests",
        json={"kind": "plan_erasure", "subject_id": plan_id, "channel": "app"},
        headers=t.headers(S),
    )
    assert r.status_code == 201, r.text
    assert r.json()["outcome"]["plan_notes"] == 1 and r.json()["outcome"]["plan_goals"] == 2
    plan = (await client.get(f"/api/plans/{plan_id}", headers=t.headers(S))).json()
    assert plan["notes"] == "" and plan["goals"] == ["[cancellato]", "[cancellato]"]
    assert plan["case_code"] != "CASO-77" and plan["comune"] == t.comuni[0]
    assert (r.json()["outcome"]["goals"], r.json()["outcome"]["reviews"]) == (1, 1)
    goals = await PlanGoal.select(PlanGoal.title, PlanGoal.weight).where(PlanGoal.plan == plan_id)
    reviews = await PlanReview.select(PlanReview.changes, PlanReview.notes).where(
        PlanReview.plan == plan_id
    )
    assert goals == [{"title": "", "weight": 1}]
    assert reviews == [{"changes": "", "notes": ""}]
    log = (await client.get("/api/audit", params={"plan_id": plan_id}, headers=t.headers(U))).json()
    assert "cancellazione su richiesta dell'interessato" in [e["detail"] for e in log["items"]]
    r = await client.get("/api/plans", params={"q": "CASO-77"}, headers=t.headers(U))
    assert r.json()["total"] == 0


async def test_consent_withdrawal_hides_the_network_everywhere_at_once(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    t = tenant
    name = f"Rete di vicinato {t.code}"
    r = await client.post(
        "/api/holders",
        json={
            "kind": "informal_network",
            "sector": "informal",
            "name": name,
            "comuni": t.comuni,
            "public_listing": True,
            "consent": {
                "given_by": "Anna Verdi",
                "given_at": "2025-01-10T10:00:00Z",
                "text_version": "v2",
            },
        },
        headers=t.headers(U),
    )
    assert r.status_code == 201, r.text
    holder_id = r.json()["id"]
    r = await client.post(
        "/api/resources",
        json={
            "holder_id": holder_id,
            "title": "Spesa a domicilio della rete",
            "category_code": "trasporto",
            "unit": "trips",
            "capacity": 2,
            "comuni": t.comuni[:1],
        },
        headers=t.headers(U),
    )
    assert r.status_code == 201, r.text
    feed = await client.post(
        "/api/interop/feeds", json={"kind": "holder", "holder_id": holder_id}, headers=t.headers(U)
    )
    assert feed.status_code == 201, feed.text
    feed_url = "/api/ical/" + feed.json()["url"].rsplit("/", 1)[-1]
    public = [
        f"/api/hsds/{t.code}/organizations",
        f"/api/hsds/{t.code}/services",
        f"/api/geo/{t.code}/resources.geojson",
    ]
    for url in public:
        assert (
            name in (await client.get(url)).text
            or "Spesa a domicilio" in (await client.get(url)).text
        ), url
    assert (await client.get(feed_url)).status_code == 200

    r = await client.post(
        "/api/privacy/requests",
        json={"kind": "consent_withdrawal", "subject_id": holder_id},
        headers=t.headers(U),
    )
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == {
        "was_public": 1,
        "feeds_revoked": 1,
        "consent_text_version": "v2",
    }
    for url in public:
        text = (await client.get(url)).text
        assert name not in text and "Spesa a domicilio" not in text, url
    assert (await client.get(feed_url)).status_code == 404
    holder = (await client.get(f"/api/holders/{holder_id}", headers=t.headers(U))).json()
    assert holder["public_listing"] is False and holder["consent"] is None
    # Publishing again needs a new consent record.
    r = await client.patch(
        f"/api/holders/{holder_id}", json={"public_listing": True}, headers=t.headers(U)
    )
    assert r.status_code == 400 and r.json()["field"] == "consent"
    # An association's legal basis is not consent: refused, naming the field.
    r = await client.post(
        "/api/privacy/requests",
        json={"kind": "consent_withdrawal", "subject_id": str(t.holder_id)},
        headers=t.headers(U),
    )
    assert r.status_code == 400 and r.json()["field"] == "subject_id"
    assert ical.TOKEN_PREFIX  # the feed URL above is a real one


async def test_contact_erasure_by_the_holder_manager(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    t = tenant
    phone = f"+39 031 {t.code[-6:]}"
    await Holder.update(
        {
            Holder.contacts: json.dumps(
                [
                    {"kind": "person", "value": "Luca Bianchi", "label": "referente"},
                    {"kind": "phone", "value": phone},
                    {"kind": "email", "value": "info@alfa.example.org"},
                ]
            )
        }
    ).where(Holder.id == t.holder_id)
    # The association also named Luca Bianchi in a co-programming procedure (issue 16).
    moment = datetime.now(UTC)
    procedure = Procedure(
        ambito=t.ambito_id,
        kind="coprogramming",
        title="Piano di Zona",
        created_at=moment,
        updated_at=moment,
    )
    await procedure.save()
    application = Application(
        ambito=t.ambito_id, procedure=procedure.id, holder=t.holder_id, applied_at=moment
    )
    await application.save()
    await Participant.insert(
        Participant(
            ambito=t.ambito_id,
            application=application.id,
            name="Luca Bianchi",
            role="referent",
            contact="luca@alfa.example.org",
        ),
        Participant(
            ambito=t.ambito_id,
            application=application.id,
            name="Anna Neri",
            role="volunteer",
        ),
    )
    directory = f"/api/hsds/{t.code}/organizations/{t.holder_id}"
    assert phone in (await client.get(directory)).text  # an association is published
    for contact in ("luca bianchi", phone):
        r = await client.post(
            "/api/privacy/requests",
            json={"kind": "contact_erasure", "subject_id": str(t.holder_id), "contact": contact},
            headers=t.headers(H),
        )
        assert r.status_code == 201, r.text
        assert r.json()["outcome"]["contacts"] == 1
    holder = (await client.get(f"/api/holders/{t.holder_id}", headers=t.headers(H))).json()
    assert holder["contacts"] == [{"kind": "email", "value": "info@alfa.example.org", "label": ""}]
    assert phone not in (await client.get(directory)).text
    people = await Participant.select(Participant.name, Participant.contact).where(
        Participant.application == application.id
    )
    assert sorted(people, key=lambda p: p["name"]) == [
        {"name": "Anna Neri", "contact": None},
        {"name": "[cancellato]", "contact": None},
    ]
    hsds = (await client.get("/api/interop/hsds/export", headers=t.headers(U))).text
    assert "Luca Bianchi" not in hsds and phone not in hsds
    for contact, field in (("luca bianchi", "contact"), ("", "contact")):
        r = await client.post(
            "/api/privacy/requests",
            json={"kind": "contact_erasure", "subject_id": str(t.holder_id), "contact": contact},
            headers=t.headers(H),
        )
        assert r.status_code == 400 and r.json()["field"] == field
    # The holder manager's requests are the UdP's to see.
    listed = (await client.get("/api/privacy/requests", headers=t.headers(U))).json()
    assert [(i["kind"], i["requested_by_role"]) for i in listed["items"]] == [
        ("contact_erasure", "holder_manager")
    ] * 2


async def test_dpo_records(client: httpx.AsyncClient, tenant: Tenant) -> None:
    t = tenant
    r = await client.put(
        "/api/privacy/retention/checkins", json={"days": 730}, headers=t.headers(U)
    )
    assert r.status_code == 200
    register = (await client.get("/api/privacy/register", headers=t.headers(U))).json()
    assert register["ambito_code"] == t.code
    by_name = {a["name"]: a for a in register["activities"]}
    assert (
        "Presenze: 2 anni"
        in by_name["Registro dei contributi e presenze dei volontari"]["retention"]
    )
    assert "5 anni" in by_name["Progetti personalizzati (pseudonimizzati)"]["retention"]
    csv_answer = await client.get("/api/privacy/register.csv", headers=t.headers(U))
    assert csv_answer.content.startswith("\ufeffTrattamento;Finalità;".encode())
    assert csv_answer.text.count("\n") >= len(register["activities"]) + 1
    # The access log, filtered by day, user and action.
    now = datetime.now(UTC)
    for days_ago, action in ((0, "plan.read"), (0, "plan.update"), (40, "plan.read")):
        await AccessLog(
            ambito=t.ambito_id,
            user=t.users[S],
            username=t.usernames[S],
            role="social_worker",
            at=now - timedelta(days=days_ago),
            action=action,
            plan_id=uuid.uuid4(),
        ).save()
    today = now.astimezone().date()
    r = await client.get(
        "/api/privacy/access-log.csv",
        params={
            "from": (today - timedelta(days=5)).isoformat(),
            "user_id": str(t.users[S]),
            "action": "plan.read",
        },
        headers=t.headers(U),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "Data e ora;Utente;Ruolo;Azione;Progetto;Bisogno;Dettaglio"
    assert len(lines) == 2 and f"{t.usernames[S]};Assistente sociale;lettura progetto;" in lines[1]
    r = await client.get(
        "/api/privacy/access-log.csv",
        params={"from": "2025-02-01", "to": "2025-01-01"},
        headers=t.headers(U),
    )
    assert r.status_code == 400 and r.json()["field"] == "to"


# --- authorization: every endpoint x role x own/other ambito --------------------------------


async def _plan(t: Tenant) -> uuid.UUID:
    plan = Plan(
        ambito=t.ambito_id,
        owner=t.users[S],
        shared_with=[],
        case_code="C-1",
        comune=t.comuni[0],
        target_group="anziani",
        goals="[]",
        start_date=date(2025, 1, 1),
        notes="n",
    )
    await plan.save()
    return plan.id


async def _contact_holder(t: Tenant) -> uuid.UUID:
    await Holder.update({Holder.contacts: json.dumps([{"kind": "phone", "value": "0123"}])}).where(
        Holder.id == t.holder_id
    )
    return t.holder_id


async def _access_request(t: Tenant) -> uuid.UUID:
    request = PrivacyRequest(
        ambito=t.ambito_id,
        kind="access",
        subject_kind="user",
        subject_id=t.users[V],
        channel="paper",
        requested_by=t.users[U],
        requested_by_role="udp_admin",
        received_at=datetime.now(UTC),
        outcome="{}",
    )
    await request.save()
    return request.id


async def _pending_erasure(t: Tenant) -> uuid.UUID:
    request = PrivacyRequest(
        ambito=t.ambito_id,
        kind="erasure",
        subject_kind="user",
        subject_id=t.users[V],
        channel="app",
        status="pending",
        requested_by=t.users[V],
        requested_by_role="volunteer",
        received_at=datetime.now(UTC),
        outcome="{}",
    )
    await request.save()
    return request.id


def _all(status: int) -> dict[Role, int]:
    return dict.fromkeys(Role, status)


ONLY_UDP = {U: 200, S: 403, H: 403, V: 403}
CASES: list[tuple[str, str, Any, dict[Role, int], dict[Role, int] | None]] = [
    # method, path (with {request}), body maker, own ambito, other ambito (None: no record)
    ("GET", "/api/privacy/me/export", None, _all(200), None),
    ("GET", "/api/privacy/me/export?format=text", None, _all(200), None),
    ("GET", "/api/privacy/requests", None, ONLY_UDP, None),
    ("GET", "/api/privacy/retention", None, ONLY_UDP, None),
    ("PUT", "/api/privacy/retention/outbox", lambda t: {"days": 60}, ONLY_UDP, None),
    ("POST", "/api/privacy/retention/run", None, ONLY_UDP, None),
    ("GET", "/api/privacy/events", None, ONLY_UDP, None),
    ("GET", "/api/privacy/register", None, ONLY_UDP, None),
    ("GET", "/api/privacy/register.csv", None, ONLY_UDP, None),
    ("GET", "/api/privacy/access-log.csv", None, ONLY_UDP, None),
    (
        "GET",
        "/api/privacy/requests/{request}/export",
        None,
        ONLY_UDP,
        {U: 404, S: 404, H: 404, V: 404},
    ),
    ("POST", "/api/privacy/me/erasure", None, {U: 403, S: 403, H: 403, V: 201}, None),
    ("GET", "/api/privacy/me/requests", None, _all(200), None),
    (
        "POST",
        "/api/privacy/requests/{pending}/execute",
        None,
        ONLY_UDP,
        {U: 404, S: 403, H: 403, V: 403},
    ),
    (
        "POST",
        "/api/privacy/requests/{pending}/decline",
        lambda t: {"reason": "legal_obligation"},
        ONLY_UDP,
        {U: 404, S: 403, H: 403, V: 403},
    ),
    (
        "POST",
        "/api/privacy/requests",
        lambda t: {"kind": "access", "subject_id": str(t.users[V])},
        {U: 201, S: 403, H: 403, V: 403},
        {U: 404, S: 404, H: 404, V: 403},
    ),
    (
        "POST",
        "/api/privacy/requests",
        "plan",
        {U: 201, S: 201, H: 403, V: 403},
        {U: 404, S: 404, H: 403, V: 403},
    ),
    (
        "POST",
        "/api/privacy/requests",
        "contact",
        {U: 201, S: 403, H: 201, V: 403},
        {U: 404, S: 404, H: 404, V: 403},
    ),
]


@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c[0]} {c[1]} {c[2] if isinstance(c[2], str) else ''}"
)
async def test_authorization(client: httpx.AsyncClient, case: tuple) -> None:
    method, path, body, own, other = case
    for role in Role:
        for where, expected in (("own", own), ("other", other)):
            if expected is None:
                continue
            caller, target = await make_tenant(), None
            target = caller if where == "own" else await make_tenant()
            url = path
            if "{request}" in url:
                url = url.replace("{request}", str(await _access_request(target)))
            if "{pending}" in url:
                url = url.replace("{pending}", str(await _pending_erasure(target)))
            data = None
            if body == "plan":
                data = {"kind": "plan_erasure", "subject_id": str(await _plan(target))}
            elif body == "contact":
                data = {
                    "kind": "contact_erasure",
                    "subject_id": str(await _contact_holder(target)),
                    "contact": "0123",
                }
            elif body is not None:
                data = body(target)
            r = await client.request(method, url, json=data, headers=caller.headers(role))
            assert r.status_code == expected[role], (role, where, url, r.text)
