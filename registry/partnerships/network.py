"""Ties of the cohesion network from co-programming and co-design (issue 16).

- Co-programming: two organisations at the same working table of a session are tied; an
  organisation attending a session without a table (the plenary) is tied to every other
  organisation at that session. Kind `interaction` (DESIGN.md: a shared co-programming table
  is an interaction), dated on the session's day (Europe/Rome).
- Co-design: the partners of one project (not cancelled) are tied, kind `joint_activity`,
  dated when the later of the two joined.

No double counting (the rule): a pair gets at most one derived tie of a kind per calendar
month (five sessions of one month are one tie), and a derived tie is dropped when a
hand-recorded interaction (/api/interactions) ties the same pair in the same calendar month:
before this feature the UdP recorded shared tables by hand, and those records stand.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from registry import italian
from registry.coprogramming.tables import Attendance
from registry.metrics.network import Tie
from registry.partnerships.tables import CodesignPartner


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _day(value: datetime | str) -> date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return italian.today(value)


def session_ties(attendance: Iterable[tuple[str, str | None, str, date]]) -> list[Tie]:
    """Ties of (session, table or None, holder, day) attendance rows."""
    sessions: dict[str, dict[str | None, set[str]]] = defaultdict(lambda: defaultdict(set))
    days: dict[str, date] = {}
    for session, table, holder, day in attendance:
        sessions[session][table].add(holder)
        days[session] = day
    ties: list[Tie] = []
    for session, tables in sessions.items():
        pairs: set[tuple[str, str]] = set()
        everyone = sorted(set().union(*tables.values()))
        for table, holders in tables.items():
            members = sorted(holders)
            if table is None:  # the plenary: tied to everyone at the session
                pairs |= {_pair(a, b) for a in members for b in everyone if a != b}
            else:
                pairs |= {_pair(a, b) for i, a in enumerate(members) for b in members[i + 1 :]}
        ties.extend(Tie(a, b, days[session], "interaction") for a, b in sorted(pairs))
    return ties


def project_ties(partners: Iterable[tuple[str, str, date]]) -> list[Tie]:
    """Ties of (project, holder, joined_on) partner rows."""
    projects: dict[str, dict[str, date]] = defaultdict(dict)
    for project, holder, joined in partners:
        projects[project][holder] = joined
    ties = []
    for members in projects.values():
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                ties.append(Tie(a, b, max(members[a], members[b]), "joint_activity"))
    return ties


def _month(day: date) -> tuple[int, int]:
    return (day.year, day.month)


def deduplicated(derived: Iterable[Tie], recorded: Sequence[Tie]) -> list[Tie]:
    """The derived ties less those of a pair and month already tied by hand, one per pair,
    kind and month (the earliest)."""
    by_hand = {(_pair(t.a, t.b), _month(t.on)) for t in recorded}
    kept: dict[tuple[tuple[str, str], tuple[int, int], str], Tie] = {}
    for tie in sorted(derived, key=lambda t: t.on):
        pair = _pair(tie.a, tie.b)
        if (pair, _month(tie.on)) in by_hand:
            continue
        kept.setdefault((pair, _month(tie.on), tie.kind), tie)
    return list(kept.values())


async def partnership_ties(ambito_id: uuid.UUID, end: date, recorded: Sequence[Tie]) -> list[Tie]:
    """Co-programming and co-design ties of the ambito up to `end`, without double counting
    the hand-recorded ties `recorded`."""
    rows = await Attendance.select(
        Attendance.session,
        Attendance.working_table,
        Attendance.application.holder.as_alias("holder"),
        Attendance.session.starts_at.as_alias("starts_at"),
    ).where(Attendance.ambito == ambito_id)
    attendance = [
        (str(r["session"]), _s(r["working_table"]), str(r["holder"]), _day(r["starts_at"]))
        for r in rows
    ]
    partners = await CodesignPartner.select(
        CodesignPartner.project, CodesignPartner.holder, CodesignPartner.joined_on
    ).where(
        (CodesignPartner.project.ambito == ambito_id)
        & (CodesignPartner.project.status != "cancelled")
    )
    derived = [
        *session_ties(a for a in attendance if a[3] <= end),
        *project_ties(
            (str(r["project"]), str(r["holder"]), _date(r["joined_on"]))
            for r in partners
            if _date(r["joined_on"]) <= end
        ),
    ]
    return deduplicated([t for t in derived if t.on <= end], recorded)


def _s(value: object) -> str | None:
    return None if value is None else str(value)


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
