"""Planning the import of HSDS services as resources, and of their schedules as
availability windows."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, time
from typing import Any

import msgspec

from registry import geo
from registry.common import set_fields
from registry.errors import InvalidInput
from registry.interop import vocab
from registry.interop.hsds_plan import (
    _ISTAT,
    _RRULE_PART,
    DEFAULT_VALID_FROM,
    FALLBACK_CATEGORY,
    OrgPlan,
    ServicePlan,
    WindowPlan,
    _date,
    _default_unit,
    _error_text,
    _hhmm,
    _ImporterBase,
    _int,
    _public_name,
    _same,
    _shorten,
    _text,
    norm,
)
from registry.interop.schemas import ItemReport
from registry.resources.schemas import ResourceCreate, ResourcePatch, WindowIn
from registry.resources.service import _storable as resource_db_values
from registry.resources.service import _window_values as window_db_values
from registry.vocabularies import UserArea


class _Services(_ImporterBase):
    # -- services

    def plan_services(self) -> None:
        rows = self.tables.list("service")
        for done, row in enumerate(rows, start=1):
            self.progress("planning services", done, len(rows))
            ext = str(row["id"])
            item = ItemReport(
                entity="service",
                external_id=ext,
                name=_text(row.get("name")),
                action="create",
                source=self.tables.source("service", ext),
            )
            plan = ServicePlan(row=row, item=item)
            self.services.append(plan)
            errors = self.invalid.get(("service", ext))
            if errors:
                self._reject(item, [f"not valid HSDS: {e}" for e in errors])
                continue
            try:
                self._plan_service(plan)
            except (msgspec.ValidationError, InvalidInput) as error:
                self._reject(item, [_error_text(error)])
        # Capacities and schedules that belong to no service of this file.
        known = {str(r["id"]) for r in rows}
        for entity in ("service_capacity", "service_area", "language"):
            orphans = [
                r
                for r in self.tables.list(entity)
                if r.get("service_id") and str(r["service_id"]) not in known
            ]
            for orphan in orphans:
                self.warnings.append(
                    f"{entity} {orphan['id']} refers to service {orphan['service_id']}, "
                    "which is not in this file: ignored"
                )
        sal_services = {
            str(r["id"]): str(r.get("service_id") or "")
            for r in self.tables.list("service_at_location")
        }
        for schedule in self.tables.list("schedule"):
            owner = str(schedule.get("service_id") or "") or sal_services.get(
                str(schedule.get("service_at_location_id") or ""), ""
            )
            if not owner:
                self.warnings.append(
                    f"schedule {schedule['id']} belongs to a location only: opening hours of "
                    "places are not recorded (availability belongs to resources)"
                )
            elif owner not in known:
                self.warnings.append(
                    f"schedule {schedule['id']} refers to service {owner}, which is not in "
                    "this file: ignored"
                )

    def _service_terms(self, service_id: str) -> dict[str, list[tuple[dict, dict]]]:
        return self._org_terms(service_id)

    def _plan_service(self, plan: ServicePlan) -> None:
        row, item, existing = plan.row, plan.item, self.existing
        service_id = str(row["id"])
        org = self.orgs.get(str(row.get("organization_id") or ""))
        if org is None:
            holder_id = self._known_holder(str(row.get("organization_id") or ""))
            if holder_id is None:
                self._reject(
                    item,
                    [
                        f"its organization '{row.get('organization_id')}' is neither in this "
                        "file nor in the registry"
                    ],
                )
                return
            org = OrgPlan(
                row={},
                item=ItemReport(entity="organization", external_id="", name="", action="unchanged"),
                holder_id=holder_id,
            )
        elif org.item.action in ("reject", "skip"):
            self._reject(item, [f"its organization {org.item.external_id} was not imported"])
            return
        plan.org = org
        terms = self._service_terms(service_id)
        authoritative = org.authoritative
        given: dict[str, Any] = {
            "title": _text(row.get("name")),
            "description": _text(row.get("description")),
        }
        status = norm(row.get("status"))
        mapped_status = {
            "active": "active",
            "temporarily closed": "paused",
            "inactive": "paused",
            "defunct": "archived",
        }.get(status)
        if mapped_status is None:
            raise InvalidInput(f"unknown status '{row.get('status')}'", field="status")
        given["status"] = mapped_status

        category = next((t.get("code") for _, t in terms.get(vocab.CATEGORY.key, [])), None)
        if category is None:
            for _, term in terms.get("foreign", []):
                code = _text(term.get("code"))
                if code in existing.categories:
                    category = code
                elif norm(term.get("name")) in existing.category_by_name:
                    category = existing.category_by_name[norm(term.get("name"))]
                if category:
                    break
        if category:
            given["category_code"] = category

        capacities = self.index.children("service_capacity", "service_id", service_id)
        capacities = [
            c for c in capacities if ("service_capacity", str(c["id"])) not in self.invalid
        ]
        if capacities:
            capacity = capacities[0]
            if len(capacities) > 1:
                item.warnings.append(f"{len(capacities)} capacities: only the first is kept")
            unit = self._unit(capacity, item)
            if unit:
                given["unit"] = unit
            amount = _int(capacity.get("maximum"))
            if amount is None:
                amount = _int(capacity.get("available"))
            if amount is not None:
                given["capacity"] = amount

        areas = self.index.children("service_area", "service_id", service_id)
        if areas or authoritative:
            comuni = []
            for area in areas:
                code = self._comune_of_area(area, item.warnings)
                if code:
                    comuni.append(code)
                else:
                    item.warnings.append(
                        f"service area '{_shorten(_text(area.get('name')), 60)}' is not a comune "
                        "of this ambito: ignored"
                    )
            given["comuni"] = list(dict.fromkeys(comuni))
        groups = [t.get("code") for _, t in terms.get(vocab.AREA.key, [])]
        groups += [
            t.get("code")
            for _, t in terms.get("foreign", [])
            if t.get("code") in UserArea.__members__.values()
        ]
        if groups or authoritative:
            given["target_groups"] = list(dict.fromkeys(g for g in groups if g))
        languages = []
        for language in self.index.children("language", "service_id", service_id):
            code = norm(language.get("code"))
            code = vocab.LANGUAGE_ALIASES.get(code, code)
            if re.fullmatch(r"[a-z]{2}", code):
                languages.append(code)
            elif code or language.get("name"):
                item.warnings.append(
                    f"language '{language.get('code') or language.get('name')}' has no "
                    "ISO 639-1 code: ignored"
                )
        if languages or authoritative:
            given["languages"] = list(dict.fromkeys(languages))
        requirements = [t.get("code") for _, t in terms.get(vocab.REQUIREMENT.key, [])]
        if requirements or authoritative:
            given["requirements"] = list(dict.fromkeys(r for r in requirements if r))
        validity = self._extension(terms, vocab.EXT_VALIDITY)
        if validity:
            try:
                parsed = json.loads(validity)
                given["valid_from"] = parsed.get("valid_from")
                given["valid_until"] = parsed.get("valid_until")
            except (ValueError, AttributeError):
                item.warnings.append("the validity extension is not JSON: ignored")
        elif authoritative:
            given["valid_from"] = None
            given["valid_until"] = None
        assured = _date(row.get("assured_date"))

        match = self._match_resource(service_id, org, given["title"])
        if match is not None and match["status"] == "archived":
            item.action = "skip"
            item.local_id = str(match["id"])
            item.reasons.append("matches an archived resource: left as it is")
            return
        if match is not None and match["id"] in self.claimed_resources:
            self._reject(
                item,
                [
                    f"the same resource as service {self.claimed_resources[match['id']]} "
                    "of this file"
                ],
            )
            return
        if match is None:
            if given["status"] == "archived":
                item.action = "skip"
                item.reasons.append("a defunct service is not created")
                return
            plan.create = True
            if "category_code" not in given:
                given["category_code"] = FALLBACK_CATEGORY
                item.warnings.append(
                    f"no category of the registry: filed under '{FALLBACK_CATEGORY}' (review it)"
                )
            if "unit" not in given:
                given["unit"] = _default_unit(given["category_code"], existing)
                item.warnings.append(f"no unit given: '{given['unit']}' (review it)")
            data = msgspec.convert(given, ResourceCreate)
            values = set_fields(data)
            values.pop("holder_id", None)
            self._check_resource(values, {})
            plan.values = resource_db_values(values)
            moment = datetime.combine(assured, time(), tzinfo=UTC) if assured else None
            plan.values["confirmed_at"] = moment
            plan.resource_id = uuid.uuid4()
        else:
            plan.resource_id = match["id"]
            self.claimed_resources[match["id"]] = service_id
            holder_change = org.holder_id if match["holder"] != org.holder_id else None
            patch = msgspec.convert(given, ResourcePatch)
            values = set_fields(patch)
            self._check_resource(values, match)
            values = resource_db_values(values)
            # The registry's own derived states are not undone by a source that cannot
            # express them: stale and expired resources export as active / inactive.
            if values.get("status") == "active" and match["status"] == "stale":
                values.pop("status")
            if values.get("status") == "paused" and match["status"] == "expired":
                values.pop("status")
            if holder_change:
                values["holder"] = holder_change
            changes = {k: v for k, v in values.items() if not _same(match.get(k), v)}
            if assured and (
                match["confirmed_at"] is None
                or assured > match["confirmed_at"].astimezone(UTC).date()
            ):
                changes["confirmed_at"] = datetime.combine(assured, time(), tzinfo=UTC)
            plan.values = changes
            item.changes = sorted(_public_name(k) for k in changes)
        item.local_id = str(plan.resource_id)
        self._plan_windows(plan, service_id, match)
        if not plan.create:
            window_changed = any(w.action != "unchanged" for w in plan.windows or []) or bool(
                plan.delete_windows
            )
            if window_changed:
                item.changes.append("availability")
            item.action = "update" if item.changes else "unchanged"

    def _check_resource(self, values: dict[str, Any], current: dict[str, Any]) -> None:
        code = values.get("category_code")
        if code is not None and code not in self.existing.categories:
            raise InvalidInput(f"unknown category '{code}'", field="category_code")
        for index, comune in enumerate(values.get("comuni") or []):
            if comune not in self.existing.comuni:
                raise InvalidInput(
                    f"{comune} is not a comune of this ambito", field=f"comuni[{index}]"
                )
        start = values.get("valid_from", current.get("valid_from"))
        end = values.get("valid_until", current.get("valid_until"))
        if start and end and end < start:
            raise InvalidInput("valid_until must not be before valid_from", field="valid_until")

    def _known_holder(self, org_id: str) -> uuid.UUID | None:
        if not org_id:
            return None
        link = self.existing.links.get(("organization", org_id))
        if link and link["local_id"] in self.existing.holders:
            return link["local_id"]
        try:
            own = uuid.UUID(org_id)
        except ValueError:
            return None
        return own if own in self.existing.holders else None

    def _match_resource(self, service_id: str, org: OrgPlan, title: str) -> dict[str, Any] | None:
        existing = self.existing
        link = existing.links.get(("service", service_id))
        if link and link["local_id"] in existing.resources:
            return existing.resources[link["local_id"]]
        try:
            own = uuid.UUID(service_id)
        except ValueError:
            own = None
        if own in existing.resources:
            return existing.resources[own]
        if org.create or org.holder_id is None:
            return None
        for resource in existing.resources.values():
            if resource["holder"] == org.holder_id and norm(resource["title"]) == norm(title):
                return resource
        return None

    def _unit(self, capacity: dict[str, Any], item: ItemReport) -> str | None:
        unit = self.tables.get("unit", capacity.get("unit_id")) or {}
        codes = vocab.unit_codes()
        identifier = _text(unit.get("identifier"))
        if identifier in codes:
            return identifier
        name = norm(unit.get("name"))
        for code in codes:
            if name in (code, norm(vocab.unit_label(code)), code.replace("_", " ")):
                return code
        if unit:
            item.warnings.append(f"unit '{unit.get('name')}' has no equivalent in the registry")
        return None

    def _comune_of_area(self, area: dict[str, Any], warnings: list[str]) -> str | None:
        comuni = self.existing.comuni
        codes = [
            _text(term.get("code"))
            for vocabulary, term in map(self.index.term, self.index.attributes(area["id"]))
            if vocabulary is vocab.COMUNE
        ]
        for key in ("extent", "uri", "name", "description"):
            codes += _ISTAT.findall(_text(area.get(key)))
        for given in codes:
            # A suppressed code (a merger...) stands for its successor of today.
            code, mapped = geo.resolve(given)
            if code in comuni:
                if mapped:
                    warnings.append(f"service area: {mapped}")
                return code
        return self.existing.comune_by_name.get(norm(area.get("name")))

    # -- schedules

    def _schedules_of(self, service_id: str) -> list[dict[str, Any]]:
        found = list(self.index.children("schedule", "service_id", service_id))
        for sal in self.index.children("service_at_location", "service_id", service_id):
            for schedule in self.index.children("schedule", "service_at_location_id", sal["id"]):
                if schedule not in found:
                    found.append(schedule)
        return found

    def _plan_windows(
        self, plan: ServicePlan, service_id: str, match: dict[str, Any] | None
    ) -> None:
        schedules = self._schedules_of(service_id)
        if not schedules:
            return
        item = plan.item
        wanted: list[tuple[str, dict[str, Any]]] = []
        complete = True
        for schedule in schedules:
            ext = str(schedule["id"])
            errors = self.invalid.get(("schedule", ext))
            try:
                if errors:
                    raise InvalidInput(f"not valid HSDS: {errors[0]}")
                wanted.append((ext, self._window_values(schedule, item)))
            except (msgspec.ValidationError, InvalidInput) as error:
                complete = False
                self.window_counts.skipped += 1
                item.warnings.append(f"schedule {ext} skipped: {_error_text(error)}")
        if not complete and match is not None:
            item.warnings.append("availability left as it is, since a schedule could not be read")
            return
        current = {
            w["id"]: w for w in (self.existing.windows.get(match["id"], []) if match else [])
        }
        unmatched = dict(current)
        windows: list[WindowPlan] = []
        pending: list[tuple[str, dict[str, Any]]] = []
        for ext, values in wanted:
            window_id = None
            link = self.existing.links.get(("schedule", ext))
            if link and link["local_id"] in unmatched:
                window_id = link["local_id"]
            else:
                try:
                    own = uuid.UUID(ext)
                except ValueError:
                    own = None
                if own in unmatched:
                    window_id = own
            if window_id is None:
                pending.append((ext, values))
                continue
            old = unmatched.pop(window_id)
            changed = any(not _same(old.get(k), v) for k, v in values.items())
            windows.append(WindowPlan(ext, window_id, values, "update" if changed else "unchanged"))
        for ext, values in pending:
            same = next(
                (
                    wid
                    for wid, old in unmatched.items()
                    if all(_same(old.get(k), v) for k, v in values.items())
                ),
                None,
            )
            if same is not None:
                unmatched.pop(same)
                windows.append(WindowPlan(ext, same, values, "unchanged"))
            else:
                windows.append(WindowPlan(ext, None, values, "create"))
        plan.windows = windows
        plan.delete_windows = list(unmatched)

    def _window_values(self, schedule: dict[str, Any], item: ItemReport) -> dict[str, Any]:
        attributes = {}
        for attribute in self.index.attributes(schedule["id"]):
            vocabulary, term = self.index.term(attribute)
            if vocabulary is vocab.EXTENSION:
                attributes[term.get("code")] = _text(attribute.get("value"))
        freq = _text(schedule.get("freq")).upper()
        interval = _int(schedule.get("interval")) or 1
        by_day = [d.strip().upper() for d in _text(schedule.get("byday")).split(",") if d.strip()]
        rule = attributes.get(vocab.EXT_RRULE)
        if rule:
            parts = dict(m.groups() for p in rule.split(";") if (m := _RRULE_PART.match(p.strip())))
            freq = parts.get("FREQ", freq)
            interval = _int(parts.get("INTERVAL")) or 1
            by_day = [d for d in parts.get("BYDAY", "").split(",") if d]
        if not freq:
            raise InvalidInput("no freq: the schedule is not a recurring rule", field="freq")
        ext = str(schedule["id"])
        for key in ("bymonthday", "byweekno", "byyearday"):
            if _text(schedule.get(key)):
                item.warnings.append(f"schedule {ext}: {key} is not supported: ignored")
        if _text(schedule.get("count")):
            item.warnings.append(
                f"schedule {ext}: count is not supported (valid_to bounds the rule): ignored"
            )
        if _text(schedule.get("wkst")) not in ("", "MO"):
            item.warnings.append(
                f"schedule {ext}: weeks start on Monday in the registry (wkst ignored)"
            )
        opens, closes = _hhmm(schedule.get("opens_at")), _hhmm(schedule.get("closes_at"))
        if opens is None or closes is None:
            raise InvalidInput(
                "opens_at and closes_at (HH:MM) are needed for a window", field="opens_at"
            )
        valid_from = _date(schedule.get("valid_from")) or _date(schedule.get("dtstart"))
        if valid_from is None:
            valid_from = DEFAULT_VALID_FROM
            item.warnings.append(
                f"schedule {ext}: no start date, valid from {valid_from.isoformat()}"
            )
        ends = [d for d in (_date(schedule.get("valid_to")), _date(schedule.get("until"))) if d]
        notes = _text(schedule.get("notes"))
        if len(notes) > 300:
            item.warnings.append(f"schedule {ext}: notes shortened to 300 characters")
            notes = _shorten(notes, 300)
        exceptions = [
            d for d in (attributes.get(vocab.EXT_EXCEPTIONS) or "").split(",") if d.strip()
        ]
        data = msgspec.convert(
            {
                "freq": freq,
                "interval": interval,
                "by_day": by_day,
                "start_time": opens,
                "end_time": closes,
                "valid_from": valid_from,
                "valid_until": min(ends) if ends else None,
                "exceptions": [e.strip() for e in exceptions],
                "capacity": _int(attributes.get(vocab.EXT_WINDOW_CAPACITY)) or 1,
                "notes": notes,
            },
            WindowIn,
        )
        return window_db_values(data)
