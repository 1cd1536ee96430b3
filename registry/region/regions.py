"""The Italian regions (ISTAT codes) and the region of a comune, from its ISTAT code.

The first three digits of a comune's ISTAT code are its province's ISTAT code, and every
province lies in one region. The packaged list of comuni (registry/geo.py) names provinces
only, so the province → region table is kept here; it covers the codes of today and the
Sardinian ones of before and after the 2026 recoding (111 Sud Sardegna, 112-119 new).
"""

from __future__ import annotations

from registry import geo

REGIONS: dict[str, str] = {
    "01": "Piemonte",
    "02": "Valle d'Aosta/Vallée d'Aoste",
    "03": "Lombardia",
    "04": "Trentino-Alto Adige/Südtirol",
    "05": "Veneto",
    "06": "Friuli-Venezia Giulia",
    "07": "Liguria",
    "08": "Emilia-Romagna",
    "09": "Toscana",
    "10": "Umbria",
    "11": "Marche",
    "12": "Lazio",
    "13": "Abruzzo",
    "14": "Molise",
    "15": "Campania",
    "16": "Puglia",
    "17": "Basilicata",
    "18": "Calabria",
    "19": "Sicilia",
    "20": "Sardegna",
}

# Province ISTAT code -> region ISTAT code, written as ranges of the original numbering
# (001-103 in order of the 1970s list) plus the provinces created since.
_RANGES: list[tuple[int, int, str]] = [
    (1, 6, "01"),
    (7, 7, "02"),
    (8, 11, "07"),
    (12, 20, "03"),
    (21, 22, "04"),
    (23, 29, "05"),
    (30, 32, "06"),
    (33, 40, "08"),
    (41, 44, "11"),
    (45, 53, "09"),
    (54, 55, "10"),
    (56, 60, "12"),
    (61, 65, "15"),
    (66, 69, "13"),
    (70, 70, "14"),
    (71, 75, "16"),
    (76, 77, "17"),
    (78, 80, "18"),
    (81, 89, "19"),
    (90, 92, "20"),
]
_LATER: dict[int, str] = {
    93: "06",  # Pordenone
    94: "14",  # Isernia
    95: "20",  # Oristano
    96: "01",  # Biella
    97: "03",  # Lecco
    98: "03",  # Lodi
    99: "08",  # Rimini
    100: "09",  # Prato
    101: "18",  # Crotone
    102: "18",  # Vibo Valentia
    103: "01",  # Verbano-Cusio-Ossola
    108: "03",  # Monza e Brianza
    109: "11",  # Fermo
    110: "16",  # Barletta-Andria-Trani
    111: "20",  # Sud Sardegna
    **{code: "20" for code in range(112, 120)},  # the Sardinian provinces of 2026
}


def region_of_province(province_code: int) -> str | None:
    if province_code in _LATER:
        return _LATER[province_code]
    for first, last, region in _RANGES:
        if first <= province_code <= last:
            return region
    return None


def region_of_comune(istat_code: str) -> str | None:
    """The region of a comune of today (geo.comune knows it); None for any other code."""
    if geo.comune(istat_code) is None:
        return None
    return region_of_province(int(istat_code[:3]))


def region_name(code: str) -> str:
    return REGIONS.get(code, code)
