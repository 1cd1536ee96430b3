"""Upgrades that keep real data: a pending migration that would destroy stored values refuses
to run until an operator says so after a backup.

Real ambiti keep their records in these databases from release 0.1.0 on
(tests/fixtures/releases/ holds a database written by it). Piccolo applies a migration's
operations as written, whether or not the table is empty; this module reads the pending
migrations first and refuses those that would drop a table with rows, drop a column that
holds values, or change the type of (or shorten) a column that holds values.
Hand-written `raw` steps (the index migrations) cannot be read and are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import Finder

from registry import db

APP_NAME = "registry"


class DataLossRefused(RuntimeError):
    """A pending migration would destroy stored data; the message says which and how to
    proceed."""


@dataclass(frozen=True, slots=True)
class Loss:
    migration_id: str
    what: str

    def __str__(self) -> str:
        return f"{self.migration_id}: {self.what}"


async def _table_exists(table: str) -> bool:
    if db.is_sqlite():
        rows = await db.engine().run_ddl(
            f"SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
        )
    else:
        rows = await db.engine().run_ddl(
            f"SELECT to_regclass('public.{table}') IS NOT NULL AS found"
        )
        rows = [row for row in rows if row["found"]]
    return bool(rows)


async def _count(table: str, where: str = "TRUE") -> int:
    if not await _table_exists(table):
        return 0
    where = "1" if where == "TRUE" and db.is_sqlite() else where
    rows = await db.engine().run_ddl(f'SELECT COUNT(*) AS n FROM "{table}" WHERE {where}')
    return int(rows[0]["n"])


async def losses_of(migration_id: str, manager: MigrationManager) -> list[Loss]:
    """What running this migration would destroy in the bound database."""
    found: list[Loss] = []
    for table in manager.drop_tables:
        rows = await _count(table.tablename)
        if rows:
            found.append(Loss(migration_id, f"drops table {table.tablename} holding {rows} rows"))
    for column in manager.drop_columns.drop_columns:
        rows = await _count(column.tablename, f'"{column.db_column_name}" IS NOT NULL')
        if rows:
            found.append(
                Loss(
                    migration_id,
                    f"drops column {column.tablename}.{column.db_column_name}, "
                    f"which holds {rows} values",
                )
            )
    for alter in manager.alter_columns.alter_columns:
        name = f'"{alter.db_column_name}"'
        changes_type = (
            alter.column_class is not None
            and alter.old_column_class is not None
            and alter.column_class is not alter.old_column_class
        )
        new_length = alter.params.get("length")
        old_length = alter.old_params.get("length")
        if changes_type:
            rows = await _count(alter.tablename, f"{name} IS NOT NULL")
            if rows:
                found.append(
                    Loss(
                        migration_id,
                        f"changes the type of {alter.tablename}.{alter.db_column_name} "
                        f"({alter.old_column_class.__name__} → {alter.column_class.__name__}), "  # type: ignore[union-attr]
                        f"which holds {rows} values",
                    )
                )
        elif isinstance(new_length, int) and (
            not isinstance(old_length, int) or new_length < old_length
        ):
            rows = await _count(alter.tablename, f"LENGTH({name}) > {int(new_length)}")
            if rows:
                found.append(
                    Loss(
                        migration_id,
                        f"shortens {alter.tablename}.{alter.db_column_name} to {new_length} "
                        f"characters, {rows} values are longer",
                    )
                )
    return found


async def pending_managers() -> list[tuple[str, MigrationManager]]:
    """The migrations not yet applied to the bound database, in order, as Piccolo would run
    them (building a manager only records operations; nothing is executed)."""
    app_config = Finder().get_app_config(APP_NAME)
    reader = BaseMigrationManager()
    modules = reader.get_migration_modules(app_config.resolved_migrations_folder_path)
    applied: set[str] = set()
    if await _table_exists(Migration._meta.tablename):
        applied = set(await Migration.get_migrations_which_ran(app_name=APP_NAME))
    pending = sorted(set(reader.get_migration_ids(modules)) - applied)
    return [(migration_id, await modules[migration_id].forwards()) for migration_id in pending]


async def refuse_data_loss() -> None:
    """Raise DataLossRefused when a pending migration would destroy stored data."""
    losses: list[Loss] = []
    for migration_id, manager in await pending_managers():
        losses += await losses_of(migration_id, manager)
    if losses:
        listed = "; ".join(str(loss) for loss in losses)
        raise DataLossRefused(
            f"the database was not changed: a pending migration would lose data ({listed}). "
            "Back it up (registry backup FILE), then run `registry migrate --allow-data-loss`."
        )
