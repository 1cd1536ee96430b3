"""Indexes for the metrics' data fingerprint: the latest ledger entry and confirmation of an
ambito are then one index lookup, not a count over millions of rows.

Written by hand like 2026-11-23T11:09:12:000000 (plain CREATE INDEX works on both engines).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "metrics: latest-change indexes of the ledger"

INDEXES = (
    "CREATE INDEX IF NOT EXISTS contribution_ambito_created_at_ix "
    "ON contribution (ambito, created_at)",
    "CREATE INDEX IF NOT EXISTS contribution_confirmation_ambito_confirmed_at_ix "
    "ON contribution_confirmation (ambito, confirmed_at)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in INDEXES:
            await engine.run_ddl(statement)

    async def drop_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in INDEXES:
            name = statement.split(" EXISTS ", 1)[1].split(" ", 1)[0]
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
