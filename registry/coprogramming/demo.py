"""The demo ambito's co-programming of its Piano di Zona, modelled on seed 002 (Pavia).

A public notice, applications (one organisation registered on the way, with its RUNTS
number), five sessions (introductory, three thematic split into working tables, concluding),
attendance, the four guiding questions answered per table, minutes drafted from the tables and
approved, the summary document assembled from the approved minutes, Piano objectives linked to
the proposals and sessions they come from; then one co-design born from a proposal, with its
partners' commitments and what the ledger shows they gave, and one patto di collaborazione
with its periodic report.

Everything is written through the domains' own services, as the UdP and the holder managers
would have written it through the API, with the clock of each step injected, so the procedure
happened over the months before today and the demo always ends today: the co-programming
service takes `now=`; the partnerships, ledger and holders services stamp times with
`registry.common.now`, which `_Clock` moves to the step's moment while it writes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from registry import italian
from registry.coprogramming.applications import (
    create_application,
    list_applications,
    update_application,
)
from registry.coprogramming.contributions import create_contribution
from registry.coprogramming.demo_common import DemoProcedure, _at, _Clock, _principal
from registry.coprogramming.demo_partnerships import _partnerships
from registry.coprogramming.demo_spec import (
    ALL,
    AUSER,
    GIOVANI,
    NOTICE,
    OBJECTIVES,
    PEOPLE,
    PROCEDURE_TITLE,
    SESSIONS,
    Q,
)
from registry.coprogramming.minutes import approve_minutes, draft_minutes
from registry.coprogramming.objectives import create_objective
from registry.coprogramming.procedures import create_procedure, update_procedure
from registry.coprogramming.schemas import (
    ApplicationCreate,
    ApplicationPatch,
    AttendanceIn,
    ContributionCreate,
    ObjectiveCreate,
    ParticipantIn,
    ProcedureCreate,
    ProcedurePatch,
    SessionCreate,
    TableCreate,
)
from registry.coprogramming.sessions import create_session, create_table, record_attendance
from registry.coprogramming.summary import approve_summary, draft_summary
from registry.holders.schemas import HolderCreate
from registry.holders.tables import Holder
from registry.resources.tables import Resource
from registry.vocabularies import (
    ApplicationStatus,
    HolderKind,
    ProcedureStatus,
    Sector,
)


async def build(ambito_id: uuid.UUID, moment: datetime) -> DemoProcedure:
    """Write the demo's co-programming procedure; `moment` is the demo's today."""
    today = italian.today(moment)
    clock = _Clock()
    udp = await _principal(ambito_id, "udp")
    auser = await _principal(ambito_id, "auser")
    holder_ids = {
        r["name"]: r["id"]
        for r in await Holder.select(Holder.id, Holder.name).where(Holder.ambito == ambito_id)
    }
    resource_ids = {
        r["title"]: r["id"]
        for r in await Resource.select(Resource.id, Resource.title).where(
            Resource.ambito == ambito_id
        )
    }
    first = today - timedelta(days=160)
    period = f"{today.year}-{today.year + 2}"

    at = _at(first)
    procedure = await create_procedure(
        udp,
        ProcedureCreate(
            title=f"{PROCEDURE_TITLE} {period}",
            description="Il percorso con cui l'Ambito e il Terzo settore hanno letto insieme "
            "bisogni e risorse del territorio prima di scrivere il Piano di Zona.",
            notice_text=NOTICE,
            notice_url="https://www.example.org/ambito-olgiatese/avviso-coprogrammazione",
            notice_published_on=first + timedelta(days=5),
            applications_close_on=first + timedelta(days=25),
            piano_period=period,
        ),
        now=at,
    )
    pid = procedure.id
    at = _at(first + timedelta(days=5))
    await update_procedure(udp, pid, ProcedurePatch(status=ProcedureStatus.OPEN), now=at)

    def people(name: str) -> list[ParticipantIn]:
        return [ParticipantIn(name=n, role=r, contact=c) for n, r, c in PEOPLE[name]]

    # Auser applies itself from the registry; the UdP admits it. The others' applications
    # arrived by e-mail and the UdP records them (which admits them at once); one organisation
    # is not in the registry yet and is registered on the way.
    applications: dict[str, uuid.UUID] = {}
    at = _at(first + timedelta(days=8), "18:30")
    own = await create_application(
        auser,
        procedure.id,
        ApplicationCreate(
            holder_id=auser.holder_id,
            note="Partecipiamo con il presidente e una volontaria.",
            participants=people(AUSER),
        ),
        now=at,
    )
    applications[AUSER] = own.id
    for offset, name in enumerate([n for n in ALL if n != AUSER]):
        at = _at(first + timedelta(days=10 + offset), "11:00")
        if name == GIOVANI:
            # The holders' service stamps the new holder with its own clock.
            with clock.at(at):
                answer = await create_application(
                    udp,
                    pid,
                    ApplicationCreate(
                        new_holder=HolderCreate(
                            kind=HolderKind.ASSOCIATION,
                            sector=Sector.THIRD_SECTOR,
                            name=GIOVANI,
                            runts_number="118204",
                            description="APS di giovani dell'Olgiatese.",
                        ),
                        participants=people(name),
                    ),
                    now=at,
                )
            holder_ids[GIOVANI] = answer.holder_id
        else:
            answer = await create_application(
                udp,
                pid,
                ApplicationCreate(holder_id=holder_ids[name], participants=people(name)),
                now=at,
            )
        applications[name] = answer.id
    at = _at(first + timedelta(days=26))
    await update_application(
        udp, own.id, ApplicationPatch(status=ApplicationStatus.ADMITTED), now=at
    )
    await update_procedure(udp, pid, ProcedurePatch(status=ProcedureStatus.RUNNING), now=at)

    # The first person each organisation named (the spokesperson of its table).
    first_person: dict[str, uuid.UUID] = {}
    for application in await list_applications(udp, pid):
        name = next(n for n, i in holder_ids.items() if i == application.holder_id)
        first_person[name] = application.participants[0].id

    session_ids: dict[int, uuid.UUID] = {}
    proposal_ids: dict[str, uuid.UUID] = {}
    for spec in SESSIONS:
        day = today - timedelta(days=spec.days_before)
        starts = _at(day, "17:30")
        at = starts - timedelta(days=14)
        meeting = await create_session(
            udp,
            pid,
            SessionCreate(
                number=spec.number,
                kind=spec.kind,
                title=spec.title,
                theme=spec.theme,
                starts_at=starts,
                place="Online (videoconferenza) con lavagna condivisa",
                agenda=spec.agenda,
            ),
            now=at,
        )
        session_ids[spec.number] = meeting.id
        tables: dict[str, uuid.UUID] = {}
        at = starts - timedelta(days=2)
        for table in spec.tables:
            made = await create_table(
                udp,
                meeting.id,
                TableCreate(theme=table.theme, spokesperson_id=first_person[table.spokesperson]),
                now=at,
            )
            tables[table.theme] = made.id
        seat = {m: t.theme for t in spec.tables for m in t.members}
        at = starts + timedelta(hours=3)
        for name in spec.present:
            await record_attendance(
                udp,
                meeting.id,
                AttendanceIn(
                    application_id=applications[name],
                    table_id=tables[seat[name]] if name in seat else None,
                    people=len(PEOPLE[name]),
                ),
                now=at,
            )
        # The answers on the tables' boards, transcribed the day after (Auser writes its own).
        at = starts + timedelta(days=1)
        for table in spec.tables:
            for question, who, text, category, resource in table.answers:
                actor = auser if who == AUSER else udp
                made = await create_contribution(
                    actor,
                    tables[table.theme],
                    ContributionCreate(
                        question=question,
                        text=text,
                        holder_id=None if who in (None, AUSER) else holder_ids[who],
                        resource_id=resource_ids.get(resource) if resource else None,
                        category_code=category,
                    ),
                    now=at,
                )
                if question is Q.PROPOSALS:
                    proposal_ids[text] = made.id
        at = starts + timedelta(days=3)
        draft = await draft_minutes(udp, meeting.id, now=at)
        at = starts + timedelta(days=8)
        await approve_minutes(udp, draft.id, now=at)

    concluded = today - timedelta(days=SESSIONS[-1].days_before)
    at = _at(concluded + timedelta(days=10))
    summary = await draft_summary(udp, pid, now=at)
    at = _at(concluded + timedelta(days=14))
    await approve_summary(udp, summary.id, now=at)
    adopted = concluded + timedelta(days=30)
    at = _at(adopted)
    for code, title, description, area, proposals, sessions in OBJECTIVES:
        await create_objective(
            udp,
            pid,
            ObjectiveCreate(
                code=code,
                title=title,
                description=description,
                area=area,
                adopted_on=adopted,
                proposal_ids=[proposal_ids[p] for p in proposals],
                session_ids=[session_ids[n] for n in sessions],
            ),
            now=at,
        )
    await update_procedure(udp, pid, ProcedurePatch(status=ProcedureStatus.CLOSED), now=at)

    result = DemoProcedure(pid, session_ids, holder_ids, proposal_ids)
    await _partnerships(result, udp, auser, today, clock)
    return result
