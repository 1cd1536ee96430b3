"""Settings, read once from the environment (12-factor style).

Every setting is checked at start: a value that cannot be read, or is out of its range, stops
the process with a message naming the variable (`load_settings` for the type, `Settings.check`
for ranges and combinations). Production refuses anything that would be unsafe there.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zxcvbn import zxcvbn

log = logging.getLogger("registry.config")

DEVELOPMENT = "development"
PRODUCTION = "production"
# Exact spellings only: "Production" or "prod" must not quietly mean development.
ENVIRONMENTS = (DEVELOPMENT, PRODUCTION)

SECRET_ENV = "REGISTRY_SECRET_KEY"
MIN_SECRET_LENGTH = 32
# zxcvbn's estimate of the guesses an attacker needs (log10). It underestimates random keys
# (32 random hex digits, 128 bits, score about 31) and sees through typed ones: 32 identical
# characters score 3, "0123...xyz" 4, a few dictionary words about 20.
MIN_SECRET_GUESSES_LOG10 = 24
ONE_YEAR_SECONDS = 365 * 24 * 3600
SISTAN_MINIMUM = 3  # the same floor registry/metrics/service.py applies

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says how to fix it."""


def _random_key() -> str:
    return secrets.token_urlsafe(48)


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str = DEVELOPMENT
    database_url: str | None = None
    sqlite_path: str = "./registry.sqlite"
    # Built directly (not from the environment), a Settings gets a random key of its own.
    secret_key: str = field(default_factory=_random_key)
    # True when no REGISTRY_SECRET_KEY was given and this start made one up (development).
    secret_key_generated: bool = False
    token_ttl_minutes: int = 60 * 8
    max_body_bytes: int = 1_000_000
    scheduler_enabled: bool = True
    public_base_url: str = "http://127.0.0.1:8000"
    # Strict-Transport-Security max-age in seconds; 0 sends no HSTS header.
    hsts_max_age: int = 0
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
    # Read again by registry/metrics/service.py; validated here so a bad value stops the start
    # instead of failing the first metrics request.
    metrics_min_count: int = 5
    # PostgreSQL streaming replicas for the read-heavy public paths (registry/db.py); empty:
    # every query goes to the primary.
    database_read_urls: tuple[str, ...] = ()

    @property
    def is_production(self) -> bool:
        return self.environment == PRODUCTION

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    def check(self) -> None:
        """Refuse settings that are out of range, contradictory, or unsafe in production;
        every problem is listed, each naming its variable."""
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(problems))

    def problems(self) -> list[str]:
        problems: list[str] = []
        if self.environment not in ENVIRONMENTS:
            problems.append(_environment_problem(self.environment))
        problems.extend(self._secret_problems())
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            problems.append("REGISTRY_DATABASE_URL must be a postgresql:// URL")
        if not self.database_url:
            problems.extend(_sqlite_problems(self.sqlite_path))
        problems.extend(self._url_problems())
        for name, value, low, high in self._ranges():
            if not low <= value <= high:
                problems.append(f"{name} must be between {low:g} and {high:g}, not {value:g}")
        if not 0 < self.freshness_reminder_days < self.freshness_stale_days:
            problems.append(
                "REGISTRY_FRESHNESS_REMINDER_DAYS must be positive and smaller than "
                "REGISTRY_FRESHNESS_STALE_DAYS"
            )
        # A claim must outlive one delivery attempt, or a second dispatcher could take the
        # message over while the first is still sending it and deliver it twice.
        if self.outbox_lease_seconds <= self.webhook_timeout_seconds:
            problems.append(
                "REGISTRY_OUTBOX_LEASE_SECONDS must be larger than REGISTRY_WEBHOOK_TIMEOUT_SECONDS"
            )
        if self.outbox_backoff_max_seconds < self.outbox_backoff_seconds:
            problems.append(
                "REGISTRY_OUTBOX_BACKOFF_MAX_SECONDS must not be smaller than "
                "REGISTRY_OUTBOX_BACKOFF_SECONDS"
            )
        if self.smtp_user and not self.smtp_password:
            problems.append("REGISTRY_SMTP_USER is set but REGISTRY_SMTP_PASSWORD is not")
        if self.is_production and self.smtp_user and not self.smtp_starttls:
            problems.append(
                "REGISTRY_SMTP_STARTTLS=0 with REGISTRY_SMTP_USER would send the SMTP password "
                "unencrypted: refused when REGISTRY_ENV=production"
            )
        if "@" not in self.smtp_from.strip("@"):
            problems.append(f"REGISTRY_SMTP_FROM must be an e-mail address, not '{self.smtp_from}'")
        if self.database_read_urls and not self.database_url:
            problems.append(
                "REGISTRY_DATABASE_READ_URL/REGISTRY_DATABASE_READ_URLS needs "
                "REGISTRY_DATABASE_URL: read replicas are PostgreSQL only"
            )
        for url in self.database_read_urls:
            if urlsplit(url).scheme not in {"postgres", "postgresql"}:
                problems.append(
                    "REGISTRY_DATABASE_READ_URL/REGISTRY_DATABASE_READ_URLS must be "
                    "postgresql:// addresses, "
                    f"not '{urlsplit(url).scheme}:'"
                )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"REGISTRY_TIMEZONE '{self.timezone}' is not a known time zone")
        return problems

    def _secret_problems(self) -> list[str]:
        key = self.secret_key
        how = "e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        problems = []
        # The /metrics credential is a secret too; in development any value will do.
        if self.is_production and self.metrics_token is not None and _weak(self.metrics_token):
            problems.append(
                f"REGISTRY_METRICS_TOKEN is too weak for REGISTRY_ENV=production: at least "
                f"{MIN_SECRET_LENGTH} characters with no obvious pattern are needed ({how})"
            )
        if not key:
            if self.is_production:
                problems.append(f"{SECRET_ENV} must be set when REGISTRY_ENV=production ({how})")
            else:
                problems.append(
                    f"{SECRET_ENV} is set but empty: set a random key ({how}), or unset it to "
                    "get a random key for each start in development"
                )
        elif _weak(key):
            problems.append(
                f"{SECRET_ENV} is too weak: at least {MIN_SECRET_LENGTH} characters with no "
                f"obvious pattern are needed ({how})"
            )
        return problems

    def _url_problems(self) -> list[str]:
        parts = urlsplit(self.public_base_url)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.netloc
            or parts.query
            or parts.fragment
        ):
            return [
                "REGISTRY_PUBLIC_URL must be an http(s):// address without query or fragment, "
                f"not '{self.public_base_url}'"
            ]
        if self.hsts_max_age > 0 and parts.scheme != "https":
            return ["REGISTRY_HSTS_MAX_AGE needs an https:// REGISTRY_PUBLIC_URL"]
        return []

    def _ranges(self) -> list[tuple[str, float, float, float]]:
        return [
            ("REGISTRY_TOKEN_TTL_MINUTES", self.token_ttl_minutes, 1, 30 * 24 * 60),
            ("REGISTRY_MAX_BODY_BYTES", self.max_body_bytes, 1024, 1 << 31),
            ("REGISTRY_HSTS_MAX_AGE", self.hsts_max_age, 0, 2 * ONE_YEAR_SECONDS),
            ("REGISTRY_FRESHNESS_REMINDER_DAYS", self.freshness_reminder_days, 1, 3650),
            ("REGISTRY_FRESHNESS_STALE_DAYS", self.freshness_stale_days, 1, 3650),
            ("REGISTRY_RECONFIRM_LINK_DAYS", self.reconfirm_link_days, 1, 365),
            ("REGISTRY_DISPATCH_INTERVAL_SECONDS", self.dispatch_interval_seconds, 1, 86400),
            ("REGISTRY_REMATCH_INTERVAL_MINUTES", self.rematch_interval_minutes, 1, 1440),
            ("REGISTRY_SCHEDULER_LEASE_SECONDS", self.scheduler_lease_seconds, 1, 3600),
            ("REGISTRY_WEBHOOK_TIMEOUT_SECONDS", self.webhook_timeout_seconds, 0.1, 600),
            ("REGISTRY_OUTBOX_MAX_ATTEMPTS", self.outbox_max_attempts, 1, 1000),
            ("REGISTRY_OUTBOX_BACKOFF_SECONDS", self.outbox_backoff_seconds, 0.1, 86400),
            (
                "REGISTRY_OUTBOX_BACKOFF_MAX_SECONDS",
                self.outbox_backoff_max_seconds,
                0.1,
                7 * 86400,
            ),
            ("REGISTRY_OUTBOX_LEASE_SECONDS", self.outbox_lease_seconds, 1, 86400),
            ("REGISTRY_OUTBOX_BATCH_SIZE", self.outbox_batch_size, 1, 10_000),
            ("REGISTRY_OUTBOX_CONCURRENCY", self.outbox_concurrency, 1, 256),
            ("REGISTRY_SMTP_PORT", self.smtp_port, 1, 65535),
            ("REGISTRY_METRICS_MIN_COUNT", self.metrics_min_count, SISTAN_MINIMUM, 1000),
        ]


def secret_guesses_log10(key: str) -> float:
    """How hard a key is to guess (zxcvbn, log10 of the guesses). Only the first 64
    characters are scored: zxcvbn refuses long inputs and its matching grows with the square
    of the length, and 64 strong characters are enough."""
    return float(zxcvbn(key[:64])["guesses_log10"])


def _weak(secret: str) -> bool:
    return (
        len(secret) < MIN_SECRET_LENGTH or secret_guesses_log10(secret) < MIN_SECRET_GUESSES_LOG10
    )


def _environment_problem(value: str) -> str:
    return f"REGISTRY_ENV must be exactly 'development' or 'production', not '{value}'"


def _sqlite_problems(path: str) -> list[str]:
    if not path.strip():
        return ["REGISTRY_SQLITE_PATH is empty"]
    folder = Path(path).expanduser().parent
    if not folder.is_dir():
        return [f"REGISTRY_SQLITE_PATH: the folder '{folder}' does not exist"]
    return []


class _Reader:
    """Reads typed values, collecting one message per variable that cannot be read."""

    def __init__(self, env: MutableMapping[str, str]) -> None:
        self.env = env
        self.errors: list[str] = []

    def text(self, name: str, default: str) -> str:
        return self.env.get(name, default)

    def optional(self, name: str) -> str | None:
        return self.env.get(name) or None

    def flag(self, name: str, default: bool) -> bool:
        raw = self.env.get(name)
        if raw is None or raw.strip() == "":
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.errors.append(f"{name} must be one of 1/0, true/false, yes/no, on/off, not '{raw}'")
        return default

    def number(self, name: str, default: float, kind: type = int) -> Any:
        raw = self.env.get(name)
        if raw is None or raw.strip() == "":
            return kind(default)
        try:
            value = kind(raw.strip())
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            self.errors.append(f"{name} must be {what}, not '{raw}'")
            return kind(default)
        if kind is float and not math.isfinite(value):
            self.errors.append(f"{name} must be a finite number, not '{raw}'")
            return kind(default)
        return value


def _secret_key(env: MutableMapping[str, str], environment: str) -> tuple[str, bool]:
    """The signing key and whether it was made up now. In development without a key, a random
    one is generated and written into `env`: when `env` is the process environment, later
    reads in this process and every child process (the `serve --workers` processes, which
    inherit the environment) use the same key, and a token one worker signs verifies in all."""
    if SECRET_ENV in env:
        return env[SECRET_ENV], False
    if environment != DEVELOPMENT:
        return "", False  # check() explains what to set
    key = _random_key()
    env[SECRET_ENV] = key
    return key, True


def _read_urls(env: MutableMapping[str, str]) -> tuple[str, ...]:
    """REGISTRY_DATABASE_READ_URL (one replica) and REGISTRY_DATABASE_READ_URLS (several,
    separated by commas or spaces), together, without repeats."""
    urls: list[str] = []
    for name in ("REGISTRY_DATABASE_READ_URL", "REGISTRY_DATABASE_READ_URLS"):
        for url in env.get(name, "").replace(",", " ").split():
            if url not in urls:
                urls.append(url)
    return tuple(urls)


def load_settings(env: MutableMapping[str, str] | None = None) -> Settings:
    """Settings from the environment (`os.environ` by default); a value that cannot be read
    raises ConfigError naming the variable. Ranges are checked by Settings.check()."""
    source: MutableMapping[str, str] = os.environ if env is None else dict(env)
    read = _Reader(source)
    environment = read.text("REGISTRY_ENV", DEVELOPMENT)
    if environment not in ENVIRONMENTS:
        # Stop here: every default below depends on the environment.
        raise ConfigError(_environment_problem(environment))
    secret_key, generated = _secret_key(source, environment)
    if generated:
        log.warning(
            "%s is not set: this start signs tokens with a random key (shared with its worker "
            "processes); logins and links stop working at the next start. Set %s to keep them.",
            SECRET_ENV,
            SECRET_ENV,
        )
    public_base_url = read.text("REGISTRY_PUBLIC_URL", "http://127.0.0.1:8000").strip().rstrip("/")
    hsts_default = ONE_YEAR_SECONDS if public_base_url.startswith("https://") else 0
    settings = Settings(
        environment=environment,
        database_url=read.optional("REGISTRY_DATABASE_URL"),
        sqlite_path=read.text("REGISTRY_SQLITE_PATH", "./registry.sqlite"),
        secret_key=secret_key,
        secret_key_generated=generated,
        token_ttl_minutes=read.number("REGISTRY_TOKEN_TTL_MINUTES", 60 * 8),
        max_body_bytes=read.number("REGISTRY_MAX_BODY_BYTES", 1_000_000),
        scheduler_enabled=read.flag("REGISTRY_SCHEDULER", True),
        public_base_url=public_base_url,
        hsts_max_age=read.number("REGISTRY_HSTS_MAX_AGE", hsts_default),
        timezone=read.text("REGISTRY_TIMEZONE", "Europe/Rome"),
        freshness_reminder_days=read.number("REGISTRY_FRESHNESS_REMINDER_DAYS", 60),
        freshness_stale_days=read.number("REGISTRY_FRESHNESS_STALE_DAYS", 90),
        reconfirm_link_days=read.number("REGISTRY_RECONFIRM_LINK_DAYS", 30),
        dispatch_interval_seconds=read.number("REGISTRY_DISPATCH_INTERVAL_SECONDS", 30),
        rematch_interval_minutes=read.number("REGISTRY_REMATCH_INTERVAL_MINUTES", 15),
        scheduler_lease_seconds=read.number("REGISTRY_SCHEDULER_LEASE_SECONDS", 30.0, float),
        metrics_token=read.optional("REGISTRY_METRICS_TOKEN"),
        webhook_timeout_seconds=read.number("REGISTRY_WEBHOOK_TIMEOUT_SECONDS", 10.0, float),
        # Webhooks to loopback/private addresses are refused in production unless allowed.
        webhook_allow_private=read.flag(
            "REGISTRY_WEBHOOK_ALLOW_PRIVATE", environment != PRODUCTION
        ),
        outbox_max_attempts=read.number("REGISTRY_OUTBOX_MAX_ATTEMPTS", 8),
        outbox_backoff_seconds=read.number("REGISTRY_OUTBOX_BACKOFF_SECONDS", 30.0, float),
        outbox_backoff_max_seconds=read.number(
            "REGISTRY_OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600.0, float
        ),
        outbox_lease_seconds=read.number("REGISTRY_OUTBOX_LEASE_SECONDS", 60.0, float),
        outbox_batch_size=read.number("REGISTRY_OUTBOX_BATCH_SIZE", 20),
        outbox_concurrency=read.number("REGISTRY_OUTBOX_CONCURRENCY", 4),
        smtp_host=read.optional("REGISTRY_SMTP_HOST"),
        smtp_port=read.number("REGISTRY_SMTP_PORT", 587),
        smtp_user=read.optional("REGISTRY_SMTP_USER"),
        smtp_password=read.optional("REGISTRY_SMTP_PASSWORD"),
        smtp_starttls=read.flag("REGISTRY_SMTP_STARTTLS", True),
        smtp_from=read.text("REGISTRY_SMTP_FROM", "registro@localhost"),
        metrics_min_count=read.number("REGISTRY_METRICS_MIN_COUNT", 5),
        database_read_urls=_read_urls(source),
    )
    if read.errors:
        raise ConfigError("; ".join(read.errors))
    return settings
