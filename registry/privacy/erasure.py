"""Erasure (GDPR art. 17) and consent withdrawal, as plain steps on one ambito's rows.

The rule that keeps the figures: rows the metrics count are never deleted nor re-linked.
A volunteer's account becomes its own pseudonym (a random name, no password, closed), so
every ledger entry and match keeps pointing at the same id: distinct-person counts,
hours, values and network ties of past periods are what they were, while nothing left says
who the person was. The service (service.py) checks roles and records the request; these
functions run inside its unit of work.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import secrets
import uuid
from typing import Any

from registry.audit.tables import AccessLog
from registry.checkin.tables import CheckIn
from registry.common import now
from registry.contributions.tables import Contribution, ContributionConfirmation
from registry.db import text_contains
from registry.errors import InvalidInput, NotFound
from registry.holders.tables import Holder
from registry.interop.tables import FeedToken, ForeignAddress
from registry.notifications.tables import Notification, NotificationSettings, OutboxMessage
from registry.plans.tables import Plan
from registry.privacy.retention import ERASED_TEXT
from registry.resources.tables import Resource
from registry.users.tables import LoginFailure, LoginThrottle, User
from registry.vocabularies import KINDS_NEEDING_CONSENT, HolderKind

ANONYMOUS_HOLDER = "Volontario/a anonimo/a"
ANONYMOUS_RESOURCE = "Risorsa di volontario/a anonimo/a"
# Where the outcomes domain (issue 15) erases goals' and reviews' free text of a plan.
OUTCOMES_HOOK = ("registry.outcomes.erasure", "erase_plan_free_text")


def pseudonym() -> str:
    return f"anonimo-{secrets.token_hex(5)}"


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return list(json.loads(value or "[]"))
    return list(value or [])


async def erase_plan_text(ambito_id: uuid.UUID, plan_id: uuid.UUID) -> dict[str, int]:
    """A plan's free text goes, its structure stays: notes emptied, each goal's text
    replaced (so their number stays), the case code replaced by a random one that links to
    no file of the social worker. Comune, target group, dates, needs and matches stay: they
    are what the figures count."""
    row = (
        await Plan.select(Plan.goals, Plan.notes)
        .where((Plan.id == plan_id) & (Plan.ambito == ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such plan")
    goals = _json_list(row["goals"])
    await Plan.update(
        {
            Plan.notes: "",
            Plan.goals: [ERASED_TEXT for _ in goals],
            Plan.case_code: f"ANON-{secrets.token_hex(6)}",
            Plan.updated_at: now(),
        }
    ).where(Plan.id == plan_id)
    erased = {"plan_notes": int(bool(row["notes"])), "plan_goals": len(goals)}
    module_name, attribute = OUTCOMES_HOOK
    try:
        hook = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        hook = None
    if hook is not None:
        result = hook(plan_id)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, dict):
            erased.update({k: v for k, v in result.items() if isinstance(v, int)})
    return erased


async def _replace_in_messages(ambito_id: uuid.UUID, old: str, new: str) -> int:
    """Notifications and messages to other people that named the person: the name goes
    (in any letter case); returns how many rows changed."""
    if len(old) < 3:
        return 0
    pattern = re.compile(re.escape(old), re.IGNORECASE)
    changed = 0
    for table, fields in (
        (Notification, (Notification.title, Notification.body)),
        (OutboxMessage, (OutboxMessage.subject, OutboxMessage.body)),
    ):
        first, second = fields
        rows = await table.select(table.id, first, second).where(
            (table.ambito == ambito_id) & (text_contains(first, old) | text_contains(second, old))
        )
        for row in rows:
            values = {f: pattern.sub(new, row[f._meta.name]) for f in fields}
            if any(values[f] != row[f._meta.name] for f in fields):
                await table.update(values).where(table.id == row["id"])
                changed += 1
    return changed


async def _erase_individual_holder(holder: dict[str, Any], alias: str) -> int:
    """An individual volunteer's own holder: every personal field goes; kind, sector,
    comuni, areas and status stay (the network and the figures by kind count them)."""
    moment = now()
    await Holder.update(
        {
            Holder.name: f"{ANONYMOUS_HOLDER} {alias.removeprefix('anonimo-')}",
            Holder.description: "",
            Holder.codice_fiscale: None,
            Holder.partita_iva: None,
            Holder.runts_number: None,
            Holder.address: "",
            Holder.contacts: "[]",
            Holder.public_listing: False,
            Holder.consent_given_by: ERASED_TEXT if holder["consent_given_at"] else None,
            Holder.updated_at: moment,
        }
    ).where(Holder.id == holder["id"])
    await ForeignAddress.delete().where(ForeignAddress.holder == holder["id"])
    await _erase_participants(holder["id"], None)
    resources = await Resource.select(Resource.id).where(Resource.holder == holder["id"])
    if resources:
        await Resource.update({Resource.title: ANONYMOUS_RESOURCE, Resource.description: ""}).where(
            Resource.holder == holder["id"]
        )
        # The person left: out of the suggestions. Paused, not archived, because archived
        # resources leave the offered-hours figures of past periods too.
        await Resource.update({Resource.status: "paused"}).where(
            (Resource.holder == holder["id"]) & Resource.status.is_in(["active", "stale"])
        )
    await FeedToken.update({FeedToken.revoked_at: moment}).where(
        (FeedToken.holder == holder["id"]) & FeedToken.revoked_at.is_null()
    )
    return len(resources)


async def erase_volunteer(ambito_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, int]:
    """A volunteer's account, own holder, contacts, settings, notifications, messages and
    QR presences; the ledger stays, linked to the same (now anonymous) account."""
    user = await User.select().where((User.id == user_id) & (User.ambito == ambito_id)).first()
    if user is None:
        raise NotFound("no such user")
    if user["role"] != "volunteer":
        raise InvalidInput(
            "only a volunteer's account is erased on request; staff accounts are deactivated",
            field="subject_id",
        )
    if user["username"].startswith("anonimo-") and not user["active"]:
        raise InvalidInput("this account was already erased", field="subject_id")
    alias = pseudonym()
    old_name = user["username"]
    counts: dict[str, int] = {}
    settings = await NotificationSettings.select(NotificationSettings.email).where(
        NotificationSettings.user == user_id
    )
    addresses = [s["email"] for s in settings if s["email"]]
    holder = None
    if user["holder"] is not None:
        holder = await Holder.select().where(Holder.id == user["holder"]).first()
    # Names to strip from what others received: the username, and the holder's name.
    names = [old_name]
    if holder is not None and holder["kind"] == HolderKind.INDIVIDUAL_VOLUNTEER.value:
        names.append(holder["name"])
        counts["holder_resources"] = await _erase_individual_holder(holder, alias)
        counts["holder"] = 1
    counts["notification_settings"] = len(settings)
    await NotificationSettings.delete().where(NotificationSettings.user == user_id)
    counts["notifications"] = len(
        await Notification.select(Notification.id).where(Notification.user == user_id)
    )
    await Notification.delete().where(Notification.user == user_id)
    removed_messages = 0
    for address in addresses:
        found = await OutboxMessage.select(OutboxMessage.id).where(
            (OutboxMessage.ambito == ambito_id) & (OutboxMessage.recipient == address)
        )
        removed_messages += len(found)
        await OutboxMessage.delete().where(
            (OutboxMessage.ambito == ambito_id) & (OutboxMessage.recipient == address)
        )
    counts["messages"] = removed_messages
    renamed = 0
    for name in names:
        renamed += await _replace_in_messages(ambito_id, name, alias)
    counts["messages_renamed"] = renamed
    # Free text of the ledger may name the person: the entries (hours, values) stay.
    entries = await Contribution.select(Contribution.id).where(
        (Contribution.ambito == ambito_id)
        & ((Contribution.volunteer == user_id) | (Contribution.created_by == user_id))
    )
    ids = [e["id"] for e in entries]
    if ids:
        await Contribution.update({Contribution.note: ""}).where(
            Contribution.id.is_in(ids) & (Contribution.note != "")
        )
        await ContributionConfirmation.update({ContributionConfirmation.note: ""}).where(
            ContributionConfirmation.contribution.is_in(ids) & (ContributionConfirmation.note != "")
        )
    counts["ledger_entries_kept"] = len(ids)
    # The presences' times served the check-out and its evidence; the entries they wrote
    # stay verified (their own flag), so they go with the person.
    counts["checkins"] = await CheckIn.count().where(CheckIn.volunteer == user_id)
    await CheckIn.delete().where(CheckIn.volunteer == user_id)
    await FeedToken.update({FeedToken.revoked_at: now()}).where(
        ((FeedToken.user == user_id) | (FeedToken.created_by == user_id))
        & FeedToken.revoked_at.is_null()
    )
    await LoginFailure.delete().where(
        (LoginFailure.user == user_id) | (LoginFailure.username == old_name)
    )
    await LoginThrottle.delete().where(LoginThrottle.key == f"user:{old_name}")
    await AccessLog.update({AccessLog.username: alias}).where(AccessLog.user == user_id)
    # The account is closed and becomes the pseudonym: no password logs in ("!" is no hash),
    # and raising the token version ends every token already issued.
    await User.update(
        {
            User.username: alias,
            User.password_hash: "!",
            User.active: False,
            User.token_version: User.token_version + 1,
        }
    ).where(User.id == user_id)
    counts["account"] = 1
    return counts


async def _erase_participants(holder_id: uuid.UUID, wanted: str | None) -> int:
    """The same person named by the holder in co-programming procedures (issue 16): the name
    or the contact goes, the participant stays (procedures count the people who took part).
    `wanted` None: every person the holder named (an individual volunteer's own holder)."""
    from registry.coprogramming.tables import Application, Participant

    applications = [
        r["id"]
        for r in await Application.select(Application.id).where(Application.holder == holder_id)
    ]
    if not applications:
        return 0
    changed = 0
    for row in await Participant.select(
        Participant.id, Participant.name, Participant.contact
    ).where(Participant.application.is_in(applications)):
        values: dict[Any, Any] = {}
        if wanted is None or row["name"].strip().casefold() == wanted:
            values[Participant.name] = ERASED_TEXT
            values[Participant.contact] = None
        elif (row["contact"] or "").strip().casefold() == wanted:
            values[Participant.contact] = None
        if values:
            await Participant.update(values).where(Participant.id == row["id"])
            changed += 1
    return changed


async def erase_holder_contact(
    ambito_id: uuid.UUID, holder_id: uuid.UUID, value: str
) -> dict[str, int]:
    """One contact of a holder (a referent's name, phone, e-mail) on that person's request:
    the contact goes, wherever the holder gave it, and messages addressed to it."""
    holder = (
        await Holder.select(Holder.id, Holder.contacts)
        .where((Holder.id == holder_id) & (Holder.ambito == ambito_id))
        .first()
    )
    if holder is None:
        raise NotFound("no such holder")
    contacts = _json_list(holder["contacts"])
    wanted = value.strip().casefold()
    kept = [c for c in contacts if str(c.get("value", "")).strip().casefold() != wanted]
    participants = await _erase_participants(holder_id, wanted)
    if len(kept) == len(contacts) and not participants:
        raise InvalidInput("the holder has no contact with this value", field="contact")
    if len(kept) != len(contacts):
        await Holder.update({Holder.contacts: json.dumps(kept), Holder.updated_at: now()}).where(
            Holder.id == holder_id
        )
    found = await OutboxMessage.select(OutboxMessage.id, OutboxMessage.recipient).where(
        OutboxMessage.ambito == ambito_id
    )
    gone = [m["id"] for m in found if m["recipient"].strip().casefold() == wanted]
    if gone:
        await OutboxMessage.delete().where(OutboxMessage.id.is_in(gone))
    renamed = await _replace_in_messages(ambito_id, value.strip(), ERASED_TEXT)
    return {
        "contacts": len(contacts) - len(kept),
        "participants": participants,
        "messages": len(gone),
        "messages_renamed": renamed,
    }


async def withdraw_consent(ambito_id: uuid.UUID, holder_id: uuid.UUID) -> dict[str, Any]:
    """Consent withdrawn for a holder whose legal basis is consent (an informal network, an
    individual volunteer): off the public directory, HSDS, GeoJSON and its calendar feeds at
    once; the consent record is cleared, so publishing again needs a new consent."""
    holder = (
        await Holder.select().where((Holder.id == holder_id) & (Holder.ambito == ambito_id)).first()
    )
    if holder is None:
        raise NotFound("no such holder")
    if HolderKind(holder["kind"]) not in KINDS_NEEDING_CONSENT:
        raise InvalidInput(
            "consent is not the legal basis for this kind of holder (only informal networks "
            "and individual volunteers)",
            field="subject_id",
        )
    moment = now()
    await Holder.update(
        {
            Holder.public_listing: False,
            Holder.consent_given_by: None,
            Holder.consent_given_at: None,
            Holder.consent_text_version: None,
            Holder.updated_at: moment,
        }
    ).where(Holder.id == holder_id)
    feeds = await FeedToken.select(FeedToken.id).where(
        (FeedToken.holder == holder_id) & FeedToken.revoked_at.is_null()
    )
    await FeedToken.update({FeedToken.revoked_at: moment}).where(
        (FeedToken.holder == holder_id) & FeedToken.revoked_at.is_null()
    )
    return {
        "was_public": int(bool(holder["public_listing"])),
        "feeds_revoked": len(feeds),
        "consent_text_version": holder["consent_text_version"] or "",
    }
