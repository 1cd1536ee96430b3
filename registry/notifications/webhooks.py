"""Webhook signatures and target checks.

Receivers verify a delivery with the endpoint's secret:

    expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    hmac.compare_digest(expected, request.headers["X-Registry-Signature-256"])

and drop repeats by the `Idempotency-Key` header (the outbox message id), since a delivery
whose 2xx answer was lost in a crash is sent again.

Targets (unless `webhook_allow_private`): https only, and never an address of this machine or
of a private network, in any notation (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`,
`[::ffff:127.0.0.1]`, 6to4/NAT64/Teredo wrappings, `localhost.`...). The URL is checked when
the endpoint is saved (`check_target`: syntax, then every address its name resolves to), and
again at every delivery at the moment of connecting: `client()` gives an httpx client whose
network layer resolves the name once, refuses the connection if any address is forbidden and
connects to exactly the addresses it checked (no DNS rebinding between check and connect),
while the Host header and the TLS SNI and certificate check keep the name. Redirects are
never followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

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


# An async resolver: (host, port) -> the IP addresses (text) the name stands for.
Resolver = Callable[[str, int], Awaitable[list[str]]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# What inet_aton (and so getaddrinfo) reads as an IPv4 address: 127.1, 0x7f000001, 2130706433,
# 0177.0.0.1... A DNS label cannot be all hex digits with dots and an "x", so no name is lost.
_LEGACY_IPV4 = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}$")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class TargetRefused(Exception):
    """A webhook target resolved to an address deliveries must not reach."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (getaddrinfo, in asyncio's worker threads)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    found: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in found:
            found.append(address)
    return found


def literal_address(host: str) -> Address | None:
    """The host as an IP address when it is one in any notation the resolver accepts."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64): the packets may
    end up there."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if any(address in network for network in _NAT64):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    # IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks).
    if int(address) >> 32 == 0 and int(address) > 1:
        found.append(ipaddress.IPv4Address(int(address)))
    return found


def refusal(address: Address) -> str | None:
    """Why deliveries must not reach this address, or None when it is a public one."""
    for inner in _embedded_ipv4(address):
        reason = refusal(inner)
        if reason is not None:
            return f"{reason} (inside {address})"
    if address.is_loopback or address.is_unspecified:
        return f"{address} is this machine"
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_multicast:
        return f"{address} is a multicast address"
    if address.is_private or address.is_reserved or not address.is_global:
        return f"{address} is a private or reserved address"
    return None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def check_url(url: str, *, allow_private: bool, field: str = "url") -> str:
    """An http(s) URL with a host; without `allow_private`: https, and no name or literal
    address (in any notation) of this machine or of a private network.

    Names are resolved by `check_target` and, at every delivery, by the client's network
    layer; this check alone needs no DNS.
    """
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError as error:
        raise InvalidInput("the URL has an invalid port", field=field) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            "the URL must start with http:// or https:// and name a host", field=field
        )
    if parts.username or parts.password:
        raise InvalidInput("the URL must not carry credentials", field=field)
    if not allow_private:
        if parts.scheme != "https":
            raise InvalidInput("webhooks must use https://", field=field)
        host = parts.hostname.rstrip(".").lower()
        if not host or host == "localhost" or host.endswith(".localhost"):
            raise InvalidInput("webhooks to this machine are not allowed", field=field)
        address = literal_address(host)
        if address is not None:
            reason = refusal(address)
            if reason is not None:
                raise InvalidInput(f"webhook target not allowed: {reason}", field=field)
    return url.strip()


async def vet_host(
    host: str, port: int, resolver: Resolver | None = None, *, allow_private: bool = False
) -> list[str]:
    """The addresses to connect to for host:port, every one of them checked.

    Raises TargetRefused when any address is forbidden (a name that also points inside is
    not a public receiver), OSError when the name does not resolve.
    """
    literal = literal_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        addresses = await (resolver or system_resolver)(host, port)
    if not addresses:
        raise OSError(f"{host} has no address")
    if not allow_private:
        for text in addresses:
            try:
                reason = refusal(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError:
                reason = f"{text!r} is not an IP address"
            if reason is not None:
                raise TargetRefused(f"{host} resolves to {reason}")
    return addresses


async def check_target(
    url: str, *, allow_private: bool, resolver: Resolver | None = None, field: str = "url"
) -> str:
    """`check_url`, then (without `allow_private`) the name resolved now: every address it
    gives must be a public one. For saving an endpoint; deliveries check again."""
    url = check_url(url, allow_private=allow_private, field=field)
    if allow_private:
        return url
    parts = urlsplit(url)
    try:
        await vet_host(parts.hostname or "", parts.port or 443, resolver)
    except TargetRefused as error:
        raise InvalidInput(f"webhook target not allowed: {error}", field=field) from error
    except OSError as error:
        raise InvalidInput(
            f"the host name {parts.hostname} does not resolve: {error}", field=field
        ) from error
    return url


class VettedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer with the target check where the socket is opened: the name is
    resolved once, every address checked, and only those addresses are dialled. httpcore still
    uses the name for the Host header, the TLS SNI and the certificate check."""

    def __init__(self, resolver: Resolver | None = None, *, allow_private: bool = False) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._resolver = resolver
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(
                vet_host(host, port, self._resolver, allow_private=self._allow_private), timeout
            )
        except (OSError, TimeoutError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are delivered over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _VettedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: VettedBackend, verify: ssl.SSLContext | bool) -> None:
        super().__init__(verify=verify, trust_env=False)
        context = verify if isinstance(verify, ssl.SSLContext) else None
        if context is None:
            context = httpx.create_ssl_context(verify=verify, trust_env=False)
        # httpx (<1) has no public switch for the network backend (encode/httpx#3749): the
        # pool is replaced by one with the same TLS context and our backend.
        # tests/test_outbox.py proves the pinning end to end, so an httpx change that
        # breaks this fails there.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=backend,
        )


def client(
    *,
    timeout: float,
    allow_private: bool,
    resolver: Resolver | None = None,
    verify: ssl.SSLContext | bool = True,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """The HTTP client deliveries use: targets checked at connect time, no redirects, no
    proxy from the environment (a proxy would connect on our behalf, unchecked)."""
    transport = _VettedTransport(VettedBackend(resolver, allow_private=allow_private), verify)
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers=headers,
    )
