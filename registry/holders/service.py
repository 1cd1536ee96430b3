"""Community holders: registration, validation of identifiers, ownership rules."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale, iva

from registry.access import Principal, Role
from registry.ambiti.service import check_comuni
from registry.common import Page, now, page_total, set_fields
from registry.db import array_contains, text_contains, unit_of_work
from registry.errors import InvalidInput, NotFound, PermissionDenied
from registry.holders.schemas import Consent, Contact, HolderCreate, HolderOut, HolderPatch
from registry.holders.tables import Holder
from registry.users.service import link_holder
from registry.vocabularies import KINDS_NEEDING_CONSENT, SECTOR_OF_KIND, HolderKind, Sector


def _identifier(value: str | None, field: str, validator: Any, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return validator.validate(value)
    except StdnumError as error:
        raise InvalidInput(f"{what} '{value}' is not valid: {error}", field=field) from error


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    """Validate identifiers and flatten the consent record into its columns."""
    out = dict(values)
    if "codice_fiscale" in out:
        out["codice_fiscale"] = _identifier(
            out["codice_fiscale"], "codice_fiscale", codicefiscale, "codice fiscale"
        )
    if "partita_iva" in out:
        out["partita_iva"] = _identifier(out["partita_iva"], "partita_iva", iva, "partita IVA")
    if "consent" in out:
        consent: Consent | None = out.pop("consent")
        out["consent_given_by"] = consent.given_by if consent else None
        out["consent_given_at"] = consent.given_at if consent else None
        out["consent_text_version"] = consent.text_version if consent else None
    if "contacts" in out:
        out["contacts"] = msgspec.to_builtins(out["contacts"])
    for key in ("kind", "sector"):
        if key in out:
            out[key] = out[key].value
    if "areas" in out:
        out["areas"] = [area.value for area in out["areas"]]
    return out


def _check_rules(row: dict[str, Any]) -> None:
    kind, sector = HolderKind(row["kind"]), Sector(row["sector"])
    if sector not in SECTOR_OF_KIND[kind]:
        allowed = ", ".join(sorted(s.value for s in SECTOR_OF_KIND[kind]))
        raise InvalidInput(
            f"a holder of kind '{kind}' belongs to sector: {allowed}", field="sector"
        )
    if kind in KINDS_NEEDING_CONSENT and not row.get("consent_given_at"):
        raise InvalidInput(
            "a consent record (given_by, given_at, text_version) is required for the personal "
            "data of individual volunteers and informal networks",
            field="consent",
        )


def _out(row: dict[str, Any]) -> HolderOut:
    consent = (
        Consent(
            given_by=row["consent_given_by"],
            given_at=row["consent_given_at"],
            text_version=row["consent_text_version"],
        )
        if row["consent_given_at"]
        else None
    )
    return HolderOut(
        id=row["id"],
        ambito_id=row["ambito"],
        kind=HolderKind(row["kind"]),
        sector=Sector(row["sector"]),
        name=row["name"],
        description=row["description"],
        codice_fiscale=row["codice_fiscale"],
        partita_iva=row["partita_iva"],
        runts_number=row["runts_number"],
        address=row["address"],
        seat_comune=row["seat_comune"],
        comuni=row["comuni"] or [],
        areas=row["areas"] or [],
        contacts=msgspec.convert(row["contacts"] or [], list[Contact]),
        public_listing=row["public_listing"],
        status=row["status"],
        consent=consent,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _row(actor: Principal, holder_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await Holder.select()
        .where((Holder.id == holder_id) & (Holder.ambito == actor.ambito_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("no such holder")
    return row


async def get_holder(actor: Principal, holder_id: uuid.UUID) -> HolderOut:
    return _out(await _row(actor, holder_id))


async def list_holders(
    actor: Principal,
    *,
    kind: HolderKind | None = None,
    sector: Sector | None = None,
    comune: str | None = None,
    q: str | None = None,
    include_archived: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[HolderOut]:
    where = Holder.ambito == actor.ambito_id
    if not include_archived:
        where &= Holder.status != "archived"
    if kind:
        where &= Holder.kind == kind.value
    if sector:
        where &= Holder.sector == sector.value
    if comune:
        where &= array_contains(Holder.comuni, comune)
    if q:
        where &= text_contains(Holder.name, q)
    rows = (
        await Holder.select()
        .where(where)
        .order_by(Holder.name)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    total = await page_total(len(rows), limit, offset, Holder.count().where(where))
    return Page(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def create_holder(actor: Principal, data: HolderCreate) -> HolderOut:
    if actor.role is Role.HOLDER_MANAGER:
        if actor.holder_id is not None:
            raise PermissionDenied("this account already manages a holder")
    else:
        actor.require(Role.UDP_ADMIN)
    values = _normalised(set_fields(data))
    _check_rules(values)
    await check_comuni(actor.ambito_id, data.comuni, "comuni")
    if data.seat_comune:
        await check_comuni(actor.ambito_id, [data.seat_comune], "seat_comune")
    holder = Holder(**values, ambito=actor.ambito_id, created_at=now(), updated_at=now())
    async with unit_of_work():
        await holder.save()
        if actor.role is Role.HOLDER_MANAGER:
            # The association registering itself becomes the manager of its record.
            await link_holder(actor.user_id, holder.id)
    return await get_holder(actor, holder.id)


async def update_holder(actor: Principal, holder_id: uuid.UUID, patch: HolderPatch) -> HolderOut:
    current = await _row(actor, holder_id)
    if not actor.manages_holder(holder_id):
        raise PermissionDenied("only the UdP or the holder's own manager can edit it")
    values = _normalised(set_fields(patch))
    _check_rules({**current, **values})
    if "comuni" in values:
        await check_comuni(actor.ambito_id, values["comuni"], "comuni")
    if values.get("seat_comune"):
        await check_comuni(actor.ambito_id, [values["seat_comune"]], "seat_comune")
    if values:
        values["updated_at"] = now()
        await Holder.update(values).where(Holder.id == holder_id)
    return await get_holder(actor, holder_id)


async def archive_holder(actor: Principal, holder_id: uuid.UUID) -> None:
    """Holders are archived, never deleted: their history (contributions, matches) stays."""
    await _row(actor, holder_id)
    actor.require(Role.UDP_ADMIN)
    await Holder.update({Holder.status: "archived", Holder.updated_at: now()}).where(
        Holder.id == holder_id
    )
