"""How the registry's vocabularies appear in HSDS: taxonomies, terms, units, stable ids.

HSDS classifies records with `attribute` objects that link a record to a `taxonomy_term`.
The registry's own fields that HSDS has no column for (holder kind and sector, ISTAT user
areas, requirements, comuni, and a few extensions) are carried the same way, so an export
is plain, valid HSDS and a re-import restores them exactly.

Identifiers of things that are not records of ours (taxonomies, terms, units, addresses,
service areas...) are UUIDv5 derived from stable names, so two exports of the same data
carry the same ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache

# The centroid table lives in registry/geo.py (matching uses it too); re-exported here for
# the HSDS and GeoJSON code that has always found it in this module.
from registry.geo import ComunePlace as ComunePlace
from registry.geo import comuni_places as comuni_places
from registry.vocabularies import HOLDER_KIND_LABELS, USER_AREA_LABELS, ResourceUnit
from registry.vocabularies import SECTOR_LABELS as SECTOR_LABELS

NAMESPACE = uuid.UUID("8a0d6f0e-5b7e-4c1a-9f43-2f6f1c3b9d21")


def stable_id(*parts: object) -> str:
    return _uuid5("/".join(str(p) for p in parts))


@lru_cache(maxsize=65_536)
def _uuid5(name: str) -> str:
    # Exports derive tens of ids per record, many of them the same (terms, taxonomies).
    return str(uuid.uuid5(NAMESPACE, name))


@dataclass(frozen=True, slots=True)
class Vocabulary:
    key: str
    name: str
    description: str
    uri: str | None = None
    version: str = "1"

    @property
    def id(self) -> str:
        return stable_id("taxonomy", self.key)

    def term_id(self, code: str) -> str:
        return stable_id("term", self.key, code)


CATEGORY = Vocabulary(
    "registry-categorie",
    "Categorie delle risorse di comunità",
    "Tassonomia delle risorse non economiche del registro: tempo e competenze, spazi, beni, "
    "servizi, relazioni.",
)
AREA = Vocabulary(
    "istat-aree-utenza",
    "Aree di utenza dei servizi sociali (ISTAT)",
    "Le aree di utenza dell'indagine ISTAT sugli interventi e i servizi sociali dei comuni.",
)
KIND = Vocabulary(
    "registry-tipi-titolare", "Tipi di titolare", "Che cosa è il titolare della risorsa."
)
SECTOR = Vocabulary("registry-settori", "Settori", "Pubblico, terzo settore, informale, impresa.")
REQUIREMENT = Vocabulary(
    "registry-requisiti",
    "Requisiti",
    "Requisiti di chi offre la risorsa (es. idoneità a lavorare con minori).",
)
COMUNE = Vocabulary(
    "istat-comuni",
    "Comuni italiani (codici ISTAT)",
    "Il codice ISTAT a 6 cifre del comune e il suo nome.",
    uri="https://www.istat.it/classificazione/codici-dei-comuni-delle-province-e-delle-regioni/",
)
EXTENSION = Vocabulary(
    "registry-estensioni",
    "Campi del registro senza colonna HSDS",
    "Valori del registro che HSDS non prevede, portati nel campo value dell'attributo.",
)
VOCABULARIES = (CATEGORY, AREA, KIND, SECTOR, REQUIREMENT, COMUNE, EXTENSION)
BY_ID = {v.id: v for v in VOCABULARIES}
BY_KEY = {v.key: v for v in VOCABULARIES}

# Extension terms (vocabulary EXTENSION): code -> label.
EXT_PUBLIC_LISTING = "public-listing"
EXT_CONSENT = "consent"
EXT_VALIDITY = "validity"
EXT_WINDOW_CAPACITY = "window-capacity"
EXT_EXCEPTIONS = "exceptions"
EXT_RRULE = "rrule"
EXTENSIONS = {
    EXT_PUBLIC_LISTING: "Elenco pubblico (true/false)",
    EXT_CONSENT: "Consenso al trattamento dei dati (JSON: given_by, given_at, text_version)",
    EXT_VALIDITY: "Validità della risorsa (JSON: valid_from, valid_until)",
    EXT_WINDOW_CAPACITY: "Capacità per finestra di disponibilità",
    EXT_EXCEPTIONS: "Date escluse dalla ricorrenza (EXDATE), separate da virgola",
    EXT_RRULE: "Regola RFC 5545 esatta, quando freq HSDS non basta (es. FREQ=DAILY)",
}

# The Italian labels live with the vocabularies; HSDS terms and spreadsheets use the same.
KIND_LABELS = HOLDER_KIND_LABELS
AREA_LABELS = USER_AREA_LABELS
UNIT_LABELS = {
    "hours": "Ore",
    "places": "Posti",
    "items": "Oggetti",
    "room_hours": "Ore di sala",
    "trips": "Viaggi",
    "meals": "Pasti",
    "people": "Persone",
}
UNIT_SCHEME = "registro-risorse-comunita"


def unit_label(code: str) -> str:
    return UNIT_LABELS.get(code, code)


def unit_object(code: str) -> dict[str, object]:
    return {
        "id": stable_id("unit", code),
        "name": unit_label(code),
        "scheme": UNIT_SCHEME,
        "identifier": code,
    }


def unit_codes() -> list[str]:
    return [u.value for u in ResourceUnit]


# Identifier schemes of organization_identifier (org-id.guide style prefixes).
SCHEME_CF = "IT-CF"
SCHEME_IVA = "IT-IVA"
SCHEME_RUNTS = "IT-RUNTS"
IDENTIFIER_TYPES = {
    SCHEME_CF: "Codice fiscale",
    SCHEME_IVA: "Partita IVA",
    SCHEME_RUNTS: "Numero di iscrizione al RUNTS",
}

WEEKDAYS_IT = {
    "MO": "lunedì",
    "TU": "martedì",
    "WE": "mercoledì",
    "TH": "giovedì",
    "FR": "venerdì",
    "SA": "sabato",
    "SU": "domenica",
}
ORDINALS_IT = {
    "1": "il primo",
    "2": "il secondo",
    "3": "il terzo",
    "4": "il quarto",
    "5": "il quinto",
    "-1": "l'ultimo",
}

# ISO 639-2/3 codes seen in HSDS data -> the ISO 639-1 codes the registry stores.
LANGUAGE_ALIASES = {
    "ita": "it",
    "eng": "en",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "deu": "de",
    "ger": "de",
    "ara": "ar",
    "ron": "ro",
    "rum": "ro",
    "sqi": "sq",
    "alb": "sq",
    "ukr": "uk",
    "rus": "ru",
    "zho": "zh",
    "chi": "zh",
    "urd": "ur",
    "por": "pt",
    "hin": "hi",
    "ben": "bn",
    "pan": "pa",
    "tgl": "tl",
    "wol": "wo",
    "pol": "pl",
    "slk": "sk",
    "slo": "sk",
}
LANGUAGE_NAMES = {
    "it": "Italiano",
    "en": "Inglese",
    "fr": "Francese",
    "es": "Spagnolo",
    "de": "Tedesco",
    "ar": "Arabo",
    "ro": "Rumeno",
    "sq": "Albanese",
    "uk": "Ucraino",
    "ru": "Russo",
    "zh": "Cinese",
    "wo": "Wolof",
    "ur": "Urdu",
    "pt": "Portoghese",
    "hi": "Hindi",
    "bn": "Bengalese",
    "pa": "Punjabi",
    "tl": "Tagalog",
    "pl": "Polacco",
    "sk": "Slovacco",
}
