"""Ambiti (the tenants) and their comuni.

Two kinds of callers: an ambito's own users (functions taking `actor: Principal`, scoped to
its ambito), and the installation (the `registry ambito` command and the platform admin's
API), which creates ambiti, moves comuni between them, merges, splits and deactivates them.

A comune belongs to one ambito at a time (`Comune.ambito`); every period of it in an ambito
is a `ComuneMembership` row, so moves, merges and splits keep their history. Records never
follow a comune: they stay attached to the ambito that wrote them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count
from piccolo.table import Table

from registry import geo, italian
from registry.access import Principal, Role
from registry.ambiti.schemas import (
    AccountOut,
    AmbitoCreate,
    AmbitoDetail,
    AmbitoOut,
    AmbitoPatch,
    AmbitoSummary,
    ComuneIn,
    ComuneOut,
    FirstUdpCreate,
    MembershipOut,
    MoveOut,
)
from registry.ambiti.tables import Ambito, Comune, ComuneMembership, PlatformAdmin
from registry.common import now
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound

# ---------------------------------------------------------------------------------------
# Building blocks (also used by the demo loader and the tests)


async def create_ambito(code: str, name: str, region: str) -> uuid.UUID:
    if await Ambito.exists().where(Ambito.code == code):
        raise Conflict(f"ambito '{code}' already exists", field="code")
    ambito = Ambito(code=code, name=name, region=region)
    await ambito.save()
    return ambito.id


async def add_comuni(
    ambito_id: uuid.UUID,
    comuni: Iterable[ComuneIn],
    *,
    valid_from: date | None = None,
    reason: str = "created",
) -> None:
    """Give these comuni (of no ambito yet) to the ambito, opening their membership."""
    comuni = list(comuni)
    codes = [c.istat_code for c in comuni]
    if not codes:
        return
    if len(set(codes)) != len(codes):
        duplicate = next(code for code, n in Counter(codes).items() if n > 1)
        raise InvalidInput(f"comune {duplicate} is listed twice", field="istat_code")
    taken = await Comune.select(Comune.istat_code).where(Comune.istat_code.is_in(codes))
    if taken:
        raise Conflict(
            f"comune {taken[0]['istat_code']} already belongs to an ambito", field="istat_code"
        )
    day = valid_from or italian.today()
    async with unit_of_work():
        await Comune.insert(
            *[
                Comune(
                    ambito=ambito_id,
                    istat_code=c.istat_code,
                    name=c.name or _official_name(c.istat_code),
                    population=c.population,
                )
                for c in comuni
            ]
        )
        await ComuneMembership.insert(
            *[
                ComuneMembership(istat_code=code, ambito=ambito_id, valid_from=day, reason=reason)
                for code in codes
            ]
        )


# ---------------------------------------------------------------------------------------
# An ambito's own users


async def get_ambito(actor: Principal, code: str) -> AmbitoOut:
    row = (
        await Ambito.select().where((Ambito.code == code) & (Ambito.id == actor.ambito_id)).first()
    )
    if row is None:
        raise NotFound(f"no ambito with code '{code}'")
    comuni = (
        await Comune.select(Comune.istat_code, Comune.name, Comune.population)
        .where(Comune.ambito == row["id"])
        .order_by(Comune.name)
    )
    return AmbitoOut(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        region=row["region"],
        comuni=[ComuneOut(**c) for c in comuni],
    )


async def list_ambiti(actor: Principal) -> list[AmbitoOut]:
    row = await Ambito.select(Ambito.code).where(Ambito.id == actor.ambito_id).first()
    return [await get_ambito(actor, row["code"])] if row else []


async def update_ambito(actor: Principal, code: str, patch: AmbitoPatch) -> AmbitoOut:
    current = await get_ambito(actor, code)
    actor.require(Role.UDP_ADMIN)
    if patch.name is not msgspec.UNSET:
        await Ambito.update({Ambito.name: patch.name}).where(Ambito.id == current.id)
    return await get_ambito(actor, code)


async def add_comune(actor: Principal, code: str, comune: ComuneIn) -> AmbitoOut:
    """The UdP adds a comune of no ambito to its own (moving one from another ambito is the
    installation's decision: `registry ambito move`)."""
    current = await get_ambito(actor, code)
    actor.require(Role.UDP_ADMIN)
    check_istat_codes([comune.istat_code], "istat_code", indexed=False)
    official = msgspec.structs.replace(comune, name=_official_name(comune.istat_code))
    await add_comuni(current.id, [official], reason="added")
    return await get_ambito(actor, code)


async def comune_codes(ambito_id: uuid.UUID) -> set[str]:
    rows = await Comune.select(Comune.istat_code).where(Comune.ambito == ambito_id)
    return {row["istat_code"] for row in rows}


async def check_comuni(ambito_id: uuid.UUID, codes: Iterable[str], field: str) -> None:
    """Every code must be a comune of this ambito; the error names the offending item."""
    known = await comune_codes(ambito_id)
    for index, code in enumerate(codes):
        if code not in known:
            raise InvalidInput(f"{code} is not a comune of this ambito", field=f"{field}[{index}]")


# ---------------------------------------------------------------------------------------
# ISTAT codes, checked against the registry's list of comuni (registry/geo.py)


def _explain_unknown(code: str) -> str:
    hint = geo.leading_zero_message(code)
    if hint:
        return hint
    current, steps = geo.successor(code)
    if steps:
        first = steps[0]
        today = geo.comune(current)
        name = today.name if today else steps[-1].new_name
        return (
            f"{code} ({first.old_name}) is no longer a comune: since {first.on.isoformat()} "
            f"({first.kind}) it is {current} ({name}); use {current}"
        )
    if code.isdigit() and len(code) == 6:
        return f"{code} is not the ISTAT code of a comune of today"
    return f"'{code}' is not an ISTAT code (6 digits, e.g. 013005)"


def check_istat_codes(codes: Sequence[str], field: str, *, indexed: bool = True) -> None:
    """Every code must be a comune of today's ISTAT list; the error names the item and says
    what is wrong (a dropped leading zero, a suppressed code and its successor)."""
    for index, code in enumerate(codes):
        if geo.comune(code) is None:
            raise InvalidInput(
                _explain_unknown(code), field=f"{field}[{index}]" if indexed else field
            )


def _official_name(code: str) -> str:
    place = geo.comune(code)
    return place.name if place else code


def _comune_in(code: str) -> ComuneIn:
    return ComuneIn(istat_code=code, name=_official_name(code))


def province_codes(province: str, field: str = "province") -> list[str]:
    codes = sorted(place.istat_code for place in geo.comuni_of_province(province))
    if not codes:
        raise InvalidInput(
            f"no comuni in province '{province}' (use its abbreviation, e.g. CO)", field=field
        )
    return codes


# ---------------------------------------------------------------------------------------
# The installation: create, list, show, move, merge, split, (de)activate


def _summary(row: dict[str, Any], comuni_count: int) -> AmbitoSummary:
    return AmbitoSummary(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        region=row["region"],
        active=row["active"],
        comuni_count=comuni_count,
        created_at=row["created_at"],
        deactivated_at=row["deactivated_at"],
        merged_into=row["merged_into"],
    )


async def _ambito_row(code: str, field: str = "code") -> dict[str, Any]:
    row = await Ambito.select().where(Ambito.code == code).first()
    if row is None:
        raise NotFound(f"no ambito with code '{code}'", field=field)
    return row


async def _counts_by_ambito() -> dict[uuid.UUID, int]:
    rows = await Comune.select(Comune.ambito, Count(alias="n")).group_by(Comune.ambito)
    return {row["ambito"]: row["n"] for row in rows}


async def list_all_ambiti() -> list[AmbitoSummary]:
    rows = await Ambito.select().order_by(Ambito.code)
    counts = await _counts_by_ambito()
    return [_summary(row, counts.get(row["id"], 0)) for row in rows]


async def ambito_detail(code: str) -> AmbitoDetail:
    from registry.users.tables import User

    row = await _ambito_row(code)
    comuni = (
        await Comune.select(Comune.istat_code, Comune.name, Comune.population)
        .where(Comune.ambito == row["id"])
        .order_by(Comune.name)
    )
    # The whole history of every comune that ever was in this ambito, wherever it went.
    ever = ComuneMembership.select(ComuneMembership.istat_code).where(
        ComuneMembership.ambito == row["id"]
    )
    history = (
        await ComuneMembership.select(
            ComuneMembership.istat_code,
            ComuneMembership.ambito.code.as_alias("ambito_code"),
            ComuneMembership.valid_from,
            ComuneMembership.valid_until,
            ComuneMembership.reason,
        )
        .where(ComuneMembership.istat_code.is_in(ever))
        .order_by(ComuneMembership.istat_code)
        .order_by(ComuneMembership.valid_from)
        .order_by(ComuneMembership.created_at)
    )
    users = await (
        User.select(User.role, Count(alias="n")).where(User.ambito == row["id"]).group_by(User.role)
    )
    return AmbitoDetail(
        ambito=_summary(row, len(comuni)),
        comuni=[ComuneOut(**c) for c in comuni],
        history=[MembershipOut(**h) for h in history],
        users={u["role"]: u["n"] for u in sorted(users, key=lambda u: u["role"])},
    )


async def open_ambito(data: AmbitoCreate) -> AmbitoDetail:
    """A new ambito with its comuni (by code and/or a whole province), all or nothing."""
    check_istat_codes(data.comuni, "comuni")
    seen: set[str] = set()
    for index, code in enumerate(data.comuni):
        if code in seen:
            # Probably a typo for another comune: better asked than silently dropped.
            raise InvalidInput(f"comune {code} is listed twice", field=f"comuni[{index}]")
        seen.add(code)
    codes = list(data.comuni)
    if data.province is not None:
        codes += [c for c in province_codes(data.province) if c not in codes]
    taken = (
        await Comune.select(Comune.istat_code, Comune.ambito.code.as_alias("ambito_code"))
        .where(Comune.istat_code.is_in(codes))
        .order_by(Comune.istat_code)
        if codes
        else []
    )
    if taken:
        listed = ", ".join(f"{t['istat_code']} ({t['ambito_code']})" for t in taken[:10])
        raise Conflict(
            f"{len(taken)} comuni already belong to another ambito: {listed}; "
            "move them with `registry ambito move` or the move endpoint",
            field="comuni",
        )
    async with unit_of_work():
        ambito_id = await create_ambito(data.code, data.name, data.region)
        await add_comuni(ambito_id, [_comune_in(code) for code in codes])
    return await ambito_detail(data.code)


def _effective_day(on: date | None) -> date:
    day = on or italian.today()
    if day > italian.today():
        # Comune.ambito is the state of today: a change cannot be booked for the future.
        raise InvalidInput(
            f"{day} is in the future: a move takes effect today or earlier", field="on"
        )
    return day


async def _move(codes: Sequence[str], target: dict[str, Any], day: date, reason: str) -> MoveOut:
    """Close each comune's open period on `day` and open one in `target`; inside a unit of
    work opened by the caller."""
    if not target["active"]:
        raise Conflict(f"ambito '{target['code']}' is deactivated", field="to")
    if len(set(codes)) != len(codes):
        duplicate = next(code for code, n in Counter(codes).items() if n > 1)
        raise InvalidInput(f"comune {duplicate} is listed twice", field="comuni")
    current = {
        row["istat_code"]: row
        for row in await ComuneMembership.select()
        .where(ComuneMembership.istat_code.is_in(list(codes)))
        .where(ComuneMembership.valid_until.is_null())
    }
    moved: list[str] = []
    added: list[str] = []
    for index, code in enumerate(codes):
        period = current.get(code)
        if period is None:
            # Of no ambito yet: it must be a comune of today to be added.
            check_istat_codes([code], f"comuni[{index}]", indexed=False)
            added.append(code)
            continue
        if period["ambito"] == target["id"]:
            raise InvalidInput(
                f"comune {code} already belongs to '{target['code']}'", field=f"comuni[{index}]"
            )
        if day < period["valid_from"]:
            raise InvalidInput(
                f"comune {code} joined its ambito on {period['valid_from']}: "
                f"a move on {day} would overlap that period",
                field="on",
            )
        closed = (
            await ComuneMembership.update({ComuneMembership.valid_until: day})
            .where(ComuneMembership.id == period["id"])
            .where(ComuneMembership.valid_until.is_null())
            .returning(ComuneMembership.id)
        )
        if not closed:
            raise Conflict(f"comune {code} was moved meanwhile: try again", field="comuni")
        moved.append(code)
    if moved:
        await Comune.update({Comune.ambito: target["id"]}).where(Comune.istat_code.is_in(moved))
        await ComuneMembership.insert(
            *[
                ComuneMembership(istat_code=c, ambito=target["id"], valid_from=day, reason=reason)
                for c in moved
            ]
        )
    if added:
        await add_comuni(
            target["id"], [_comune_in(c) for c in added], valid_from=day, reason="added"
        )
    return MoveOut(to=target["code"], on=day, moved=moved, added=added)


async def move_comuni(codes: Sequence[str], to: str, on: date | None = None) -> MoveOut:
    """Move comuni to the ambito `to` (a comune of no ambito is simply added to it)."""
    day = _effective_day(on)
    async with unit_of_work():
        target = await _ambito_row(to, "to")
        return await _move(list(codes), target, day, "moved")


async def merge_ambiti(source: str, into: str, on: date | None = None) -> MoveOut:
    """Every comune of `source` moves to `into`; `source` is deactivated, keeping all its
    records (still exportable with `registry export ... --ambito SOURCE`)."""
    if source == into:
        raise InvalidInput("an ambito cannot be merged into itself", field="into")
    day = _effective_day(on)
    async with unit_of_work():
        origin = await _ambito_row(source)
        target = await _ambito_row(into, "into")
        if not origin["active"]:
            raise Conflict(f"ambito '{source}' is already deactivated", field="code")
        codes = [
            row["istat_code"]
            for row in await Comune.select(Comune.istat_code)
            .where(Comune.ambito == origin["id"])
            .order_by(Comune.istat_code)
        ]
        result = await _move(codes, target, day, "merged")
        await Ambito.update(
            {Ambito.active: False, Ambito.deactivated_at: now(), Ambito.merged_into: into}
        ).where(Ambito.id == origin["id"])
    return result


async def split_ambito(
    source: str,
    code: str,
    name: str,
    comuni: Sequence[str],
    region: str | None = None,
    on: date | None = None,
) -> MoveOut:
    """A new ambito `code` made of some comuni of `source` (which keeps the others)."""
    day = _effective_day(on)
    async with unit_of_work():
        origin = await _ambito_row(source)
        if not origin["active"]:
            raise Conflict(f"ambito '{source}' is deactivated", field="code")
        own = await comune_codes(origin["id"])
        for index, comune in enumerate(comuni):
            if comune not in own:
                check_istat_codes([comune], f"comuni[{index}]", indexed=False)
                raise InvalidInput(
                    f"comune {comune} is not a comune of '{source}'", field=f"comuni[{index}]"
                )
        if own <= set(comuni):
            raise InvalidInput(
                f"a split leaves at least one comune in '{source}': to move them all, "
                "merge it into another ambito",
                field="comuni",
            )
        await create_ambito(code, name, region or origin["region"])
        target = await _ambito_row(code)
        return await _move(list(comuni), target, day, "split")


async def set_ambito_state(
    code: str, *, active: bool | None = None, name: str | None = None
) -> AmbitoSummary:
    """Rename, deactivate or reactivate an ambito. Deactivating keeps every record; its users
    can no longer log in, and their tokens stop working."""
    async with unit_of_work():
        row = await _ambito_row(code)
        values: dict[Any, Any] = {}
        if name is not None:
            values[Ambito.name] = name
        if active is not None and active != row["active"]:
            if active and row["merged_into"]:
                raise Conflict(
                    f"ambito '{code}' was merged into '{row['merged_into']}': its comuni are "
                    "there now; move some back with a split or a move first",
                    field="active",
                )
            values[Ambito.active] = active
            values[Ambito.deactivated_at] = None if active else now()
        if values:
            await Ambito.update(values).where(Ambito.id == row["id"])
    row = await _ambito_row(code)
    return _summary(row, len(await comune_codes(row["id"])))


async def is_active(ambito_id: uuid.UUID) -> bool:
    row = await Ambito.select(Ambito.active).where(Ambito.id == ambito_id).first()
    return bool(row and row["active"])


async def check_new_account(username: str, password: str) -> None:
    """Refuse a username or password that account creation would refuse, before any other
    work (the command line creates an ambito and its first UdP in one go)."""
    from registry.tabular.validating import error_of
    from registry.users.tables import User

    try:
        msgspec.convert({"username": username, "password": password}, FirstUdpCreate)
    except msgspec.ValidationError as error:
        field, message = error_of(error)
        raise InvalidInput(message, field=field) from None
    if await User.exists().where(User.username == username) or (
        await PlatformAdmin.exists().where(PlatformAdmin.username == username)
    ):
        raise Conflict(f"username '{username}' is already taken", field="username")


async def create_first_udp(code: str, username: str, password: str) -> AccountOut:
    """The first udp_admin of an ambito; further users are the UdP's own business."""
    from registry.users import service as users
    from registry.users.schemas import UserCreate
    from registry.users.tables import User

    row = await _ambito_row(code)
    if not row["active"]:
        raise Conflict(f"ambito '{code}' is deactivated", field="code")
    if await User.exists().where(
        (User.ambito == row["id"]) & (User.role == Role.UDP_ADMIN.value) & (User.active == True)  # noqa: E712
    ):
        raise Conflict(
            f"ambito '{code}' already has an active udp_admin, who adds the other users",
            field="username",
        )
    if await PlatformAdmin.exists().where(PlatformAdmin.username == username):
        raise Conflict(f"username '{username}' is already taken", field="username")
    user = await users.create_user(
        row["id"], UserCreate(username=username, password=password, role=Role.UDP_ADMIN)
    )
    return AccountOut(id=user.id, username=user.username, role=user.role.value, ambito_code=code)


# Tables whose rows belong to an ambito directly: what "no record lost" is counted over.
def ambito_tables() -> list[type[Table]]:
    from registry.db import all_tables

    return [
        table
        for table in all_tables()
        if table is not Comune
        and table is not ComuneMembership
        and any(
            fk._meta.name == "ambito" and fk._foreign_key_meta.resolved_references is Ambito
            for fk in table._meta.foreign_key_columns
        )
    ]


async def record_counts(ambito_id: uuid.UUID) -> dict[str, int]:
    """Rows of each ambito-owned table that belong to this ambito."""
    return {
        table._meta.tablename: await table.count().where(table.ambito == ambito_id)  # type: ignore[attr-defined]
        for table in ambito_tables()
    }
