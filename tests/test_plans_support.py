"""Helpers shared by the plans, matches and audit tests (no tests in here).

Everything goes through the HTTP API except what the API does not offer (a second social
worker, resources shaped for a given test), which is inserted directly.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

import httpx

from registry.access import Role
from registry.resources.tables import AvailabilityWindow, Resource
from registry.users.tables import User
from tests.conftest import _PASSWORD_HASH, Tenant, token_for

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER


async def add_user(tenant: Tenant, role: Role = S, holder_id: uuid.UUID | None = None) -> dict:
    """Another user of the tenant's ambito; returns its id and request headers."""
    user = User(
        username=f"{role.value}-{uuid.uuid4().hex[:12]}",
        password_hash=_PASSWORD_HASH,
        role=role.value,
        ambito=tenant.ambito_id,
        holder=holder_id,
    )
    await user.save()
    return {
        "id": user.id,
        "headers": {"Authorization": f"Bearer {token_for(user.id, role, tenant.code)}"},
    }


def named(body: dict[str, Any]) -> str:
    """Where an error response names the offending field: `field`, or the validation
    errors' keys and messages (msgspec names unknown fields in the message)."""
    if body.get("field"):
        return str(body["field"])
    return " ".join(f"{e.get('key', '')} {e.get('message', '')}" for e in body.get("errors", []))


def plan_body(tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_code": f"ASC-2026-{uuid.uuid4().hex[:4]}7",
        "comune": tenant.comuni[0],
        "target_group": "anziani",
        "goals": ["Uscire di casa due volte a settimana"],
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "notes": "Nota riservata: vive sola, figlia all'estero",
    }
    body.update(overrides)
    return body


def need_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category_code": "trasporto",
        "schedule": [{"weekday": "MO", "start": "09:00", "end": "11:00"}],
        "quantity": 120,
        "unit": "minutes_per_week",
        "languages": ["it"],
        "priority": 3,
    }
    body.update(overrides)
    return body


async def create_plan(
    client: httpx.AsyncClient,
    tenant: Tenant,
    headers: dict[str, str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/api/plans", json=plan_body(tenant, **overrides), headers=headers or tenant.headers(S)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def create_need(
    client: httpx.AsyncClient,
    tenant: Tenant,
    plan_id: str,
    headers: dict[str, str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    response = await client.post(
        f"/api/plans/{plan_id}/needs",
        json=need_body(**overrides),
        headers=headers or tenant.headers(S),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def propose(
    client: httpx.AsyncClient,
    tenant: Tenant,
    need_id: str,
    resource_id: uuid.UUID | str,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/api/matches",
        json={"need_id": need_id, "resource_id": str(resource_id)},
        headers=headers or tenant.headers(S),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def add_resource(
    tenant: Tenant,
    *,
    holder_id: uuid.UUID | None = None,
    title: str = "Risorsa di prova",
    category: str = "trasporto",
    capacity: int = 1,
    comuni: list[str] | None = None,
    languages: list[str] | None = None,
    requirements: list[str] | None = None,
    status: str = "active",
    valid_until: date | None = None,
    windows: list[tuple[list[str], int, int]] = (),  # type: ignore[assignment]
    target_groups: list[str] | None = None,
    confirmed_at: datetime | None = None,
) -> uuid.UUID:
    resource = Resource(
        ambito=tenant.ambito_id,
        holder=holder_id or tenant.holder_id,
        title=title,
        category_code=category,
        unit="hours",
        capacity=capacity,
        comuni=comuni if comuni is not None else tenant.comuni[:1],
        target_groups=target_groups if target_groups is not None else ["anziani"],
        languages=languages if languages is not None else ["it"],
        requirements=requirements or [],
        status=status,
        valid_until=valid_until,
    )
    if confirmed_at is not None:
        resource.confirmed_at = confirmed_at
    await resource.save()
    for by_day, start, end in windows:
        await AvailabilityWindow(
            resource=resource.id,
            freq="WEEKLY",
            by_day=by_day,
            start_time=time(start),
            end_time=time(end),
            valid_from=date(2026, 1, 5),
            exceptions=[],
            capacity=1,
        ).save()
    return resource.id
