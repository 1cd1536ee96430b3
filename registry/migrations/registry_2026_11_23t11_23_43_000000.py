"""Unique indexes of the metrics tables (issue 5).

Written by hand, like the ledger's: Piccolo's composite `Unique` constraint is emitted as
ALTER TABLE ... ADD CONSTRAINT, which SQLite does not support, while CREATE UNIQUE INDEX works
on both engines. It must run after 2026-11-23T11:23:42:796786, which creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T11:23:43:000000"
VERSION = "1.38.0"
DESCRIPTION = "issue 5: unique indexes of rates, task levels, interactions, snapshots"

INDEXES = (
    # One rate per level and year in an ambito.
    "CREATE UNIQUE INDEX IF NOT EXISTS metrics_value_rate_uq "
    "ON metrics_value_rate (ambito, task_level, year)",
    "CREATE UNIQUE INDEX IF NOT EXISTS metrics_task_level_uq "
    "ON metrics_task_level (ambito, category_code)",
    "CREATE UNIQUE INDEX IF NOT EXISTS holder_interaction_participant_uq "
    "ON holder_interaction_participant (interaction, holder)",
    # One snapshot per period: the nightly job updates it in place.
    "CREATE UNIQUE INDEX IF NOT EXISTS metrics_snapshot_period_uq "
    "ON metrics_snapshot (ambito, granularity, period_key)",
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
