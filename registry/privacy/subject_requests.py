"""Data subjects' requests, retention settings and the records a DPO asks for.

Who may do what (checked after the 404 lookup, as everywhere):
- udp_admin: every request of its ambito, received in the app or on paper; retention; the
  register of processing; the access log's export; the execution log.
- social_worker: the erasure of a plan's free text on the person's request, for plans it owns.
- holder_manager: erasing one contact of its own holder, withdrawing its own holder's
  consent (it already edits those contacts; the UdP sees every such request in its list).
- every ambito user, volunteers first: the download of its own data (/me/export).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from registry.access import Principal, Role
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.common import Page, now
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.holders.tables import Holder
from registry.notifications import workflow
from registry.offload import in_worker_process
from registry.plans.service import plan_row
from registry.privacy import erasure, export
from registry.privacy._common import _decoded
from registry.privacy.schemas import (
    Channel,
    DeclineIn,
    RequestIn,
    RequestKind,
    RequestOut,
    RequestStatus,
)
from registry.privacy.tables import PrivacyEvent, PrivacyRequest
from registry.users.tables import User

SUBJECT_KIND = {
    RequestKind.ACCESS: "user",
    RequestKind.ERASURE: "user",
    RequestKind.CONTACT_ERASURE: "holder_contact",
    RequestKind.PLAN_ERASURE: "plan",
    RequestKind.CONSENT_WITHDRAWAL: "holder",
}


def _request_out(row: dict[str, Any]) -> RequestOut:
    return RequestOut(
        id=row["id"],
        kind=RequestKind(row["kind"]),
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        channel=Channel(row["channel"]),
        reference=row["reference"],
        status=row["status"],
        requested_by_role=row["requested_by_role"],
        received_at=row["received_at"],
        executed_at=row["executed_at"],
        outcome=_decoded(row["outcome"]),
    )


async def _check_subject(actor: Principal, data: RequestIn) -> None:
    """The subject exists in the caller's ambito (else 404), then the caller may act on it."""
    kind = data.kind
    if kind in (RequestKind.ACCESS, RequestKind.ERASURE):
        found = (
            await User.select(User.id)
            .where((User.id == data.subject_id) & (User.ambito == actor.ambito_id))
            .first()
        )
        if found is None:
            raise NotFound("no such user")
        actor.require(Role.UDP_ADMIN)
    elif kind in (RequestKind.CONTACT_ERASURE, RequestKind.CONSENT_WITHDRAWAL):
        found = (
            await Holder.select(Holder.id)
            .where((Holder.id == data.subject_id) & (Holder.ambito == actor.ambito_id))
            .first()
        )
        if found is None:
            raise NotFound("no such holder")
        actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
        if not actor.manages_holder(data.subject_id):
            raise PermissionDenied("a holder manager acts only for its own holder")
        if kind is RequestKind.CONTACT_ERASURE and not data.contact.strip():
            raise InvalidInput("name the contact to erase, as stored", field="contact")
    else:
        row = await plan_row(actor, data.subject_id)
        if actor.role is Role.SOCIAL_WORKER and row["owner"] != actor.user_id:
            raise PermissionDenied("only the plan's own social worker or the UdP records this")


async def create_request(actor: Principal, data: RequestIn) -> RequestOut:
    """Record a request and carry it out at once; the record keeps counts, never the data."""
    if actor.role is Role.VOLUNTEER:
        raise PermissionDenied(
            "a volunteer downloads its own data from /api/privacy/me/export and asks for "
            "erasure with POST /api/privacy/me/erasure"
        )
    await _check_subject(actor, data)
    moment = now()
    request = _new_request(
        actor, data.kind, data.subject_id, data.channel, RequestStatus.EXECUTED, moment
    )
    request.reference = data.reference
    async with unit_of_work():
        await _carry_out(actor, request, data.kind, data.subject_id, data.contact, moment)
    return await _request(actor.ambito_id, request.id)


async def _carry_out(
    actor: Principal,
    request: PrivacyRequest,
    kind: RequestKind,
    subject_id: uuid.UUID,
    contact: str,
    moment: datetime,
) -> None:
    """Do what the request asks, save it with its counts and log the execution (inside the
    caller's unit of work: all of it, or nothing)."""
    outcome: dict[str, Any]
    if kind is RequestKind.ACCESS:
        # Handed over by GET /requests/{id}/export, built fresh each time it is read.
        outcome = {"export": 1}
    elif kind is RequestKind.ERASURE:
        outcome = await erasure.erase_volunteer(actor.ambito_id, subject_id)
    elif kind is RequestKind.CONTACT_ERASURE:
        outcome = await erasure.erase_holder_contact(actor.ambito_id, subject_id, contact)
    elif kind is RequestKind.CONSENT_WITHDRAWAL:
        outcome = await erasure.withdraw_consent(actor.ambito_id, subject_id)
    else:
        outcome = await erasure.erase_plan_text(actor.ambito_id, subject_id)
        await audit.record(
            actor,
            AuditAction.PLAN_UPDATE,
            subject_id,
            detail="cancellazione su richiesta dell'interessato",
        )
    request.outcome = json.dumps(outcome)
    await request.save()
    await _log(actor, request, kind.value, outcome, moment)


def _new_request(
    actor: Principal,
    kind: RequestKind,
    subject_id: uuid.UUID,
    channel: Channel,
    status: RequestStatus,
    moment: datetime,
) -> PrivacyRequest:
    """A request received now by `actor`; executed now unless it waits (pending)."""
    return PrivacyRequest(
        ambito=actor.ambito_id,
        kind=kind.value,
        subject_kind=SUBJECT_KIND[kind],
        subject_id=subject_id,
        channel=channel.value,
        reference="",
        status=status.value,
        requested_by=actor.user_id,
        requested_by_role=actor.role.value,
        received_at=moment,
        executed_at=None if status is RequestStatus.PENDING else moment,
        outcome="{}",
    )


async def _log(
    actor: Principal,
    request: PrivacyRequest,
    action: str,
    summary: dict[str, Any],
    moment: datetime,
) -> None:
    """The execution log's row of what was done with a request: counts only."""
    await PrivacyEvent.insert(
        PrivacyEvent(
            ambito=actor.ambito_id,
            request=request.id,
            at=moment,
            action=action,
            actor=actor.user_id,
            summary=json.dumps(summary),
        )
    )


async def _request(ambito_id: uuid.UUID, request_id: uuid.UUID) -> RequestOut:
    row = (
        await PrivacyRequest.select()
        .where((PrivacyRequest.id == request_id) & (PrivacyRequest.ambito == ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such request")
    return _request_out(row)


async def ask_erasure(actor: Principal) -> RequestOut:
    """A volunteer asks, in the app, to be erased: the request waits for the UdP, which
    carries it out (erasure cannot be undone) or declines it with a reason."""
    actor.require(Role.VOLUNTEER)
    async with unit_of_work():
        waiting = await PrivacyRequest.exists().where(
            (PrivacyRequest.subject_id == actor.user_id)
            & (PrivacyRequest.kind == RequestKind.ERASURE.value)
            & (PrivacyRequest.status == RequestStatus.PENDING.value)
        )
        if waiting:
            raise Conflict("your erasure request is already waiting for the Ufficio di Piano")
        request = _new_request(
            actor, RequestKind.ERASURE, actor.user_id, Channel.APP, RequestStatus.PENDING, now()
        )
        await request.save()
        await workflow.privacy_erasure_asked(actor, request_id=request.id)
    return await _request(actor.ambito_id, request.id)


async def my_requests(actor: Principal) -> list[RequestOut]:
    """The requests about the caller, newest first (a volunteer follows its own)."""
    rows = (
        await PrivacyRequest.select()
        .where(
            (PrivacyRequest.ambito == actor.ambito_id)
            & (PrivacyRequest.subject_id == actor.user_id)
        )
        .order_by(PrivacyRequest.received_at, ascending=False)
    )
    return [_request_out(r) for r in rows]


async def _pending(actor: Principal, request_id: uuid.UUID) -> PrivacyRequest:
    actor.require(Role.UDP_ADMIN)
    request = (
        await PrivacyRequest.objects()
        .where((PrivacyRequest.id == request_id) & (PrivacyRequest.ambito == actor.ambito_id))
        .first()
    )
    if request is None:
        raise NotFound("no such request")
    if request.status != RequestStatus.PENDING.value:
        raise Conflict(f"the request is {request.status}, not pending")
    return request


async def execute_request(actor: Principal, request_id: uuid.UUID) -> RequestOut:
    """The UdP carries out a request the subject made in the app."""
    async with unit_of_work():
        request = await _pending(actor, request_id)
        moment = now()
        request.status = RequestStatus.EXECUTED.value
        request.executed_at = moment
        await _carry_out(actor, request, RequestKind(request.kind), request.subject_id, "", moment)
        await workflow.privacy_request_decided(
            actor, request_id=request_id, subject_id=request.subject_id, reason=None
        )
    return await _request(actor.ambito_id, request_id)


async def decline_request(actor: Principal, request_id: uuid.UUID, data: DeclineIn) -> RequestOut:
    """The UdP declines a request, with the reason the subject is told; nothing is erased."""
    async with unit_of_work():
        request = await _pending(actor, request_id)
        moment = now()
        request.status = RequestStatus.DECLINED.value
        request.executed_at = moment
        request.reference = data.reference
        request.outcome = json.dumps({"declined": data.reason.value})
        await request.save()
        await _log(actor, request, "declined", {"reason": data.reason.value}, moment)
        await workflow.privacy_request_decided(
            actor, request_id=request_id, subject_id=request.subject_id, reason=data.reason.value
        )
    return await _request(actor.ambito_id, request_id)


async def list_requests(
    actor: Principal, *, kind: RequestKind | None = None, limit: int = 50, offset: int = 0
) -> Page[RequestOut]:
    actor.require(Role.UDP_ADMIN)
    where = PrivacyRequest.ambito == actor.ambito_id
    if kind:
        where &= PrivacyRequest.kind == kind.value
    rows = (
        await PrivacyRequest.select()
        .where(where)
        .order_by(PrivacyRequest.received_at, ascending=False)
        .order_by(PrivacyRequest.id)
        .limit(limit)
        .offset(offset)
    )
    total = await PrivacyRequest.count().where(where)
    return Page(items=[_request_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def _export(actor: Principal, user_id: uuid.UUID, request_id: uuid.UUID | None) -> dict:
    moment = now()
    data = await export.collect(actor.ambito_id, user_id, moment)
    await PrivacyEvent.insert(
        PrivacyEvent(
            ambito=actor.ambito_id,
            request=request_id,
            at=moment,
            action="access_export",
            actor=actor.user_id,
            summary=json.dumps({k: len(v) for k, v in data.items() if isinstance(v, list)}),
        )
    )
    return data


async def my_export(actor: Principal) -> dict[str, Any]:
    return await _export(actor, actor.user_id, None)


async def request_export(actor: Principal, request_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await PrivacyRequest.select()
        .where((PrivacyRequest.id == request_id) & (PrivacyRequest.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such request")
    actor.require(Role.UDP_ADMIN)
    if row["kind"] != RequestKind.ACCESS.value:
        raise InvalidInput("only an access request has an export", field="request_id")
    return await _export(actor, row["subject_id"], request_id)


async def summary_of(data: dict[str, Any]) -> str:
    return await in_worker_process(export.summary_text, data)
