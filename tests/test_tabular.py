"""registry/tabular/: reading CSV/XLSX into validated rows, the report, the writers."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec
import pytest

from registry.access import Role
from registry.errors import InvalidInput
from registry.tabular.reading import TabularError, read_table
from registry.tabular.validating import (
    AmbiguousNumber,
    ImportReport,
    RowError,
    normalise_number,
    number_kind,
    report,
    validate_rows,
)
from registry.tabular.writing import Sheet, to_csv, to_xlsx

Istat = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]


class Item(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Annotated[str, msgspec.Meta(min_length=1)]
    hours: Annotated[int, msgspec.Meta(ge=0)] = 0
    amount: Decimal = Decimal(0)
    start: date | None = None
    comuni: list[Istat] = []
    active: bool = True


def test_csv_with_semicolons_bom_and_line_numbers() -> None:
    data = "\ufefftitolo;ore;comuni\nA;3;013001, 013002\n\n;;\nB;4;\n".encode()
    table = read_table(data)
    assert table.headers == ["titolo", "ore", "comuni"]
    assert [(r.line, r.values["titolo"]) for r in table.rows] == [(2, "A"), (5, "B")]
    validated = validate_rows(table, Item, aliases={"titolo": "title", "ore": "hours"})
    assert validated.ok
    assert [line for line, _ in validated.items] == [2, 5]
    assert validated.items[0][1].comuni == ["013001", "013002"]


def test_csv_with_commas_and_quoted_multiline_cell_keeps_physical_lines() -> None:
    data = b'title,hours\n"two\nlines",1\nC,x\n'
    validated = validate_rows(read_table(data), Item)
    assert validated.errors == [
        RowError(line=4, field="hours", message="Expected `int`, got `str`")
    ]


def test_every_bad_row_is_reported_with_its_field() -> None:
    data = b"title,hours,comuni,start\nA,-1,013001,2026-01-01\n,2,,\nC,2,13001,\nD,2,,31/02/2026\n"
    validated = validate_rows(read_table(data), Item)
    fields = [(e.line, e.field) for e in validated.errors]
    assert fields == [(2, "hours"), (3, "title"), (4, "comuni"), (5, "start")]
    result = report(validated, created=4)
    assert (result.rows_read, result.rejected, result.created) == (4, 4, 0)


def test_header_problems_are_line_one() -> None:
    validated = validate_rows(read_table(b"hours,colour\n1,red\n"), Item)
    assert {(e.line, e.field) for e in validated.errors} == {(1, "colour"), (1, "title")}
    assert not validated.items


def test_extra_cells_without_header_are_an_error() -> None:
    validated = validate_rows(read_table(b"title,hours\nA,1,surplus\n"), Item)
    assert validated.errors[0].line == 2


def test_italian_numbers_and_booleans() -> None:
    data = 'title;amount;active\nA;"1.234,56";no\nB;€ 12,5;sì\n'.encode()
    validated = validate_rows(read_table(data), Item)
    assert validated.ok, validated.errors
    assert [(i.amount, i.active) for _, i in validated.items] == [
        (Decimal("1234.56"), False),
        (Decimal("12.5"), True),
    ]
    assert normalise_number("1,234.56") == "1234.56"


def test_italian_dates_become_iso_dates() -> None:
    data = b"title;start\nA;31/12/2026\nB;2026-01-05\nC;5.3.2026\nD;32/01/2026\n"
    validated = validate_rows(read_table(data), Item)
    assert [(line, i.start) for line, i in validated.items] == [
        (2, date(2026, 12, 31)),
        (3, date(2026, 1, 5)),
        (4, date(2026, 3, 5)),
    ]
    assert [(e.line, e.field) for e in validated.errors] == [(5, "start")]


def test_per_row_callable() -> None:
    def parse(values: dict[str, str | None]) -> int:
        if not values["n"] or not values["n"].isdigit():
            raise InvalidInput("not a number", field="n")
        return int(values["n"])

    validated = validate_rows(read_table(b"n\n1\nx\n3\n"), parse)
    assert [v for _, v in validated.items] == [1, 3]
    assert validated.errors == [RowError(line=3, field="n", message="not a number")]


def test_check_callable_and_later_failures() -> None:
    def check(item: Item) -> None:
        if item.hours > 10:
            raise InvalidInput("too many hours", field="hours")

    validated = validate_rows(read_table(b"title,hours\nA,11\nB,2\nC,3\n"), Item, check=check)
    validated.fail(3, "title", "already exists")
    assert [line for line, _ in validated.good()] == [4]
    assert report(validated).rejected == 2


def test_xlsx_round_trip_through_the_writer() -> None:
    data = to_xlsx(
        [
            Sheet(
                "Interventi: 2026/1",
                ["title", "hours", "start", "comuni", "amount"],
                [
                    {"title": "A", "hours": 3, "start": date(2026, 1, 2), "comuni": ["013001"]},
                    ["B", 4, None, ["013001", "013002"], 1234.5],
                ],
            )
        ]
    )
    table = read_table(data)
    validated = validate_rows(table, Item)
    assert validated.ok, validated.errors
    items = [item for _, item in validated.items]
    assert items[0].start == date(2026, 1, 2)
    assert items[1].comuni == ["013001", "013002"]
    assert items[1].amount == Decimal("1234.5")
    assert [line for line, _ in validated.items] == [2, 3]


def test_xlsx_with_native_number_cells() -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Title", "Hours"])
    sheet.append(["A", 2.0])
    sheet.append([None, None])
    sheet.append(["B", "x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    validated = validate_rows(read_table(buffer.getvalue()), Item)
    assert [(line, item.hours) for line, item in validated.items] == [(2, 2)]
    assert [(e.line, e.field) for e in validated.errors] == [(4, "hours")]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"title\n\xff\xfe broken", "UTF-8"),
        (b"PK\x03\x04 not really a zip", "XLSX"),
        (b"title,title\nA,B\n", "twice"),
    ],
)
def test_unreadable_files(data: bytes, needle: str) -> None:
    with pytest.raises(TabularError) as caught:
        read_table(data)
    assert needle in caught.value.message
    assert caught.value.field == "file"


def test_too_many_rows() -> None:
    with pytest.raises(TabularError):
        read_table(b"title\n" + b"a\n" * 11, max_rows=10)


def test_to_csv_is_excel_friendly_and_reads_back() -> None:
    data = to_csv(
        ["title", "hours", "comuni", "note"],
        [
            {"title": "A;B", "hours": 3, "comuni": ["013001", "013002"], "note": "=SUM(A1)"},
            ["C", -2, [], None],
        ],
    )
    assert data.startswith(b"\xef\xbb\xbf")
    table = read_table(data)
    assert table.rows[0].values == {
        "title": "A;B",
        "hours": "3",
        "comuni": "013001; 013002",
        "note": "'=SUM(A1)",
    }
    assert table.rows[1].values["hours"] == "-2"


def test_report_is_a_msgspec_struct() -> None:
    encoded = msgspec.json.encode(
        ImportReport(rows_read=1, errors=[RowError(line=2, field="x", message="bad")])
    )
    assert b'"line":2' in encoded


@pytest.mark.parametrize(
    ("text", "spreadsheet", "machine"),
    [
        ('=HYPERLINK("http://x","y")', "'=", "'="),
        ("@SUM(A1)", "'@", "'@"),
        ("+39 031 5555", "'+", "+3"),
        ("-2+3", "'-", "-2"),
        ("+cmd|' /C calc'!A0", "'+", "'+"),
        ("-A1", "'-", "'-"),
        ("\tnascosto", "'\t", "'\t"),
        ("\r=1+1", "'\r", "'\r"),
        ("-12.5", "-1", "-1"),
        ("Via Roma", "Vi", "Vi"),
    ],
)
def test_formula_guard_for_spreadsheets_and_for_programs(
    text: str, spreadsheet: str, machine: str
) -> None:
    from registry.tabular.writing import escape_formula, unescape_formula

    for mode, start in (("spreadsheet", spreadsheet), ("machine", machine)):
        escaped = escape_formula(text, mode)  # type: ignore[arg-type]
        assert escaped.startswith(start), (mode, escaped)
        assert unescape_formula(escaped) == text
    data = to_csv(["v"], [[text]], bom=False, formulas="machine")
    assert data.decode().split("\r\n")[1].lstrip('"').startswith(machine)


def test_xlsx_export_never_fails_on_control_characters() -> None:
    from openpyxl import load_workbook

    text = "Trasporto\u000bsociale\x00\x1f fine\ttab\nriga"
    data = to_xlsx([Sheet("Risorse", ["title"], [[text], ["=1+1"]])])
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[1:] == [("Trasporto sociale   fine\ttab\nriga",), ("'=1+1",)]


# --- numbers: the column decides, and what reads two ways is refused ------------------------


class Money(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: str
    euro_committed: Decimal = Decimal(0)
    hours_delivered: Decimal = Decimal(0)
    beneficiaries: int = 0


@pytest.mark.parametrize(
    ("cell", "kind", "expected"),
    [
        ("1.500", "money", "1500"),  # an Italian sheet: fifteen hundred euro
        ("€ 2.000", "money", "2000"),
        ("€ 2.000", "decimal", "2000"),  # the euro sign makes it money
        ("1.500,50", "money", "1500.50"),
        ("1,5", "money", "1.5"),
        ("1.000.000", "money", "1000000"),
        ("12.5", "decimal", "12.5"),  # one or two digits after a dot: a decimal point
        ("1,234", "decimal", "1.234"),  # a decimal comma
        ("1.234,5", "decimal", "1234.5"),
        ("1.500", "integer", "1500"),
        ("-1.500", "money", "-1500"),
    ],
)
def test_numbers_read_by_the_columns_kind(cell: str, kind: str, expected: str) -> None:
    assert normalise_number(cell, kind) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "kind", "advice"),
    [
        ("1.234", "decimal", "Write 1234 for the whole number, or 1,234 with a decimal comma"),
        ("1,500", "money", "Write 1500 (or 1.500) for the thousands, or 1,50 with two decimals"),
        ("1,500", "integer", "write 1500 or 1.500"),
    ],
)
def test_ambiguous_numbers_are_refused_with_how_to_write_them(
    cell: str, kind: str, advice: str
) -> None:
    with pytest.raises(AmbiguousNumber, match="ambiguous") as caught:
        normalise_number(cell, kind)  # type: ignore[arg-type]
    assert advice in str(caught.value)


def test_number_kind_comes_from_the_type_and_the_name() -> None:
    kinds = {
        f.encode_name: number_kind(f.encode_name, f.type)
        for f in msgspec.inspect.type_info(Money).fields  # type: ignore[attr-defined]
        if f.encode_name != "title"
    }
    assert kinds == {
        "euro_committed": "money",
        "hours_delivered": "decimal",
        "beneficiaries": "integer",
    }


def test_an_italian_sheet_never_misreads_a_thousands_dot() -> None:
    data = (
        "title;euro_committed;hours_delivered;beneficiaries\n"
        "A;1.500;12,5;1.200\n"
        "B;€ 2.000;1.234;3\n"
        "C;1.500,50;2;1\n"
        "D;1,500;2;1\n"
    ).encode()
    validated = validate_rows(read_table(data), Money)
    good = {
        i.title: (i.euro_committed, i.hours_delivered, i.beneficiaries) for _, i in validated.items
    }
    assert good == {
        "A": (Decimal("1500"), Decimal("12.5"), 1200),
        "C": (Decimal("1500.50"), Decimal("2"), 1),
    }
    errors = {(e.line, e.field): e.message for e in validated.errors}
    assert set(errors) == {(3, "hours_delivered"), (5, "euro_committed")}
    assert "'1.234' is ambiguous" in errors[(3, "hours_delivered")]
    assert "'1,500' is ambiguous" in errors[(5, "euro_committed")]


def test_native_xlsx_numbers_are_never_reinterpreted() -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["title", "euro_committed", "hours_delivered", "beneficiaries"])
    sheet.append(["A", 1.5, 1.234, 1200])  # numbers, not text: no ambiguity
    sheet.append(["B", "1.500", "1.234", "3"])  # text cells: read as text is
    buffer = io.BytesIO()
    workbook.save(buffer)
    validated = validate_rows(read_table(buffer.getvalue()), Money)
    assert [(line, i.euro_committed, i.hours_delivered) for line, i in validated.items] == [
        (2, Decimal("1.5"), Decimal("1.234"))
    ]
    assert [(e.line, e.field) for e in validated.errors] == [(3, "hours_delivered")]


async def test_intervention_import_refuses_an_ambiguous_hours_cell(client, tenant) -> None:
    """The reported case, through the API: `1.500` euro is fifteen hundred (150000 cents, not
    150), `€ 2.000` two thousand, and `1.234` hours refuses the file with the row named."""
    header = (
        "codice;titolo;fonte;area;macro_livello;comuni;inizio;fine;"
        "euro_impegnati;euro_spesi;ore_erogate;beneficiari"
    )
    common = "national;anziani;home_care;;2026-01-01;2026-12-31"
    headers = {**tenant.headers(Role.UDP_ADMIN), "Content-Type": "text/csv"}
    bad = f"{header}\nN-1;Uno;{common};€ 2.000;1.500;1.234;3\n".encode()
    response = await client.post("/api/interventions/import", content=bad, headers=headers)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["line"], error["field"]) == (2, "hours_delivered")
    assert "Write 1234" in error["message"] and "1,234" in error["message"]
    good = f"{header}\nN-1;Uno;{common};€ 2.000;1.500;1,25;3\n".encode()
    response = await client.post("/api/interventions/import", content=good, headers=headers)
    assert response.status_code == 200, response.text
    listed = await client.get(
        "/api/interventions", params={"q": "N-1"}, headers=tenant.headers(Role.UDP_ADMIN)
    )
    item = listed.json()["items"][0]
    assert (item["committed_cents"], item["spent_cents"]) == (200_000, 150_000)
    assert item["hours_delivered"] == 1.25
