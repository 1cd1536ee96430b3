"""Security headers on every answer (pages, API, static files, errors).

The web app (web/) is built to run under a strict Content-Security-Policy: scripts and style
sheets are files of this origin, no inline script, no inline style attribute in markup (the
screens set styles through the DOM, which CSP allows), no eval. The few pages the server
renders itself carry one constant <style> block each (and the QR sheet one `onclick`
printing the page): their hashes are allowed, computed from the constants, so they cannot
drift from the pages. The Swagger UI at /schema is Litestar's page: it loads its scripts from
a CDN and starts them with an inline script, so /schema gets its own looser policy.

A handler that sets one of these headers itself keeps its own value.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from litestar.types import Message, Scope

from registry.api.reconfirm import _STYLE as RECONFIRM_STYLE
from registry.checkin.qr import _CSS as QR_SHEET_STYLE
from registry.config import Settings
from registry.metrics.report import STYLE as REPORT_STYLE

DOCS_PREFIX = "/schema"
SWAGGER_CDN = "https://cdn.jsdelivr.net"
# The QR sheet's print button (registry/checkin/qr.py).
PRINT_HANDLER = "window.print()"


def csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _policy(directives: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def app_policy(settings: Settings) -> str:
    images = ["'self'", "data:"]  # data: for the blank favicon of web/index.html
    public = urlsplit(settings.public_base_url)
    # The QR images' URLs are built on REGISTRY_PUBLIC_URL, which may name this server
    # differently from the address the browser used.
    images.append(f"{public.scheme}://{public.netloc}")
    return _policy(
        {
            "default-src": ["'self'"],
            "script-src": ["'self'", "'unsafe-hashes'", csp_hash(PRINT_HANDLER)],
            "style-src": [
                "'self'",
                csp_hash(RECONFIRM_STYLE),
                csp_hash(QR_SHEET_STYLE),
                csp_hash(REPORT_STYLE),
            ],
            "img-src": images,
            "connect-src": ["'self'"],
            "font-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'none'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }
    )


def docs_policy() -> str:
    return _policy(
        {
            "default-src": ["'self'"],
            "script-src": ["'self'", "'unsafe-inline'", SWAGGER_CDN],
            "style-src": ["'self'", "'unsafe-inline'", SWAGGER_CDN],
            "img-src": ["'self'", "data:", SWAGGER_CDN],
            "font-src": ["'self'", SWAGGER_CDN],
            "connect-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'none'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }
    )


def security_headers(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """A Litestar `before_send` hook: it sees every response the app sends, including the
    ones of the router (404, 405) and of the exception handlers, which middleware does not."""
    common = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        # URLs carrying a token (check-in, reconfirmation, feeds) never leave in a Referer.
        (b"referrer-policy", b"no-referrer"),
    ]
    if settings.hsts_max_age > 0:
        common.append((b"strict-transport-security", f"max-age={settings.hsts_max_age}".encode()))
    for_app = (b"content-security-policy", app_policy(settings).encode())
    for_docs = (b"content-security-policy", docs_policy().encode())

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path = scope.get("path", "")
        docs = path == DOCS_PREFIX or path.startswith(DOCS_PREFIX + "/")
        headers = list(message.get("headers") or [])
        present = {bytes(name).lower() for name, _ in headers}
        for name, value in [*common, for_docs if docs else for_app]:
            if name not in present:
                headers.append((name, value))
        message["headers"] = headers

    return before_send
