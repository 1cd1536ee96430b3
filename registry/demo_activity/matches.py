"""Plans, their needs, and the matches through their whole lifecycle, with their
history and the places they hold."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from registry import italian, matching
from registry.audit.schemas import AuditAction
from registry.demo_activity.base import _Base, _MatchLife, _Person, at
from registry.demo_activity.specs import GOAL_NOTE, PLANS, NeedSpec, PlanSpec
from registry.matches import engine_io
from registry.matches.service import components_of
from registry.matches.tables import Match, MatchEvent, ResourceCapacity
from registry.plans.pseudonym import check_case_code
from registry.plans.tables import Need, Plan


class _Matches(_Base):
    # -- plans, needs, matches -----------------------------------------------------------

    async def plans_and_matches(self) -> None:
        worker = self.person("assistente")
        numbers = iter(self.rng.sample(range(11, 98), len(PLANS)))
        specs: list[tuple[PlanSpec, dict[str, Any], list[dict[str, Any]]]] = []
        for spec in PLANS:
            created = self.past(
                at(self.today - timedelta(days=spec.started), "10:00")
                + timedelta(minutes=self.rng.randrange(0, 300))
            )
            start = italian.today(created)
            closed_on = self.today - timedelta(days=spec.closed) if spec.closed else None
            code = check_case_code(f"ASC-{start.year}-{next(numbers):03d}")
            plan = Plan(
                id=self.new_id(),
                ambito=self.ambito_id,
                owner=worker.id,
                shared_with=[],
                case_code=code,
                comune=self.comuni[spec.comune],
                target_group=spec.area,
                goals=list(spec.goals),
                start_date=start,
                end_date=closed_on,
                status="closed" if closed_on else "active",
                notes=spec.notes or GOAL_NOTE,
                created_at=created,
                updated_at=created,
            )
            self.add(plan)
            self.audit(worker, AuditAction.PLAN_CREATE, created, plan.id)
            row = {
                "id": plan.id,
                "comune": plan.comune,
                "target_group": spec.area,
                "start_date": start,
                "end_date": closed_on,
                "created_at": created,
                "key": spec.key,
            }
            self.plans[spec.key] = row
            needs = []
            for index, need_spec in enumerate(spec.needs):
                need_created = self.past(
                    created + timedelta(days=need_spec.after, minutes=5 + 3 * index)
                )
                need = Need(
                    id=self.new_id(),
                    ambito=self.ambito_id,
                    plan=plan.id,
                    category_code=need_spec.category,
                    schedule=[
                        {"weekday": d, "start": s, "end": e} for d, s, e in need_spec.schedule
                    ],
                    quantity=need_spec.quantity,
                    unit=need_spec.unit,
                    languages=list(need_spec.languages),
                    requirements=list(need_spec.requirements),
                    priority=need_spec.priority,
                    status="open",
                    created_at=need_created,
                    updated_at=need_created,
                )
                self.add(need)
                self.audit(worker, AuditAction.NEED_CREATE, need_created, plan.id, need_id=need.id)
                needs.append(
                    {
                        "row": need,
                        "spec": need_spec,
                        "id": need.id,
                        "schedule": need.schedule,
                        "category_code": need.category_code,
                        "comune": None,
                        "languages": need.languages,
                        "requirements": need.requirements,
                        "start_date": None,
                        "end_date": None,
                        "quantity": need.quantity,
                        "unit": need.unit,
                        "priority": need.priority,
                    }
                )
            specs.append((spec, row, needs))
            self.counts.plans += 1
            self.counts.needs += len(needs)

        # Score every pair as the engine would have when it was proposed.
        items, _ = await engine_io.load_resources(self.ambito_id, self.today)
        by_id = {item.id: item for item in items}
        taxonomy = await engine_io.load_taxonomy()
        held: dict[uuid.UUID, int] = defaultdict(int)
        touched: set[uuid.UUID] = set()
        for spec, plan, needs in specs:
            last_change = plan["created_at"]
            for need in needs:
                need_spec: NeedSpec = need["spec"]
                if need_spec.resource is None:
                    continue
                resource = self.resource(need_spec.resource)
                touched.add(resource["id"])
                item = by_id[str(resource["id"])]
                need_item = engine_io.need_item(need, plan)
                suggestion = matching.score(need_item, item, matching.Weights(), taxonomy)
                excluded = matching.exclusion_reason(need_item, item, taxonomy)
                warning = (
                    "Non suggerita dal motore: "
                    f"{matching.EXCLUSION_REASONS_IT.get(excluded, excluded)}"
                    if excluded
                    else ""
                )
                when = need["row"].created_at + timedelta(
                    days=self.rng.randint(1, 4), hours=self.rng.randint(0, 6)
                )
                if need_spec.first:
                    first_status = need_spec.first
                    self.match(
                        plan,
                        need,
                        resource,
                        suggestion,
                        warning,
                        when,
                        first_status,
                        need_spec.reason,
                    )
                    when += timedelta(days=self.rng.randint(5, 12))
                reason = need_spec.reason if need_spec.outcome == "declined" else ""
                if need_spec.outcome in ("proposed", "accepted"):
                    # What is waiting for someone now happened in the last few days.
                    when = max(when, self.moment - timedelta(days=self.rng.randint(3, 6)))
                status, changed = self.match(
                    plan, need, resource, suggestion, warning, when, need_spec.outcome, reason
                )
                last_change = max(last_change, changed)
                if status in ("accepted", "active"):
                    held[resource["id"]] += 1
            if spec.closed:
                closed = self.past(at(self.today - timedelta(days=spec.closed), "16:00"))
                plan_row = next(r for r in self.rows[Plan] if r.id == plan["id"])
                plan_row.updated_at = closed
                self.audit(
                    self.person("assistente"),
                    AuditAction.PLAN_UPDATE,
                    closed,
                    plan["id"],
                    detail="end_date, status",
                )
            else:
                plan_row = next(r for r in self.rows[Plan] if r.id == plan["id"])
                plan_row.updated_at = last_change
        for resource_id in sorted(touched, key=str):
            resource = next(r for r in self.resources.values() if r["id"] == resource_id)
            self.check_places(resource)
            self.add(
                ResourceCapacity(id=self.new_id(), resource=resource_id, reserved=held[resource_id])
            )

    def check_places(self, resource: dict[str, Any]) -> None:
        """At no moment did accepted or active matches hold more places than the resource
        has: each acceptance would have found a place (the service's atomic reservation)."""
        events = sorted(
            [(start, 1) for start, _ in self.holds[resource["id"]]]
            + [(end, -1) for _, end in self.holds[resource["id"]] if end is not None],
            key=lambda e: (e[0], e[1]),
        )
        held = 0
        for _, change in events:
            held += change
            if held > resource["capacity"]:
                raise AssertionError(f"demo overbooks «{resource['title']}»")

    def match(
        self,
        plan: dict[str, Any],
        need: dict[str, Any],
        resource: dict[str, Any],
        suggestion: matching.Suggestion,
        warning: str,
        proposed: datetime,
        outcome: str,
        reason: str,
    ) -> tuple[str, datetime]:
        """One match and its history, up to `outcome`; returns its status and last change."""
        worker = self.person("assistente")
        holder_side = self.holder_side(resource["holder"])
        need_spec: NeedSpec = need["spec"]
        proposed = self.past(proposed)
        match = Match(
            id=self.new_id(),
            ambito=self.ambito_id,
            plan=plan["id"],
            need=need["id"],
            resource=resource["id"],
            holder=resource["holder"],
            status="proposed",
            score=suggestion.score,
            components=components_of(suggestion),
            explanation=suggestion.explanation,
            warning=warning[:300],
            proposed_by=worker.id,
            created_at=proposed,
            updated_at=proposed,
        )
        self.add(match)
        self.counts.matches += 1
        steps: list[tuple[_Person, str, str, datetime, str]] = []
        moment = proposed

        def step(who: _Person, target: str, days: tuple[int, int], why: str = "") -> None:
            nonlocal moment
            source = steps[-1][2] if steps else "proposed"
            moment = self.past(
                moment + timedelta(days=self.rng.randint(*days), hours=self.rng.randint(1, 8))
            )
            steps.append((who, source, target, moment, why))

        if outcome == "declined":
            step(holder_side, "declined", (1, 4), reason)
        elif outcome == "withdrawn":
            step(worker, "withdrawn", (2, 6), reason)
        elif outcome in ("accepted", "active", "completed"):
            step(holder_side, "accepted", (1, 6) if outcome != "accepted" else (0, 1))
            if outcome in ("active", "completed"):
                step(worker, "active", (0, 2))
                started = moment
                if outcome == "completed":
                    ended = started + timedelta(days=need_spec.lasted)
                    assert ended < self.moment, (plan["key"], need_spec.category)
                    moment = ended - timedelta(days=1)
                    step(worker, "completed", (1, 1), "Obiettivo raggiunto.")
                need["row"].status = "matched"
                need["row"].updated_at = started
                self.lives.append(
                    _MatchLife(
                        match_id=match.id,
                        plan=plan,
                        need_id=need["id"],
                        resource_key=need_spec.resource or "",
                        resource_id=resource["id"],
                        holder_id=resource["holder"],
                        schedule=need_spec.schedule,
                        start=started,
                        end=moment if outcome == "completed" else None,
                    )
                )
        self.add(
            MatchEvent(
                id=self.new_id(),
                ambito=self.ambito_id,
                match=match.id,
                actor=worker.id,
                at=proposed,
                from_status=None,
                to_status="proposed",
                reason="",
            )
        )
        for who, source, target, when, why in steps:
            self.add(
                MatchEvent(
                    id=self.new_id(),
                    ambito=self.ambito_id,
                    match=match.id,
                    actor=who.id,
                    at=when,
                    from_status=source,
                    to_status=target,
                    reason=why,
                )
            )
        taken = next((when for _, _, target, when, _ in steps if target == "accepted"), None)
        if taken is not None:
            released = next(
                (when for _, _, target, when, _ in steps if target not in ("accepted", "active")),
                None,
            )
            self.holds[resource["id"]].append((taken, released))
        status = steps[-1][2] if steps else "proposed"
        match.status = status
        match.updated_at = steps[-1][3] if steps else proposed
        if status == "declined":
            match.decline_reason = reason
        self.counts.by_status[status] = self.counts.by_status.get(status, 0) + 1
        return status, match.updated_at
