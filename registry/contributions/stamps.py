"""The moment a ledger row is written at: its `created_at` (an entry) or `confirmed_at` (a
confirmation), the marks the metrics keep their figures at.

Figures kept at the marks are later completed with the rows stamped after them only
(metrics/snapshot_store.py). A row stamped before the marks but committed after they were
read would be missed for good, and on PostgreSQL concurrent writers commit in any order. So a
ledger write stamps its row inside its transaction, once its ambito's turn has come, and
never earlier than the latest row of the table (clocks of two servers may disagree): rows
then become visible in the order of their stamps.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from piccolo.table import Table

from registry.common import now
from registry.db import fetch, insert, is_sqlite, take_turn

# The stamp of each ledger table, and its ambito's latest.
_STAMP = {"contribution": "created_at", "contribution_confirmation": "confirmed_at"}
_INSERTS: dict[tuple[str, tuple[str, ...]], str] = {}


async def stamped_insert(ambito_id: uuid.UUID, table: type[Table], row: dict[str, Any]) -> None:
    """Inside the write's transaction (unit_of_work), last: insert the ledger row (db.new_row)
    stamped once its ambito's turn has come, never earlier than the latest row of the
    table; `row` then holds its stamp. On PostgreSQL the latest row is read by the insert
    itself: the ambito's writers wait for each other's commit, and each trip to the
    database while holding the turn lengthens every wait (a new statement: it sees the
    commit of the writer that held the turn before)."""
    name = table._meta.tablename
    column = _STAMP[name]
    await take_turn("ledger", ambito_id)
    if is_sqlite():
        latest = (
            await fetch(
                f"SELECT max({column}) AS latest FROM {name} WHERE ambito = {{}}", ambito_id
            )
        )[0]["latest"]
        moment = now()
        if latest is not None:  # max() of a timestamp is its text
            moment = max(moment, datetime.fromisoformat(latest) + timedelta(microseconds=1))
        row[column] = moment
        await insert(table, row)
        return
    names = tuple(n for n in row if n != column)
    sql = _INSERTS.get((name, names))
    if sql is None:
        columns = {c._meta.name: c._meta.db_column_name for c in table._meta.columns}
        sql = _INSERTS[(name, names)] = (
            f'INSERT INTO "{name}" ('
            + ", ".join(f'"{columns[n]}"' for n in names)
            + f', "{column}") VALUES ('
            + ", ".join("{}" for _ in names)
            + f", GREATEST({{}}, (SELECT max({column}) FROM {name} WHERE ambito = {{}})"
            + f" + interval '1 microsecond')) RETURNING {column} AS stamp"
        )
    (stamped,) = await fetch(sql, *(row[n] for n in names), now(), ambito_id)
    row[column] = stamped["stamp"]
