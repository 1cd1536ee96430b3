"""The contribution ledger of the matches: QR check-ins with their presences,
self-reported entries and their confirmations, goods, trips and room hours."""

from __future__ import annotations

import calendar
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from registry import italian
from registry.access import Role
from registry.checkin.presences import measured_minutes
from registry.checkin.tables import CheckIn
from registry.contributions import quantities, recording
from registry.contributions.schemas import ContributionCreate
from registry.contributions.tables import (
    Contribution,
    ContributionConfirmation,
)
from registry.demo_activity.base import ROME, _Base, _MatchLife, _Person, at
from registry.demo_activity.community_specs import _days
from registry.demo_activity.specs import FREE_VOLUNTEER, STYLES
from registry.vocabularies import ContributionUnit

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class _Ledger(_Base):
    # -- the ledger ----------------------------------------------------------------------

    def code(
        self, target: str, holder_id: uuid.UUID, first: datetime, until: datetime
    ) -> tuple[str, datetime, datetime]:
        """The QR code a holder printed for a match or an activity (valid at most a year)."""
        key = (target, holder_id)
        if key not in self.codes:
            start = first.astimezone(ROME).replace(hour=0, minute=0, second=0, microsecond=0)
            end = min(until, start + timedelta(days=365))
            self.codes[key] = (
                uuid.UUID(int=self.rng.getrandbits(128)).hex,
                start.astimezone(UTC),
                end.astimezone(UTC),
            )
        return self.codes[key]

    def presence(
        self,
        volunteer: _Person,
        holder_id: uuid.UUID,
        day: date,
        hours: tuple[str, str],
        *,
        target: str,
        code_from: datetime,
        code_until: datetime,
        activity: uuid.UUID | None = None,
        match_id: uuid.UUID | None = None,
        resource: uuid.UUID | None = None,
        need_id: uuid.UUID | None = None,
        plan_id: uuid.UUID | None = None,
        comune: str | None = None,
    ) -> Contribution | None:
        """A QR check-in and check-out, and the qr_verified entry the check-out writes."""
        token_id, window_start, window_end = self.code(target, holder_id, code_from, code_until)
        checked_in = at(day, hours[0]) + timedelta(minutes=self.rng.randint(-10, 12))
        checked_out = at(day, hours[1]) + timedelta(minutes=self.rng.randint(-25, 15))
        if checked_out >= self.moment:
            return None
        row = {
            "checked_in_at": checked_in,
            "window_start": window_start,
            "window_end": window_end,
        }
        started, ended, minutes = measured_minutes(row, checked_out)
        if minutes <= 0:
            return None  # outside the code's window: nobody checks in for nothing
        presence = CheckIn(
            id=self.new_id(),
            ambito=self.ambito_id,
            volunteer=volunteer.id,
            holder=holder_id,
            activity=activity,
            match_id=match_id,
            resource=resource,
            token_id=token_id,
            day=italian.today(checked_in),
            window_start=window_start,
            window_end=window_end,
            checked_in_at=checked_in,
            checked_out_at=checked_out,
        )
        entry = Contribution(
            id=self.new_id(),
            ambito=self.ambito_id,
            holder=holder_id,
            volunteer=volunteer.id,
            resource=resource,
            activity=activity,
            match_id=match_id,
            need_id=need_id,
            plan_id=plan_id,
            kind="entry",
            unit=ContributionUnit.HOURS.value,
            quantity=minutes,
            occurred_on=italian.today(checked_in),
            started_at=started,
            ended_at=ended,
            comune=comune,
            note="Presenza registrata con codice QR",
            verification="qr_verified",
            idempotency_key=f"{recording.RESERVED_KEY_PREFIX}{presence.id}",
            request_hash="checkin",
            created_by=volunteer.id,
            created_by_role=volunteer.role.value,
            created_at=checked_out,
        )
        self.add(entry)
        self.counts.contributions += 1
        presence.contribution = entry.id
        self.add(presence, late=True)
        self.counts.checkins += 1
        return entry

    def record(
        self,
        who: _Person,
        *,
        holder_id: uuid.UUID,
        unit: str,
        quantity: float,
        day: date,
        when: datetime,
        volunteer: _Person | None = None,
        value_cents: int | None = None,
        note: str = "",
        resource: uuid.UUID | None = None,
        activity: uuid.UUID | None = None,
        match_id: uuid.UUID | None = None,
        need_id: uuid.UUID | None = None,
        plan_id: uuid.UUID | None = None,
        comune: str | None = None,
        confirm_by: _Person | None = None,
    ) -> Contribution | None:
        """A self-reported entry as POST /api/contributions stores it (with the client's
        Idempotency-Key and the request's digest), confirmed later if `confirm_by`."""
        when = self.past(when)
        if italian.today(when) < day:
            return None
        body = ContributionCreate(
            holder_id=None if who.role is Role.VOLUNTEER and who.holder == holder_id else holder_id,
            volunteer_id=None
            if who.role is Role.VOLUNTEER
            else (volunteer.id if volunteer else None),
            activity_id=activity,
            match_id=match_id,
            unit=ContributionUnit(unit),
            quantity=quantity,
            value_cents=value_cents,
            occurred_on=day,
            comune=comune,
            note=note,
        )
        if who.role is Role.VOLUNTEER:
            volunteer = who
        entry = Contribution(
            id=self.new_id(),
            ambito=self.ambito_id,
            holder=holder_id,
            volunteer=volunteer.id if volunteer else None,
            resource=resource,
            activity=activity,
            match_id=match_id,
            need_id=need_id,
            plan_id=plan_id,
            kind="entry",
            unit=unit,
            quantity=quantities.stored_quantity(ContributionUnit(unit), quantity),
            value_cents=value_cents,
            occurred_on=day,
            comune=comune,
            note=note,
            verification="self_reported",
            idempotency_key=str(self.new_id()),
            request_hash=recording.request_digest(who.principal(self.ambito_id), body, "record"),
            created_by=who.id,
            created_by_role=who.role.value,
            created_at=when,
        )
        self.add(entry)
        self.counts.contributions += 1
        if confirm_by is not None:
            self.confirm(entry, confirm_by, when + timedelta(days=self.rng.randint(1, 9)))
        return entry

    def confirm(self, entry: Contribution, who: _Person, when: datetime) -> bool:
        when = self.past(when)
        if when <= entry.created_at:
            return False
        self.add(
            ContributionConfirmation(
                id=self.new_id(),
                ambito=self.ambito_id,
                contribution=entry.id,
                confirmed_by=who.id,
                role=who.role.value,
                confirmed_at=when,
                note="",
            ),
            late=True,
        )
        self.counts.confirmations += 1
        return True

    def hours_of(self, schedule: tuple[str, str, str], jitter: bool = True) -> float:
        start, end = (time.fromisoformat(x) for x in schedule[1:])
        minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if jitter:
            minutes += self.rng.choice((-30, -15, 0, 0, 0, 15))
        return max(30, minutes) / 60

    def skipped(self, day: date) -> bool:
        """Holidays, illness, bad weather: not every planned session happens."""
        chance = 0.12
        if day.month == 8:
            chance = 0.6
        elif (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 6):
            chance = 0.7
        return self.rng.random() < chance

    def match_ledger(self) -> None:
        worker = self.person("assistente")
        for life in self.lives:
            style = STYLES[life.resource_key]
            first_day = italian.today(life.start) + timedelta(days=1)
            # Until the day before it was completed (or today, while it runs).
            last_day = italian.today(life.end or self.moment + timedelta(days=1))
            last_day -= timedelta(days=1)
            helpers = self.crew(life.holder_id, 2 if style.unit == "hours" else 1)
            if life.resource_key == "compagnia" and life.plan["key"] == "A1":
                helpers = [self.person(FREE_VOLUNTEER), *helpers[:1]]
            plan_id = life.plan["id"]
            links = {
                "match_id": life.match_id,
                "need_id": life.need_id,
                "plan_id": plan_id,
                "resource": life.resource_id,
            }
            if style.unit == "hours":
                schedule = life.schedule or (("SA", "09:00", "11:00"),)
                days = [
                    d
                    for d in _days(first_day, last_day)
                    if _WEEKDAYS[d.weekday()] in {s[0] for s in schedule}
                ]
                days = days[:: style.every_weeks]
                code_until = life.end or self.moment + timedelta(days=200)
                room_minutes: dict[str, float] = defaultdict(float)
                for day in days:
                    if self.skipped(day):
                        continue
                    window = next(s for s in schedule if s[0] == _WEEKDAYS[day.weekday()])
                    volunteer = self.rng.choice(helpers)
                    if self.rng.random() < style.qr_share:
                        entry = self.presence(
                            volunteer,
                            life.holder_id,
                            day,
                            window[1:],
                            target=f"match:{life.match_id}",
                            code_from=life.start,
                            code_until=code_until,
                            **links,
                        )
                    else:
                        late = self.rng.random() < 0.12 or (self.today - day).days < 10
                        entry = self.record(
                            volunteer,
                            holder_id=life.holder_id,
                            unit="hours",
                            quantity=self.hours_of(window),
                            day=day,
                            when=at(day, window[2]) + timedelta(hours=self.rng.randint(2, 30)),
                            note=self.rng.choice(style.notes or ("",)),
                            confirm_by=None if late else worker,
                            **links,
                        )
                    if entry is not None and style.room_cents:
                        room_minutes[day.strftime("%Y-%m")] += self.hours_of(window, False) * 60
                if style.room_cents:
                    self.room_hours(life, room_minutes, style.room_cents, links)
            elif style.per_month:
                volunteer = helpers[0]
                day = first_day
                while day <= last_day:
                    for _ in range(style.per_month):
                        target = day + timedelta(days=self.rng.randint(0, 27))
                        if target > last_day or self.skipped(target):
                            continue
                        quantity = self.rng.randint(*style.quantity)
                        self.record(
                            volunteer,
                            holder_id=life.holder_id,
                            unit=style.unit,
                            quantity=quantity,
                            value_cents=(
                                quantity * self.rng.randint(*style.cents) if style.cents else None
                            ),
                            day=target,
                            when=at(target, "12:00") + timedelta(hours=self.rng.randint(1, 48)),
                            note=style.notes[0] if style.notes else "",
                            confirm_by=worker if (self.today - target).days > 7 else None,
                            **links,
                        )
                    day = _add_month(day)
            else:
                volunteer = helpers[0]
                for index in range(self.rng.randint(*style.deliveries)):
                    target = min(last_day, first_day + timedelta(days=3 + 6 * index))
                    quantity = self.rng.randint(*style.quantity)
                    self.record(
                        volunteer,
                        holder_id=life.holder_id,
                        unit=style.unit,
                        quantity=quantity,
                        value_cents=quantity * self.rng.randint(*style.cents)
                        if style.cents
                        else None,
                        day=target,
                        when=at(target, "18:00"),
                        note=self.rng.choice(style.notes or ("",)),
                        confirm_by=worker,
                        **links,
                    )
                    if life.resource_key == "furgone":
                        for helper in self.crew(life.holder_id, 2):
                            self.record(
                                helper,
                                holder_id=life.holder_id,
                                unit="hours",
                                quantity=self.rng.choice((3, 3.5, 4)),
                                day=target,
                                when=at(target, "19:00"),
                                note="Carico, trasporto e montaggio",
                                confirm_by=worker,
                                **links,
                            )

    def room_hours(
        self,
        life: _MatchLife,
        minutes: dict[str, float],
        cents: int,
        links: dict[str, Any],
    ) -> None:
        """A school or parish lends its room: one room-hours entry a month, declared by the
        UdP from the holder's register and confirmed by the plan's social worker."""
        for month, total in sorted(minutes.items()):
            year, number = (int(x) for x in month.split("-"))
            day = date(year, number, calendar.monthrange(year, number)[1])
            day = min(day, self.today)
            hours = round(total / 60 * 4) / 4
            if hours <= 0:
                continue
            self.record(
                self.person("udp"),
                holder_id=life.holder_id,
                unit="room_hours",
                quantity=hours,
                value_cents=round(hours * cents),
                day=day,
                when=at(day, "17:00"),
                note="Ore di utilizzo dell'aula nel mese",
                confirm_by=self.person("assistente"),
                **links,
            )


def _add_month(day: date) -> date:
    month = day.month % 12 + 1
    year = day.year + (day.month == 12)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
