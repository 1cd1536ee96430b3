"""What a ledger entry is for, when that is a match or a plan need (another domain).

The ledger keeps `match_id`, `need_id` and `plan_id` as plain UUID columns without foreign
keys, so it stands on its own; this module checks them against the plans and matches
domains and answers the two questions the ledger asks: which plan (and holder) an entry
belongs to, and whether a user may act for that plan. If those domains are not installed,
entries tied to a match or need are refused with a clear message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from registry.access import Principal, Role
from registry.errors import InvalidInput

try:  # the plans and matches domains are optional for the ledger
    from registry.matches.tables import Match
    from registry.plans import service as plans
    from registry.plans.tables import Need, Plan
except ImportError:  # pragma: no cover - only without those domains
    Match = Need = Plan = plans = None  # type: ignore[assignment,misc]

# A contribution is recorded for a match that was agreed, is running or has ended.
CONTRIBUTING_STATUSES = frozenset({"accepted", "active", "completed"})


@dataclass(frozen=True, slots=True)
class Link:
    plan_id: uuid.UUID
    need_id: uuid.UUID
    match_id: uuid.UUID | None = None
    holder_id: uuid.UUID | None = None  # the match's holder
    resource_id: uuid.UUID | None = None  # the match's resource


def available() -> bool:
    return Match is not None


async def resolve(
    ambito_id: uuid.UUID, match_id: uuid.UUID | None, need_id: uuid.UUID | None
) -> Link | None:
    """The plan, need and holder behind a match or need of this ambito; InvalidInput naming
    the field when it does not exist here (another ambito's ids are simply unknown)."""
    if match_id is None and need_id is None:
        return None
    if not available():
        field = "match_id" if match_id else "need_id"
        raise InvalidInput("matches and plans are not available in this registry", field=field)
    if match_id is not None:
        match = (
            await Match.select(
                Match.id, Match.plan, Match.need, Match.holder, Match.resource, Match.status
            )
            .where((Match.id == match_id) & (Match.ambito == ambito_id))
            .first()
        )
        if match is None:
            raise InvalidInput("no such match in this ambito", field="match_id")
        if match["status"] not in CONTRIBUTING_STATUSES:
            raise InvalidInput(
                f"this match is '{match['status']}': contributions are recorded for accepted, "
                "active or completed matches",
                field="match_id",
            )
        if need_id is not None and need_id != match["need"]:
            raise InvalidInput("need_id is not the need of this match", field="need_id")
        return Link(
            plan_id=match["plan"],
            need_id=match["need"],
            match_id=match["id"],
            holder_id=match["holder"],
            resource_id=match["resource"],
        )
    need = (
        await Need.select(Need.id, Need.plan)
        .where((Need.id == need_id) & (Need.ambito == ambito_id))
        .first()
    )
    if need is None:
        raise InvalidInput("no such need in this ambito", field="need_id")
    return Link(plan_id=need["plan"], need_id=need["id"])


async def _plan(plan_id: uuid.UUID) -> dict[str, Any] | None:
    if not available():
        return None
    return (
        await Plan.select(Plan.id, Plan.ambito, Plan.owner, Plan.shared_with)
        .where(Plan.id == plan_id)
        .first()
    )


async def works_on_plan(actor: Principal, plan_id: uuid.UUID) -> bool:
    """The UdP, or a social worker who owns the plan or had it shared by the UdP."""
    if actor.role is Role.UDP_ADMIN:
        return True
    if actor.role is not Role.SOCIAL_WORKER:
        return False
    plan = await _plan(plan_id)
    return plan is not None and plans.can_see(actor, plan)


def visible_plans_query(actor: Principal) -> Any:
    """A sub-select of the plan ids `actor` works on (None when plans are not installed)."""
    if not available():
        return None
    return Plan.select(Plan.id).where(plans.visible_where(actor))
