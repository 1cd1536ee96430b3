"""Reading ISTAT's official files and turning them into the registry's catalogue of comuni.

- "Elenco comuni italiani" (Elenco-comuni-italiani.csv or .xlsx): one row per comune of
  today; CSV separated by ';', in Windows-1252 or UTF-8, with a header spread over several
  lines. Columns are found by the start of their name, so a new column does not break it.
- "Variazioni amministrative e territoriali dal 1991" (optional): what happened to each code.
  Its rows of type ES (a comune suppressed: merged or incorporated into the associated one)
  and AP (a comune moved to another province, so recoded) give old code -> new code, date.

`build()` compares the new list with the catalogue in use: a code that disappears while its
cadastral code lives on under another code is recorded as a recoding (dated `on`); a code
that disappears with a successor in the variations is a merger or an incorporation; one with
neither is reported, so that the operator adds the variations file. Coordinates and CAP are
kept per code, carried over to a recoded comune, and averaged over the predecessors of a new
one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from registry import geo
from registry.geo import Catalogue, ComunePlace, Variation
from registry.tabular import reading

MAX_ROWS = 20_000  # Italy has ~7,900 comuni; the variations file has a few thousand rows


class IstatFileError(ValueError):
    """The file is not what ISTAT publishes (or not readable): the message says why."""


@dataclass(frozen=True, slots=True)
class ListedComune:
    istat_code: str
    name: str
    province: str
    cadastral_code: str


@dataclass(slots=True)
class BuildReport:
    comuni: int = 0
    added: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    recoded: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)
    unlocated: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        def few(codes: list[str]) -> str:
            shown = ", ".join(codes[:12])
            return shown + (f" and {len(codes) - 12} more" if len(codes) > 12 else "")

        out = [f"{self.comuni} comuni"]
        for label, codes in (
            ("new codes", self.added),
            ("suppressed codes (merged or incorporated)", self.suppressed),
            ("recoded (same cadastral code, new ISTAT code)", self.recoded),
            ("renamed", self.renamed),
            ("without coordinates (no predecessor with a centroid)", self.unlocated),
        ):
            if codes:
                out.append(f"{len(codes)} {label}: {few(codes)}")
        if self.unexplained:
            out.append(
                f"WARNING: {len(self.unexplained)} codes disappear with no successor recorded "
                f"(give the variations file): {few(self.unexplained)}"
            )
        return out


def _text(data: bytes) -> bytes:
    """UTF-8 bytes of an official CSV, which ISTAT publishes in Windows-1252."""
    try:
        data.decode("utf-8-sig")
        return data
    except UnicodeDecodeError:
        return data.decode("cp1252").encode("utf-8")


def _table(data: bytes, filename: str | None) -> reading.Table:
    try:
        if reading.is_xlsx(data, filename):
            return reading.read_table(data, filename, max_rows=MAX_ROWS)
        return reading.read_table(_text(data), filename, max_rows=MAX_ROWS)
    except reading.TabularError as error:
        raise IstatFileError(error.message) from error


def _column(headers: list[str], *starts: str) -> str:
    for start in starts:
        for header in headers:
            if header.startswith(start):
                return header
    raise IstatFileError(
        f"no column '{starts[0]}' in the header: is this ISTAT's file? "
        f"(columns found: {', '.join(headers[:8])}...)"
    )


def _code(value: str | None) -> str:
    # An XLSX may hold the code as a number: 1001 -> 001001; "1001.0" from some exports.
    text = (value or "").strip().split(".")[0]
    return text.zfill(6) if text.isdigit() and len(text) <= 6 else text


def read_elenco(data: bytes, filename: str | None = None) -> dict[str, ListedComune]:
    """The comuni of ISTAT's "Elenco comuni italiani" (CSV or XLSX) by code."""
    table = _table(data, filename)
    code_col = _column(table.headers, "codice_comune_formato_alfanumerico")
    name_col = _column(table.headers, "denominazione_in_italiano")
    sigla_col = _column(table.headers, "sigla_automobilistica")
    cadastral_col = _column(table.headers, "codice_catastale")
    found: dict[str, ListedComune] = {}
    for row in table.rows:
        code = _code(row.values.get(code_col))
        name = (row.values.get(name_col) or "").strip()
        if not re.fullmatch(r"\d{6}", code) or not name:
            raise IstatFileError(f"line {row.line}: no 6-digit code and name ({code!r})")
        if code in found:
            raise IstatFileError(f"line {row.line}: code {code} appears twice")
        found[code] = ListedComune(
            istat_code=code,
            name=name,
            province=(row.values.get(sigla_col) or "").strip().upper(),
            cadastral_code=(row.values.get(cadastral_col) or "").strip().upper(),
        )
    if len(found) < 100:
        raise IstatFileError(f"only {len(found)} comuni: this is not the whole ISTAT list")
    return found


def _date(value: str | None, line: int) -> date:
    text = (value or "").strip().split(" ")[0]
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise IstatFileError(f"line {line}: '{value}' is not a date")


def read_variations(data: bytes, filename: str | None = None) -> list[Variation]:
    """Old code -> new code variations of ISTAT's "Variazioni amministrative e territoriali":
    ES rows (suppressed into the associated comune) and AP rows (moved to another province,
    so recoded); CD rows (renamed) keep the code."""
    table = _table(data, filename)
    kind_col = _column(table.headers, "tipo_variazione")
    old_col = _column(table.headers, "codice_comune")
    old_name_col = _column(table.headers, "denominazione_comune")
    new_col = _column(table.headers, "codice_del_comune_associato")
    new_name_col = _column(table.headers, "denominazione_comune_associata")
    date_col = _column(table.headers, "data_decorrenza")
    found: list[Variation] = []
    for row in table.rows:
        kind = (row.values.get(kind_col) or "").strip().upper()
        mapped = {"ES": geo.MERGER, "AP": geo.RECODING, "CD": geo.RENAMING}.get(kind)
        if mapped is None:
            continue
        old, new = _code(row.values.get(old_col)), _code(row.values.get(new_col))
        if kind == "CD":
            new = new or old
        if not (re.fullmatch(r"\d{6}", old) and re.fullmatch(r"\d{6}", new)):
            continue  # a row about a territory, not a comune's code
        found.append(
            Variation(
                on=_date(row.values.get(date_col), row.line),
                kind=mapped,
                old_code=old,
                old_name=(row.values.get(old_name_col) or "").strip(),
                new_code=new,
                new_name=(row.values.get(new_name_col) or "").strip(),
            )
        )
    return found


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 5) if values else None


def build(
    current: Catalogue,
    listed: dict[str, ListedComune],
    variations: list[Variation],
    on: date,
) -> tuple[Catalogue, BuildReport]:
    """The catalogue for the new list: the known variations plus those the new list implies
    (recodings, renamings dated `on`), places carried over from `current`."""
    report = BuildReport(comuni=len(listed))
    known = {(v.old_code, v.new_code, v.kind): v for v in current.variations}
    for variation in variations:
        known.setdefault((variation.old_code, variation.new_code, variation.kind), variation)
    # A suppressed comune's successor: an ES row says "merged"; when the successor existed
    # before (it keeps its code), it is an incorporation.
    for key, variation in list(known.items()):
        if variation.kind == geo.MERGER and variation.new_code in current.comuni:
            known[key] = Variation(
                variation.on,
                geo.INCORPORATION,
                variation.old_code,
                variation.old_name,
                variation.new_code,
                variation.new_name,
            )
    by_cadastral = {c.cadastral_code: c for c in listed.values() if c.cadastral_code}
    moved = {v.old_code for v in known.values() if v.old_code != v.new_code}
    for code, place in current.comuni.items():
        if code in listed:
            if place.name and listed[code].name != place.name:
                report.renamed.append(code)
                known.setdefault(
                    (code, code, geo.RENAMING),
                    Variation(on, geo.RENAMING, code, place.name, code, listed[code].name),
                )
            continue
        same = by_cadastral.get(place.cadastral_code) if place.cadastral_code else None
        if same is not None and same.istat_code not in current.comuni:
            report.recoded.append(code)
            known.setdefault(
                (code, same.istat_code, geo.RECODING),
                Variation(on, geo.RECODING, code, place.name, same.istat_code, same.name),
            )
        elif code in moved:
            report.suppressed.append(code)
        else:
            report.unexplained.append(code)
    predecessors: dict[str, list[ComunePlace]] = {}
    for variation in known.values():
        old = current.comuni.get(variation.old_code)
        if old is not None and variation.old_code != variation.new_code:
            predecessors.setdefault(variation.new_code, []).append(old)
    comuni: dict[str, ComunePlace] = {}
    for code, entry in sorted(listed.items()):
        place = current.comuni.get(code)
        if place is None:
            report.added.append(code)
            before = [p for p in predecessors.get(code, []) if p.lat is not None]
            caps = {p.cap for p in predecessors.get(code, [])}
            lat = _mean([p.lat for p in before if p.lat is not None])
            lon = _mean([p.lon for p in before if p.lon is not None])
            cap = caps.pop() if len(caps) == 1 else ""
        else:
            lat, lon, cap = place.lat, place.lon, place.cap
        if lat is None:
            report.unlocated.append(code)
        comuni[code] = ComunePlace(
            istat_code=code,
            province=entry.province,
            lat=lat,
            lon=lon,
            cap=cap,
            name=entry.name,
            cadastral_code=entry.cadastral_code,
        )
    return Catalogue(comuni, list(known.values())), report
