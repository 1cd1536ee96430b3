"""Capability tokens never reach a log: the QR check-in `?t=`, reconfirmation links, calendar
feed URLs, password-reset links and any signed token are printed as [redacted].

The main test runs the real server (`registry serve`, uvicorn with the project's logging) on
a SQLite file, sends it requests carrying tokens, breaks two tables so that some of them end
in the error handler's log line and traceback, and reads everything the server printed.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from registry.checkin.tokens import AUDIENCE as CHECKIN
from registry.freshness.links import AUDIENCE as RECONFIRM
from registry.logs import REDACTED, install_redaction, redact
from registry.security import issue

KEY = "log-test-key-Vq3mZ8tL1xR7pK0wN5yB2cH9dJ4fG6sA"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    base: str
    database: Path
    log: Path
    process: subprocess.Popen[bytes]

    def output(self) -> str:
        """Stops the server and returns everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    database = tmp_path / "server.sqlite"
    # SQLite whatever the suite runs on: the test breaks tables of its own file.
    env = {k: v for k, v in os.environ.items() if k != "REGISTRY_DATABASE_URL"}
    env.update(
        REGISTRY_SQLITE_PATH=str(database),
        REGISTRY_SCHEDULER="0",
        REGISTRY_PUBLIC_URL=base,
        REGISTRY_SECRET_KEY=KEY,
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry.cli", "serve", "--host=127.0.0.1", f"--port={port}"],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Server(base, database, log, process)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited:\n{running.output()[-3000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{running.output()[-3000:]}")
            time.sleep(0.3)
        yield running
    finally:
        running.output()


def _checkin_token() -> str:
    return issue(KEY, CHECKIN, str(uuid.uuid4()))


def _reconfirm_token() -> str:
    return issue(KEY, RECONFIRM, str(uuid.uuid4()))


def _feed_token() -> str:
    return "rcf_" + uuid.uuid4().hex + uuid.uuid4().hex


def test_the_server_log_holds_no_capability(server: Server) -> None:
    secrets: list[str] = []

    def token(make) -> str:  # type: ignore[no-untyped-def]
        value = make()
        secrets.append(value)
        return value

    requests = [
        ("GET", f"/checkin/?t={token(_checkin_token)}"),
        ("GET", f"/api/checkin/qr.png?t={token(_checkin_token)}&scale=4"),
        ("GET", f"/api/checkin/sheet?layout=badge&t={token(_checkin_token)}"),
        ("GET", f"/api/checkin/status?t={token(_checkin_token)}"),
        ("GET", f"/reconfirm/{token(_reconfirm_token)}"),
        ("GET", f"/api/reconfirm/{token(_reconfirm_token)}"),
        ("GET", f"/api/ical/{token(_feed_token)}.ics"),
    ]
    with httpx.Client(base_url=server.base, timeout=30) as http:
        answers = [http.request(method, path).status_code for method, path in requests]
        assert all(status < 500 for status in answers), answers
        # Now the same kinds of link fail inside the handler: the error handler logs the
        # request's path, and the traceback follows.
        with sqlite3.connect(server.database) as db:
            db.execute("DROP TABLE reconfirm_link")
            db.execute("DROP TABLE interop_feed_token")
        failing = [
            ("GET", f"/reconfirm/{token(_reconfirm_token)}"),
            ("POST", f"/api/reconfirm/{token(_reconfirm_token)}"),
            ("GET", f"/api/ical/{token(_feed_token)}.ics"),
        ]
        statuses = [http.request(method, path, json={}).status_code for method, path in failing]
        assert statuses == [500, 500, 500]

    printed = server.output()
    # What the log must still say: which request, with the secret cut out.
    for line in (
        f'"GET /checkin/?t={REDACTED} HTTP/1.1" 200',
        f"/api/checkin/qr.png?t={REDACTED}&scale=4",
        f"/api/checkin/sheet?layout=badge&t={REDACTED}",
        f'"POST /api/reconfirm/{REDACTED} HTTP/1.1" 500',
        f"unhandled error on GET /reconfirm/{REDACTED}",
        f"unhandled error on GET /api/ical/{REDACTED}",
        "Traceback",
    ):
        assert line in printed, f"{line!r} not in the log:\n{printed[-3000:]}"
    for secret in secrets:
        for piece in secret.split("."):  # no part of a signed token either
            assert piece not in printed, f"a token reached the log:\n{printed[-3000:]}"


JWT = issue(KEY, "registry-password-reset", str(uuid.uuid4()))


@pytest.mark.parametrize(
    "text",
    [
        f"https://registro.example.it/checkin/?t={JWT}",
        f"/api/checkin/qr.svg?scale=3&t={JWT}",
        f"https://registro.example.it/reconfirm/{JWT}",
        f"POST /api/reconfirm/{JWT} failed",
        "/api/ical/rcf_0123456789abcdefABCDEF_-xyz.ics",
        # the password-reset link the UdP hands over (registry/users/service.py reset_url)
        f"https://registro.example.it/reset/#token={JWT}",
        f"token {JWT} refused",
        f"Authorization: Bearer {JWT}",
    ],
)
def test_every_capability_shape_is_redacted(text: str) -> None:
    cleaned = redact(text)
    assert REDACTED in cleaned
    assert JWT.split(".")[2] not in cleaned and "rcf_0123" not in cleaned


def test_ordinary_urls_are_left_alone() -> None:
    for text in ("/api/resources?status=active&offset=50", "/api/checkin/codes/123", "/health"):
        assert redact(text) == text


def test_the_applications_own_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    link = f"https://registro.example.it/reconfirm/{JWT}"
    with caplog.at_level(logging.INFO, logger="registry"):
        logging.getLogger("registry.jobs").info("reminder sent with %s", link)
        try:
            raise ValueError(f"cannot open {link}")
        except ValueError:
            logging.getLogger("registry").exception("failed on %s", link)
    printed = caplog.text
    assert "reminder sent with https://registro.example.it/reconfirm/[redacted]" in printed
    assert "ValueError: cannot open" in printed
    assert JWT.split(".")[2] not in printed
