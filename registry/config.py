"""Settings, read once from the environment (12-factor style)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEV_SECRET = "dev-secret-not-for-production"


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str = "development"
    database_url: str | None = None
    sqlite_path: str = "./registry.sqlite"
    secret_key: str = DEV_SECRET
    token_ttl_minutes: int = 60 * 8
    max_body_bytes: int = 1_000_000
    scheduler_enabled: bool = True
    public_base_url: str = "http://127.0.0.1:8000"
    # Scheduled jobs (registry/jobs.py) and freshness of availability (registry/freshness/).
    timezone: str = "Europe/Rome"
    freshness_reminder_days: int = 60
    freshness_stale_days: int = 90
    reconfirm_link_days: int = 30
    dispatch_interval_seconds: int = 30
    rematch_interval_minutes: int = 15
    # One process at a time runs the scheduled jobs: the holder of a lease in the database
    # (registry/ops/lease.py); a dead holder's lease lapses after this many seconds.
    scheduler_lease_seconds: float = 30.0
    # Bearer token that GET /metrics requires; unset: the endpoint answers 404.
    metrics_token: str | None = None
    # Delivery of notifications (registry/notifications/).
    webhook_timeout_seconds: float = 10.0
    webhook_allow_private: bool = True
    outbox_max_attempts: int = 8
    outbox_backoff_seconds: float = 30.0
    outbox_backoff_max_seconds: float = 6 * 3600.0
    outbox_lease_seconds: float = 60.0
    outbox_batch_size: int = 20
    outbox_concurrency: int = 4
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_from: str = "registro@localhost"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    def check(self) -> None:
        """Refuse settings that would be unsafe in production."""
        if self.is_production and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ConfigError(
                "REGISTRY_SECRET_KEY must be set to a random string of at least 32 characters "
                "when REGISTRY_ENV=production"
            )
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError("REGISTRY_DATABASE_URL must be a postgresql:// URL")
        if not 0 < self.freshness_reminder_days < self.freshness_stale_days:
            raise ConfigError(
                "REGISTRY_FRESHNESS_REMINDER_DAYS must be positive and smaller than "
                "REGISTRY_FRESHNESS_STALE_DAYS"
            )
        # A claim must outlive one delivery attempt, or a second dispatcher could take the
        # message over while the first is still sending it and deliver it twice.
        if self.outbox_lease_seconds <= self.webhook_timeout_seconds:
            raise ConfigError(
                "REGISTRY_OUTBOX_LEASE_SECONDS must be larger than REGISTRY_WEBHOOK_TIMEOUT_SECONDS"
            )
        if (
            self.outbox_max_attempts < 1
            or self.outbox_batch_size < 1
            or self.outbox_concurrency < 1
        ):
            raise ConfigError(
                "REGISTRY_OUTBOX_MAX_ATTEMPTS, _BATCH_SIZE and _CONCURRENCY must be at least 1"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ConfigError(
                f"REGISTRY_TIMEZONE '{self.timezone}' is not a known time zone"
            ) from error


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env: dict[str, str], name: str, default: float, kind: type = int) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return kind(default)
    try:
        return kind(raw)
    except ValueError as error:
        raise ConfigError(f"{name} must be a number, not '{raw}'") from error


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    environment = env.get("REGISTRY_ENV", "development")
    return Settings(
        environment=environment,
        database_url=env.get("REGISTRY_DATABASE_URL") or None,
        sqlite_path=env.get("REGISTRY_SQLITE_PATH", "./registry.sqlite"),
        secret_key=env.get("REGISTRY_SECRET_KEY", DEV_SECRET),
        token_ttl_minutes=int(env.get("REGISTRY_TOKEN_TTL_MINUTES", 60 * 8)),
        max_body_bytes=int(env.get("REGISTRY_MAX_BODY_BYTES", 1_000_000)),
        scheduler_enabled=_flag(env.get("REGISTRY_SCHEDULER"), True),
        public_base_url=env.get("REGISTRY_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        timezone=env.get("REGISTRY_TIMEZONE", "Europe/Rome"),
        freshness_reminder_days=_number(env, "REGISTRY_FRESHNESS_REMINDER_DAYS", 60),
        freshness_stale_days=_number(env, "REGISTRY_FRESHNESS_STALE_DAYS", 90),
        reconfirm_link_days=_number(env, "REGISTRY_RECONFIRM_LINK_DAYS", 30),
        dispatch_interval_seconds=_number(env, "REGISTRY_DISPATCH_INTERVAL_SECONDS", 30),
        rematch_interval_minutes=_number(env, "REGISTRY_REMATCH_INTERVAL_MINUTES", 15),
        scheduler_lease_seconds=_number(env, "REGISTRY_SCHEDULER_LEASE_SECONDS", 30.0, float),
        metrics_token=env.get("REGISTRY_METRICS_TOKEN") or None,
        webhook_timeout_seconds=_number(env, "REGISTRY_WEBHOOK_TIMEOUT_SECONDS", 10.0, float),
        # Webhooks to loopback/private addresses are refused in production unless allowed.
        webhook_allow_private=_flag(
            env.get("REGISTRY_WEBHOOK_ALLOW_PRIVATE"), environment != "production"
        ),
        outbox_max_attempts=_number(env, "REGISTRY_OUTBOX_MAX_ATTEMPTS", 8),
        outbox_backoff_seconds=_number(env, "REGISTRY_OUTBOX_BACKOFF_SECONDS", 30.0, float),
        outbox_backoff_max_seconds=_number(
            env, "REGISTRY_OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600.0, float
        ),
        outbox_lease_seconds=_number(env, "REGISTRY_OUTBOX_LEASE_SECONDS", 60.0, float),
        outbox_batch_size=_number(env, "REGISTRY_OUTBOX_BATCH_SIZE", 20),
        outbox_concurrency=_number(env, "REGISTRY_OUTBOX_CONCURRENCY", 4),
        smtp_host=env.get("REGISTRY_SMTP_HOST") or None,
        smtp_port=_number(env, "REGISTRY_SMTP_PORT", 587),
        smtp_user=env.get("REGISTRY_SMTP_USER") or None,
        smtp_password=env.get("REGISTRY_SMTP_PASSWORD") or None,
        smtp_starttls=_flag(env.get("REGISTRY_SMTP_STARTTLS"), True),
        smtp_from=env.get("REGISTRY_SMTP_FROM", "registro@localhost"),
    )
