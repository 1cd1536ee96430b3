"""The comuni of today: ISTAT list, variations, suppressed codes in imports, lost leading zeros,
and `registry comuni load`."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest

from registry import demo, geo
from registry.access import Role
from registry.ambiti.tables import Comune
from registry.cli import main as cli
from registry.comuni import istat
from registry.holders.tables import Holder
from tests.conftest import Tenant

U = Role.UDP_ADMIN
# Setteville (BL) was made on 22 January 2024 from Alano di Piave and Quero Vas; the demo
# ambito does not use it, so a test ambito can own it.
SETTEVILLE, ALANO, QUERO_VAS = "025075", "025002", "025070"


def test_the_demo_ambito_lists_todays_comuni() -> None:
    spec = json.loads(demo.DATA.read_text(encoding="utf-8"))
    codes = {c["istat_code"]: c["name"] for c in spec["comuni"]}
    for code, name in codes.items():
        place = geo.comune(code)
        assert place is not None and place.name == name and place.province == "CO", code
    assert codes["013256"] == "Uggiate con Ronago"
    assert "013228" not in codes and "013199" not in codes
    served = {name for holder in demo.HOLDERS for name in holder[4]}
    assert served <= set(codes.values())


def test_a_suppressed_code_resolves_to_todays_with_a_warning() -> None:
    assert geo.comune("013228") is None and geo.comune("013199") is None
    for old, name in (("013228", "Uggiate-Trevano"), ("013199", "Ronago")):
        code, warning = geo.resolve(old)
        assert code == "013256"
        assert warning is not None and old in warning and name in warning
        assert "013256 (Uggiate con Ronago)" in warning and "2024-01-01" in warning
        code, avviso = geo.resolve(old, lang="it")
        assert code == "013256" and avviso is not None and "01/01/2024" in avviso
    # Before the merger the old code stood for itself.
    assert geo.resolve("013228", on=date(2023, 12, 31)) == ("013228", None)
    # A code of today, and a code nobody knows, come back as they are.
    assert geo.resolve("013165") == ("013165", None)
    assert geo.resolve("999999") == ("999999", None)
    # An incorporation of 2026: Lirio is in Montalto Pavese, which keeps its code.
    assert geo.resolve("018082")[0] == "018094"


def test_province_lookup_and_places() -> None:
    como = geo.comuni_of_province("co")
    codes = [p.istat_code for p in como]
    assert "013256" in codes and "013228" not in codes
    assert [p.name for p in como] == sorted(p.name for p in como)
    assert geo.comuni_of_province("XX") == []
    lat, lon = geo.comune_location("013256") or (0, 0)
    # Between Uggiate-Trevano and Ronago, near the Swiss border.
    assert 45.80 < lat < 45.85 and 8.94 < lon < 9.00
    assert len(geo.comuni_places()) > 7800


def test_a_lost_leading_zero_is_explained() -> None:
    message = geo.leading_zero_message("13005")
    assert message is not None and "013005" in message and "Albiolo" in message
    avviso = geo.leading_zero_message("13005", lang="it")
    assert avviso is not None and "zero" in avviso and "013005, Albiolo" in avviso
    # The old code of a merged comune names today's comune.
    assert "Uggiate con Ronago" in (geo.leading_zero_message("13228") or "")
    for other in ("013005", "1300", "abcde", "130050"):
        assert geo.leading_zero_message(other) is None


async def _ambito_with_setteville(tenant: Tenant) -> None:
    await Comune.delete().where(Comune.istat_code == SETTEVILLE)
    await Comune(ambito=tenant.ambito_id, istat_code=SETTEVILLE, name="Setteville").save()


async def test_spreadsheet_import_maps_suppressed_codes_with_a_warning(
    client, tenant: Tenant
) -> None:
    await _ambito_with_setteville(tenant)
    name = f"Pro loco {uuid.uuid4().hex[:6]}"
    sheet = (
        "tipo;settore;nome;comune_sede;comuni_serviti\n"
        f"association;third_sector;{name};{QUERO_VAS};{ALANO}|{SETTEVILLE}\n"
    )
    response = await client.post(
        "/api/interop/holders/import",
        files={"file": ("enti.csv", sheet.encode(), "text/csv")},
        headers=tenant.headers(U),
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 1 and report["errors"] == []
    warnings = {w["field"]: w for w in report["warnings"]}
    assert set(warnings) == {"seat_comune", "comuni[0]"}
    assert all(w["line"] == 2 for w in warnings.values())
    assert "025070 (Quero Vas)" in warnings["seat_comune"]["message"]
    assert "025075 (Setteville)" in warnings["seat_comune"]["message"]
    assert "non esiste più" in warnings["comuni[0]"]["message"]
    holder = await Holder.select(Holder.seat_comune, Holder.comuni).where(Holder.name == name)
    assert holder == [{"seat_comune": SETTEVILLE, "comuni": [SETTEVILLE]}]


async def test_spreadsheet_import_explains_a_dropped_leading_zero(client, tenant: Tenant) -> None:
    await _ambito_with_setteville(tenant)
    sheet = f"tipo;settore;nome;comune_sede\nassociation;third_sector;Alfa {tenant.code};25075\n"
    response = await client.post(
        "/api/interop/holders/import",
        files={"file": ("enti.csv", sheet.encode(), "text/csv")},
        headers=tenant.headers(U),
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "seat_comune" and error["line"] == 2
    assert "zero iniziale" in error["message"] and "025075, Setteville" in error["message"]
    # A code that is no comune at all is refused in Italian.
    sheet = f"tipo;settore;nome;comune_sede\nassociation;third_sector;Beta {tenant.code};999998\n"
    response = await client.post(
        "/api/interop/holders/import",
        files={"file": ("enti.csv", sheet.encode(), "text/csv")},
        headers=tenant.headers(U),
    )
    assert response.status_code == 422
    assert "non è un comune di questo ambito" in response.json()["errors"][0]["message"]


async def test_hsds_import_maps_a_suppressed_seat_comune(client, tenant: Tenant) -> None:
    await _ambito_with_setteville(tenant)
    org = str(uuid.uuid4())
    document = {
        "organizations": [{"id": org, "name": f"Coro {tenant.code}", "description": "Un coro"}],
        "locations": [
            {
                "id": str(uuid.uuid4()),
                "organization_id": org,
                "location_type": "physical",
                "name": "Sede",
                "external_identifier": ALANO,
                "external_identifier_type": "ISTAT",
            }
        ],
    }
    response = await client.post(
        "/api/interop/hsds/import",
        content=json.dumps(document).encode(),
        headers=tenant.headers(U),
    )
    assert response.status_code == 200, response.text
    text = json.dumps(response.json())
    assert "025002 (Alano di Piave)" in text and "025075 (Setteville)" in text
    holder = await Holder.select(Holder.seat_comune).where(Holder.name == f"Coro {tenant.code}")
    assert holder == [{"seat_comune": SETTEVILLE}]


# --- loading a newer official list --------------------------------------------------------

HEADER = (
    "Codice Regione;\"Codice dell'Unità territoriale sovracomunale \n(valida a fini "
    'statistici)";Codice Provincia (Storico)(1);Progressivo del Comune (2);Codice Comune '
    "formato alfanumerico;Denominazione (Italiana e straniera);Denominazione in italiano;"
    "Denominazione altra lingua;Sigla automobilistica;Codice Catastale del comune\n"
)


def _official(rows: list[tuple[str, str, str, str]]) -> bytes:
    """An 'Elenco comuni italiani' as ISTAT writes it: ';', Windows-1252, quoted header."""
    lines = [
        f"03;013;013;{code[3:]};{code};{name};{name};;{sigla};{cadastral}\n"
        for code, name, sigla, cadastral in rows
    ]
    return (HEADER + "".join(lines)).encode("cp1252")


def _today_minus(*dropped: str) -> list[tuple[str, str, str, str]]:
    return [
        (p.istat_code, p.name, p.province, p.cadastral_code)
        for p in geo.comuni_places().values()
        if p.istat_code not in dropped
    ]


def test_load_reads_the_official_csv_and_derives_recodings(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(geo.OVERRIDE_ENV, str(tmp_path / "override"))
    # ISTAT moves Olgiate Comasco to a new code (same cadastral code), and renames Albiolo.
    olgiate = geo.comune("013165")
    assert olgiate is not None
    rows = _today_minus("013165")
    rows = [r if r[0] != "013005" else ("013005", "Albiolo Nuova", "CO", r[3]) for r in rows]
    rows.append(("013299", "Olgiate Comasco", "CO", olgiate.cadastral_code))
    elenco = tmp_path / "Elenco-comuni-italiani.csv"
    elenco.write_bytes(_official(rows))
    try:
        assert cli(["comuni", "load", str(elenco), "--on", "2026-06-01"]) == 0
        assert geo.comune("013165") is None
        moved = geo.comune("013299")
        assert moved is not None and (moved.lat, moved.lon) == (olgiate.lat, olgiate.lon)
        code, warning = geo.resolve("013165")
        assert code == "013299" and warning is not None and "recoded" in warning
        assert geo.resolve("013165", on=date(2026, 5, 31)) == ("013165", None)
        assert geo.comune("013005").name == "Albiolo Nuova"  # type: ignore[union-attr]
        # The history shipped with the registry is kept.
        assert geo.resolve("013228")[0] == "013256"
    finally:
        monkeypatch.delenv(geo.OVERRIDE_ENV)
        geo.reload()
    assert geo.comune("013165") is not None


def test_load_with_the_variations_file(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(geo.OVERRIDE_ENV, str(tmp_path / "override"))
    # Binago (013023) is merged into Castelnuovo Bozzente (013059), per ISTAT's variations.
    elenco = tmp_path / "elenco.csv"
    elenco.write_bytes(_official(_today_minus("013023")))
    variations = tmp_path / "variazioni.csv"
    variations.write_text(
        "Anno;Tipo variazione;Codice Regione;Codice Unità territoriale sovracomunale;"
        "Codice Comune formato alfanumerico;Denominazione Comune;Codice Regione associato alla "
        "variazione;Codice Unità territoriale sovracomunale associato alla variazione;Codice "
        "del Comune associato alla variazione o nuovo codice Istat del Comune ;Denominazione "
        "Comune associata alla variazione o nuova denominazione;Provvedimento e Documento;"
        "Contenuto del provvedimento;Data decorrenza validità amministrativa\n"
        "2027;ES;03;013;013023;Binago;03;013;013059;Castelnuovo Bozzente;L.R. 1/2027;;"
        "01/01/2027\n",
        encoding="utf-8",
    )
    try:
        # Without the variations the loader says a code disappears with no successor.
        assert cli(["comuni", "load", str(elenco), "--dry-run"]) == 0
        assert "no successor recorded" in capsys.readouterr().out
        assert geo.comune("013023") is not None  # a dry run writes nothing
        assert cli(["comuni", "load", str(elenco), "--variations", str(variations)]) == 0
        code, warning = geo.resolve("013023", on=date(2027, 1, 2))
        assert code == "013059" and "incorporated into 013059" in (warning or "")
    finally:
        monkeypatch.delenv(geo.OVERRIDE_ENV)
        geo.reload()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"nome;codice\nAlbiolo;013005\n", "no column 'codice_comune_formato_alfanumerico'"),
        (HEADER.encode() + b"03;013;013;005;13005x;Albiolo;Albiolo;;CO;A170\n", "6-digit"),
        (HEADER.encode() + b"03;013;013;005;013005;Albiolo;Albiolo;;CO;A170\n", "not the whole"),
    ],
)
def test_load_refuses_a_file_that_is_not_the_istat_list(
    tmp_path: Path, monkeypatch, capsys, content: bytes, message: str
) -> None:
    monkeypatch.setenv(geo.OVERRIDE_ENV, str(tmp_path / "override"))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    assert cli(["comuni", "load", str(bad)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "override").exists()
    with pytest.raises(istat.IstatFileError):
        istat.read_elenco(content)


async def test_the_api_explains_a_dropped_leading_zero(client, tenant: Tenant) -> None:
    body = {
        "kind": "association",
        "sector": "third_sector",
        "name": f"Gamma {tenant.code}",
        "seat_comune": "13005",
    }
    response = await client.post("/api/holders", json=body, headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert "leading zero" in response.text and "seat_comune" in response.text
    assert "regex" not in response.text
    response = await client.get("/api/holders?comune=13005", headers=tenant.headers(U))
    assert response.status_code == 400, response.text
    assert "leading zero" in response.text and "regex" not in response.text
