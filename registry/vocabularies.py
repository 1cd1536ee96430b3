"""Controlled vocabularies of the domain (DESIGN.md "Domain"): one definition, used by the
schemas, the validation and the UI labels."""

from __future__ import annotations

from enum import StrEnum


class HolderKind(StrEnum):
    ASSOCIATION = "association"  # associazione / ETS
    SOCIAL_COOPERATIVE = "social_cooperative"
    INFORMAL_NETWORK = "informal_network"
    INDIVIDUAL_VOLUNTEER = "individual_volunteer"
    PARISH = "parish"
    SCHOOL = "school"
    COMPANY = "company"
    PUBLIC_OFFICE = "public_office"
    OTHER = "other"


class Sector(StrEnum):
    PUBLIC = "public"
    THIRD_SECTOR = "third_sector"
    INFORMAL = "informal"
    BUSINESS = "business"


class UserArea(StrEnum):
    """ISTAT user areas of social services."""

    FAMILIES_MINORS = "famiglie-minori"
    DISABILITY = "disabili"
    ADDICTION = "dipendenze"
    ELDERLY = "anziani"
    IMMIGRANTS = "immigrati"
    POVERTY = "poverta-disagio-adulti"
    MULTI_USER = "multiutenza"


class ResourceUnit(StrEnum):
    HOURS = "hours"
    PLACES = "places"
    ITEMS = "items"
    ROOM_HOURS = "room_hours"
    TRIPS = "trips"
    MEALS = "meals"


class ResourceStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    STALE = "stale"  # not reconfirmed for too long: kept, but out of suggestions
    EXPIRED = "expired"
    ARCHIVED = "archived"


class Frequency(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


# Natural persons' data needs a consent record (GDPR art. 6-7).
KINDS_NEEDING_CONSENT = frozenset({HolderKind.INDIVIDUAL_VOLUNTEER, HolderKind.INFORMAL_NETWORK})

SECTOR_OF_KIND: dict[HolderKind, frozenset[Sector]] = {
    HolderKind.ASSOCIATION: frozenset({Sector.THIRD_SECTOR}),
    HolderKind.SOCIAL_COOPERATIVE: frozenset({Sector.THIRD_SECTOR}),
    HolderKind.INFORMAL_NETWORK: frozenset({Sector.INFORMAL}),
    HolderKind.INDIVIDUAL_VOLUNTEER: frozenset({Sector.INFORMAL}),
    HolderKind.PARISH: frozenset({Sector.THIRD_SECTOR, Sector.INFORMAL}),
    HolderKind.SCHOOL: frozenset({Sector.PUBLIC, Sector.THIRD_SECTOR}),
    HolderKind.COMPANY: frozenset({Sector.BUSINESS}),
    HolderKind.PUBLIC_OFFICE: frozenset({Sector.PUBLIC}),
    HolderKind.OTHER: frozenset(Sector),
}
