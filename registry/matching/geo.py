"""Great-circle distance between two points, for proximity and the max-distance rule.

Plain Python `math` on purpose: the scalar scorer and the vectorised index both call
this one function on the same pair of points, so their distances (and everything
derived from them) are the same floats bit for bit. numpy's own sin/cos may differ
from libm's in the last bit, and an exclusion at exactly the limit would then depend
on the code path.
"""

from __future__ import annotations

import math

# Mean Earth radius (IUGG); at the scale of an ambito the spherical model is off by < 0.5%.
EARTH_RADIUS_KM = 6371.0088

GeoPoint = tuple[float, float]  # (latitude, longitude) in decimal degrees, WGS84


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Haversine distance in kilometres between two (lat, lon) points."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    # min(): rounding can push h a hair above 1 for antipodal points.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def check_point(point: GeoPoint, what: str) -> GeoPoint:
    """`point` as a (lat, lon) tuple of floats; ValueError if it is not a valid location."""
    if len(point) != 2:
        raise ValueError(f"{what}: a location is (latitude, longitude)")
    lat, lon = float(point[0]), float(point[1])
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"{what}: latitude and longitude must be finite")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"{what}: latitude must be in -90..90 and longitude in -180..180")
    return (lat, lon)


def comune_it(code: str, name: str = "") -> str:
    """A comune as people read it: its name when the caller knows it, else its ISTAT code."""
    return name or code


def km_it(km: float) -> str:
    """A distance for Italian readers: "800 m" is not said, centroids are not that precise."""
    if km < 1:
        return "meno di 1 km"
    if km < 10:
        text = f"{km:.1f}".replace(".", ",")
        return f"{text.removesuffix(',0')} km"
    return f"{km:.0f} km"
