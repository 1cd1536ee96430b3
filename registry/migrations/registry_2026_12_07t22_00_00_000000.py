"""An index for the default page of resources: an ambito's resources by title, so the first
50 of an ambito of ten thousand are read in order, not sorted from all of them (issue 18).

Written by hand like 2026-11-23T14:30:00:000000 (plain CREATE INDEX works on both engines).
"""

from registry.db import index_migration

ID = "2026-12-07T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "resources: the default page's order as an index"

INDEXES = (
    "CREATE INDEX IF NOT EXISTS resource_ambito_title_ix ON resource (ambito, title, id)",
)


forwards = index_migration(ID, DESCRIPTION, INDEXES)
