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
from registry.db import fetch, insert, is_sqlite

# The stamp of each ledger table, and its ambito's latest.
_STAMP = {"contribution": "created_at", "contribution_confirmation": "confirmed_at"}


async def stamped_insert(ambito_id: uuid.UUID, table: type[Table], row: dict[str, Any]) -> None:
    """Inside the write's transaction (unit_of_work), last: insert the ledger row (db.new_row)
    stamped once its ambito's turn has come, never earlier than the latest row of the
    table; `row` then holds its stamp.

    The ambito's writers wait for each other's commit, and every trip to the database while
    the turn is held lengthens each wait. On PostgreSQL the row is inserted first, then one
    statement takes the turn, reads the latest stamp and stamps the row (the function
    registry_ledger_stamp, migration 2026-12-08T01:20), and the commit follows: the turn is
    held for that statement and the commit only. SQLite's write lock, taken when the
    transaction began, is the turn."""
    name = table._meta.tablename
    column = _STAMP[name]
    if is_sqlite():
        latest_sql = f"SELECT max({column}) AS latest FROM {name} WHERE ambito = {{}}"
        latest = (await fetch(latest_sql, ambito_id))[0]["latest"]
        moment = now()
        if latest is not None:  # max() of a timestamp is its text
            moment = max(moment, datetime.fromisoformat(latest) + timedelta(microseconds=1))
        row[column] = moment
        await insert(table, row)
        return
    row[column] = now()  # until the row is stamped in its turn, just below
    await insert(table, row)
    (stamped,) = await fetch(
        "SELECT registry_ledger_stamp(CAST({} AS TEXT)::regclass, {}, {}, {}, {}, {}) AS stamp",
        name,
        column,
        row["id"],
        ambito_id,
        now(),
        f"ledger:{ambito_id}",  # the turn: an advisory lock on its hash
    )
    row[column] = stamped["stamp"]
