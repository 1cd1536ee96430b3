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
from typing import Literal

from registry.common import now
from registry.db import fetch, take_turn

_LATEST = {
    "contribution": "SELECT max(created_at) AS latest FROM contribution WHERE ambito = {}",
    "contribution_confirmation": (
        "SELECT max(confirmed_at) AS latest FROM contribution_confirmation WHERE ambito = {}"
    ),
}


async def ledger_moment(
    ambito_id: uuid.UUID, table: Literal["contribution", "contribution_confirmation"]
) -> datetime:
    """Inside the write's transaction (unit_of_work): the stamp of the row it writes."""
    await take_turn("ledger", ambito_id)
    latest = (await fetch(_LATEST[table], ambito_id))[0]["latest"]
    moment = now()
    if latest is not None:
        if isinstance(latest, str):  # SQLite: max() of a timestamp is its text
            latest = datetime.fromisoformat(latest)
        moment = max(moment, latest + timedelta(microseconds=1))
    return moment
