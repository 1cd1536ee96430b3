"""Bad input gets a clear 4xx naming what is wrong, never a 500, and stores nothing."""

from __future__ import annotations

import pytest

from registry.access import Role
from tests.conftest import Tenant

U = Role.UDP_ADMIN
GOOD = {"kind": "association", "sector": "third_sector", "name": "Associazione Gamma"}


@pytest.mark.parametrize(
    ("body", "status", "mentions"),
    [
        (b'{"kind": "association", "name": ', 400, "JSON"),
        (b"not json at all", 400, "JSON"),
        (b"[]", 400, "object"),
        (
            b'{"kind": "association", "sector": "third_sector", "name": "X", "colour": 1}',
            400,
            "colour",
        ),
        (b'{"kind": "association", "sector": "third_sector", "name": 42}', 400, "name"),
        (b'{"kind": "charity", "sector": "third_sector", "name": "X"}', 400, "kind"),
        (b'{"sector": "third_sector", "name": "X"}', 400, "kind"),
        (b'{"kind": "association", "sector": "third_sector", "name": ""}', 400, "name"),
        (
            b'{"kind": "association", "sector": "third_sector", "name": "X", "consent": '
            b'{"given_by": "a", "given_at": "yesterday", "text_version": "1"}}',
            400,
            "consent.given_at",
        ),
        (
            b'{"kind": "association", "sector": "third_sector", "name": "X", "comuni": ["13"]}',
            400,
            "comuni",
        ),
    ],
)
async def test_holder_bodies(
    client, tenant: Tenant, body: bytes, status: int, mentions: str
) -> None:
    response = await client.post(
        "/api/holders",
        content=body,
        headers={**tenant.headers(U), "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert mentions in response.text
    assert (await client.get("/api/holders?q=X", headers=tenant.headers(U))).json()["total"] == 0


async def test_oversized_body_is_refused(client, tenant: Tenant) -> None:
    huge = {**GOOD, "description": "x" * 2_000_000}
    response = await client.post("/api/holders", json=huge, headers=tenant.headers(U))
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("status=sleeping", "status"),
        ("target_group=everyone", "target_group"),
        ("comune=12", "comune"),
        ("holder_id=not-a-uuid", "holder_id"),
    ],
)
async def test_bad_query_parameters(client, tenant: Tenant, query: str, mentions: str) -> None:
    response = await client.get(f"/api/resources?{query}", headers=tenant.headers(U))
    assert response.status_code == 400
    assert mentions in response.text


@pytest.mark.parametrize(
    ("window", "mentions"),
    [
        (
            {
                "freq": "WEEKLY",
                "start_time": "25:00",
                "end_time": "26:00",
                "valid_from": "2026-01-01",
            },
            "start_time",
        ),
        (
            {
                "freq": "WEEKLY",
                "start_time": "10:00",
                "end_time": "11:00",
                "valid_from": "2026-02-30",
            },
            "valid_from",
        ),
        (
            {
                "freq": "YEARLY",
                "start_time": "10:00",
                "end_time": "11:00",
                "valid_from": "2026-01-01",
            },
            "freq",
        ),
        (
            {
                "freq": "WEEKLY",
                "start_time": "10:00",
                "end_time": "11:00",
                "valid_from": "2026-01-01",
                "capacity": -3,
            },
            "capacity",
        ),
    ],
)
async def test_bad_windows(client, tenant: Tenant, window: dict, mentions: str) -> None:
    response = await client.post(
        f"/api/resources/{tenant.resource_id}/availability", json=window, headers=tenant.headers(U)
    )
    assert response.status_code == 400
    assert mentions in response.text


async def test_unknown_ids_and_paths(client, tenant: Tenant) -> None:
    headers = tenant.headers(U)
    assert (
        await client.get("/api/resources/00000000-0000-0000-0000-000000000000", headers=headers)
    ).status_code == 404
    assert (await client.get("/api/resources/not-a-uuid", headers=headers)).status_code in (
        400,
        404,
    )
    assert (await client.get("/api/taxonomy/nothing-like-this", headers=headers)).status_code == 404


async def test_duplicate_username_is_a_conflict(client, tenant: Tenant) -> None:
    body = {
        "username": tenant.usernames[Role.VOLUNTEER],
        "password": "password-lunga",
        "role": "volunteer",
    }
    response = await client.post("/api/users", json=body, headers=tenant.headers(U))
    assert response.status_code == 409 and response.json()["field"] == "username"


# --- text: NUL and other control characters (a 500 on PostgreSQL, broken XLSX exports) -------

NUL, VTAB = "\u0000", "\u000b"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/holders", {**GOOD, "name": f"Gamma{NUL}"}, "name"),
        ("POST", "/api/holders", {**GOOD, "description": f"a{VTAB}b"}, "description"),
        ("POST", "/api/holders", {**GOOD, "name": "Gamma\nDue righe"}, "name"),
        (
            "POST",
            "/api/holders",
            {**GOOD, "contacts": [{"kind": "phone", "value": f"031{NUL}"}]},
            "contacts[0].value",
        ),
        ("PATCH", "/api/resources/{resource}", {"title": f"Trasporto{VTAB}sociale"}, "title"),
        ("PATCH", "/api/resources/{resource}", {"title": f"Trasporto{NUL}"}, "title"),
        ("PATCH", "/api/resources/{resource}", {"description": f"x{NUL}y"}, "description"),
        ("PATCH", "/api/resources/{resource}", {"category_code": f"trasporto{NUL}"}, "category"),
        (
            "PUT",
            "/api/resources/{resource}/availability/{window}",
            {
                "freq": "WEEKLY",
                "by_day": ["MO"],
                "start_time": "09:00",
                "end_time": "12:00",
                "valid_from": "2026-01-05",
                "notes": f"citofono{NUL}",
            },
            "notes",
        ),
        ("PATCH", "/api/holders/{holder}", {"address": f"Via Roma 1{VTAB}"}, "address"),
        ("PATCH", "/api/holders/{holder}", {"codice_fiscale": f"{NUL}"}, "codice_fiscale"),
        ("POST", "/api/activities", {"title": f"Festa{NUL}", "starts_on": "2026-05-01"}, "title"),
        (
            "POST",
            "/api/interventions",
            {
                "title": f"Assistenza{VTAB}domiciliare",
                "fund_source": "national",
                "user_area": "anziani",
                "fnps_level": "home_care",
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
            },
            "title",
        ),
        (
            "POST",
            "/api/notifications/webhooks",
            {"url": "https://example.org/hook", "description": f"x{NUL}"},
            "description",
        ),
    ],
)
async def test_control_characters_in_text_are_refused(
    client, tenant: Tenant, method: str, path: str, body: dict, field: str
) -> None:
    url = path.format(resource=tenant.resource_id, window=tenant.window_id, holder=tenant.holder_id)
    before = await client.get(f"/api/resources/{tenant.resource_id}", headers=tenant.headers(U))
    response = await client.request(method, url, json=body, headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert field in response.text
    assert "control character" in response.text
    after = await client.get(f"/api/resources/{tenant.resource_id}", headers=tenant.headers(U))
    assert after.json() == before.json()
    holders = await client.get("/api/holders?q=Gamma", headers=tenant.headers(U))
    assert holders.json()["total"] == 0


async def test_long_text_keeps_its_line_breaks_and_tabs(client, tenant: Tenant) -> None:
    text = "Prima riga\r\nSeconda riga\n\tRientrata"
    response = await client.patch(
        f"/api/resources/{tenant.resource_id}",
        json={"description": text},
        headers=tenant.headers(U),
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] == text


async def test_a_refused_vertical_tab_leaves_the_xlsx_export_working(
    client, tenant: Tenant
) -> None:
    headers = tenant.headers(U)
    refused = await client.patch(
        f"/api/resources/{tenant.resource_id}",
        json={"title": f"Trasporto{VTAB}sociale"},
        headers=headers,
    )
    assert refused.status_code == 400
    export = await client.get("/api/interop/export/resources?format=xlsx", headers=headers)
    assert export.status_code == 200, export.text


async def test_control_characters_in_an_interventions_csv_are_refused(
    client, tenant: Tenant
) -> None:
    from tests.test_interventions import HEADER_IT

    row = (
        f"NUL-1;Assistenza{NUL} domiciliare;national;anziani;home_care;;"
        "2026-01-01;2026-12-31;0;0;0;0"
    )
    response = await client.post(
        "/api/interventions/import",
        content=("\r\n".join([HEADER_IT, row]) + "\r\n").encode(),
        headers={**tenant.headers(U), "Content-Type": "text/csv"},
    )
    assert 400 <= response.status_code < 500, response.text
    report = response.json()
    assert report["created"] == 0 and report["rejected"] == 1, report
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "title")]
    listed = await client.get("/api/interventions", headers=tenant.headers(U))
    assert listed.json()["total"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "/api/holders?q=%00",
        "/api/holders?q=a%0Bb",
        "/api/resources?q=%00",
        "/api/resources?category=%00",
        "/api/interventions?q=%00",
        "/api/plans?q=%00",
        "/api/taxonomy?parent=%00",
        "/api/taxonomy/tras%00porto",
        "/api/interop/export/resources?q=%00",
    ],
)
async def test_control_characters_in_filters_are_refused(client, tenant: Tenant, url: str) -> None:
    response = await client.get(url, headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert "control character" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/services?search=%00",
        "/organizations?search=%00",
        "/services?taxonomy_term_id=%00",
        "/taxonomy_terms?parent_id=%00",
        "/services/%00",
    ],
)
async def test_control_characters_on_the_public_hsds_api_are_refused(
    client, tenant: Tenant, path: str
) -> None:
    response = await client.get(f"/api/hsds/{tenant.code}{path}")
    assert response.status_code == 400, response.text
    assert (await client.get(f"/api/hsds/T%00{tenant.code}/services")).status_code == 400


@pytest.mark.parametrize("suffix", ["%0A", "%0D%0A"], ids=["trailing-newline", "trailing-crlf"])
async def test_istat_codes_are_six_ascii_digits_and_nothing_else(
    client, tenant: Tenant, suffix: str
) -> None:
    """`^\\d{6}$` let "013005\\n" through (`$` matches before a final newline) and took
    non-ASCII digits: the filter answered an empty list instead of naming the mistake."""
    headers = tenant.headers(U)
    for url in (
        f"/api/holders?comune={tenant.comuni[0]}{suffix}",
        f"/api/resources?comune={tenant.comuni[0]}{suffix}",
        "/api/holders?comune=%D9%A0%D9%A1%D9%A3%D9%A0%D9%A0%D9%A5",  # Arabic-Indic digits
    ):
        response = await client.get(url, headers=headers)
        assert response.status_code == 400, response.text
        assert "comune" in response.text
    found = await client.get(f"/api/holders?comune={tenant.comuni[0]}", headers=headers)
    assert found.json()["total"] == 2


# --- integers past their column -----------------------------------------------------------

TOO_BIG = "9223372036854775808"  # 2**63: past PostgreSQL's bigint


@pytest.mark.parametrize(
    "url",
    [
        f"/api/resources?offset={TOO_BIG}",
        f"/api/matches?offset={TOO_BIG}",
        f"/api/contributions?offset={TOO_BIG}",
        f"/api/interventions?offset={TOO_BIG}",
        f"/api/audit?offset={TOO_BIG}",
        f"/api/holders?offset={TOO_BIG}",
        f"/api/plans?offset={TOO_BIG}",
        f"/api/activities?offset={TOO_BIG}",
        f"/api/notifications?offset={TOO_BIG}",
        "/api/holders?offset=2147483648",
    ],
)
async def test_offsets_past_the_column_are_refused(client, tenant: Tenant, url: str) -> None:
    response = await client.get(url, headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert "offset" in response.text


async def test_pages_past_the_column_are_refused(client, tenant: Tenant) -> None:
    for what in ("services", "organizations", "locations", "taxonomy_terms"):
        response = await client.get(f"/api/hsds/{tenant.code}/{what}?page={TOO_BIG}")
        assert response.status_code == 400, response.text
        assert "page" in response.text


async def test_rate_years_past_the_column_are_refused(client, tenant: Tenant) -> None:
    headers = tenant.headers(U)
    for year in ("2147483648", TOO_BIG):
        response = await client.delete(f"/api/metrics/rates/C1/{year}", headers=headers)
        assert response.status_code == 400, response.text
        assert "year" in response.text
        response = await client.put(
            f"/api/metrics/rates/C1/{year}",
            json={"eur_per_hour": 20, "source": "CCNL cooperative sociali"},
            headers=headers,
        )
        assert response.status_code == 400, response.text


async def test_integers_in_bodies_past_the_column_are_refused(client, tenant: Tenant) -> None:
    response = await client.post(
        f"/api/ambiti/{tenant.code}/comuni",
        json={"istat_code": "099999", "name": "Comune troppo grande", "population": 2**63},
        headers=tenant.headers(U),
    )
    assert response.status_code == 400, response.text
    assert "population" in response.text


# --- deeply nested JSON -------------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/holders"),
        ("PATCH", "/api/resources/{resource}"),
        ("POST", "/api/contributions"),
        ("POST", "/api/auth/token"),
        ("POST", "/api/plans"),
        ("POST", "/api/interop/hsds/import"),
    ],
)
async def test_deeply_nested_json_is_a_400(client, tenant: Tenant, method: str, path: str) -> None:
    """msgspec raised RecursionError on it (a 500) when decoding without a type."""
    for body in (DEEP, b'{"name": ' + DEEP + b"}"):
        response = await client.request(
            method,
            path.format(resource=tenant.resource_id),
            content=body,
            headers={**tenant.headers(U), "Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text[:500]


# --- loose types: JSON numbers are numbers ------------------------------------------------


async def test_numbers_given_as_strings_are_refused(client, tenant: Tenant) -> None:
    from tests.test_plans_support import create_plan, need_body

    headers = tenant.headers(U)
    response = await client.patch(
        f"/api/resources/{tenant.resource_id}", json={"capacity": "5"}, headers=headers
    )
    assert response.status_code == 400, response.text
    assert "capacity" in response.text and "Expected `int`, got `str`" in response.text
    resource = await client.get(f"/api/resources/{tenant.resource_id}", headers=headers)
    assert resource.json()["capacity"] == 3

    plan = await create_plan(client, tenant)
    for field, value in (("max_distance_km", "10"), ("quantity", "1"), ("priority", "3")):
        response = await client.post(
            f"/api/plans/{plan['id']}/needs",
            json=need_body(**{field: value}),
            headers=tenant.headers(Role.SOCIAL_WORKER),
        )
        assert response.status_code == 400, (field, response.text)
        assert field in response.text

    response = await client.post(
        "/api/contributions",
        json={
            "holder_id": str(tenant.holder_id),
            "unit": "hours",
            "quantity": "1",
            "occurred_on": "2026-03-02",
        },
        headers={**headers, "Idempotency-Key": "loose-quantity"},
    )
    assert response.status_code == 400, response.text
    assert "quantity" in response.text

    response = await client.post(
        "/api/holders", json={**GOOD, "public_listing": "true"}, headers=headers
    )
    assert response.status_code == 400, response.text
    assert "public_listing" in response.text


async def test_json_numbers_still_work(client, tenant: Tenant) -> None:
    response = await client.patch(
        f"/api/resources/{tenant.resource_id}", json={"capacity": 5}, headers=tenant.headers(U)
    )
    assert response.status_code == 200, response.text
    assert response.json()["capacity"] == 5


# --- e-mail addresses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "not an email",
        "info@social_cooperative.example.org",
        "info@",
        "@example.org",
        "info@localhost",
        "mario rossi@example.org",
    ],
)
async def test_invalid_contact_emails_are_refused(client, tenant: Tenant, address: str) -> None:
    body = {**GOOD, "contacts": [{"kind": "email", "value": address}]}
    response = await client.post("/api/holders", json=body, headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert "contacts[0]" in response.text and "e-mail" in response.text
    patched = await client.patch(
        f"/api/holders/{tenant.holder_id}",
        json={"contacts": [{"kind": "email", "value": address}]},
        headers=tenant.headers(U),
    )
    assert patched.status_code == 400, patched.text
    holder = await client.get(f"/api/holders/{tenant.holder_id}", headers=tenant.headers(U))
    assert holder.json()["contacts"] == []


async def test_valid_contact_emails_are_kept_with_the_domain_in_lower_case(
    client, tenant: Tenant
) -> None:
    contacts = [
        {"kind": "email", "value": "Segreteria.Gamma@Comune.Esempio.IT", "label": "segreteria"},
        {"kind": "email", "value": "info@associazione-gamma.example.org"},
        {"kind": "phone", "value": "031 123456"},
    ]
    response = await client.post(
        "/api/holders", json={**GOOD, "contacts": contacts}, headers=tenant.headers(U)
    )
    assert response.status_code == 201, response.text
    assert [c["value"] for c in response.json()["contacts"]] == [
        "Segreteria.Gamma@comune.esempio.it",
        "info@associazione-gamma.example.org",
        "031 123456",
    ]


async def test_recursion_anywhere_in_a_request_is_a_400() -> None:
    """A body parsed without a type (here Litestar's own `request.json()`) still recurses."""
    import httpx
    from litestar import Litestar, Request, post

    from registry.api.errors import handlers

    @post("/raw")
    async def raw(request: Request) -> None:
        await request.json()

    app = Litestar([raw], exception_handlers=handlers())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/raw", content=DEEP)
    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.json()["detail"]


# --- every parameter and body field is bounded --------------------------------------------

# Passwords are hashed, never stored or exported as text: any character may be in them.
_ANY_TEXT = {"password", "current_password", "new_password"}


def _walk_body(info: object, where: str, problems: list[str], seen: set[type]) -> None:
    import msgspec.inspect as mi

    if isinstance(info, mi.StructType):
        if info.cls in seen:
            return
        seen.add(info.cls)
        for f in info.fields:
            if f.name not in _ANY_TEXT:
                _walk_body(f.type, f"{info.cls.__name__}.{f.name}", problems, seen)
    elif isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        _walk_body(info.item_type, f"{where}[]", problems, seen)
    elif isinstance(info, mi.DictType):
        _walk_body(info.key_type, f"{where} key", problems, seen)
        _walk_body(info.value_type, f"{where} value", problems, seen)
    elif isinstance(info, mi.UnionType):
        for member in info.types:
            _walk_body(member, where, problems, seen)
    elif isinstance(info, mi.IntType | mi.FloatType | mi.DecimalType):
        if (info.ge is None and info.gt is None) or (info.le is None and info.lt is None):
            problems.append(f"{where}: unbounded number")
    elif isinstance(info, mi.StrType):
        problems.extend(_text_problems(info.pattern, where))
    elif isinstance(info, mi.DateTimeType):
        if info.tz is not True:  # compared with aware instants: a 500 (common.Moment)
            problems.append(f"{where}: date-time without its UTC offset")
    elif isinstance(info, mi.AnyType):
        problems.append(f"{where}: Any")


def _text_problems(pattern: str | None, where: str) -> list[str]:
    import re

    if not pattern:
        return [f"{where}: text without a pattern (control characters pass)"]
    found = []
    if re.search(pattern, "\u0000") or re.search(pattern, "\u000b"):
        found.append(f"{where}: pattern lets control characters through")
    if pattern.endswith("$"):
        found.append(f"{where}: pattern ends with $ (a trailing newline passes)")
    return found


async def test_a_time_without_its_utc_offset_is_refused(client, tenant: Tenant) -> None:
    from datetime import timedelta

    from registry import italian

    day = italian.today() - timedelta(days=1)
    entry = {
        "holder_id": str(tenant.holder_id),
        "unit": "hours",
        "quantity": 1,
        "occurred_on": str(day),
        "started_at": f"{day}T10:00:00",
        "ended_at": f"{day}T11:00:00+01:00",
    }
    headers = {**tenant.headers(U), "Idempotency-Key": "naive-time"}
    response = await client.post("/api/contributions", json=entry, headers=headers)
    assert response.status_code == 400, response.text
    assert "started_at" in response.text and "timezone" in response.text
    entry["started_at"] = f"{day}T10:00:00+01:00"
    response = await client.post("/api/contributions", json=entry, headers=headers)
    assert response.status_code == 201, response.text


def test_every_parameter_and_body_field_is_bounded(app) -> None:
    """Integers reached PostgreSQL past their column and NUL reached it in text (500s); a
    date-time without its offset was compared with one that had it (a 500)."""
    import msgspec.inspect as mi
    from litestar.enums import RequestEncodingType
    from litestar.handlers import HTTPRouteHandler
    from litestar.params import BodyKwarg, ParameterKwarg

    problems: list[str] = []
    seen: set[type] = set()
    checked = 0
    for route in app.routes:
        if route.path.startswith("/schema"):
            continue  # Litestar's own OpenAPI pages
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for name, field in handler.parsed_fn_signature.parameters.items():
                where = f"{route.path} {name}"
                kwarg = field.kwarg_definition
                if name == "data":
                    if (
                        isinstance(kwarg, BodyKwarg)
                        and kwarg.media_type == RequestEncodingType.URL_ENCODED
                    ):
                        continue  # the reconfirm form: converted to ReconfirmIn, walked below
                    _walk_body(mi.type_info(field.annotation), where, problems, seen)
                    checked += 1
                    continue
                kinds = [t.annotation for t in field.inner_types] if field.is_union else []
                kinds = kinds or [field.annotation]
                param = kwarg if isinstance(kwarg, ParameterKwarg) else None
                if int in kinds and (
                    param is None
                    or (param.ge is None and param.gt is None)
                    or (param.le is None and param.lt is None)
                ):
                    problems.append(f"{where}: unbounded integer")
                if str in kinds:
                    problems.extend(_text_problems(param.pattern if param else None, where))
                checked += 1
    from registry.freshness.schemas import ReconfirmIn

    _walk_body(mi.type_info(ReconfirmIn), "ReconfirmIn", problems, seen)
    assert checked > 100
    assert problems == [], "\n".join(problems)


async def test_a_consent_time_in_a_spreadsheet_is_italys_wall_clock(client, tenant: Tenant) -> None:
    """A spreadsheet's date and time carry no offset: they are read as Italy's, not refused."""
    sheet = (
        "denominazione,tipo,settore,consenso_data,consenso_dato_da,consenso_versione\n"
        "Associazione Consenso,association,third_sector,2025-07-01T10:30:00,Mario Rossi,v1\n"
    )
    response = await client.post(
        "/api/interop/holders/import",
        files={"file": ("enti.csv", sheet.encode(), "text/csv")},
        headers=tenant.headers(U),
    )
    assert response.status_code == 200, response.text
    found = (await client.get("/api/holders?q=Consenso", headers=tenant.headers(U))).json()
    (holder,) = found["items"]
    assert holder["consent"]["given_at"] == "2025-07-01T08:30:00Z"  # 10:30 in summer, Rome
