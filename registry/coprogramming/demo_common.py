"""What the demo's procedure and its partnerships share: the injected clock of the
services without a `now=` parameter, local times, the demo's users, and what the
procedure wrote."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from types import ModuleType

from registry import common
from registry.access import Principal, Role
from registry.contributions import confirmations, recording
from registry.holders import service as holders_service
from registry.italian import ROME
from registry.partnerships import commitments, patti, patto_reports, projects
from registry.users.tables import User

# The services without a `now=` parameter, whose clock the demo moves to each step's moment.
_CLOCKED: list[ModuleType] = [
    commitments,
    projects,
    patti,
    patto_reports,
    recording,
    confirmations,
    holders_service,
]


class _Clock:
    """Moves the services' clock to a step's moment (the demo's injected clock): every name
    under which a clocked service imported `registry.common.now` answers `moment` meanwhile."""

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        saved = [
            (module, name, value)
            for module in _CLOCKED
            for name, value in vars(module).items()
            if value is common.now
        ]
        for module, name, _ in saved:
            setattr(module, name, lambda: moment)
        try:
            yield
        finally:
            for module, name, value in saved:
                setattr(module, name, value)


def _at(day: date, hhmm: str = "10:00") -> datetime:
    """A local time in the ambito, as the UTC instant the services stamp."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=ROME).astimezone(UTC)


async def _principal(ambito_id: uuid.UUID, username: str) -> Principal:
    row = (
        await User.select(User.id, User.role, User.holder)
        .where((User.ambito == ambito_id) & (User.username == username))
        .first()
    )
    if row is None:
        raise RuntimeError(f"the demo has no user {username!r}")
    return Principal(row["id"], username, Role(row["role"]), ambito_id, row["holder"])


@dataclass
class DemoProcedure:
    """What the procedure's part wrote, for the co-design and the patto that follow."""

    procedure_id: uuid.UUID
    session_ids: dict[int, uuid.UUID]
    holder_ids: dict[str, uuid.UUID]
    proposal_ids: dict[str, uuid.UUID]
