"""Attacks on the published metrics, as a curious social worker of the ambito would try them
(the role may read metrics), and the definitions of issue 13: like-for-like use, year to date.

The data: Q1 2025 of an ambito where an association gives many hours (large cells) and a
company, an individual volunteer and a public office each give a few (small cells, withheld).
Every attack asks the HTTP API and asserts the withheld hours and euro never come back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from registry.access import Role
from registry.contributions.tables import Contribution
from registry.holders.tables import Holder
from registry.interventions.tables import FundedIntervention
from registry.metrics import service
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


async def test_the_series_total_does_not_give_a_withheld_filter_back(
    client, tenant: Tenant
) -> None:
    await build(tenant)
    summary = await client.get(
        "/api/metrics/summary", params={**Q1, "sector": "business"}, headers=tenant.headers(S)
    )
    assert summary.json()["headline"]["hours_community"] is None
    series = await client.get(
        "/api/metrics/timeseries",
        params={**Q1, "granularity": "month", "sector": "business"},
        headers=tenant.headers(S),
    )
    total = series.json()["series"]["total"]
    assert total["hours_community"] is None
    assert total["replacement_value_eur"] is None


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
    """A quarter minus two of its months, or two ranges sharing months: every cell published
    for a longer period is published in each of its months, so differences of published
    cells are sums of published cells."""
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
                    for month in inside:
                        match = _same_row(_table(month, name), row)
                        if match is not None:
                            assert match.get(column) is not None, (period, name, row, column)


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
        assert "mesi interi" in report.text  # the method is in the report's notes
    for value in _secrets(hours):
        for text in texts:
            assert f"{value:.2f}" not in text
            assert f"{value:.2f}".replace(".", ",") not in text


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
