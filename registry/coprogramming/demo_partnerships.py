"""The demo's co-design born from a co-programming proposal and its patto di
collaborazione: partners' commitments and what the ledger shows they gave."""

from __future__ import annotations

import calendar
import uuid
from datetime import date, datetime, timedelta

from registry.access import Principal
from registry.ambiti.tables import Comune
from registry.contributions import confirmations
from registry.contributions.schemas import ConfirmationIn
from registry.coprogramming.demo_common import DemoProcedure, _at, _Clock
from registry.coprogramming.demo_spec import AUSER, FALEGNAMERIA, TRASPORTO, VICINATO
from registry.partnerships import commitments, patti, patto_reports, projects
from registry.partnerships.schemas import (
    CommitmentContribution,
    CommitmentCreate,
    MilestoneCreate,
    MilestonePatch,
    PartnerIn,
    PartnerRole,
    PattoCreate,
    PattoReportCreate,
    ProjectCreate,
    PublicParty,
)
from registry.resources.tables import Resource
from registry.vocabularies import ContributionUnit


async def _partnerships(
    demo: DemoProcedure, udp: Principal, auser: Principal, today: date, clock: _Clock
) -> None:
    """The co-design born from Auser's proposal, and a patto for the park of Binago: partners'
    commitments and what they gave, recorded in the ledger under them and mostly confirmed."""
    holders = demo.holder_ids
    resources = {
        (r["title"], r["holder"]): r["id"]
        for r in await Resource.select(Resource.id, Resource.title, Resource.holder).where(
            Resource.ambito == udp.ambito_id
        )
    }
    keys = _Keys()

    # --- the co-design -----------------------------------------------------------------------
    starts = today - timedelta(days=60)
    proposal = "Una rete tra associazioni per trasporto e compagnia agli anziani soli."
    with clock.at(_at(starts - timedelta(days=7))):
        project = await projects.create_project(
            udp,
            ProjectCreate(
                title="Rete anziani soli: trasporto e compagnia",
                description="Nata dalla proposta del tavolo «Anziani soli e caregiver» "
                "(sessione 3): le associazioni si coordinano per accompagnare alle visite, "
                "fare compagnia e portare "
                "la spesa agli anziani soli segnalati dai servizi sociali.",
                procedure_id=demo.procedure_id,
                proposal_id=demo.proposal_ids[proposal],
                starts_on=starts,
                ends_on=starts + timedelta(days=365),
                partners=[
                    PartnerIn(holder_id=holders[AUSER], role=PartnerRole.LEAD),
                    PartnerIn(holder_id=holders[TRASPORTO]),
                    PartnerIn(holder_id=holders[VICINATO]),
                ],
            ),
        )
        company = await projects.add_project_commitment(
            udp,
            project.id,
            CommitmentCreate(
                holder_id=holders[AUSER],
                description="Compagnia telefonica e a domicilio agli anziani soli segnalati",
                unit=ContributionUnit.HOURS,
                quantity=200,
                resource_id=resources.get(
                    ("Compagnia telefonica e a domicilio per anziani soli", holders[AUSER])
                ),
            ),
        )
        trips = await projects.add_project_commitment(
            udp,
            project.id,
            CommitmentCreate(
                holder_id=holders[TRASPORTO],
                description="Accompagnamenti a visite mediche ed esami",
                unit=ContributionUnit.TRIPS,
                quantity=80,
            ),
        )
        shopping = await projects.add_project_commitment(
            udp,
            project.id,
            CommitmentCreate(
                holder_id=holders[VICINATO],
                description="Spesa e farmaci a domicilio",
                unit=ContributionUnit.TRIPS,
                quantity=40,
            ),
        )
        for title, due in [
            ("Avvio della rete e formazione dei volontari", starts + timedelta(days=14)),
            ("Primo incontro di verifica con i servizi sociali", starts + timedelta(days=90)),
            ("Relazione finale e proposta di rinnovo", starts + timedelta(days=365)),
        ]:
            milestone = await projects.add_milestone(
                udp, project.id, MilestoneCreate(title=title, due_on=due)
            )
            if due < today:  # the network started on time
                await projects.update_milestone(
                    udp, project.id, milestone.id, MilestonePatch(done_on=due - timedelta(days=2))
                )
    # Week by week since the start: Auser's hours (its manager records and confirms them),
    # the transport group's trips and the neighbours' shopping (recorded by the UdP; the last
    # fortnight is still waiting for confirmation).
    entries: list[tuple[Principal, uuid.UUID, date]] = []
    for week in range((today - starts).days // 7):
        day = starts + timedelta(days=7 * week + 2)
        for actor, commitment, quantity in [
            (auser, company.id, 3 + week % 3),
            (udp, trips.id, 1 + week % 2),
            (udp, shopping.id, 1),
        ]:
            with clock.at(_at(day, "19:00")):
                entry, _ = await commitments.record_contribution(
                    actor,
                    commitment,
                    CommitmentContribution(quantity=quantity, occurred_on=day, note=""),
                    keys.next(),
                )
            entries.append((actor, entry.id, day))
    for actor, entry_id, day in entries:
        if (today - day).days > 14:
            await confirm_all(actor, [entry_id], _at(day + timedelta(days=3)), clock)

    # --- the patto -----------------------------------------------------------------------------
    binago = (
        await Comune.select(Comune.istat_code)
        .where((Comune.ambito == udp.ambito_id) & (Comune.name == "Binago"))
        .first()
    )
    signed = today - timedelta(days=220)
    with clock.at(_at(signed - timedelta(days=3))):
        patto = await patti.create_patto(
            udp,
            PattoCreate(
                title="Patto di collaborazione per il parco giochi di Binago",
                object="Cura condivisa del parco giochi di via Roma: apertura e chiusura, piccola "
                "pulizia, riparazione degli arredi in legno, una festa all'anno con il vicinato.",
                public_party=PublicParty.COMUNE if binago else PublicParty.AMBITO,
                comune=binago["istat_code"] if binago else None,
                parties=[holders[VICINATO], holders[FALEGNAMERIA]],
                starts_on=signed,
                ends_on=signed + timedelta(days=364),
                report_every_months=6,
            ),
        )
        care = await patti.add_patto_commitment(
            udp,
            patto.id,
            CommitmentCreate(
                holder_id=holders[VICINATO],
                description="Apertura, chiusura e piccola pulizia del parco",
                unit=ContributionUnit.HOURS,
                quantity=150,
            ),
        )
        repairs = await patti.add_patto_commitment(
            udp,
            patto.id,
            CommitmentCreate(
                holder_id=holders[FALEGNAMERIA],
                description="Riparazione di panchine e giochi in legno",
                unit=ContributionUnit.HOURS,
                quantity=30,
            ),
        )
        await patti.add_patto_commitment(
            udp,
            patto.id,
            CommitmentCreate(
                description="Il Comune fornisce attrezzi e materiali e smaltisce il verde"
            ),
        )
    # The UdP confirms each Saturday's hours on the Tuesday after (never later than yesterday:
    # a moment after the demo's own would be in the future).
    patto_entries: list[tuple[uuid.UUID, date]] = []
    for week in range((today - signed).days // 7):
        day = signed + timedelta(days=7 * week + 5)  # Saturday mornings, more or less
        with clock.at(_at(day, "12:30")):
            entry, _ = await commitments.record_contribution(
                udp,
                care.id,
                CommitmentContribution(quantity=3, occurred_on=day, note=""),
                keys.next(),
            )
            patto_entries.append((entry.id, day))
            if week % 8 == 3:
                entry, _ = await commitments.record_contribution(
                    udp,
                    repairs.id,
                    CommitmentContribution(quantity=4, occurred_on=day, note="Panchine e altalena"),
                    keys.next(),
                )
                patto_entries.append((entry.id, day))
    for entry_id, day in patto_entries:
        await confirm_all(
            udp, [entry_id], _at(min(day + timedelta(days=3), today - timedelta(days=1))), clock
        )
    first_end = _add_months(signed, 6) - timedelta(days=1)
    with clock.at(_at(first_end + timedelta(days=9))):
        await patto_reports.add_report(
            udp,
            patto.id,
            PattoReportCreate(
                period_start=signed,
                period_end=first_end,
                text="Il parco è stato aperto ogni giorno dai volontari del vicinato; la "
                "falegnameria ha riparato le panchine e l'altalena. In primavera la festa del "
                "parco ha coinvolto "
                "una quarantina di famiglie. Da migliorare: i turni estivi, con più volontari.",
            ),
        )


class _Keys:
    """Idempotency keys of the demo's ledger entries: unique, and the same at every load."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"demo-coprogramming-{self.count}"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def confirm_all(
    actor: Principal, entry_ids: list[uuid.UUID], moment: datetime, clock: _Clock
) -> None:
    """The holder's manager (or the UdP) confirms what was reported."""
    with clock.at(moment):
        for entry_id in entry_ids:
            await confirmations.confirm(actor, entry_id, ConfirmationIn(note=""))
