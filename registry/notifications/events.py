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
    PING = "webhook.ping"


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD = "dead"


DUE_STATUSES = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)
