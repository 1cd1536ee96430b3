"""Every answer carries the security headers; the pages still work under their policy.

The browser tests (tests/e2e) run the whole web app under this policy in Chromium and fail
on any console error, which is where a CSP violation shows up; these tests pin the headers
and check the pieces the browser tests do not visit.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from litestar import Litestar, get

from registry.access import Role
from registry.api.headers import csp_hash, security_headers
from registry.config import ConfigError, load_settings
from registry.security import issue
from tests.conftest import Tenant
from tests.test_checkin import new_code, path_of

WEB = Path(__file__).resolve().parent.parent / "web"
# A well-formed link signed with another key: the page answers "Link non utilizzabile".
FORGED = issue("another-key-that-this-registry-never-used-0123", "reconfirm", "nobody")


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_protected(response: httpx.Response) -> dict[str, list[str]]:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("referrer-policy") == "no-referrer", where
    policy = directives(response.headers.get("content-security-policy", ""))
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("object-src") == ["'none'"], where
    assert policy.get("base-uri") == ["'none'"], where
    return policy


def assert_strict(policy: dict[str, list[str]]) -> None:
    # No inline script, no eval, nothing from another origin.
    for source in ("'unsafe-inline'", "'unsafe-eval'", "https:", "*"):
        assert source not in policy["script-src"]
        assert source not in policy["style-src"]
    assert policy["default-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]


async def test_every_kind_of_answer_carries_the_headers(client, tenant: Tenant) -> None:
    answers = [
        await client.get("/"),  # the web app, a static file in html mode
        await client.get("/app.js"),
        await client.get("/checkin/"),
        await client.get("/health"),
        await client.get("/api/holders", headers=tenant.headers(Role.UDP_ADMIN)),
        await client.get("/api/holders"),  # 401 from the authentication middleware
        await client.get("/api/no-such-thing"),  # 404 from the router
        await client.post("/api/auth/token", content=b"{not json"),  # 400 from an error handler
        await client.get(f"/reconfirm/{FORGED}"),  # a page the server renders
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 401, 404, 400, 400]
    for answer in answers:
        assert_strict(assert_protected(answer))
        assert "strict-transport-security" not in answer.headers  # http:// public URL


async def test_a_handlers_own_header_is_kept(client) -> None:
    # The reconfirmation page sets Referrer-Policy itself: not doubled; an error gets it once.
    response = await client.get(f"/reconfirm/{FORGED}")
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]
    feed = await client.get("/api/ical/rcf_unknown.ics")
    assert feed.status_code == 404 and feed.headers.get_list("referrer-policy") == ["no-referrer"]


class _Page(HTMLParser):
    """Inline scripts, style blocks, style and event-handler attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts: list[str] = []
        self.style_blocks: list[str] = []
        self.style_attributes: list[str] = []
        self.handlers: list[str] = []
        self.sources: list[str] = []
        self._in: str | None = None
        self._has_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.style_attributes.append(value or "")
            if name.startswith("on"):
                self.handlers.append(value or "")
        if tag in {"script", "style"}:
            self._in = tag
            self._has_src = bool(values.get("src"))
            if values.get("src"):
                self.sources.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.sources.append(values["href"] or "")

    def handle_data(self, data: str) -> None:
        if self._in == "script" and not self._has_src:
            self.inline_scripts.append(data)
        elif self._in == "style":
            self.style_blocks.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.mark.parametrize("name", ["index.html", "checkin/index.html", "reset/index.html"])
def test_the_web_apps_pages_need_nothing_inline(name: str) -> None:
    page = parse((WEB / name).read_text(encoding="utf-8"))
    assert [s for s in page.inline_scripts if s.strip()] == []
    assert page.style_blocks == [] and page.style_attributes == [] and page.handlers == []


def test_the_web_apps_scripts_do_not_evaluate_strings() -> None:
    offending = []
    for script in WEB.rglob("*.js"):
        if "node_modules" in script.parts:
            continue
        text = script.read_text(encoding="utf-8")
        if re.search(r"\beval\s*\(|new\s+Function\s*\(|setAttribute\(\s*['\"]style", text):
            offending.append(script.name)
    assert offending == []


def assert_allowed(page: _Page, policy: dict[str, list[str]]) -> None:
    """What the page carries inline is allowed by hash, not by 'unsafe-inline'."""
    for block in page.style_blocks:
        assert csp_hash(block) in policy["style-src"]
    for handler in page.handlers:
        assert "'unsafe-hashes'" in policy["script-src"]
        assert csp_hash(handler) in policy["script-src"]
    assert page.inline_scripts == [] and page.style_attributes == []


async def test_the_reconfirmation_page_works_under_the_policy(client) -> None:
    response = await client.get(f"/reconfirm/{FORGED}")
    page = parse(response.text)
    assert page.style_blocks, "the page carries its style inline"
    assert_allowed(page, assert_protected(response))


async def test_the_printable_qr_sheet_works_under_the_policy(client, tenant: Tenant) -> None:
    code = await new_code(client, tenant)
    for key in ("sheet_url", "badge_url"):
        response = await client.get(path_of(code[key]))
        assert response.status_code == 200, response.text
        page = parse(response.text)
        assert page.style_blocks and page.handlers == ["window.print()"]
        assert_allowed(page, assert_protected(response))
    image = await client.get(path_of(code["png_url"]))
    assert image.headers["content-type"] == "image/png"
    assert_protected(image)


async def test_the_metrics_report_works_under_the_policy(client, tenant: Tenant) -> None:
    response = await client.get(
        "/api/metrics/report.html", headers=tenant.headers(Role.SOCIAL_WORKER)
    )
    assert response.status_code == 200, response.text
    page = parse(response.text)
    assert page.style_blocks
    assert_allowed(page, assert_protected(response))


async def test_the_api_documentation_gets_a_looser_policy_it_works_under(client) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200
    policy = assert_protected(response)  # still no framing
    page = parse(response.text)
    # Litestar's Swagger page starts the UI with an inline script and loads it from a CDN.
    assert page.inline_scripts
    assert "'unsafe-inline'" in policy["script-src"]
    for source in page.sources:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(source))
        kind = "script-src" if source.endswith(".js") else "style-src"
        if source.endswith(".png"):
            kind = "img-src"
        assert origin in policy[kind], source
    # Only the documentation: the web app keeps the strict one.
    assert_strict(assert_protected(await client.get("/")))
    assert_strict(assert_protected(await client.get("/schema-not")))


def _tiny_app(env: dict[str, str]) -> Litestar:
    settings = load_settings(env)
    settings.check()

    @get("/", sync_to_thread=False)
    def hello() -> str:
        return "ciao"

    return Litestar([hello], before_send=[security_headers(settings)])


async def _get(app: Litestar) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.get("/")


KEY = {"REGISTRY_SECRET_KEY": "Vq3-mZ8_tL1xR7pK0wN5yB2cH9dJ4fG6sA"}


async def test_hsts_when_the_registry_is_served_over_https() -> None:
    https = {**KEY, "REGISTRY_PUBLIC_URL": "https://registro.example.it"}
    answer = await _get(_tiny_app(https))
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    answer = await _get(_tiny_app({**https, "REGISTRY_HSTS_MAX_AGE": "600"}))
    assert answer.headers["strict-transport-security"] == "max-age=600"
    answer = await _get(_tiny_app({**https, "REGISTRY_HSTS_MAX_AGE": "0"}))
    assert "strict-transport-security" not in answer.headers
    # The QR images' URLs use the public address: the policy allows it.
    policy = directives(answer.headers["content-security-policy"])
    assert "https://registro.example.it" in policy["img-src"]


def test_hsts_over_plain_http_is_refused_at_start() -> None:
    env = {**KEY, "REGISTRY_PUBLIC_URL": "http://registro.local", "REGISTRY_HSTS_MAX_AGE": "600"}
    with pytest.raises(ConfigError, match="REGISTRY_HSTS_MAX_AGE"):
        load_settings(env).check()
