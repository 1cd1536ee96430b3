"""Unique indexes of the contribution ledger, check-in and funded interventions.

Written by hand: Piccolo's composite `Unique` constraint is emitted as ALTER TABLE ... ADD
CONSTRAINT, which SQLite does not support, while CREATE UNIQUE INDEX works on both engines.
It must run after 2026-11-23T11:09:11:364870, which creates the tables.
"""

from registry.db import index_migration

ID = "2026-11-23T11:09:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "issue 4: unique indexes (idempotency key, check-in per day, codes)"

INDEXES = (
    # One entry per idempotency key and ambito: concurrent replays collapse onto one row.
    "CREATE UNIQUE INDEX IF NOT EXISTS contribution_ambito_idempotency_key_uq "
    "ON contribution (ambito, idempotency_key)",
    # One check-in per volunteer, QR token and day: a token cannot be replayed.
    "CREATE UNIQUE INDEX IF NOT EXISTS checkin_token_volunteer_day_uq "
    "ON checkin (token_id, volunteer, day)",
    # The UdP's own code of an intervention is unique in its ambito (import updates by it).
    "CREATE UNIQUE INDEX IF NOT EXISTS funded_intervention_ambito_code_uq "
    "ON funded_intervention (ambito, code)",
    "CREATE UNIQUE INDEX IF NOT EXISTS activity_organiser_activity_holder_uq "
    "ON activity_organiser (activity, holder)",
    # Ledger reads filter by ambito and date, volunteers by their own entries.
    "CREATE INDEX IF NOT EXISTS contribution_ambito_occurred_on_ix "
    "ON contribution (ambito, occurred_on)",
)


forwards = index_migration(ID, DESCRIPTION, INDEXES)
