"""End-to-end browser tests: the real server (``registry serve --demo``) on a free loopback
port with a fresh SQLite file, driven by Playwright for Python with Debian's Chromium.

The browser comes from the system (``apt-get install -y chromium``); Playwright's own browser
download is never used. Screenshots of each main screen land in artifacts/screenshots/.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# axe-core comes from the npm registry at the version and integrity pinned in
# web/package-lock.json, fetched once into a cache: nothing third-party is pasted in.
AXE_LOCK = ROOT / "web" / "package-lock.json"
AXE_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "registry-e2e"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM = os.environ.get("REGISTRY_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--lang=it-IT",
]
# The browser's own language (date inputs show dd/mm/yyyy): on Linux Chromium takes it from
# the environment, not from --lang nor from the context's locale, and only for the languages
# whose files are installed (Debian's `chromium-l10n`; without it, US format and no error).
BROWSER_ENV = {"LANGUAGE": "it_IT:it", "LANG": "it_IT.UTF-8"}
PASSWORD = "demo-password"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _die_with_parent() -> None:
    """In the server's process, before exec: get SIGTERM when the test run dies, so an
    interrupted run never leaves a server behind (Linux only; elsewhere nothing happens)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The whole app as a user gets it: migrations, demo ambito, web front end.

    REGISTRY_E2E_SERVER=http://127.0.0.1:PORT points the tests at a server already running
    with the demo data instead (handy while developing a screen)."""
    existing = os.environ.get("REGISTRY_E2E_SERVER")
    if existing:
        yield existing.rstrip("/")
        return
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="registry-e2e-"))
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "REGISTRY_DATABASE_URL"}
    env.update(
        REGISTRY_SQLITE_PATH=str(workdir / "e2e.sqlite"),
        REGISTRY_SCHEDULER="0",
        REGISTRY_PUBLIC_URL=base,
        REGISTRY_SECRET_KEY="e2e-secret-key-long-enough-0123456789abcdef",
    )
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "registry.cli",
                "serve",
                "--demo",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited early:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not start in 90 s:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, and the async tests of the rest of the suite need it closed.
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env={**os.environ, **BROWSER_ENV}
        )
        yield launched
        launched.close()


class Console:
    """Browser console errors and uncaught exceptions seen during a test."""

    # An API that answers 404 for a record is handled by the page; the browser still logs it.
    IGNORED = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")

    def __init__(self) -> None:
        self.errors: list[str] = []

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not self.IGNORED.search(message.text):
            self.errors.append(message.text)

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")


def _context(
    browser: Browser, viewport: dict[str, int], phone: bool, zone: str = "Europe/Rome"
) -> BrowserContext:
    context = browser.new_context(
        viewport=viewport,
        locale="it-IT",
        timezone_id=zone,
        is_mobile=phone,
        has_touch=phone,
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    context = _context(browser, DESKTOP, phone=False)
    new_page = context.new_page()
    new_page.on("console", console.on_console)
    new_page.on("pageerror", console.on_page_error)
    yield new_page
    context.close()
    assert not console.errors, f"errors in the browser console: {console.errors}"


@pytest.fixture
def phone(browser: Browser, console: Console) -> Iterator[Page]:
    context = _context(browser, PHONE, phone=True)
    new_page = context.new_page()
    new_page.on("console", console.on_console)
    new_page.on("pageerror", console.on_page_error)
    yield new_page
    context.close()
    assert not console.errors, f"errors in the browser console: {console.errors}"


def login(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/#/accesso")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_selector("#nav-list a", state="attached")
    page.wait_for_selector("main h1")


def go(page: Page, menu_item: str) -> None:
    """Follow an item of the main menu (opening the menu first on a phone)."""
    toggle = page.locator("#nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    menu = page.get_by_role("navigation", name="Menu principale")
    # The name may carry a count of unread notifications (e.g. "Proposte (3)").
    name = re.compile(rf"^{re.escape(menu_item)}( \(\d+\))?$")
    menu.get_by_role("link", name=name).click()


def shot(page: Page, name: str) -> None:
    """Save a full-page screenshot for reviewers, after checking the screen is clean."""
    page.wait_for_load_state("networkidle")
    check_screen(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def axe_script() -> Path:
    """axe.min.js of the pinned axe-core, downloaded and checked against the lock's
    integrity the first time, then read from the cache."""
    package = json.loads(AXE_LOCK.read_text())["packages"]["node_modules/axe-core"]
    version, integrity = package["version"], package["integrity"]
    algorithm, _, expected = integrity.partition("-")
    target = AXE_CACHE / f"axe-core-{version}.min.js"
    if target.exists():
        return target
    url = package.get("resolved") or (
        f"https://registry.npmjs.org/axe-core/-/axe-core-{version}.tgz"
    )
    tarball = httpx.get(url, timeout=120, follow_redirects=True).raise_for_status().content
    digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"axe-core {version} from {url} does not match the lock's integrity")
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None
        source = member.read()
    AXE_CACHE.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(source)
    partial.replace(target)  # atomic: a parallel run never reads half a file
    return target


def axe_violations(page: Page) -> list[str]:
    """WCAG 2.1 A/AA violations that axe-core finds on the page as it is now."""
    if not page.evaluate("() => Boolean(window.axe)"):
        # Evaluated over the DevTools protocol, which the page's Content-Security-Policy does
        # not govern (an injected <script> tag would be refused as inline script).
        page.evaluate(axe_script().read_text(encoding="utf-8"))
    result = page.evaluate(
        """async (tags) => {
            const options = { runOnly: { type: 'tag', values: tags } };
            const answer = await window.axe.run(document, options);
            return answer.violations.map((v) => {
              const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ');
              return `${v.id} (${v.impact}): ${v.help} -> ${where}`;
            });
        }""",
        WCAG_TAGS,
    )
    return list(result)


def check_screen(page: Page) -> None:
    """Accessibility and rendering checks every main screen must pass."""
    violations = axe_violations(page)
    assert not violations, "WCAG 2.1 AA violations:\n" + "\n".join(violations)
    main_text = page.locator("main").inner_text()
    assert not re.search(r"\b(null|undefined|NaN|\[object Object\])\b", main_text), main_text[:2000]
    assert page.locator("main h1").count() == 1, "each screen has exactly one h1"
    assert page.title().strip(), "the document has a title"
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll(
              'main input, main select, main textarea, dialog input, dialog select,'
              + ' dialog textarea'
            )]
            .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'))
            .filter((el) => !(el.labels && el.labels.length)
              && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
            .map((el) => el.name || el.id)"""
    )
    assert not unlabeled, f"form controls without a label: {unlabeled}"
    nameless = page.evaluate(
        """() => [...document.querySelectorAll('main button, main a[href]')]
            .filter((el) => !(el.getAttribute('aria-label') || el.textContent.trim()))
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert not nameless, f"buttons or links without an accessible name: {nameless}"


class Api:
    """Direct API calls for a test's arrangement (what another user did before)."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        answer = httpx.post(
            f"{base}/api/auth/token", json={"username": username, "password": PASSWORD}
        )
        answer.raise_for_status()
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def get(self, path: str, **params: object) -> object:
        answer = httpx.get(f"{self.base}{path}", params=params, headers=self.headers)
        answer.raise_for_status()
        return answer.json()

    def post_with_key(self, path: str, body: object, key: str) -> dict:
        headers = {**self.headers, "Idempotency-Key": key}
        answer = httpx.post(f"{self.base}{path}", json=body, headers=headers)
        assert answer.status_code < 400, answer.text
        return answer.json()

    def post(self, path: str, body: object | None = None) -> object:
        answer = httpx.post(f"{self.base}{path}", json=body, headers=self.headers)
        assert answer.status_code < 400, answer.text
        return answer.json() if answer.content else None
