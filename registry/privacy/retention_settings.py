"""Retention, as the UdP sets it: the periods of its ambito and a run on demand (the nightly
job is registry/privacy/retention.py's apply_retention, run by the scheduler)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.common import now
from registry.db import unit_of_work
from registry.errors import InvalidInput
from registry.privacy import retention
from registry.privacy.schemas import RetentionOut
from registry.privacy.tables import RetentionSetting


async def retention_settings(actor: Principal) -> list[RetentionOut]:
    actor.require(Role.UDP_ADMIN)
    days = await retention.periods(actor.ambito_id)
    return [
        RetentionOut(
            kind=k.code, label=k.label, action=k.action, days=days[k.code], default_days=k.days
        )
        for k in retention.KINDS.values()
    ]


async def set_retention(actor: Principal, kind: str, days: int) -> list[RetentionOut]:
    actor.require(Role.UDP_ADMIN)
    if kind not in retention.KINDS:
        known = ", ".join(retention.KINDS)
        raise InvalidInput(f"unknown kind of record; one of: {known}", field="kind")
    async with unit_of_work():
        await RetentionSetting.delete().where(
            (RetentionSetting.ambito == actor.ambito_id) & (RetentionSetting.kind == kind)
        )
        await RetentionSetting.insert(
            RetentionSetting(
                ambito=actor.ambito_id,
                kind=kind,
                days=days,
                updated_by=actor.user_id,
                updated_at=now(),
            )
        )
    return await retention_settings(actor)


async def run_retention(actor: Principal, moment: datetime | None = None) -> dict[str, Any]:
    actor.require(Role.UDP_ADMIN)
    return await retention.apply_retention(
        moment or now(), [actor.ambito_id], actor_id=actor.user_id
    )
