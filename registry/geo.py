"""The Italian comuni: today's ISTAT list, the history of its variations, and where each
comune is. The one source for maps, HSDS, matching, imports and ambito creation.

The list ships with the registry (registry/data/comuni.csv and comuni_variations.csv, see
registry/data/README.md). `registry comuni load FILE` reads a newer official ISTAT file into
an override directory (REGISTRY_COMUNI_DIR, default ./comuni); when its files exist they
replace the packaged ones. The catalogue is read once per process, on first use, and again
when the override changes (checked at most once a minute).

Functions (all synchronous, in memory):
    comune(code) -> ComunePlace | None          a comune that exists today
    comuni_places() -> {code: ComunePlace}      every comune of today
    comuni_of_province(sigla) -> [ComunePlace]  by car-plate abbreviation, e.g. "CO"
    comune_location(code) -> (lat, lon) | None
    resolve(code, on=None, lang="en") -> (code_today, warning | None)
        a suppressed code (merger, incorporation, recoding) gives its successor of today and
        a warning naming both; any other code comes back unchanged, without warning.
    variations_of(code) -> [Variation]           what happened to a code, oldest first
    leading_zero_message(value, lang="en") -> str | None
        for a 5-digit value that is a 6-digit ISTAT code without its leading zero.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from registry import italian

DATA = Path(__file__).resolve().parent / "data"
PACKAGED_COMUNI = DATA / "comuni.csv"
PACKAGED_VARIATIONS = DATA / "comuni_variations.csv"
COMUNI_FILE = "comuni.csv"
VARIATIONS_FILE = "comuni_variations.csv"
OVERRIDE_ENV = "REGISTRY_COMUNI_DIR"
_RECHECK_SECONDS = 60.0

COMUNI_COLUMNS = ["istat_code", "name", "province", "cadastral_code", "lat", "lon", "cap"]
VARIATION_COLUMNS = ["date", "kind", "old_code", "old_name", "new_code", "new_name"]

# Kinds of variation, as ISTAT names them.
MERGER = "fusione"  # several comuni become a new one
INCORPORATION = "incorporazione"  # a comune is absorbed by another, which keeps its code
RECODING = "ricodifica"  # same comune, new code (a change of province)
RENAMING = "denominazione"  # same code, new name
KINDS = (MERGER, INCORPORATION, RECODING, RENAMING)


@dataclass(frozen=True, slots=True)
class ComunePlace:
    istat_code: str
    province: str
    lat: float | None
    lon: float | None
    cap: str = ""
    name: str = ""
    cadastral_code: str = ""


@dataclass(frozen=True, slots=True)
class Variation:
    on: date
    kind: str
    old_code: str
    old_name: str
    new_code: str
    new_name: str


@dataclass(slots=True)
class Catalogue:
    comuni: dict[str, ComunePlace]
    variations: list[Variation]
    source: str = ""
    # old code -> its variations that change the code, oldest first
    successors: dict[str, list[Variation]] = field(default_factory=dict)
    by_province: dict[str, list[ComunePlace]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.variations.sort(key=lambda v: (v.on, v.old_code))
        for variation in self.variations:
            if variation.old_code != variation.new_code:
                self.successors.setdefault(variation.old_code, []).append(variation)
        for place in sorted(self.comuni.values(), key=lambda p: (p.name, p.istat_code)):
            self.by_province.setdefault(place.province, []).append(place)


# --- reading and writing the files --------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        return list(csv.DictReader(lines))


def _number(text: str) -> float | None:
    return float(text) if text else None


def read_files(comuni_path: Path, variations_path: Path | None) -> Catalogue:
    comuni = {
        row["istat_code"]: ComunePlace(
            istat_code=row["istat_code"],
            province=row["province"],
            lat=_number(row["lat"]),
            lon=_number(row["lon"]),
            cap=row.get("cap") or "",
            name=row["name"],
            cadastral_code=row.get("cadastral_code") or "",
        )
        for row in _rows(comuni_path)
    }
    variations = []
    if variations_path is not None and variations_path.exists():
        variations = [
            Variation(
                on=date.fromisoformat(row["date"]),
                kind=row["kind"],
                old_code=row["old_code"],
                old_name=row["old_name"],
                new_code=row["new_code"],
                new_name=row["new_name"],
            )
            for row in _rows(variations_path)
        ]
    return Catalogue(comuni, variations, source=str(comuni_path))


def write_files(catalogue: Catalogue, directory: Path, header: list[str]) -> None:
    """Write the catalogue as comuni.csv and comuni_variations.csv (atomically each), with
    `header` as '#' comment lines at the top of both."""
    directory.mkdir(parents=True, exist_ok=True)
    comments = "".join(f"# {line}\n" for line in header)

    def put(name: str, columns: list[str], rows: list[list[str]]) -> None:
        target = directory / name
        partial = target.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            handle.write(comments)
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
        partial.replace(target)

    def coordinate(value: float | None) -> str:
        return "" if value is None else f"{value:.5f}".rstrip("0").rstrip(".")

    put(
        COMUNI_FILE,
        COMUNI_COLUMNS,
        [
            [
                *(p.istat_code, p.name, p.province, p.cadastral_code),
                *(coordinate(p.lat), coordinate(p.lon), p.cap),
            ]
            for p in sorted(catalogue.comuni.values(), key=lambda p: p.istat_code)
        ],
    )
    put(
        VARIATIONS_FILE,
        VARIATION_COLUMNS,
        [
            [v.on.isoformat(), v.kind, v.old_code, v.old_name, v.new_code, v.new_name]
            for v in catalogue.variations
        ],
    )


# --- the catalogue of this process --------------------------------------------------------


def override_dir() -> Path:
    return Path(os.environ.get(OVERRIDE_ENV) or "comuni")


def _override_stamp() -> float | None:
    try:
        return (override_dir() / COMUNI_FILE).stat().st_mtime
    except OSError:
        return None


class _State:
    catalogue: Catalogue | None = None
    stamp: float | None = None
    checked: float = 0.0
    lock = threading.Lock()


def _load() -> tuple[Catalogue, float | None]:
    stamp = _override_stamp()
    if stamp is not None:
        directory = override_dir()
        return read_files(directory / COMUNI_FILE, directory / VARIATIONS_FILE), stamp
    return read_files(PACKAGED_COMUNI, PACKAGED_VARIATIONS), None


def catalogue() -> Catalogue:
    """Today's comuni and the variations, loaded on first use; a newer override written by
    `registry comuni load` (possibly by another process) is picked up within a minute."""
    state = _State
    current = state.catalogue
    moment = time.monotonic()
    if current is not None and moment - state.checked < _RECHECK_SECONDS:
        return current
    with state.lock:
        if state.catalogue is None or _override_stamp() != state.stamp:
            state.catalogue, state.stamp = _load()
        state.checked = moment
        return state.catalogue


def reload() -> Catalogue:
    """Read the files again now (after `registry comuni load` in this process, or in tests)."""
    with _State.lock:
        _State.catalogue, _State.stamp = _load()
        _State.checked = time.monotonic()
        return _State.catalogue


# --- lookups ------------------------------------------------------------------------------


def comuni_places() -> dict[str, ComunePlace]:
    """Every comune of today by ISTAT code."""
    return catalogue().comuni


def comune(code: str | None) -> ComunePlace | None:
    return catalogue().comuni.get(code or "")


def comune_location(istat_code: str | None) -> tuple[float, float] | None:
    """(lat, lon) of the comune's centroid, None when the code is unknown or missing."""
    place = comune(istat_code)
    if place is None or place.lat is None or place.lon is None:
        return None
    return (place.lat, place.lon)


def comuni_of_province(sigla: str) -> list[ComunePlace]:
    """The comuni of today of a province (car-plate abbreviation, e.g. "CO"), by name."""
    return list(catalogue().by_province.get(sigla.strip().upper(), []))


def variations_of(code: str) -> list[Variation]:
    """Every recorded variation that involves the code, as old or new code, oldest first."""
    return [v for v in catalogue().variations if code in (v.old_code, v.new_code)]


def successor(code: str, on: date | None = None) -> tuple[str, list[Variation]]:
    """The code that stands for `code` on the date `on` (today by default), following
    mergers, incorporations and recodings in effect by then, with the steps followed."""
    cat = catalogue()
    when = on or italian.today()
    steps: list[Variation] = []
    seen = {code}
    while True:
        moves = [v for v in cat.successors.get(code, []) if v.on <= when]
        if not moves:
            return code, steps
        step = moves[-1]
        steps.append(step)
        code = step.new_code
        if code in seen:  # a cycle in a hand-edited file must not hang a request
            return code, steps
        seen.add(code)


def resolve(code: str, on: date | None = None, lang: str = "en") -> tuple[str, str | None]:
    """(code of today, warning): a suppressed code maps to its successor with a warning
    naming both (in Italian with lang="it"); any other code comes back as it is."""
    current, steps = successor(code, on)
    if not steps:
        return code, None
    first, last = steps[0], steps[-1]
    name = comune(current).name if comune(current) else last.new_name
    if lang == "it":
        what = {
            MERGER: "fuso in",
            INCORPORATION: "incorporato in",
            RECODING: "ricodificato come",
        }.get(first.kind, "sostituito da")
        return current, (
            f"il codice {code} ({first.old_name}) non esiste più: dal "
            f"{first.on.strftime('%d/%m/%Y')} è {what} {current} ({name}); usato {current}"
        )
    what = {
        MERGER: "merged into",
        INCORPORATION: "incorporated into",
        RECODING: "recoded as",
    }.get(first.kind, "replaced by")
    return current, (
        f"code {code} ({first.old_name}) was suppressed on {first.on.isoformat()}: "
        f"{what} {current} ({name}); {current} used instead"
    )


def leading_zero_message(value: str, lang: str = "en") -> str | None:
    """For a 5-digit value (a spreadsheet dropped the leading zero of 013005): the message
    that says so, naming the comune when `0` + value is one; None for any other value."""
    value = value.strip()
    if len(value) != 5 or not value.isdigit():
        return None
    padded = "0" + value
    code, _ = successor(padded)
    place = comune(code)
    named = f"{padded}, {place.name}" if place is not None else padded
    if lang == "it":
        return (
            f"«{value}» ha 5 cifre ma il codice ISTAT del comune ne ha 6: il foglio di calcolo "
            f"ha tolto lo zero iniziale (forse {named}). Scrivi il codice con lo zero, "
            "formattando la colonna come testo"
        )
    return (
        f"'{value}' has 5 digits but an ISTAT comune code has 6: the leading zero was "
        f"probably dropped by a spreadsheet (did you mean {named}?)"
    )
