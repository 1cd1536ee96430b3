"""The nightly snapshot job's entry point (registry.scheduled_jobs.METRICS_HOOK)."""

from registry.metrics.snapshots import take_snapshot

__all__ = ["take_snapshot"]
