"""The value-rate table of an ambito: reading it and the UdP's changes (which drop the
snapshots, whose euro figures used the old rates)."""

from __future__ import annotations

import uuid

from registry.access import Principal, Role
from registry.common import now as utcnow
from registry.db import unit_of_work
from registry.errors import InvalidInput, NotFound
from registry.metrics.publication import _require_reader
from registry.metrics.rates import (
    DEFAULT_CATEGORY_LEVELS,
    DEFAULT_TASK_LEVEL,
    TASK_LEVELS,
    effective_rates,
)
from registry.metrics.reference_loading import stored_rates
from registry.metrics.schemas import (
    CategoryLevelOut,
    RateIn,
    RateOut,
    RateTableOut,
)
from registry.metrics.tables import (
    MetricsSnapshot,
    TaskLevelOverride,
    ValueRate,
)

# --- value rates -----------------------------------------------------------------------------


async def rate_table(actor: Principal) -> RateTableOut:
    _require_reader(actor)
    stored = await ValueRate.select().where(ValueRate.ambito == actor.ambito_id)
    updated = {(r["task_level"], r["year"]): r["updated_at"] for r in stored}
    rates, levels = await stored_rates(actor.ambito_id)
    categories = sorted({*DEFAULT_CATEGORY_LEVELS, *levels})
    return RateTableOut(
        rates=[
            RateOut(
                task_level=r.task_level,
                task_level_label=TASK_LEVELS.get(r.task_level, r.task_level),
                year=r.year,
                eur_per_hour=r.cents_per_hour / 100,
                source=r.source,
                is_default=r.is_default,
                updated_at=updated.get((r.task_level, r.year)),
            )
            for r in effective_rates(rates)
        ],
        task_levels=dict(TASK_LEVELS),
        categories=[
            CategoryLevelOut(
                category_code=c,
                task_level=levels.get(c, DEFAULT_CATEGORY_LEVELS.get(c, DEFAULT_TASK_LEVEL)),
                is_default=c not in levels,
            )
            for c in categories
        ],
        default_task_level=DEFAULT_TASK_LEVEL,
        note=(
            "Le tariffe con is_default=true sono valori indicativi da sostituire con le tabelle "
            "in vigore (costo medio orario del lavoro, CCNL cooperative sociali). Un anno senza "
            "tariffa usa l'anno precedente più vicino."
        ),
    )


def _check_level(level: str) -> None:
    if level not in TASK_LEVELS:
        known = ", ".join(TASK_LEVELS)
        raise InvalidInput(f"unknown task level '{level}' (known: {known})", field="task_level")


async def set_rate(actor: Principal, level: str, year: int, data: RateIn) -> RateTableOut:
    actor.require(Role.UDP_ADMIN)
    _check_level(level)
    if not 2000 <= year <= 2100:
        raise InvalidInput("the year must be between 2000 and 2100", field="year")
    values = {
        ValueRate.cents_per_hour: round(data.eur_per_hour * 100),
        ValueRate.source: data.source.strip(),
        ValueRate.updated_by: actor.user_id,
        ValueRate.updated_at: utcnow(),
    }
    where = (
        (ValueRate.ambito == actor.ambito_id)
        & (ValueRate.task_level == level)
        & (ValueRate.year == year)
    )
    async with unit_of_work():
        if await ValueRate.exists().where(where):
            await ValueRate.update(values).where(where)
        else:
            await ValueRate.insert(
                ValueRate(
                    ambito=actor.ambito_id,
                    task_level=level,
                    year=year,
                    **{c._meta.name: v for c, v in values.items()},
                )
            )
        await _forget_snapshots(actor.ambito_id)
    return await rate_table(actor)


async def delete_rate(actor: Principal, level: str, year: int) -> None:
    actor.require(Role.UDP_ADMIN)
    _check_level(level)
    deleted = (
        await ValueRate.delete()
        .where(
            (ValueRate.ambito == actor.ambito_id)
            & (ValueRate.task_level == level)
            & (ValueRate.year == year)
        )
        .returning(ValueRate.id)
    )
    if not deleted:
        raise NotFound("no rate of the UdP for that level and year (defaults cannot be deleted)")
    await _forget_snapshots(actor.ambito_id)


async def _forget_snapshots(ambito_id: uuid.UUID) -> None:
    """Euro figures of the snapshots used the old rates: drop them (the dashboard computes
    live until the next run)."""
    await MetricsSnapshot.delete().where(MetricsSnapshot.ambito == ambito_id)


async def set_category_level(actor: Principal, category: str, level: str) -> RateTableOut:
    actor.require(Role.UDP_ADMIN)
    _check_level(level)
    from registry.taxonomy.tables import TaxonomyTerm

    if not await TaxonomyTerm.exists().where(TaxonomyTerm.code == category):
        raise InvalidInput(f"unknown resource category '{category}'", field="category_code")
    where = (TaskLevelOverride.ambito == actor.ambito_id) & (
        TaskLevelOverride.category_code == category
    )
    async with unit_of_work():
        if await TaskLevelOverride.exists().where(where):
            await TaskLevelOverride.update(
                {TaskLevelOverride.task_level: level, TaskLevelOverride.updated_at: utcnow()}
            ).where(where)
        else:
            await TaskLevelOverride.insert(
                TaskLevelOverride(
                    ambito=actor.ambito_id,
                    category_code=category,
                    task_level=level,
                    updated_at=utcnow(),
                )
            )
        await _forget_snapshots(actor.ambito_id)
    return await rate_table(actor)
