"""The builder's state and helpers: the rows it collects, the people and resources
`load_demo` wrote, the volunteer accounts, and the bulk write at the end."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any

from piccolo.table import Table

from registry import italian
from registry.access import Principal, Role
from registry.ambiti.tables import Comune
from registry.audit.schemas import AuditAction
from registry.audit.tables import AccessLog
from registry.checkin.tables import CheckIn
from registry.contributions.tables import (
    ActivityOrganiser,
    CommunityActivity,
    Contribution,
    ContributionConfirmation,
)
from registry.db import unit_of_work
from registry.demo_activity.specs import (
    FREE_VOLUNTEER,
    FREE_VOLUNTEER_HOLDERS,
    RESOURCES,
    VOLUNTEERS,
)
from registry.holders.tables import Holder
from registry.interventions.tables import FundedIntervention
from registry.italian import ROME
from registry.matches.tables import Match, MatchEvent, ResourceCapacity
from registry.metrics.tables import Interaction, InteractionParticipant
from registry.plans.tables import Need, Plan
from registry.resources.tables import Resource
from registry.users.tables import User

CHUNK = 200  # rows per INSERT: far below SQLite's limit of bound parameters


# --- the builder --------------------------------------------------------------------------------


@dataclass
class Counts:
    volunteers: int = 0
    plans: int = 0
    needs: int = 0
    matches: int = 0
    contributions: int = 0
    confirmations: int = 0
    checkins: int = 0
    activities: int = 0
    interventions: int = 0
    interactions: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class _Person:
    id: uuid.UUID
    username: str
    role: Role
    holder: uuid.UUID | None

    def principal(self, ambito_id: uuid.UUID) -> Principal:
        return Principal(self.id, self.username, self.role, ambito_id, self.holder)


@dataclass
class _MatchLife:
    """A live match, for the ledger: what it is for and when it ran."""

    match_id: uuid.UUID
    plan: dict[str, Any]
    need_id: uuid.UUID
    resource_key: str
    resource_id: uuid.UUID
    holder_id: uuid.UUID
    schedule: tuple[tuple[str, str, str], ...]
    start: datetime
    end: datetime | None  # completed at; None: still running


def at(day: date, hhmm: str) -> datetime:
    """A local time in the ambito, as the UTC instant the database stores."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=ROME).astimezone(UTC)


class _Base:
    def __init__(
        self, ambito_id: uuid.UUID, moment: datetime, password_hash: str, rng: Random
    ) -> None:
        self.ambito_id = ambito_id
        self.moment = moment
        self.today = italian.today(moment)
        self.password_hash = password_hash
        self.rng = rng
        self.rows: dict[type[Table], list[Table]] = defaultdict(list)
        self.late_rows: dict[type[Table], list[Table]] = defaultdict(list)
        self.counts = Counts()
        self.holders: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.comuni: dict[str, str] = {}
        self.people: dict[str, _Person] = {}
        self.by_holder: dict[uuid.UUID, list[_Person]] = defaultdict(list)
        self.lives: list[_MatchLife] = []
        self.plans: dict[str, dict[str, Any]] = {}
        # QR codes handed out: (target, holder) -> (token id, valid from, valid until)
        self.codes: dict[tuple[str, uuid.UUID], tuple[str, datetime, datetime]] = {}
        # When each match held a place of its resource: (taken, released or None).
        self.holds: dict[uuid.UUID, list[tuple[datetime, datetime | None]]] = defaultdict(list)

    # -- helpers ------------------------------------------------------------------------

    def add(self, row: Table, *, late: bool = False) -> Table:
        (self.late_rows if late else self.rows)[type(row)].append(row)
        return row

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def past(self, moment: datetime) -> datetime:
        """Never later than now (the demo only shows what already happened)."""
        return min(moment, self.moment - timedelta(minutes=5))

    def person(self, username: str) -> _Person:
        return self.people[username]

    def holder_side(self, holder_id: uuid.UUID) -> _Person:
        """Who answers proposals for a holder: its manager, or the UdP on its behalf."""
        auser = self.people["auser"]
        return auser if auser.holder == holder_id else self.people["udp"]

    def audit(
        self, who: _Person, action: AuditAction, when: datetime, plan_id: uuid.UUID, **extra: Any
    ) -> None:
        self.add(
            AccessLog(
                ambito=self.ambito_id,
                user=who.id,
                username=who.username,
                role=who.role.value,
                at=when,
                action=action.value,
                plan_id=plan_id,
                **extra,
            )
        )

    # -- reading what load_demo wrote ----------------------------------------------------

    async def load(self) -> None:
        for row in await Holder.select().where(Holder.ambito == self.ambito_id):
            self.holders[row["name"]] = row
        for row in await Resource.select().where(Resource.ambito == self.ambito_id):
            self.resources[row["title"]] = row
        for row in await Comune.select(Comune.name, Comune.istat_code).where(
            Comune.ambito == self.ambito_id
        ):
            self.comuni[row["name"]] = row["istat_code"]
        for row in await User.select().where(User.ambito == self.ambito_id):
            self._know(_Person(row["id"], row["username"], Role(row["role"]), row["holder"]))

    def _know(self, person: _Person) -> None:
        self.people[person.username] = person
        if person.role is Role.VOLUNTEER and person.holder is not None:
            self.by_holder[person.holder].append(person)

    def resource(self, key: str) -> dict[str, Any]:
        return self.resources[RESOURCES[key]]

    # -- volunteers ------------------------------------------------------------------------

    def volunteers(self) -> None:
        for index, (username, holder_name) in enumerate(VOLUNTEERS):
            holder = self.holders[holder_name]
            joined = max(holder["created_at"], self.moment - timedelta(days=400 - index * 3))
            user = self.add(
                User(
                    id=self.new_id(),
                    username=username,
                    password_hash=self.password_hash,
                    role=Role.VOLUNTEER.value,
                    ambito=self.ambito_id,
                    holder=holder["id"],
                    created_at=joined,
                )
            )
            self._know(_Person(user.id, username, Role.VOLUNTEER, holder["id"]))
        self.counts.volunteers = len(VOLUNTEERS)
        free = self.people[FREE_VOLUNTEER]
        for name in FREE_VOLUNTEER_HOLDERS:
            # Not the holder's own volunteer in the accounts, but it gives time there.
            self.by_holder[self.holders[name]["id"]].append(free)

    def crew(self, holder_id: uuid.UUID, size: int) -> list[_Person]:
        people = self.by_holder[holder_id]
        return self.rng.sample(people, min(size, len(people)))

    # -- writing -----------------------------------------------------------------------------

    async def write(self) -> None:
        order: Sequence[type[Table]] = (
            User,
            Plan,
            Need,
            AccessLog,
            Match,
            MatchEvent,
            ResourceCapacity,
            CommunityActivity,
            ActivityOrganiser,
            Contribution,
            FundedIntervention,
            Interaction,
            InteractionParticipant,
        )
        late: Sequence[type[Table]] = (Contribution, ContributionConfirmation, CheckIn)
        async with unit_of_work():
            for batch in (
                [(t, self.rows[t]) for t in order],
                [(t, self.late_rows[t]) for t in late],
            ):
                for table, rows in batch:
                    for start in range(0, len(rows), CHUNK):
                        await table.insert(*rows[start : start + CHUNK])
