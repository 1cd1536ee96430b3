"""Export of an ambito as Open Referral HSDS 3.1: the mapping from our records to HSDS.

    holder              -> organization (+ organization_identifier, phones, contacts,
                           attributes for kind, sector, user areas and comuni served)
    holder seat/address -> location (+ address; external_identifier = ISTAT code of the comune)
    resource            -> service (+ service_at_location at the holder's location)
    availability window -> schedule (freq, interval, byday, opens_at, closes_at, valid_from,
                           valid_to; capacity, exceptions and DAILY rules as attributes)
    resource comuni     -> service_area (one per comune, linked to the ISTAT comuni taxonomy)
    capacity and unit   -> service_capacity + unit
    our taxonomy        -> taxonomy + taxonomy_term (and the vocabularies in vocab.py)

Two scopes: "full" (the UdP's own export: everything needed to rebuild the data) and
"public" (the open directory: holders that chose public listing, never individual
volunteers, no named people, no consent records; informal networks without contacts,
identifiers or address). Pure functions over a `Snapshot` loaded in one go
(hsds_snapshot.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from registry.interop import vocab
from registry.interop.hsds_snapshot import Scope, Snapshot
from registry.interop.vocab import stable_id
from registry.vocabularies import KINDS_NEEDING_CONSENT, HolderKind

_STATUS_TO_HSDS = {
    "active": "active",
    "stale": "active",  # still offered; assured_date tells how old the confirmation is
    "paused": "temporarily closed",
    "expired": "inactive",
    "archived": "defunct",
}
_CAP = re.compile(r"\b(\d{5})\b")


def publicly_listed(holder: dict[str, Any]) -> bool:
    return (
        bool(holder["public_listing"])
        and holder["status"] != "archived"
        and holder["kind"] != HolderKind.INDIVIDUAL_VOLUNTEER.value
    )


def natural_person(holder: dict[str, Any]) -> bool:
    """Holders whose data is personal data (the kinds that need a consent record)."""
    return HolderKind(holder["kind"]) in KINDS_NEEDING_CONSENT


# --- small value helpers ------------------------------------------------------------------


def iso_datetime(value: datetime | None) -> str | None:
    """RFC 3339 with milliseconds in UTC, as HSDS asks for last_modified."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def hhmmss(value: time) -> str:
    return value.strftime("%H:%M:%S")


def as_uri(value: str) -> str:
    """A website as typed ("www.x.it") made a URI, as HSDS's format "uri" wants."""
    value = value.strip()
    return value if "://" in value else "http://" + value


def _drop_empty(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None and v != []}


# --- taxonomies ---------------------------------------------------------------------------


@lru_cache(maxsize=256)
def taxonomy_object(vocabulary: vocab.Vocabulary) -> dict[str, Any]:
    return _drop_empty(
        {
            "id": vocabulary.id,
            "name": vocabulary.name,
            "description": vocabulary.description,
            "uri": vocabulary.uri,
            "version": vocabulary.version,
        }
    )


@lru_cache(maxsize=16_384)
def term_object(
    vocabulary: vocab.Vocabulary,
    code: str,
    name: str,
    description: str = "",
    parent_code: str | None = None,
    *,
    with_taxonomy: bool = True,
) -> dict[str, Any]:
    """A taxonomy_term object (cached: callers embed it, and never modify it)."""
    term: dict[str, Any] = {
        "id": vocabulary.term_id(code),
        "code": code,
        "name": name,
        "description": description or name,
        "parent_id": vocabulary.term_id(parent_code) if parent_code else None,
        "taxonomy": vocabulary.name,
        "language": "it",
        "taxonomy_id": vocabulary.id,
    }
    if with_taxonomy:
        term["taxonomy_detail"] = taxonomy_object(vocabulary)
    return _drop_empty(term)


class Terms:
    """Term objects of one export (so category names come from the taxonomy table)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def category(self, code: str) -> dict[str, Any]:
        row = self.snapshot.terms.get(code)
        if row is None:
            return term_object(vocab.CATEGORY, code, code)
        return term_object(
            vocab.CATEGORY, code, row["name"], row["description"], row["parent_code"]
        )

    def comune(self, code: str) -> dict[str, Any]:
        return term_object(vocab.COMUNE, code, self.snapshot.comuni.get(code, code))

    def all_terms(self, requirement_codes: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Every term an export may point at, for the taxonomy_terms table and endpoint."""
        found = [
            self.category(code)
            for code, _ in sorted(
                self.snapshot.terms.items(),
                key=lambda item: (
                    item[1]["parent_code"] or "",
                    item[1]["position"] if item[1]["position"] is not None else 0,
                    item[0],
                ),
            )
        ]
        found += [term_object(vocab.AREA, a.value, label) for a, label in vocab.AREA_LABELS.items()]
        found += [term_object(vocab.KIND, k.value, label) for k, label in vocab.KIND_LABELS.items()]
        found += [
            term_object(vocab.SECTOR, s.value, label) for s, label in vocab.SECTOR_LABELS.items()
        ]
        found += [term_object(vocab.REQUIREMENT, r, r) for r in sorted(set(requirement_codes))]
        found += [self.comune(code) for code in sorted(self.snapshot.comuni)]
        found += [term_object(vocab.EXTENSION, c, label) for c, label in vocab.EXTENSIONS.items()]
        return found


def attribute(
    link_entity: str,
    link_id: str,
    link_type: str,
    term: dict[str, Any],
    value: str | None = None,
) -> dict[str, Any]:
    return _drop_empty(
        {
            "id": stable_id("attribute", link_entity, link_id, link_type, term["id"]),
            "link_id": link_id,
            "link_entity": link_entity,
            "link_type": link_type,
            "taxonomy_term_id": term["id"],
            "value": value,
            "label": term["name"],
            "taxonomy_term": term,
        }
    )


def _ext(link_entity: str, link_id: str, code: str, value: str) -> dict[str, Any]:
    term = term_object(vocab.EXTENSION, code, vocab.EXTENSIONS[code])
    return attribute(link_entity, link_id, "extension", term, value)


# --- records ------------------------------------------------------------------------------


def location_of(holder: dict[str, Any], snapshot: Snapshot, scope: Scope) -> dict[str, Any] | None:
    """The holder's seat as an HSDS location, or None (no address and no comune, or the
    address of a natural person in the public scope)."""
    if scope == "public" and natural_person(holder):
        return None
    address = (holder["address"] or "").strip()
    comune = holder["seat_comune"]
    if not address and not comune:
        return None
    holder_id = str(holder["id"])
    location_id = stable_id("location", holder_id)
    location: dict[str, Any] = {
        "id": location_id,
        "location_type": "physical",
        "organization_id": holder_id,
        "name": holder["name"],
        "external_identifier": comune,
        "external_identifier_type": "ISTAT" if comune else None,
    }
    foreign = snapshot.foreign.get(holder["id"])
    if foreign is not None and foreign["address_line"] == address:
        # Imported from abroad and not edited since: its own city, postal code and country,
        # never the ambito's region and "IT".
        given = {
            "id": stable_id("address", holder_id),
            "location_id": location_id,
            "address_1": foreign["address_1"] or address,
            # HSDS requires city, state_province and postal_code: empty when not given.
            "city": foreign["city"],
            "state_province": foreign["state_province"],
            "postal_code": foreign["postal_code"],
            "country": foreign["country"],
            "address_type": "physical",
        }
        if foreign["address_2"]:
            given["address_2"] = foreign["address_2"]
        location["addresses"] = [given]
    elif address:
        place = vocab.comuni_places().get(comune or "")
        cap = _CAP.search(address)
        location["addresses"] = [
            {
                "id": stable_id("address", holder_id),
                "location_id": location_id,
                "address_1": address,
                "city": snapshot.comuni.get(comune or "", ""),
                "region": snapshot.ambito.get("region"),
                "state_province": place.province if place else snapshot.ambito.get("region", ""),
                # HSDS requires it: the CAP written in the address, else the comune's
                # only CAP; empty for a multi-CAP city whose address does not say it.
                "postal_code": cap.group(1) if cap else (place.cap if place else ""),
                "country": "IT",
                "address_type": "physical",
            }
        ]
    return _drop_empty(location)


def description_of(holder: dict[str, Any]) -> str:
    """HSDS requires a description (a non-empty cell in the CSV form): a holder without one
    is described by its kind, which the import reads back as "no description"."""
    return holder["description"] or vocab.KIND_LABELS[HolderKind(holder["kind"])]


def organization(
    holder: dict[str, Any], snapshot: Snapshot, scope: Scope, terms: Terms
) -> dict[str, Any]:
    holder_id = str(holder["id"])
    personal = natural_person(holder)
    kind = HolderKind(holder["kind"])
    org: dict[str, Any] = {
        "id": holder_id,
        "name": holder["name"],
        "description": description_of(holder),
        "legal_status": vocab.KIND_LABELS[kind],
    }
    contacts = holder["contacts"] or []
    if scope == "public" and personal:
        contacts = []  # an informal network's contacts are its members' own
    emails = [c for c in contacts if c["kind"] == "email"]
    websites = [c for c in contacts if c["kind"] == "website"]
    phones = [c for c in contacts if c["kind"] == "phone"]
    people = [c for c in contacts if c["kind"] == "person"] if scope == "full" else []
    if emails:
        org["email"] = emails[0]["value"]
    if websites:
        org["website"] = as_uri(websites[0]["value"])
        org["additional_websites"] = [
            _drop_empty(
                {
                    "id": stable_id("url", holder_id, index),
                    "organization_id": holder_id,
                    "label": c.get("label") or None,
                    "url": as_uri(c["value"]),
                }
            )
            for index, c in enumerate(websites)
        ]
    org["phones"] = [
        _drop_empty(
            {
                "id": stable_id("phone", holder_id, index),
                "organization_id": holder_id,
                "number": c["value"],
                "description": c.get("label") or None,
            }
        )
        for index, c in enumerate(phones)
    ]
    org["contacts"] = [
        _drop_empty(
            {
                "id": stable_id("contact", holder_id, "person", index),
                "organization_id": holder_id,
                "name": c["value"],
                "title": c.get("label") or None,
            }
        )
        for index, c in enumerate(people)
    ] + [
        _drop_empty(
            {
                "id": stable_id("contact", holder_id, "email", index),
                "organization_id": holder_id,
                "email": c["value"],
                "department": c.get("label") or None,
            }
        )
        for index, c in enumerate(emails)
    ]
    if not (scope == "public" and personal):
        org["organization_identifiers"] = [
            {
                "id": stable_id("identifier", holder_id, scheme),
                "organization_id": holder_id,
                "identifier_scheme": scheme,
                "identifier_type": vocab.IDENTIFIER_TYPES[scheme],
                "identifier": value,
            }
            for scheme, value in (
                (vocab.SCHEME_CF, holder["codice_fiscale"]),
                (vocab.SCHEME_IVA, holder["partita_iva"]),
                (vocab.SCHEME_RUNTS, holder["runts_number"]),
            )
            if value
        ]
    location = location_of(holder, snapshot, scope)
    if location:
        org["locations"] = [location]
    attributes = [
        attribute(
            "organization",
            holder_id,
            "kind",
            term_object(vocab.KIND, kind.value, vocab.KIND_LABELS[kind]),
        ),
        attribute(
            "organization",
            holder_id,
            "sector",
            term_object(
                vocab.SECTOR,
                holder["sector"],
                vocab.SECTOR_LABELS.get(holder["sector"], holder["sector"]),
            ),  # type: ignore[call-overload]
        ),
    ]
    for area in holder["areas"] or []:
        label = vocab.AREA_LABELS.get(area, area)  # type: ignore[call-overload]
        attributes.append(
            attribute("organization", holder_id, "area", term_object(vocab.AREA, area, label))
        )
    for code in holder["comuni"] or []:
        attributes.append(attribute("organization", holder_id, "comune_served", terms.comune(code)))
    if scope == "full":
        attributes.append(
            _ext(
                "organization",
                holder_id,
                vocab.EXT_PUBLIC_LISTING,
                "true" if holder["public_listing"] else "false",
            )
        )
        if holder["consent_given_at"]:
            consent = {
                "given_by": holder["consent_given_by"],
                "given_at": iso_datetime(holder["consent_given_at"]),
                "text_version": holder["consent_text_version"],
            }
            attributes.append(
                _ext(
                    "organization",
                    holder_id,
                    vocab.EXT_CONSENT,
                    json.dumps(consent, sort_keys=True),
                )
            )
    org["attributes"] = attributes
    return _drop_empty(org)


def describe_window(window: dict[str, Any]) -> str:
    """The rule in words, in Italian, for people reading the schedule."""
    freq, interval = window["freq"], window["interval"] or 1
    days = []
    for item in window["by_day"] or []:
        ordinal, day = item[:-2], item[-2:]
        name = vocab.WEEKDAYS_IT.get(day, day)
        days.append(f"{vocab.ORDINALS_IT.get(ordinal, ordinal)} {name}" if ordinal else name)
    every = {
        "DAILY": "ogni giorno" if interval == 1 else f"ogni {interval} giorni",
        "WEEKLY": "ogni settimana" if interval == 1 else f"ogni {interval} settimane",
        "MONTHLY": "ogni mese" if interval == 1 else f"ogni {interval} mesi",
    }.get(freq, freq)
    text = every.capitalize()
    if days:
        text += ", " + ", ".join(days)
    text += f", dalle {window['start_time']:%H:%M} alle {window['end_time']:%H:%M}"
    if window["capacity"] and window["capacity"] > 1:
        text += f" ({window['capacity']} posti)"
    return text + "."


def schedule(window: dict[str, Any], service_id: str) -> dict[str, Any]:
    window_id = str(window["id"])
    freq = window["freq"]
    by_day = list(window["by_day"] or [])
    interval = window["interval"] or 1
    hsds_freq: str | None = freq
    if freq == "DAILY":
        # HSDS freq is WEEKLY or MONTHLY: DAILY every day is WEEKLY on all (or the given)
        # days; the exact rule travels in the "rrule" extension for a faithful round trip.
        hsds_freq = "WEEKLY" if interval == 1 else None
        by_day = by_day or list(vocab.WEEKDAYS_IT)
    out: dict[str, Any] = {
        "id": window_id,
        "service_id": service_id,
        "valid_from": window["valid_from"].isoformat(),
        "valid_to": window["valid_until"].isoformat() if window["valid_until"] else None,
        "dtstart": window["valid_from"].isoformat(),
        "until": window["valid_until"].isoformat() if window["valid_until"] else None,
        "wkst": "MO",
        "freq": hsds_freq,
        "interval": interval if hsds_freq else None,
        "byday": ",".join(by_day) if by_day and hsds_freq else None,
        "opens_at": hhmmss(window["start_time"]),
        "closes_at": hhmmss(window["end_time"]),
        "description": describe_window(window),
        "notes": window["notes"] or None,
    }
    attributes = [
        _ext("schedule", window_id, vocab.EXT_WINDOW_CAPACITY, str(window["capacity"] or 1))
    ]
    exceptions = sorted(window["exceptions"] or [])
    if exceptions:
        attributes.append(
            _ext(
                "schedule",
                window_id,
                vocab.EXT_EXCEPTIONS,
                ",".join(d.isoformat() if isinstance(d, date) else str(d) for d in exceptions),
            )
        )
    if freq == "DAILY":
        rule = f"FREQ=DAILY;INTERVAL={interval}"
        if window["by_day"]:
            rule += ";BYDAY=" + ",".join(window["by_day"])
        attributes.append(_ext("schedule", window_id, vocab.EXT_RRULE, rule))
    out["attributes"] = attributes
    return _drop_empty(out)


def service(
    resource: dict[str, Any],
    holder: dict[str, Any],
    snapshot: Snapshot,
    scope: Scope,
    terms: Terms,
    *,
    with_organization: bool = False,
) -> dict[str, Any]:
    service_id = str(resource["id"])
    holder_id = str(holder["id"])
    out: dict[str, Any] = {
        "id": service_id,
        "organization_id": holder_id,
        "name": resource["title"],
        "description": resource["description"] or "",
        "status": _STATUS_TO_HSDS[resource["status"]],
        "assured_date": resource["confirmed_at"].astimezone(UTC).date().isoformat()
        if resource["confirmed_at"]
        else None,
        "last_modified": iso_datetime(resource["updated_at"]),
    }
    if with_organization:
        out["organization"] = _drop_empty(
            {
                "id": holder_id,
                "name": holder["name"],
                "description": description_of(holder),
                "legal_status": vocab.KIND_LABELS[HolderKind(holder["kind"])],
            }
        )
    out["languages"] = [
        {
            "id": stable_id("language", service_id, code),
            "service_id": service_id,
            "name": vocab.LANGUAGE_NAMES.get(code, code),
            "code": code,
        }
        for code in resource["languages"] or []
    ]
    out["service_areas"] = [
        {
            "id": stable_id("service_area", service_id, code),
            "service_id": service_id,
            "name": snapshot.comuni.get(code, code),
            "description": f"Comune di {snapshot.comuni.get(code, code)} (codice ISTAT {code})",
            "attributes": [
                attribute(
                    "service_area",
                    stable_id("service_area", service_id, code),
                    "comune",
                    terms.comune(code),
                )
            ],
        }
        for code in resource["comuni"] or []
    ]
    unit = vocab.unit_object(resource["unit"])
    capacity = resource["capacity"]
    out["capacities"] = [
        {
            "id": stable_id("capacity", service_id),
            "service_id": service_id,
            "unit": unit,
            "unit_id": unit["id"],
            "available": max(0, capacity - snapshot.reserved.get(resource["id"], 0)),
            "maximum": capacity,
            "description": f"{capacity} {vocab.unit_label(resource['unit']).lower()}",
            "updated": iso_datetime(resource["updated_at"]),
        }
    ]
    out["schedules"] = [schedule(w, service_id) for w in snapshot.windows.get(resource["id"], [])]
    location = location_of(holder, snapshot, scope)
    if location:
        out["service_at_locations"] = [
            {
                "id": stable_id("service_at_location", service_id, location["id"]),
                "service_id": service_id,
                "location_id": location["id"],
            }
        ]
    attributes = [
        attribute("service", service_id, "category", terms.category(resource["category_code"]))
    ]
    for group in resource["target_groups"] or []:
        label = vocab.AREA_LABELS.get(group, group)  # type: ignore[call-overload]
        attributes.append(
            attribute("service", service_id, "target_group", term_object(vocab.AREA, group, label))
        )
    for requirement in resource["requirements"] or []:
        attributes.append(
            attribute(
                "service",
                service_id,
                "requirement",
                term_object(vocab.REQUIREMENT, requirement, requirement),
            )
        )
    if resource["valid_from"] or resource["valid_until"]:
        validity = {
            "valid_from": resource["valid_from"].isoformat() if resource["valid_from"] else None,
            "valid_until": resource["valid_until"].isoformat() if resource["valid_until"] else None,
        }
        attributes.append(
            _ext("service", service_id, vocab.EXT_VALIDITY, json.dumps(validity, sort_keys=True))
        )
    out["attributes"] = attributes
    return _drop_empty(out)


def export_document(snapshot: Snapshot, scope: Scope) -> dict[str, Any]:
    """The whole ambito as one JSON document: organizations (organization_full style, with
    their services nested) plus the taxonomies and terms the attributes point at."""
    terms = Terms(snapshot)
    by_holder = snapshot.resources_of()
    organizations = []
    requirements: set[str] = set()
    for holder in snapshot.holders:
        org = organization(holder, snapshot, scope, terms)
        org["services"] = [
            service(resource, holder, snapshot, scope, terms)
            for resource in by_holder.get(holder["id"], [])
        ]
        for resource in by_holder.get(holder["id"], []):
            requirements.update(resource["requirements"] or [])
        organizations.append(org)
    return {
        "hsds_version": vocab_version(),
        "ambito": {
            "code": snapshot.ambito.get("code"),
            "name": snapshot.ambito.get("name"),
            "region": snapshot.ambito.get("region"),
        },
        "scope": scope,
        "organizations": organizations,
        "taxonomies": [taxonomy_object(v) for v in vocab.VOCABULARIES],
        "taxonomy_terms": [
            {k: v for k, v in t.items() if k != "taxonomy_detail"}
            for t in terms.all_terms(requirements)
        ],
    }


def vocab_version() -> str:
    from registry.interop.hsds_schema import HSDS_VERSION

    return HSDS_VERSION
