"""Read replicas (issue 18): the read-heavy public paths are served by a PostgreSQL streaming
replica, writes and reads of one's own writes stay on the primary, and reads are still
answered, from the primary, when the replica is stopped.

Runs in the PostgreSQL pass when REGISTRY_DATABASE_READ_URL names a replica of the test
database (scripts/start-replica.sh makes one on port 5433), as root: it pauses the replica's
replay and stops and restarts the replica with pg_ctlcluster.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from urllib.parse import urlsplit

import asyncpg
import pytest

from registry import db
from registry.access import Role
from registry.config import load_settings
from tests.conftest import SETTINGS, Tenant, make_tenant

needs_replica = pytest.mark.skipif(
    not (SETTINGS.database_url and SETTINGS.database_read_urls and os.geteuid() == 0),
    reason="needs PostgreSQL, REGISTRY_DATABASE_READ_URL (scripts/start-replica.sh) and root",
)


def _replica_cluster() -> tuple[str, str]:
    """(version, name) of the local cluster listening on the replica's port."""
    port = str(urlsplit(SETTINGS.database_read_urls[0]).port or 5432)
    for line in subprocess.run(
        ["pg_lsclusters", "-h"], check=True, capture_output=True, text=True
    ).stdout.splitlines():
        version, name, cluster_port = line.split()[:3]
        if cluster_port == port:
            return version, name
    raise AssertionError(f"no local cluster on port {port}")


def _replica_sql(sql: str) -> str:
    # As postgres on the local socket: pausing replay needs a superuser; the app's role is not.
    port = str(urlsplit(SETTINGS.database_read_urls[0]).port or 5432)
    return subprocess.run(
        ["su", "postgres", "-c", f'psql -tA -p {port} -c "{sql}"'],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


async def _caught_up(timeout: float = 20.0) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    primary = await asyncpg.connect(SETTINGS.database_url)
    try:
        target = await primary.fetchval("SELECT pg_current_wal_lsn()")
    finally:
        await primary.close()
    deadline = time.monotonic() + timeout
    while True:
        replica = await asyncpg.connect(SETTINGS.database_read_urls[0])
        try:
            if await replica.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", target):
                return
        finally:
            await replica.close()
        assert time.monotonic() < deadline, "the replica did not catch up"
        await asyncio.sleep(0.1)


async def _in_recovery() -> bool:
    """pg_is_in_recovery() of the server that answered: True on a standby."""
    rows = await db.engine().run_ddl("SELECT pg_is_in_recovery() AS standby")
    return bool(rows[0]["standby"])


def test_read_urls_are_postgresql_replicas_of_a_postgresql_primary() -> None:
    primary = "postgresql://registry:secret@db:5432/registry"
    one, two = "postgresql://r@replica-1/registry", "postgresql://r@replica-2/registry"
    settings = load_settings(
        {
            "REGISTRY_DATABASE_URL": primary,
            "REGISTRY_DATABASE_READ_URL": one,
            "REGISTRY_DATABASE_READ_URLS": f"{two}, {one}",
        }
    )
    assert settings.database_read_urls == (one, two)
    settings.check()
    assert isinstance(db.make_engine(settings), db.RoutingPostgresEngine)
    assert not isinstance(
        db.make_engine(load_settings({"REGISTRY_DATABASE_URL": primary})), db.RoutingPostgresEngine
    )
    without_primary = load_settings({"REGISTRY_DATABASE_READ_URL": one})
    with pytest.raises(Exception, match="READ_URLS needs REGISTRY_DATABASE_URL"):
        without_primary.check()
    not_postgres = load_settings(
        {"REGISTRY_DATABASE_URL": primary, "REGISTRY_DATABASE_READ_URL": "mysql://r:pw@x/db"}
    )
    with pytest.raises(Exception, match="postgresql:// addresses, not 'mysql:'") as refused:
        not_postgres.check()
    assert "pw" not in str(refused.value)  # a password in the address never reaches a message


@needs_replica
async def test_reads_on_replica_writes_on_primary_and_fallback(client, app) -> None:
    engine = db.engine()
    assert isinstance(engine, db.RoutingPostgresEngine)
    assert _replica_sql("SELECT pg_is_in_recovery()") == "t"

    # Statements choose their server: plain SELECTs on the read paths go to the standby;
    # the same SELECT inside a transaction, and every SELECT elsewhere, to the primary.
    assert await _in_recovery() is False
    with db.prefer_replica():
        assert await _in_recovery() is True
        async with db.unit_of_work():
            assert await _in_recovery() is False

    # Replay paused: what the primary writes now, the replica does not see.
    _replica_sql("SELECT pg_wal_replay_pause()")
    try:
        tenant: Tenant = await make_tenant()
        served = engine.replica_queries
        public_map = f"/api/geo/{tenant.code}/resources.geojson"
        own_map = "/api/interop/geojson/resources"
        # The public map reads the replica: the new ambito is not there yet.
        assert (await client.get(public_map)).status_code == 404
        assert engine.replica_queries > served
        # The ambito's own map: authentication (which must see a logout at once) checked the
        # new user on the primary, then the map was read from the replica, which has no comuni.
        headers = tenant.headers(Role.UDP_ADMIN)
        lagging = await client.get(own_map, headers=headers)
        assert lagging.status_code == 200, lagging.text
        assert lagging.json()["features"] == []
        # Lists and writes are on the primary: the new records are there.
        listed = await client.get("/api/resources?limit=50", headers=headers)
        assert listed.status_code == 200, listed.text
        assert len(listed.json()["items"]) == 2
        created = await client.post(
            "/api/resources",
            json={
                "title": "Sala riunioni",
                "category_code": "sala-incontri",
                "unit": "room_hours",
                "capacity": 4,
                "comuni": tenant.comuni[:1],
                "holder_id": str(tenant.holder_id),
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        primary = await asyncpg.connect(SETTINGS.database_url)
        try:
            assert (
                await primary.fetchval(
                    "SELECT count(*) FROM resource WHERE ambito = $1", tenant.ambito_id
                )
                == 3
            )
        finally:
            await primary.close()
    finally:
        _replica_sql("SELECT pg_wal_replay_resume()")
    await _caught_up()
    assert (await client.get(public_map)).status_code == 200
    answered = await client.get(own_map, headers=headers)
    assert answered.status_code == 200, answered.text
    # The two seeded resources and the new room, all serving the tenant's first comune.
    counts = {f["id"]: f["properties"]["resource_count"] for f in answered.json()["features"]}
    assert counts == {tenant.comuni[0]: 3, tenant.comuni[1]: 0}

    # The replica stopped: the same read is answered by the primary, at once and the same.
    version, name = _replica_cluster()
    subprocess.run(["pg_ctlcluster", version, name, "stop", "-m", "fast"], check=True)
    try:
        fallbacks = engine.replica_fallbacks
        started = time.monotonic()
        for _ in range(3):
            assert (await client.get(public_map)).status_code == 200
            again = await client.get(own_map, headers=headers)
            assert again.status_code == 200, again.text
            assert again.json() == answered.json()
        assert time.monotonic() - started < 3.0
        assert engine.replica_fallbacks > fallbacks
        with db.prefer_replica():
            assert await _in_recovery() is False  # the primary answered
    finally:
        subprocess.run(["pg_ctlcluster", version, name, "start"], check=True)
