"""PostgreSQL: the function that stamps a ledger row once its ambito's turn has come
(contributions/stamps.py), so that taking the turn, reading the table's latest stamp and
stamping the row are one trip to the database, and the turn is held for that trip and the
commit only. SQLite needs none (its write lock is the turn).

Inside a PL/pgSQL function each statement reads the data as it is when it runs (READ
COMMITTED): the latest stamp is read after the lock is granted, so it includes the row of
the writer that held the turn before.
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-08T01:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: a row's stamp in its ambito's turn, in one statement (PostgreSQL)"

FUNCTION = """
CREATE OR REPLACE FUNCTION registry_ledger_stamp(
    ledger regclass, stamp text, row_id uuid, ambito_id uuid, at timestamptz, turn text
) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    latest timestamptz;
    stamped timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(turn, 0));
    EXECUTE format('SELECT max(%I) FROM %s WHERE ambito = $1 AND id <> $2', stamp, ledger)
        INTO latest USING ambito_id, row_id;
    stamped := GREATEST(at, latest + interval '1 microsecond');
    EXECUTE format('UPDATE %s SET %I = $1 WHERE id = $2', ledger, stamp) USING stamped, row_id;
    RETURN stamped;
END
$$
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        engine: Any = engine_finder()
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl(FUNCTION)

    async def drop() -> None:
        engine: Any = engine_finder()
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl(
                "DROP FUNCTION IF EXISTS registry_ledger_stamp(regclass, text, uuid, uuid, "
                "timestamptz, text)"
            )

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
