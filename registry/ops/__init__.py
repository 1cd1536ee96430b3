"""Operating the service: the scheduler lease, backups, /metrics."""
