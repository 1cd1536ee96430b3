"""Goal Attainment Scaling T-score (Kiresuk & Sherman, 1968): a pure function.

T = 50 + 10·Σ(wᵢ·xᵢ) / √((1 − ρ)·Σwᵢ² + ρ·(Σwᵢ)²), with xᵢ ∈ {−2 … +2}, weights wᵢ
(default 1) and ρ = 0.3, the conventional correlation between goals. T = 50 means goals met
as expected; each goal one level above expectation raises it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

RHO = 0.3


def t_score(levels: Iterable[tuple[int, float]], rho: float = RHO) -> float | None:
    """T-score of (level, weight) pairs; None when there is no goal (or every weight is 0)."""
    pairs = [(int(level), float(weight)) for level, weight in levels]
    for level, weight in pairs:
        if level < -2 or level > 2:
            raise ValueError(f"a GAS level is between -2 and +2, not {level}")
        if weight < 0:
            raise ValueError("a GAS weight is not negative")
    total_weight = sum(w for _, w in pairs)
    if not pairs or total_weight == 0:
        return None
    numerator = sum(w * x for x, w in pairs)
    denominator = math.sqrt((1 - rho) * sum(w * w for _, w in pairs) + rho * total_weight**2)
    return 50 + 10 * numerator / denominator
