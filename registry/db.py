"""Database engines, table binding, migrations and the unit of work.

SQLite is the embedded default; PostgreSQL is used when REGISTRY_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from piccolo.columns.column_types import Array, Text, Varchar
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.table import Table

from registry.config import Settings

os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")


class PooledSQLiteEngine(SQLiteEngine):
    """SQLite engine that reuses connections for statements run outside a transaction.

    Piccolo's stock engine opens (and threads) a new aiosqlite connection per query, which
    made list endpoints ~30x slower than a bare endpoint; a small pool removes that cost.
    Transactions still get a dedicated connection of their own.
    """

    def __init__(self, path: str, pool_size: int = 4) -> None:
        super().__init__(path=path, timeout=30)
        self._pool_size = pool_size
        self._idle: list[Any] = []
        self._slots: asyncio.Semaphore | None = None

    async def get_connection(self) -> Any:
        connection = await super().get_connection()
        await connection.execute("PRAGMA busy_timeout = 30000")
        return connection

    async def _pooled_connection(self) -> Any:
        kwargs = self.connection_kwargs
        connection = aiosqlite.Connection(lambda: sqlite3.connect(**kwargs), 64)
        # Idle pooled connections must not keep the process alive at exit when a caller
        # forgets close(): aiosqlite's worker thread is non-daemon by default.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA busy_timeout = 30000")
        return connection

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._pool_size)
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._pooled_connection()
            try:
                async with connection.execute(query, args or []) as cursor:
                    rows = await cursor.fetchall()
            except sqlite3.Error:
                await connection.close()
                raise
            self._idle.append(connection)
            return rows

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()


def make_engine(settings: Settings) -> Engine:
    if settings.database_url:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    # WAL lets readers proceed while one writer commits; the setting persists in the file.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    return PooledSQLiteEngine(path=path)


_engine: Engine | None = None


def all_tables() -> list[type[Table]]:
    from registry.piccolo_app import APP_CONFIG

    return list(APP_CONFIG.table_classes)


def bind(engine: Engine) -> None:
    """Point every table (and Piccolo's migration runner) at this engine."""
    global _engine, _last_ping
    _engine = engine
    _last_ping = None  # a new database: its health is not known yet
    from registry import piccolo_conf

    piccolo_conf.DB = engine
    for table in all_tables():
        table._meta._db = engine


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database not configured: call registry.db.bind() first")
    return _engine


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


async def start(engine_: Engine) -> None:
    if isinstance(engine_, PostgresEngine):
        await engine_.start_connection_pool(min_size=1, max_size=10)


async def stop(engine_: Engine) -> None:
    if isinstance(engine_, PostgresEngine):
        await engine_.close_connection_pool()
    elif isinstance(engine_, PooledSQLiteEngine):
        await engine_.close()


# Any fixed number: the key of the PostgreSQL advisory lock that serialises migrations.
MIGRATION_LOCK_KEY = 7_301_846_120_339


@asynccontextmanager
async def migration_lock() -> AsyncIterator[None]:
    """Held by one process at a time among all those sharing the database, released when the
    holder exits or dies (several workers start at once and would race to create tables).

    PostgreSQL: a session advisory lock on a connection of its own. SQLite: an flock on a file
    next to the database (a transaction cannot do it: the migrations need the write lock).
    """
    db = engine()
    if isinstance(db, PostgresEngine):
        import asyncpg

        connection = await asyncpg.connect(db.config["dsn"])
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            yield
        finally:
            await connection.close()  # ends the session, and so the lock
        return
    assert isinstance(db, SQLiteEngine)
    descriptor = os.open(f"{db.path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the flock


async def migrate(
    *, then: Callable[[], Awaitable[Any]] | None = None, allow_data_loss: bool = False
) -> None:
    """Bring the bound database to the current schema (idempotent), under the migration lock;
    `then` (e.g. seeding reference data) runs under the same lock. A pending migration that
    would destroy stored values is refused (registry/upgrades.py) unless `allow_data_loss`."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from registry import upgrades

    async with migration_lock():
        if not allow_data_loss:
            await upgrades.refuse_data_loss()
        response = await run_forwards(app_name="registry", migration_id="all", fake=False)
        if not response.success:
            raise RuntimeError(f"migration failed: {response.message}")
        if then is not None:
            await then()


def _sqlite_ping(path: str, timeout: float) -> None:
    # Its own connection, not the pool's: a health probe must not queue behind slow queries.
    # mode=rw: a missing file is an error, not a new empty database.
    uri = f"file:{path}?mode=rw"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=timeout)) as connection:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()


_last_ping: tuple[float, bool] | None = None
_ping_in_flight: asyncio.Future[bool] | None = None


async def ping(timeout: float = 2.0, fresh_for: float = 1.0) -> bool:
    """Does the database answer a query within `timeout` seconds?

    Probes arriving together share one query, and an answer is reused for `fresh_for`
    seconds: a load balancer probing often must not add load to a struggling database.
    """
    global _last_ping, _ping_in_flight
    loop = asyncio.get_running_loop()
    if _last_ping is not None and loop.time() - _last_ping[0] < fresh_for:
        return _last_ping[1]
    if _ping_in_flight is not None and not _ping_in_flight.done():
        return await asyncio.shield(_ping_in_flight)
    _ping_in_flight = future = loop.create_future()
    db = engine()
    try:
        if isinstance(db, SQLiteEngine):
            await asyncio.wait_for(asyncio.to_thread(_sqlite_ping, db.path, timeout), timeout)
        else:
            await asyncio.wait_for(db.run_ddl("SELECT 1"), timeout)
        answered = True
    except Exception:
        answered = False
    _last_ping = (loop.time(), answered)
    future.set_result(answered)
    return answered


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[None]:
    """One transaction for one piece of work: all of it is stored, or none of it.

    On SQLite the write lock is taken up front (BEGIN IMMEDIATE), so read-then-write
    sequences cannot fail half-way with "database is locked".
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        transaction = db.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = db.transaction()
    async with transaction:
        yield


def array_contains(column: Array, value: str):  # type: ignore[no-untyped-def]
    """WHERE value is an element of an Array column, exact on both backends.

    Piccolo stores arrays as JSON text on SQLite and its `any()` there is a bare substring
    LIKE; matching the quoted JSON element keeps it exact for our slug/ISTAT codes.
    """
    if is_sqlite():
        return column.like(f'%"{value}"%')
    return column.any(value)


def text_contains(column: Varchar | Text, text: str):  # type: ignore[no-untyped-def]
    """Case-insensitive substring match (a % or _ typed by the user only widens the search)."""
    pattern = f"%{text}%"
    # SQLite's LIKE is already case-insensitive for ASCII; PostgreSQL needs ILIKE.
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)


def index_migration(
    migration_id: str, description: str, statements: Sequence[str]
) -> Callable[[], Awaitable[Any]]:
    """`forwards` of a hand-written migration that creates indexes ("CREATE [UNIQUE] INDEX
    IF NOT EXISTS name ON ..."): plain DDL that runs on both engines, where Piccolo's own
    composite constraints need ALTER TABLE ... ADD CONSTRAINT, which SQLite lacks."""
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager
    from piccolo.engine import engine_finder

    async def forwards() -> MigrationManager:
        manager = MigrationManager(
            migration_id=migration_id, app_name="registry", description=description
        )

        async def create_indexes() -> None:
            engine = engine_finder()
            assert engine is not None
            for statement in statements:
                await engine.run_ddl(statement)

        async def drop_indexes() -> None:
            engine = engine_finder()
            assert engine is not None
            for statement in statements:
                name = statement.split(" EXISTS ", 1)[1].split(" ", 1)[0]
                await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

        manager.add_raw(create_indexes)
        manager.add_raw_backwards(drop_indexes)
        return manager

    return forwards
