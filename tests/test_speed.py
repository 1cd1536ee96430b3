"""The hot path of every request (issue 18): verified tokens remembered per process, the
SQLite engine's write lock and one-trip statements, db.fetch, batched summaries. Behaviour."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from registry import db, italian
from registry.access import Principal, Role
from registry.api import auth
from registry.batching import Batcher
from registry.errors import InvalidInput
from registry.security import TokenError, issue
from tests.conftest import SETTINGS, Tenant

KEY = "a-signing-key-that-is-long-enough-for-the-tests-0123456789"


def test_remembered_tokens_still_expire_and_need_the_same_key(monkeypatch) -> None:
    moment = datetime.now(UTC)
    token = issue(KEY, auth.AUDIENCE, str(uuid.uuid4()), {"ver": 0}, ttl=timedelta(minutes=5))
    first = auth.verified_claims(KEY, token)
    assert auth.verified_claims(KEY, token) == first  # remembered, same claims
    with pytest.raises(TokenError):  # another key: not the remembered entry
        auth.verified_claims(KEY.replace("a-", "b-"), token)
    with pytest.raises(TokenError):  # one character changed in the signature
        auth.verified_claims(KEY, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    # Five minutes and a second later the remembered token has expired.
    later = (moment + timedelta(minutes=5, seconds=1)).timestamp()
    monkeypatch.setattr(auth, "_now", lambda: later)
    with pytest.raises(TokenError):
        auth.verified_claims(KEY, token)


async def test_a_remembered_token_ends_at_logout(client, tenant: Tenant) -> None:
    headers = tenant.headers(Role.SOCIAL_WORKER)
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/users/me", headers=headers)).status_code == 401


async def test_fetch_reads_the_current_transaction(app, tenant: Tenant) -> None:
    sql = "SELECT username FROM app_user WHERE id = {} AND ambito = {}"
    user_id = tenant.users[Role.UDP_ADMIN]
    rows = await db.fetch(sql, user_id, tenant.ambito_id)
    assert rows == [{"username": tenant.usernames[Role.UDP_ADMIN]}]
    assert await db.fetch(sql, user_id, uuid.uuid4()) == []
    new_name = f"renamed-{tenant.code.lower()}"
    with pytest.raises(RuntimeError):
        async with db.unit_of_work():
            await db.fetch("UPDATE app_user SET username = {} WHERE id = {}", new_name, user_id)
            # Inside the transaction its own write is seen...
            assert (await db.fetch(sql, user_id, tenant.ambito_id))[0]["username"] == new_name
            raise RuntimeError("roll back")
    # ...and after the rollback it is gone.
    assert (await db.fetch(sql, user_id, tenant.ambito_id))[0]["username"] != new_name


async def test_independent_reads_run_at_once_and_in_turn_inside_a_transaction(
    app, tenant: Tenant
) -> None:
    """db.reads: the same answers outside a transaction (at once, each on its own pooled
    connection) and inside one (in turn: its one connection takes a statement at a time, and
    PostgreSQL's refuses a second)."""
    sql = "SELECT username FROM app_user WHERE id = {}"
    expected = [[{"username": tenant.usernames[role]}] for role in Role]
    outside = await db.reads(*(db.fetch(sql, tenant.users[role]) for role in Role))
    async with db.unit_of_work():
        inside = await db.reads(*(db.fetch(sql, tenant.users[role]) for role in Role))
    assert outside == inside == expected


@pytest.mark.skipif(bool(SETTINGS.database_url), reason="SQLite's BEGIN IMMEDIATE serialises")
async def test_concurrent_write_transactions_take_turns_and_all_commit(app, tenant: Tenant) -> None:
    """Twenty writers at once in one process: each read-then-write sees the previous one's
    commit (no lost update, no "database is locked") and a failing one leaves nothing."""
    user_id = tenant.users[Role.VOLUNTEER]
    read = "SELECT token_version FROM app_user WHERE id = {}"
    start = (await db.fetch(read, user_id))[0]["token_version"]
    inside: list[int] = []

    async def bump(fail: bool) -> None:
        async with db.unit_of_work():
            inside.append(1)
            assert len(inside) == 1  # BEGIN IMMEDIATE: nobody else in a write transaction
            current = (await db.fetch(read, user_id))[0]["token_version"]
            await asyncio.sleep(0)  # let the others try to get in
            await db.fetch(
                "UPDATE app_user SET token_version = {} WHERE id = {}", current + 1, user_id
            )
            inside.pop()
            if fail:
                raise ValueError("this one fails after writing")

    results = await asyncio.gather(
        *(bump(fail=n % 5 == 4) for n in range(20)), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, ValueError)]
    assert len(failures) == 4 and all(r is None for r in results if r not in failures)
    assert (await db.fetch(read, user_id))[0]["token_version"] == start + 16


@pytest.mark.skipif(bool(SETTINGS.database_url), reason="SQLite's file lock")
async def test_a_ledger_write_waits_for_another_process_writing_and_the_rest_goes_on(
    client, tenant: Tenant
) -> None:
    """A ledger write and a confirmation run their statements on the event loop's own thread
    (unit_of_work(short=True)). While another process holds SQLite's write lock they must not
    fail, nor hold the loop: they wait on a connection's thread, other requests are answered
    meanwhile, and both are stored once the other process commits."""
    path = db.engine().path  # type: ignore[attr-defined]
    volunteer, udp = tenant.headers(Role.VOLUNTEER), tenant.headers(Role.UDP_ADMIN)
    body = {
        "holder_id": str(tenant.holder_id),
        "unit": "hours",
        "quantity": 1.5,
        "occurred_on": str(italian.today()),
    }

    def post(headers: dict[str, str], url: str, json: dict) -> asyncio.Task:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        return asyncio.create_task(client.post(url, json=json, headers={**headers, **key}))

    first = await post(volunteer, "/api/contributions", body)
    assert first.status_code == 201, first.text
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process writing
        other.execute("UPDATE app_user SET token_version = token_version WHERE id = ?", ["x"])
        writing = post(volunteer, "/api/contributions", body)
        confirming = post(udp, f"/api/contributions/{first.json()['id']}/confirm", {})
        for _ in range(3):  # the loop goes on: reads are answered while both wait
            listed = await client.get("/api/contributions", headers=volunteer)
            assert listed.status_code == 200 and len(listed.json()["items"]) == 1
        await asyncio.sleep(0.2)
        assert not writing.done() and not confirming.done()
        other.execute("COMMIT")
    finally:
        other.close()
    written, confirmed = await asyncio.wait_for(asyncio.gather(writing, confirming), 30)
    assert written.status_code == 201, written.text
    assert confirmed.status_code == 200 and confirmed.json()["verification"] == "confirmed"
    listed = (await client.get("/api/contributions", headers=volunteer)).json()["items"]
    assert {e["id"] for e in listed} == {first.json()["id"], written.json()["id"]}


async def test_batched_callers_never_get_an_answer_begun_before_they_arrived() -> None:
    batcher = Batcher()
    state = {"version": 0, "computations": 0}
    release = asyncio.Event()

    async def compute() -> int:
        state["computations"] += 1
        seen = state["version"]  # what the computation reads as it begins
        await release.wait()
        return seen

    first = asyncio.create_task(batcher.run("a", compute))
    while not state["computations"]:
        await asyncio.sleep(0)
    state["version"] = 1  # a write after the first computation began
    later = [asyncio.create_task(batcher.run("a", compute)) for _ in range(10)]
    other = asyncio.create_task(batcher.run("b", compute))  # another key: its own
    await asyncio.sleep(0)
    later[3].cancel()  # a caller that goes away does not take the others' answer with it
    release.set()
    assert await first == 0
    answers = await asyncio.gather(*later, return_exceptions=True)
    assert isinstance(answers[3], asyncio.CancelledError)
    assert [a for n, a in enumerate(answers) if n != 3] == [1] * 9  # all saw the write
    assert await other == 1
    assert state["computations"] == 3  # "a" twice (not eleven times), "b" once

    async def failing() -> int:
        raise InvalidInput("no", field="x")

    with pytest.raises(InvalidInput):
        await batcher.run("a", failing)
    assert await batcher.run("a", compute) == 1  # a failure is not remembered


async def test_concurrent_summaries_of_two_ambiti_stay_apart(client, tenant, other_tenant) -> None:
    requests = [
        client.get("/api/metrics/summary", headers=t.headers(Role.UDP_ADMIN))
        for t in (tenant, other_tenant, tenant, other_tenant)
    ]
    answers = await asyncio.gather(*requests)
    assert [a.status_code for a in answers] == [200] * 4
    codes = [a.json()["ambito_code"] for a in answers]
    assert codes == [tenant.code, other_tenant.code, tenant.code, other_tenant.code]
    # The role is checked for each caller, batched or not.
    volunteer = await client.get("/api/metrics/summary", headers=tenant.headers(Role.VOLUNTEER))
    assert volunteer.status_code == 403


async def test_the_users_hand_written_read_equals_the_piccolo_query(
    app, tenant: Tenant, other_tenant: Tenant
) -> None:
    """GET /api/users/me reads with hand-written SQL (every screen's first call): the same
    user as the Piccolo query, an inactive one too (SQLite gives 0/1 for booleans), and
    nobody of another ambito."""
    from registry.users import service as users
    from registry.users.tables import User

    holder_manager = tenant.users[Role.HOLDER_MANAGER]
    await User.update({User.active: False}).where(User.id == holder_manager)
    try:
        for user_id in tenant.users.values():
            expected = await User.select(*users._USER_COLUMNS).where(User.id == user_id).first()
            got = await users.get_user(tenant.ambito_id, user_id)
            assert got == users._out(expected)
            assert got.active is (user_id != holder_manager)
        with pytest.raises(users.NotFound):
            await users.get_user(other_tenant.ambito_id, tenant.users[Role.UDP_ADMIN])
    finally:
        await User.update({User.active: True}).where(User.id == holder_manager)


async def test_the_resources_hand_written_reads_equal_the_piccolo_query(
    app, tenant: Tenant, other_tenant: Tenant
) -> None:
    """A resource by id and the default page read with hand-written SQL (on SQLite each row
    made as JSON by the database): the same resources, fields and order as the Piccolo query,
    with empty and filled arrays, dates and none; nothing of another ambito."""
    from datetime import date

    from registry.resources import service as resources
    from registry.resources.tables import Resource

    await Resource.update(
        {
            Resource.comuni: tenant.comuni,
            Resource.languages: ["it", "ar"],
            Resource.valid_from: date(2025, 2, 1),
            Resource.valid_until: date(2027, 1, 31),
            Resource.description: 'Con "virgolette", a capo\\ne accenti: è così',
        }
    ).where(Resource.id == tenant.resource_id)
    expected = [
        resources._out(row)
        for row in await Resource.select(*resources._COLUMNS)
        .where((Resource.ambito == tenant.ambito_id) & (Resource.status != "archived"))
        .order_by(Resource.title)
        .order_by(Resource.id)
    ]
    assert len(expected) >= 2
    assert any(r.valid_from for r in expected) and any(r.valid_from is None for r in expected)
    actor = Principal(tenant.users[Role.UDP_ADMIN], "udp", Role.UDP_ADMIN, tenant.ambito_id)
    page = await resources.list_resources(actor, limit=50)
    assert page.items == expected and page.total == len(expected)
    for resource in expected:
        assert await resources.get_resource(actor, resource.id) == resource
    if not db.is_sqlite():
        # Times in UTC whatever the session's time zone (PostgreSQL makes the JSON).
        async with db.unit_of_work():
            await db.fetch("SET LOCAL TIME ZONE 'America/New_York'")
            got = await resources.get_resource(actor, tenant.resource_id)
        want = next(r for r in expected if r.id == tenant.resource_id)
        assert got == want and got.created_at.utcoffset() == timedelta(0)
    other = Principal(
        other_tenant.users[Role.UDP_ADMIN], "udp", Role.UDP_ADMIN, other_tenant.ambito_id
    )
    with pytest.raises(resources.NotFound):
        await resources.get_resource(other, tenant.resource_id)


async def test_a_row_inserted_by_hand_reads_back_as_the_piccolo_one(app, tenant: Tenant) -> None:
    """db.insert (the ledger's and the notifications' writes) stores what Piccolo's insert of
    the same values stores: ids, dates, times with their zone, nulls, texts and defaults."""
    from datetime import date

    from registry.contributions.tables import Contribution
    from registry.notifications.tables import Notification

    moment = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    values = {
        "ambito": tenant.ambito_id,
        "holder": tenant.holder_id,
        "resource": tenant.resource_id,
        "unit": "hours",
        "quantity": 90,
        "occurred_on": date(2026, 3, 28),
        "started_at": moment - timedelta(hours=2),
        "comune": tenant.comuni[0],
        "note": 'Con "virgolette" e accenti: è così',
        "idempotency_key": f"by-hand-{uuid.uuid4()}",
        "created_by": tenant.users[Role.UDP_ADMIN],
        "created_by_role": "udp_admin",
        "created_at": moment,
    }
    by_hand = db.new_row(Contribution, **values)
    await db.insert(Contribution, by_hand)
    piccolo = Contribution(**{**values, "idempotency_key": f"piccolo-{uuid.uuid4()}"})
    await piccolo.save()
    rows = await Contribution.select().where(Contribution.id.is_in([by_hand["id"], piccolo.id]))
    assert len(rows) == 2
    first, second = sorted(rows, key=lambda r: r["id"] != by_hand["id"])
    differ = {"id", "idempotency_key"}
    assert {k: v for k, v in first.items() if k not in differ} == {
        k: v for k, v in second.items() if k not in differ
    }
    assert first["created_at"] == moment and first["value_cents"] is None

    users = [tenant.users[Role.UDP_ADMIN], tenant.users[Role.SOCIAL_WORKER]]
    event = uuid.uuid4()
    notifications = [
        db.new_row(
            Notification,
            ambito=tenant.ambito_id,
            user=user,
            event_id=event,
            event_type="test",
            title="Prova",
            created_at=moment,
        )
        for user in users
    ]
    await db.insert(Notification, *notifications)
    stored = await Notification.select().where(Notification.event_id == event)
    assert sorted(r["user"] for r in stored) == sorted(users)
    assert all(
        r["read_at"] is None and r["body"] == "" and r["created_at"] == moment for r in stored
    )
    with pytest.raises(TypeError):
        db.new_row(Notification, no_such_column=1)


async def test_freshness_made_by_the_database_is_the_rule_read_in_python(
    app, tenant: Tenant
) -> None:
    """freshness_sql (the default page made by the database) and freshness_of give every
    status the same state, at the cut-offs and a microsecond either side (SQLite compares the
    stored texts: a moment without microseconds is one text shorter)."""
    from registry.freshness import state
    from registry.resources.tables import Resource
    from registry.vocabularies import ResourceStatus

    stale = datetime(2026, 9, 1, 12, 0, 0, tzinfo=UTC)
    aging = stale + timedelta(days=30, microseconds=500_000)
    tick = timedelta(microseconds=1)
    moments = [stale - tick, stale, stale + tick, aging - tick, aging, aging + tick]
    sql = f"SELECT {state.freshness_sql('r.status', 'r.confirmed_at')} AS f FROM resource r "
    sql += "WHERE r.id = {}"
    for status in ResourceStatus:
        for moment in [*moments, aging + timedelta(days=1), stale - timedelta(days=400)]:
            await Resource.update(
                {Resource.status: status.value, Resource.confirmed_at: moment}
            ).where(Resource.id == tenant.resource_id)
            (row,) = await db.fetch(sql, stale, aging, tenant.resource_id)
            assert row["f"] == state._state(status, moment, stale, aging), (status, moment)


async def test_the_default_page_made_by_the_database_is_the_page_of_the_service(
    client, tenant: Tenant
) -> None:
    """GET /api/resources with no filter sends the page the database made as JSON: the same
    resources, fields, freshness and total as the service's page, past the end too."""
    import msgspec

    from registry.common import Page
    from registry.freshness.state import with_freshness
    from registry.resources import service as resources
    from registry.resources.schemas import ResourceOut
    from registry.resources.tables import Resource

    await Resource.update(
        {Resource.confirmed_at: datetime.now(UTC) - timedelta(days=SETTINGS.freshness_stale_days)}
    ).where(Resource.id == tenant.resource_id)
    await Resource.update(
        {
            Resource.confirmed_at: datetime.now(UTC)
            - timedelta(days=SETTINGS.freshness_reminder_days + 1),
            Resource.languages: ["it", "uk"],
        }
    ).where(Resource.id == tenant.other_resource_id)
    actor = Principal(tenant.users[Role.UDP_ADMIN], "udp", Role.UDP_ADMIN, tenant.ambito_id)
    udp = tenant.headers(Role.UDP_ADMIN)
    for limit, offset in ((50, 0), (1, 1), (50, 10)):
        response = await client.get(
            "/api/resources", params={"limit": limit, "offset": offset}, headers=udp
        )
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "application/json"
        )
        expected = await resources.list_resources(actor, limit=limit, offset=offset)
        expected.items = with_freshness(expected.items, SETTINGS)
        assert msgspec.json.decode(response.content, type=Page[ResourceOut]) == expected
    every = (await client.get("/api/resources", headers=udp)).json()["items"]
    assert {r["freshness"] for r in every} >= {"stale", "aging"}
