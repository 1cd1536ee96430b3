"""Unique indexes of the metrics tables (issue 5).

Written by hand, like the ledger's: Piccolo's composite `Unique` constraint is emitted as
ALTER TABLE ... ADD CONSTRAINT, which SQLite does not support, while CREATE UNIQUE INDEX works
on both engines. It must run after 2026-11-23T11:23:42:796786, which creates the tables.
"""

from registry.db import index_migration

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


forwards = index_migration(ID, DESCRIPTION, INDEXES)
