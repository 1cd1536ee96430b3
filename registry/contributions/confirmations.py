"""Confirming a self-reported entry.

Rules
- Verification: `self_reported` when recorded by hand, `qr_verified` when measured by a QR
  check-in (registry/checkin), `confirmed` once someone accountable confirmed it: the
  social worker of the plan for entries tied to a plan, the holder manager for the other
  entries of its holder (community activities included), or the UdP. A confirmation is its
  own row (who, role, when), at most one per entry. Corrections start unconfirmed again.
"""

from __future__ import annotations

import uuid

from registry.access import Principal, Role
from registry.contributions import links
from registry.contributions.reading import _out, _row
from registry.contributions.recording import _INTEGRITY_ERRORS
from registry.contributions.schemas import ConfirmationIn, ConfirmationOut, ContributionOut
from registry.contributions.stamps import stamped_insert
from registry.contributions.tables import ContributionConfirmation
from registry.db import fetch, new_row, unit_of_work
from registry.errors import Conflict, PermissionDenied
from registry.notifications import workflow as notify
from registry.vocabularies import EntryKind


async def confirm(
    actor: Principal, contribution_id: uuid.UUID, data: ConfirmationIn
) -> ContributionOut:
    row = await _row(actor, contribution_id)
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER)
    if row["plan_id"] is not None:
        if not await links.works_on_plan(actor, row["plan_id"]):
            raise PermissionDenied(
                "an entry for a plan is confirmed by the social worker of the plan (or the UdP)"
            )
    elif not actor.manages_holder(row["holder"]):
        raise PermissionDenied(
            "an entry not tied to a plan is confirmed by the holder's manager (or the UdP)"
        )
    if row["kind"] == EntryKind.CANCELLATION:
        raise Conflict("a cancellation is not confirmed", field="id")
    if await fetch(_SUCCESSOR, row["id"]):
        raise Conflict(
            "this entry was corrected or cancelled: confirm its latest version", field="id"
        )
    if existing := await fetch(_CONFIRMATION, row["id"]):
        raise Conflict(
            f"already confirmed by {existing[0]['username']} on "
            f"{existing[0]['confirmed_at']:%Y-%m-%d %H:%M} UTC",
            field="id",
        )
    confirmation = new_row(
        ContributionConfirmation,
        ambito=actor.ambito_id,
        contribution=row["id"],
        confirmed_by=actor.user_id,
        role=actor.role.value,
        note=data.note,
    )
    try:
        async with unit_of_work(short=True):
            await notify.contribution_confirmed(actor, row)  # the volunteer
            # Stamped last: the ambito's ledger writers wait for this one's commit from here.
            await stamped_insert(actor.ambito_id, ContributionConfirmation, confirmation)
    except _INTEGRITY_ERRORS:
        raise Conflict("this entry was confirmed a moment ago", field="id") from None
    # The entry as read above, with the confirmation just written (read again, it would only
    # differ by a correction written in between, which the next read shows).
    done = ConfirmationOut(
        confirmed_by=actor.user_id,
        confirmed_by_username=actor.username,
        role=confirmation["role"],
        confirmed_at=confirmation["confirmed_at"],
        note=confirmation["note"],
    )
    return _out(actor, row, done, None)


# Hand-written, as the entry's own read (reading._ENTRY): building Piccolo's queries cost
# more than running them, on a path the UdP walks entry after entry (issue 18).
_SUCCESSOR = "SELECT id FROM contribution WHERE corrects = {} LIMIT 1"
_CONFIRMATION = (
    "SELECT cc.confirmed_at, u.username FROM contribution_confirmation cc "
    "JOIN app_user u ON u.id = cc.confirmed_by WHERE cc.contribution = {}"
)
