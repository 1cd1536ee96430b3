"""Who is asking: the authenticated principal, its role, and the checks every service uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from registry.errors import PermissionDenied


class Role(StrEnum):
    UDP_ADMIN = "udp_admin"
    SOCIAL_WORKER = "social_worker"
    HOLDER_MANAGER = "holder_manager"
    VOLUNTEER = "volunteer"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    username: str
    role: Role
    ambito_id: uuid.UUID
    holder_id: uuid.UUID | None = None

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise PermissionDenied(f"this action needs one of the roles: {allowed}")

    def manages_holder(self, holder_id: uuid.UUID) -> bool:
        return self.role is Role.UDP_ADMIN or (
            self.role is Role.HOLDER_MANAGER and self.holder_id == holder_id
        )


class PlatformRole(StrEnum):
    """Roles of the installation, not of an ambito: kept apart from `Role` so that no
    ambito-scoped check can ever be satisfied by them."""

    PLATFORM_ADMIN = "platform_admin"


@dataclass(frozen=True, slots=True)
class PlatformPrincipal:
    """A platform administrator: creates and deactivates ambiti and their first UdP account;
    no ambito, so no access to any ambito's records (the `actor` dependency refuses it)."""

    user_id: uuid.UUID
    username: str
    role: PlatformRole = PlatformRole.PLATFORM_ADMIN


OBSERVER_ROLE = "regional_observer"


@dataclass(frozen=True, slots=True)
class ObserverPrincipal:
    """A Region or its observatory (issue 13): reads the published figures of the ambiti of
    one region (ISTAT region code) side by side; no ambito, so no ambito endpoint."""

    user_id: uuid.UUID
    username: str
    region: str
    role: str = OBSERVER_ROLE


PLATFORM_PATH = "/api/platform/"
REGION_PATH = "/api/region/"


def check_area(principal: Principal | PlatformPrincipal | ObserverPrincipal, path: str) -> None:
    """Platform admins use only /api/platform/, regional observers only /api/region/, ambito
    users neither: checked for every request before any parameter is read, so the answer is
    403 whatever the request carries."""
    on_platform = path.startswith(PLATFORM_PATH)
    on_region = path.startswith(REGION_PATH)
    if isinstance(principal, ObserverPrincipal):
        if not on_region:
            raise PermissionDenied("a regional observer reads only the /api/region/ endpoints")
        return
    if on_region:
        raise PermissionDenied("this endpoint is for regional observers")
    if isinstance(principal, PlatformPrincipal) and not on_platform:
        raise PermissionDenied("a platform administrator has no access to an ambito's records")
    if isinstance(principal, Principal) and on_platform:
        raise PermissionDenied("this endpoint is for platform administrators")
