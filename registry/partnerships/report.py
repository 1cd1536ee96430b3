"""The chapter «Co-programmazione» of the Piano di Zona report (issue 16): who took part (by
sector), sessions, proposals, objectives adopted, co-design and patti, commitments kept.

`chapter()` reads the tables (the whole ambito, the report's period); `chapter_html()` is
pure and runs in the report's worker process with the rest of the document.

What the period selects: the sessions held in it (Europe/Rome days) and their procedures;
the organisations that attended those sessions and the people they registered for those
procedures; the proposals made at those sessions' tables; the objectives of those procedures
adopted by the period's end; the co-design projects and patti in force at some time in the
period, and their commitments against the verified entries given up to the period's end.
Organisations taking part in a co-programming procedure are public (the procedure's public
page names them); counts of people below the threshold are withheld («n.d.»).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Any

from registry import italian
from registry.coprogramming.tables import (
    Attendance,
    Minutes,
    Objective,
    ObjectiveLink,
    Participant,
    Procedure,
    ProcedureSession,
    TableContribution,
)
from registry.italian import ROME
from registry.partnerships.tables import CodesignProject, Commitment, Patto
from registry.vocabularies import (
    CONTRIBUTION_UNIT_LABELS,
    PROCEDURE_KIND_LABELS,
    SECTOR_LABELS,
    ContributionUnit,
    GuidingQuestion,
)

N_D = "n.d."


@dataclass(frozen=True, slots=True)
class SectorLine:
    sector: str
    organisations: int
    people: int


@dataclass(frozen=True, slots=True)
class ProcedureLine:
    title: str
    kind: str
    piano_period: str
    sessions: int
    organisations: int
    proposals: int
    objectives_adopted: int


@dataclass(frozen=True, slots=True)
class CommitmentLine:
    unit: str
    commitments: int
    committed: float
    verified: float
    kept: int  # commitments whose verified entries reach what was committed


@dataclass(frozen=True, slots=True)
class CoprogrammingChapter:
    procedures: list[ProcedureLine]
    by_sector: list[SectorLine]
    sessions: int
    sessions_with_approved_minutes: int
    proposals: int
    objectives_adopted: int
    objectives_from_proposals: int
    projects: int
    patti: int
    commitments: list[CommitmentLine]

    @property
    def organisations(self) -> int:
        return sum(s.organisations for s in self.by_sector)

    @property
    def people(self) -> int:
        return sum(s.people for s in self.by_sector)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), ROME)


async def chapter(ambito_id: uuid.UUID, start: date, end: date) -> CoprogrammingChapter:
    # Imported here: the ledger's service pulls in the notifications; the pure half of this
    # module (chapter_html) is what the report's worker process needs.
    from registry.partnerships.commitments import given

    sessions = await ProcedureSession.select(ProcedureSession.id, ProcedureSession.procedure).where(
        (ProcedureSession.ambito == ambito_id)
        & (ProcedureSession.starts_at >= _midnight(start))
        & (ProcedureSession.starts_at < _midnight(end + timedelta(days=1)))
    )
    session_ids = [s["id"] for s in sessions]
    procedure_of = {s["id"]: s["procedure"] for s in sessions}
    procedure_ids = sorted(set(procedure_of.values()), key=str)

    attended: dict[Any, set[Any]] = defaultdict(set)  # procedure -> holders
    sector_of: dict[Any, str] = {}
    if session_ids:
        for r in await Attendance.select(
            Attendance.session,
            Attendance.application.holder.as_alias("holder"),
            Attendance.application.holder.sector.as_alias("sector"),
        ).where(Attendance.session.is_in(session_ids)):
            attended[procedure_of[r["session"]]].add(r["holder"])
            sector_of[r["holder"]] = r["sector"]
    holders = set().union(*attended.values()) if attended else set()
    people: dict[str, int] = defaultdict(int)
    if holders:
        for r in await Participant.select(Participant.application.holder.as_alias("holder")).where(
            Participant.application.procedure.is_in(procedure_ids)
            & Participant.application.holder.is_in(list(holders))
        ):
            people[sector_of[r["holder"]]] += 1
    organisations: dict[str, int] = defaultdict(int)
    for holder in holders:
        organisations[sector_of[holder]] += 1

    proposals: dict[Any, int] = defaultdict(int)
    approved: set[Any] = set()
    if session_ids:
        for r in await TableContribution.select(
            TableContribution.working_table.session.as_alias("session")
        ).where(
            TableContribution.working_table.session.is_in(session_ids)
            & (TableContribution.question == GuidingQuestion.PROPOSALS.value)
        ):
            proposals[procedure_of[r["session"]]] += 1
        approved = {
            r["session"]
            for r in await Minutes.select(Minutes.session).where(
                Minutes.session.is_in(session_ids) & (Minutes.status == "approved")
            )
        }
    adopted: dict[Any, int] = defaultdict(int)
    from_proposals = 0
    procedures: list[ProcedureLine] = []
    if procedure_ids:
        objectives = await Objective.select(Objective.id, Objective.procedure).where(
            Objective.procedure.is_in(procedure_ids)
            & Objective.adopted_on.is_not_null()
            & (Objective.adopted_on <= end)
        )
        for r in objectives:
            adopted[r["procedure"]] += 1
        if objectives:
            linked = await ObjectiveLink.select(ObjectiveLink.objective).where(
                ObjectiveLink.objective.is_in([r["id"] for r in objectives])
                & ObjectiveLink.proposal.is_not_null()
            )
            from_proposals = len({r["objective"] for r in linked})
        for r in await Procedure.select(
            Procedure.id, Procedure.title, Procedure.kind, Procedure.piano_period
        ).where(Procedure.id.is_in(procedure_ids)):
            procedures.append(
                ProcedureLine(
                    title=r["title"],
                    kind=r["kind"],
                    piano_period=r["piano_period"],
                    sessions=sum(1 for p in procedure_of.values() if p == r["id"]),
                    organisations=len(attended.get(r["id"], ())),
                    proposals=proposals.get(r["id"], 0),
                    objectives_adopted=adopted.get(r["id"], 0),
                )
            )
        procedures.sort(key=lambda p: p.title)

    projects = await CodesignProject.select(CodesignProject.id).where(
        (CodesignProject.ambito == ambito_id)
        & (CodesignProject.status != "cancelled")
        & (CodesignProject.starts_on <= end)
        & (CodesignProject.ends_on.is_null() | (CodesignProject.ends_on >= start))
    )
    patti = await Patto.select(Patto.id).where(
        (Patto.ambito == ambito_id)
        & (Patto.status != "terminated")
        & (Patto.starts_on <= end)
        & (Patto.ends_on >= start)
    )
    commitments: list[CommitmentLine] = []
    if projects or patti:
        rows = await Commitment.select(Commitment.id, Commitment.unit, Commitment.quantity).where(
            (
                Commitment.project.is_in([p["id"] for p in projects] or [uuid.uuid4()])
                | Commitment.patto.is_in([p["id"] for p in patti] or [uuid.uuid4()])
            )
            & Commitment.holder.is_not_null()
            & Commitment.unit.is_not_null()
            & Commitment.quantity.is_not_null()
        )
        totals = await given(ambito_id, [r["id"] for r in rows], end=end)
        by_unit: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for r in rows:
            verified = totals[r["id"]].get(r["unit"], {}).get("verified", 0)
            line = by_unit[r["unit"]]
            line[0] += 1
            line[1] += r["quantity"]
            line[2] += verified
            line[3] += 1 if verified >= r["quantity"] else 0
        order = list(ContributionUnit)
        for unit, (count, committed, verified, kept) in sorted(
            by_unit.items(), key=lambda item: order.index(ContributionUnit(item[0]))
        ):
            scale = 60 if unit in ("hours", "room_hours") else 1  # minutes in the ledger
            commitments.append(
                CommitmentLine(unit, count, committed / scale, verified / scale, kept)
            )
    return CoprogrammingChapter(
        procedures=procedures,
        by_sector=[
            SectorLine(sector, organisations[sector], people.get(sector, 0))
            for sector in sorted(organisations)
        ],
        sessions=len(session_ids),
        sessions_with_approved_minutes=len(approved),
        proposals=sum(proposals.values()),
        objectives_adopted=sum(adopted.values()),
        objectives_from_proposals=from_proposals,
        projects=len(projects),
        patti=len(patti),
        commitments=commitments,
    )


# --- the chapter as HTML (pure) ------------------------------------------------------------


def _esc(value: object) -> str:
    return escape(str(value), quote=True)


def _n(value: float | int) -> str:
    return italian.number(value, 0 if float(value).is_integer() else 1)


def _people(count: int, threshold: int) -> str:
    # People are counted, never named; a small count could point at them.
    return N_D if 0 < count < threshold else _n(count)


def _table(head: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    header = "".join(f"<th>{_esc(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{_esc(c)}</td>" if i >= numeric_from else f"<td>{_esc(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _people_total(data: CoprogrammingChapter, threshold: int) -> str:
    # A withheld sector would come back as the total less the others: withheld together.
    if any(_people(s.people, threshold) == N_D for s in data.by_sector):
        return N_D
    return _people(data.people, threshold)


def chapter_html(data: CoprogrammingChapter | None, threshold: int) -> str:
    if data is None:
        return "<p class='read'>Co-programmazione non calcolata per questo rapporto.</p>"
    intro = (
        "<p class='read'>La co-programmazione con il Terzo settore (art. 55 del Codice del "
        "Terzo settore, linee guida DM 72/2021): le sessioni tenute nel periodo, le "
        "organizzazioni che vi hanno partecipato, le proposte emerse ai tavoli e gli obiettivi "
        "del Piano adottati; poi la co-progettazione e i patti di collaborazione in vigore "
        "nel periodo, con gli impegni presi e quanto il registro dei contributi mostra dato "
        "(solo voci verificate). Riguarda tutto l'ambito; le organizzazioni partecipanti sono "
        "pubbliche, le persone sono solo contate.</p>"
    )
    if not data.sessions and not data.projects and not data.patti:
        return intro + "<p class='read'>Nessuna sessione, co-progettazione o patto nel periodo.</p>"
    cards = [
        ("Sessioni", _n(data.sessions)),
        ("Sessioni con verbale approvato", _n(data.sessions_with_approved_minutes)),
        ("Organizzazioni partecipanti", _n(data.organisations)),
        ("Persone iscritte", _people_total(data, threshold)),
        ("Proposte dai tavoli", _n(data.proposals)),
        ("Obiettivi del Piano adottati", _n(data.objectives_adopted)),
        ("Obiettivi legati a proposte", _n(data.objectives_from_proposals)),
        ("Co-progettazioni", _n(data.projects)),
        ("Patti di collaborazione", _n(data.patti)),
    ]
    parts = [
        intro,
        "<div class='kpis'>"
        + "".join(
            f"<div class='kpi'><small>{_esc(a)}</small><b>{_esc(v)}</b></div>" for a, v in cards
        )
        + "</div>",
    ]
    if data.by_sector:
        parts.append("<h3>Chi ha partecipato, per settore</h3>")
        parts.append(
            _table(
                ["Settore", "Organizzazioni", "Persone iscritte"],
                [
                    [
                        SECTOR_LABELS.get(s.sector, s.sector),  # type: ignore[call-overload]
                        _n(s.organisations),
                        _people(s.people, threshold),
                    ]
                    for s in data.by_sector
                ]
                + [["Totale", _n(data.organisations), _people_total(data, threshold)]],
            )
        )
    if data.procedures:
        parts.append("<h3>Procedure</h3>")
        parts.append(
            _table(
                ["Procedura", "Tipo", "Sessioni", "Organizzazioni", "Proposte", "Obiettivi"],
                [
                    [
                        p.title + (f" ({p.piano_period})" if p.piano_period else ""),
                        PROCEDURE_KIND_LABELS.get(p.kind, p.kind),  # type: ignore[call-overload]
                        _n(p.sessions),
                        _n(p.organisations),
                        _n(p.proposals),
                        _n(p.objectives_adopted),
                    ]
                    for p in data.procedures
                ],
                numeric_from=2,
            )
        )
    if data.commitments:
        parts.append("<h3>Impegni della co-progettazione e dei patti</h3>")
        parts.append(
            _table(
                [
                    "Unità",
                    "Impegni",
                    "Impegnato",
                    "Dato (verificato)",
                    "Quota",
                    "Impegni rispettati",
                ],
                [
                    [
                        CONTRIBUTION_UNIT_LABELS.get(c.unit, c.unit),  # type: ignore[call-overload]
                        _n(c.commitments),
                        _n(c.committed),
                        _n(c.verified),
                        italian.percent(c.verified / c.committed if c.committed else None),
                        _n(c.kept),
                    ]
                    for c in data.commitments
                ],
            )
        )
        parts.append(
            "<p class='n'>Un impegno è rispettato quando le voci verificate date nel suo "
            "ambito raggiungono la quantità impegnata; le correzioni contano nella loro ultima "
            "versione, le voci annullate non contano.</p>"
        )
    return "".join(parts)
