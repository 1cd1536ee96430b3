"""Helpers shared by the partnerships modules (projects, patti, commitments, reports).

Rules
- The UdP manages projects and patti (create, change, add partners, commitments, milestones,
  renewals, reports). A holder manager sees the projects and patti its holder takes part in,
  with its own commitments and the public side's (not the other partners'), and the reports
  of its patti; it records ledger entries under its own holder's commitments. Social workers
  and volunteers: nothing (403). Another ambito's record is a 404.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import date
from typing import Any

from asyncpg.exceptions import IntegrityConstraintViolationError

from registry.access import Principal, Role
from registry.errors import InvalidInput
from registry.holders.tables import Holder

_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)
_MANAGERS = (Role.UDP_ADMIN, Role.HOLDER_MANAGER)

FIRST_YEAR, LAST_YEAR = 1950, 2200


def _in_range(field: str, *days: date | None) -> None:
    """Dates a patto or project can have: arithmetic on them (renewals, reporting periods)
    must not leave the calendar (year 9999 + a day is an OverflowError, a 500)."""
    for day in days:
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise InvalidInput(
                f"the year must be between {FIRST_YEAR} and {LAST_YEAR}", field=field
            )


async def _holders(ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    if not ids:
        return {}
    rows = await Holder.select(Holder.id, Holder.name, Holder.kind, Holder.sector).where(
        Holder.id.is_in(list(set(ids)))
    )
    return {r["id"]: r for r in rows}


async def _check_holders(actor: Principal, ids: list[uuid.UUID], field: str) -> None:
    found = (
        {
            r["id"]
            for r in await Holder.select(Holder.id).where(
                Holder.id.is_in(list(set(ids))) & (Holder.ambito == actor.ambito_id)
            )
        }
        if ids
        else set()
    )
    for index, holder_id in enumerate(ids):
        if holder_id not in found:
            raise InvalidInput("no such holder in this ambito", field=f"{field}[{index}]")


def _only_roles(actor: Principal) -> None:
    actor.require(*_MANAGERS)
