"""Funded interventions (interventi): what public money pays for, next to what the community
gives. The UdP writes them (one by one or by importing its spreadsheets); social workers
read them. Money is stored in euro cents, hours delivered in minutes.

Import (CSV or XLSX, through registry/tabular/): every row is validated, every bad row is
reported with its line and reason, and nothing is written unless every row is good (one
transaction). A row whose `code` is already an intervention of the ambito updates it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.access import Principal, Role
from registry.ambiti.service import comune_codes
from registry.common import Page, now, set_fields
from registry.db import array_contains, text_contains, unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound
from registry.interventions.schemas import (
    ALIASES,
    COLUMNS,
    EXAMPLE_CODE,
    TEMPLATE_HEADERS,
    InterventionCreate,
    InterventionOut,
    InterventionPatch,
    InterventionRow,
)
from registry.interventions.tables import FundedIntervention
from registry.tabular import reading, validating, writing
from registry.vocabularies import (
    FNPS_LEVEL_LABELS,
    FUND_SOURCE_LABELS,
    USER_AREA_LABELS,
    FnpsLevel,
    FundSource,
    UserArea,
)

READERS = (Role.UDP_ADMIN, Role.SOCIAL_WORKER)
MAX_EURO = Decimal(10**11)


def _out(row: dict[str, Any]) -> InterventionOut:
    fund, area, level = (
        FundSource(row["fund_source"]),
        UserArea(row["user_area"]),
        FnpsLevel(row["fnps_level"]),
    )
    return InterventionOut(
        id=row["id"],
        ambito_id=row["ambito"],
        code=row["code"],
        title=row["title"],
        description=row["description"],
        fund_source=fund,
        fund_source_label=FUND_SOURCE_LABELS[fund],
        user_area=area,
        user_area_label=USER_AREA_LABELS[area],
        fnps_level=level,
        fnps_level_label=FNPS_LEVEL_LABELS[level],
        comuni=row["comuni"] or [],
        period_start=row["period_start"],
        period_end=row["period_end"],
        committed_cents=row["committed_cents"],
        spent_cents=row["spent_cents"],
        hours_delivered=round(row["delivered_minutes"] / 60, 4),
        beneficiaries=row["beneficiaries"],
        plan_ids=[uuid.UUID(p) for p in row["plan_ids"] or []],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _storable(values: dict[str, Any]) -> dict[str, Any]:
    """API values -> column values."""
    out = dict(values)
    for key in ("fund_source", "user_area", "fnps_level"):
        if key in out:
            out[key] = out[key].value
    if "hours_delivered" in out:
        out["delivered_minutes"] = round(out.pop("hours_delivered") * 60)
    if "plan_ids" in out:
        out["plan_ids"] = [str(p) for p in dict.fromkeys(out["plan_ids"])]
    if "comuni" in out:
        out["comuni"] = list(dict.fromkeys(out["comuni"]))
    return out


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str


def _rules(row: dict[str, Any]) -> list[Problem]:
    """Rules across fields, on column values (shared by the API and the import)."""
    problems = []
    if row["period_end"] < row["period_start"]:
        problems.append(Problem("period_end", "period_end must not be before period_start"))
    if row["spent_cents"] > row["committed_cents"]:
        problems.append(
            Problem("spent_cents", "euro spent cannot exceed euro committed (impegnato)")
        )
    return problems


async def _known_plans(actor: Principal, plan_ids: set[str]) -> set[str]:
    if not plan_ids:
        return set()
    try:
        from registry.plans.tables import Plan
    except ImportError:  # pragma: no cover - without the plans domain
        return set()
    rows = await Plan.select(Plan.id).where(
        Plan.id.is_in([uuid.UUID(p) for p in plan_ids]) & (Plan.ambito == actor.ambito_id)
    )
    return {str(r["id"]) for r in rows}


async def _references(actor: Principal, rows: list[dict[str, Any]]) -> list[list[Problem]]:
    """Comuni and plans must be of this ambito; one query each for all rows."""
    comuni = await comune_codes(actor.ambito_id)
    plans = await _known_plans(actor, {p for r in rows for p in r.get("plan_ids", [])})
    found: list[list[Problem]] = []
    for row in rows:
        problems = []
        for index, code in enumerate(row.get("comuni", [])):
            if code not in comuni:
                problems.append(
                    Problem(f"comuni[{index}]", f"{code} is not a comune of this ambito")
                )
        for index, plan in enumerate(row.get("plan_ids", [])):
            if plan not in plans:
                problems.append(Problem(f"plan_ids[{index}]", f"no plan {plan} in this ambito"))
        found.append(problems)
    return found


def _raise_first(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field)


async def _code_taken(actor: Principal, code: str | None, other_than: uuid.UUID | None) -> bool:
    if code is None:
        return False
    where = (FundedIntervention.ambito == actor.ambito_id) & (FundedIntervention.code == code)
    if other_than is not None:
        where &= FundedIntervention.id != other_than
    return await FundedIntervention.exists().where(where)


async def _row(actor: Principal, intervention_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await FundedIntervention.select()
        .where(
            (FundedIntervention.id == intervention_id)
            & (FundedIntervention.ambito == actor.ambito_id)
        )
        .first()
    )
    if row is None:
        raise NotFound("no such intervention")
    return row


async def get_intervention(actor: Principal, intervention_id: uuid.UUID) -> InterventionOut:
    row = await _row(actor, intervention_id)
    actor.require(*READERS)
    return _out(row)


def _list_where(
    actor: Principal,
    *,
    fund_source: FundSource | None = None,
    user_area: UserArea | None = None,
    fnps_level: FnpsLevel | None = None,
    comune: str | None = None,
    year: int | None = None,
    q: str | None = None,
) -> Any:
    where = FundedIntervention.ambito == actor.ambito_id
    if fund_source:
        where &= FundedIntervention.fund_source == fund_source.value
    if user_area:
        where &= FundedIntervention.user_area == user_area.value
    if fnps_level:
        where &= FundedIntervention.fnps_level == fnps_level.value
    if comune:
        where &= array_contains(FundedIntervention.comuni, comune)
    if year:
        # Interventions running at any time in that year.
        where &= (FundedIntervention.period_start <= date(year, 12, 31)) & (
            FundedIntervention.period_end >= date(year, 1, 1)
        )
    if q:
        title, code = FundedIntervention.title, FundedIntervention.code
        where &= text_contains(title, q) | text_contains(code, q)
    return where


async def list_interventions(
    actor: Principal, *, limit: int = 50, offset: int = 0, **filters: Any
) -> Page[InterventionOut]:
    actor.require(*READERS)
    where = _list_where(actor, **filters)
    rows = (
        await FundedIntervention.select()
        .where(where)
        .order_by(FundedIntervention.period_start, ascending=False)
        .order_by(FundedIntervention.title)
        .order_by(FundedIntervention.id)
        .limit(limit)
        .offset(offset)
    )
    total = await FundedIntervention.count().where(where)
    return Page(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def create_intervention(actor: Principal, data: InterventionCreate) -> InterventionOut:
    actor.require(Role.UDP_ADMIN)
    values = _storable(set_fields(data))
    _raise_first(_rules(values))
    _raise_first((await _references(actor, [values]))[0])
    if await _code_taken(actor, values.get("code"), None):
        raise Conflict(f"an intervention with code '{values['code']}' exists", field="code")
    moment = now()
    row = FundedIntervention(**values, ambito=actor.ambito_id, created_at=moment, updated_at=moment)
    await FundedIntervention.insert(row)
    return _out(await _row(actor, row.id))


async def update_intervention(
    actor: Principal, intervention_id: uuid.UUID, patch: InterventionPatch
) -> InterventionOut:
    current = await _row(actor, intervention_id)
    actor.require(Role.UDP_ADMIN)
    values = _storable(set_fields(patch))
    _raise_first(_rules({**current, **values}))
    _raise_first((await _references(actor, [values]))[0])
    if "code" in values and await _code_taken(actor, values["code"], intervention_id):
        raise Conflict(f"an intervention with code '{values['code']}' exists", field="code")
    if values:
        await FundedIntervention.update({**values, "updated_at": now()}).where(
            FundedIntervention.id == intervention_id
        )
    return _out(await _row(actor, intervention_id))


async def delete_intervention(actor: Principal, intervention_id: uuid.UUID) -> None:
    await _row(actor, intervention_id)
    actor.require(Role.UDP_ADMIN)
    await FundedIntervention.delete().where(FundedIntervention.id == intervention_id)


# --- spreadsheets ---------------------------------------------------------------------------


def _vocabulary(enum: type[Any], labels: dict[Any, str], field: str, text: str) -> Any:
    """A vocabulary value from its code or its Italian label, ignoring case."""
    wanted = text.strip().lower()
    for member in enum:
        if wanted in (member.value, labels[member].lower()):
            return member
    allowed = ", ".join(member.value for member in enum)
    raise InvalidInput(f"'{text}' is not one of: {allowed}", field=field)


def _cents(value: Decimal, field: str) -> int:
    if not value.is_finite() or abs(value) > MAX_EURO:
        raise InvalidInput(f"{value} is not an amount in euro", field=field)
    try:
        cents = value * 100
        if cents != cents.to_integral_value():
            raise InvalidInput(
                f"{value} has more than two decimals (write euro like 1234,56)", field=field
            )
    except InvalidOperation as error:
        raise InvalidInput(f"{value} is not an amount in euro", field=field) from error
    if cents < 0:
        raise InvalidInput("an amount cannot be negative", field=field)
    return int(cents)


def _from_row(item: InterventionRow) -> dict[str, Any]:
    """A validated spreadsheet row -> column values; InvalidInput names the column."""
    hours = item.hours_delivered
    if hours < 0:
        raise InvalidInput("hours cannot be negative", field="hours_delivered")
    values = _storable(
        {
            "code": item.code,
            "title": item.title,
            "description": item.description,
            "fund_source": _vocabulary(
                FundSource, FUND_SOURCE_LABELS, "fund_source", item.fund_source
            ),
            "user_area": _vocabulary(UserArea, USER_AREA_LABELS, "user_area", item.user_area),
            "fnps_level": _vocabulary(FnpsLevel, FNPS_LEVEL_LABELS, "fnps_level", item.fnps_level),
            "comuni": item.comuni,
            "period_start": item.period_start,
            "period_end": item.period_end,
            "committed_cents": _cents(item.euro_committed, "euro_committed"),
            "spent_cents": _cents(item.euro_spent, "euro_spent"),
            "hours_delivered": float(hours),
            "beneficiaries": item.beneficiaries,
            "plan_ids": item.plan_ids,
        }
    )
    for problem in _rules(values):
        column = {"spent_cents": "euro_spent"}.get(problem.field, problem.field)
        raise InvalidInput(problem.message, field=column)
    return values


async def import_file(
    actor: Principal, data: bytes, *, filename: str | None = None, dry_run: bool = False
) -> validating.ImportReport:
    """All rows or none: every bad row is reported, nothing is written if there is one."""
    actor.require(Role.UDP_ADMIN)
    table = reading.read_table(data, filename)
    validated = validating.validate_rows(table, InterventionRow, aliases=ALIASES)
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, item in validated.items:
        if item.code == EXAMPLE_CODE:
            validated.fail(
                line,
                "code",
                "questa è la riga di esempio del modello: sostituiscila con i vostri interventi "
                "(non viene importata)",
            )
            continue
        try:
            rows.append((line, _from_row(item)))
        except InvalidInput as error:
            validated.fail(line, error.field, error.message)
    for (line, _), problems in zip(
        rows, await _references(actor, [v for _, v in rows]), strict=True
    ):
        for problem in problems:
            validated.fail(line, problem.field, problem.message)
    # The same code twice in one file is ambiguous: which row wins?
    first_line: dict[str, int] = {}
    for line, values in rows:
        code = values.get("code")
        if code is None:
            continue
        if code in first_line:
            validated.fail(line, "code", f"code '{code}' is also on line {first_line[code]}")
        else:
            first_line[code] = line
    existing = {}
    if first_line:
        found = await FundedIntervention.select(
            FundedIntervention.id, FundedIntervention.code
        ).where(
            (FundedIntervention.ambito == actor.ambito_id)
            & FundedIntervention.code.is_in(list(first_line))
        )
        existing = {r["code"]: r["id"] for r in found}
    updates = sum(1 for _, v in rows if v.get("code") in existing)
    if not validated.ok or dry_run:
        return validating.report(
            validated, created=len(rows) - updates, updated=updates, dry_run=dry_run
        )
    moment = now()
    async with unit_of_work():
        for _, values in rows:
            target = existing.get(values.get("code"))
            if target is not None:
                await FundedIntervention.update({**values, "updated_at": moment}).where(
                    FundedIntervention.id == target
                )
            else:
                await FundedIntervention.insert(
                    FundedIntervention(
                        **values, ambito=actor.ambito_id, created_at=moment, updated_at=moment
                    )
                )
    return validating.report(validated, created=len(rows) - updates, updated=updates)


def _sheet_row(item: InterventionOut) -> dict[str, Any]:
    return {
        "code": item.code,
        "title": item.title,
        "description": item.description,
        "fund_source": item.fund_source.value,
        "user_area": item.user_area.value,
        "fnps_level": item.fnps_level.value,
        "comuni": item.comuni,
        "period_start": item.period_start,
        "period_end": item.period_end,
        "euro_committed": Decimal(item.committed_cents) / 100,
        "euro_spent": Decimal(item.spent_cents) / 100,
        "hours_delivered": item.hours_delivered,
        "beneficiaries": item.beneficiaries,
        "plan_ids": [str(p) for p in item.plan_ids],
    }


async def export(actor: Principal, fmt: str, **filters: Any) -> bytes:
    """The interventions in the import's own format: export, edit, import back."""
    actor.require(*READERS)
    rows = (
        await FundedIntervention.select()
        .where(_list_where(actor, **filters))
        .order_by(FundedIntervention.period_start)
        .order_by(FundedIntervention.title)
    )
    items = [_sheet_row(_out(r)) for r in rows]
    if fmt == "csv":
        return writing.to_csv(COLUMNS, items)
    return writing.to_xlsx([writing.Sheet("Interventi", COLUMNS, items), _vocabulary_sheet()])


def _vocabulary_sheet() -> writing.Sheet:
    rows: list[list[str]] = []
    for column, labels in (
        ("fund_source", FUND_SOURCE_LABELS),
        ("user_area", USER_AREA_LABELS),
        ("fnps_level", FNPS_LEVEL_LABELS),
    ):
        rows.extend([column, member.value, label] for member, label in labels.items())
    return writing.Sheet("Valori ammessi", ["colonna", "valore", "etichetta"], rows)


def _example_row() -> dict[str, Any]:
    """One filled-in row to copy from, marked as the example (refused if left in)."""
    return {
        "code": EXAMPLE_CODE,
        "title": "ESEMPIO (sostituisci questa riga): Assistenza domiciliare anziani",
        "description": "Servizio di assistenza domiciliare (SAD) per anziani non autosufficienti",
        "fund_source": FUND_SOURCE_LABELS[FundSource.NATIONAL],
        "user_area": USER_AREA_LABELS[UserArea.ELDERLY],
        "fnps_level": FNPS_LEVEL_LABELS[FnpsLevel.HOME_CARE],
        "comuni": [],
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 12, 31),
        "euro_committed": Decimal("48000"),
        "euro_spent": Decimal("12500.50"),
        "hours_delivered": Decimal("820"),
        "beneficiaries": 35,
        "plan_ids": [],
    }


def template(fmt: str) -> bytes:
    """The columns with their Italian names and one example row (and, in XLSX, the allowed
    values)."""
    headers = [TEMPLATE_HEADERS[c] for c in COLUMNS]
    rows = [_example_row()]
    if fmt == "csv":
        return writing.to_csv(COLUMNS, rows, headers=headers)
    return writing.to_xlsx(
        [writing.Sheet("Interventi", COLUMNS, rows, headers=headers), _vocabulary_sheet()]
    )
