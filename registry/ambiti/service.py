"""Ambiti (the tenants) and their comuni."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import msgspec

from registry.access import Principal, Role
from registry.ambiti.schemas import AmbitoOut, AmbitoPatch, ComuneIn, ComuneOut
from registry.ambiti.tables import Ambito, Comune
from registry.errors import Conflict, InvalidInput, NotFound


async def create_ambito(code: str, name: str, region: str) -> uuid.UUID:
    if await Ambito.exists().where(Ambito.code == code):
        raise Conflict(f"ambito '{code}' already exists", field="code")
    ambito = Ambito(code=code, name=name, region=region)
    await ambito.save()
    return ambito.id


async def add_comuni(ambito_id: uuid.UUID, comuni: Iterable[ComuneIn]) -> None:
    comuni = list(comuni)
    codes = [c.istat_code for c in comuni]
    if codes:
        taken = await Comune.select(Comune.istat_code).where(Comune.istat_code.is_in(codes))
        if taken:
            raise Conflict(
                f"comune {taken[0]['istat_code']} already belongs to an ambito", field="istat_code"
            )
        await Comune.insert(
            *[
                Comune(
                    ambito=ambito_id, istat_code=c.istat_code, name=c.name, population=c.population
                )
                for c in comuni
            ]
        )


async def get_ambito(actor: Principal, code: str) -> AmbitoOut:
    row = (
        await Ambito.select().where((Ambito.code == code) & (Ambito.id == actor.ambito_id)).first()
    )
    if row is None:
        raise NotFound(f"no ambito with code '{code}'")
    comuni = (
        await Comune.select(Comune.istat_code, Comune.name, Comune.population)
        .where(Comune.ambito == row["id"])
        .order_by(Comune.name)
    )
    return AmbitoOut(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        region=row["region"],
        comuni=[ComuneOut(**c) for c in comuni],
    )


async def list_ambiti(actor: Principal) -> list[AmbitoOut]:
    row = await Ambito.select(Ambito.code).where(Ambito.id == actor.ambito_id).first()
    return [await get_ambito(actor, row["code"])] if row else []


async def update_ambito(actor: Principal, code: str, patch: AmbitoPatch) -> AmbitoOut:
    current = await get_ambito(actor, code)
    actor.require(Role.UDP_ADMIN)
    if patch.name is not msgspec.UNSET:
        await Ambito.update({Ambito.name: patch.name}).where(Ambito.id == current.id)
    return await get_ambito(actor, code)


async def add_comune(actor: Principal, code: str, comune: ComuneIn) -> AmbitoOut:
    current = await get_ambito(actor, code)
    actor.require(Role.UDP_ADMIN)
    await add_comuni(current.id, [comune])
    return await get_ambito(actor, code)


async def comune_codes(ambito_id: uuid.UUID) -> set[str]:
    rows = await Comune.select(Comune.istat_code).where(Comune.ambito == ambito_id)
    return {row["istat_code"] for row in rows}


async def check_comuni(ambito_id: uuid.UUID, codes: Iterable[str], field: str) -> None:
    """Every code must be a comune of this ambito; the error names the offending item."""
    known = await comune_codes(ambito_id)
    for index, code in enumerate(codes):
        if code not in known:
            raise InvalidInput(f"{code} is not a comune of this ambito", field=f"{field}[{index}]")
