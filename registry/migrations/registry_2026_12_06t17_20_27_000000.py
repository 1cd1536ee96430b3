"""One level per goal and review; reviews of a plan by date (the plan's review history).

Hand-written (registry.db.index_migration): it runs after 2026-12-06T17:20:26:498463, which
creates the tables.
"""

from registry.db import index_migration

ID = "2026-12-06T17:20:27:000000"
VERSION = "1.38.0"
DESCRIPTION = "issue 15: one level per review and goal; reviews by plan and date"

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS plan_review_level_review_goal_uq "
    "ON plan_review_level (review, goal)",
    "CREATE INDEX IF NOT EXISTS plan_review_plan_held_ix ON plan_review (plan, held_on)",
)

forwards = index_migration(ID, DESCRIPTION, INDEXES)
