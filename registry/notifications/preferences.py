"""E-mail preferences: which of its role's events a user is told about by e-mail, and
whether at once or in the daily digest."""

from __future__ import annotations

import sqlite3

from asyncpg.exceptions import IntegrityConstraintViolationError

from registry.access import Principal, Role
from registry.common import now as utcnow
from registry.config import Settings
from registry.db import unit_of_work
from registry.errors import InvalidInput
from registry.notifications.events import USER_EVENTS, EventType
from registry.notifications.schemas import PreferencesIn, PreferencesOut
from registry.notifications.tables import NotificationSettings

_INTEGRITY_ERRORS = (sqlite3.IntegrityError, IntegrityConstraintViolationError)

_FRESHNESS_EVENTS = (
    EventType.RECONFIRMATION_REQUESTED,
    EventType.RESOURCE_STALE,
    EventType.RESOURCE_EXPIRED,
    EventType.RESOURCE_RECONFIRMED,
    EventType.AVAILABILITY_EXPIRED,
)
# What each role is told about (registry/notifications/workflow.py and the freshness jobs).
ROLE_EVENTS: dict[Role, tuple[EventType, ...]] = {
    Role.UDP_ADMIN: USER_EVENTS,
    Role.SOCIAL_WORKER: (
        EventType.MATCH_ACCEPTED,
        EventType.MATCH_DECLINED,
        EventType.NEW_CANDIDATES,
        EventType.PLAN_SHARED,
        EventType.CONTRIBUTION_REPORTED,
        EventType.REVIEW_OVERDUE,
    ),
    Role.HOLDER_MANAGER: (
        EventType.MATCH_PROPOSED,
        EventType.MATCH_CONFIRMED,
        EventType.MATCH_COMPLETED,
        EventType.MATCH_WITHDRAWN,
        EventType.CONTRIBUTION_REPORTED,
        EventType.CHECKIN_CODE_REVOKED,
        *_FRESHNESS_EVENTS,
    ),
    Role.VOLUNTEER: (EventType.CONTRIBUTION_CONFIRMED,),
}


async def get_preferences(actor: Principal, settings: Settings) -> PreferencesOut:
    row = (
        await NotificationSettings.select()
        .where(
            (NotificationSettings.user == actor.user_id)
            & (NotificationSettings.ambito == actor.ambito_id)
        )
        .first()
    )
    available = [e.value for e in ROLE_EVENTS[actor.role]]
    return PreferencesOut(
        email=row["email"] if row else "",
        # No choice made yet: every event of the role, once an address is given.
        email_events=list(row["email_events"] or []) if row else available,
        digest=row["digest"] if row else False,
        available_events=available,
        email_configured=bool(settings.smtp_host),
    )


async def set_preferences(
    actor: Principal, data: PreferencesIn, settings: Settings
) -> PreferencesOut:
    available = ROLE_EVENTS[actor.role]
    for index, kind in enumerate(data.email_events):
        if kind not in available:
            raise InvalidInput(
                f"'{kind.value}' is not an event your role receives", field=f"email_events[{index}]"
            )
    values = {
        NotificationSettings.email: data.email,
        NotificationSettings.email_events: sorted({k.value for k in data.email_events}),
        NotificationSettings.digest: data.digest,
        NotificationSettings.updated_at: utcnow(),
    }
    mine = NotificationSettings.user == actor.user_id
    try:
        async with unit_of_work():
            if await NotificationSettings.exists().where(mine):
                await NotificationSettings.update(values).where(mine)
            else:
                await NotificationSettings.insert(
                    NotificationSettings(
                        ambito=actor.ambito_id,
                        user=actor.user_id,
                        **{column._meta.name: value for column, value in values.items()},
                    )
                )
    except _INTEGRITY_ERRORS:
        # PostgreSQL: the same user's other request created the row a moment ago.
        await NotificationSettings.update(values).where(mine)
    return await get_preferences(actor, settings)
