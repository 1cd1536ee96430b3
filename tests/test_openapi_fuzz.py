"""The served OpenAPI tells the truth: schemathesis fuzzes every operation of
/schema/openapi.json against the real server (a uvicorn subprocess on its own fresh database
with the demo loaded), as the demo UdP and as the demo holder manager, and every answer must be
no server error and conform to the document (status code, content type, body, headers).

Bounded for CI: a fixed number of examples per operation and generation mode (positive and
negative), derandomized (the same generation on every run; only the demo's identifiers
differ). `REGISTRY_FUZZ_EXAMPLES=20` makes a deeper run. Select or leave out the module with
`-m fuzz` / `-m "not fuzz"`; a summary line per role is printed (`-s` shows it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (  # the public registry of built-in checks
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from registry.config import load_settings
from registry.demo import DEMO_PASSWORD

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("REGISTRY_FUZZ_EXAMPLES", "4"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@schemathesis.check
def single_charset(ctx: Any, response: Any, case: Any) -> bool | None:
    """A Content-Type names its charset once ("text/csv; charset=utf-8; charset=utf-8" came
    from handlers adding the charset that Litestar adds to every text/* type itself)."""
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.lower().count("charset=") <= 1, f"Content-Type: {content_type}"
    return None


CHECKS = [
    single_charset,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Slow by nature (a PDF rendered by WeasyPrint, ~10 s each): one example per mode keeps the
# run bounded; everything else gets EXAMPLES.
EXAMPLES_OF = {"GET /api/metrics/report.pdf": 1}
# Operations that would end the fuzzer's own session, so every later case would only see 401:
# logout ends every token of the caller; a successful password change ends the caller's tokens.
# (Deactivating or demoting oneself and the last UdP are refused by the service; the fuzzer is
# never given its own user's id, so PATCH /api/users/{user_id} and the reset link are fuzzed.)
EXCLUDED = {
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/password"),
}
# Real identifiers for path parameters (from the demo), so the fuzzer reaches records and not
# only 404s: parameter name -> list endpoint whose items carry it as `id` (or `code`).
ID_SOURCES: dict[str, tuple[str, str]] = {
    "holder_id": ("/api/holders", "id"),
    "resource_id": ("/api/resources", "id"),
    "contribution_id": ("/api/contributions", "id"),
    "activity_id": ("/api/activities", "id"),
    "code_id": ("/api/checkin/codes", "id"),
    "intervention_id": ("/api/interventions", "id"),
    "webhook_id": ("/api/notifications/webhooks", "id"),
    "notification_id": ("/api/notifications", "id"),
    "message_id": ("/api/notifications/outbox", "id"),
    "plan_id": ("/api/plans", "id"),
    "match_id": ("/api/matches", "id"),
    "run_id": ("/api/matching/runs", "id"),
    "interaction_id": ("/api/interactions", "id"),
    "feed_id": ("/api/interop/feeds", "id"),
    "user_id": ("/api/users", "id"),
    "code": ("/api/ambiti", "code"),
    "ambito_code": ("/api/ambiti", "code"),
}
# Children of a record, read from its first parent: parameter -> (parent parameter, path).
CHILD_SOURCES: dict[str, tuple[str, str]] = {
    "need_id": ("plan_id", "/api/plans/{}/needs"),
    "window_id": ("resource_id", "/api/resources/{}/availability"),
}
ROLES = {"udp": "udp_admin", "auser": "holder_manager"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg(url: str, statement: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@dataclass
class Server:
    base: str
    tokens: dict[str, str]
    user_ids: dict[str, str]
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real app in a uvicorn subprocess, on a database of its own with the demo in it."""
    folder = tmp_path_factory.mktemp("fuzz")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env |= {
        "REGISTRY_SCHEDULER": "0",
        "REGISTRY_ENV": "development",
        "REGISTRY_SECRET_KEY": "fuzz-secret-key-that-is-long-enough-0123456789abcdef",
    }
    suite_url = load_settings().database_url
    database_url = None
    if suite_url:
        base, _, name = suite_url.rpartition("/")
        database = f"{name}_fuzz_{uuid.uuid4().hex[:8]}"
        database_url = f"{base}/{database}"
        _pg(suite_url, f'CREATE DATABASE "{database}"')
        env["REGISTRY_DATABASE_URL"] = database_url
    else:
        env["REGISTRY_SQLITE_PATH"] = str(folder / "fuzz.sqlite")
    port = _free_port()
    log = folder / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if requests.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        tokens: dict[str, str] = {}
        user_ids: dict[str, str] = {}
        for username in ROLES:
            # Only the right password: the login throttle counts failures per username.
            login = requests.post(
                f"{base_url}/api/auth/token",
                json={"username": username, "password": DEMO_PASSWORD},
                timeout=30,
            )
            assert login.status_code == 200, login.text
            tokens[username] = login.json()["access_token"]
            me = requests.get(
                f"{base_url}/api/users/me",
                headers={"Authorization": f"Bearer {tokens[username]}"},
                timeout=30,
            )
            assert me.status_code == 200, me.text
            user_ids[username] = me.json()["id"]
        yield Server(base=base_url, tokens=tokens, user_ids=user_ids, log=log)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if database_url and suite_url:
            _pg(suite_url, f'DROP DATABASE IF EXISTS "{database_url.rpartition("/")[2]}"')


def _items(body: Any) -> list[dict[str, Any]]:
    items = body.get("items", []) if isinstance(body, dict) else body
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def known_ids(server: Server, token: str) -> dict[str, list[str]]:
    """Identifiers the role can see, per path parameter; never the fuzzers' own users (their
    deactivation or reset would end the fuzzer's session)."""
    headers = {"Authorization": f"Bearer {token}"}
    own = set(server.user_ids.values())
    found: dict[str, list[str]] = {}
    for name, (path, key) in ID_SOURCES.items():
        response = requests.get(f"{server.base}{path}", headers=headers, timeout=60)
        if response.status_code != 200:
            continue
        values = [str(item[key]) for item in _items(response.json()) if key in item]
        values = [value for value in values if value not in own][:5]
        if values:
            found[name] = values
    for name, (parent, template) in CHILD_SOURCES.items():
        for parent_id in found.get(parent, [])[:2]:
            response = requests.get(
                f"{server.base}{template.format(parent_id)}", headers=headers, timeout=60
            )
            if response.status_code == 200:
                values = [str(item["id"]) for item in _items(response.json()) if "id" in item]
                if values:
                    found.setdefault(name, []).extend(values[:3])
    return found


@dataclass
class Tally:
    operations: int = 0
    examples: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    # (operation, check) -> first failure's report, so one bug is reported once.
    failures: dict[tuple[str, str], str] = field(default_factory=dict)


def _strategy(
    operation: Any, mode: GenerationMode, ids: dict[str, list[str]]
) -> st.SearchStrategy[Any]:
    generated = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    known = {name: ids[name] for name in names if name in ids}
    if not known:
        return generated
    real = st.fixed_dictionaries({n: st.sampled_from(v) for n, v in known.items()}).flatmap(
        lambda values: operation.as_strategy(generation_mode=mode, path_parameters=values)
    )
    # Mostly real records (to reach the handlers' logic), sometimes made-up ones (404s).
    return st.one_of(real, real, generated)


def fuzz_operation(
    operation: Any,
    strategy: st.SearchStrategy[Any],
    call: Callable[[Any], Any],
    tally: Tally,
) -> None:
    label = operation.label

    @settings(
        max_examples=EXAMPLES_OF.get(label, EXAMPLES),
        derandomize=True,  # the same cases on every run: CI is reproducible
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report and go on
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        tally.examples += 1
        response = call(case)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (label, f"{failure.title} ({response.status_code})")
                tally.failures.setdefault(key, f"{label}: {key[1]}\n{group.args[0]}")

    # Unsatisfiable: nothing to negate (no parameters, no body, no credentials).
    with contextlib.suppress(Unsatisfiable):
        run()


@pytest.mark.parametrize("username", list(ROLES))
def test_every_operation_answers_as_documented(server: Server, username: str) -> None:
    started = time.monotonic()
    token = server.tokens[username]
    schema = schemathesis.openapi.from_url(f"{server.base}/schema/openapi.json", timeout=60)
    ids = known_ids(server, token)
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}

    def call(case: Any) -> Any:
        return case.call(base_url=server.base, session=session, headers=headers, timeout=120)

    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        tally.operations += 1
        began = time.monotonic()
        for mode in MODES:
            fuzz_operation(operation, _strategy(operation, mode, ids), call, tally)
        tally.seconds[operation.label] = time.monotonic() - began

    # The fuzzer's session survived: the last answers were not 401s for an ended session.
    me = requests.get(f"{server.base}/api/users/me", headers=headers, timeout=30)
    assert me.status_code == 200, me.text

    backend = "postgresql" if load_settings().database_url else "sqlite"
    print(
        f"\nopenapi fuzz [{backend}, {ROLES[username]}]: {tally.operations} operations, "
        f"{tally.examples} examples, {len(tally.failures)} failures, "
        f"{time.monotonic() - started:.0f}s; slowest: "
        + ", ".join(
            f"{label} {seconds:.0f}s"
            for label, seconds in sorted(tally.seconds.items(), key=lambda kv: -kv[1])[:4]
        )
    )
    report = "\n\n".join(tally.failures.values())
    if any("(500)" in check for _, check in tally.failures):
        # The server's tracebacks say where each 500 comes from.
        log = server.log.read_text(errors="replace")
        report += "\n\nserver tracebacks:\n" + "\n".join(
            block.split("\nINFO:", 1)[0] for block in log.split("Traceback")[1:]
        )
    assert not tally.failures, report
