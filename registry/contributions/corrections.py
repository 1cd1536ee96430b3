"""Corrections and cancellations: a new entry replaces or withdraws the one it names.

Rules
- Entries are only ever inserted. A correction is a new entry (kind `correction`) that
  replaces the one it names in `corrects`; a cancellation (kind `cancellation`) withdraws
  it. An entry has at most one successor (unique index), so two people correcting the same
  entry at once cannot fork its history. The *effective* entries, the ones totals count,
  are those nobody corrected or cancelled, minus the cancellations themselves.
"""

from __future__ import annotations

import uuid
from typing import Any

from registry.access import Principal, Role
from registry.common import set_fields
from registry.contributions import links
from registry.contributions.quantities import shown_quantity
from registry.contributions.reading import _row, get_contribution
from registry.contributions.recording import (
    _by_key,
    _may_record,
    _prepare,
    _replayed,
    append,
    check_key,
    request_digest,
)
from registry.contributions.schemas import Cancellation, ContributionCorrection, ContributionOut
from registry.contributions.tables import Contribution, ContributionConfirmation
from registry.errors import Conflict, InvalidInput, PermissionDenied
from registry.vocabularies import EntryKind, Verification


def _api_values(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row back in the API's names, to re-validate it with changes."""
    unit = row["unit"]
    return {
        "holder_id": row["holder"],
        "volunteer_id": row["volunteer"],
        "resource_id": row["resource"],
        "activity_id": row["activity"],
        "match_id": row["match_id"],
        "need_id": row["need_id"] if row["match_id"] is None else None,
        "unit": unit,
        "quantity": shown_quantity(unit, row["quantity"]),
        "value_cents": row["value_cents"],
        "occurred_on": row["occurred_on"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "comune": row["comune"],
        "note": row["note"],
    }


async def _confirmed(contribution_id: uuid.UUID) -> bool:
    return await ContributionConfirmation.exists().where(
        ContributionConfirmation.contribution == contribution_id
    )


async def _amendable(actor: Principal, contribution_id: uuid.UUID) -> dict[str, Any]:
    """The entry if `actor` may correct or cancel it now."""
    row = await _row(actor, contribution_id)
    if row["kind"] == EntryKind.CANCELLATION:
        raise Conflict("a cancellation cannot be changed: record a new entry instead", field="id")
    successor = await Contribution.select(Contribution.id).where(Contribution.corrects == row["id"])
    if successor:
        raise Conflict(
            f"this entry was already corrected or cancelled by {successor[0]['id']}: "
            "act on its latest version",
            field="id",
        )
    if actor.role is Role.VOLUNTEER and (
        row["created_by"] != actor.user_id
        or row["verification"] != Verification.SELF_REPORTED
        or await _confirmed(row["id"])
    ):
        raise PermissionDenied(
            "a volunteer corrects only its own self-reported entries nobody has confirmed yet; "
            "ask the holder manager"
        )
    if actor.role is Role.SOCIAL_WORKER and (
        row["plan_id"] is None or not await links.works_on_plan(actor, row["plan_id"])
    ):
        raise PermissionDenied("a social worker corrects only entries of the plans it works on")
    return row


async def correct(
    actor: Principal,
    contribution_id: uuid.UUID,
    data: ContributionCorrection,
    idempotency_key: str | None = None,
) -> tuple[ContributionOut, bool]:
    key = check_key(idempotency_key, required=False)
    if key is not None:
        existing = await _by_key(actor.ambito_id, key)
        if existing is not None:
            digest = request_digest(actor, data, f"correct:{contribution_id}")
            return await get_contribution(actor, _replayed(existing, digest, key)), False
    current = await _amendable(actor, contribution_id)
    changes = set_fields(data)
    reason = changes.pop("reason")
    if not changes:
        raise InvalidInput("a correction must change at least one field", field="quantity")
    values = {**_api_values(current), **changes}
    if "match_id" in changes and "need_id" not in changes:
        values["need_id"] = None  # follows the new match
    row = await _prepare(actor, values)
    await _may_record(actor, row)
    entry_id, created = await append(
        actor,
        row,
        key=key,
        digest=request_digest(actor, data, f"correct:{contribution_id}"),
        kind=EntryKind.CORRECTION,
        corrects=current["id"],
        reason=reason,
    )
    return await get_contribution(actor, entry_id), created


# What a correction or a cancellation repeats of the entry it replaces, so that the ledger
# reads on its own (a cancellation repeats the quantity too; a correction sets its own).
CARRIED_OVER = (
    "holder",
    "volunteer",
    "resource",
    "activity",
    "match_id",
    "need_id",
    "plan_id",
    "unit",
    "value_cents",
    "occurred_on",
    "started_at",
    "ended_at",
    "comune",
    "note",
)


async def cancel(
    actor: Principal,
    contribution_id: uuid.UUID,
    data: Cancellation,
    idempotency_key: str | None = None,
) -> tuple[ContributionOut, bool]:
    key = check_key(idempotency_key, required=False)
    digest = request_digest(actor, data, f"cancel:{contribution_id}")
    if key is not None:
        existing = await _by_key(actor.ambito_id, key)
        if existing is not None:
            return await get_contribution(actor, _replayed(existing, digest, key)), False
    current = await _amendable(actor, contribution_id)
    # The cancellation repeats what it withdraws, so the ledger reads on its own.
    row = {name: current[name] for name in (*CARRIED_OVER, "quantity")}
    entry_id, created = await append(
        actor,
        row,
        key=key,
        digest=digest,
        kind=EntryKind.CANCELLATION,
        corrects=current["id"],
        verification=Verification(current["verification"]),
        reason=data.reason,
    )
    return await get_contribution(actor, entry_id), created
