"""Personalised plans and their needs: pseudonymisation, visibility, audit of every read.

Visibility: the UdP sees every plan of its ambito; a social worker sees (and edits) the
plans it owns and those the UdP shared with it; holder managers and volunteers never see
a plan. A plan a social worker may not see answers 404, as if it did not exist: even the
existence of someone's case is personal data.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec

from registry.access import Principal, Role
from registry.ambiti.service import check_comuni
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import Page, now, set_fields
from registry.db import array_contains, is_sqlite, unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.notifications import workflow as notify
from registry.outcomes.tables import PlanClosure
from registry.plans.pseudonym import check_case_code
from registry.plans.schemas import (
    NeedCreate,
    NeedOut,
    NeedPatch,
    NeedStatus,
    NeedUnit,
    PlanCreate,
    PlanOut,
    PlanPatch,
    PlanStatus,
    PlanSummary,
    SharingIn,
    TimeWindow,
)
from registry.plans.tables import Need, Plan
from registry.taxonomy import service as taxonomy
from registry.users.tables import User
from registry.vocabularies import UserArea

PLAN_ROLES = (Role.UDP_ADMIN, Role.SOCIAL_WORKER)
_PLAN_COLUMNS = (*Plan.all_columns(), Plan.owner.username.as_alias("owner_username"))


def require_plan_role(actor: Principal) -> None:
    """Holder managers and volunteers never see plans: refused before any lookup, so a
    plan id cannot even be probed (the same 403 whether the plan exists or not)."""
    actor.require(*PLAN_ROLES)


def can_see(actor: Principal, plan: dict[str, Any]) -> bool:
    if actor.role is Role.UDP_ADMIN:
        return plan["ambito"] == actor.ambito_id
    if actor.role is Role.SOCIAL_WORKER:
        return plan["owner"] == actor.user_id or str(actor.user_id) in (plan["shared_with"] or [])
    return False


def visible_where(actor: Principal) -> Any:
    """The WHERE clause of the plans `actor` may see (used by lists and by matching)."""
    where = Plan.ambito == actor.ambito_id
    if actor.role is not Role.UDP_ADMIN:
        where &= (Plan.owner == actor.user_id) | array_contains(
            Plan.shared_with, str(actor.user_id)
        )
    return where


async def plan_row(actor: Principal, plan_id: uuid.UUID, *, audit_denied: bool = True) -> dict:
    require_plan_role(actor)
    row = (
        await Plan.select(*_PLAN_COLUMNS)
        .where((Plan.id == plan_id) & (Plan.ambito == actor.ambito_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("no such plan")
    if not can_see(actor, row):
        if audit_denied:
            await audit.record(actor, AuditAction.PLAN_DENIED, plan_id)
        raise NotFound("no such plan")
    return row


def _plan_out(row: dict[str, Any]) -> PlanOut:
    return PlanOut(
        id=row["id"],
        ambito_id=row["ambito"],
        owner_id=row["owner"],
        owner_username=row["owner_username"],
        shared_with=[uuid.UUID(u) for u in row["shared_with"] or []],
        case_code=row["case_code"],
        comune=row["comune"],
        target_group=UserArea(row["target_group"]),
        goals=list(row["goals"] or []),
        start_date=row["start_date"],
        end_date=row["end_date"],
        status=PlanStatus(row["status"]),
        notes=row["notes"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _summary(row: dict[str, Any]) -> PlanSummary:
    return PlanSummary(
        id=row["id"],
        owner_id=row["owner"],
        owner_username=row["owner_username"],
        case_code=row["case_code"],
        comune=row["comune"],
        target_group=UserArea(row["target_group"]),
        start_date=row["start_date"],
        end_date=row["end_date"],
        status=PlanStatus(row["status"]),
        updated_at=row["updated_at"],
    )


async def _social_worker(actor: Principal, user_id: uuid.UUID, field: str) -> None:
    row = (
        await User.select(User.role, User.active)
        .where((User.id == user_id) & (User.ambito == actor.ambito_id))
        .first()
    )
    if row is None or row["role"] != Role.SOCIAL_WORKER.value or not row["active"]:
        raise InvalidInput(f"{user_id} is not an active social worker of this ambito", field=field)


def _check_period(start: date | None, end: date | None, field: str = "end_date") -> None:
    if start and end and end < start:
        raise InvalidInput("end_date must not be before start_date", field=field)


async def _plan_values(actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "case_code" in out:
        out["case_code"] = check_case_code(out["case_code"])
    if "comune" in out:
        # The error names `comune` itself, not an array item.
        try:
            await check_comuni(actor.ambito_id, [out["comune"]], "comune")
        except InvalidInput as error:
            raise InvalidInput(error.message, field="comune") from error
    for key in ("target_group", "status"):
        if key in out:
            out[key] = out[key].value
    if "owner_id" in out:
        owner_id = out.pop("owner_id")
        if owner_id is not None:
            await _social_worker(actor, owner_id, "owner_id")
            out["owner"] = owner_id
    return out


async def get_plan(actor: Principal, plan_id: uuid.UUID) -> PlanOut:
    row = await plan_row(actor, plan_id)
    await audit.record(actor, AuditAction.PLAN_READ, plan_id)
    return _plan_out(row)


async def list_plans(
    actor: Principal,
    *,
    status: PlanStatus | None = None,
    comune: str | None = None,
    owner_id: uuid.UUID | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[PlanSummary]:
    require_plan_role(actor)
    where = visible_where(actor)
    if status:
        where &= Plan.status == status.value
    if comune:
        where &= Plan.comune == comune
    if owner_id:
        where &= Plan.owner == owner_id
    if q:
        # SQLite's LIKE already ignores ASCII case (and Piccolo warns on ILIKE there).
        pattern = f"{q}%"
        where &= Plan.case_code.like(pattern) if is_sqlite() else Plan.case_code.ilike(pattern)
    rows = (
        await Plan.select(*_PLAN_COLUMNS)
        .where(where)
        .order_by(Plan.updated_at, ascending=False)
        .order_by(Plan.id)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    total = await Plan.count().where(where)
    await audit.record(actor, AuditAction.PLAN_LIST, detail=f"{len(rows)} of {total} plans")
    return Page(items=[_summary(r) for r in rows], total=total, limit=limit, offset=offset)


async def create_plan(actor: Principal, data: PlanCreate) -> PlanOut:
    require_plan_role(actor)
    if actor.role is Role.SOCIAL_WORKER and data.owner_id not in (None, actor.user_id):
        raise PermissionDenied("only the UdP creates a plan on behalf of another social worker")
    if actor.role is Role.UDP_ADMIN and data.owner_id is None:
        raise InvalidInput("the UdP names the social worker who owns the plan", field="owner_id")
    values = await _plan_values(actor, set_fields(data))
    values.setdefault("owner", actor.user_id)
    _check_period(values["start_date"], values.get("end_date"))
    moment = now()
    plan = Plan(
        **values, ambito=actor.ambito_id, shared_with=[], created_at=moment, updated_at=moment
    )
    async with unit_of_work():
        await plan.save()
        await audit.record(actor, AuditAction.PLAN_CREATE, plan.id)
    return _plan_out(await plan_row(actor, plan.id))


async def _check_status_change(plan_id: uuid.UUID, current: str, target: str | None) -> None:
    """A plan closes only through its closure (a reason and the goals' final levels, which
    the outcome figures count; its matches end with it), and a plan closed that way reopens
    only by undoing the closure. A plan closed before closures existed may still reopen."""
    closed = PlanStatus.CLOSED.value
    if target is None or target == current:
        return
    if target == closed:
        raise InvalidInput(
            "a plan is closed with its closure (POST /api/plans/{plan_id}/closure, with a "
            "reason and the goals' final levels), not by changing its status",
            field="status",
        )
    if current == closed and await PlanClosure.exists().where(PlanClosure.plan == plan_id):
        raise InvalidInput(
            "the plan was closed with a closure: reopen it by undoing the closure "
            "(DELETE /api/plans/{plan_id}/closure)",
            field="status",
        )


async def update_plan(actor: Principal, plan_id: uuid.UUID, patch: PlanPatch) -> PlanOut:
    current = await plan_row(actor, plan_id)
    if patch.owner_id is not msgspec.UNSET and actor.role is not Role.UDP_ADMIN:
        raise PermissionDenied("only the UdP hands a plan over to another social worker")
    values = await _plan_values(actor, set_fields(patch))
    await _check_status_change(plan_id, current["status"], values.get("status"))
    _check_period(
        values.get("start_date", current["start_date"]), values.get("end_date", current["end_date"])
    )
    if values:
        values["updated_at"] = now()
        async with unit_of_work():
            await Plan.update(values).where(Plan.id == plan_id)
            changed = ", ".join(sorted(k for k in values if k != "updated_at"))
            await audit.record(actor, AuditAction.PLAN_UPDATE, plan_id, detail=changed)
    return _plan_out(await plan_row(actor, plan_id))


async def share_plan(actor: Principal, plan_id: uuid.UUID, data: SharingIn) -> PlanOut:
    current = await plan_row(actor, plan_id)
    actor.require(Role.UDP_ADMIN)
    users: list[str] = []
    for index, user_id in enumerate(data.shared_with):
        await _social_worker(actor, user_id, f"shared_with[{index}]")
        if user_id == current["owner"]:
            raise InvalidInput("the owner already sees the plan", field=f"shared_with[{index}]")
        if str(user_id) not in users:
            users.append(str(user_id))
    async with unit_of_work():
        await Plan.update({Plan.shared_with: users, Plan.updated_at: now()}).where(
            Plan.id == plan_id
        )
        await audit.record(
            actor, AuditAction.PLAN_SHARE, plan_id, detail=f"shared with {len(users)} users"
        )
        before = set(current["shared_with"] or [])
        await notify.plan_shared(actor, current, [uuid.UUID(u) for u in users if u not in before])
    return _plan_out(await plan_row(actor, plan_id))


# --- needs ---------------------------------------------------------------------------------


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def check_schedule(schedule: list[TimeWindow]) -> None:
    for index, window in enumerate(schedule):
        if _minutes(window.end) <= _minutes(window.start):
            raise InvalidInput(
                "end must be after start (a window never crosses midnight)",
                field=f"schedule[{index}].end",
            )


def _need_out(row: dict[str, Any]) -> NeedOut:
    return NeedOut(
        id=row["id"],
        plan_id=row["plan"],
        category_code=row["category_code"],
        schedule=msgspec.convert(row["schedule"] or [], list[TimeWindow]),
        quantity=row["quantity"],
        unit=NeedUnit(row["unit"]),
        start_date=row["start_date"],
        end_date=row["end_date"],
        languages=row["languages"] or [],
        requirements=row["requirements"] or [],
        comune=row["comune"],
        target_group=UserArea(row["target_group"]) if row["target_group"] else None,
        max_distance_km=row["max_distance_km"],
        priority=row["priority"],
        status=NeedStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _need_values(
    actor: Principal, plan: dict[str, Any], values: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    out = dict(values)
    if "category_code" in out:
        await taxonomy.require_leaf_or_term(out["category_code"])
    if "schedule" in out:
        check_schedule(out["schedule"])
        out["schedule"] = msgspec.to_builtins(out["schedule"])
    if out.get("comune"):
        try:
            await check_comuni(actor.ambito_id, [out["comune"]], "comune")
        except InvalidInput as error:
            raise InvalidInput(error.message, field="comune") from error
    if out.get("status") is NeedStatus.MATCHED:
        raise InvalidInput(
            "status 'matched' is set by the registry when a match becomes active", field="status"
        )
    for key in ("unit", "status", "target_group"):
        if out.get(key) is not None:
            out[key] = out[key].value
    start = out.get("start_date", current.get("start_date"))
    end = out.get("end_date", current.get("end_date"))
    _check_period(start, end)
    if start and start < plan["start_date"]:
        raise InvalidInput("the need cannot start before its plan", field="start_date")
    if plan["end_date"] and end and end > plan["end_date"]:
        raise InvalidInput("the need cannot end after its plan", field="end_date")
    return out


async def need_row(actor: Principal, plan_id: uuid.UUID, need_id: uuid.UUID) -> dict[str, Any]:
    """The need, once the caller has been allowed to see its plan (the caller checks)."""
    row = (
        await Need.select()
        .where((Need.id == need_id) & (Need.plan == plan_id) & (Need.ambito == actor.ambito_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("no such need in this plan")
    return row


async def list_needs(
    actor: Principal, plan_id: uuid.UUID, *, status: NeedStatus | None = None
) -> list[NeedOut]:
    await plan_row(actor, plan_id)
    where = (Need.plan == plan_id) & (Need.ambito == actor.ambito_id)
    if status:
        where &= Need.status == status.value
    rows = (
        await Need.select()
        .where(where)
        .order_by(Need.priority, ascending=False)
        .order_by(Need.created_at)
        .order_by(Need.id)
        .output(load_json=True)
    )
    await audit.record(actor, AuditAction.NEEDS_READ, plan_id)
    return [_need_out(r) for r in rows]


async def get_need(actor: Principal, plan_id: uuid.UUID, need_id: uuid.UUID) -> NeedOut:
    await plan_row(actor, plan_id)
    row = await need_row(actor, plan_id, need_id)
    await audit.record(actor, AuditAction.NEED_READ, plan_id, need_id=need_id)
    return _need_out(row)


def _writable(plan: dict[str, Any]) -> None:
    if plan["status"] == PlanStatus.CLOSED:
        raise Conflict("the plan is closed: reopen it (undo its closure) to change its needs")


async def create_need(actor: Principal, plan_id: uuid.UUID, data: NeedCreate) -> NeedOut:
    plan = await plan_row(actor, plan_id)
    _writable(plan)
    values = await _need_values(actor, plan, set_fields(data), {})
    moment = now()
    need = Need(
        **values, ambito=actor.ambito_id, plan=plan_id, created_at=moment, updated_at=moment
    )
    async with unit_of_work():
        await need.save()
        await audit.record(actor, AuditAction.NEED_CREATE, plan_id, need_id=need.id)
    return _need_out(await need_row(actor, plan_id, need.id))


async def update_need(
    actor: Principal, plan_id: uuid.UUID, need_id: uuid.UUID, patch: NeedPatch
) -> NeedOut:
    plan = await plan_row(actor, plan_id)
    current = await need_row(actor, plan_id, need_id)
    _writable(plan)
    values = await _need_values(actor, plan, set_fields(patch), current)
    if values:
        values["updated_at"] = now()
        async with unit_of_work():
            await Need.update(values).where(Need.id == need_id)
            changed = ", ".join(sorted(k for k in values if k != "updated_at"))
            await audit.record(
                actor, AuditAction.NEED_UPDATE, plan_id, need_id=need_id, detail=changed
            )
    return _need_out(await need_row(actor, plan_id, need_id))
