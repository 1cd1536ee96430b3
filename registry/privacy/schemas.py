from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import msgspec

from registry.text import Line


class RequestKind(StrEnum):
    ACCESS = "access"  # art. 15 and 20: the subject's data handed over
    ERASURE = "erasure"  # art. 17: a volunteer's account and personal data
    CONTACT_ERASURE = "contact_erasure"  # art. 17: one contact of a holder
    PLAN_ERASURE = "plan_erasure"  # art. 17: a plan's free text, the person asked
    CONSENT_WITHDRAWAL = "consent_withdrawal"  # art. 7(3)


class Channel(StrEnum):
    APP = "app"
    PAPER = "paper"  # received on paper, by e-mail or at the desk, entered by the UdP


class RequestIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: RequestKind
    # A user (access, erasure), a holder (contact_erasure, consent_withdrawal) or a plan.
    subject_id: uuid.UUID
    # contact_erasure only: the contact's value as stored (an e-mail, a phone, a name).
    contact: Annotated[Line, msgspec.Meta(max_length=200)] = ""
    channel: Channel = Channel.PAPER
    # The UdP's protocol number or reference: never the person's name.
    reference: Annotated[Line, msgspec.Meta(max_length=100)] = ""


class RequestStatus(StrEnum):
    PENDING = "pending"  # asked by the subject in the app: the UdP carries it out or declines
    EXECUTED = "executed"
    DECLINED = "declined"


class DeclineReason(StrEnum):
    """Why the UdP does not carry out a request (art. 12(4): the subject is told why)."""

    IDENTITY_NOT_VERIFIED = "identity_not_verified"
    LEGAL_OBLIGATION = "legal_obligation"  # e.g. records the ambito must keep (art. 17(3)(b))
    WITHDRAWN_BY_SUBJECT = "withdrawn_by_subject"


class DeclineIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: DeclineReason
    # The UdP's protocol number of its answer: never the person's name.
    reference: Annotated[Line, msgspec.Meta(max_length=100)] = ""


class RequestOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: RequestKind
    subject_kind: str
    subject_id: uuid.UUID
    channel: Channel
    reference: str
    status: str
    requested_by_role: str
    received_at: datetime
    executed_at: datetime | None
    outcome: dict[str, Any]


class RetentionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    days: Annotated[int, msgspec.Meta(ge=1, le=36500)]


class RetentionOut(msgspec.Struct, kw_only=True):
    kind: str
    label: str
    action: str
    days: int
    default_days: int


class EventOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    at: datetime
    action: str
    request_id: uuid.UUID | None
    by_job: bool
    summary: dict[str, Any]


class ProcessingActivity(msgspec.Struct, kw_only=True):
    """One line of the register of processing activities (GDPR art. 30), in Italian."""

    name: str
    purpose: str
    legal_basis: str
    data_subjects: str
    data_categories: str
    retention: str
    recipients: str
    transfers: str = "Nessun trasferimento fuori dall'Unione europea"
    measures: str = "Vedi docs/privacy-measures.md"


class RegisterOut(msgspec.Struct, kw_only=True):
    controller: str
    ambito_code: str
    generated_at: datetime
    activities: list[ProcessingActivity]
