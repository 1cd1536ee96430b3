"""Metrics for the Ufficio di Piano: the public face of the metrics package.

The work is split by job: periods.py (the period asked, the threshold), loading.py,
reference_loading.py and network_loading.py (the SQL readers), month_facts.py (the ledger's
facts of a month), snapshots.py and snapshot_store.py (the period snapshots and their job),
publication.py (suppression and the protection of periods), answers.py and
network_publication.py (the answers) and rate_table.py (the UdP's value rates). This module
re-exports what the API, the exports, the scheduler, the benchmarks and the tests call.
"""

from __future__ import annotations

from registry.contributions.tables import CommunityActivity
from registry.italian import today
from registry.metrics.answers import COVERAGE_TABLES, SUMMARY_TABLES, coverage, summary, timeseries
from registry.metrics.loading import Scope, _raw
from registry.metrics.network_loading import load_network
from registry.metrics.network_publication import cohesion, network_figures
from registry.metrics.periods import MAX_RANGE_DAYS, calendar_key, check_range, min_count
from registry.metrics.publication import money, one_filter, period_out, protected_periods, publish
from registry.metrics.rate_table import delete_rate, rate_table, set_category_level, set_rate
from registry.metrics.reference_loading import live_figures, load_inputs, stored_rates
from registry.metrics.snapshot_store import (
    SNAPSHOT_MAX_AGE,
    SNAPSHOT_REFRESH,
    SNAPSHOT_VERSION,
    data_fingerprint,
)
from registry.metrics.snapshots import take_snapshot
from registry.metrics.tables import Interaction

__all__ = [
    "COVERAGE_TABLES",
    "MAX_RANGE_DAYS",
    "SNAPSHOT_MAX_AGE",
    "SNAPSHOT_REFRESH",
    "SNAPSHOT_VERSION",
    "SUMMARY_TABLES",
    "CommunityActivity",
    "Interaction",
    "Scope",
    "_raw",
    "calendar_key",
    "check_range",
    "cohesion",
    "coverage",
    "data_fingerprint",
    "delete_rate",
    "live_figures",
    "load_inputs",
    "load_network",
    "min_count",
    "money",
    "network_figures",
    "one_filter",
    "period_out",
    "protected_periods",
    "publish",
    "rate_table",
    "set_category_level",
    "set_rate",
    "stored_rates",
    "summary",
    "take_snapshot",
    "timeseries",
    "today",
]
