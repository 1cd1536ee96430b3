"""A year in the life of the demo ambito: who helped whom, when, and what it was worth.

`build()` writes, for the twelve months before today, what the registry's own services would
have written while the Olgiatese used it: volunteer accounts, pseudonymous personalised plans
with their needs (created by the `assistente` social worker), matches through their whole
lifecycle (proposed, accepted, active, completed, declined, withdrawn) with their history and
the places they hold, the contribution ledger (QR check-ins with their presences, self-reported
entries and their confirmations, goods, meals and room hours with a declared value, a few
corrections and a cancellation), community activities organised by several holders, funded
interventions and interactions recorded by hand (co-programming tables).

Rows are bulk-inserted, because going through the services one request at a time would be
slow and would stamp everything with today's date; each row is built the way its service
builds it (the same columns, keys, digests, history and counters), and the domain's own pure
rules are reused where there are some (case codes, quarter-hour rounding of a presence, the
matching engine's score and explanation).

Everything is drawn from a seeded `random.Random` (ids included) and placed relative to
today: every load draws the same year, shifted so that it always ends today.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from random import Random

from registry.demo_activity.activities import _Activities
from registry.demo_activity.base import Counts
from registry.demo_activity.interventions import _Interventions
from registry.demo_activity.matches import _Matches

SEED = 20_260_101


class _Builder(_Matches, _Activities, _Interventions):
    """The whole year: each job's steps are in its module (matches, ledger, activities,
    interventions), on the shared state and helpers of `_Base`."""


async def build(
    ambito_id: uuid.UUID, *, password_hash: str, moment: datetime, seed: int = SEED
) -> Counts:
    """Write the demo's year of activity for the ambito `load_demo` just created."""
    builder = _Builder(ambito_id, moment, password_hash, Random(seed))
    await builder.load()
    builder.volunteers()
    await builder.plans_and_matches()
    builder.match_ledger()
    builder.activities()
    builder.ordinary()
    builder.amendments()
    builder.interventions()
    builder.interactions()
    await builder.write()
    return builder.counts


async def snapshot(ambito_id: uuid.UUID, moment: datetime) -> None:
    """The metrics snapshot the nightly job would have written, so the dashboard reads whole
    calendar periods from it (run through the job runner, which records the run)."""
    from registry.config import load_settings
    from registry.scheduled_jobs import run_job

    run = await run_job(
        "metrics_snapshot", load_settings(), now=moment, trigger="cli", ambito_ids=[ambito_id]
    )
    if run.status != "ok":
        raise RuntimeError(f"the demo's metrics snapshot failed: {run.error}")
