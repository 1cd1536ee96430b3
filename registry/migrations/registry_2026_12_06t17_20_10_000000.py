"""Co-programming (issue 16): one application per organisation and procedure, one attendance
row per organisation and session, one row per version of minutes and summary document.

Written by hand like 2026-11-23T11:09:12:000000 (plain CREATE INDEX works on both engines).
"""

from registry.db import index_migration

ID = "2026-12-06T17:20:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "co-programming: unique applications, attendance and document versions"

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS coprog_application_holder_ux "
    "ON coprog_application (procedure, holder)",
    "CREATE UNIQUE INDEX IF NOT EXISTS coprog_attendance_ux "
    "ON coprog_attendance (session, application)",
    "CREATE UNIQUE INDEX IF NOT EXISTS coprog_minutes_version_ux "
    "ON coprog_minutes (session, version)",
    "CREATE UNIQUE INDEX IF NOT EXISTS coprog_summary_version_ux "
    "ON coprog_summary (procedure, version)",
    "CREATE UNIQUE INDEX IF NOT EXISTS coprog_session_number_ux "
    "ON coprog_session (procedure, number)",
)


forwards = index_migration(ID, DESCRIPTION, INDEXES)
