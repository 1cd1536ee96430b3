"""How fresh a resource's confirmation is, computed when it is read.

One rule for every place that shows it: the badge of a resource in a list and the counts on
the homes both come from `freshness_of`, so they agree even before the nightly job
(registry/freshness/service.py) has marked an overdue resource 'stale'.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import msgspec

from registry.access import Principal
from registry.common import now as clock
from registry.config import Settings
from registry.resources.tables import Resource
from registry.vocabularies import ResourceStatus

if TYPE_CHECKING:  # the schema imports Freshness from here
    from registry.resources.schemas import ResourceOut


class Freshness(StrEnum):
    FRESH = "fresh"  # confirmed within the reminder period
    AGING = "aging"  # the holder is asked to confirm it
    STALE = "stale"  # to reconfirm: no longer proposed (or about to be, tonight)


# Expired and archived resources are out of the directory for other reasons: a
# reconfirmation alone does not bring them back, so they are neither fresh nor to reconfirm.
_NOT_APPLICABLE = {ResourceStatus.EXPIRED, ResourceStatus.ARCHIVED}


def freshness_of(
    status: ResourceStatus | str, confirmed_at: datetime, now: datetime, settings: Settings
) -> Freshness | None:
    """The same cut-offs as the freshness job: stale at `freshness_stale_days` without a
    confirmation, reminded at `freshness_reminder_days`."""
    return _state(status, confirmed_at, *cutoffs(now, settings))


def cutoffs(now: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """Confirmed at or before the first: stale; at or before the second: aging."""
    return (
        now - timedelta(days=settings.freshness_stale_days),
        now - timedelta(days=settings.freshness_reminder_days),
    )


def _state(
    status: ResourceStatus | str, confirmed_at: datetime, stale: datetime, aging: datetime
) -> Freshness | None:
    # No ResourceStatus(status): a StrEnum member equals and hashes as its text.
    if status in _NOT_APPLICABLE:
        return None
    if status == ResourceStatus.STALE or confirmed_at <= stale:
        return Freshness.STALE
    if confirmed_at <= aging:
        return Freshness.AGING
    return Freshness.FRESH


def freshness_sql(status: str, confirmed_at: str) -> str:
    """_state as a SQL expression of a row's status and confirmation time, for rows the
    database makes as JSON (the default page of resources): its two "{}" placeholders take
    the cut-offs (stale, aging). SQLite compares the stored texts (UTC, one format, which
    sort as the moments do)."""
    not_applicable = ", ".join(f"'{s.value}'" for s in sorted(_NOT_APPLICABLE))
    return (
        f"CASE WHEN {status} IN ({not_applicable}) THEN NULL "
        f"WHEN {status} = '{ResourceStatus.STALE.value}' OR {confirmed_at} <= {{}} "
        f"THEN '{Freshness.STALE.value}' "
        f"WHEN {confirmed_at} <= {{}} THEN '{Freshness.AGING.value}' "
        f"ELSE '{Freshness.FRESH.value}' END"
    )


class FreshnessCounts(msgspec.Struct, kw_only=True):
    """How many of the ambito's (or one holder's) current resources are in each state."""

    total: int  # active, paused or stale (the ones a confirmation concerns)
    fresh: int
    aging: int
    to_reconfirm: int  # the red ones: 'stale', whether or not the job has run yet
    reminder_days: int
    stale_days: int


async def counts(
    actor: Principal,
    settings: Settings,
    *,
    holder_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> FreshnessCounts:
    moment = now or clock()
    where = (Resource.ambito == actor.ambito_id) & Resource.status.not_in(
        [s.value for s in _NOT_APPLICABLE]
    )
    if holder_id is not None:
        where &= Resource.holder == holder_id
    tally = dict.fromkeys(Freshness, 0)
    for row in await Resource.select(Resource.status, Resource.confirmed_at).where(where):
        state = freshness_of(row["status"], row["confirmed_at"], moment, settings)
        if state is not None:
            tally[state] += 1
    return FreshnessCounts(
        total=sum(tally.values()),
        fresh=tally[Freshness.FRESH],
        aging=tally[Freshness.AGING],
        to_reconfirm=tally[Freshness.STALE],
        reminder_days=settings.freshness_reminder_days,
        stale_days=settings.freshness_stale_days,
    )


def with_freshness_one(resource: ResourceOut, settings: Settings) -> ResourceOut:
    resource.freshness = freshness_of(resource.status, resource.confirmed_at, clock(), settings)
    return resource


def with_freshness(resources: list[ResourceOut], settings: Settings) -> list[ResourceOut]:
    stale, aging = cutoffs(clock(), settings)  # once for the page
    for resource in resources:
        resource.freshness = _state(resource.status, resource.confirmed_at, stale, aging)
    return resources
