"""From beneficiary to contributor (issue 15): the person became a volunteer or joined a
community activity. List, record, remove.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import now as utcnow
from registry.contributions.tables import CommunityActivity
from registry.db import unit_of_work
from registry.errors import InvalidInput, NotFound
from registry.holders.tables import Holder
from registry.italian import today as local_today
from registry.outcomes.rules import _not_future, _read_logged, _writer
from registry.outcomes.schemas import ActivationCreate, ActivationKind, ActivationOut
from registry.outcomes.tables import Activation
from registry.plans.service import plan_row
from registry.users.tables import User

_ACTIVATION_COLUMNS = (
    *Activation.all_columns(),
    Activation.holder.name.as_alias("holder_name"),
    Activation.activity.title.as_alias("activity_title"),
)


def _activation_out(row: dict[str, Any]) -> ActivationOut:
    return ActivationOut(
        id=row["id"],
        plan_id=row["plan"],
        kind=ActivationKind(row["kind"]),
        volunteer_id=row["volunteer"],
        holder_id=row["holder"],
        holder_name=row["holder_name"],
        activity_id=row["activity"],
        activity_title=row["activity_title"],
        consent_on=row["consent_on"],
        started_on=row["started_on"],
        created_at=row["created_at"],
    )


async def _activation_rows(plan_id: uuid.UUID) -> list[dict[str, Any]]:
    return await (
        Activation.select(*_ACTIVATION_COLUMNS)
        .where(Activation.plan == plan_id)
        .order_by(Activation.started_on)
        .order_by(Activation.id)
    )


async def list_activations(actor: Principal, plan_id: uuid.UUID) -> list[ActivationOut]:
    return await _read_logged(
        actor, plan_id, AuditAction.ACTIVATIONS_READ, _activation_rows, _activation_out
    )


async def _check_activation(actor: Principal, data: ActivationCreate) -> None:
    if data.kind is ActivationKind.VOLUNTEER:
        if data.activity_id is not None:
            raise InvalidInput("a volunteer activation names no activity", field="activity_id")
        if data.volunteer_id is None and data.holder_id is None:
            raise InvalidInput(
                "name the volunteer account or the holder the person gives time with",
                field="volunteer_id",
            )
    else:
        if data.activity_id is None:
            raise InvalidInput("name the community activity the person joins", field="activity_id")
        if data.volunteer_id is not None:
            raise InvalidInput("an activity activation names no volunteer", field="volunteer_id")
    if data.volunteer_id is not None:
        user = (
            await User.select(User.role)
            .where((User.id == data.volunteer_id) & (User.ambito == actor.ambito_id))
            .first()
        )
        if user is None or user["role"] != Role.VOLUNTEER.value:
            raise InvalidInput("not a volunteer of this ambito", field="volunteer_id")
    if data.holder_id is not None and not await Holder.exists().where(
        (Holder.id == data.holder_id) & (Holder.ambito == actor.ambito_id)
    ):
        raise InvalidInput("no such holder in this ambito", field="holder_id")
    if data.activity_id is not None and not await CommunityActivity.exists().where(
        (CommunityActivity.id == data.activity_id) & (CommunityActivity.ambito == actor.ambito_id)
    ):
        raise InvalidInput("no such community activity in this ambito", field="activity_id")


async def create_activation(
    actor: Principal, plan_id: uuid.UUID, data: ActivationCreate, *, now: datetime | None = None
) -> ActivationOut:
    """The person became a contributor. Only the plan's side records and reads the link:
    nothing of it is shown to the holder or the volunteer account."""
    plan = await plan_row(actor, plan_id)
    _writer(actor)
    moment = now or utcnow()
    today = local_today(moment)
    _not_future(data.consent_on, today, "consent_on")
    _not_future(data.started_on, today, "started_on")
    if data.started_on < plan["start_date"]:
        raise InvalidInput(
            "a person becomes a contributor after the plan starts", field="started_on"
        )
    await _check_activation(actor, data)
    row = Activation(
        ambito=actor.ambito_id,
        plan=plan_id,
        kind=data.kind.value,
        volunteer=data.volunteer_id,
        holder=data.holder_id,
        activity=data.activity_id,
        consent_on=data.consent_on,
        started_on=data.started_on,
        created_by=actor.user_id,
        created_at=moment,
    )
    async with unit_of_work():
        await row.save()
        await audit.record(actor, AuditAction.ACTIVATION_WRITE, plan_id, detail="create")
    for found in await _activation_rows(plan_id):
        if found["id"] == row.id:
            return _activation_out(found)
    raise NotFound("no such activation")  # pragma: no cover - just written


async def delete_activation(actor: Principal, plan_id: uuid.UUID, activation_id: uuid.UUID) -> None:
    await plan_row(actor, plan_id)
    if not await Activation.exists().where(
        (Activation.id == activation_id) & (Activation.plan == plan_id)
    ):
        raise NotFound("no such activation in this plan")
    _writer(actor)
    async with unit_of_work():
        await Activation.delete().where(Activation.id == activation_id)
        await audit.record(actor, AuditAction.ACTIVATION_WRITE, plan_id, detail="delete")
