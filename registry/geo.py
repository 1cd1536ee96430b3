"""Where the comuni are: centroids by ISTAT code, the one source for maps, HSDS and matching.

The table ships with the registry (registry/data/comuni_centroids.csv, every Italian
comune); it is read once per process, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

CENTROIDS = Path(__file__).resolve().parent / "data" / "comuni_centroids.csv"


@dataclass(frozen=True, slots=True)
class ComunePlace:
    istat_code: str
    province: str
    lat: float
    lon: float
    cap: str = ""


@cache
def comuni_places() -> dict[str, ComunePlace]:
    """Centroids of Italian comuni by ISTAT code (registry/data/comuni_centroids.csv)."""
    found: dict[str, ComunePlace] = {}
    if not CENTROIDS.exists():
        return found
    with CENTROIDS.open(encoding="utf-8") as handle:
        for line in handle:
            if not line[:1].isdigit():
                continue  # comments and the header
            code, province, lat, lon, cap = [*line.strip().split(","), ""][:5]
            found[code] = ComunePlace(code, province, float(lat), float(lon), cap)
    return found


def comune_location(istat_code: str | None) -> tuple[float, float] | None:
    """(lat, lon) of the comune's centroid, None when the code is unknown or missing."""
    place = comuni_places().get(istat_code or "")
    return None if place is None else (place.lat, place.lon)
