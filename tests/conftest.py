"""Test set-up: a real database (a temporary SQLite file, or the PostgreSQL database named by
REGISTRY_DATABASE_URL), the real app in the test's own event loop, real commits.

Every test builds its own ambiti with fresh codes, so tests do not depend on each other.
"""

from __future__ import annotations

import itertools
import os
import random
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, time

import httpx
import pytest


def _own_database_per_worker() -> None:
    """Under pytest-xdist each worker wipes and migrates its own PostgreSQL database
    (<name>_gw0, <name>_gw1, ...), made here if missing; SQLite workers get their own file."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("REGISTRY_DATABASE_URL")
    if not worker or not url:
        return
    import asyncio

    import asyncpg

    if url.endswith(f"_{worker}"):
        return  # this process chose already (this file is imported twice)
    name = f"{url.rsplit('/', 1)[-1]}_{worker}"

    async def create() -> None:
        connection = await asyncpg.connect(url)
        try:
            if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    os.environ["REGISTRY_DATABASE_URL"] = f"{url.rsplit('/', 1)[0]}/{name}"


_own_database_per_worker()


def _own_sqlite_file() -> None:
    """A fresh SQLite file per test process. pytest-xdist workers inherit the controller's
    environment, so a path chosen there would be shared: each worker takes its own (a path the
    user gave gets the worker's suffix). Idempotent within a process: this file is imported
    twice, as `conftest` and as `tests.conftest`."""
    pid, _, origin = os.environ.get("_REGISTRY_TESTS_SQLITE", "").partition(" ")
    if pid == str(os.getpid()):
        return
    if "REGISTRY_SQLITE_PATH" not in os.environ or origin == "own":
        folder = tempfile.mkdtemp(prefix="registry-tests-")
        os.environ["REGISTRY_SQLITE_PATH"] = os.path.join(folder, "test.sqlite")
        origin = "own"
    else:
        origin = "user"
        if worker := os.environ.get("PYTEST_XDIST_WORKER"):
            os.environ["REGISTRY_SQLITE_PATH"] += f".{worker}"
    os.environ["_REGISTRY_TESTS_SQLITE"] = f"{os.getpid()} {origin}"


_own_sqlite_file()
os.environ["REGISTRY_SCHEDULER"] = "0"
os.environ.setdefault("REGISTRY_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")

from registry import db  # noqa: E402
from registry.access import Role  # noqa: E402
from registry.ambiti.schemas import ComuneIn  # noqa: E402
from registry.ambiti.service import add_comuni, create_ambito  # noqa: E402
from registry.api.auth import AUDIENCE  # noqa: E402
from registry.app import create_app  # noqa: E402
from registry.config import load_settings  # noqa: E402
from registry.holders.tables import Holder  # noqa: E402
from registry.resources.tables import AvailabilityWindow, Resource  # noqa: E402
from registry.security import hash_password, issue  # noqa: E402
from registry.taxonomy.service import ensure_seeded  # noqa: E402
from registry.users.tables import User  # noqa: E402

SETTINGS = load_settings()
PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)
# Made-up codes (ambiti, comuni, usernames) from 200000 up: ISTAT's province codes end at 119,
# so a made-up comune is never a real one (with a place, a region and a name of its own).
_codes = itertools.count(random.Random().randrange(200_000, 900_000, 1000))


async def _reset_postgres(url: str) -> None:
    import asyncpg

    if "test" not in url.rsplit("/", 1)[-1]:
        raise RuntimeError(
            "the tests wipe the PostgreSQL database they run on: its name must contain 'test'"
        )
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def app() -> AsyncIterator[object]:
    if SETTINGS.database_url:
        await _reset_postgres(SETTINGS.database_url)
    application = create_app(SETTINGS, migrate_on_start=False)
    engine = db.engine()
    await db.start(engine)
    await db.migrate()
    await ensure_seeded()
    yield application
    await db.stop(engine)


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def new_code() -> str:
    return f"{next(_codes):06d}"


def token_for(user_id: uuid.UUID, role: Role, ambito_code: str) -> str:
    return issue(
        SETTINGS.secret_key, AUDIENCE, str(user_id), {"role": role.value, "ambito": ambito_code}
    )


@dataclass
class Tenant:
    """An ambito with two comuni, two holders (one managed by the tenant's holder manager),
    a resource with a weekly window for each holder, and one user per role."""

    ambito_id: uuid.UUID
    code: str
    comuni: list[str]
    holder_id: uuid.UUID
    other_holder_id: uuid.UUID
    resource_id: uuid.UUID
    other_resource_id: uuid.UUID
    window_id: uuid.UUID
    users: dict[Role, uuid.UUID] = field(default_factory=dict)
    usernames: dict[Role, str] = field(default_factory=dict)

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(self.users[role], role, self.code)}"}


async def make_tenant() -> Tenant:
    code = f"T{new_code()}"
    ambito_id = await create_ambito(code, f"Ambito di prova {code}", "Lombardia")
    comuni = [new_code(), new_code()]
    await add_comuni(ambito_id, [ComuneIn(istat_code=c, name=f"Comune {c}") for c in comuni])
    holders = [
        Holder(
            ambito=ambito_id,
            kind="association",
            sector="third_sector",
            name=name,
            comuni=comuni,
            areas=["anziani"],
            contacts="[]",
        )
        for name in ("Associazione Alfa", "Associazione Beta")
    ]
    await Holder.insert(*holders)
    resources = [
        Resource(
            ambito=ambito_id,
            holder=holder.id,
            title=f"Trasporto {holder.name}",
            category_code="trasporto",
            unit="trips",
            capacity=3,
            comuni=comuni[:1],
            target_groups=["anziani"],
            languages=["it"],
            requirements=[],
        )
        for holder in holders
    ]
    await Resource.insert(*resources)
    window = AvailabilityWindow(
        resource=resources[0].id,
        freq="WEEKLY",
        by_day=["MO", "WE"],
        start_time=time(9),
        end_time=time(12),
        valid_from=date(2026, 1, 5),
        exceptions=[],
        capacity=2,
    )
    await window.save()
    tenant = Tenant(
        ambito_id=ambito_id,
        code=code,
        comuni=comuni,
        holder_id=holders[0].id,
        other_holder_id=holders[1].id,
        resource_id=resources[0].id,
        other_resource_id=resources[1].id,
        window_id=window.id,
    )
    for role in Role:
        username = f"{role.value.replace('_', '-')}-{code.lower()}"
        user = User(
            username=username,
            password_hash=_PASSWORD_HASH,
            role=role.value,
            ambito=ambito_id,
            holder=holders[0].id if role is Role.HOLDER_MANAGER else None,
        )
        await user.save()
        tenant.users[role] = user.id
        tenant.usernames[role] = username
    return tenant


@pytest.fixture
async def tenant(app: object) -> Tenant:
    return await make_tenant()


@pytest.fixture
async def other_tenant(app: object) -> Tenant:
    return await make_tenant()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The OpenAPI fuzzer first (two to three minutes a role): collected in the middle, it
    could start when little else was left and keep one of make test's two workers busy long
    after the other had finished. The order of the others is unchanged."""
    items.sort(key=lambda item: item.get_closest_marker("fuzz") is None)
