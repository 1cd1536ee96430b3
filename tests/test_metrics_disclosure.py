"""Attacks on the published metrics, as a curious social worker of the ambito would try them
(the role may read metrics), and the definitions of issue 13: like-for-like use, year to date.

The data: Q1 2025 of an ambito where an association gives many hours (large cells) and a
company, an individual volunteer and a public office each give a few (small cells, withheld).
Every attack asks the HTTP API and asserts the withheld hours and euro never come back.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from registry.access import Role
from registry.contributions.tables import Contribution
from registry.holders.tables import Holder
from registry.interventions.tables import FundedIntervention
from registry.metrics import service
from registry.metrics.tables import Interaction, InteractionParticipant
from registry.users.tables import User
from tests.conftest import _PASSWORD_HASH, Tenant

S = Role.SOCIAL_WORKER
Q1 = {"from": "2025-01-01", "to": "2025-03-31"}
MONTHS = [("2025-01-01", "2025-01-31"), ("2025-02-01", "2025-02-28"), ("2025-03-01", "2025-03-31")]
# Odd minutes, so a recovered figure cannot be mistaken for another one.
COMPANY_MINUTES = 197  # 3.28 h, one entry in February (comune 2)
INDIVIDUAL_MINUTES = 91  # 1.52 h on 18 January (comune 1)
OFFICE_MINUTES = 43  # 0.72 h, one entry in March (comune 2)


@pytest.fixture(autouse=True)
def threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_METRICS_MIN_COUNT", "5")


async def _holder(t: Tenant, kind: str, sector: str, comuni: list[str]) -> uuid.UUID:
    at = datetime(2024, 1, 15, tzinfo=UTC)
    holder = Holder(
        ambito=t.ambito_id,
        kind=kind,
        sector=sector,
        name=f"{kind} {uuid.uuid4().hex[:6]}",
        comuni=comuni,
        areas=["anziani"],
        contacts="[]",
        created_at=at,
        updated_at=at,
    )
    await holder.save()
    return holder.id


async def _entry(
    t: Tenant, holder: uuid.UUID, minutes: int, day: date, comune: str, volunteer=None
) -> None:
    await Contribution(
        ambito=t.ambito_id,
        holder=holder,
        volunteer=volunteer,
        kind="entry",
        unit="hours",
        quantity=minutes,
        occurred_on=day,
        comune=comune,
        verification="qr_verified",
        created_by=t.users[Role.UDP_ADMIN],
        created_by_role="udp_admin",
        created_at=datetime.now(UTC),
    ).save()


async def build(t: Tenant) -> dict[str, float]:
    c1, c2 = t.comuni[0], t.comuni[1]
    association = await _holder(t, "association", "third_sector", [c1, c2])
    company = await _holder(t, "company", "business", [c2])
    individual = await _holder(t, "individual_volunteer", "informal", [c1])
    office = await _holder(t, "public_office", "public", [c2])
    for i in range(8):
        user = User(
            username=f"d{i}-{t.code.lower()}",
            password_hash=_PASSWORD_HASH,
            role="volunteer",
            ambito=t.ambito_id,
        )
        await user.save()
        for month in (1, 2, 3):
            for comune in (c1, c2):
                await _entry(t, association, 120, date(2025, month, 10), comune, user.id)
    await _entry(t, company, COMPANY_MINUTES, date(2025, 2, 12), c2)
    await _entry(t, individual, INDIVIDUAL_MINUTES, date(2025, 1, 18), c1)
    await _entry(t, office, OFFICE_MINUTES, date(2025, 3, 5), c2)
    return {
        "company": round(COMPANY_MINUTES / 60, 2),
        "individual": round(INDIVIDUAL_MINUTES / 60, 2),
        "office": round(OFFICE_MINUTES / 60, 2),
    }


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def _secrets(hours: dict[str, float]) -> set[float]:
    # Hours and their replacement value at the default B1 rate (19.80 EUR/h, 2024).
    values = set(hours.values())
    values |= {round(h * 19.8, 2) for h in hours.values()}
    values |= {round((COMPANY_MINUTES + INDIVIDUAL_MINUTES) / 60, 2)}
    return values


def _table(body: dict, name: str) -> dict:
    return next(t for t in body["tables"] if t["name"] == name)


FILTERS = [
    {"sector": "business"},
    {"sector": "informal"},
    {"sector": "public"},
    {"sector": "third_sector"},
    {"holder_kind": "company"},
    {"holder_kind": "individual_volunteer"},
    {"holder_kind": "public_office"},
    {"holder_kind": "association"},
    {"area": "anziani"},
]


async def test_withheld_cells_are_withheld_in_the_summary(client, tenant: Tenant) -> None:
    await build(tenant)
    body = (await client.get("/api/metrics/summary", params=Q1, headers=tenant.headers(S))).json()
    sectors = {r["sector"]: r for r in _table(body, "by_sector")["rows"]}
    for sector in ("business", "informal", "public"):
        assert sectors[sector]["hours_community"] is None
        assert sectors[sector]["replacement_value_eur"] is None
    # The association's row is not the only open one of its line: the total minus the
    # published rows gives no single withheld cell back.
    for column in ("hours_community", "replacement_value_eur", "hours_verified"):
        hidden = [r for r in sectors.values() if r[column] is None]
        assert len(hidden) != 1


async def test_filters_on_every_endpoint_give_nothing_back(client, tenant: Tenant) -> None:
    hours = await build(tenant)
    secrets = _secrets(hours)
    comuni = [{"comune": c} for c in tenant.comuni]
    for scope in [*FILTERS, *comuni]:
        for path, extra in (
            ("summary", {}),
            ("coverage", {}),
            ("timeseries", {"granularity": "month"}),
            ("timeseries", {"granularity": "quarter"}),
        ):
            for period in [Q1, *({"from": a, "to": b} for a, b in MONTHS)]:
                response = await client.get(
                    f"/api/metrics/{path}",
                    params={**period, **extra, **scope},
                    headers=tenant.headers(S),
                )
                assert response.status_code == 200, response.text
                found = secrets & set(_numbers(response.json()))
                assert not found, (path, scope, period, found)


async def test_the_series_total_does_not_give_a_withheld_month_back(client, tenant: Tenant) -> None:
    """January (one association) is withheld, February and March are published (in the
    series or, failing that, by the summary of each month): the total of the series would
    give January back."""
    secret = (await build_months(tenant))["january"]
    series = (
        await client.get(
            "/api/metrics/timeseries",
            params={**Q1, "granularity": "month"},
            headers=tenant.headers(S),
        )
    ).json()["series"]
    jan, *rest = series["rows"]
    summaries = [(await _summary(client, tenant, a, b))["headline"] for a, b in MONTHS[1:]]
    for column in ("hours_verified", "hours_community"):
        assert jan[column] is None
        known = [
            r[column] if r[column] is not None else s[column]
            for r, s in zip(rest, summaries, strict=True)
        ]
        assert None not in known  # February and March are published: the attack can be tried
        total = series["total"][column]
        assert total is None or round(total - sum(known), 2) != secret, column


@pytest.mark.parametrize(
    "period",
    [
        {"from": "2025-01-01", "to": "2025-01-18"},
        {"from": "2025-01-01", "to": "2025-01-17"},
        {"from": "2025-01-18", "to": "2025-01-18"},
        {"from": "2025-01-02", "to": "2025-01-31"},
    ],
)
async def test_day_ranges_are_refused(client, tenant: Tenant, period) -> None:
    for path in ("summary", "timeseries", "coverage", "network", "export.xlsx", "report.html"):
        response = await client.get(
            f"/api/metrics/{path}", params=period, headers=tenant.headers(S)
        )
        assert response.status_code == 400, (path, response.text)
        assert "whole calendar months" in response.text


async def test_overlapping_months_give_no_withheld_month_back(client, tenant: Tenant) -> None:
    """A quarter minus two of its months, or two ranges sharing months: a cell the calendar
    quarter publishes is withheld in none or in at least two of its months (the quarter minus
    its published months then gives only a sum of withheld cells), and a cell any other range
    publishes is published in each of its months (its difference with anything is a sum of
    published cells)."""
    await build(tenant)
    ranges = [
        Q1,
        {"from": "2025-01-01", "to": "2025-02-28"},
        {"from": "2025-02-01", "to": "2025-03-31"},
    ]
    months = [
        (
            await client.get(
                "/api/metrics/summary", params={"from": a, "to": b}, headers=tenant.headers(S)
            )
        ).json()
        for a, b in MONTHS
    ]
    for period in ranges:
        body = (
            await client.get("/api/metrics/summary", params=period, headers=tenant.headers(S))
        ).json()
        inside = [m for m in months if period["from"] <= m["period"]["start"] <= period["to"]]
        for name in ("totals", "by_sector", "by_kind", "by_comune", "by_area", "by_task_level"):
            for row in [*_table(body, name)["rows"], _table(body, name)["total"] or {}]:
                for column, value in row.items():
                    if not isinstance(value, int | float) or isinstance(value, bool):
                        continue
                    if column.startswith(("rate", "share", "leverage", "coproduction", "public")):
                        continue
                    withheld_in = [
                        month["period"]["start"]
                        for month in inside
                        if (match := _same_row(_table(month, name), row)) is not None
                        and match.get(column) is None
                    ]
                    if period is Q1:
                        assert len(withheld_in) != 1, (period, name, row, column, withheld_in)
                    else:
                        assert withheld_in == [], (period, name, row, column, withheld_in)


def _same_row(table: dict, row: dict) -> dict | None:
    keys = [k for k in ("sector", "holder_kind", "comune", "area", "task_level") if k in row]
    if not keys:
        return table["rows"][0] if table["rows"] and not table["total"] else table["total"]
    for candidate in table["rows"]:
        if all(candidate.get(k) == row[k] for k in keys):
            return candidate
    return None


async def test_complementary_filters_and_sums_of_margins(client, tenant: Tenant) -> None:
    """Total minus every other sector (each asked with its own filter), and a sector as the
    sum of its holder kinds: no withheld sector comes back."""
    hours = await build(tenant)
    secrets = _secrets(hours)
    whole = (await client.get("/api/metrics/summary", params=Q1, headers=tenant.headers(S))).json()
    total = whole["headline"]["hours_community"]
    per_sector: dict[str, float | None] = {}
    for sector in ("business", "informal", "public", "third_sector"):
        body = (
            await client.get(
                "/api/metrics/summary", params={**Q1, "sector": sector}, headers=tenant.headers(S)
            )
        ).json()
        per_sector[sector] = body["headline"]["hours_community"]
    for sector, value in per_sector.items():
        if value is None and total is not None:
            others = [v for s, v in per_sector.items() if s != sector]
            assert None in others, sector  # a second cell withheld: no complement
    kinds = _table(whole, "by_kind")["rows"]
    for sector_row in _table(whole, "by_sector")["rows"]:
        parts = [r for r in kinds if r["sector"] == sector_row["sector"]]
        for column in ("hours_community", "replacement_value_eur", "entries"):
            values = [p[column] for p in parts]
            if None not in values:
                assert sector_row[column] is not None or not parts
                assert round(sum(values), 2) not in secrets
    # Two filters together are refused: they would let complements be differenced.
    response = await client.get(
        "/api/metrics/summary",
        params={**Q1, "sector": "business", "comune": tenant.comuni[1]},
        headers=tenant.headers(S),
    )
    assert response.status_code == 400
    assert "one filter at a time" in response.text


# Six associations give an hour each in February and in March (published months); in
# January only one of them gives (withheld), and in February a company gives once (withheld).
JANUARY_MINUTES = 137  # 2.28 h
LONE_COMPANY_MINUTES = 253  # 4.22 h
FEBRUARY = ("2025-02-01", "2025-02-28")


async def build_months(t: Tenant) -> dict[str, float]:
    c1 = t.comuni[0]
    associations = [await _holder(t, "association", "third_sector", [c1]) for _ in range(6)]
    for holder in associations:
        for month in (2, 3):
            await _entry(t, holder, 60, date(2025, month, 4), c1)
    await _entry(t, associations[0], JANUARY_MINUTES, date(2025, 1, 9), c1)
    company = await _holder(t, "company", "business", [c1])
    await _entry(t, company, LONE_COMPANY_MINUTES, date(2025, 2, 20), c1)
    return {
        "january": round(JANUARY_MINUTES / 60, 2),
        "company": round(LONE_COMPANY_MINUTES / 60, 2),
    }


async def _summary(client, t: Tenant, start: str, end: str, **scope: str) -> dict:
    response = await client.get(
        "/api/metrics/summary", params={"from": start, "to": end, **scope}, headers=t.headers(S)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_longer_ranges_and_series_totals_give_no_withheld_month_back(
    client, tenant: Tenant
) -> None:
    """January is withheld; the quarter (its summary, its quarterly series row, the total of
    the monthly series) minus February and March would give it back."""
    secret = (await build_months(tenant))["january"]
    columns = ("hours_verified", "hours_community")
    jan = (await _summary(client, tenant, "2025-01-01", "2025-01-31"))["headline"]
    assert all(jan[c] is None for c in columns)
    months = [(await _summary(client, tenant, a, b))["headline"] for a, b in MONTHS[1:]]
    quarter = (await _summary(client, tenant, "2025-01-01", "2025-03-31"))["headline"]
    series = {}
    for granularity in ("month", "quarter"):
        response = await client.get(
            "/api/metrics/timeseries",
            params={**Q1, "granularity": granularity},
            headers=tenant.headers(S),
        )
        series[granularity] = response.json()["series"]
    longer = {
        "quarter's summary": quarter,
        "monthly series total": series["month"]["total"],
        "quarterly series row": series["quarter"]["rows"][0],
    }
    recovered = []
    for column in columns:
        rest = [m[column] for m in months]
        assert None not in rest  # February and March are published: the attack can be tried
        for name, source in longer.items():
            if source[column] is not None and round(source[column] - sum(rest), 2) == secret:
                recovered.append((name, column))
    assert not recovered


async def test_a_complement_of_filters_gives_no_withheld_sector_back(
    client, tenant: Tenant
) -> None:
    """The company's February hours are withheld; the whole minus the third sector (asked
    with its own filter, on the summary or the series) would give them back."""
    secret = (await build_months(tenant))["company"]
    whole = (await _summary(client, tenant, *FEBRUARY))["headline"]
    third = (await _summary(client, tenant, *FEBRUARY, sector="third_sector"))["headline"]
    business = (await _summary(client, tenant, *FEBRUARY, sector="business"))["headline"]
    assert business["hours_community"] is None
    assert whole["hours_community"] is not None  # the whole is published: the attack can be tried
    response = await client.get(
        "/api/metrics/timeseries",
        params={
            "from": FEBRUARY[0],
            "to": FEBRUARY[1],
            "granularity": "month",
            "sector": "third_sector",
        },
        headers=tenant.headers(S),
    )
    series = response.json()["series"]
    for column in ("hours_verified", "hours_community"):
        for part in (third[column], series["rows"][0][column], series["total"][column]):
            if whole[column] is not None and part is not None:
                assert round(whole[column] - part, 2) != secret, column


async def test_downloads_carry_no_withheld_figure(client, tenant: Tenant) -> None:
    hours = await build(tenant)
    texts = []
    for scope in ({}, {"sector": "business"}, {"holder_kind": "individual_volunteer"}):
        for name in ("totals", "by_sector", "by_kind", "timeseries_month"):
            response = await client.get(
                f"/api/metrics/export/{name}.csv",
                params={**Q1, **scope},
                headers=tenant.headers(S),
            )
            assert response.status_code == 200, response.text
            texts.append(response.text)
        report = await client.get(
            "/api/metrics/report.html", params={**Q1, **scope}, headers=tenant.headers(S)
        )
        assert report.status_code == 200
        texts.append(report.text)
    for value in _secrets(hours):
        for text in texts:
            assert f"{value:.2f}" not in text
            assert f"{value:.2f}".replace(".", ",") not in text
    assert "mesi interi" in texts[-1]  # the method is in the report's notes


async def test_snapshots_answer_the_same_protected_figures(client, tenant: Tenant) -> None:
    hours = await build(tenant)
    await service.take_snapshot(datetime.now(UTC), [tenant.ambito_id])
    for scope in ({}, {"sector": "business"}, {"comune": tenant.comuni[1]}):
        snap = await client.get(
            "/api/metrics/summary", params={**Q1, **scope}, headers=tenant.headers(S)
        )
        live = await client.get(
            "/api/metrics/summary",
            params={**Q1, **scope, "live": "true"},
            headers=tenant.headers(S),
        )
        assert snap.json()["source"] == "snapshot"
        assert snap.json()["headline"] == live.json()["headline"]
        assert not _secrets(hours) & set(_numbers(snap.json()))


# --- definitions: use per unit, year to date -----------------------------------------------


async def test_default_period_is_the_year_to_date(client, tenant: Tenant) -> None:
    today = service.today()  # the service's clock (Europe/Rome), moved by libfaketime in CI
    first = date(today.year, 1, 1)
    holder = await _holder(tenant, "association", "third_sector", tenant.comuni)
    for _ in range(6):
        await _entry(tenant, holder, 60, first, tenant.comuni[0])
    await FundedIntervention(
        ambito=tenant.ambito_id,
        code=f"Y-{tenant.code}",
        title="Servizio annuale",
        fund_source="regional",
        user_area="anziani",
        fnps_level="home_care",
        comuni=[tenant.comuni[0]],
        period_start=first,
        period_end=date(today.year, 12, 31),
        committed_cents=3_650_000,
        spent_cents=3_650_000,
        delivered_minutes=0,
        beneficiaries=3,
        plan_ids=[],
    ).save()
    response = await client.get("/api/metrics/summary", headers=tenant.headers(S))
    assert response.status_code == 200, response.text
    body = response.json()
    period = body["period"]
    assert (period["start"], period["end"]) == (first.isoformat(), today.isoformat())
    assert period["days"] == (today - first).days + 1
    assert period["to_date"] is True
    assert "fino a oggi" in period["label"]
    year_days = (date(today.year, 12, 31) - first).days + 1
    lived = 36_500 * period["days"] / year_days
    public = body["headline"]["public_spending"]["amount_eur"]
    assert public == pytest.approx(round(lived, 2), abs=0.01)
    # A 'to' after today is cut to today, and says so.
    later = await client.get(
        "/api/metrics/summary",
        params={"from": first.isoformat(), "to": date(today.year, 12, 31).isoformat()},
        headers=tenant.headers(S),
    )
    assert later.json()["period"]["end"] == today.isoformat()
    assert later.json()["headline"]["public_spending"]["amount_eur"] == public


async def test_a_period_starting_in_the_future_is_refused(client, tenant: Tenant) -> None:
    today = service.today()
    following = date(today.year + 1, 1, 1)
    response = await client.get(
        "/api/metrics/summary",
        params={"from": following.isoformat(), "to": date(following.year, 1, 31).isoformat()},
        headers=tenant.headers(S),
    )
    assert response.status_code == 400
    assert "from" in response.text


# --- the cohesion network --------------------------------------------------------------------
#
# Q1 2025: eight associations (comune 1) tied to each other only in January, three of them
# in one meeting (3 ties: small, withheld); in February a public office meets six of them
# one by one (6 ties). Two companies and an individual volunteer (comune 2) are tied to
# nobody. Whatever an attacker asks, the 3 January ties among associations never come back.

SECRET_TIES = 3


async def _meeting(t: Tenant, day: date, holders: list[uuid.UUID]) -> None:
    interaction = Interaction(
        ambito=t.ambito_id,
        kind="network_meeting",
        title="Incontro di rete",
        occurred_on=day,
        note="",
        created_by=t.users[Role.UDP_ADMIN],
        created_at=datetime.now(UTC),
    )
    await interaction.save()
    for holder in holders:
        await InteractionParticipant(interaction=interaction.id, holder=holder).save()


async def build_network(t: Tenant) -> None:
    c1, c2 = t.comuni[0], t.comuni[1]
    associations = [await _holder(t, "association", "third_sector", [c1]) for _ in range(8)]
    for kind, sector in (
        ("company", "business"),
        ("company", "business"),
        ("individual_volunteer", "informal"),
    ):
        await _holder(t, kind, sector, [c2])
    office = await _holder(t, "public_office", "public", [c2])
    await _meeting(t, date(2025, 1, 15), associations[:3])
    for association in associations[:6]:
        await _meeting(t, date(2025, 2, 10), [office, association])


def _recovered_ties(body: dict) -> set[float]:
    """Every tie count a reader can compute from one network answer: the published counts,
    the ties from density or average degree and the nodes, the ties within and between
    sectors from the E-I index and the ties, and a block as the ties minus the others."""
    found: set[float] = set()
    for row in body["periods"]["rows"]:
        for column in ("edges", "new_ties", *NETWORK_TIE_KINDS):
            if row[column] is not None:
                found.add(float(row[column]))
        n, e = row["nodes"], row["edges"]
        if n and row["density"] is not None and n > 1:
            found.add(round(row["density"] * n * (n - 1) / 2, 1))
        if n and row["average_degree"] is not None:
            found.add(round(row["average_degree"] * n / 2, 1))
        if e is not None and row["ei_index"] is not None:
            found |= {
                round(e * (1 + row["ei_index"]) / 2, 1),
                round(e * (1 - row["ei_index"]) / 2, 1),
            }
    blocks = body["sector_blocks"]
    found |= {float(b["edges"]) for b in blocks if b["edges"] is not None}
    last = body["periods"]["rows"][-1]
    hidden = [b for b in blocks if b["edges"] is None]
    if last["edges"] is not None and len(hidden) == 1:
        found.add(float(last["edges"] - sum(b["edges"] for b in blocks if b not in hidden)))
    return found


NETWORK_TIE_KINDS = ("edges_co_contribution", "edges_joint_activity", "edges_interaction")
NETWORK_RANGES = {
    "jan": ("2025-01-01", "2025-01-31"),
    "feb": ("2025-02-01", "2025-02-28"),
    "mar": ("2025-03-01", "2025-03-31"),
    "jan-feb": ("2025-01-01", "2025-02-28"),
    "feb-mar": ("2025-02-01", "2025-03-31"),
    "q1": ("2025-01-01", "2025-03-31"),
}


async def _network(client, t: Tenant, name: str, granularity: str, **scope: str) -> dict:
    start, end = NETWORK_RANGES[name]
    response = await client.get(
        "/api/metrics/network",
        params={"from": start, "to": end, "granularity": granularity, **scope},
        headers=t.headers(S),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_network_without_filters_gives_no_withheld_tie_back(client, tenant: Tenant) -> None:
    await build_network(tenant)
    q1 = await _network(client, tenant, "q1", "quarter")
    row = q1["periods"]["rows"][0]
    assert row["nodes"] == 12  # enough holders: the network is published
    blocks = {(b["sector_a"], b["sector_b"]): b["edges"] for b in q1["sector_blocks"]}
    assert blocks[("third_sector", "third_sector")] is None
    # Two small sectors and a person: withheld in the table by sector, never recomputable.
    sectors = {r["sector"]: r for r in q1["nodes_by_sector"]["rows"]}
    assert sectors["informal"]["nodes"] is None and sectors["business"]["nodes"] is None
    assert row["person_nodes"] is None
    for name in NETWORK_RANGES:
        for granularity in ("month", "quarter"):
            body = await _network(client, tenant, name, granularity)
            assert SECRET_TIES not in _recovered_ties(body), (name, granularity)
            for r in body["periods"]["rows"]:
                assert r["person_nodes"] is None, (name, r)


async def test_network_filters_publish_only_the_unfiltered_rows(client, tenant: Tenant) -> None:
    """A filter by sector, holder kind or comune gives the nodes and ties within the value
    as the whole network's tables publish them: the associations' 3 January ties (their own
    sub-network) stay withheld, and so do the small sectors and the person."""
    await build_network(tenant)
    filters = [
        {"sector": "third_sector"},
        {"sector": "business"},
        {"sector": "informal"},
        {"sector": "public"},
        {"holder_kind": "association"},
        {"holder_kind": "company"},
        {"holder_kind": "individual_volunteer"},
        {"holder_kind": "public_office"},
        {"comune": tenant.comuni[0]},
        {"comune": tenant.comuni[1]},
    ]
    for scope in filters:
        for name in NETWORK_RANGES:
            for granularity in ("month", "quarter"):
                body = await _network(client, tenant, name, granularity, **scope)
                assert SECRET_TIES not in _recovered_ties(body), (scope, name, granularity)
                for row in body["periods"]["rows"]:
                    # 2 companies, 1 person, 1 office, 4 holders in comune 2: all small.
                    assert row["nodes"] in (None, 0, 8), (scope, name, row)
                    assert row["person_nodes"] in (None, 0), (scope, name, row)
    # The associations are published (8 of them), their ties are not.
    body = await _network(client, tenant, "q1", "quarter", sector="third_sector")
    row = body["periods"]["rows"][0]
    assert row["nodes"] == 8 and row["edges"] is None and row["density"] is None
    assert {c["column"] for c in body["suppression"]["cells"]} >= {"edges", "density"}


async def test_network_overlapping_ranges_give_no_withheld_month_back(
    client, tenant: Tenant
) -> None:
    """January's ties are withheld; a quarter minus two of its months (or January-February
    minus February) would give them back if the longer range published its ties."""
    await build_network(tenant)
    single = {}
    for name in NETWORK_RANGES:
        body = await _network(client, tenant, name, "quarter")  # one period per range
        single[name] = body["periods"]["rows"][0]
    for longer, shorter in (("q1", "feb-mar"), ("jan-feb", "feb")):
        for column in ("edges", "new_ties", *NETWORK_TIE_KINDS):
            a, b = single[longer][column], single[shorter][column]
            if a is not None and b is not None:
                assert a - b != SECRET_TIES, (longer, shorter, column)
    assert single["jan"]["edges"] is None and single["jan"]["new_ties"] is None
    # Every count of a longer period is published only where each of its months publishes it.
    months = (await _network(client, tenant, "q1", "month"))["periods"]["rows"]
    for name in ("jan-feb", "feb-mar", "q1"):
        start, end = NETWORK_RANGES[name]
        inside = [m for m in months if start <= m["period_start"] <= end]
        for column in ("nodes", "edges", "new_ties", *NETWORK_TIE_KINDS):
            if single[name][column] not in (None, 0):
                assert all(m[column] is not None for m in inside), (name, column)


async def test_network_downloads_and_report_carry_no_withheld_tie(client, tenant: Tenant) -> None:
    await build_network(tenant)
    for scope in ({}, {"sector": "third_sector"}, {"comune": tenant.comuni[0]}):
        for granularity in ("month", "quarter"):
            params = {"from": "2025-01-01", "to": "2025-03-31", "granularity": granularity}
            response = await client.get(
                "/api/metrics/export/network.csv",
                params={**params, **scope, "dialect": "machine"},
                headers=tenant.headers(S),
            )
            assert response.status_code == 200, response.text
            text = response.text.lstrip("\ufeff")
            delimiter = ";" if text.count(";") > text.count(",") else ","
            rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
            assert rows, text
            for row in rows:
                for column in ("edges", "new_ties", *NETWORK_TIE_KINDS):
                    assert row.get(column) not in ("3", "3.0"), (scope, granularity, column)
            report = await client.get(
                "/api/metrics/report.html", params={**params, **scope}, headers=tenant.headers(S)
            )
            assert report.status_code == 200
            # The picture labels the ties within a sector: never the withheld 3.
            assert f"legami interni: {SECRET_TIES}<" not in report.text


async def test_network_snapshots_answer_the_same_protected_figures(client, tenant: Tenant) -> None:
    await build_network(tenant)
    await service.take_snapshot(datetime.now(UTC), [tenant.ambito_id])
    for granularity in ("month", "quarter"):
        params = {"from": "2025-01-01", "to": "2025-03-31", "granularity": granularity}
        snap = (
            await client.get("/api/metrics/network", params=params, headers=tenant.headers(S))
        ).json()
        live = (
            await client.get(
                "/api/metrics/network",
                params={**params, "live": "true"},
                headers=tenant.headers(S),
            )
        ).json()
        assert snap["source"] == "snapshot"
        for key in ("periods", "nodes_by_sector", "sector_blocks", "suppression"):
            assert snap[key] == live[key], key
        assert SECRET_TIES not in _recovered_ties(snap)
