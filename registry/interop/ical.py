"""iCalendar (RFC 5545) feeds at secret, revocable URLs, written with `icalendar`.

* holder feed: the availability windows of the holder's resources (one recurring VEVENT
  per window: RRULE, EXDATE for the exceptions) and its accepted or active matches;
* volunteer feed: the commitments of a volunteer, i.e. the accepted or active matches of
  the holder the volunteer's account stands for.

A feed URL carries a random token; only its SHA-256 is stored, so a copy of the database
cannot be used to read the feeds. Revoking the token makes the URL answer 404. Times are
wall-clock times of the ambito's time zone (Europe/Rome by default), with a VTIMEZONE.

No personal data of the people helped goes into a feed: a match appears as the resource,
the kind of need, the comune and the schedule, never the plan's case code.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule as dateutil_rrule
from icalendar import Calendar, Event, vRecur

from registry.access import Principal, Role
from registry.ambiti.tables import Ambito, Comune
from registry.common import now
from registry.config import Settings
from registry.errors import InvalidInput, NotFound, PermissionDenied
from registry.holders.tables import Holder
from registry.interop.schemas import FeedCreate, FeedCreated, FeedKind, FeedOut
from registry.interop.tables import FeedToken
from registry.resources.tables import AvailabilityWindow, Resource
from registry.taxonomy.tables import TaxonomyTerm
from registry.users.tables import User

PRODID = "-//Registro delle risorse di comunita//IT"
TOKEN_PREFIX = "rcf_"
HOLDING = ("accepted", "active")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_RRULE_DAYS = dict(zip(_WEEKDAYS, dateutil_rrule.weekdays, strict=True))
_USE_STAMP_EVERY = timedelta(hours=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _out(row: dict[str, Any]) -> FeedOut:
    return FeedOut(
        id=row["id"],
        kind=row["kind"],
        holder_id=row["holder"],
        user_id=row["user"],
        label=row["label"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


def feed_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/api/ical/{token}.ics"


# --- managing tokens ----------------------------------------------------------------------


async def create_feed(actor: Principal, data: FeedCreate, settings: Settings) -> FeedCreated:
    holder_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    if data.kind == FeedKind.HOLDER:
        if data.holder_id is None:
            raise InvalidInput("holder_id is required for a holder feed", field="holder_id")
        holder = (
            await Holder.select(Holder.id)
            .where((Holder.id == data.holder_id) & (Holder.ambito == actor.ambito_id))
            .first()
        )
        if holder is None:
            raise NotFound("no such holder")
        if not actor.manages_holder(data.holder_id):
            raise PermissionDenied("only the UdP or the holder's own manager can publish its feed")
        holder_id = data.holder_id
    elif data.kind == FeedKind.VOLUNTEER:
        user_id = data.user_id or actor.user_id
        user = (
            await User.select(User.id, User.role)
            .where((User.id == user_id) & (User.ambito == actor.ambito_id))
            .first()
        )
        if user is None:
            raise NotFound("no such user")
        if user_id == actor.user_id:
            actor.require(Role.VOLUNTEER, Role.UDP_ADMIN)
        else:
            actor.require(Role.UDP_ADMIN)
        if user["role"] != Role.VOLUNTEER.value:
            raise InvalidInput("a volunteer feed is for a volunteer's account", field="user_id")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = FeedToken(
        ambito=actor.ambito_id,
        kind=FeedKind(data.kind).value,
        holder=holder_id,
        user=user_id,
        token_hash=token_hash(token),
        label=data.label,
        created_by=actor.user_id,
        created_at=now(),
    )
    await row.save()
    saved = await FeedToken.select().where(FeedToken.id == row.id).first()
    return FeedCreated(feed=_out(saved), token=token, url=feed_url(settings, token))  # type: ignore[arg-type]


def _visible(actor: Principal) -> Any:
    where = FeedToken.ambito == actor.ambito_id
    if actor.role is not Role.UDP_ADMIN:
        where &= (FeedToken.created_by == actor.user_id) | (FeedToken.user == actor.user_id)
        if actor.holder_id is not None and actor.role is Role.HOLDER_MANAGER:
            where = (FeedToken.ambito == actor.ambito_id) & (
                (FeedToken.created_by == actor.user_id)
                | (FeedToken.user == actor.user_id)
                | (FeedToken.holder == actor.holder_id)
            )
    return where


async def list_feeds(actor: Principal) -> list[FeedOut]:
    rows = await FeedToken.select().where(_visible(actor)).order_by(FeedToken.created_at)
    return [_out(row) for row in rows]


async def revoke_feed(actor: Principal, feed_id: uuid.UUID) -> None:
    row = (
        await FeedToken.select()
        .where((FeedToken.id == feed_id) & (FeedToken.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such feed")
    allowed = (
        actor.role is Role.UDP_ADMIN
        or row["created_by"] == actor.user_id
        or row["user"] == actor.user_id
        or (row["holder"] is not None and actor.manages_holder(row["holder"]))
    )
    if not allowed:
        raise PermissionDenied("only the UdP or whoever the feed belongs to can revoke it")
    if row["revoked_at"] is None:
        await FeedToken.update({FeedToken.revoked_at: now()}).where(FeedToken.id == feed_id)


# --- building calendars -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedContext:
    zone: ZoneInfo
    comuni: dict[str, str]
    categories: dict[str, str]


def first_occurrence(window: dict[str, Any]) -> date | None:
    """The first day the rule itself produces from valid_from (DTSTART must be one: RFC 5545
    counts DTSTART as an occurrence even when the rule would not produce it)."""
    by_day = []
    for item in window["by_day"] or []:
        ordinal, day = item[:-2], item[-2:]
        weekday = _RRULE_DAYS[day]
        by_day.append(weekday(int(ordinal)) if ordinal else weekday)
    freq = {
        "DAILY": dateutil_rrule.DAILY,
        "WEEKLY": dateutil_rrule.WEEKLY,
        "MONTHLY": dateutil_rrule.MONTHLY,
    }[window["freq"]]
    rule = dateutil_rrule.rrule(
        freq,
        interval=window["interval"] or 1,
        dtstart=datetime.combine(window["valid_from"], time()),
        byweekday=by_day or None,
        until=datetime.combine(window["valid_until"], time()) if window["valid_until"] else None,
        count=None if window["valid_until"] else 1,
        cache=False,
    )
    first = next(iter(rule), None)
    return first.date() if first else None


def _recur(freq: str, interval: int, by_day: list[str], until: datetime | None) -> vRecur:
    recur: dict[str, Any] = {"FREQ": freq}
    if interval and interval != 1:
        recur["INTERVAL"] = interval
    if by_day:
        recur["BYDAY"] = by_day
    if until is not None:
        recur["UNTIL"] = until
    return vRecur(recur)


def _until(day: date | None, end: time, zone: ZoneInfo) -> datetime | None:
    """RFC 5545: with a zoned DTSTART, UNTIL is a UTC date-time (the last instance's end)."""
    if day is None:
        return None
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def window_event(
    window: dict[str, Any], resource: dict[str, Any], context: FeedContext, stamp: datetime
) -> Event | None:
    first = first_occurrence(window)
    if first is None:
        return None  # the rule has no occurrence at all in its validity
    zone = context.zone
    event = Event()
    event.add("uid", f"window-{window['id']}@registro-risorse")
    event.add("dtstamp", stamp)
    event.add("last-modified", window["updated_at"] or stamp)
    event.add("summary", f"Disponibilità: {resource['title']}")
    event.add("dtstart", datetime.combine(first, window["start_time"], tzinfo=zone))
    event.add("dtend", datetime.combine(first, window["end_time"], tzinfo=zone))
    event.add(
        "rrule",
        _recur(
            window["freq"],
            window["interval"] or 1,
            list(window["by_day"] or []),
            _until(window["valid_until"], window["end_time"], zone),
        ),
    )
    for day in sorted(window["exceptions"] or []):
        if isinstance(day, str):
            day = date.fromisoformat(day)
        event.add("exdate", datetime.combine(day, window["start_time"], tzinfo=zone))
    category = context.categories.get(resource["category_code"], resource["category_code"])
    lines = [f"Categoria: {category}", f"Posti per finestra: {window['capacity'] or 1}"]
    if window["notes"]:
        lines.append(window["notes"])
    event.add("description", "\n".join(lines))
    event.add("categories", [category])
    event.add("transp", "TRANSPARENT")  # availability, not a busy block
    return event


def match_events(match: dict[str, Any], context: FeedContext, stamp: datetime) -> list[Event]:
    """One recurring event per time of day of the need's weekly schedule; a need with no
    schedule (flexible) is one all-day event on its first day."""
    zone = context.zone
    start_day: date = (
        match["need_start"] or match["plan_start"] or match["updated_at"].astimezone(zone).date()
    )
    end_day: date | None = match["need_end"] or match["plan_end"]
    category = context.categories.get(match["category_code"], match["category_code"])
    comune = context.comuni.get(match["comune"] or "", match["comune"] or "")
    summary = f"Impegno: {match['resource_title']}"
    description = "\n".join(
        line
        for line in (
            f"Bisogno: {category}",
            f"Comune: {comune}" if comune else "",
            f"Quantità: {match['quantity']} {match['unit']}",
            "Stato: " + ("accettato" if match["status"] == "accepted" else "in corso"),
        )
        if line
    )
    groups: dict[tuple[str, str], list[str]] = {}
    for slot in match["schedule"] or []:
        groups.setdefault((slot["start"], slot["end"]), []).append(slot["weekday"])
    events = []
    if not groups:
        event = Event()
        event.add("uid", f"match-{match['id']}@registro-risorse")
        event.add("dtstamp", stamp)
        event.add("summary", summary + " (orari da concordare)")
        event.add("dtstart", start_day)
        event.add("dtend", start_day + timedelta(days=1))
        event.add("description", description)
        event.add("status", "CONFIRMED")
        events.append(event)
        return events
    for (start, end), days in sorted(groups.items()):
        days = sorted(set(days), key=_WEEKDAYS.index)
        start_time, end_time = time.fromisoformat(start), time.fromisoformat(end)
        rule = dateutil_rrule.rrule(
            dateutil_rrule.WEEKLY,
            dtstart=datetime.combine(start_day, time()),
            byweekday=[_RRULE_DAYS[d] for d in days],
            count=1,
        )
        first = next(iter(rule)).date()
        if end_day is not None and first > end_day:
            continue
        event = Event()
        event.add("uid", f"match-{match['id']}-{start.replace(':', '')}@registro-risorse")
        event.add("dtstamp", stamp)
        event.add("last-modified", match["updated_at"])
        event.add("summary", summary)
        event.add("dtstart", datetime.combine(first, start_time, tzinfo=zone))
        event.add("dtend", datetime.combine(first, end_time, tzinfo=zone))
        event.add("rrule", _recur("WEEKLY", 1, days, _until(end_day, end_time, zone)))
        event.add("description", description)
        event.add("status", "CONFIRMED")
        events.append(event)
    return events


def calendar(name: str, description: str, events: list[Event]) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-caldesc", description)
    cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT6H")
    for event in events:
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


async def _context(ambito_id: uuid.UUID, settings: Settings) -> FeedContext:
    comuni = {
        r["istat_code"]: r["name"]
        for r in await Comune.select(Comune.istat_code, Comune.name).where(
            Comune.ambito == ambito_id
        )
    }
    categories = {
        r["code"]: r["name"]
        for r in await TaxonomyTerm.select(TaxonomyTerm.code, TaxonomyTerm.name)
    }
    return FeedContext(
        zone=ZoneInfo(getattr(settings, "timezone", "Europe/Rome")),
        comuni=comuni,
        categories=categories,
    )


async def _matches(holder_id: uuid.UUID) -> list[dict[str, Any]]:
    """Accepted and active matches of a holder (registry/matches), flattened for the feed."""
    try:
        from registry.matches.tables import Match
    except ImportError:  # without the matches domain a feed has availability only
        return []
    return (
        await Match.select(
            Match.id,
            Match.status,
            Match.updated_at,
            Match.resource.title.as_alias("resource_title"),
            Match.need.category_code.as_alias("category_code"),
            Match.need.schedule.as_alias("schedule"),
            Match.need.quantity.as_alias("quantity"),
            Match.need.unit.as_alias("unit"),
            Match.need.start_date.as_alias("need_start"),
            Match.need.end_date.as_alias("need_end"),
            Match.need.comune.as_alias("need_comune"),
            Match.plan.comune.as_alias("plan_comune"),
            Match.plan.start_date.as_alias("plan_start"),
            Match.plan.end_date.as_alias("plan_end"),
        )
        .where((Match.holder == holder_id) & Match.status.is_in(list(HOLDING)))
        .output(load_json=True)
    )


def _match_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["comune"] = row.pop("need_comune") or row.pop("plan_comune", None)
        row.pop("plan_comune", None)
    return rows


async def holder_calendar(holder: dict[str, Any], settings: Settings) -> bytes:
    context = await _context(holder["ambito"], settings)
    stamp = now()
    resources = {
        r["id"]: r
        for r in await Resource.select(
            Resource.id, Resource.title, Resource.category_code, Resource.status
        ).where(
            (Resource.holder == holder["id"]) & Resource.status.is_in(["active", "stale", "paused"])
        )
    }
    events: list[Event] = []
    if resources:
        windows = (
            await AvailabilityWindow.select()
            .where(AvailabilityWindow.resource.is_in(list(resources)))
            .order_by(AvailabilityWindow.valid_from)
            .order_by(AvailabilityWindow.id)
        )
        for window in windows:
            event = window_event(window, resources[window["resource"]], context, stamp)
            if event is not None:
                events.append(event)
    for match in _match_rows(await _matches(holder["id"])):
        events.extend(match_events(match, context, stamp))
    return calendar(
        f"{holder['name']}: disponibilità e impegni",
        "Le disponibilità delle risorse e gli impegni accettati, dal registro delle risorse "
        "di comunità.",
        events,
    )


async def volunteer_calendar(user: dict[str, Any], settings: Settings) -> bytes:
    context = await _context(user["ambito"], settings)
    stamp = now()
    events: list[Event] = []
    if user["holder"] is not None:
        for match in _match_rows(await _matches(user["holder"])):
            events.extend(match_events(match, context, stamp))
    return calendar(
        "I miei impegni di volontariato",
        "Gli impegni accettati, dal registro delle risorse di comunità.",
        events,
    )


async def render_feed(token: str, settings: Settings) -> bytes:
    """The calendar behind a secret URL; unknown and revoked tokens are the same 404."""
    token = token.removesuffix(".ics")
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise NotFound("no such calendar")
    row = await FeedToken.select().where(FeedToken.token_hash == token_hash(token)).first()
    if row is None or row["revoked_at"] is not None:
        raise NotFound("no such calendar")
    ambito = await Ambito.select(Ambito.active).where(Ambito.id == row["ambito"]).first()
    if ambito is None or not ambito["active"]:
        raise NotFound("no such calendar")  # a deactivated ambito's feeds end with it
    moment = now()
    if row["last_used_at"] is None or moment - row["last_used_at"] > _USE_STAMP_EVERY:
        await FeedToken.update({FeedToken.last_used_at: moment}).where(FeedToken.id == row["id"])
    if row["kind"] == FeedKind.HOLDER:
        holder = (
            await Holder.select(Holder.id, Holder.ambito, Holder.name, Holder.status)
            .where(Holder.id == row["holder"])
            .first()
        )
        if holder is None or holder["status"] == "archived":
            raise NotFound("no such calendar")
        return await holder_calendar(holder, settings)
    user = (
        await User.select(User.id, User.ambito, User.holder, User.active)
        .where(User.id == row["user"])
        .first()
    )
    if user is None or not user["active"]:
        raise NotFound("no such calendar")
    return await volunteer_calendar(user, settings)
