"""A month's ledger facts and their stored form (pure): what month_facts.py reads, stores
and sends to worker processes, and how a month sent in several parts (stored facts, the
entries written and confirmed since) is made one (settle)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from registry.metrics import compute
from registry.metrics.coverage import MatchedHours, matched_hours


class MonthsMoved(Exception):
    """A stored month was written again between the read of its marks and that of its text
    (the job ran meanwhile): its identity is no longer its row's."""


@dataclass(slots=True)
class LedgerMonth:
    """The ledger's facts of one calendar month without filters, exactly the month's share
    of what load_inputs(by_month=True) reads from the ledger: a period of whole months is
    the concatenation of its months' facts (every fact belongs to one month)."""

    hours: list[compute.HoursFact] = field(default_factory=list)
    quantities: list[compute.QuantityFact] = field(default_factory=list)
    presence: list[compute.PresencePlace] = field(default_factory=list)
    # (need, resource, plan, month) of the verified plan-linked entries (load_uses).
    uses: list[tuple[str | None, str | None, str, str]] = field(default_factory=list)
    # The month and its hours given through matches (set when decoded).
    key: str = ""
    matched: MatchedHours = field(default_factory=MatchedHours)
    # Facts to take away from the month's others, not to add (entries confirmed since the
    # month was stored, as they were stored: unverified).
    retract: bool = False


_S = str | None


class _MonthRows(msgspec.Struct, array_like=True):
    """A LedgerMonth as stored: each fact an array of its fields (decoding named fields for
    tens of thousands of facts a month cost more than reading the ledger)."""

    month: str
    hours: list[compute.HoursFact]
    quantities: list[compute.QuantityFact]
    presence: list[compute.PresencePlace]
    uses: list[tuple[_S, _S, str, str]]
    retract: bool = False


def encode_month(month: str, facts: LedgerMonth) -> str:
    rows = _MonthRows(
        month, facts.hours, facts.quantities, facts.presence, facts.uses, facts.retract
    )
    return msgspec.json.encode(rows).decode()


def decode_month(raw: str | bytes) -> LedgerMonth:
    rows = msgspec.json.decode(raw, type=_MonthRows)
    return LedgerMonth(
        rows.hours,
        rows.quantities,
        rows.presence,
        rows.uses,
        rows.month,
        matched_hours(rows.hours),
        rows.retract,
    )


def as_stored_before(confirmed: LedgerMonth) -> LedgerMonth:
    """The facts of entries confirmed since their month was stored, as the stored month
    holds them (unverified): what settle takes away before adding them as they are now."""
    return LedgerMonth(
        hours=[msgspec.structs.replace(h, verified=False) for h in confirmed.hours],
        quantities=[msgspec.structs.replace(q, verified=False) for q in confirmed.quantities],
        retract=True,
    )


def settle(months: Sequence[LedgerMonth], merge: Collection[str] = ()) -> list[LedgerMonth]:
    """The months' facts, each month of several parts made one where it has retracting
    parts (taken away from the others) or is in `merge`: facts summed by their fields,
    places joined, uses listed once, as one read of the month gives them (sums are exact:
    minutes, cents, counts). Presence and uses hold only verified entries: nothing of theirs
    is retracted."""
    by_key: dict[str, list[LedgerMonth]] = defaultdict(list)
    for m in months:
        by_key[m.key].append(m)
    if not any(m.retract for m in months) and not any(
        len(by_key[k]) > 1 for k in merge if k in by_key
    ):
        return list(months)
    settled = []
    for key, parts in by_key.items():
        if not any(p.retract for p in parts) and (key not in merge or len(parts) == 1):
            settled.extend(parts)
            continue
        kept = [p for p in parts if not p.retract]
        taken = [p for p in parts if p.retract]
        hours = _less(
            [h for p in kept for h in p.hours],
            [h for p in taken for h in p.hours],
            ("minutes", "entries"),
        )
        quantities = _less(
            [q for p in kept for q in p.quantities],
            [q for p in taken for q in p.quantities],
            ("quantity", "value_cents", "valued_entries", "entries"),
        )
        settled.append(
            LedgerMonth(
                hours=hours,
                quantities=quantities,
                presence=_joined([x for p in kept for x in p.presence]),
                uses=list(dict.fromkeys(u for p in kept for u in p.uses)),
                key=key,
                matched=matched_hours(hours),
            )
        )
    return settled


def _joined(places: list[compute.PresencePlace]) -> list[compute.PresencePlace]:
    """One place per place's keys, its sets joined (load_places' order)."""
    by_place: dict[tuple[Any, ...], list[set[str]]] = {}
    for p in places:
        key = (p.month, p.holder_kind, p.sector, p.comune, p.area)
        found = by_place.setdefault(key, [set(), set(), set()])
        for into, values in zip(found, (p.holders, p.volunteers, p.individuals), strict=True):
            into.update(values)
    return [
        compute.PresencePlace(*key, *(sorted(v) for v in sets))
        for key, sets in sorted(by_place.items(), key=lambda i: tuple(k or "" for k in i[0]))
    ]


def _less(facts: list[Any], taken: list[Any], sums: tuple[str, ...]) -> list[Any]:
    """`facts` less `taken`, summed by every field but `sums`; groups left with no entry are
    dropped. A taken fact must be in `facts` (its entry was stored): else MonthsMoved."""
    zero = dict.fromkeys(sums, 0)
    totals: dict[Any, list[int]] = {}
    for fact, sign in [(f, 1) for f in facts] + [(f, -1) for f in taken]:
        key = msgspec.structs.replace(fact, **zero)
        found = totals.setdefault(key, [0] * len(sums))
        for i, name in enumerate(sums):
            found[i] += sign * getattr(fact, name)
    out = []
    for key, values in totals.items():
        if any(v < 0 for v in values):
            raise MonthsMoved
        if values[-1]:
            out.append(msgspec.structs.replace(key, **dict(zip(sums, values, strict=True))))
    return out
