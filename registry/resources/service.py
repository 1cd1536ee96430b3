"""Resources and their availability: ownership, validation, search, slot expansion."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from registry.access import Principal, Role
from registry.ambiti.service import check_comuni
from registry.common import Page, now, page_total, set_fields
from registry.config import Settings
from registry.db import array_contains, fetch, is_sqlite, text_contains, unit_of_work
from registry.errors import InvalidInput, NotFound, PermissionDenied
from registry.freshness.state import cutoffs, freshness_sql
from registry.holders.tables import Holder
from registry.resources import availability
from registry.resources.schemas import (
    ResourceCreate,
    ResourceOut,
    ResourcePatch,
    SlotOut,
    SlotsOut,
    WindowIn,
    WindowOut,
)
from registry.resources.tables import AvailabilityWindow, Resource
from registry.taxonomy import service as taxonomy
from registry.vocabularies import ResourceStatus, ResourceUnit, UserArea

_SET_BY_JOBS = {ResourceStatus.STALE, ResourceStatus.EXPIRED}
_COLUMNS = (*Resource.all_columns(), Resource.holder.name.as_alias("holder_name"))
# The same columns as _COLUMNS, hand-written for the hot reads (issue 18): building
# the Piccolo query cost several times more than running it.
_FROM = "FROM resource r LEFT JOIN holder h ON h.id = r.holder "
_SELECT = (
    "SELECT "
    + ", ".join(f'r."{c._meta.db_column_name}"' for c in Resource.all_columns())
    + " , h.name AS holder_name "
    + _FROM
)
_WHERE_BY_ID = "WHERE r.id = {} AND r.ambito = {}"
_BY_ID = _SELECT + _WHERE_BY_ID
_CURRENT = "r.ambito = {} AND r.status <> 'archived'"
_WHERE_FIRST_CURRENT = "WHERE " + _CURRENT + " ORDER BY r.title, r.id LIMIT {} OFFSET {}"
_COUNT_CURRENT = "SELECT count(*) AS n FROM resource r WHERE " + _CURRENT


# The two hottest reads have each row made as JSON by the database and decoded by msgspec in
# one call: the engines' converters (a Python call per UUID, timestamp and array of every row)
# took over half of a page of 50 resources (issue 18). The fields are ResourceOut's, from the
# same columns as _SELECT; the default page as the API sends it has their freshness too.
_JSON_COLUMN = {"ambito_id": "r.ambito", "holder_id": "r.holder", "holder_name": "h.name"}
_JSON_ARRAYS = {"comuni", "target_groups", "languages", "requirements"}
_JSON_TIMES = {"created_at", "updated_at", "confirmed_at"}


def _json_value(name: str, sqlite: bool) -> str:
    column = _JSON_COLUMN.get(name, f"r.{name}")
    if name in _JSON_ARRAYS:  # SQLite keeps them as JSON text, PostgreSQL as arrays
        return f"json(coalesce({column}, '[]'))" if sqlite else f"coalesce(to_json({column}), '[]')"
    if name in _JSON_TIMES:  # RFC 3339 in UTC, as msgspec writes them
        if sqlite:  # stored as Python writes an aware moment in UTC: "... hh:mm:ss.ffffff+00:00"
            return f"replace(replace({column}, ' ', 'T'), '+00:00', 'Z')"
        # Whatever the session's time zone.
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    return column


def _json_row(sqlite: bool, *, with_freshness: bool = False) -> str:
    """A resource as JSON; `with_freshness`: with its freshness at the cut-offs the first two
    placeholders take (freshness.state.cutoffs)."""
    fields = [name for name in ResourceOut.__struct_fields__ if name != "freshness"]
    pairs = ", ".join(f"'{name}', {_json_value(name, sqlite)}" for name in fields)
    if with_freshness:
        pairs += ", 'freshness', " + freshness_sql("r.status", "r.confirmed_at")
    return f"SELECT {'json_object' if sqlite else 'json_build_object'}({pairs}) AS row "


def _json_page(sqlite: bool, *, with_freshness: bool = False) -> str:
    """The default page in one statement: its rows as one JSON array, and the total."""
    rows = _json_row(sqlite, with_freshness=with_freshness)
    rows += ", r.title, r.id " + _FROM + _WHERE_FIRST_CURRENT
    # SQLite 3.40 has no ORDER BY inside an aggregate: its subquery hands the rows on in order.
    joined = (
        "'[' || coalesce(group_concat(page.row, ','), '') || ']'"
        if sqlite
        else "coalesce(json_agg(page.row ORDER BY page.title, page.id), '[]')"
    )
    return f"SELECT ({_COUNT_CURRENT}) AS n, (SELECT {joined} FROM ({rows}) page) AS rows"


_JSON_BY_ID = {sqlite: _json_row(sqlite) + _FROM + _WHERE_BY_ID for sqlite in (True, False)}
_JSON_PAGE = {sqlite: _json_page(sqlite) for sqlite in (True, False)}
_API_PAGE = {sqlite: _json_page(sqlite, with_freshness=True) for sqlite in (True, False)}
_JSON_ROWS = msgspec.json.Decoder(list[ResourceOut])


def _out(row: dict[str, Any]) -> ResourceOut:
    return ResourceOut(
        id=row["id"],
        ambito_id=row["ambito"],
        holder_id=row["holder"],
        holder_name=row["holder_name"],
        title=row["title"],
        description=row["description"],
        category_code=row["category_code"],
        unit=ResourceUnit(row["unit"]),
        capacity=row["capacity"],
        comuni=row["comuni"] or [],
        target_groups=row["target_groups"] or [],
        languages=row["languages"] or [],
        requirements=row["requirements"] or [],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        status=ResourceStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        confirmed_at=row["confirmed_at"],
    )


async def _row(actor: Principal, resource_id: uuid.UUID) -> dict[str, Any]:
    rows = await fetch(_BY_ID, resource_id, actor.ambito_id)
    row = rows[0] if rows else None
    if row is None:
        raise NotFound("no such resource")
    return row


async def _editable(actor: Principal, resource_id: uuid.UUID) -> dict[str, Any]:
    row = await _row(actor, resource_id)
    if not actor.manages_holder(row["holder"]):
        raise PermissionDenied("only the UdP or the holder's own manager can change this resource")
    return row


def _storable(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for key in ("unit", "status"):
        if key in out:
            out[key] = out[key].value
    if "target_groups" in out:
        out["target_groups"] = [group.value for group in out["target_groups"]]
    return out


async def _validate(actor: Principal, values: dict[str, Any], current: dict[str, Any]) -> None:
    if "category_code" in values:
        await taxonomy.require_leaf_or_term(values["category_code"])
    if "comuni" in values:
        await check_comuni(actor.ambito_id, values["comuni"], "comuni")
    if values.get("status") in _SET_BY_JOBS:
        raise InvalidInput(
            "status 'stale' and 'expired' are set by the registry itself", field="status"
        )
    start = values.get("valid_from", current.get("valid_from"))
    end = values.get("valid_until", current.get("valid_until"))
    if start and end and end < start:
        raise InvalidInput("valid_until must not be before valid_from", field="valid_until")


async def get_resource(actor: Principal, resource_id: uuid.UUID) -> ResourceOut:
    rows = await fetch(_JSON_BY_ID[is_sqlite()], resource_id, actor.ambito_id)
    if not rows:
        raise NotFound("no such resource")
    return _JSON_ROWS.decode(f"[{rows[0]['row']}]")[0]


def unfiltered(*filters: object) -> bool:
    """Whether a listing asks for the default page (no filter given): the one read whole by
    hand-written SQL (list_resources, default_page_json)."""
    return not any(filters)


async def default_page_json(
    actor: Principal, settings: Settings, *, limit: int = 50, offset: int = 0
) -> bytes:
    """The default page (list_resources with no filter) as the API sends it, the JSON of a
    Page[ResourceOut] with each resource's freshness, made whole by the database: decoding
    fifty resources into Python and encoding them again took a fifth of the request."""
    stale, aging = cutoffs(now(), settings)
    ambito = actor.ambito_id
    (page,) = await fetch(_API_PAGE[is_sqlite()], ambito, stale, aging, ambito, limit, offset)
    total = int(page["n"])
    return f'{{"items":{page["rows"]},"total":{total},"limit":{limit},"offset":{offset}}}'.encode()


async def list_resources(
    actor: Principal,
    *,
    category: str | None = None,
    comune: str | None = None,
    target_group: UserArea | None = None,
    holder_id: uuid.UUID | None = None,
    q: str | None = None,
    status: ResourceStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ResourceOut]:
    if unfiltered(status, category, comune, target_group, holder_id, q):
        # The default list (no filter): hand-written, same rows and order as below.
        ambito = actor.ambito_id
        (page,) = await fetch(_JSON_PAGE[is_sqlite()], ambito, ambito, limit, offset)
        items = _JSON_ROWS.decode(page["rows"])
        return Page(items=items, total=int(page["n"]), limit=limit, offset=offset)
    where = Resource.ambito == actor.ambito_id
    where &= (Resource.status == status.value) if status else (Resource.status != "archived")
    if category:
        codes = taxonomy.descendants(await taxonomy.parent_map(), category)
        where &= Resource.category_code.is_in(codes)
    if comune:
        where &= array_contains(Resource.comuni, comune)
    if target_group:
        where &= array_contains(Resource.target_groups, target_group.value)
    if holder_id:
        where &= Resource.holder == holder_id
    if q:
        where &= text_contains(Resource.title, q) | text_contains(Resource.description, q)
    rows = (
        await Resource.select(*_COLUMNS)
        .where(where)
        .order_by(Resource.title)
        .order_by(Resource.id)
        .limit(limit)
        .offset(offset)
    )
    total = await page_total(len(rows), limit, offset, Resource.count().where(where))
    return Page(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def create_resource(actor: Principal, data: ResourceCreate) -> ResourceOut:
    actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
    holder_id = data.holder_id or actor.holder_id
    if holder_id is None:
        raise InvalidInput("holder_id is required", field="holder_id")
    holder = await Holder.select(Holder.ambito).where(Holder.id == holder_id).first()
    if holder is None or holder["ambito"] != actor.ambito_id:
        raise InvalidInput("no such holder in this ambito", field="holder_id")
    if not actor.manages_holder(holder_id):
        raise PermissionDenied("a holder manager adds resources only to its own holder")
    values = set_fields(data)
    values.pop("holder_id", None)
    await _validate(actor, values, {})
    moment = now()
    resource = Resource(
        **_storable(values),
        ambito=actor.ambito_id,
        holder=holder_id,
        created_at=moment,
        updated_at=moment,
        confirmed_at=moment,
    )
    await resource.save()
    return await get_resource(actor, resource.id)


async def update_resource(
    actor: Principal, resource_id: uuid.UUID, patch: ResourcePatch
) -> ResourceOut:
    current = await _editable(actor, resource_id)
    values = set_fields(patch)
    await _validate(actor, values, current)
    if values:
        await Resource.update({**_storable(values), "updated_at": now()}).where(
            Resource.id == resource_id
        )
    return await get_resource(actor, resource_id)


async def archive_resource(actor: Principal, resource_id: uuid.UUID) -> None:
    """Archived, not deleted: matches and contributions keep pointing at it."""
    await _editable(actor, resource_id)
    await Resource.update({Resource.status: "archived", Resource.updated_at: now()}).where(
        Resource.id == resource_id
    )


async def confirm_resource(actor: Principal, resource_id: uuid.UUID) -> ResourceOut:
    """The holder says "still true": availability is current as of now."""
    current = await _editable(actor, resource_id)
    changes: dict[Any, Any] = {Resource.confirmed_at: now()}
    if current["status"] == ResourceStatus.STALE:
        changes[Resource.status] = ResourceStatus.ACTIVE.value
    await Resource.update(changes).where(Resource.id == resource_id)
    return await get_resource(actor, resource_id)


# --- availability -------------------------------------------------------------------------


def _window(data: WindowIn) -> availability.Window:
    window = availability.Window(
        freq=data.freq.value,
        interval=data.interval,
        by_day=tuple(data.by_day),
        start_time=availability.parse_hhmm(data.start_time, "start_time"),
        end_time=availability.parse_hhmm(data.end_time, "end_time"),
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        exceptions=frozenset(data.exceptions),
        capacity=data.capacity,
    )
    availability.validate(window)
    return window


def rrule_text(window: availability.Window) -> str:
    parts = [f"FREQ={window.freq}"]
    if window.interval != 1:
        parts.append(f"INTERVAL={window.interval}")
    if window.by_day:
        parts.append("BYDAY=" + ",".join(window.by_day))
    if window.valid_until:
        parts.append("UNTIL=" + window.valid_until.strftime("%Y%m%d"))
    return ";".join(parts)


def _window_out(row: dict[str, Any]) -> WindowOut:
    window = availability.window_from_row(row)
    return WindowOut(
        id=row["id"],
        resource_id=row["resource"],
        freq=row["freq"],
        interval=row["interval"],
        by_day=list(window.by_day),
        start_time=window.start_time.strftime("%H:%M"),
        end_time=window.end_time.strftime("%H:%M"),
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        exceptions=sorted(window.exceptions),
        capacity=row["capacity"],
        notes=row["notes"],
        rrule=rrule_text(window),
        updated_at=row["updated_at"],
    )


async def list_windows(actor: Principal, resource_id: uuid.UUID) -> list[WindowOut]:
    await _row(actor, resource_id)
    rows = (
        await AvailabilityWindow.select()
        .where(AvailabilityWindow.resource == resource_id)
        .order_by(AvailabilityWindow.valid_from)
        .order_by(AvailabilityWindow.start_time)
    )
    return [_window_out(row) for row in rows]


def _window_values(data: WindowIn) -> dict[str, Any]:
    window = _window(data)
    return {
        "freq": window.freq,
        "interval": window.interval,
        "by_day": list(window.by_day),
        "start_time": window.start_time,
        "end_time": window.end_time,
        "valid_from": window.valid_from,
        "valid_until": window.valid_until,
        "exceptions": sorted(window.exceptions),
        "capacity": window.capacity,
        "notes": data.notes,
    }


async def add_window(actor: Principal, resource_id: uuid.UUID, data: WindowIn) -> WindowOut:
    await _editable(actor, resource_id)
    values = _window_values(data)
    moment = now()
    row = AvailabilityWindow(**values, resource=resource_id, created_at=moment, updated_at=moment)
    async with unit_of_work():
        await row.save()
        # Adding availability is itself a confirmation that the resource is current.
        await Resource.update({Resource.updated_at: moment, Resource.confirmed_at: moment}).where(
            Resource.id == resource_id
        )
    return await _get_window(resource_id, row.id)


async def _get_window(resource_id: uuid.UUID, window_id: uuid.UUID) -> WindowOut:
    row = (
        await AvailabilityWindow.select()
        .where((AvailabilityWindow.id == window_id) & (AvailabilityWindow.resource == resource_id))
        .first()
    )
    if row is None:
        raise NotFound("no such availability window")
    return _window_out(row)


async def replace_window(
    actor: Principal, resource_id: uuid.UUID, window_id: uuid.UUID, data: WindowIn
) -> WindowOut:
    await _editable(actor, resource_id)
    await _get_window(resource_id, window_id)
    moment = now()
    async with unit_of_work():
        await AvailabilityWindow.update({**_window_values(data), "updated_at": moment}).where(
            AvailabilityWindow.id == window_id
        )
        await Resource.update({Resource.updated_at: moment, Resource.confirmed_at: moment}).where(
            Resource.id == resource_id
        )
    return await _get_window(resource_id, window_id)


async def delete_window(actor: Principal, resource_id: uuid.UUID, window_id: uuid.UUID) -> None:
    await _editable(actor, resource_id)
    await _get_window(resource_id, window_id)
    async with unit_of_work():
        await AvailabilityWindow.delete().where(AvailabilityWindow.id == window_id)
        await Resource.update({Resource.updated_at: now()}).where(Resource.id == resource_id)


async def windows_of(resource_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[availability.Window]]:
    """Availability of many resources in one query."""
    if not resource_ids:
        return {}
    rows = await AvailabilityWindow.select().where(AvailabilityWindow.resource.is_in(resource_ids))
    return _by_resource(rows)


# Hand-written: matching reads it for every suggestion (registry/matches/engine_io.py), and
# building the Piccolo query cost more than running it (issue 18).
_ACTIVE_WINDOWS = (
    "SELECT w.* FROM availability_window w JOIN resource r ON r.id = w.resource "
    "WHERE r.ambito = {} AND r.status = 'active'"
)


async def active_windows(ambito_id: uuid.UUID) -> dict[uuid.UUID, list[availability.Window]]:
    """Availability of every active resource of the ambito, by resource, in one read (on a
    connection's thread: an ambito of a Region has thousands)."""
    return _by_resource(await AvailabilityWindow.raw(_ACTIVE_WINDOWS, ambito_id))


def _by_resource(rows: list[dict[str, Any]]) -> dict[uuid.UUID, list[availability.Window]]:
    found: dict[uuid.UUID, list[availability.Window]] = {}
    for row in rows:
        found.setdefault(row["resource"], []).append(availability.window_from_row(row))
    return found


async def slots(
    actor: Principal, resource_id: uuid.UUID, start: date, end: date, timezone: str
) -> SlotsOut:
    """Slots as moments with the UTC offset of the ambito's time zone (`timezone`): the local
    time alone is ambiguous on the autumn night. Cheap enough for the event loop: the range
    is bounded and expansion works only on it (availability.py)."""
    await _row(actor, resource_id)
    availability.check_range(start, end)
    windows = (await windows_of([resource_id])).get(resource_id, [])
    expanded = availability.expand(windows, start, end, ZoneInfo(timezone))
    return SlotsOut(
        resource_id=resource_id,
        from_date=start,
        to_date=end,
        slots=[
            SlotOut(
                window_id=s.window_id,
                date=s.day,
                start=s.start,
                end=s.end,
                capacity=s.capacity,
            )
            for s in expanded
        ],
    )
