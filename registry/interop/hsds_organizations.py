"""Planning the import of HSDS organizations as holders: matching them against the
ambito's holders, their identifiers, seat, contacts and terms."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec

from registry import geo
from registry.common import set_fields
from registry.errors import InvalidInput
from registry.holders.schemas import HolderCreate, HolderPatch
from registry.holders.service import _check_rules as check_holder_rules
from registry.holders.service import _normalised as holder_db_values
from registry.interop import vocab
from registry.interop.hsds_plan import (
    _ITALY,
    _KIND_LABELS,
    OrgPlan,
    _error_text,
    _ImporterBase,
    _keep_websites,
    _public_name,
    _same,
    _shorten,
    _text,
    norm,
)
from registry.interop.schemas import ItemReport
from registry.vocabularies import SECTOR_OF_KIND, HolderKind, Sector, UserArea


class _Organizations(_ImporterBase):
    # -- organizations

    def plan_organizations(self) -> None:
        rows = self.tables.list("organization")
        for done, row in enumerate(rows, start=1):
            self.progress("planning organizations", done, len(rows))
            ext = str(row["id"])
            item = ItemReport(
                entity="organization",
                external_id=ext,
                name=_text(row.get("name")),
                action="create",
                source=self.tables.source("organization", ext),
            )
            plan = OrgPlan(row=row, item=item)
            self.orgs[ext] = plan
            errors = self.invalid.get(("organization", ext))
            if errors:
                self._reject(item, [f"not valid HSDS: {e}" for e in errors])
                continue
            try:
                self._plan_organization(plan)
            except (msgspec.ValidationError, InvalidInput) as error:
                self._reject(item, [_error_text(error)])

    def _plan_organization(self, plan: OrgPlan) -> None:
        row, item, existing = plan.row, plan.item, self.existing
        org_id = str(row["id"])
        terms = self._org_terms(org_id)
        public_listing = self._extension(terms, vocab.EXT_PUBLIC_LISTING)
        # Our own full export carries every field: absent means empty, not unknown.
        plan.authoritative = public_listing is not None
        given: dict[str, Any] = {
            "name": _text(row.get("name")),
            "description": _text(row.get("description")),
        }
        defaults: dict[str, Any] = {}

        kind = next(
            (
                t.get("code")
                for _, t in terms.get(vocab.KIND.key, [])
                if t.get("code") in HolderKind.__members__.values()
            ),
            None,
        )
        if kind is None and row.get("legal_status"):
            legal = norm(row["legal_status"])
            kind = next(
                (
                    k.value
                    for k, label in vocab.KIND_LABELS.items()
                    if legal in (norm(label), k.value)
                ),
                None,
            )
        if kind:
            given["kind"] = kind
        else:
            defaults["kind"] = HolderKind.OTHER.value
        sector = next(
            (
                t.get("code")
                for _, t in terms.get(vocab.SECTOR.key, [])
                if t.get("code") in Sector.__members__.values()
            ),
            None,
        )
        if sector:
            given["sector"] = sector
        else:
            allowed = SECTOR_OF_KIND[HolderKind(kind or defaults["kind"])]
            if kind and len(allowed) == 1:
                given["sector"] = next(iter(allowed)).value
            else:
                defaults["sector"] = (
                    Sector.THIRD_SECTOR.value
                    if Sector.THIRD_SECTOR in allowed
                    else sorted(s.value for s in allowed)[0]
                )

        areas = [t.get("code") for _, t in terms.get(vocab.AREA.key, [])]
        areas += [
            t.get("code")
            for _, t in terms.get("foreign", [])
            if t.get("code") in UserArea.__members__.values()
        ]
        if areas or plan.authoritative:
            given["areas"] = list(dict.fromkeys(a for a in areas if a))
        comuni = []
        for _, term in terms.get(vocab.COMUNE.key, []):
            code, mapped = geo.resolve(_text(term.get("code")))
            if code in existing.comuni:
                comuni.append(code)
                if mapped:
                    item.warnings.append(f"comune: {mapped}")
            else:
                item.warnings.append(f"comune {code} is not a comune of this ambito: ignored")
        if comuni or plan.authoritative:
            given["comuni"] = list(dict.fromkeys(comuni))

        identifiers = self._identifiers(org_id, item)
        if identifiers or plan.authoritative:
            for key in ("codice_fiscale", "partita_iva", "runts_number"):
                given[key] = identifiers.get(key)

        address, seat = self._seat(org_id, item, plan)
        if address is not None:
            given["address"] = address
        elif plan.authoritative:
            given["address"] = ""
        if seat is not None or plan.authoritative:
            given["seat_comune"] = seat

        contacts = self._contacts(row, item)
        if contacts or plan.authoritative:
            given["contacts"] = contacts
        if public_listing is not None:
            given["public_listing"] = public_listing.lower() == "true"
        consent = self._extension(terms, vocab.EXT_CONSENT)
        if consent:
            try:
                given["consent"] = json.loads(consent)
            except ValueError:
                item.warnings.append("the consent record is not JSON: ignored")
        elif plan.authoritative:
            given["consent"] = None

        if norm(given["description"]) in _KIND_LABELS:
            given["description"] = ""  # the placeholder our export writes for "none"
        match = self._match_holder(org_id, given, identifiers)
        if match is not None and match["status"] == "archived":
            item.action = "skip"
            item.local_id = str(match["id"])
            item.reasons.append("matches an archived holder: left as it is")
            return
        if match is not None and match["id"] in self.claimed_holders:
            other = self.claimed_holders[match["id"]]
            self._reject(item, [f"the same holder as organization {other} of this file"])
            return
        if match is None:
            plan.create = True
            for key, value in defaults.items():
                given.setdefault(key, value)
                item.warnings.append(f"no {key} given: '{value}' (review it)")
            if "comuni" not in given:
                given["comuni"] = []
            data = msgspec.convert(given, HolderCreate)
            values = holder_db_values(set_fields(data))
            check_holder_rules(values)
            plan.values = values
            plan.holder_id = uuid.uuid4()
            item.local_id = str(plan.holder_id)
            key = self._holder_key(values.get("name"), values.get("address"))
            self._new_holder_keys[key] = org_id
        else:
            plan.holder_id = match["id"]
            item.local_id = str(match["id"])
            self.claimed_holders[match["id"]] = org_id
            if "contacts" in given:
                given["contacts"] = _keep_websites(given["contacts"], match["contacts"] or [])
            patch = msgspec.convert(given, HolderPatch)
            values = holder_db_values(set_fields(patch))
            check_holder_rules({**match, **values})
            changes = {k: v for k, v in values.items() if not _same(match.get(k), v)}
            plan.values = changes
            item.action = "update" if changes else "unchanged"
            item.changes = sorted(_public_name(k) for k in changes)

    @staticmethod
    def _holder_key(name: Any, address: Any) -> tuple[str, str]:
        return (norm(name), norm(address))

    def _match_holder(
        self, org_id: str, given: dict[str, Any], identifiers: dict[str, str | None]
    ) -> dict[str, Any] | None:
        existing = self.existing
        link = existing.links.get(("organization", org_id))
        if link and link["local_id"] in existing.holders:
            return existing.holders[link["local_id"]]
        try:
            own = uuid.UUID(org_id)
        except ValueError:
            own = None
        if own in existing.holders:
            return existing.holders[own]
        for key in ("codice_fiscale", "partita_iva"):
            value = identifiers.get(key)
            if value:
                for holder in existing.holders.values():
                    if holder[key] and holder[key].upper() == value.upper():
                        return holder
        key = self._holder_key(given.get("name"), given.get("address", ""))
        for holder in existing.holders.values():
            if self._holder_key(holder["name"], holder["address"]) == key:
                return holder
        if key in self._new_holder_keys:
            raise InvalidInput(
                f"the same name and address as organization {self._new_holder_keys[key]} "
                "of this file"
            )
        return None

    def _identifiers(self, org_id: str, item: ItemReport) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for row in self.index.children("organization_identifier", "organization_id", org_id):
            scheme = norm(row.get("identifier_scheme"))
            kind = norm(row.get("identifier_type"))
            value = _text(row.get("identifier"))
            if scheme == "it-cf" or "fiscale" in kind:
                found["codice_fiscale"] = value
            elif scheme == "it-iva" or "iva" in kind or "vat" in kind:
                found["partita_iva"] = value
            elif scheme == "it-runts" or "runts" in kind:
                found["runts_number"] = value
            else:
                item.warnings.append(
                    f"identifier {row.get('identifier_scheme') or row.get('identifier_type')} "
                    f"'{value}' has no field in the registry: ignored"
                )
        return found

    def _seat(
        self, org_id: str, item: ItemReport, plan: OrgPlan | None = None
    ) -> tuple[str | None, str | None]:
        locations = self.index.children("location", "organization_id", org_id)
        locations = [loc for loc in locations if ("location", str(loc["id"])) not in self.invalid]
        if not locations:
            return None, None
        locations.sort(
            key=lambda loc: (
                norm(loc.get("external_identifier_type")) != "istat",
                loc.get("location_type") != "physical",
            )
        )
        location = locations[0]
        if len(locations) > 1:
            item.warnings.append(
                f"{len(locations)} locations: the registry keeps one seat, "
                f"'{_text(location.get('name'))}' was used"
            )
        seat: str | None = None
        code = _text(location.get("external_identifier"))
        if norm(location.get("external_identifier_type")) == "istat" and code:
            code, mapped = geo.resolve(code)
            if code in self.existing.comuni:
                seat = code
                if mapped:
                    item.warnings.append(f"seat comune: {mapped}")
            else:
                item.warnings.append(f"seat comune {code} is not a comune of this ambito")
        addresses = [
            a
            for a in self.index.children("address", "location_id", location["id"])
            if ("address", str(a["id"])) not in self.invalid
        ]
        address: str | None = None
        if addresses:
            first = addresses[0]
            address = ", ".join(
                p for p in (_text(first.get("address_1")), _text(first.get("address_2"))) if p
            )
            city = _text(first.get("city"))
            if plan is not None:
                plan.address_given = True
            country = _text(first.get("country")).upper()
            if country and country not in _ITALY:
                return self._foreign(first, address, city, country, item, plan), None
            if seat is None and city:
                seat = self.existing.comune_by_name.get(norm(city))
                if seat is None:
                    item.warnings.append(
                        f"city '{city}' is not a comune of this ambito: seat comune left empty"
                    )
        return address, seat

    def _foreign(
        self,
        address: dict[str, Any],
        lines: str,
        city: str,
        country: str,
        item: ItemReport,
        plan: OrgPlan | None,
    ) -> str:
        """A foreign address: written in full in the holder's one address line, its parts
        kept for the export (ForeignAddress); never a seat comune."""
        postal = _text(address.get("postal_code"))
        state = _text(address.get("state_province"))
        place = " ".join(p for p in (postal, city) if p)
        line = _shorten(", ".join(p for p in (lines, place, state, country) if p), 300)
        if plan is not None:
            plan.foreign = {
                "address_line": line,
                "address_1": _shorten(_text(address.get("address_1")), 300),
                "address_2": _shorten(_text(address.get("address_2")), 300),
                "city": _shorten(city, 100),
                "state_province": _shorten(state, 100),
                "postal_code": _shorten(postal, 32),
                "country": country[:2],
            }
        item.warnings.append(
            f"address in another country ({country}): written in full in the address, "
            "with no seat comune; the export gives back its city, postal code and country"
        )
        return line

    def _contacts(self, row: dict[str, Any], item: ItemReport) -> list[dict[str, str]]:
        org_id = str(row["id"])
        contacts: list[dict[str, str]] = []

        def add(kind: str, value: Any, label: Any = "") -> None:
            text = _text(value)
            if not text:
                return
            if len(text) > 200:
                item.warnings.append(f"{kind} '{text[:40]}…' is too long: ignored")
                return
            if any(c["kind"] == kind and c["value"] == text for c in contacts):
                return
            contacts.append({"kind": kind, "value": text, "label": _shorten(_text(label), 100)})

        people = self.index.children("contact", "organization_id", org_id)
        for contact in people:
            if ("contact", str(contact["id"])) in self.invalid:
                continue
            if _text(contact.get("name")):
                add("person", contact["name"], contact.get("title") or contact.get("department"))
            elif _text(contact.get("email")):
                add("email", contact["email"], contact.get("department") or contact.get("title"))
        add("email", row.get("email"))
        for url in self.index.children("url", "organization_id", org_id):
            add("website", url.get("url"), url.get("label"))
        add("website", row.get("website"))
        for phone in self.index.children("phone", "organization_id", org_id):
            if ("phone", str(phone["id"])) not in self.invalid:
                add("phone", phone.get("number"), phone.get("description"))
        # Order as the registry shows them: e-mail, website, phone, people.
        order = {"email": 0, "website": 1, "phone": 2, "person": 3}
        contacts.sort(key=lambda c: order[c["kind"]])
        if len(contacts) > 20:
            item.warnings.append(f"{len(contacts)} contacts: only the first 20 are kept")
            contacts = contacts[:20]
        return contacts
