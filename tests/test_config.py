"""Configuration that fails safe: an unknown environment, a weak key, a value that cannot be
read, the demo in production: each stops the start with a message naming the setting."""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from registry.ambiti.tables import Ambito
from registry.config import ConfigError, load_settings
from registry.demo import load_demo

STRONG = "Vq3-mZ8_tL1xR7pK0wN5yB2cH9dJ4fG6sA"
CONFIG_SOURCE = Path(__file__).resolve().parent.parent / "registry" / "config.py"


def refused(env: dict[str, str]) -> str:
    """The message of the ConfigError these settings stop the start with."""
    with pytest.raises(ConfigError) as error:
        load_settings(env).check()
    return str(error.value)


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`registry <args>` as an operator would run it, on a SQLite file of its own."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    environment.update(
        REGISTRY_SQLITE_PATH=str(tmp_path / "cli.sqlite"), REGISTRY_SCHEDULER="0", **env
    )
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,  # `serve` that should have refused would run until this
    )


# --- REGISTRY_ENV ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["Production", "PRODUCTION", "prod", " production", "production ", "dev", ""]
)
def test_only_the_known_environments_are_accepted(spelling: str) -> None:
    message = refused({"REGISTRY_ENV": spelling, "REGISTRY_SECRET_KEY": STRONG})
    assert "REGISTRY_ENV" in message and "'development' or 'production'" in message


def test_the_known_environments_start() -> None:
    for environment in ("development", "production"):
        settings = load_settings({"REGISTRY_ENV": environment, "REGISTRY_SECRET_KEY": STRONG})
        settings.check()
        assert settings.environment == environment
    assert load_settings({"REGISTRY_SECRET_KEY": STRONG}).environment == "development"


def test_a_misspelt_environment_stops_the_server(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", "--port=1", REGISTRY_ENV="Production")
    assert result.returncode == 2
    assert "configuration error: REGISTRY_ENV must be exactly" in result.stderr


# --- REGISTRY_SECRET_KEY --------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["development", "production"])
@pytest.mark.parametrize(
    "key",
    [
        "",
        "x" * 32,
        "x" * 64,
        "passwordpasswordpasswordpassword",
        "0123456789abcdefghijklmnopqrstuvwxyz",
        "dev-secret-not-for-production",  # the key that used to be in the repository
        "short-but-random-Zk8#qP",
    ],
)
def test_weak_keys_are_refused(environment: str, key: str) -> None:
    message = refused({"REGISTRY_ENV": environment, "REGISTRY_SECRET_KEY": key})
    assert "REGISTRY_SECRET_KEY" in message
    assert "secrets.token_urlsafe" in message  # says how to make a good one


@pytest.mark.parametrize(
    "key",
    [secrets.token_urlsafe(32), secrets.token_hex(16), secrets.token_hex(32), STRONG],
    # Stable ids: pytest-xdist workers must collect the same test names.
    ids=["token_urlsafe(32)", "token_hex(16)", "token_hex(32)", "strong"],
)
def test_random_keys_are_accepted(key: str) -> None:
    load_settings({"REGISTRY_ENV": "production", "REGISTRY_SECRET_KEY": key}).check()


def test_production_needs_a_key() -> None:
    message = refused({"REGISTRY_ENV": "production"})
    assert "REGISTRY_SECRET_KEY must be set when REGISTRY_ENV=production" in message


def test_an_empty_key_stops_the_server_even_in_development(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", "--port=1", REGISTRY_SECRET_KEY="")
    assert result.returncode == 2
    assert "REGISTRY_SECRET_KEY is set but empty" in result.stderr


def test_development_without_a_key_gets_a_random_one_per_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="registry.config"):
        first, second = load_settings({}), load_settings({})
    for settings in (first, second):
        settings.check()
        assert settings.secret_key_generated
    assert first.secret_key != second.secret_key
    assert "REGISTRY_SECRET_KEY is not set" in caplog.text  # and says so


def test_the_generated_key_is_shared_with_child_processes(tmp_path: Path) -> None:
    """`serve --workers N` starts its workers from the process that read the settings: a
    token one worker signs must verify in the others. The generated key travels in the
    environment, as the workers' does."""
    script = (
        "import subprocess, sys\n"
        "from registry.config import load_settings\n"
        "parent = load_settings()\n"
        "again = load_settings()\n"
        "child = subprocess.run([sys.executable, '-c', 'from registry.config import "
        "load_settings; print(load_settings().secret_key)'], capture_output=True, text=True)\n"
        "print(parent.secret_key_generated, parent.secret_key == again.secret_key == "
        "child.stdout.strip())\n"
        "print(parent.secret_key)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines()[0] == "True True"
        assert "REGISTRY_SECRET_KEY is not set" in run.stderr  # said once per start
    # ...and another start gets another key.
    assert runs[0].stdout.splitlines()[1] != runs[1].stdout.splitlines()[1]


# --- every other setting --------------------------------------------------------------------

BAD_VALUES = [
    ("REGISTRY_DATABASE_URL", "mysql://registry@localhost/registry", "postgresql://"),
    ("REGISTRY_DATABASE_READ_URL", "mysql://registry@replica/registry", "postgresql://"),
    ("REGISTRY_DATABASE_READ_URLS", "postgresql://r@replica/db", "needs REGISTRY_DATABASE_URL"),
    ("REGISTRY_SQLITE_PATH", "/no/such/folder/registry.sqlite", "does not exist"),
    ("REGISTRY_SQLITE_PATH", " ", "empty"),
    ("REGISTRY_TOKEN_TTL_MINUTES", "eight hours", "whole number"),
    ("REGISTRY_TOKEN_TTL_MINUTES", "0", "between 1 and"),
    ("REGISTRY_MAX_BODY_BYTES", "1e6", "whole number"),
    ("REGISTRY_MAX_BODY_BYTES", "-1", "between"),
    ("REGISTRY_SCHEDULER", "maybe", "1/0, true/false"),
    ("REGISTRY_PUBLIC_URL", "registro.example.it", "http(s)://"),
    ("REGISTRY_PUBLIC_URL", "https://registro.example.it/?x=1", "without query"),
    ("REGISTRY_HSTS_MAX_AGE", "-5", "between 0 and"),
    ("REGISTRY_HSTS_MAX_AGE", "un anno", "whole number"),
    ("REGISTRY_TIMEZONE", "Europe/Roma", "not a known time zone"),
    ("REGISTRY_FRESHNESS_REMINDER_DAYS", "100", "smaller than REGISTRY_FRESHNESS_STALE_DAYS"),
    ("REGISTRY_FRESHNESS_STALE_DAYS", "x", "whole number"),
    ("REGISTRY_RECONFIRM_LINK_DAYS", "0", "between 1 and"),
    ("REGISTRY_DISPATCH_INTERVAL_SECONDS", "0", "between 1 and"),
    ("REGISTRY_REMATCH_INTERVAL_MINUTES", "15m", "whole number"),
    ("REGISTRY_SCHEDULER_LEASE_SECONDS", "0", "between 1 and"),
    ("REGISTRY_WEBHOOK_TIMEOUT_SECONDS", "-1", "between"),
    ("REGISTRY_WEBHOOK_TIMEOUT_SECONDS", "inf", "finite"),
    ("REGISTRY_WEBHOOK_ALLOW_PRIVATE", "si", "1/0, true/false"),
    ("REGISTRY_OUTBOX_MAX_ATTEMPTS", "0", "between 1 and"),
    ("REGISTRY_OUTBOX_BACKOFF_SECONDS", "nan", "finite"),
    ("REGISTRY_OUTBOX_BACKOFF_MAX_SECONDS", "5", "must not be smaller"),
    ("REGISTRY_OUTBOX_LEASE_SECONDS", "5", "larger than REGISTRY_WEBHOOK_TIMEOUT_SECONDS"),
    ("REGISTRY_OUTBOX_BATCH_SIZE", "0", "between 1 and"),
    ("REGISTRY_OUTBOX_CONCURRENCY", "four", "whole number"),
    ("REGISTRY_SMTP_PORT", "70000", "between 1 and 65535"),
    ("REGISTRY_SMTP_STARTTLS", "2", "1/0, true/false"),
    ("REGISTRY_SMTP_USER", "registro", "REGISTRY_SMTP_PASSWORD is not"),
    ("REGISTRY_SMTP_FROM", "registro", "e-mail address"),
    ("REGISTRY_METRICS_MIN_COUNT", "2", "between 3 and"),
    ("REGISTRY_METRICS_MIN_COUNT", "cinque", "whole number"),
]


@pytest.mark.parametrize(("name", "value", "expected"), BAD_VALUES)
def test_every_setting_is_validated_with_a_message_naming_it(
    name: str, value: str, expected: str
) -> None:
    message = refused({"REGISTRY_SECRET_KEY": STRONG, name: value})
    assert name in message and expected in message


def test_the_table_above_covers_every_setting() -> None:
    read = set(re.findall(r'"(REGISTRY_[A-Z_]+)"', CONFIG_SOURCE.read_text()))
    covered = {name for name, _, _ in BAD_VALUES} | {"REGISTRY_ENV", "REGISTRY_SECRET_KEY"}
    # Only ever given as text or leave a default in place; nothing to get wrong.
    covered |= {"REGISTRY_SMTP_HOST", "REGISTRY_SMTP_PASSWORD", "REGISTRY_METRICS_TOKEN"}
    assert read - covered == set()


def test_production_refuses_a_weak_metrics_token() -> None:
    env = {"REGISTRY_SECRET_KEY": STRONG, "REGISTRY_METRICS_TOKEN": "metrics"}
    load_settings(env).check()  # development: any value
    message = refused({**env, "REGISTRY_ENV": "production"})
    assert "REGISTRY_METRICS_TOKEN is too weak" in message
    load_settings({**env, "REGISTRY_ENV": "production", "REGISTRY_METRICS_TOKEN": STRONG}).check()


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({"REGISTRY_TOKEN_TTL_MINUTES": "x", "REGISTRY_SCHEDULER": "forse"})
    assert "REGISTRY_TOKEN_TTL_MINUTES" in str(error.value)
    assert "REGISTRY_SCHEDULER" in str(error.value)


def test_a_bad_number_stops_the_command_with_a_clear_message(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "migrate", REGISTRY_TOKEN_TTL_MINUTES="eight hours")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        "configuration error: REGISTRY_TOKEN_TTL_MINUTES must be a whole number, "
        "not 'eight hours'" in result.stderr
    )


def test_booleans_accept_the_usual_spellings() -> None:
    for raw, value in [("1", True), ("Yes", True), ("on", True), ("0", False), ("FALSE", False)]:
        assert load_settings({"REGISTRY_SCHEDULER": raw}).scheduler_enabled is value
    assert load_settings({"REGISTRY_SCHEDULER": ""}).scheduler_enabled is True


def test_production_refuses_the_smtp_password_in_clear() -> None:
    env = {
        "REGISTRY_ENV": "production",
        "REGISTRY_SECRET_KEY": STRONG,
        "REGISTRY_SMTP_HOST": "smtp.example.it",
        "REGISTRY_SMTP_USER": "registro",
        "REGISTRY_SMTP_PASSWORD": "password-smtp",
        "REGISTRY_SMTP_STARTTLS": "0",
    }
    assert "REGISTRY_SMTP_STARTTLS=0" in refused(env)
    load_settings({**env, "REGISTRY_ENV": "development"}).check()


# --- the demo -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["demo"], ["serve", "--demo", "--port=1"]])
def test_the_demo_is_refused_in_production(tmp_path: Path, command: list[str]) -> None:
    result = run_cli(tmp_path, *command, REGISTRY_ENV="production", REGISTRY_SECRET_KEY=STRONG)
    assert result.returncode == 2
    assert "the demo data" in result.stderr and "REGISTRY_ENV=production" in result.stderr
    assert "demo-password" not in result.stdout  # no logins printed: none were created
    assert not (tmp_path / "cli.sqlite").exists()  # refused before touching the database


async def test_loading_the_demo_is_refused_in_production_whoever_calls_it(
    app: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_ENV", "production")
    monkeypatch.setenv("REGISTRY_SECRET_KEY", STRONG)
    before = await Ambito.count()
    with pytest.raises(ConfigError, match="the demo data"):
        await load_demo()
    assert await Ambito.count() == before
