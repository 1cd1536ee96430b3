"""Retention: how long each kind of personal record is kept, and the job that applies it.

Every kind has a default (stated in the README); the UdP may set its own period per ambito
(RetentionSetting). Nothing the metrics are computed from is removed: the ledger, the plans'
structure (comune, target group, dates, needs) and holders stay, so the figures of a closed
period, live or from their snapshot, do not move. What goes is free text, presences,
messages, notifications and expired secrets.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from registry.audit.tables import AccessLog
from registry.checkin.tables import CheckIn, CheckInCode
from registry.db import unit_of_work
from registry.freshness.tables import ReconfirmLink
from registry.notifications.tables import Notification, OutboxMessage
from registry.plans.tables import Plan
from registry.privacy.tables import PrivacyEvent, RetentionSetting
from registry.users.tables import LoginFailure, LoginThrottle

# What replaces erased free text: the row (and so every count) stays.
ERASED_TEXT = "[cancellato]"


@dataclass(frozen=True, slots=True)
class RetentionKind:
    code: str
    days: int
    # Italian: the register of processing and the UdP screen show these.
    label: str
    action: str


KINDS: dict[str, RetentionKind] = {
    k.code: k
    for k in (
        RetentionKind(
            "closed_plans",
            1825,
            "Progetti chiusi: note, testo degli obiettivi e delle verifiche, codice caso",
            "testo libero cancellato e codice caso sostituito da uno casuale; restano comune, "
            "area, date e bisogni (i conteggi)",
        ),
        RetentionKind(
            "access_log",
            730,
            "Registro degli accessi ai progetti",
            "righe eliminate",
        ),
        RetentionKind(
            "checkins",
            365,
            "Presenze registrate con QR (check-in e check-out)",
            "presenze eliminate; le ore restano nel registro dei contributi",
        ),
        RetentionKind(
            "outbox",
            90,
            "Messaggi in uscita consegnati o scartati (e-mail, webhook)",
            "messaggi eliminati",
        ),
        RetentionKind(
            "notifications",
            365,
            "Notifiche in app",
            "notifiche eliminate",
        ),
        RetentionKind(
            "expired_tokens",
            30,
            "Link e codici scaduti (riconferma, QR), blocchi di accesso scaduti",
            "link e blocchi eliminati, token dei QR scaduti cancellati",
        ),
        # The login throttle also drops failures older than 30 days on every new failure
        # (registry/users/throttle.py): a longer setting here cannot keep them longer.
        RetentionKind(
            "login_failures",
            30,
            "Tentativi di accesso falliti (al massimo 30 giorni)",
            "righe eliminate",
        ),
    )
}
MIN_DAYS, MAX_DAYS = 1, 36500


async def periods(ambito_id: uuid.UUID) -> dict[str, int]:
    """Days per kind for one ambito: its own settings over the defaults."""
    found = {code: kind.days for code, kind in KINDS.items()}
    for row in await RetentionSetting.select(RetentionSetting.kind, RetentionSetting.days).where(
        RetentionSetting.ambito == ambito_id
    ):
        if row["kind"] in found:
            found[row["kind"]] = row["days"]
    return found


def _closure_table() -> Any:
    """The plans' closure records (issue 15, registry/outcomes) when that domain is there:
    a closure's date starts the clock. Without it the plan's last change does."""
    try:
        return importlib.import_module("registry.outcomes.tables").PlanClosure
    except (ImportError, AttributeError):
        return None


async def closed_plans_due(ambito_id: uuid.UUID, cutoff: date) -> list[uuid.UUID]:
    """Closed plans whose retention clock started on or before `cutoff` and that still hold
    free text or their case code. The clock starts at closing (the closure record, or else
    the later of the plan's end date and its last change: conservative, a later edit only
    delays it)."""
    rows = (
        await Plan.select(
            Plan.id, Plan.end_date, Plan.updated_at, Plan.case_code, Plan.notes, Plan.goals
        )
        .where((Plan.ambito == ambito_id) & (Plan.status == "closed"))
        .output(load_json=True)
    )
    closure = _closure_table()
    closed_on: dict[uuid.UUID, date] = {}
    if closure is not None and rows:
        for r in await closure.select(closure.plan, closure.closed_on).where(
            closure.ambito == ambito_id
        ):
            closed_on[r["plan"]] = r["closed_on"]
    due = []
    for row in rows:
        goals = row["goals"] or []
        if (
            row["case_code"].startswith("ANON-")
            and not row["notes"]
            and all(g == ERASED_TEXT for g in goals)
        ):
            continue  # already done (text written after an erasure on request is not)
        start = closed_on.get(row["id"])
        if start is None:
            updated = row["updated_at"]
            start = (
                updated.date()
                if isinstance(updated, datetime)
                else date.fromisoformat(str(updated)[:10])
            )
            if row["end_date"] and row["end_date"] > start:
                start = row["end_date"]
        if start <= cutoff:
            due.append(row["id"])
    return due


async def apply_retention(
    now: datetime, ambito_ids: Sequence[uuid.UUID], *, actor_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """Apply every ambito's retention at clock `now`; one execution-log row per ambito that
    had something to remove. Idempotent: a second run at the same clock removes nothing."""
    from registry.privacy import erasure

    totals: dict[str, int] = dict.fromkeys(KINDS, 0)
    for ambito_id in ambito_ids:
        days = await periods(ambito_id)

        def cutoff(kind: str, days: dict[str, int] = days) -> datetime:
            return now - timedelta(days=days[kind])

        done: dict[str, int] = {}
        async with unit_of_work():
            plans = await closed_plans_due(ambito_id, cutoff("closed_plans").date())
            for plan_id in plans:
                await erasure.erase_plan_text(ambito_id, plan_id)
            done["closed_plans"] = len(plans)
            done["access_log"] = await _delete(
                AccessLog, (AccessLog.ambito == ambito_id) & (AccessLog.at < cutoff("access_log"))
            )
            done["checkins"] = await _delete(
                CheckIn,
                (CheckIn.ambito == ambito_id)
                & (CheckIn.checked_in_at < cutoff("checkins"))
                # An open presence whose check-out is still possible is not history yet.
                & ((CheckIn.checked_out_at.is_not_null()) | (CheckIn.window_end < now)),
            )
            done["outbox"] = await _delete(
                OutboxMessage,
                (OutboxMessage.ambito == ambito_id)
                & OutboxMessage.status.is_in(["delivered", "dead"])
                & (OutboxMessage.updated_at < cutoff("outbox")),
            )
            done["notifications"] = await _delete(
                Notification,
                (Notification.ambito == ambito_id)
                & (Notification.created_at < cutoff("notifications"))
                & (Notification.email_due == ""),
            )
            expired = cutoff("expired_tokens")
            links = await _delete(
                ReconfirmLink,
                (ReconfirmLink.ambito == ambito_id) & (ReconfirmLink.expires_at < expired),
            )
            codes = await CheckInCode.select(CheckInCode.id).where(
                (CheckInCode.ambito == ambito_id)
                & (CheckInCode.valid_until < expired)
                & (CheckInCode.token != "")
            )
            if codes:
                # The row stays (who issued which code, when); the capability goes.
                await CheckInCode.update({CheckInCode.token: ""}).where(
                    CheckInCode.id.is_in([c["id"] for c in codes])
                )
            done["expired_tokens"] = links + len(codes)
            done["login_failures"] = await _delete(
                LoginFailure,
                (LoginFailure.ambito == ambito_id) & (LoginFailure.at < cutoff("login_failures")),
            )
            if any(done.values()):
                await PrivacyEvent.insert(
                    PrivacyEvent(
                        ambito=ambito_id, at=now, action="retention", actor=actor_id, summary=done
                    )
                )
        for kind, count in done.items():
            totals[kind] += count
    # Throttle rows are not per ambito: an expired one says nothing any more.
    totals["expired_tokens"] += await _delete(LoginThrottle, LoginThrottle.expires_at < now)
    totals["ambiti"] = len(ambito_ids)
    return totals


async def _delete(table: Any, where: Any) -> int:
    # One DELETE with the same condition (not ids fetched and sent back): the job holds the
    # write lock for the shortest time.
    found = await table.count().where(where)
    if found:
        await table.delete().where(where)
    return int(found)
