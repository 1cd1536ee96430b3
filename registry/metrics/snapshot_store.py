"""The metrics snapshot store: what a stored period holds (its figures, its network and the
marks of the data they were computed at), the data fingerprint and ledger marks, and which
stored figures still hold for the data as it is now (_Freshness); the rows' read and write
for the job (snapshots.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from registry.common import now as utcnow
from registry.db import fetch, unit_of_work
from registry.metrics import compute
from registry.metrics.compute import Figures, Period
from registry.metrics.kept import Kept
from registry.metrics.loading import _month, _s, _u, after_mark
from registry.metrics.tables import MetricsSnapshot

# 3: periods end today while running; by_holder_kind; use per unit.
# 4: fingerprint split into reference data and ledger marks (months refreshed one by one).
# 5: month facts stored beside the snapshots (metrics_month_facts); 6: stored as arrays;
# 7: the network kept for the periods that end before every change; 8: month facts stored as
# the facts' own arrays (msgspec Structs); 9: presence stored by month and place (sets of
# holders and persons, not a fact per person); 10: month facts read up to their entry mark
# (the entries written since are added to them, never counted twice); 11: month facts hold
# while the attributes they take from other tables are the same (month_facts.ledger_attributes);
# 12: a snapshot's tables that do not read the needs hold while their own inputs are the same
# (_Payload.ledger_side); 13: month facts count the confirmations up to their confirmation
# mark only (the later ones move their entries' facts to verified when read back).
SNAPSHOT_VERSION = 13
# A snapshot older than this is not served: the dashboard computes live instead.
SNAPSHOT_MAX_AGE = timedelta(hours=36)
# The snapshot job recomputes an unchanged ambito once this old (see take_snapshot).
SNAPSHOT_REFRESH = timedelta(hours=20)
# A run this long (a ledger of millions of entries) waits three times its length before the
# next refresh of a changed ambito.
SLOW_SNAPSHOT_SECONDS = 60.0


# --- snapshots -----------------------------------------------------------------------------


class _NetworkPayload(msgspec.Struct):
    row: dict[str, Any]
    by_sector: list[dict[str, Any]]
    blocks: list[dict[str, Any]]


class _Payload(msgspec.Struct):
    figures: Figures
    network: _NetworkPayload | None = None
    # data_fingerprint() when the figures were computed: a snapshot whose data has changed
    # since is not served.
    fingerprint: str = ""
    took_seconds: float = 0.0
    # The reference data (every table but the ledger and its confirmations) and the latest
    # ledger entry and confirmation when the figures were computed: the figures of a period
    # stay valid while the reference data is unchanged and no later entry or confirmation
    # falls in one of its months (the ledger is append-only).
    reference: str = ""
    entry_mark: str = ""
    confirmation_mark: str = ""
    # When the figures were last computed from the ledger (a refresh only moves their clock).
    figured_at: datetime | None = None
    # The reference data and ledger marks the network was computed at: a period's network
    # holds while the reference data is unchanged and no ledger change falls in a month up
    # to its end (a change can only move ties, and the first tie of a pair, to its month).
    network_reference: str = ""
    network_entry_mark: str = ""
    network_confirmation_mark: str = ""
    # What the tables that do not read the needs (all but catalogue.NEED_TABLES) depend on
    # besides the ledger (snapshots.ledger_side_reference): those tables hold while it is the
    # same and no ledger change falls in the period, whatever happens to needs and matches.
    ledger_side: str = ""


# What the figures are computed from, per table: the ledger and its confirmations are
# append-only, so their latest row (an index lookup on (ambito, time)) moves with every
# change; the other tables are small, edited in place or deleted from: their count and
# latest update together.
_APPEND_ONLY = {"contribution", "contribution_confirmation"}
_FINGERPRINT_PARTS = (
    ("contribution", "created_at"),
    ("contribution_confirmation", "confirmed_at"),
    ("funded_intervention", "updated_at"),
    ("holder_interaction", "created_at"),
    ("community_activity", "updated_at"),
    ("resource_match", "updated_at"),
    ("care_plan", "updated_at"),
    ("plan_need", "updated_at"),
    ("holder", "updated_at"),
    ("resource", "updated_at"),
    ("resource", "confirmed_at"),
    ("metrics_value_rate", "updated_at"),
    ("metrics_task_level", "updated_at"),
    # Network ties from co-programming attendance and co-design partners (issue 16).
    ("coprog_attendance", "recorded_at"),
    ("codesign_project", "updated_at"),
)


# The tables the ledger's facts take attributes from (a holder's kind and sector, a plan's
# comune and area, an activity's comune, a resource's category and unit, the plans funded
# interventions serve): month facts depend on them and on no other reference data.
_ATTRIBUTE_TABLES = {"holder", "care_plan", "community_activity", "resource", "funded_intervention"}
# The other reference tables that the contribution tables read: public spending and the
# paid hours (every field of the funded interventions), and the value rates.
_MONEY_TABLES = {"funded_intervention", "metrics_value_rate", "metrics_task_level"}
# The tables that a need recorded or a match accepted writes to.
_NEED_TABLES = {"plan_need", "resource_match"}


class _State(msgspec.Struct, frozen=True):
    fingerprint: str
    reference: str
    entry_mark: str
    confirmation_mark: str
    # The marks of _ATTRIBUTE_TABLES alone (count and latest update).
    attributes: str = ""
    # The marks of _MONEY_TABLES alone.
    money: str = ""
    # The reference marks but those of the needs and matches (_NEED_TABLES).
    besides_needs: str = ""


async def data_fingerprint(ambito_id: uuid.UUID) -> str:
    """A short text that changes whenever data the metrics read changes in the ambito:
    index lookups on `ambito`, far cheaper than reading the ledger."""
    return (await _state(ambito_id)).fingerprint


async def _state(ambito_id: uuid.UUID) -> _State:
    parts = []
    for table, column in _FINGERPRINT_PARTS:
        # As text: one UNION column for the timestamps of every table, on both databases.
        count = "0" if table in _APPEND_ONLY else "COUNT(*)"
        parts.append(
            f"SELECT {count} AS n, CAST(MAX({column}) AS TEXT) AS latest "
            f"FROM {table} WHERE ambito = {{}}"
        )
    sql = " UNION ALL ".join(parts)
    # Short reads (db.fetch: on SQLite on the loop's own thread), as the others of every
    # summary: under load each trip to a connection's thread waited a turn of the loop.
    rows = await fetch(sql, *([_u(ambito_id)] * len(parts)))
    texts = [f"{r['n']}:{_s(r['latest']) or ''}" for r in rows]
    # UNION ALL keeps the order of its parts: the first two are the ledger's.
    assert [t for t, _ in _FINGERPRINT_PARTS[:2]] == ["contribution", "contribution_confirmation"]

    def marks_of(tables: set[str]) -> str:
        return "|".join(
            text
            for (table, column), text in zip(_FINGERPRINT_PARTS, texts, strict=True)
            if table in tables and column == "updated_at"
        )

    return _State(
        fingerprint="|".join(texts),
        reference="|".join(texts[2:]),
        entry_mark=_s(rows[0]["latest"]) or "",
        confirmation_mark=_s(rows[1]["latest"]) or "",
        attributes=marks_of(_ATTRIBUTE_TABLES),
        money=marks_of(_MONEY_TABLES),
        besides_needs="|".join(
            text
            for (table, _), text in zip(_FINGERPRINT_PARTS[2:], texts[2:], strict=True)
            if table not in _NEED_TABLES
        ),
    )


async def _changed_months(
    ambito_id: uuid.UUID, entry_mark: str, confirmation_mark: str
) -> set[str]:
    """The months whose figures the ledger rows written after the marks change: a new entry
    its own month, a correction or cancellation the corrected entry's month too, a
    confirmation its entry's month. Index ranges on (ambito, time): the rows since the marks."""
    # The same bound for the entries and for the corrections (both are ledger rows).
    entries, entry_args = after_mark("c.created_at", entry_mark)
    confirmations, confirmation_args = after_mark("cc.confirmed_at", confirmation_mark)
    sql = (
        f"SELECT {_month('c.occurred_on')} AS month FROM contribution c "
        f"WHERE c.ambito = {{}}{entries} "
        f"UNION SELECT {_month('t.occurred_on')} AS month FROM contribution c "
        "JOIN contribution t ON t.id = c.corrects "
        f"WHERE c.ambito = {{}} AND c.corrects IS NOT NULL{entries} "
        f"UNION SELECT {_month('c.occurred_on')} AS month FROM contribution_confirmation cc "
        f"JOIN contribution c ON c.id = cc.contribution WHERE cc.ambito = {{}}{confirmations}"
    )
    ambito = _u(ambito_id)
    rows = await fetch(sql, ambito, *entry_args, ambito, *entry_args, ambito, *confirmation_args)
    return {r["month"] for r in rows}


# What the ledger gained since older marks, for one reading of the ledger's marks (one
# request's _State): a summary checks its snapshots, their ledger side and its stored months
# against the same marks, one read each before. Per reading only: a row stamped before the
# marks but committed after they were read (concurrent writers on PostgreSQL) must be seen by
# the next request. The state is kept with its memo, so its id is not reused meanwhile.
_SINCE: Kept[int, tuple[_State, dict[tuple[Any, ...], Any]]] = Kept(256)


def _since_memo(state: _State) -> dict[tuple[Any, ...], Any]:
    found = _SINCE.get(id(state))
    if found is None or found[0] is not state:
        found = _SINCE.put(id(state), (state, {}))
    return found[1]


class _Freshness:
    """Which stored figures still hold for the data as it is now (one query per distinct
    pair of ledger marks among the snapshots read, usually one or two)."""

    def __init__(self, ambito_id: uuid.UUID, state: _State, reference: str | None = None) -> None:
        """`reference`: what the stored marks of the reference data are compared with
        (default the state's; the month facts store the digest of their attributes)."""
        self.ambito_id = ambito_id
        self.state = state
        self.reference = state.reference if reference is None else reference

    async def only_new_entries(self, reference: str, entry_mark: str) -> bool:
        """Whether the ledger has only gained plain entries and confirmations since the
        marks: no correction or cancellation, and the reference data unchanged. What was
        read at those marks then still holds, with the entries written since added to it
        and the entries confirmed since moved to verified."""
        if reference != self.reference:
            return False
        memo, key = _since_memo(self.state), ("entries only", self.ambito_id, entry_mark)
        if key not in memo:
            later, args = after_mark("c.created_at", entry_mark)
            rows = await fetch(
                "SELECT 1 AS found FROM contribution c WHERE c.ambito = {} "
                f"AND (c.kind <> 'entry' OR c.corrects IS NOT NULL){later} LIMIT 1",
                _u(self.ambito_id),
                *args,
            )
            memo[key] = not rows
        return bool(memo[key])

    async def _changed(self, marks: tuple[str, str]) -> set[str]:
        memo, key = _since_memo(self.state), ("months", self.ambito_id, *marks)
        if key not in memo:
            memo[key] = await _changed_months(self.ambito_id, *marks)
        return memo[key]  # type: ignore[no-any-return]

    async def holds(self, payload: _Payload, period: Period, *, ledger_side: bool = False) -> bool:
        """Whether the stored figures hold for `period`; `ledger_side`: their tables but the
        need tables (compared with the reference this was made with: the ledger side's)."""
        stored = payload.figures.period
        if (stored.start, stored.end) != (period.start, period.end):
            return False  # a running period stored up to another day
        reference = payload.ledger_side if ledger_side else payload.reference
        return await self.unchanged(
            period, reference, payload.entry_mark, payload.confirmation_mark
        )

    async def unchanged(
        self, period: Period, reference: str, entry_mark: str, confirmation_mark: str
    ) -> bool:
        """Whether what was read of `period` at those marks still holds."""
        if reference != self.reference:
            return False
        marks = (entry_mark, confirmation_mark)
        if marks == (self.state.entry_mark, self.state.confirmation_mark):
            return True  # nothing written to the ledger since
        return not (set(period.months()) & await self._changed(marks))

    async def unchanged_until(
        self, end: date, reference: str, entry_mark: str, confirmation_mark: str
    ) -> bool:
        """Whether no change since the marks falls in a month up to `end`'s."""
        if reference != self.reference:
            return False
        marks = (entry_mark, confirmation_mark)
        if marks == (self.state.entry_mark, self.state.confirmation_mark):
            return True
        last = compute.month_key(end)
        return all(month > last for month in await self._changed(marks))


async def _stored(ambito_id: uuid.UUID) -> dict[tuple[str, str], _Payload]:
    rows = await MetricsSnapshot.select(
        MetricsSnapshot.granularity, MetricsSnapshot.period_key, MetricsSnapshot.payload
    ).where((MetricsSnapshot.ambito == ambito_id) & (MetricsSnapshot.version == SNAPSHOT_VERSION))
    return {
        (r["granularity"], r["period_key"]): msgspec.json.decode(r["payload"], type=_Payload)
        for r in rows
    }


async def _store_snapshot(
    ambito_id: uuid.UUID, granularity: str, period: Period, now: datetime, payload: _Payload
) -> None:
    values = {
        MetricsSnapshot.period_start: period.start,
        MetricsSnapshot.period_end: period.end,
        MetricsSnapshot.clock: now,
        MetricsSnapshot.computed_at: utcnow(),
        MetricsSnapshot.version: SNAPSHOT_VERSION,
        MetricsSnapshot.payload: msgspec.json.encode(payload).decode(),
    }
    where = (
        (MetricsSnapshot.ambito == ambito_id)
        & (MetricsSnapshot.granularity == granularity)
        & (MetricsSnapshot.period_key == period.key)
    )
    async with unit_of_work():
        if await MetricsSnapshot.exists().where(where):
            await MetricsSnapshot.update(values).where(where)
        else:
            await MetricsSnapshot.insert(
                MetricsSnapshot(
                    ambito=ambito_id,
                    granularity=granularity,
                    period_key=period.key,
                    **{c._meta.name: v for c, v in values.items()},
                )
            )
