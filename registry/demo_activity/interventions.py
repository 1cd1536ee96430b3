"""Funded interventions and the interactions recorded by hand (co-programming tables)."""

from __future__ import annotations

from datetime import date, timedelta

from registry.demo_activity.base import _Base, at
from registry.demo_activity.community_specs import INTERACTIONS, MONTHLY_MEETING, first_tuesdays
from registry.interventions.tables import FundedIntervention
from registry.metrics.tables import Interaction, InteractionParticipant


class _Interventions(_Base):
    # -- money and ties --------------------------------------------------------------------

    def interventions(self) -> None:
        year = self.today.year
        elapsed = (self.today - date(year, 1, 1)).days / 365
        everywhere = [
            self.comuni[n]
            for n in (
                "Olgiate Comasco",
                "Lurate Caccivio",
                "Appiano Gentile",
                "Guanzate",
                "Villa Guardia",
                "Faloppio",
                "Albiolo",
                "Binago",
            )
        ]
        plans = {key: str(row["id"]) for key, row in self.plans.items()}
        rows = [
            # code, title, description, fund, area, level, comuni, start, end,
            # committed, spent, hours, beneficiaries, plans
            (
                f"SAD-{year - 1}",
                f"Servizio di assistenza domiciliare anziani {year - 1}",
                "Assistenza domiciliare con operatori socio-sanitari della cooperativa.",
                "municipal",
                "anziani",
                "home_care",
                everywhere,
                date(year - 1, 1, 1),
                date(year - 1, 12, 31),
                178_000_00,
                171_500_00,
                4_900,
                41,
                [],
            ),
            (
                f"SAD-{year}",
                f"Servizio di assistenza domiciliare anziani {year}",
                "Assistenza domiciliare con operatori socio-sanitari della cooperativa.",
                "municipal",
                "anziani",
                "home_care",
                everywhere,
                date(year, 1, 1),
                date(year, 12, 31),
                186_000_00,
                round(186_000_00 * 0.97 * elapsed),
                round(5_100 * elapsed),
                44,
                [],
            ),
            (
                f"FNA-B2-{year}",
                f"Misura B2 FNA: buoni per caregiver familiari {year}",
                "Buoni mensili alle famiglie che assistono a casa una persona non autosufficiente.",
                "regional",
                "anziani",
                "home_care",
                everywhere,
                date(year, 1, 1),
                date(year, 12, 31),
                64_000_00,
                round(64_000_00 * elapsed),
                0,
                26,
                [plans["A1"], plans["A3"]],
            ),
            (
                f"DDN-{year}",
                "Dopo di Noi (L. 112/2016): percorsi di autonomia",
                "Educatori della cooperativa per i percorsi di vita indipendente.",
                "national",
                "disabili",
                "residential",
                [self.comuni["Appiano Gentile"], self.comuni["Guanzate"]],
                date(year, 1, 1),
                date(year, 12, 31),
                42_000_00,
                round(42_000_00 * 0.9 * elapsed),
                120,
                8,
                [plans["D1"], plans["D2"]],
            ),
            (
                f"FP-{year}",
                "Fondo povertà: tirocini di inclusione e sostegni economici",
                "Tirocini e contributi per i nuclei con assegno di inclusione.",
                "national",
                "poverta-disagio-adulti",
                "inclusion_income",
                everywhere,
                date(year, 1, 1),
                date(year, 12, 31),
                120_000_00,
                round(120_000_00 * 0.8 * elapsed),
                0,
                55,
                [plans[k] for k in ("V1", "V2", "V3", "V4")],
            ),
            (
                "PNRR-M5C2-1.3.1",
                "PNRR M5C2 1.3.1: Housing First e stazione di posta",
                "Alloggi temporanei e servizi per persone senza dimora.",
                "eu_pnrr",
                "poverta-disagio-adulti",
                "residential",
                [self.comuni["Olgiate Comasco"]],
                date(year - 1, 7, 1),
                date(year + 1, 6, 30),
                210_000_00,
                98_000_00,
                0,
                9,
                [],
            ),
            (
                f"CAG-{year}",
                "Centro di aggregazione giovanile",
                "Spazio educativo pomeridiano per ragazzi dagli 11 ai 17 anni.",
                "municipal",
                "famiglie-minori",
                "early_childhood_community",
                [self.comuni["Villa Guardia"], self.comuni["Lurate Caccivio"]],
                date(year - 1, 9, 1),
                date(year, 8, 31),
                48_000_00,
                round(48_000_00 * 0.85),
                1_400,
                60,
                [],
            ),
            (
                f"MED-{year}",
                "Mediazione linguistico-culturale e sportello stranieri",
                "Mediatori al segretariato sociale e nelle scuole.",
                "regional",
                "immigrati",
                "access_taking_charge",
                [
                    self.comuni["Olgiate Comasco"],
                    self.comuni["Appiano Gentile"],
                    self.comuni["Guanzate"],
                ],
                date(year, 1, 1),
                date(year, 12, 31),
                30_000_00,
                round(30_000_00 * elapsed),
                round(620 * elapsed),
                85,
                [],
            ),
        ]
        created = at(date(year, 1, 20), "09:00")
        for (
            code,
            title,
            description,
            fund,
            area,
            level,
            comuni,
            start,
            end,
            committed,
            spent,
            hours,
            beneficiaries,
            plan_ids,
        ) in rows:
            when = self.past(min(created, at(start + timedelta(days=20), "09:00")))
            self.add(
                FundedIntervention(
                    id=self.new_id(),
                    ambito=self.ambito_id,
                    code=code,
                    title=title,
                    description=description,
                    fund_source=fund,
                    user_area=area,
                    fnps_level=level,
                    comuni=comuni,
                    period_start=start,
                    period_end=end,
                    committed_cents=committed,
                    spent_cents=min(spent, committed),
                    delivered_minutes=hours * 60,
                    beneficiaries=beneficiaries,
                    plan_ids=plan_ids,
                    created_at=when,
                    updated_at=max(when, self.past(self.moment - timedelta(days=12))),
                )
            )
            self.counts.interventions += 1

    def interactions(self) -> None:
        udp = self.person("udp")
        kind, title, names, note = MONTHLY_MEETING
        monthly = [(kind, title, day, names, note) for day in first_tuesdays(self.today)]
        by_day = [
            (k, t, self.today - timedelta(days=ago), n, x) for k, t, ago, n, x in INTERACTIONS
        ]
        for kind, title, day, names, note in sorted([*by_day, *monthly], key=lambda i: i[2]):
            interaction = Interaction(
                id=self.new_id(),
                ambito=self.ambito_id,
                kind=kind,
                title=title,
                occurred_on=day,
                note=note,
                created_by=udp.id,
                created_at=at(day, "18:00"),
            )
            self.add(interaction)
            for name in names:
                self.add(
                    InteractionParticipant(
                        id=self.new_id(),
                        interaction=interaction.id,
                        holder=self.holders[name]["id"],
                    )
                )
            self.counts.interactions += 1
