"""Recording ledger entries: content and reference checks, who may record, idempotency.

Rules
- Who records: a volunteer only its own entries (the volunteer is always itself); a holder
  manager its holder's entries; a social worker entries tied to plans it works on; the UdP
  anything in its ambito.
- Idempotency: every new entry carries the client's Idempotency-Key, unique per ambito.
  A replay of the same request (same user, same body) returns the entry the first copy
  created; the same key with another body is a 409.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import uuid
from datetime import timedelta
from typing import Any

import msgspec
from asyncpg.exceptions import IntegrityConstraintViolationError

from registry.access import Principal, Role
from registry.ambiti.service import check_comuni
from registry.common import now, set_fields
from registry.contributions import links
from registry.contributions.activities import organisers
from registry.contributions.quantities import stored_quantity
from registry.contributions.reading import fresh_contribution, get_contribution
from registry.contributions.schemas import ContributionCreate, ContributionOut
from registry.contributions.stamps import stamped_insert
from registry.contributions.tables import CommunityActivity, Contribution
from registry.db import fetch, is_sqlite, new_row, unit_of_work
from registry.errors import Conflict, InvalidInput, PermissionDenied
from registry.notifications import workflow as notify
from registry.resources.tables import Resource
from registry.users.tables import User
from registry.vocabularies import IN_KIND_UNITS, ContributionUnit, EntryKind, Verification

IDEMPOTENCY_HEADER = "Idempotency-Key"
RESERVED_KEY_PREFIX = "checkin:"
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")
_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)


# The write path's lookups are hand-written (db.fetch): building each Piccolo query cost
# more than running it, on every ledger write (issue 18).
_HOLDER_IN_AMBITO = "SELECT id FROM holder WHERE id = {} AND ambito = {}"
_BY_KEY = "SELECT id, request_hash FROM contribution WHERE ambito = {} AND idempotency_key = {}"


async def _holder_in_ambito(actor: Principal, holder_id: uuid.UUID) -> None:
    if not await fetch(_HOLDER_IN_AMBITO, holder_id, actor.ambito_id):
        raise InvalidInput("no such holder in this ambito", field="holder_id")


async def _prepare(actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    """Check an entry's content and references; returns the row's column values.
    `values` uses the API's names (holder_id, activity_id...)."""
    unit = ContributionUnit(values["unit"])
    holder_id = values["holder_id"]
    row: dict[str, Any] = {
        "holder": holder_id,
        "volunteer": values.get("volunteer_id"),
        "resource": values.get("resource_id"),
        "activity": values.get("activity_id"),
        "match_id": values.get("match_id"),
        "need_id": values.get("need_id"),
        "plan_id": None,
        "unit": unit.value,
        "quantity": stored_quantity(unit, values["quantity"]),
        "value_cents": values.get("value_cents"),
        "occurred_on": values["occurred_on"],
        "started_at": values.get("started_at"),
        "ended_at": values.get("ended_at"),
        "comune": values.get("comune"),
        "note": values.get("note", ""),
    }
    if row["value_cents"] is not None and unit not in IN_KIND_UNITS:
        raise InvalidInput(
            "a declared value is for goods and spaces; time is valued by the metrics "
            "(replacement cost), not declared",
            field="value_cents",
        )
    if row["occurred_on"] > (now() + timedelta(days=1)).date():
        raise InvalidInput("occurred_on is in the future", field="occurred_on")
    started, ended = row["started_at"], row["ended_at"]
    if started is not None and ended is not None and ended <= started:
        raise InvalidInput("ended_at must be after started_at", field="ended_at")
    if row["activity"] is not None and (row["match_id"] or row["need_id"]):
        raise InvalidInput(
            "an entry is for a community activity or for a match/need, not both",
            field="activity_id",
        )
    await _holder_in_ambito(actor, holder_id)
    if row["volunteer"] is not None:
        found = await User.exists().where(
            (User.id == row["volunteer"]) & (User.ambito == actor.ambito_id)
        )
        if not found:
            raise InvalidInput("no such user in this ambito", field="volunteer_id")
    link = await links.resolve(actor.ambito_id, row["match_id"], row["need_id"])
    if link is not None:
        row["plan_id"], row["need_id"] = link.plan_id, link.need_id
        if link.holder_id is not None and link.holder_id != holder_id:
            raise InvalidInput("the match belongs to another holder", field="holder_id")
        if row["resource"] is None:
            row["resource"] = link.resource_id
    if row["resource"] is not None:
        resource = (
            await Resource.select(Resource.holder)
            .where((Resource.id == row["resource"]) & (Resource.ambito == actor.ambito_id))
            .first()
        )
        if resource is None:
            raise InvalidInput("no such resource in this ambito", field="resource_id")
        if resource["holder"] != holder_id:
            raise InvalidInput("the resource belongs to another holder", field="resource_id")
    if row["activity"] is not None:
        await _activity_of_holder(actor, row["activity"], holder_id)
    if row["comune"] is not None:
        await check_comuni(actor.ambito_id, [row["comune"]], "comune")
    return row


async def _activity_of_holder(
    actor: Principal, activity_id: uuid.UUID, holder_id: uuid.UUID
) -> None:
    activity = (
        await CommunityActivity.select(CommunityActivity.id)
        .where(
            (CommunityActivity.id == activity_id) & (CommunityActivity.ambito == actor.ambito_id)
        )
        .first()
    )
    if activity is None:
        raise InvalidInput("no such activity in this ambito", field="activity_id")
    if holder_id not in (await organisers([activity_id]))[activity_id]:
        raise InvalidInput(
            "the holder does not organise this activity (add it to the organisers first)",
            field="holder_id",
        )


async def _may_record(actor: Principal, row: dict[str, Any]) -> None:
    """Who may record (or correct) an entry with this content."""
    if actor.role is Role.UDP_ADMIN:
        return
    if actor.role is Role.VOLUNTEER:
        if row["volunteer"] != actor.user_id:
            raise PermissionDenied("a volunteer records only its own contributions")
        return
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is None or row["holder"] != actor.holder_id:
            raise PermissionDenied("a holder manager records contributions of its own holder")
        return
    # social worker
    if row["plan_id"] is None:
        raise PermissionDenied(
            "a social worker records contributions to the plans it works on (match_id or need_id)"
        )
    if not await links.works_on_plan(actor, row["plan_id"]):
        # The plans it owns or the UdP shared with it; another's is as if it did not exist.
        field = "match_id" if row["match_id"] is not None else "need_id"
        raise InvalidInput("no such match or need among your plans", field=field)


def request_digest(actor: Principal, body: msgspec.Struct, scope: str) -> str:
    """What makes two requests "the same": who sent it, to which endpoint, with which body."""
    payload = msgspec.json.encode(body, order="deterministic")
    return hashlib.sha256(f"{actor.user_id}|{scope}|".encode() + payload).hexdigest()


def check_key(key: str | None, *, required: bool) -> str | None:
    if key is None or key == "":
        if required:
            raise InvalidInput(
                "the Idempotency-Key header is required: send a new unique value (e.g. a "
                "UUID) for each entry, and the same value when retrying it",
                field=IDEMPOTENCY_HEADER,
            )
        return None
    if not _KEY_PATTERN.match(key):
        raise InvalidInput(
            "the Idempotency-Key must be 1 to 128 visible ASCII characters",
            field=IDEMPOTENCY_HEADER,
        )
    if key.startswith(RESERVED_KEY_PREFIX):
        # The QR check-out derives its entry's key from the presence: never a client's.
        raise InvalidInput(
            f"an Idempotency-Key cannot start with '{RESERVED_KEY_PREFIX}'",
            field=IDEMPOTENCY_HEADER,
        )
    return key


async def _by_key(ambito_id: uuid.UUID, key: str) -> dict[str, Any] | None:
    rows = await fetch(_BY_KEY, ambito_id, key)
    return rows[0] if rows else None


def _replayed(existing: dict[str, Any], digest: str, key: str) -> uuid.UUID:
    if existing["request_hash"] != digest:
        raise Conflict(
            f"the Idempotency-Key '{key}' was already used for a different request: use a "
            "new key for a new entry (the same key only to retry the same request)",
            field=IDEMPOTENCY_HEADER,
        )
    return existing["id"]


async def append(
    actor: Principal,
    row: dict[str, Any],
    *,
    key: str | None,
    digest: str | None,
    kind: EntryKind = EntryKind.ENTRY,
    corrects: uuid.UUID | None = None,
    verification: Verification = Verification.SELF_REPORTED,
    reason: str = "",
) -> tuple[uuid.UUID, bool]:
    """Insert one ledger entry; returns its id and whether it was created now (False: the
    request was a replay of an earlier one with the same Idempotency-Key: looked up inside
    the write's transaction, where it settles every race)."""
    entry = new_row(
        Contribution,
        **row,
        ambito=actor.ambito_id,
        kind=kind.value,
        corrects=corrects,
        verification=verification.value,
        reason=reason,
        idempotency_key=key,
        request_hash=digest,
        created_by=actor.user_id,
        created_by_role=actor.role.value,
    )
    try:
        async with unit_of_work(short=True):
            if key is not None and is_sqlite():
                # Checked again under the write lock: on SQLite this settles every race. On
                # PostgreSQL the unique index does (below), and a trip less is a write faster.
                existing = await _by_key(actor.ambito_id, key)
                if existing is not None:
                    return _replayed(existing, digest or "", key), False
            if corrects is not None and await Contribution.exists().where(
                Contribution.corrects == corrects
            ):
                raise Conflict(
                    "this entry was already corrected or cancelled: act on its latest version",
                    field="id",
                )
            # Whoever can confirm a self-reported entry (registry/notifications/workflow.py).
            await notify.contribution_recorded(actor, entry)
            # Stamped last: on PostgreSQL the ambito's ledger writers wait for this one's
            # commit from here on.
            await stamped_insert(actor.ambito_id, Contribution, entry)
    except _INTEGRITY_ERRORS:
        # PostgreSQL: a concurrent copy of this request (or a concurrent correction) won.
        if key is not None:
            existing = await _by_key(actor.ambito_id, key)
            if existing is not None:
                return _replayed(existing, digest or "", key), False
        if corrects is not None:
            raise Conflict(
                "this entry was already corrected or cancelled: act on its latest version",
                field="id",
            ) from None
        raise
    return entry["id"], True


async def record(
    actor: Principal, data: ContributionCreate, idempotency_key: str | None
) -> tuple[ContributionOut, bool]:
    key = check_key(idempotency_key, required=True)
    digest = request_digest(actor, data, "record")
    existing = await _by_key(actor.ambito_id, key) if key else None
    if existing is not None:
        # A replay answers with the entry the first copy created, before any re-validation.
        return await get_contribution(actor, _replayed(existing, digest, key or "")), False
    values = set_fields(data)
    if actor.role is Role.VOLUNTEER:
        if values.get("volunteer_id") not in (None, actor.user_id):
            raise PermissionDenied("a volunteer records only its own contributions")
        values["volunteer_id"] = actor.user_id
    values["holder_id"] = values.get("holder_id") or actor.holder_id
    if values["holder_id"] is None and values.get("match_id") is not None:
        # A social worker (or the UdP) recording for a match: the match names the holder.
        link = await links.resolve(actor.ambito_id, values["match_id"], values.get("need_id"))
        values["holder_id"] = link.holder_id if link is not None else None
    if values["holder_id"] is None:
        raise InvalidInput(
            "holder_id is required (or a match_id, whose holder is taken)", field="holder_id"
        )
    row = await _prepare(actor, values)
    await _may_record(actor, row)
    entry_id, created = await append(actor, row, key=key, digest=digest)
    if created:
        return await fresh_contribution(actor, entry_id), True
    return await get_contribution(actor, entry_id), False
