"""Indexes for the metrics' data fingerprint: the latest ledger entry and confirmation of an
ambito are then one index lookup, not a count over millions of rows.

Written by hand like 2026-11-23T11:09:12:000000 (plain CREATE INDEX works on both engines).
"""

from registry.db import index_migration

ID = "2026-11-23T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "metrics: latest-change indexes of the ledger"

INDEXES = (
    "CREATE INDEX IF NOT EXISTS contribution_ambito_created_at_ix "
    "ON contribution (ambito, created_at)",
    "CREATE INDEX IF NOT EXISTS contribution_confirmation_ambito_confirmed_at_ix "
    "ON contribution_confirmation (ambito, confirmed_at)",
)


forwards = index_migration(ID, DESCRIPTION, INDEXES)
