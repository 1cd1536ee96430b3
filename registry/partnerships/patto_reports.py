"""Periodic reports of a patto (the figures of its period, kept as written) and the
report-due job."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from registry import italian
from registry.access import Principal, Role
from registry.common import now
from registry.contributions import quantities
from registry.db import unit_of_work
from registry.errors import InvalidInput
from registry.partnerships.commitments import _commitment_outs, given
from registry.partnerships.patti import _covered, _may_see_patto, _patto_row, _period_ends
from registry.partnerships.schemas import (
    CommitmentFigures,
    PattoReportCreate,
    PattoReportOut,
    PattoStatus,
    ReportFigures,
    UnitFigures,
)
from registry.partnerships.tables import Commitment, Patto, PattoReport
from registry.vocabularies import ContributionUnit


async def _report_figures(
    actor: Principal, patto_id: uuid.UUID, start: date, end: date
) -> ReportFigures:
    # The figures are the whole patto's, whoever asks (a report is the patto's own).
    udp = Principal(actor.user_id, actor.username, Role.UDP_ADMIN, actor.ambito_id)
    commitments = await _commitment_outs(udp, Commitment.patto == patto_id, start=start, end=end)
    totals = await given(actor.ambito_id, [c.id for c in commitments], start=start, end=end)
    by_unit: dict[str, dict[str, int]] = {}
    for per_unit in totals.values():
        for unit, b in per_unit.items():
            sums = by_unit.setdefault(
                unit, {"verified": 0, "self_reported": 0, "entries": 0, "value_cents": 0}
            )
            for name, value in b.items():
                sums[name] += value
    order = list(ContributionUnit)
    return ReportFigures(
        by_unit=[
            UnitFigures(
                unit=ContributionUnit(unit),
                verified=quantities.shown_quantity(unit, b["verified"]),
                self_reported=quantities.shown_quantity(unit, b["self_reported"]),
                entries=b["entries"],
                value_cents=b["value_cents"],
            )
            for unit, b in sorted(by_unit.items(), key=lambda item: order.index(item[0]))
        ],
        commitments=[
            CommitmentFigures(
                commitment_id=c.id,
                description=c.description,
                holder_name=c.holder_name,
                unit=c.unit,
                committed=c.quantity,
                verified=c.given.verified,
                self_reported=c.given.self_reported,
            )
            for c in commitments
        ],
    )


def _report_out(row: dict[str, Any]) -> PattoReportOut:
    figures = row["figures"]
    if isinstance(figures, str):
        figures = msgspec.json.decode(figures)
    return PattoReportOut(
        id=row["id"],
        patto_id=row["patto"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        text=row["text"],
        figures=msgspec.convert(figures, ReportFigures),
        created_at=row["created_at"],
    )


async def add_report(
    actor: Principal, patto_id: uuid.UUID, data: PattoReportCreate
) -> PattoReportOut:
    current = await _patto_row(actor, patto_id)
    actor.require(Role.UDP_ADMIN)
    if data.period_end < data.period_start:
        raise InvalidInput("period_end must not be before period_start", field="period_end")
    if data.period_start < current["starts_on"] or data.period_end > current["ends_on"]:
        raise InvalidInput("the period falls outside the patto's", field="period_start")
    if data.period_end > italian.today():
        raise InvalidInput("a report covers a period that has ended", field="period_end")
    figures = await _report_figures(actor, patto_id, data.period_start, data.period_end)
    report = PattoReport(
        ambito=actor.ambito_id,
        patto=patto_id,
        period_start=data.period_start,
        period_end=data.period_end,
        text=data.text,
        figures=msgspec.json.encode(figures).decode(),
        created_by=actor.user_id,
        created_at=now(),
    )
    await report.save()
    return _report_out(report.to_dict())


async def list_reports(actor: Principal, patto_id: uuid.UUID) -> list[PattoReportOut]:
    await _patto_row(actor, patto_id)
    await _may_see_patto(actor, patto_id)
    rows = (
        await PattoReport.select()
        .where(PattoReport.patto == patto_id)
        .order_by(PattoReport.period_start)
        .order_by(PattoReport.created_at)
    )
    return [_report_out(r) for r in rows]


# --- the report-due job ----------------------------------------------------------------------


async def notify_due_reports(moment: datetime, ambito_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    """Tell the UdP of each active patto whose reporting period ended (Europe/Rome day)
    without a report, once per period (the patto remembers the period it told about).
    Idempotent: a second run the same day tells nobody."""
    from registry.notifications import workflow

    if not ambito_ids:
        return {"reports_due_told": 0}
    today = italian.today(moment)
    rows = await Patto.select().where(
        Patto.ambito.is_in(list(ambito_ids)) & (Patto.status == PattoStatus.ACTIVE.value)
    )
    told = 0
    for row in rows:
        covered = await _covered(row)
        # The latest period that has ended without a report: one reminder per period.
        ended = [end for end in _period_ends(row) if covered < end < today]
        if not ended or row["report_notified_for"] == ended[-1]:
            continue
        due = ended[-1]
        async with unit_of_work():
            await workflow.patto_report_due(row["ambito"], row["id"], row["title"], due)
            await Patto.update({Patto.report_notified_for: due}).where(Patto.id == row["id"])
        told += 1
    return {"reports_due_told": told}
