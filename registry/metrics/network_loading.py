"""Metrics loaders, the cohesion network: the holders, their participations in plans and
activities from the ledger, and the ties recorded by occasion (joint activities, interactions,
co-programming and co-design); the ties derived period by period (network.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from piccolo.columns import Column, ForeignKey
from piccolo.columns.combination import Combinable
from piccolo.table import Table as PiccoloTable

from registry import italian
from registry.contributions.tables import ActivityOrganiser
from registry.db import array_contains
from registry.holders.tables import Holder
from registry.metrics import compute, network
from registry.metrics.compute import Period
from registry.metrics.loading import (
    _VERIFIED,
    Scope,
    _date,
    _dt,
    _ledger_from,
    _ledger_where,
    _month,
    _raw,
    _text,
)
from registry.metrics.suppression import Table
from registry.metrics.tables import InteractionParticipant
from registry.partnerships.network import partnership_ties


async def load_network(
    ambito_id: uuid.UUID, end: date, scope: Scope
) -> tuple[list[network.Node], list[network.Participation], list[network.Tie]]:
    where = Holder.ambito == ambito_id
    if scope.holder_kind:
        where &= Holder.kind == scope.holder_kind
    if scope.sector:
        where &= Holder.sector == scope.sector
    if scope.comune:
        where &= array_contains(Holder.comuni, scope.comune)
    nodes = [
        network.Node(
            id=str(r["id"]),
            kind=r["kind"],
            sector=r["sector"],
            since=italian.today(_dt(r["created_at"])),
            active=r["status"] != "archived",
        )
        for r in await Holder.select(
            Holder.id, Holder.kind, Holder.sector, Holder.created_at, Holder.status
        ).where(where)
    ]
    # Participations of the whole history up to `end`: "new ties" need to know the old ones.
    everything = Period("history", date(1900, 1, 1), end)
    where_sql, args = _ledger_where(ambito_id, everything, Scope())
    # The ledger alone (no holder, plan or activity is read) and ids as text: a large ledger
    # has hundreds of thousands of participations.
    sql = (
        f"SELECT {_text('c.holder')} AS holder_id, {_text('c.plan_id')} AS plan_id, "
        f"{_text('c.activity')} AS activity_id, "
        f"{_month('c.occurred_on')} AS month, MIN(c.occurred_on) AS first_on "
        f"{_ledger_from(Scope())} WHERE {where_sql} AND {_VERIFIED} "
        "AND (c.plan_id IS NOT NULL OR c.activity IS NOT NULL) GROUP BY 1, 2, 3, 4"
    )
    participations = []
    for r in await _raw(sql, *args):
        day = _date(r["first_on"])
        assert day is not None
        if r["plan_id"] is not None:
            participations.append(
                network.Participation(r["holder_id"], f"plan:{r['plan_id']}", day)
            )
        if r["activity_id"] is not None:
            participations.append(
                network.Participation(r["holder_id"], f"activity:{r['activity_id']}", day)
            )
    ties = await _occasion_ties(
        ActivityOrganiser,
        ActivityOrganiser.activity,
        ActivityOrganiser.activity.starts_on,
        (ActivityOrganiser.activity.ambito == ambito_id)
        & (ActivityOrganiser.activity.starts_on <= end)
        & (ActivityOrganiser.activity.status != "cancelled"),
        "joint_activity",
    )
    by_hand = await _occasion_ties(
        InteractionParticipant,
        InteractionParticipant.interaction,
        InteractionParticipant.interaction.occurred_on,
        (InteractionParticipant.interaction.ambito == ambito_id)
        & (InteractionParticipant.interaction.occurred_on <= end),
        "interaction",
    )
    ties.extend(by_hand)
    # Co-programming attendance and co-design partners (issue 16), less what was tied by hand.
    ties.extend(await partnership_ties(ambito_id, end, by_hand))
    return nodes, participations, ties


async def _occasion_ties(
    link: type[PiccoloTable], occasion: ForeignKey, day: Column, where: Combinable, kind: str
) -> list[network.Tie]:
    """Ties among the holders of each occasion (an activity's organisers, an interaction's
    participants: `link` rows with a `holder`), on the occasion's day."""
    grouped: dict[str, tuple[date, list[str]]] = {}
    for r in await link.select(occasion, link.holder, day.as_alias("day")).where(where):  # type: ignore[attr-defined]
        on = _date(r["day"])
        grouped.setdefault(str(r[occasion._meta.name]), (on, []))[1].append(str(r["holder"]))  # type: ignore[arg-type]
    return [t for on, holders in grouped.values() for t in _clique(holders, on, kind)]


def _clique(holders: Sequence[str], day: date, kind: str) -> list[network.Tie]:
    ordered = sorted(set(holders))
    return [network.Tie(a, b, day, kind) for i, a in enumerate(ordered) for b in ordered[i + 1 :]]


def _all_ties(
    participations: Sequence[network.Participation],
    ties: Sequence[network.Tie],
    periods: Sequence[Period],
    granularity: str,
) -> list[network.Tie]:
    """Recorded ties and the ties derived period by period over the whole history (new ties
    need the old ones)."""
    first_day = min([p.on for p in participations] + [t.on for t in ties] + [periods[0].start])
    history = compute.buckets(first_day, periods[-1].end, granularity)
    return [*ties, *network.derived_ties(participations, history)]


def period_tables(
    nodes: Sequence[network.Node],
    participations: Sequence[network.Participation],
    ties: Sequence[network.Tie],
    periods: Sequence[Period],
    granularity: str,
    members: frozenset[str] | None = None,
) -> tuple[Table, list[tuple[Table, list[dict[str, object]]]]]:
    """network.network_tables of the periods from the recorded ties and the participations
    (pure: a worker process derives the ties, which outnumber what it is sent)."""
    everything = _all_ties(participations, ties, periods, granularity)
    return network.network_tables(nodes, everything, periods, members)
