"""Comune membership history: at most one open period per comune, and an opening period for
every comune that existed before the history did (from its ambito's creation date).

Written by hand like 2026-11-23T11:09:12:000000: a partial unique index (both engines have
them) and a data step. It must run after 2026-12-06T14:02:58:113486, which creates the table.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T14:02:59:000000"
VERSION = "1.38.0"
DESCRIPTION = "issue 14: one open membership per comune; history for existing comuni"

OPEN_UNIQUE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS comune_membership_open_uq "
    "ON comune_membership (istat_code) WHERE valid_until IS NULL"
)
HISTORY_INDEX = (
    "CREATE INDEX IF NOT EXISTS comune_membership_code_from_ix "
    "ON comune_membership (istat_code, valid_from)"
)

# The comune's own id serves as the id of its first period (both are UUIDs, in two tables).
BACKFILL = """
INSERT INTO comune_membership (id, istat_code, ambito, valid_from, valid_until, reason, created_at)
SELECT c.id, c.istat_code, c.ambito, {day}, NULL, 'created', a.created_at
FROM comune c JOIN ambito a ON a.id = c.ambito
WHERE NOT EXISTS (SELECT 1 FROM comune_membership m WHERE m.istat_code = c.istat_code)
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(OPEN_UNIQUE)
        await engine.run_ddl(HISTORY_INDEX)
        # SQLite keeps timestamps as ISO text; PostgreSQL casts them.
        day = (
            "substr(a.created_at, 1, 10)"
            if engine.engine_type == "sqlite"
            else "a.created_at::date"
        )
        await engine.run_ddl(BACKFILL.format(day=day))

    async def undo() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX IF EXISTS comune_membership_code_from_ix")
        await engine.run_ddl("DROP INDEX IF EXISTS comune_membership_open_uq")

    manager.add_raw(run)
    manager.add_raw_backwards(undo)
    return manager
