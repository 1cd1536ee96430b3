"""Settings, read once from the environment (12-factor style)."""

from __future__ import annotations

import os
from dataclasses import dataclass

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


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    return Settings(
        environment=env.get("REGISTRY_ENV", "development"),
        database_url=env.get("REGISTRY_DATABASE_URL") or None,
        sqlite_path=env.get("REGISTRY_SQLITE_PATH", "./registry.sqlite"),
        secret_key=env.get("REGISTRY_SECRET_KEY", DEV_SECRET),
        token_ttl_minutes=int(env.get("REGISTRY_TOKEN_TTL_MINUTES", 60 * 8)),
        max_body_bytes=int(env.get("REGISTRY_MAX_BODY_BYTES", 1_000_000)),
        scheduler_enabled=_flag(env.get("REGISTRY_SCHEDULER"), True),
        public_base_url=env.get("REGISTRY_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
    )
