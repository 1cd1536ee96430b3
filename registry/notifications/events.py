"""The events the registry announces, and the delivery vocabularies.

Kept here rather than in registry/vocabularies.py because only notifications use them.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    RECONFIRMATION_REQUESTED = "resource.reconfirmation_requested"
    RESOURCE_STALE = "resource.stale"
    RESOURCE_EXPIRED = "resource.expired"
    RESOURCE_RECONFIRMED = "resource.reconfirmed"
    AVAILABILITY_EXPIRED = "availability.expired"
    NEW_CANDIDATES = "need.new_candidates"
    # The daily workflow: each one reaches whoever the next step waits on.
    MATCH_PROPOSED = "match.proposed"
    MATCH_ACCEPTED = "match.accepted"
    MATCH_DECLINED = "match.declined"
    MATCH_CONFIRMED = "match.confirmed"
    MATCH_COMPLETED = "match.completed"
    MATCH_WITHDRAWN = "match.withdrawn"
    CONTRIBUTION_REPORTED = "contribution.reported"
    CONTRIBUTION_CONFIRMED = "contribution.confirmed"
    PLAN_SHARED = "plan.shared"
    REVIEW_OVERDUE = "plan.review_overdue"  # issue 15: a plan's review is past due
    CHECKIN_CODE_REVOKED = "checkin.code_revoked"
    PATTO_REPORT_DUE = "patto.report_due"  # issue 16: a patto's periodic report is due
    # issue 16: an organisation's application to a co-programming procedure was decided; the
    # minutes of a session it took part in were approved
    COPROG_APPLICATION_DECIDED = "coprogramming.application_decided"
    COPROG_MINUTES_APPROVED = "coprogramming.minutes_approved"
    # issue 19: a volunteer asked in the app to be erased (to the UdP); the UdP declined it
    PRIVACY_REQUEST_RECEIVED = "privacy.request_received"
    PRIVACY_REQUEST_DECLINED = "privacy.request_declined"
    PING = "webhook.ping"


# What a user may choose to receive by e-mail: every event that lands in someone's
# notifications (the webhook test is for endpoints, never for people).
USER_EVENTS = tuple(e for e in EventType if e is not EventType.PING)


class EmailDue(StrEnum):
    """Whether an in-app notification still owes its recipient an e-mail, and how."""

    NONE = ""  # not wanted, or already sent
    NOW = "now"  # one e-mail, at the dispatcher's next run
    DIGEST = "digest"  # in the next daily digest


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD = "dead"


DUE_STATUSES = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)
