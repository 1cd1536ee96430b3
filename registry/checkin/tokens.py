"""QR check-in tokens: signed codes for an activity or a match, what they say and for what.

A code is a token signed with the registry's one signer (registry/security.py) for the
audience "checkin". Its claims: the target (`sub` = "activity:<id>" or "match:<id>"), the
ambito (`amb`), the holder whose volunteers check in (`hld`), optionally the resource
(`res`), the validity window (`nbf`, `exp`) and the id of the stored code (`cid`). The QR
encodes the phone page's URL with the token: `<public base>/checkin/?t=<token>`.

Tokens issued before codes were stored have no `cid`; they stay valid until they expire
(at most 366 days) and cannot be revoked, since no row describes them. Expired, tampered and
foreign-ambito tokens are refused with an Italian and English message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jose import jwt

from registry.access import Principal
from registry.checkin.qr import local
from registry.checkin.schemas import CodeInfo, TargetKind
from registry.checkin.tables import CheckInCode
from registry.common import now
from registry.config import Settings
from registry.contributions.tables import CommunityActivity
from registry.errors import InvalidInput, PermissionDenied
from registry.holders.tables import Holder
from registry.resources.tables import Resource
from registry.security import TokenError, verify

AUDIENCE = "checkin"

# The check-in clock, imported by codes.py and presences.py: tests replace it in both to
# check out "later".
clock: Callable[[], datetime] = now


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claims:
    token_id: str
    code_id: uuid.UUID | None  # the stored code; None for a token issued before codes were kept
    target: TargetKind
    target_id: uuid.UUID
    ambito_id: uuid.UUID
    holder_id: uuid.UUID
    resource_id: uuid.UUID | None
    valid_from: datetime
    valid_until: datetime


def _instant(value: Any) -> str:
    try:
        return local(datetime.fromtimestamp(int(value), UTC))
    except (TypeError, ValueError, OverflowError):
        return "?"


def read_token(settings: Settings, token: str, *, before_start: bool = False) -> Claims:
    """The claims of a valid check-in token; InvalidInput (field "token") otherwise.
    `before_start`: a code whose window has not opened yet is accepted too (for printing)."""
    try:
        claims = verify(settings.secret_key, AUDIENCE, token, before_start=before_start)
    except TokenError as error:
        reason = str(error).lower()
        # The signature is checked before the dates: an "expired" token is a genuine one.
        unverified = _unverified(token)
        if "expired" in reason:
            when = _instant(unverified.get("exp"))
            raise InvalidInput(
                f"Codice QR scaduto il {when}: chiedine uno nuovo al referente. / "
                f"This QR code expired on {when}: ask the organiser for a new one.",
                field="token",
            ) from error
        if "not yet valid" in reason:
            when = _instant(unverified.get("nbf"))
            raise InvalidInput(
                f"Codice QR non ancora valido: vale dal {when}. / "
                f"This QR code is not valid before {when}.",
                field="token",
            ) from error
        raise InvalidInput(
            "Codice QR non valido o alterato. / This QR code is not valid or was tampered with.",
            field="token",
        ) from error
    try:
        kind, _, target_id = str(claims["sub"]).partition(":")
        resource = claims.get("res")
        code = claims.get("cid")
        return Claims(
            token_id=str(claims["jti"]),
            code_id=uuid.UUID(code) if code else None,
            target=TargetKind(kind),
            target_id=uuid.UUID(target_id),
            ambito_id=uuid.UUID(claims["amb"]),
            holder_id=uuid.UUID(claims["hld"]),
            resource_id=uuid.UUID(resource) if resource else None,
            valid_from=datetime.fromtimestamp(int(claims.get("nbf", claims["iat"])), UTC),
            valid_until=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise InvalidInput(
            "Codice QR non valido o alterato. / This QR code is not valid or was tampered with.",
            field="token",
        ) from error


def _unverified(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_claims(token)
    except Exception:  # only used to word an error message
        return {}


async def _not_revoked(claims: Claims) -> None:
    """Refuse a revoked code (the signature alone cannot tell). A token without `cid` predates
    stored codes: nothing to look up, its expiry is its only limit."""
    if claims.code_id is None:
        return
    row = (
        await CheckInCode.select(CheckInCode.revoked_at)
        .where((CheckInCode.id == claims.code_id) & (CheckInCode.ambito == claims.ambito_id))
        .first()
    )
    if row is None:
        raise InvalidInput(
            "Codice QR non valido o alterato. / This QR code is not valid or was tampered with.",
            field="token",
        )
    if row["revoked_at"] is not None:
        when = local(row["revoked_at"])
        raise InvalidInput(
            f"Codice QR revocato il {when}: chiedine uno nuovo al referente. / "
            f"This QR code was revoked on {when}: ask the organiser for a new one.",
            field="token",
        )


async def read_valid_token(settings: Settings, token: str, *, before_start: bool = False) -> Claims:
    """read_token, and the stored code must not be revoked."""
    claims = read_token(settings, token, before_start=before_start)
    await _not_revoked(claims)
    return claims


def _same_ambito(actor: Principal, claims: Claims) -> None:
    if claims.ambito_id != actor.ambito_id:
        raise PermissionDenied(
            "Questo codice QR è di un altro ambito territoriale. / "
            "This QR code belongs to another ambito.",
            field="token",
        )


def urls(settings: Settings, token: str) -> dict[str, str]:
    base = settings.public_base_url
    return {
        "url": f"{base}/checkin/?t={token}",
        "png_url": f"{base}/api/checkin/qr.png?t={token}",
        "svg_url": f"{base}/api/checkin/qr.svg?t={token}",
        "sheet_url": f"{base}/api/checkin/sheet?t={token}",
        "badge_url": f"{base}/api/checkin/sheet?t={token}&layout=badge",
    }


# --- what a code is for -----------------------------------------------------------------------


async def _holder_name(holder_id: uuid.UUID) -> str:
    row = await Holder.select(Holder.name).where(Holder.id == holder_id).first()
    return row["name"] if row else ""


async def _activity(ambito_id: uuid.UUID, activity_id: uuid.UUID) -> dict[str, Any] | None:
    return (
        await CommunityActivity.select(
            CommunityActivity.id,
            CommunityActivity.title,
            CommunityActivity.status,
            CommunityActivity.comune,
        )
        .where((CommunityActivity.id == activity_id) & (CommunityActivity.ambito == ambito_id))
        .first()
    )


async def _match_title(resource_id: uuid.UUID | None) -> str:
    if resource_id is None:
        return "Abbinamento"
    row = await Resource.select(Resource.title).where(Resource.id == resource_id).first()
    return row["title"] if row else "Abbinamento"


async def _title(target: TargetKind, target_id: uuid.UUID, ambito_id: uuid.UUID, res: Any) -> str:
    if target is TargetKind.ACTIVITY:
        activity = await _activity(ambito_id, target_id)
        return activity["title"] if activity else ""
    return await _match_title(res)


async def info(claims: Claims) -> CodeInfo:
    return CodeInfo(
        target=claims.target,
        target_id=claims.target_id,
        title=await _title(claims.target, claims.target_id, claims.ambito_id, claims.resource_id),
        holder_id=claims.holder_id,
        holder_name=await _holder_name(claims.holder_id),
        valid_from=claims.valid_from,
        valid_until=claims.valid_until,
    )
