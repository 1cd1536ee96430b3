"""A small hand-made ambito for the metrics tests, written straight into the tables.

What it holds (all in March 2025), and so what the metrics must say for 2025:

- volunteers V1..V6 give 2 h each through holder A for plan PL1 (need N1, match M1, resource
  "accompagnamento" = task level C1), QR-verified: 12 h, 6 persons;
- V1 also gives 3 h to a community activity through holder B, confirmed (still one person);
- holder IV (an individual volunteer, the same person as V1) gives 1 h, QR-verified;
- holder A records 5 h, then corrects it to 1 h, and the correction is confirmed: 1 h counts;
- holder B records 2 h and cancels it: nothing counts;
- V7 self-reports 4 h through A, never confirmed: shown apart, never counted;
- the parish P gives 1 h, confirmed; the public office O gives goods worth 100.00 EUR, confirmed.

Verified hours: 12 + 3 + 1 + 1 + 1 = 18; persons V1..V6 = 6; holders A, B, IV, P, O = 5.
The funded intervention I (12,000.00 EUR over 2025) serves PL1 and reports 6 h delivered:
6 of PL1's 12 h are paid, so volunteer hours are 12.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from registry.access import Role
from registry.contributions.tables import (
    ActivityOrganiser,
    CommunityActivity,
    Contribution,
    ContributionConfirmation,
)
from registry.holders.tables import Holder
from registry.interventions.tables import FundedIntervention
from registry.matches.tables import Match, MatchEvent
from registry.plans.tables import Need, Plan
from registry.resources.tables import AvailabilityWindow, Resource
from registry.users.tables import User
from tests.conftest import _PASSWORD_HASH, Tenant

MARCH = date(2025, 3, 10)
REGISTERED = datetime(2024, 1, 15, tzinfo=UTC)  # holders exist before the period


@dataclass
class Scenario:
    tenant: Tenant
    holders: dict[str, uuid.UUID] = field(default_factory=dict)
    volunteers: list[uuid.UUID] = field(default_factory=list)
    plan_ids: list[uuid.UUID] = field(default_factory=list)


async def _holder(t: Tenant, name: str, kind: str, sector: str) -> uuid.UUID:
    holder = Holder(
        ambito=t.ambito_id,
        kind=kind,
        sector=sector,
        name=name,
        comuni=t.comuni,
        areas=["anziani"],
        contacts="[]",
        created_at=REGISTERED,
        updated_at=REGISTERED,
    )
    await holder.save()
    return holder.id


async def _entry(
    t: Tenant,
    holder: uuid.UUID,
    minutes: int,
    *,
    volunteer: uuid.UUID | None = None,
    verification: str = "qr_verified",
    confirm: bool = False,
    unit: str = "hours",
    value_cents: int | None = None,
    kind: str = "entry",
    corrects: uuid.UUID | None = None,
    **links: object,
) -> uuid.UUID:
    entry = Contribution(
        ambito=t.ambito_id,
        holder=holder,
        volunteer=volunteer,
        kind=kind,
        corrects=corrects,
        unit=unit,
        quantity=minutes,
        value_cents=value_cents,
        occurred_on=MARCH,
        comune=t.comuni[0],
        verification=verification,
        created_by=t.users[Role.UDP_ADMIN],
        created_by_role="udp_admin",
        created_at=datetime.now(UTC),
        **links,
    )
    await entry.save()
    if confirm:
        await _confirm(t, entry.id)
    return entry.id


async def _confirm(t: Tenant, entry: uuid.UUID) -> None:
    """The UdP confirms the entry now."""
    await ContributionConfirmation(
        ambito=t.ambito_id,
        contribution=entry,
        confirmed_by=t.users[Role.UDP_ADMIN],
        role="udp_admin",
        confirmed_at=datetime.now(UTC),
    ).save()


async def build(t: Tenant) -> Scenario:
    s = Scenario(tenant=t)
    a, b = t.holder_id, t.other_holder_id
    iv = await _holder(t, "Volontario individuale", "individual_volunteer", "informal")
    parish = await _holder(t, "Parrocchia", "parish", "third_sector")
    office = await _holder(t, "Ufficio comunale", "public_office", "public")
    s.holders = {"A": a, "B": b, "IV": iv, "P": parish, "O": office}
    await Holder.update({Holder.created_at: REGISTERED}).where(Holder.id.is_in([a, b]))
    for i in range(7):
        user = User(
            username=f"vol{i}-{t.code.lower()}",
            password_hash=_PASSWORD_HASH,
            role="volunteer",
            ambito=t.ambito_id,
            holder=iv if i == 0 else None,
        )
        await user.save()
        s.volunteers.append(user.id)
    resource = Resource(
        ambito=t.ambito_id,
        holder=a,
        title="Accompagnamento",
        category_code="accompagnamento",
        unit="hours",
        capacity=2,
        comuni=t.comuni,
        target_groups=["anziani"],
        languages=["it"],
        requirements=[],
        confirmed_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    await resource.save()
    await AvailabilityWindow(
        resource=resource.id,
        freq="WEEKLY",
        by_day=["MO"],
        start_time=time(9),
        end_time=time(12),
        valid_from=date(2025, 1, 1),
        exceptions=[],
        capacity=1,
    ).save()
    owner = t.users[Role.SOCIAL_WORKER]
    plans = []
    for code, comune, area in (("PL-1", t.comuni[0], "anziani"), ("PL-2", t.comuni[1], "disabili")):
        plan = Plan(
            ambito=t.ambito_id,
            owner=owner,
            shared_with=[],
            case_code=f"{code}-{t.code}",
            comune=comune,
            target_group=area,
            goals="[]",
            start_date=date(2025, 1, 1),
            status="active",
        )
        await plan.save()
        plans.append(plan)
    s.plan_ids = [p.id for p in plans]
    needs = []
    for plan in plans:
        need = Need(
            ambito=t.ambito_id,
            plan=plan.id,
            category_code="accompagnamento",
            schedule="[]",
            quantity=2,
            unit="hours_per_week",
            languages=[],
            requirements=[],
            status="open",
            start_date=date(2025, 1, 1),
            created_at=datetime(2025, 2, 1, tzinfo=UTC),
        )
        await need.save()
        needs.append(need)
    match = Match(
        ambito=t.ambito_id,
        plan=plans[0].id,
        need=needs[0].id,
        resource=resource.id,
        holder=a,
        status="active",
        proposed_by=owner,
        created_at=datetime(2025, 2, 2, tzinfo=UTC),
        updated_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    await match.save()
    await MatchEvent(
        ambito=t.ambito_id,
        match=match.id,
        actor=owner,
        at=datetime(2025, 2, 5, tzinfo=UTC),
        from_status="proposed",
        to_status="accepted",
    ).save()
    for volunteer in s.volunteers[:6]:
        await _entry(
            t,
            a,
            120,
            volunteer=volunteer,
            resource=resource.id,
            match_id=match.id,
            need_id=needs[0].id,
            plan_id=plans[0].id,
        )
    activity = CommunityActivity(
        ambito=t.ambito_id,
        title="Festa di quartiere",
        comune=t.comuni[0],
        starts_on=MARCH,
        created_by=t.users[Role.UDP_ADMIN],
    )
    await activity.save()
    await ActivityOrganiser(activity=activity.id, holder=b).save()
    await ActivityOrganiser(activity=activity.id, holder=parish).save()
    await _entry(
        t,
        b,
        180,
        volunteer=s.volunteers[0],
        verification="self_reported",
        confirm=True,
        activity=activity.id,
    )
    await _entry(t, iv, 60)
    first = await _entry(t, a, 300)
    await _entry(
        t, a, 60, kind="correction", corrects=first, verification="self_reported", confirm=True
    )
    cancelled = await _entry(t, b, 120)
    await _entry(t, b, 120, kind="cancellation", corrects=cancelled)
    await _entry(t, a, 240, volunteer=s.volunteers[6], verification="self_reported")
    await _entry(t, parish, 60, verification="self_reported", confirm=True, activity=activity.id)
    await _entry(
        t, office, 10, unit="items", value_cents=10_000, verification="self_reported", confirm=True
    )
    await FundedIntervention(
        ambito=t.ambito_id,
        code=f"I-{t.code}",
        title="Assistenza domiciliare",
        fund_source="regional",
        user_area="anziani",
        fnps_level="home_care",
        comuni=[t.comuni[0]],
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        committed_cents=1_500_000,
        spent_cents=1_200_000,
        delivered_minutes=360,
        beneficiaries=3,
        plan_ids=[str(plans[0].id)],
    ).save()
    return s
