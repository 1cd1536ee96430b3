"""Community activities organised by several holders, the ordinary entries outside
any match, and the corrections and the cancellation of the ledger."""

from __future__ import annotations

import uuid
from datetime import timedelta

from registry.contributions import corrections, recording
from registry.contributions.schemas import (
    Cancellation,
    ContributionCorrection,
)
from registry.contributions.tables import (
    ActivityOrganiser,
    CommunityActivity,
    Contribution,
    ContributionConfirmation,
)
from registry.demo_activity.base import _Person, at
from registry.demo_activity.community_specs import ACTIVITIES
from registry.demo_activity.ledger import _Ledger


class _Activities(_Ledger):
    # -- community activities --------------------------------------------------------------

    def activities(self) -> None:
        udp = self.person("udp")
        for spec in ACTIVITIES:
            first, last = spec.dates(self.today)
            comune = self.comuni[spec.comune]
            created = at(first - timedelta(days=self.rng.randint(10, 25)), "10:30")
            activity = CommunityActivity(
                id=self.new_id(),
                ambito=self.ambito_id,
                title=spec.title,
                description=spec.description,
                comune=comune,
                starts_on=first,
                ends_on=last,
                status="active",
                created_by=udp.id,
                created_at=created,
                updated_at=created,
            )
            self.add(activity)
            self.counts.activities += 1
            organisers = [self.holders[name]["id"] for name in spec.organisers]
            for holder_id in organisers:
                self.add(
                    ActivityOrganiser(id=self.new_id(), activity=activity.id, holder=holder_id)
                )
            until = min(last or self.today, self.today)
            sessions = spec.sessions(first, until)
            if len(sessions) > 1:
                sessions = [d for d in sessions if not self.skipped(d)]
            end_of_codes = at((last or self.today + timedelta(days=200)), "23:59")
            for number, day in enumerate(sessions):
                # The organisers take turns, one volunteer each, starting from a different
                # organiser every session (one presence per volunteer and code a day).
                size = self.rng.randint(*spec.people)
                shift = number % len(organisers)
                order = organisers[shift:] + organisers[:shift]
                turn: list[tuple[uuid.UUID, _Person]] = []
                while len(turn) < size:
                    before = len(turn)
                    for holder_id in order:
                        free = [p for p in self.by_holder[holder_id] if (holder_id, p) not in turn]
                        if free and len(turn) < size:
                            turn.append((holder_id, self.rng.choice(free)))
                    if len(turn) == before:
                        break
                for holder_id, volunteer in turn:
                    if self.rng.random() < 0.85:
                        self.presence(
                            volunteer,
                            holder_id,
                            day,
                            spec.hours,
                            target=f"activity:{activity.id}",
                            code_from=at(first, "00:00"),
                            code_until=end_of_codes,
                            activity=activity.id,
                            comune=comune,
                        )
                    else:
                        self.record(
                            volunteer,
                            holder_id=holder_id,
                            unit="hours",
                            quantity=self.hours_of(("", *spec.hours)),
                            day=day,
                            when=at(day, spec.hours[1]) + timedelta(hours=self.rng.randint(1, 20)),
                            activity=activity.id,
                            note=f"Turno a «{spec.title}»",
                            confirm_by=self.confirmer(holder_id),
                        )
                for holder_name, unit, amount, cents, every in spec.in_kind:
                    if number % every:
                        continue
                    holder_id = self.holders[holder_name]["id"]
                    quantity = self.rng.randint(*amount)
                    self.record(
                        udp,
                        holder_id=holder_id,
                        unit=unit,
                        quantity=quantity,
                        value_cents=quantity * cents if cents else None,
                        day=day,
                        when=at(day, spec.hours[1]) + timedelta(hours=self.rng.randint(2, 50)),
                        activity=activity.id,
                        note=_IN_KIND_NOTES[unit],
                        confirm_by=udp,
                    )

    def confirmer(self, holder_id: uuid.UUID) -> _Person:
        """Entries of a holder outside plans are confirmed by its manager, or the UdP."""
        return self.holder_side(holder_id)

    def ordinary(self) -> None:
        """Time given to the holder's everyday community work (not for a plan or an
        activity), declared by its volunteers: Auser confirms its own, the UdP the others;
        the last weeks' Auser entries still wait for auser's confirmation."""
        auser = self.holders["Auser Olgiate Comasco"]["id"]
        for holder_name, note, comune, weeks in (
            (
                "Auser Olgiate Comasco",
                "Telefonate di compagnia agli iscritti",
                "Olgiate Comasco",
                2,
            ),
            ("Protezione civile Colverde", "Presidio e controllo del territorio", "Faloppio", 4),
            ("Rete di vicinato di Binago", "Spesa e piccoli aiuti tra vicini", "Binago", 3),
            ("Maria R. (volontaria)", "Aiuto compiti a bambini del paese", "Rodero", 3),
        ):
            holder_id = self.holders[holder_name]["id"]
            helpers = self.by_holder[holder_id]
            day = self.today - timedelta(days=350)
            while day <= self.today - timedelta(days=1):
                volunteer = self.rng.choice(helpers)
                recent = (self.today - day).days < 21
                self.record(
                    volunteer,
                    holder_id=holder_id,
                    unit="hours",
                    quantity=self.rng.choice((1, 1.5, 2, 2.5)),
                    day=day,
                    when=at(day, "20:00"),
                    comune=self.comuni[comune],
                    note=note,
                    confirm_by=None if recent and holder_id == auser else self.confirmer(holder_id),
                )
                day += timedelta(days=7 * weeks + self.rng.randint(-2, 2))

    def amendments(self) -> None:
        """Corrections and a cancellation, as the ledger keeps them: new rows naming the
        entry they replace. A volunteer corrects its own entry before anyone confirmed it
        (the confirmation then goes to the correction); a double tap is cancelled."""
        hours = [
            c
            for c in self.rows[Contribution]
            if c.unit == "hours" and c.verification == "self_reported" and c.plan_id is None
        ]
        hours.sort(key=lambda c: c.created_at)
        chosen = self.rng.sample(hours[: len(hours) // 2], 4)
        reason = "Avevo sbagliato le ore: correggo."
        for original, new_hours in zip(chosen[:3], (1.5, 2.0, 3.0), strict=True):
            who = self.person_of(original.created_by)
            patch = ContributionCorrection(quantity=new_hours, reason=reason)
            correction = Contribution(
                **{name: getattr(original, name) for name in corrections.CARRIED_OVER},
                id=self.new_id(),
                ambito=self.ambito_id,
                kind="correction",
                corrects=original.id,
                quantity=round(new_hours * 60),
                verification="self_reported",
                reason=reason,
                idempotency_key=None,
                request_hash=recording.request_digest(
                    who.principal(self.ambito_id), patch, f"correct:{original.id}"
                ),
                created_by=who.id,
                created_by_role=who.role.value,
                created_at=original.created_at + timedelta(hours=2),
            )
            for row in self.late_rows[ContributionConfirmation]:
                if row.contribution == original.id:
                    row.contribution = correction.id
                    row.confirmed_at = max(row.confirmed_at, correction.created_at)
            self.add(correction, late=True)
            self.counts.contributions += 1

        # The same hours sent twice (a new Idempotency-Key each time), then cancelled.
        first = chosen[3]
        who = self.person_of(first.created_by)
        twice = Contribution(
            **{name: getattr(first, name) for name in corrections.CARRIED_OVER},
            id=self.new_id(),
            ambito=self.ambito_id,
            kind="entry",
            quantity=first.quantity,
            verification="self_reported",
            idempotency_key=str(self.new_id()),
            request_hash=first.request_hash,
            created_by=who.id,
            created_by_role=who.role.value,
            created_at=first.created_at + timedelta(minutes=3),
        )
        reason = "Inserita due volte per errore."
        cancellation = Contribution(
            **{name: getattr(twice, name) for name in corrections.CARRIED_OVER},
            id=self.new_id(),
            ambito=self.ambito_id,
            kind="cancellation",
            corrects=twice.id,
            quantity=twice.quantity,
            verification=twice.verification,
            reason=reason,
            idempotency_key=None,
            request_hash=recording.request_digest(
                who.principal(self.ambito_id), Cancellation(reason=reason), f"cancel:{twice.id}"
            ),
            created_by=who.id,
            created_by_role=who.role.value,
            created_at=twice.created_at + timedelta(hours=1),
        )
        self.add(twice)
        self.add(cancellation, late=True)
        self.counts.contributions += 2

    def person_of(self, user_id: uuid.UUID) -> _Person:
        return next(p for p in self.people.values() if p.id == user_id)


_IN_KIND_NOTES = {
    "meals": "Pasti serviti",
    "room_hours": "Ore di utilizzo dei locali",
    "items": "Beni raccolti o donati",
    "trips": "Viaggi con il furgone dell'azienda",
}
