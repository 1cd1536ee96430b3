"""What the service sends over the wire: compression, and caching rules.

- Static files (the web app): `Cache-Control: no-cache` with their ETag and Last-Modified, so
  the browser asks every time and gets a body-less 304 while the file is unchanged (a deploy
  is seen at once). Litestar sends the validators but always answers 200: the middleware
  below answers the conditional requests.
- Everything else (API JSON, exports): `Cache-Control: no-store` unless the handler says
  otherwise (the public feeds do).
- Bodies of 500 bytes or more are compressed: brotli when the client accepts it, else gzip.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

STATIC_CACHE_CONTROL = CacheControlHeader(no_cache=True)


async def default_cache_control(message: Message, scope: Scope) -> None:
    """`before_send` hook: a response that sets no Cache-Control of its own gets `no-store`.

    A hook rather than Litestar's app-level `cache_control`: that one is sent *in addition*
    to a Cache-Control a handler puts in its Response headers (two headers, which a browser
    merges, so `no-store` would beat a feed's `public, max-age=300`).
    """
    if message["type"] != "http.response.start":
        return
    headers = message.setdefault("headers", [])  # type: ignore[typeddict-item]
    if not any(name.lower() == b"cache-control" for name, _ in headers):
        headers.append((b"cache-control", b"no-store"))  # type: ignore[union-attr]


def compression_config() -> CompressionConfig:
    # Moderate levels: compression runs on the event loop, and past these levels the bytes
    # saved are few for the time spent (gzip 9 is Litestar's default).
    return CompressionConfig(
        backend="brotli",
        brotli_quality=4,
        brotli_gzip_fallback=True,
        gzip_compress_level=6,
        minimum_size=500,
    )


def _etags(header: str) -> set[str]:
    # Compressed, the same file is sent with the same ETag; a client may add W/ to it.
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _not_modified(request: dict[bytes, bytes], response: dict[bytes, bytes]) -> bool:
    if_none_match = request.get(b"if-none-match")
    if if_none_match is not None:
        etag = response.get(b"etag")
        tags = _etags(if_none_match.decode("latin-1"))
        return etag is not None and ("*" in tags or etag.decode("latin-1") in tags)
    if_modified_since = request.get(b"if-modified-since")
    last_modified = response.get(b"last-modified")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since.decode("latin-1"))
        modified = parsedate_to_datetime(last_modified.decode("latin-1"))
    except (TypeError, ValueError):
        return False
    return modified <= since


# Headers a 304 keeps (RFC 9110 15.4.5); the body and its length go.
_KEPT = {b"etag", b"last-modified", b"cache-control", b"vary", b"date", b"expires"}


class ConditionalGetMiddleware(ASGIMiddleware):
    """Answers a GET whose If-None-Match / If-Modified-Since matches the response with 304."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") not in {"GET", "HEAD"}:
            await next_app(scope, receive, send)
            return
        request = {name.lower(): value for name, value in scope.get("headers", [])}
        if b"if-none-match" not in request and b"if-modified-since" not in request:
            await next_app(scope, receive, send)
            return
        swallowing = False

        async def conditional_send(message: Message) -> None:
            nonlocal swallowing
            if message["type"] == "http.response.start" and message["status"] == 200:
                response = {name.lower(): value for name, value in message.get("headers", [])}
                if _not_modified(request, response):
                    swallowing = True
                    kept: Any = [(n, v) for n, v in message["headers"] if n.lower() in _KEPT]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            if swallowing:
                return  # the file's body, unsent
            await send(message)

        await next_app(scope, receive, conditional_send)
