"""Reading the contribution ledger: which entries count (effective, verified), who sees
which, one entry, lists, an entry's history, totals.

Rules
- Who sees: the UdP the whole ambito; a holder manager its holder's entries; a volunteer
  its own; a social worker the entries of the plans it works on and those it recorded.
  Anything else answers 404. Plan and need ids are shown to the plan side only.
- The *effective* entries, the ones totals count, are those nobody corrected or cancelled,
  minus the cancellations themselves (registry/contributions/corrections.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from piccolo.query.methods.select import Count, Sum

from registry.access import Principal, Role
from registry.common import Page
from registry.contributions import links
from registry.contributions.quantities import shown_quantity
from registry.contributions.schemas import (
    ConfirmationOut,
    ContributionOut,
    LedgerFilter,
    SummaryOut,
    TotalOut,
)
from registry.contributions.tables import Contribution, ContributionConfirmation
from registry.db import fetch
from registry.errors import InvalidInput, NotFound, PermissionDenied
from registry.vocabularies import TIME_UNITS, ContributionUnit, EntryKind, Verification

_PLAN_SIDE = (Role.UDP_ADMIN, Role.SOCIAL_WORKER)


_COLUMNS = (
    *Contribution.all_columns(),
    Contribution.holder.name.as_alias("holder_name"),
    Contribution.volunteer.username.as_alias("volunteer_username"),
)


def _successors(ambito_id: uuid.UUID) -> Any:
    return Contribution.select(Contribution.corrects).where(
        (Contribution.ambito == ambito_id) & Contribution.corrects.is_not_null()
    )


def effective_where(ambito_id: uuid.UUID) -> Any:
    """The entries totals count: not replaced or cancelled, and not a cancellation."""
    return (
        (Contribution.ambito == ambito_id)
        & Contribution.id.not_in(_successors(ambito_id))
        & (Contribution.kind != EntryKind.CANCELLATION.value)
    )


def _confirmed_ids(ambito_id: uuid.UUID) -> Any:
    return ContributionConfirmation.select(ContributionConfirmation.contribution).where(
        ContributionConfirmation.ambito == ambito_id
    )


def verified_where(ambito_id: uuid.UUID) -> Any:
    """qr_verified or confirmed: the entries the metrics count."""
    return (Contribution.verification == Verification.QR_VERIFIED.value) | Contribution.id.is_in(
        _confirmed_ids(ambito_id)
    )


def unverified_where(ambito_id: uuid.UUID) -> Any:
    return (Contribution.verification == Verification.SELF_REPORTED.value) & (
        Contribution.id.not_in(_confirmed_ids(ambito_id))
    )


def awaiting_where(actor: Principal) -> Any:
    """The self-reported entries nobody confirmed yet that `actor` is the one to confirm:
    for a social worker those of the plans it owns or that are shared with it, for a holder
    manager its holder's entries not tied to a plan, for the UdP all; a volunteer none."""
    where = unverified_where(actor.ambito_id)
    if actor.role is Role.UDP_ADMIN:
        return where
    if actor.role is Role.SOCIAL_WORKER:
        plan_ids = links.visible_plans_query(actor)
        if plan_ids is None:
            return where & Contribution.id.is_null()
        return where & Contribution.plan_id.is_in(plan_ids)
    if actor.role is Role.HOLDER_MANAGER and actor.holder_id is not None:
        return where & (Contribution.holder == actor.holder_id) & Contribution.plan_id.is_null()
    return where & Contribution.id.is_null()  # nothing


def visible_where(actor: Principal) -> Any:
    where = Contribution.ambito == actor.ambito_id
    if actor.role is Role.UDP_ADMIN:
        return where
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None:
            return where & Contribution.id.is_null()  # nothing
        return where & (Contribution.holder == actor.holder_id)
    if actor.role is Role.VOLUNTEER:
        return where & (Contribution.volunteer == actor.user_id)
    own = Contribution.created_by == actor.user_id
    plan_ids = links.visible_plans_query(actor)
    if plan_ids is None:
        return where & own
    return where & (own | Contribution.plan_id.is_in(plan_ids))


async def _confirmations(ids: list[uuid.UUID]) -> dict[uuid.UUID, ConfirmationOut]:
    if not ids:
        return {}
    rows = await ContributionConfirmation.select(
        *ContributionConfirmation.all_columns(),
        ContributionConfirmation.confirmed_by.username.as_alias("username"),
    ).where(ContributionConfirmation.contribution.is_in(ids))
    return {
        row["contribution"]: ConfirmationOut(
            confirmed_by=row["confirmed_by"],
            confirmed_by_username=row["username"],
            role=row["role"],
            confirmed_at=row["confirmed_at"],
            note=row["note"],
        )
        for row in rows
    }


async def _successor_of(ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    if not ids:
        return {}
    rows = await Contribution.select(Contribution.id, Contribution.corrects).where(
        Contribution.corrects.is_in(ids)
    )
    return {row["corrects"]: row["id"] for row in rows}


async def _outs(actor: Principal, rows: list[dict[str, Any]]) -> list[ContributionOut]:
    ids = [row["id"] for row in rows]
    confirmations = await _confirmations(ids)
    successors = await _successor_of(ids)
    return [
        _out(actor, row, confirmations.get(row["id"]), successors.get(row["id"])) for row in rows
    ]


def _out(
    actor: Principal,
    row: dict[str, Any],
    confirmation: ConfirmationOut | None,
    successor: uuid.UUID | None,
) -> ContributionOut:
    plan_side = actor.role in _PLAN_SIDE
    if confirmation is not None:
        verification = Verification.CONFIRMED
    else:
        verification = Verification(row["verification"])
    return ContributionOut(
        id=row["id"],
        ambito_id=row["ambito"],
        holder_id=row["holder"],
        holder_name=row["holder_name"],
        volunteer_id=row["volunteer"],
        volunteer_username=row["volunteer_username"],
        resource_id=row["resource"],
        activity_id=row["activity"],
        match_id=row["match_id"],
        # A plan or need id would let the holder side link the needs of one person.
        need_id=row["need_id"] if plan_side else None,
        plan_id=row["plan_id"] if plan_side else None,
        kind=EntryKind(row["kind"]),
        corrects_id=row["corrects"],
        superseded_by=successor,
        effective=successor is None and row["kind"] != EntryKind.CANCELLATION,
        unit=ContributionUnit(row["unit"]),
        quantity=shown_quantity(row["unit"], row["quantity"]),
        minutes=row["quantity"] if row["unit"] in TIME_UNITS else None,
        value_cents=row["value_cents"],
        occurred_on=row["occurred_on"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        comune=row["comune"],
        note=row["note"],
        verification=verification,
        confirmation=confirmation,
        created_by=row["created_by"],
        created_by_role=row["created_by_role"],
        created_at=row["created_at"],
    )


# One entry with its holder's and volunteer's names, in one hand-written read (building the
# Piccolo query with its two joins cost more than running it: issue 18).
_ENTRY = (
    "SELECT c.*, h.name AS holder_name, u.username AS volunteer_username "
    "FROM contribution c JOIN holder h ON h.id = c.holder "
    "LEFT JOIN app_user u ON u.id = c.volunteer WHERE c.id = {}"
)
_IN_AMBITO = _ENTRY + " AND c.ambito = {}"


async def fresh_contribution(actor: Principal, contribution_id: uuid.UUID) -> ContributionOut:
    """An entry the caller has just written: it may see it (it was allowed to write it), and
    nothing can have confirmed or corrected it yet."""
    [row] = await fetch(_ENTRY, contribution_id)
    return _out(actor, row, None, None)


async def _row(actor: Principal, contribution_id: uuid.UUID) -> dict[str, Any]:
    rows = await fetch(_IN_AMBITO, contribution_id, actor.ambito_id)
    if not rows or not await _sees(actor, rows[0]):
        raise NotFound("no such contribution")
    return rows[0]


async def _sees(actor: Principal, row: dict[str, Any]) -> bool:
    """visible_where for one entry of the actor's ambito, read by _row (one plan read at
    most, for a social worker's entry of a plan it did not record itself)."""
    if actor.role is Role.UDP_ADMIN:
        return True
    if actor.role is Role.HOLDER_MANAGER:
        return actor.holder_id is not None and row["holder"] == actor.holder_id
    if actor.role is Role.VOLUNTEER:
        return row["volunteer"] == actor.user_id
    if row["created_by"] == actor.user_id:
        return True
    return row["plan_id"] is not None and await links.works_on_plan(actor, row["plan_id"])


async def get_contribution(actor: Principal, contribution_id: uuid.UUID) -> ContributionOut:
    return (await _outs(actor, [await _row(actor, contribution_id)]))[0]


async def list_contributions(
    actor: Principal,
    filters: LedgerFilter,
    *,
    unit: ContributionUnit | None = None,
    verification: Verification | None = None,
    include_superseded: bool = False,
    awaiting_confirmation: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[ContributionOut]:
    where = _filters(actor, filters)
    if not include_superseded or awaiting_confirmation:
        where &= effective_where(actor.ambito_id)
    if awaiting_confirmation:
        where &= awaiting_where(actor)
    if unit:
        where &= Contribution.unit == unit.value
    if verification is Verification.CONFIRMED:
        where &= Contribution.id.is_in(_confirmed_ids(actor.ambito_id))
    elif verification is Verification.QR_VERIFIED:
        where &= (Contribution.verification == Verification.QR_VERIFIED.value) & (
            Contribution.id.not_in(_confirmed_ids(actor.ambito_id))
        )
    elif verification is Verification.SELF_REPORTED:
        where &= unverified_where(actor.ambito_id)
    rows = (
        await Contribution.select(*_COLUMNS)
        .where(where)
        .order_by(Contribution.occurred_on, ascending=False)
        .order_by(Contribution.created_at, ascending=False)
        .order_by(Contribution.id)
        .limit(limit)
        .offset(offset)
    )
    total = await Contribution.count().where(where)
    return Page(items=await _outs(actor, rows), total=total, limit=limit, offset=offset)


def _filters(actor: Principal, filters: LedgerFilter) -> Any:
    if filters.from_date and filters.to_date and filters.to_date < filters.from_date:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    where = visible_where(actor)
    if filters.holder_id:
        where &= Contribution.holder == filters.holder_id
    if filters.volunteer_id:
        where &= Contribution.volunteer == filters.volunteer_id
    if filters.activity_id:
        where &= Contribution.activity == filters.activity_id
    if filters.match_id:
        where &= Contribution.match_id == filters.match_id
    if filters.plan_id:
        if actor.role not in _PLAN_SIDE:
            raise PermissionDenied("only the plan side filters by plan")
        where &= Contribution.plan_id == filters.plan_id
    if filters.from_date:
        where &= Contribution.occurred_on >= filters.from_date
    if filters.to_date:
        where &= Contribution.occurred_on <= filters.to_date
    return where


async def history(actor: Principal, contribution_id: uuid.UUID) -> list[ContributionOut]:
    """Every version of an entry, oldest first: the original, its corrections, and the
    cancellation if there is one."""
    row = await _row(actor, contribution_id)
    chain = [row]
    seen = {row["id"]}
    # Walk back to the original...
    while chain[0]["corrects"] is not None and chain[0]["corrects"] not in seen:
        previous = (
            await Contribution.select(*_COLUMNS)
            .where(
                (Contribution.id == chain[0]["corrects"]) & (Contribution.ambito == actor.ambito_id)
            )
            .first()
        )
        if previous is None:
            break
        seen.add(previous["id"])
        chain.insert(0, previous)
    # ...and forward to the latest version.
    while True:
        following = (
            await Contribution.select(*_COLUMNS)
            .where(
                (Contribution.corrects == chain[-1]["id"])
                & (Contribution.ambito == actor.ambito_id)
            )
            .first()
        )
        if following is None or following["id"] in seen:
            break
        seen.add(following["id"])
        chain.append(following)
    return await _outs(actor, chain)


async def summary(actor: Principal, filters: LedgerFilter) -> SummaryOut:
    """Totals of the effective entries the caller may see, per unit, verified apart."""
    where = _filters(actor, filters) & effective_where(actor.ambito_id)
    totals: dict[str, dict[str, int]] = {}
    for is_verified, condition in (
        (True, verified_where(actor.ambito_id)),
        (False, unverified_where(actor.ambito_id)),
    ):
        rows = (
            await Contribution.select(
                Contribution.unit,
                Sum(Contribution.quantity).as_alias("quantity"),
                Sum(Contribution.value_cents).as_alias("value_cents"),
                Count().as_alias("entries"),
            )
            .where(where & condition)
            .group_by(Contribution.unit)
        )
        for row in rows:
            bucket = totals.setdefault(
                row["unit"],
                {"verified": 0, "self_reported": 0, "entries": 0, "value": 0, "verified_value": 0},
            )
            bucket["verified" if is_verified else "self_reported"] += int(row["quantity"] or 0)
            bucket["entries"] += int(row["entries"])
            bucket["value"] += int(row["value_cents"] or 0)
            if is_verified:
                bucket["verified_value"] += int(row["value_cents"] or 0)
    order = list(ContributionUnit)
    return SummaryOut(
        from_date=filters.from_date,
        to_date=filters.to_date,
        totals=[
            TotalOut(
                unit=ContributionUnit(unit),
                verified=shown_quantity(unit, b["verified"]),
                self_reported=shown_quantity(unit, b["self_reported"]),
                entries=b["entries"],
                value_cents=b["value"],
                verified_value_cents=b["verified_value"],
            )
            for unit, b in sorted(totals.items(), key=lambda item: order.index(item[0]))
        ],
    )
