"""Outcome indicators for the UdP (issue 15): hand-computed figures on a small ambito written
straight into the tables, the same suppression as the other figures, filters, and who may
read them.

The month M is the last whole month before today; every date is derived from it, so the
figures do not depend on the day the suite runs. Threshold 3 (the Sistan minimum).

Eight plans active in M: anziani A1..A4 (comune X), famiglie-minori F1 (X), F2, F3 (Y),
disabili D1 (Y). Days are days of M.

- reviews due in M: A1 due 5 held 4 (on time), A2 due 10 held 12 and again 14 (late, one
  due day), A3 due 15 held 15
  (on time), A4 due 20 never held (overdue: late), F1 due 3 held 2, F2 due 8 held 8,
  F3 due 25 held 27 (late), D1 due 6 held 6; A1 also had one due in M−1, held in M−1.
- goals (weight 1, baseline −1 unless said), latest level in M:
  A1 g1 0 (day 4) then +1 (day 20), g2 (weight 2, baseline −2) +1; A2 g1 −1;
  A3 g1 0, g2 −1; F1 g1 +2; F2 g1 0 and a dropped goal at +1; F3 g1 −2; D1 g1 +1.
- closures in M: A2 moved_away (day 20), F3 and D1 goals_reached (day 28).
- activations in M: A1, A3, F1 (A4's was in M−1).
- support: A1 has own time 420 min a week all along and 2 verified hours from the
  community; F1 3 verified hours, all paid by an intervention of 10 hours over M that serves
  F1 and D1 (5 hours each); F1 also has 10 self-reported hours (not counted).
"""

from __future__ import annotations

import calendar
import math
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from registry.access import Role
from registry.contributions.tables import Contribution
from registry.interventions.tables import FundedIntervention
from registry.italian import today as rome_today
from registry.outcomes.tables import (
    Activation,
    OwnResource,
    PlanClosure,
    PlanFollowUp,
    PlanGoal,
    PlanReview,
    ReviewLevel,
)
from registry.plans.tables import Plan
from tests.conftest import Tenant, make_tenant

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


def _month_before(day: date) -> date:
    first = day.replace(day=1) - timedelta(days=1)
    return first.replace(day=1)


M = _month_before(rome_today())
M_DAYS = calendar.monthrange(M.year, M.month)[1]
M_END = M.replace(day=M_DAYS)
PREVIOUS = _month_before(M)


def d(day: int, month: date = M) -> date:
    return month.replace(day=day)


def T(pairs: list[tuple[int, int]]) -> float:
    """GAS T from its definition (DESIGN.md), ρ = 0.3."""
    sw = sum(w for _, w in pairs)
    sw2 = sum(w * w for _, w in pairs)
    return 50 + 10 * sum(w * x for x, w in pairs) / math.sqrt(0.7 * sw2 + 0.3 * sw * sw)


class World:
    def __init__(self, t: Tenant) -> None:
        self.t = t
        self.x, self.y = t.comuni
        self.plans: dict[str, uuid.UUID] = {}

    async def plan(self, name: str, area: str, comune: str) -> None:
        plan = Plan(
            ambito=self.t.ambito_id,
            owner=self.t.users[S],
            shared_with=[],
            case_code=f"{name}-{self.t.code}",
            comune=comune,
            target_group=area,
            goals="[]",
            start_date=_month_before(PREVIOUS),
            status="active",
        )
        await plan.save()
        self.plans[name] = plan.id

    async def goal(self, plan: str, weight: int = 1, baseline: int = -1, status: str = "active"):
        goal = PlanGoal(
            ambito=self.t.ambito_id,
            plan=self.plans[plan],
            title="obiettivo",
            scale="[]",
            weight=weight,
            baseline=baseline,
            status=status,
        )
        await goal.save()
        return goal.id

    async def review(
        self,
        plan: str,
        held: date,
        due: date | None,
        levels: dict[uuid.UUID, int] | None = None,
    ) -> None:
        review = PlanReview(
            ambito=self.t.ambito_id,
            plan=self.plans[plan],
            kind="review",
            held_on=held,
            due_on=due,
            participants=[],
            created_by=self.t.users[S],
            created_at=datetime.now(UTC),
        )
        await review.save()
        for goal, level in (levels or {}).items():
            await ReviewLevel(
                ambito=self.t.ambito_id, review=review.id, goal=goal, level=level
            ).save()

    async def hours(self, plan: str, day: date, minutes: int, verification: str) -> None:
        await Contribution(
            ambito=self.t.ambito_id,
            holder=self.t.holder_id,
            plan_id=self.plans[plan],
            unit="hours",
            quantity=minutes,
            occurred_on=day,
            verification=verification,
            created_by=self.t.users[U],
            created_by_role="udp_admin",
            created_at=datetime.now(UTC),
        ).save()


async def build(t: Tenant) -> World:
    w = World(t)
    for name, area, comune in (
        *[(f"A{i}", "anziani", w.x) for i in (1, 2, 3, 4)],
        ("F1", "famiglie-minori", w.x),
        ("F2", "famiglie-minori", w.y),
        ("F3", "famiglie-minori", w.y),
        ("D1", "disabili", w.y),
    ):
        await w.plan(name, area, comune)
    a1g1, a1g2 = await w.goal("A1"), await w.goal("A1", weight=2, baseline=-2)
    await w.review("A1", d(18, PREVIOUS), d(20, PREVIOUS), {a1g1: -1})
    await w.review("A1", d(4), d(5), {a1g1: 0, a1g2: 1})
    await w.review("A1", d(20), None, {a1g1: 1})
    await w.review("A2", d(12), d(10), {await w.goal("A2"): -1})
    await w.review("A2", d(14), d(10))  # a second review for the same due day: counted once
    a3g1, a3g2 = await w.goal("A3"), await w.goal("A3")
    await w.review("A3", d(15), d(15), {a3g1: 0, a3g2: -1})
    await w.goal("A4")
    await PlanFollowUp(ambito=t.ambito_id, plan=w.plans["A4"], next_review_on=d(20)).save()
    await w.review("F1", d(2), d(3), {await w.goal("F1"): 2})
    f2g1, f2g2 = await w.goal("F2"), await w.goal("F2", status="dropped")
    await w.review("F2", d(8), d(8), {f2g1: 0, f2g2: 1})
    await w.review("F3", d(27), d(25), {await w.goal("F3"): -2})
    await w.review("D1", d(6), d(6), {await w.goal("D1"): 1})
    for plan, day, reason in (("A2", 20, "moved_away"), ("F3", 28, "goals_reached"),
                              ("D1", 28, "goals_reached")):  # fmt: skip
        await PlanClosure(
            ambito=t.ambito_id,
            plan=w.plans[plan],
            closed_on=d(day),
            reason=reason,
            created_by=t.users[S],
            created_at=datetime.now(UTC),
        ).save()
        await Plan.update({Plan.status: "closed"}).where(Plan.id == w.plans[plan])
    for plan, day in (("A1", d(10)), ("A3", d(10)), ("F1", d(10)), ("A4", d(10, PREVIOUS))):
        await Activation(
            ambito=t.ambito_id,
            plan=w.plans[plan],
            kind="volunteer",
            consent_on=day,
            started_on=day,
            created_by=t.users[S],
            created_at=datetime.now(UTC),
        ).save()
    await OwnResource(
        ambito=t.ambito_id, plan=w.plans["A1"], kind="time", source="family",
        minutes_per_week=420,
    ).save()  # fmt: skip
    await w.hours("A1", d(10), 120, "qr_verified")
    await w.hours("F1", d(5), 180, "qr_verified")
    await w.hours("F1", d(6), 600, "self_reported")
    await FundedIntervention(
        ambito=t.ambito_id,
        title="Educativa domiciliare",
        fund_source="regional",
        user_area="famiglie-minori",
        fnps_level="home_care",
        comuni=[],
        period_start=M,
        period_end=M_END,
        spent_cents=100_000,
        delivered_minutes=600,
        plan_ids=[str(w.plans["F1"]), str(w.plans["D1"])],
    ).save()
    return w


@pytest.fixture
def threshold_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "3")


def _q(start: date = M, end: date = M_END, **extra: str) -> str:
    query = f"/api/metrics/outcomes?from={start.isoformat()}&to={end.isoformat()}"
    return query + "".join(f"&{k}={v}" for k, v in extra.items())


def _tables(body: dict) -> dict[str, dict]:
    return {t["name"]: t for t in body["tables"]}


def _row(table: dict, key: str, value: str) -> dict:
    return next(r for r in table["rows"] if r[key] == value)


def _withheld(body: dict) -> dict[tuple[str, str, str], str]:
    return {
        (c["table"], next(iter(c["key"].values()), ""), c["column"]): c["reason"]
        for c in body["suppression"]["cells"]
    }


async def test_outcomes_by_area_and_comune_hand_computed(client, threshold_3) -> None:
    t = await make_tenant()
    w = await build(t)
    response = await client.get(_q(), headers=t.headers(U))
    assert response.status_code == 200, response.text
    body = response.json()
    tables = _tables(body)
    by_area, by_comune = tables["outcomes_by_area"], tables["outcomes_by_comune"]

    changes = {
        "A1": T([(1, 1), (1, 2)]) - T([(-1, 1), (-2, 2)]),
        "A2": 0.0,
        "A3": T([(0, 1), (-1, 1)]) - T([(-1, 1), (-1, 1)]),
        "F1": 70 - 40,
        "F2": 50 - 40,  # the dropped goal is out of T
        "F3": 30 - 40,
        "D1": 60 - 40,
    }
    # Support: A1 1 h a day of own time over M, 2 community hours; F1's 3 hours are paid by
    # the intervention, which gives 5 hours to F1 and 5 to D1.
    own = M_DAYS * 60 / 60
    a1 = (own / (own + 2), 2 / (own + 2), 0.0)
    expected_total = {
        "plans": 8,
        "reviews_due": 8,
        "reviews_on_time": 5,
        "goals_rated": 10,
        "goals_attained": 7,
        "plans_scored": 7,
        "closures": 3,
        "plans_activated": 3,
        "plans_with_support": 3,
        "support_hours_own": round(own, 1),
        "support_hours_community": 2.0,
        "support_hours_funded": 10.0,
        "share_reviews_on_time": 0.625,
        "share_goals_attained": 0.7,
        "mean_t_change": round(sum(changes.values()) / 7, 2),
        "share_plans_activated": 0.375,
        "mean_share_own": round(a1[0] / 3, 4),
        "mean_share_community": round(a1[1] / 3, 4),
        "mean_share_funded": round(2 / 3, 4),
    }
    assert by_area["total"] == pytest.approx(expected_total)
    assert by_comune["total"] == by_area["total"]

    # Rows: small counts withheld (threshold 3), a second cell on each line, ratios with them.
    anziani = _row(by_area, "area", "anziani")
    assert anziani["plans"] == 4 and anziani["reviews_due"] == 4 and anziani["goals_rated"] == 5
    assert anziani["reviews_on_time"] is None and anziani["share_reviews_on_time"] is None
    famiglie = _row(by_area, "area", "famiglie-minori")
    assert famiglie["mean_t_change"] == pytest.approx(round((30 + 10 - 10) / 3, 2))
    assert famiglie["plans"] is None and famiglie["goals_rated"] is None
    disabili = _row(by_area, "area", "disabili")
    assert disabili["plans"] is None and disabili["mean_t_change"] is None
    assert disabili["plans_activated"] == 0  # zero identifies nobody
    withheld = _withheld(body)
    assert withheld[("outcomes_by_area", "disabili", "plans")] == "primary"
    assert withheld[("outcomes_by_area", "famiglie-minori", "plans")] == "secondary"
    # goals attained: 3 and 3 left after disabili's 1; the tie goes to the first row
    assert withheld[("outcomes_by_area", "anziani", "goals_attained")] == "secondary"
    assert withheld[("outcomes_by_area", "anziani", "support_hours_own")] == "primary"
    assert withheld[("outcomes_by_area", "anziani", "mean_share_own")] == "derived"

    x, y = _row(by_comune, "comune", w.x), _row(by_comune, "comune", w.y)
    assert (x["plans"], y["plans"]) == (5, 3)
    assert (x["goals_rated"], x["goals_attained"]) == (6, 4)
    assert x["share_goals_attained"] == pytest.approx(round(4 / 6, 4))
    assert y["share_goals_attained"] == 0.75
    assert x["mean_t_change"] == pytest.approx(round((changes["A1"] + changes["A3"] + 30) / 4, 2))
    assert y["mean_t_change"] == pytest.approx(round(20 / 3, 2))
    assert (x["share_plans_activated"], y["share_plans_activated"]) == (0.6, 0.0)
    # Y's 2 on time is small, X's 3 is its complement
    assert y["reviews_on_time"] is None and x["reviews_on_time"] is None
    assert withheld[("outcomes_by_comune", w.x, "reviews_on_time")] == "secondary"

    closures = tables["outcome_closures"]
    assert closures["total"] == {"closures": 3}
    assert {r["closure_reason"]: r["closures"] for r in closures["rows"]} == {
        "goals_reached": None,
        "moved_away": None,
    }
    assert set(body["definitions"]) >= {"share_reviews_on_time", "mean_t_change"}

    # One filter at a time: the row of that value in the unfiltered table, nothing else.
    for key, value, name, row in (
        ("area", "anziani", "outcomes_by_area", anziani),
        ("comune", w.y, "outcomes_by_comune", y),
    ):
        filtered = (await client.get(_q(**{key: value}), headers=t.headers(S))).json()
        ft = _tables(filtered)
        assert ft[name]["rows"] == [row] and ft[name]["total"] is None
        assert ft["outcome_closures"]["rows"] == [] and ft["outcome_closures"]["total"] is None
        other = "outcomes_by_comune" if name == "outcomes_by_area" else "outcomes_by_area"
        assert ft[other]["rows"] == []
    both = await client.get(_q(area="anziani", comune=w.x), headers=t.headers(U))
    assert both.status_code == 400 and "comune" in both.text

    # The same figures in the Italian export and in the report's chapter, with definitions.
    csv = await client.get(
        _q().replace("/outcomes?", "/export/esiti-per-area-di-utenza.csv?"), headers=t.headers(U)
    )
    assert csv.status_code == 200, csv.text
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Area di utenza;Piani attivi;Verifiche in scadenza;")
    assert lines[1].startswith("Anziani;4;4;;5;")  # withheld cells are empty
    assert lines[-1].startswith("Totale;8;8;5;10;7;7;3;3;3;") and ";0,625;0,7;" in lines[-1]
    report = await client.get(
        _q(start=PREVIOUS).replace("/outcomes?", "/report.html?"), headers=t.headers(U)
    )
    assert report.status_code == 200, report.text
    chapter = report.text[report.text.index("Esiti per le persone</h2>") :]
    chapter = chapter[: chapter.index("</section>")]
    assert "<small>Piani attivi</small><b>8</b>" in chapter
    assert "Piani chiusi per motivo" in chapter and "mese per mese" in chapter
    assert "Trasferimento in altro territorio" in chapter  # a closure reason, in words
    assert "Goal Attainment Scaling" in chapter  # the definitions go with the tables

    # Two months: a cell withheld in M stays withheld in the range (rule 3), though anziani
    # have 3 reviews on time over the two months (A1's review of M−1 too).
    longer = (await client.get(_q(start=PREVIOUS), headers=t.headers(U))).json()
    assert _row(_tables(longer)["outcomes_by_area"], "area", "anziani")["reviews_on_time"] is None
    assert _withheld(longer)[("outcomes_by_area", "anziani", "reviews_on_time")] == "period"
    # ... and each month as its own disclosure control publishes it: M as the answer for M.
    series = _tables(longer)["outcomes_by_month"]["rows"]
    key = f"{M.year:04d}-{M.month:02d}"
    before = f"{PREVIOUS.year:04d}-{PREVIOUS.month:02d}"
    assert [r["period"] for r in series] == [before, key]
    assert {c: v for c, v in series[1].items() if c != "period"} == by_area["total"]
    assert series[0]["plans"] == 8 and series[0]["reviews_due"] is None  # A1's only
    assert _withheld(longer)[("outcomes_by_month", before, "reviews_due")] == "primary"


# Metrics have no record in their path: readers of the ambito get their own figures.
ROWS = [(U, 200), (S, 200), (H, 403), (V, 403)]


@pytest.mark.parametrize(("role", "status"), ROWS, ids=lambda v: getattr(v, "value", v))
async def test_who_reads_outcomes(client, threshold_3, role: Role, status: int) -> None:
    own, other = await make_tenant(), await make_tenant()
    await build(other)
    response = await client.get(_q(), headers=own.headers(role))
    assert response.status_code == status, response.text
    if status == 200:
        body = response.json()
        # another ambito's plans never count here
        assert _tables(body)["outcomes_by_area"]["total"]["plans"] == 0
        assert body["ambito_code"] == own.code
    response = await client.get("/api/metrics/outcomes")
    assert response.status_code == 401


async def test_the_outcomes_are_documented(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    answer = schema["paths"]["/api/metrics/outcomes"]["get"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"tables", "suppression", "definitions"} <= set(
        schema["components"]["schemas"][ref]["properties"]
    )
