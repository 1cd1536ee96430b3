"""Interactions among holders recorded by hand: edges of the cohesion network.

Who records: the UdP and social workers (co-programming tables, network meetings); a holder
manager only interactions its own holder took part in. Who sees: the UdP and social workers
all of the ambito's; a holder manager those of its holder; volunteers none. Who deletes: the
UdP, or whoever recorded it. Another ambito's interaction is a 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from registry import italian
from registry.access import Principal, Role
from registry.common import now
from registry.db import unit_of_work
from registry.errors import InvalidInput, NotFound, PermissionDenied
from registry.holders.tables import Holder
from registry.metrics.schemas import InteractionCreate, InteractionKind, InteractionOut
from registry.metrics.tables import Interaction, InteractionParticipant


async def _participants(ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    if ids:
        for row in await InteractionParticipant.select(
            InteractionParticipant.interaction, InteractionParticipant.holder
        ).where(InteractionParticipant.interaction.is_in(ids)):
            out[row["interaction"]].append(row["holder"])
    return out


def _out(row: dict[str, Any], holders: list[uuid.UUID]) -> InteractionOut:
    return InteractionOut(
        id=row["id"],
        kind=InteractionKind(row["kind"]),
        title=row["title"],
        occurred_on=row["occurred_on"],
        holder_ids=sorted(holders, key=str),
        note=row["note"],
        created_at=row["created_at"],
    )


async def _row(actor: Principal, interaction_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await Interaction.select()
        .where((Interaction.id == interaction_id) & (Interaction.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such interaction")
    return row


def _may_see(actor: Principal, holders: list[uuid.UUID]) -> bool:
    if actor.role in (Role.UDP_ADMIN, Role.SOCIAL_WORKER):
        return True
    return actor.role is Role.HOLDER_MANAGER and actor.holder_id in holders


async def create_interaction(actor: Principal, data: InteractionCreate) -> InteractionOut:
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER)
    holder_ids = list(dict.fromkeys(data.holder_ids))
    if len(holder_ids) < 2:
        raise InvalidInput(
            "an interaction needs at least two different holders", field="holder_ids"
        )
    if data.occurred_on > italian.today():
        raise InvalidInput("an interaction is recorded once it happened", field="occurred_on")
    found = {
        r["id"]
        for r in await Holder.select(Holder.id).where(
            Holder.id.is_in(holder_ids) & (Holder.ambito == actor.ambito_id)
        )
    }
    missing = [str(i) for i, h in enumerate(holder_ids) if h not in found]
    if missing:
        raise InvalidInput(
            f"holder_ids at position(s) {', '.join(missing)} are not holders of this ambito",
            field="holder_ids",
        )
    if actor.role is Role.HOLDER_MANAGER and actor.holder_id not in holder_ids:
        raise PermissionDenied("a holder manager records only interactions of its own holder")
    interaction = Interaction(
        ambito=actor.ambito_id,
        kind=data.kind.value,
        title=data.title.strip(),
        occurred_on=data.occurred_on,
        note=data.note,
        created_by=actor.user_id,
        created_at=now(),
    )
    async with unit_of_work():
        await interaction.save()
        await InteractionParticipant.insert(
            *[InteractionParticipant(interaction=interaction.id, holder=h) for h in holder_ids]
        )
    return await get_interaction(actor, interaction.id)


async def get_interaction(actor: Principal, interaction_id: uuid.UUID) -> InteractionOut:
    row = await _row(actor, interaction_id)
    holders = (await _participants([row["id"]]))[row["id"]]
    if not _may_see(actor, holders):
        raise PermissionDenied("only the UdP, social workers and the holders involved see it")
    return _out(row, holders)


async def list_interactions(
    actor: Principal, *, limit: int = 50, offset: int = 0
) -> list[InteractionOut]:
    actor.require(Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER)
    where = Interaction.ambito == actor.ambito_id
    if actor.role is Role.HOLDER_MANAGER:
        mine = InteractionParticipant.select(InteractionParticipant.interaction).where(
            InteractionParticipant.holder == actor.holder_id
        )
        where &= Interaction.id.is_in(mine)
    rows = (
        await Interaction.select()
        .where(where)
        .order_by(Interaction.occurred_on, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    holders = await _participants([r["id"] for r in rows])
    return [_out(r, holders[r["id"]]) for r in rows]


async def delete_interaction(actor: Principal, interaction_id: uuid.UUID) -> None:
    row = await _row(actor, interaction_id)
    if actor.role is not Role.UDP_ADMIN and row["created_by"] != actor.user_id:
        raise PermissionDenied("only the UdP or whoever recorded it can delete an interaction")
    await Interaction.delete().where(Interaction.id == interaction_id)
