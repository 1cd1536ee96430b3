"""Quantities of the ledger as stored (whole minutes, whole counts) and as shown."""

from __future__ import annotations

from registry.errors import InvalidInput
from registry.vocabularies import TIME_UNITS, ContributionUnit


def stored_quantity(unit: ContributionUnit, quantity: float) -> int:
    """Time is stored in whole minutes, everything else as a whole count."""
    if unit in TIME_UNITS:
        minutes = round(quantity * 60)
        if minutes < 1:
            raise InvalidInput("the time must be at least one minute", field="quantity")
        return minutes
    if quantity != int(quantity):
        raise InvalidInput(f"a number of {unit.value} must be a whole number", field="quantity")
    return int(quantity)


def shown_quantity(unit: str, stored: int) -> float:
    return round(stored / 60, 4) if unit in TIME_UNITS else float(stored)
