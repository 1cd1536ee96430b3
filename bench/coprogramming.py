"""Benchmark of a co-programming procedure at the scale of seed 002 (Pavia).

    python bench/coprogramming.py [--organisations 59 --attending 40]

A fresh temporary SQLite database; through the services: 59 organisations applying with 148
people (30 × 3 + 29 × 2), five sessions with four tables each, 40 organisations present at
every session answering the four questions (160 answers a session). Times, once each:
drafting one session's minutes, the whole-procedure read, the public page, assembling the
summary from the five approved minutes, and rendering the summary and one minutes as PDF
(WeasyPrint, run in-process here; the API runs it in a worker process). Prints one line per
figure and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from registry import italian

os.environ["REGISTRY_SQLITE_PATH"] = os.path.join(tempfile.mkdtemp(), "bench.sqlite")
os.environ.pop("REGISTRY_DATABASE_URL", None)
os.environ.setdefault("REGISTRY_SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")

from registry import db
from registry.access import Principal, Role
from registry.ambiti.service import create_ambito
from registry.config import load_settings
from registry.coprogramming import document, public
from registry.coprogramming.applications import create_application
from registry.coprogramming.contributions import create_contribution
from registry.coprogramming.minutes import approve_minutes, draft_minutes
from registry.coprogramming.procedures import create_procedure, get_overview, update_procedure
from registry.coprogramming.schemas import (
    ApplicationCreate,
    AttendanceIn,
    ContributionCreate,
    ParticipantIn,
    ProcedureCreate,
    ProcedurePatch,
    SessionCreate,
    TableCreate,
)
from registry.coprogramming.sessions import create_session, create_table, record_attendance
from registry.coprogramming.summary import draft_summary
from registry.holders.tables import Holder
from registry.users.tables import User
from registry.vocabularies import GuidingQuestion, ProcedureStatus, SessionKind

KINDS = [SessionKind.INTRODUCTORY, *[SessionKind.THEMATIC] * 3, SessionKind.CONCLUDING]


async def timed(figures: dict[str, float], label: str, work: Callable[[], Awaitable[Any]]) -> Any:
    started = time.perf_counter()
    result = await work()
    figures[label] = round((time.perf_counter() - started) * 1000, 1)
    print(f"{label:<40} {figures[label]:>10.1f} ms")
    return result


async def main(organisations: int, attending: int) -> None:
    engine = db.make_engine(load_settings())
    db.bind(engine)
    await db.start(engine)
    await db.migrate()
    ambito = await create_ambito("BENCH-COP", "Ambito di prova", "Lombardia")
    user = User(username="udp-bench", password_hash="x", role="udp_admin", ambito=ambito)
    await user.save()
    udp = Principal(user.id, user.username, Role.UDP_ADMIN, ambito)
    holders = [
        Holder(
            ambito=ambito,
            kind="association",
            sector="third_sector",
            name=f"Associazione {i:02d}",
            comuni=[],
            areas=[],
            contacts="[]",
        )
        for i in range(organisations)
    ]
    await Holder.insert(*holders)
    figures: dict[str, float] = {}
    started = time.perf_counter()
    procedure = await create_procedure(
        udp, ProcedureCreate(title="Piano di Zona", notice_published_on=italian.today())
    )
    await update_procedure(udp, procedure.id, ProcedurePatch(status=ProcedureStatus.OPEN))
    applications = [
        await create_application(
            udp,
            procedure.id,
            ApplicationCreate(
                holder_id=h.id,
                participants=[ParticipantIn(name=f"P{i}.{k}") for k in range(3 if i < 30 else 2)],
            ),
        )
        for i, h in enumerate(holders)
    ]
    sessions = []
    for number, kind in enumerate(KINDS, start=1):
        session = await create_session(
            udp,
            procedure.id,
            SessionCreate(
                number=number,
                kind=kind,
                title=f"Sessione {number}",
                starts_at=datetime.now(UTC) + timedelta(days=7 * number),
            ),
        )
        tables = [
            await create_table(
                udp,
                session.id,
                TableCreate(
                    theme=f"Tavolo {j}", spokesperson_id=applications[j].participants[0].id
                ),
            )
            for j in range(4)
        ]
        for i, application in enumerate(applications[:attending]):
            table = tables[i % 4].id
            await record_attendance(
                udp, session.id, AttendanceIn(application_id=application.id, table_id=table)
            )
            for question in GuidingQuestion:
                await create_contribution(
                    udp,
                    table,
                    ContributionCreate(
                        question=question,
                        text=f"Contributo {i} sulla domanda {question.value}. " * 4,
                        holder_id=application.holder_id,
                    ),
                )
        sessions.append(session)
    figures["setup_s"] = round(time.perf_counter() - started, 1)
    print(f"{'setup through the services':<40} {figures['setup_s']:>10.1f} s")
    await timed(figures, "draft minutes of one session", lambda: draft_minutes(udp, sessions[1].id))
    await timed(figures, "whole procedure (overview)", lambda: get_overview(udp, procedure.id))
    await timed(figures, "public page", lambda: public.public_procedure(procedure.id))
    minutes = None
    for session in sessions:
        minutes = await draft_minutes(udp, session.id)
        await approve_minutes(udp, minutes.id)
    summary = await timed(
        figures, "summary from 5 approved minutes", lambda: draft_summary(udp, procedure.id)
    )
    assert minutes is not None
    figures["summary_chars"] = len(summary.content)

    async def pdf(content: str) -> bytes:
        return document.render_pdf("Documento", content)

    await timed(figures, "minutes PDF (one session)", lambda: pdf(minutes.content))
    await timed(figures, "summary PDF", lambda: pdf(summary.content))
    print(json.dumps({"organisations": organisations, "attending": attending, **figures}))
    await db.stop(engine)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=59)
    parser.add_argument("--attending", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(main(args.organisations, args.attending))
