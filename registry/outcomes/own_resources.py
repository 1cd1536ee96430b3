"""What the person and the family bring to the plan (issue 15): list, add, change,
remove.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from registry.access import Principal
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import now as utcnow
from registry.common import set_fields
from registry.db import unit_of_work
from registry.errors import InvalidInput, NotFound
from registry.outcomes.records import _own_rows
from registry.outcomes.rules import _open, _plan_to_write, _read_logged, _save_patch, _writer
from registry.outcomes.schemas import (
    OwnResourceCreate,
    OwnResourceKind,
    OwnResourceOut,
    OwnResourcePatch,
    OwnResourceSource,
)
from registry.outcomes.tables import OwnResource
from registry.plans.service import plan_row


def _own_out(row: dict[str, Any]) -> OwnResourceOut:
    return OwnResourceOut(
        id=row["id"],
        plan_id=row["plan"],
        kind=OwnResourceKind(row["kind"]),
        source=OwnResourceSource(row["source"]),
        description=row["description"],
        minutes_per_week=row["minutes_per_week"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def list_own_resources(actor: Principal, plan_id: uuid.UUID) -> list[OwnResourceOut]:
    return await _read_logged(actor, plan_id, AuditAction.OWN_RESOURCES_READ, _own_rows, _own_out)


def _check_dates(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise InvalidInput("end_date must not be before start_date", field="end_date")


async def create_own_resource(
    actor: Principal, plan_id: uuid.UUID, data: OwnResourceCreate, *, now: datetime | None = None
) -> OwnResourceOut:
    await _plan_to_write(actor, plan_id)
    _check_dates(data.start_date, data.end_date)
    moment = now or utcnow()
    row = OwnResource(
        ambito=actor.ambito_id,
        plan=plan_id,
        kind=data.kind.value,
        source=data.source.value,
        description=data.description,
        minutes_per_week=data.minutes_per_week,
        start_date=data.start_date,
        end_date=data.end_date,
        created_at=moment,
        updated_at=moment,
    )
    async with unit_of_work():
        await row.save()
        await audit.record(actor, AuditAction.OWN_RESOURCE_WRITE, plan_id, detail="create")
    return await _own(plan_id, row.id)


async def _own(plan_id: uuid.UUID, resource_id: uuid.UUID) -> OwnResourceOut:
    row = (
        await OwnResource.select()
        .where((OwnResource.id == resource_id) & (OwnResource.plan == plan_id))
        .first()
    )
    if row is None:
        raise NotFound("no such resource of the person in this plan")
    return _own_out(row)


async def update_own_resource(
    actor: Principal,
    plan_id: uuid.UUID,
    resource_id: uuid.UUID,
    patch: OwnResourcePatch,
    *,
    now: datetime | None = None,
) -> OwnResourceOut:
    plan = await plan_row(actor, plan_id)
    current = await _own(plan_id, resource_id)
    _writer(actor)
    _open(plan)
    values = set_fields(patch)
    _check_dates(
        values.get("start_date", current.start_date), values.get("end_date", current.end_date)
    )
    for key in ("kind", "source"):
        if key in values:
            values[key] = values[key].value
    await _save_patch(
        actor, plan_id, OwnResource, resource_id, values, AuditAction.OWN_RESOURCE_WRITE, now
    )
    return await _own(plan_id, resource_id)


async def delete_own_resource(actor: Principal, plan_id: uuid.UUID, resource_id: uuid.UUID) -> None:
    plan = await plan_row(actor, plan_id)
    await _own(plan_id, resource_id)
    _writer(actor)
    _open(plan)
    async with unit_of_work():
        await OwnResource.delete().where(OwnResource.id == resource_id)
        await audit.record(actor, AuditAction.OWN_RESOURCE_WRITE, plan_id, detail="delete")
