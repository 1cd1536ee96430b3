"""Database engines, table binding, migrations and the unit of work.

SQLite is the embedded default; PostgreSQL is used when REGISTRY_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fcntl
import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from enum import Enum
from typing import Any

import aiosqlite
import asyncpg
from piccolo.columns.column_types import Array, Text, Varchar
from piccolo.columns.defaults.base import Default
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table

from registry.config import Settings

os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")


class InlineConnection:
    """A sqlite3 connection that short write transactions use from the event loop's own
    thread (PooledSQLiteEngine.begin_inline): its coroutines finish without suspending, so
    such a transaction holds the write lock for its statements' time only."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self.closed = False

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.raw.execute(sql, list(args))

    async def execute_fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return self.raw.execute(sql, list(args)).fetchall()

    async def close(self) -> None:
        self.closed = True
        self.raw.close()


class PooledSQLiteTransaction(SQLiteTransaction):
    """A transaction on a pooled connection; write transactions of this process queue on
    an asyncio lock before BEGIN IMMEDIATE.

    Without the lock, concurrent writers of one process all wait in SQLite's busy handler,
    which sleeps in steps of up to 100 ms and is not first come, first served: under the
    mixed load (bench/load.py, 32 clients) some ledger writes waited 12 s (p99) while others
    got in at once. SQLite runs one writer at a time anyway; the lock makes them take turns
    in arrival order: write p99 12 s -> 2.8 s, overall p99 9.2 s -> 3.4 s, for a higher
    median (write p50 0.3 -> 1.2 s) at about the same throughput (42 -> 38 req/s).
    Other processes still wait through busy_timeout.

    `inline` (unit_of_work(short=True)): the statements run on the event loop's own thread.
    Through a connection's thread, each statement waited for the loop to come round again,
    behind every other request's work: under the mixed load a ledger write of five trips
    held the lock 9 ms (p50) for well under 1 ms of SQLite, and writes queued 0.35 s.
    """

    engine: PooledSQLiteEngine
    inline: bool = False

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        writes = self.transaction_type is not TransactionType.deferred
        lock = self.engine.write_lock() if writes else None
        if lock is not None:
            await lock.acquire()
        try:
            begun = self.engine.begin_inline() if lock is not None and self.inline else None
            if begun is not None:
                self.connection = begun
            else:
                self.connection = await self.engine.take_connection()
                try:
                    await self.begin()
                except BaseException:
                    await self.connection.close()
                    raise
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        self._lock = lock
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            await self.connection.close()  # in an unknown state: not back to the pool
            raise
        else:
            if not isinstance(self.connection, InlineConnection):  # the engine keeps that one
                self.engine.give_back(self.connection)
        finally:
            self.engine.current_transaction.reset(self.context)
            if self._lock is not None:
                self._lock.release()
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """SQLite engine that reuses connections, and runs each statement in one trip to the
    connection's thread.

    Piccolo's stock engine opens (and threads) a new aiosqlite connection per query and per
    transaction, which made list endpoints ~30x slower than a bare endpoint; and it makes
    four trips to that thread per statement (PRAGMA, execute, fetchall, close), each a GIL
    hand-over and a wake-up of the event loop. Here: a small pool of connections for
    statements outside transactions, idle connections reused by transactions, and one
    trip per statement (aiosqlite's execute_fetchall).
    """

    # Reads outside transactions at once: each holds its connection until the event loop
    # takes its rows, so under load a trip lasts as long as the loop's turn. With 4, the
    # mixed load's suggestions (five short reads each) waited 150 ms a read for a slot;
    # with 16 the loop took more work at once than it could turn round (bench/load.py).
    def __init__(self, path: str, pool_size: int = 8) -> None:
        super().__init__(path=path, timeout=30)
        self._pool_size = pool_size
        self._idle: list[Any] = []
        self._idle_transaction: list[Any] = []
        self._slots: asyncio.Semaphore | None = None
        self._write_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._inline: sqlite3.Connection | None = None
        self._inline_writer: tuple[asyncio.AbstractEventLoop, InlineConnection] | None = None

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

    def fetch_inline(self, query: str, args: Sequence[Any]) -> list[dict[str, Any]] | None:
        """A short read run on the event loop's own thread, or None when the database is
        busy (then the caller takes the pooled, threaded path).

        A trip to a connection's thread costs two thread switches and GIL hand-overs, more
        than a primary-key lookup itself; in WAL mode a reader does not wait for writers, so
        a short read here does not stall the loop. Only for statements known to be short
        (db.fetch's callers): a long one would block every other request meanwhile.
        """
        if self._inline is None:
            # A short busy timeout: the loop must not sleep in SQLite's busy handler.
            kwargs = {**self.connection_kwargs, "timeout": 0.05, "check_same_thread": False}
            connection = sqlite3.connect(**kwargs)
            connection.row_factory = dict_factory
            connection.execute("PRAGMA foreign_keys = 1")
            self._inline = connection
        try:
            return self._inline.execute(query, list(args)).fetchall()
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return None
            raise

    def write_lock(self) -> asyncio.Lock:
        """This process's write lock, one per event loop (tests run several loops)."""
        loop = asyncio.get_running_loop()
        if self._write_lock is None or self._write_lock[0] is not loop:
            self._write_lock = (loop, asyncio.Lock())
        return self._write_lock[1]

    def begin_inline(self) -> InlineConnection | None:
        """The event loop's own write connection with BEGIN IMMEDIATE done, for a short
        write transaction of this process (the caller holds the write lock); None when
        another process is writing: the loop must not wait in SQLite's busy handler, so the
        caller takes a connection's thread, which may."""
        if sqlite3.sqlite_version_info < (3, 35):  # no RETURNING: Piccolo's insert path
            return None
        loop = asyncio.get_running_loop()
        found = self._inline_writer
        if found is None or found[0] is not loop or found[1].closed:
            kwargs = {**self.connection_kwargs, "timeout": 0, "check_same_thread": False}
            raw = sqlite3.connect(**kwargs)
            raw.row_factory = dict_factory
            raw.execute("PRAGMA foreign_keys = 1")
            found = self._inline_writer = (loop, InlineConnection(raw))
        try:
            found[1].raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return None
            raise
        return found[1]

    async def take_connection(self) -> Any:
        if self._idle_transaction:
            return self._idle_transaction.pop()
        return await self._pooled_connection()

    def give_back(self, connection: Any) -> None:
        if len(self._idle_transaction) < self._pool_size:
            self._idle_transaction.append(connection)
        else:
            asyncio.get_running_loop().create_task(connection.close())

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
        *,
        inline: bool = False,
    ) -> SQLiteTransaction:
        transaction = PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )
        transaction.inline = inline
        return transaction

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:
            # No RETURNING before SQLite 3.35: Piccolo's own path reads the new key.
            return await super()._run_in_existing_connection(
                connection, query, args, query_type, table
            )
        # The connection's row factory and PRAGMAs were set when it was opened.
        return await connection.execute_fetchall(query, args or [])

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:
            return await super()._run_in_new_connection(query, args, query_type, table)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._pool_size)
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._pooled_connection()
            try:
                rows = await connection.execute_fetchall(query, args or [])
            except sqlite3.Error:
                await connection.close()
                raise
            self._idle.append(connection)
            return rows

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        if self._inline_writer is not None:
            await self._inline_writer[1].close()
            self._inline_writer = None
        while self._idle:
            await self._idle.pop().close()
        while self._idle_transaction:
            await self._idle_transaction.pop().close()


log = logging.getLogger("registry.db")

# While set (the read-heavy public paths, see READ_REPLICA_PATHS), plain SELECTs outside a
# transaction go to a read replica; everything else stays on the primary.
_prefer_replica: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "registry_prefer_replica", default=False
)
# GET paths whose answers may lag the primary by the replication delay: the public HSDS
# directory, the public map and GeoJSON, calendar feeds, the published figures.
READ_REPLICA_PATHS = re.compile(
    r"^/api/(hsds/|geo/|ical/|interop/geojson/|metrics/|region/ambiti|gap-map)"
)
# A replica that failed is left alone this long before it is tried again.
REPLICA_RETRY_SECONDS = 5.0
# Connecting to a replica that does not answer must not hold a request for long.
REPLICA_CONNECT_TIMEOUT = 1.0


def read_replica_middleware(app: Any) -> Any:
    """ASGI middleware, placed inside the authentication middleware: reads of the read-heavy
    paths may go to a replica, while authentication (which must see a logout at once) has
    already run on the primary. Set and reset around the call, so nothing leaks into the
    next request when one task serves several (HTTP/1.1 keep-alive in some servers, tests)."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or not READ_REPLICA_PATHS.match(scope["path"])
        ):
            await app(scope, receive, send)
            return
        token = _prefer_replica.set(True)
        try:
            await app(scope, receive, send)
        finally:
            _prefer_replica.reset(token)

    return middleware


@contextlib.contextmanager
def prefer_replica() -> Any:
    """Plain SELECTs inside this block may be served by a read replica (if one is set)."""
    token = _prefer_replica.set(True)
    try:
        yield
    finally:
        _prefer_replica.reset(token)


# The replica answered badly or not at all: these send the query to the primary instead.
def _replica_failures() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (
        OSError,
        asyncio.TimeoutError,
        asyncpg.exceptions.PostgresConnectionError,
        asyncpg.exceptions.CannotConnectNowError,
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CrashShutdownError,
        asyncpg.exceptions.InterfaceError,
        asyncpg.exceptions.ConnectionDoesNotExistError,
        # A standby cancels a query that conflicts with replay: the primary has the answer.
        asyncpg.exceptions.QueryCanceledError,
    )


class RoutingPostgresEngine(PostgresEngine):
    """PostgreSQL primary with streaming replicas as Piccolo read nodes ("read_1", ...).

    Queries pick a node in two ways: explicitly (`query.run(node="read_1")`, Piccolo's own),
    or, for whole request paths, through `_prefer_replica`: then a statement that is a plain
    SELECT and not inside a transaction runs on a replica, round robin. A replica that fails
    to connect or drops the connection is skipped for REPLICA_RETRY_SECONDS and the query
    runs on the primary, so a stopped replica costs one failed attempt, not a 500.
    """

    def __init__(self, dsn: str, read_dsns: Sequence[str]) -> None:
        replicas = {
            f"read_{number}": PostgresEngine(
                config={"dsn": url, "timeout": REPLICA_CONNECT_TIMEOUT},
                extensions=(),  # a standby cannot CREATE EXTENSION
            )
            for number, url in enumerate(read_dsns, start=1)
        }
        super().__init__(config={"dsn": dsn}, extra_nodes=replicas)
        self._replicas = list(replicas.values())
        self._down_until = [0.0] * len(self._replicas)
        self._next = 0
        self.replica_queries = 0  # counted for the tests and the benchmark
        self.replica_fallbacks = 0

    def _pick_replica(self) -> int | None:
        now = time.monotonic()
        for step in range(len(self._replicas)):
            index = (self._next + step) % len(self._replicas)
            if self._down_until[index] <= now:
                self._next = index + 1
                return index
        return None

    async def _on_replica(self, run: Callable[[PostgresEngine], Awaitable[Any]]) -> Any:
        index = self._pick_replica()
        if index is None:
            return await run(self)
        try:
            response = await run(self._replicas[index])
        except _replica_failures() as error:
            self._down_until[index] = time.monotonic() + REPLICA_RETRY_SECONDS
            self.replica_fallbacks += 1
            # The error's class only: an asyncpg message can carry the address of the replica.
            log.warning(
                "read replica %d unavailable (%s): reading from the primary",
                index + 1,
                type(error).__name__,
            )
            return await run(self)
        self.replica_queries += 1
        return response

    def _routable(self, sql: str) -> bool:
        return (
            _prefer_replica.get()
            and bool(self._replicas)
            and self.current_transaction.get() is None
            and sql.lstrip()[:6].upper() == "SELECT"
        )

    async def run_querystring(self, querystring: Any, in_pool: bool = True) -> Any:
        if self._routable(str(querystring.template)):
            return await self._on_replica(
                lambda node: PostgresEngine.run_querystring(node, querystring, in_pool=in_pool)
            )
        return await super().run_querystring(querystring, in_pool=in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = True) -> Any:
        if self._routable(ddl):
            return await self._on_replica(
                lambda node: PostgresEngine.run_ddl(node, ddl, in_pool=in_pool)
            )
        return await super().run_ddl(ddl, in_pool=in_pool)

    async def start_connection_pool(self, **kwargs: Any) -> None:
        await super().start_connection_pool(**kwargs)
        for replica in self._replicas:
            # min_size=0: a replica that is down at start must not stop the service.
            await replica.start_connection_pool(
                min_size=0, max_size=kwargs.get("max_size", 10), reset=kwargs.get("reset")
            )

    async def close_connection_pool(self) -> None:
        for replica in self._replicas:
            await replica.close_connection_pool()
        await super().close_connection_pool()


def make_engine(settings: Settings) -> Engine:
    if settings.database_url and settings.database_read_urls:
        return RoutingPostgresEngine(settings.database_url, settings.database_read_urls)
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


async def keep_session(connection: Any) -> None:
    """A pooled PostgreSQL connection's reset when it goes back to the pool: nothing more
    than asyncpg's own (it rolls back a transaction left open). Its default adds a round trip
    on every release (advisory unlocks, CLOSE ALL, UNLISTEN *, RESET ALL) for session state
    this service never sets (the migration lock has a connection of its own): half the round
    trips of reading a resource by id (issue 18)."""


async def start(engine_: Engine) -> None:
    if isinstance(engine_, PostgresEngine):
        await engine_.start_connection_pool(min_size=1, max_size=10, reset=keep_session)


async def stop(engine_: Engine) -> None:
    if isinstance(engine_, PostgresEngine):
        reads = _short_read_connections.pop(id(engine_), None)
        if reads is not None and reads.loop is asyncio.get_running_loop():
            await reads.close()
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
async def unit_of_work(*, short: bool = False) -> AsyncIterator[None]:
    """One transaction for one piece of work: all of it is stored, or none of it.

    On SQLite the write lock is taken up front (BEGIN IMMEDIATE), so read-then-write
    sequences cannot fail half-way with "database is locked".

    `short`: a few statements on rows found by an index (a ledger entry, a confirmation),
    run on SQLite on the event loop's own thread (PooledSQLiteTransaction): never for work
    that may take long (imports, jobs), which would hold every other request meanwhile.
    """
    db = engine()
    if isinstance(db, PooledSQLiteEngine):
        transaction = db.transaction(transaction_type=TransactionType.immediate, inline=short)
    elif isinstance(db, SQLiteEngine):
        transaction = db.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = db.transaction()
    async with transaction:
        yield


async def reads(*pending: Awaitable[Any]) -> list[Any]:
    """Independent reads at once, each on a pooled connection: under load each read in turn
    waited for the loop to come round. Inside a transaction one after the other: its one
    connection runs a statement at a time (asyncpg refuses a second)."""
    if engine().current_transaction.get() is not None:
        return [await read for read in pending]
    return list(await asyncio.gather(*pending))


_compiled: dict[tuple[str, str], str] = {}


def _placeholders(sql: str, engine_type: str) -> str:
    """ "{}" placeholders as the engine writes them ("?" or "$1, $2..."), compiled once."""
    key = (sql, engine_type)
    compiled = _compiled.get(key)
    if compiled is None:
        if engine_type == "sqlite":
            compiled = sql.replace("{}", "?")
        else:
            parts = sql.split("{}")
            compiled = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
        _compiled[key] = compiled
    return compiled


class _ShortReads:
    """PostgreSQL connections of this process for db.fetch's short reads outside a
    transaction, apart from asyncpg's pool: its acquire and release (queue and holder
    bookkeeping, a task for the shielded release) cost more CPU than the key lookup read
    through them, 0.07 against 0.04 ms a read (issue 18). Each serves one read at a time; at
    most MAX are opened, in the background; when none is idle the read takes the pool."""

    MAX = 4

    def __init__(self, db: PostgresEngine) -> None:
        self.db = db
        self.loop = asyncio.get_running_loop()
        self.idle: list[Any] = []
        self.opened = 0
        self.opening: asyncio.Task[None] | None = None

    async def fetch(self, query: str, args: Sequence[Any]) -> Any:
        if not self.idle:
            if self.opened < self.MAX and self.opening is None:
                self.opening = asyncio.create_task(self._open())
            async with self.db.pool.acquire() as pooled:
                return await pooled.fetch(query, *args)
        connection = self.idle.pop()
        try:
            rows = await connection.fetch(query, *args)
        except asyncpg.PostgresError:  # the statement failed, the connection is fine
            self.idle.append(connection)
            raise
        except BaseException:  # broken or cancelled mid-read: its state is unknown
            self.opened -= 1
            connection.terminate()
            raise
        self.idle.append(connection)
        return rows

    async def _open(self) -> None:
        try:
            self.idle.append(await asyncpg.connect(**self.db.config))
            self.opened += 1
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("no connection for short reads (%s): reading through the pool", error)
        finally:
            self.opening = None

    async def close(self) -> None:
        if self.opening is not None:
            await asyncio.gather(self.opening, return_exceptions=True)
        idle, self.idle, self.opened = self.idle, [], 0
        await asyncio.gather(*(c.close() for c in idle), return_exceptions=True)


_short_read_connections: dict[int, _ShortReads] = {}


def _short_reads(db: PostgresEngine) -> _ShortReads:
    """The engine's short-read connections on the running loop (tests run several loops: a
    connection belongs to the loop it was opened on)."""
    found = _short_read_connections.get(id(db))
    if found is None or found.db is not db or found.loop is not asyncio.get_running_loop():
        found = _short_read_connections[id(db)] = _ShortReads(db)
    return found


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of one hand-written statement ("{}" placeholders), in the current transaction if
    there is one, as dicts. For the few hot statements of every request (authentication):
    building a Piccolo query costs more than running it there.
    Values come back as the engine's driver gives them (SQLite: booleans as 0/1)."""
    db = engine()
    query = _placeholders(sql, db.engine_type)
    if isinstance(db, PostgresEngine):
        transaction = db.current_transaction.get()
        if transaction is not None:
            rows = await transaction.connection.fetch(query, *args)
        elif db.pool is not None:
            rows = await _short_reads(db).fetch(query, args)
        else:
            rows = await db._run_in_new_connection(query, list(args))
        return [dict(row) for row in rows]
    assert isinstance(db, SQLiteEngine)
    transaction = db.current_transaction.get()
    if transaction is not None:
        return list(await db._run_in_existing_connection(transaction.connection, query, list(args)))
    if isinstance(db, PooledSQLiteEngine) and query.lstrip()[:6].upper() == "SELECT":
        rows = db.fetch_inline(query, args)
        if rows is not None:
            return rows
    return list(await db._run_in_new_connection(query, list(args)))


_DEFAULTS: dict[type[Table], list[tuple[str, Any, bool]]] = {}


def _defaults(table: type[Table]) -> list[tuple[str, Any, bool]]:
    """Each column's default as Table() sets it, as (name, value or maker, is a maker): read
    once, since Piccolo's lookup of a default costs more than inserting the row."""
    found = _DEFAULTS.get(table)
    if found is None:
        found = []
        for column in table._meta.columns:
            default = getattr(column, "default", None)
            default = default.value if isinstance(default, Enum) else default
            if isinstance(default, Default):  # UUID4(), TimestamptzNow()...
                found.append((column._meta.name, default.python, True))
            elif callable(default):
                found.append((column._meta.name, default, True))
            else:
                found.append((column._meta.name, default, False))
        _DEFAULTS[table] = found
    return found


def new_row(table: type[Table], **values: Any) -> dict[str, Any]:
    """A row of `table` by column name: every column's default (a new id, for one), then
    `values` (as stored: enums as their values)."""
    row = {
        name: made() if maker else value
        for name, made, maker in _defaults(table)
        for value in (made,)
    }
    unknown = values.keys() - row.keys()
    if unknown:
        raise TypeError(f"{table._meta.tablename} has no column {', '.join(sorted(unknown))}")
    row.update(values)
    return row


_INSERTS: dict[tuple[str, tuple[str, ...], int], str] = {}


async def insert(table: type[Table], *rows: dict[str, Any]) -> None:
    """Rows (new_row) inserted by one hand-written statement, in the current transaction if
    there is one. For the hot writes (a ledger entry, its notifications): building Piccolo's
    insert and its Table objects cost more than running it (issue 18). The driver takes the
    values as they are (SQLite through the adapters Piccolo registers: the same stored text)."""
    if not rows:
        return
    names = tuple(rows[0])
    key = (table._meta.tablename, names, len(rows))
    sql = _INSERTS.get(key)
    if sql is None:
        columns = {column._meta.name: column._meta.db_column_name for column in table._meta.columns}
        one = "(" + ", ".join("{}" for _ in names) + ")"
        sql = _INSERTS[key] = (
            f'INSERT INTO "{table._meta.tablename}" ('
            + ", ".join(f'"{columns[name]}"' for name in names)
            + ") VALUES "
            + ", ".join([one] * len(rows))
        )
    await fetch(sql, *(row[name] for row in rows for name in names))


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
