"""From the database to the matching engine's plain data, and nothing more.

The engine (registry/matching/) knows no database: this module loads an ambito's
candidate resources with everything the score needs (remaining capacity, availability as
weekly windows, holder load, new ties) and turns plans' needs into `NeedItem`s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from registry import italian
from registry.config import load_settings
from registry.db import fetch, reads
from registry.geo import comune, comune_location
from registry.matches.tables import Match
from registry.matching import NeedItem, ResourceItem, Taxonomy, WeeklyWindow
from registry.plans.schemas import NeedUnit
from registry.plans.tables import Need, Plan
from registry.resources import availability
from registry.resources.service import active_windows
from registry.resources.tables import Resource
from registry.taxonomy import service as taxonomy

# Matches in these states hold one place of their resource.
HOLDING = ("accepted", "active")
# A holder with a match in one of these states is already part of the network.
TIES = ("accepted", "active", "completed")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_IN_CHUNK = 5000  # stays far below SQLite's limit of bound parameters


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """What the API shows next to an engine suggestion."""

    title: str
    category_code: str
    unit: str
    holder_id: uuid.UUID
    holder_name: str
    remaining: int


_taxonomy: tuple[taxonomy.Tree, Taxonomy] | None = None


async def load_taxonomy() -> Taxonomy:
    """The engine's tree, made once for each read of the terms (taxonomy.tree)."""
    global _taxonomy
    terms = await taxonomy.tree()
    if _taxonomy is None or _taxonomy[0] is not terms:
        _taxonomy = (terms, Taxonomy(parents=terms.parents, labels=terms.labels))
    return _taxonomy[1]


# The resources' and matches' reads below (and the windows', resources/service.py) are
# hand-written: building the Piccolo queries (a select with three joined columns, three
# grouped counts) took more than half of a request for suggestions under load (issue 18).
# Each read covers the ambito at once, with no list of ids to bind.
_RESOURCES = (
    "SELECT r.id, r.holder, r.title, r.category_code, r.unit, r.capacity, r.comuni, "
    "r.target_groups, r.languages, r.requirements, r.valid_from, r.valid_until, "
    "r.confirmed_at, h.name AS holder_name, h.sector AS holder_sector, "
    "h.seat_comune AS holder_seat "
    "FROM resource r JOIN holder h ON h.id = r.holder "
    "WHERE r.ambito = {} AND r.status = 'active' AND h.status <> 'archived' "
    "AND (r.valid_until IS NULL OR r.valid_until >= {})"
)
# Matches by resource, holder and status: accepted and active hold a place, completed ones
# only tie the holder to the network.
_MATCHES = (
    "SELECT resource, holder, status, COUNT(*) AS n FROM resource_match "
    f"WHERE ambito = {{}} AND status IN ({', '.join(repr(s) for s in TIES)}) "
    "GROUP BY resource, holder, status"
)


@dataclass(frozen=True, slots=True)
class _MatchCounts:
    taken: dict[uuid.UUID, int]  # places held per resource
    load: dict[uuid.UUID, int]  # places held per holder
    tied: set[uuid.UUID]  # holders with a match that ties them to the network


async def _match_counts(ambito_id: uuid.UUID) -> _MatchCounts:
    counts = _MatchCounts({}, {}, set())
    for row in await Match.raw(_MATCHES, ambito_id):
        counts.tied.add(row["holder"])
        if row["status"] in HOLDING:
            counts.taken[row["resource"]] = counts.taken.get(row["resource"], 0) + row["n"]
            counts.load[row["holder"]] = counts.load.get(row["holder"], 0) + row["n"]
    return counts


async def _weekly_windows(
    ambito_id: uuid.UUID, today: date
) -> dict[uuid.UUID, tuple[WeeklyWindow, ...]]:
    """The weekly windows of the ambito's active resources."""
    found: dict[uuid.UUID, tuple[WeeklyWindow, ...]] = {}
    for resource_id, windows in (await active_windows(ambito_id)).items():
        weekly = {
            WeeklyWindow(day, start, end)
            for rule in windows
            # A window that has ended says nothing about when the resource is free.
            if rule.valid_until is None or rule.valid_until >= today
            for day, start, end in availability.weekly_pattern(rule)
        }
        found[resource_id] = tuple(sorted(weekly))
    return found


@dataclass(frozen=True, slots=True)
class FreshnessDays:
    """The registry's freshness policy (REGISTRY_FRESHNESS_*_DAYS), for the score."""

    remind_after: int
    stale_after: int

    @classmethod
    def from_settings(cls) -> FreshnessDays:
        settings = load_settings()
        return cls(settings.freshness_reminder_days, settings.freshness_stale_days)


async def load_resources(
    ambito_id: uuid.UUID, today: date, freshness: FreshnessDays | None = None
) -> tuple[list[ResourceItem], dict[str, ResourceInfo]]:
    """Every resource of the ambito that may be suggested today, as engine items.

    Only active resources (not paused, stale, expired or archived) of holders that are not
    archived, whose validity has not ended; the engine then checks the overlap with each
    need's own period. Each carries the days since its last confirmation: a resource the
    freshness job has not marked stale yet still ranks lower, and its reason says why.
    """
    policy = freshness or FreshnessDays.from_settings()
    rows, matches, windows = await reads(
        Resource.raw(_RESOURCES, ambito_id, today),
        _match_counts(ambito_id),
        _weekly_windows(ambito_id, today),
    )
    taken, load, tied = matches.taken, matches.load, matches.tied
    items: list[ResourceItem] = []
    info: dict[str, ResourceInfo] = {}
    for row in rows:
        remaining = max(0, row["capacity"] - taken.get(row["id"], 0))
        key = str(row["id"])
        items.append(
            ResourceItem(
                id=key,
                holder_id=str(row["holder"]),
                holder_sector=row["holder_sector"],
                category=row["category_code"],
                comuni=frozenset(row["comuni"] or ()),
                target_groups=frozenset(row["target_groups"] or ()),
                languages=frozenset(row["languages"] or ()),
                clearances=frozenset(row["requirements"] or ()),
                valid_from=row["valid_from"],
                valid_until=row["valid_until"],
                capacity=remaining,
                windows=windows.get(row["id"], ()),
                holder_load=load.get(row["holder"], 0),
                holder_is_new=row["holder"] not in tied,
                home_comune=row["holder_seat"],
                # The holder's seat stands for where the resource is based (as for
                # proximity), at its comune's centroid: the engine measures comune to comune.
                home_location=comune_location(row["holder_seat"]),
                home_comune_name=comune_name(row["holder_seat"]),
                confirmed_days=_days_since(row["confirmed_at"], today),
                remind_after_days=policy.remind_after,
                stale_after_days=policy.stale_after,
            )
        )
        info[key] = ResourceInfo(
            title=row["title"],
            category_code=row["category_code"],
            unit=row["unit"],
            holder_id=row["holder"],
            holder_name=row["holder_name"],
            remaining=remaining,
        )
    return items, info


def comune_name(code: str | None) -> str:
    """The ISTAT name of a comune of today, for the engine's explanations ("" if unknown)."""
    place = comune(code)
    return place.name if place is not None else ""


def _days_since(moment: datetime | None, today: date) -> int | None:
    if moment is None:
        return None
    return max(0, (today - italian.today(moment)).days)


async def plan_holders(plan_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, frozenset[str]]:
    """Holders already engaged in each plan (continuity): accepted or active matches."""
    ids = list(set(plan_ids))
    found: dict[uuid.UUID, set[str]] = {}
    for lo in range(0, len(ids), _IN_CHUNK):
        chunk = ids[lo : lo + _IN_CHUNK]
        # One plan's (a suggestion's) is a short read, on SQLite on the loop's own thread;
        # many plans' (a matching run's) may be many rows: a connection's thread.
        read = fetch if len(chunk) == 1 else Match.raw
        rows = await read(
            "SELECT CAST(plan AS TEXT) AS plan, CAST(holder AS TEXT) AS holder "
            f"FROM resource_match WHERE plan IN ({', '.join('{}' for _ in chunk)}) "
            f"AND status IN ({', '.join(repr(s) for s in HOLDING)})",
            *chunk,
        )
        for row in rows:
            found.setdefault(uuid.UUID(row["plan"]), set()).add(row["holder"])
    return {plan: frozenset(holders) for plan, holders in found.items()}


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def weekly_minutes(quantity: int, unit: str) -> int:
    """The engine's time quantity; 0 ("as much as the windows say") for non-time units."""
    if unit == NeedUnit.MINUTES_PER_WEEK:
        return quantity
    if unit == NeedUnit.HOURS_PER_WEEK:
        return quantity * 60
    return 0


def need_item(
    need: dict[str, Any], plan: dict[str, Any], holders: frozenset[str] = frozenset()
) -> NeedItem:
    """A need row (with its plan row) as the engine's `NeedItem`."""
    windows = tuple(
        WeeklyWindow(_WEEKDAYS.index(w["weekday"]), _minutes(w["start"]), _minutes(w["end"]))
        for w in need["schedule"] or []
    )
    comune = need["comune"] or plan["comune"]
    return NeedItem(
        id=str(need["id"]),
        plan_id=str(plan["id"]),
        category=need["category_code"],
        comune=comune,
        # The need's own target group, else its plan's.
        target_group=need.get("target_group") or plan["target_group"],
        languages=frozenset(need["languages"] or ()),
        required_clearances=frozenset(need["requirements"] or ()),
        start=need["start_date"] or plan["start_date"],
        end=need["end_date"] or plan["end_date"],
        quantity_per_week_minutes=weekly_minutes(need["quantity"], need["unit"]),
        windows=windows,
        plan_holder_ids=holders,
        priority=need["priority"],
        location=comune_location(comune),
        comune_name=comune_name(comune),
        max_distance_km=need.get("max_distance_km"),
    )


async def open_needs(plan_where: Any) -> tuple[list[dict[str, Any]], dict[uuid.UUID, dict]]:
    """Open needs of the active plans selected by `plan_where`, and those plans."""
    plans = await Plan.select(
        Plan.id, Plan.comune, Plan.target_group, Plan.start_date, Plan.end_date
    ).where(plan_where & (Plan.status == "active"))
    by_id = {p["id"]: p for p in plans}
    needs: list[dict[str, Any]] = []
    ids = list(by_id)
    for lo in range(0, len(ids), _IN_CHUNK):
        needs += (
            await Need.select()
            .where(Need.plan.is_in(ids[lo : lo + _IN_CHUNK]) & (Need.status == "open"))
            .output(load_json=True)
        )
    return needs, by_id
