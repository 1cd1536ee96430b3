"""Webhook signatures and target checks.

Receivers verify a delivery with the endpoint's secret:

    expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    hmac.compare_digest(expected, request.headers["X-Registry-Signature-256"])

and drop repeats by the `Idempotency-Key` header (the outbox message id), since a delivery
whose 2xx answer was lost in a crash is sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from registry.errors import InvalidInput

SIGNATURE_HEADER = "X-Registry-Signature-256"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-Registry-Event"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does (constant-time comparison)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def check_url(url: str, *, allow_private: bool, field: str = "url") -> str:
    """An http(s) URL with a host; loopback/private literal addresses only when allowed.

    Host names are not resolved here (that would make the check depend on DNS at the time
    of the request); an operator who needs that protection puts an egress proxy in front.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            "the URL must start with http:// or https:// and name a host", field=field
        )
    if parts.username or parts.password:
        raise InvalidInput("the URL must not carry credentials", field=field)
    if not allow_private:
        if parts.scheme != "https":
            raise InvalidInput("webhooks must use https://", field=field)
        host = parts.hostname.lower()
        if host == "localhost" or host.endswith(".localhost"):
            raise InvalidInput("webhooks to this machine are not allowed", field=field)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and not address.is_global:
            raise InvalidInput(
                "webhooks to private or loopback addresses are not allowed", field=field
            )
    return url.strip()
