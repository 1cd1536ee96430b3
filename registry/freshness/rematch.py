"""Re-matching: availability was added or confirmed, so open needs may have new candidates.

The question "which open needs could this resource now serve?" belongs to plans/matching;
this module only asks it (through a `CandidateFinder`) about the resources confirmed since
the last run, and tells each social worker once per (need, resource) pair.
"""

from __future__ import annotations

import functools
import importlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from registry.config import Settings
from registry.db import unit_of_work
from registry.freshness.links import today
from registry.freshness.tables import CandidateNotice
from registry.notifications.events import EventType
from registry.notifications.service import Event, emit
from registry.resources.tables import Resource
from registry.vocabularies import ResourceStatus

log = logging.getLogger("registry.jobs")


@dataclass(frozen=True, slots=True)
class NeedCandidates:
    """An open need and those of the given resources that are now candidates for it."""

    need_id: uuid.UUID
    social_worker_id: uuid.UUID | None  # the plan's owner, who is told
    resource_ids: Sequence[uuid.UUID]
    plan_id: uuid.UUID | None = None
    label: str = ""  # pseudonymous: case code and need category, never a name


# (ambito_id, resource ids confirmed since the last run) -> open needs with candidates
CandidateFinder = Callable[[uuid.UUID, Sequence[uuid.UUID]], Awaitable[Sequence[NeedCandidates]]]

# A function the plans/matches domain may provide with this signature; the first found wins
# over the built-in `matching_finder` below.
FINDER_LOCATIONS = (
    "registry.matches.service:open_needs_with_candidates",
    "registry.plans.service:open_needs_with_candidates",
)

# A resource is news for a need when it is among the suggestions the social worker sees.
SUGGESTIONS_SHOWN = 10


def default_finder(today: date) -> CandidateFinder | None:
    for location in FINDER_LOCATIONS:
        module_name, _, attribute = location.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        finder = getattr(module, attribute, None)
        if finder is not None:
            return finder  # type: ignore[no-any-return]
    try:
        importlib.import_module("registry.matches.engine_io")
    except ImportError:
        return None
    return functools.partial(matching_finder, today=today)


async def matching_finder(
    ambito_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], *, today: date
) -> list[NeedCandidates]:
    """Open needs of active plans for which one of `resource_ids` is now among the top
    suggestions, with the same engine, data and weights the per-need suggestions use."""
    from registry import matching
    from registry.matches import engine_io
    from registry.plans.tables import Plan

    needs, plans = await engine_io.open_needs(Plan.ambito == ambito_id)
    if not needs:
        return []
    resources, _ = await engine_io.load_resources(ambito_id, today)
    wanted = {str(r) for r in resource_ids} & {r.id for r in resources}
    if not wanted:
        return []
    taxonomy = await engine_io.load_taxonomy()
    holders = await engine_io.plan_holders(plans)
    items = [
        engine_io.need_item(need, plans[need["plan"]], holders.get(need["plan"], frozenset()))
        for need in needs
    ]
    index = matching.CandidateIndex(resources, taxonomy, as_of=today)
    rows, positions, _, _ = index.ranked(items, matching.Weights(), SUGGESTIONS_SHOWN)
    found: dict[int, list[uuid.UUID]] = defaultdict(list)
    for row, position in zip(rows.tolist(), positions.tolist(), strict=True):
        resource_id = index.resources[position].id
        if resource_id in wanted:
            found[row].append(uuid.UUID(resource_id))
    if not found:
        return []
    owners = {
        p["id"]: p
        for p in await Plan.select(Plan.id, Plan.owner, Plan.case_code).where(
            Plan.id.is_in(list({needs[row]["plan"] for row in found}))
        )
    }
    out = []
    for row, ids in found.items():
        need = needs[row]
        plan = owners.get(need["plan"])
        out.append(
            NeedCandidates(
                need_id=need["id"],
                social_worker_id=plan["owner"] if plan else None,
                resource_ids=ids,
                plan_id=need["plan"],
                # The case code is the plan's pseudonym: no personal data in a notification.
                label=f"{plan['case_code']} · {taxonomy.label(need['category_code'])}"
                if plan
                else "",
            )
        )
    return out


async def run_rematch(
    now: datetime,
    settings: Settings,
    *,
    since: datetime,
    finder: CandidateFinder | None = None,
    ambito_ids: Sequence[uuid.UUID] | None = None,
) -> dict[str, Any]:
    finder = finder or default_finder(today(settings, now))
    if finder is None:
        return {"skipped": "the plans/matches domain is not installed"}
    where = (
        (Resource.status == ResourceStatus.ACTIVE.value)
        & (Resource.confirmed_at > since)
        & (Resource.confirmed_at <= now)
    )
    if ambito_ids is not None:
        where &= Resource.ambito.is_in(list(ambito_ids))
    confirmed = await Resource.select(Resource.id, Resource.ambito).where(where)
    by_ambito: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for row in confirmed:
        by_ambito[row["ambito"]].append(row["id"])
    notified = pairs = 0
    for ambito_id, resource_ids in by_ambito.items():
        allowed = set(resource_ids)
        for found in await finder(ambito_id, resource_ids):
            candidates = [r for r in dict.fromkeys(found.resource_ids) if r in allowed]
            keys = {f"{found.need_id}:{r}": r for r in candidates}
            if not keys:
                continue
            told = {
                n["pair_key"]
                for n in await CandidateNotice.select(CandidateNotice.pair_key).where(
                    CandidateNotice.pair_key.is_in(list(keys))
                )
            }
            new = {k: r for k, r in keys.items() if k not in told}
            if not new:
                continue
            titles = {
                r["id"]: r["title"]
                for r in await Resource.select(Resource.id, Resource.title).where(
                    Resource.id.is_in(list(new.values()))
                )
            }
            async with unit_of_work():
                await CandidateNotice.insert(
                    *[
                        CandidateNotice(
                            ambito=ambito_id,
                            need_id=found.need_id,
                            resource=resource_id,
                            social_worker=found.social_worker_id,
                            pair_key=key,
                            notified_at=now,
                        )
                        for key, resource_id in new.items()
                    ]
                )
                label = f": {found.label}" if found.label else ""
                names = ", ".join(f"«{titles.get(r, '?')}»" for r in new.values())
                await emit(
                    Event(
                        ambito_id=ambito_id,
                        type=EventType.NEW_CANDIDATES,
                        title="Nuove risorse per un bisogno aperto" + label,
                        body=(
                            "Sono diventate disponibili risorse adatte a un bisogno aperto"
                            f"{label}: {names}. Apri il piano per vedere i suggerimenti."
                        ),
                        data={
                            "need_id": str(found.need_id),
                            "plan_id": str(found.plan_id) if found.plan_id else None,
                            "resource_ids": [str(r) for r in new.values()],
                        },
                        users=[found.social_worker_id] if found.social_worker_id else [],
                    ),
                    settings,
                    now=now,
                )
            notified += 1
            pairs += len(new)
    return {"resources_considered": len(confirmed), "needs_notified": notified, "new_pairs": pairs}
