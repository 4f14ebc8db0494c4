"""Dialling out: the one way rtrec opens a WebSocket connection to another server.

Every connection rtrec opens (the relay's upstream, `replay --to`, the demo's
scripted client) goes through `dial`:

- the destination is an `Endpoint` (scheme, host, port) taken from the operator's
  configuration, never from what a client sent;
- the URL is built from that endpoint and a path and query (`url_from_parts`), never
  by joining strings;
- just before dialling, the URL is parsed again with the parser websockets itself
  uses and compared with the endpoint; any difference (another host, another port,
  another scheme, userinfo) refuses the dial (`DialRefused`): it fails closed;
- redirects are never followed.  websockets' `connect` follows up to ten of them and,
  across origins, strips only `Authorization` and `Cookie`: an `api-key` or
  `x-goog-api-key` header would go along to wherever the redirect points.  Here a 3xx
  comes back as the `InvalidStatus` it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidURI
from websockets.uri import parse_uri

from rtrec.errors import RtrecError
from rtrec.net import is_loopback_host

DEFAULT_PORTS = {"ws": 80, "wss": 443}
REDIRECT_STATUSES = frozenset({300, 301, 302, 303, 307, 308})


class DialRefused(RtrecError):
    """The URL about to be dialled is not the configured endpoint; nothing was opened."""


@dataclass(frozen=True)
class Endpoint:
    """Where a connection may go: scheme, host (lower case, IPv6 unbracketed) and port."""

    secure: bool
    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        """The endpoint of a ws://, wss://, http:// or https:// URL; ValueError if it has none."""
        parts = urlsplit(url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme.lower(), parts.scheme.lower())
        if scheme not in DEFAULT_PORTS:
            raise ValueError("expected ws://HOST[:PORT] or wss://HOST[:PORT]")
        if parts.username is not None or parts.password is not None:
            raise ValueError("no user:password@ in the URL (keys go in headers)")
        host = parts.hostname
        if not host:
            raise ValueError("no host in it (expected ws://HOST[:PORT] or wss://HOST[:PORT])")
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise ValueError(f"bad host {host!r}") from exc
        port = parts.port  # raises ValueError for a bad port
        return cls(scheme == "wss", host, port if port is not None else DEFAULT_PORTS[scheme])

    @property
    def scheme(self) -> str:
        return "wss" if self.secure else "ws"

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        """scheme://host[:port], the port left out when it is the scheme's default."""
        return f"{self.scheme}://{self.netloc}"

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)


def url_from_parts(endpoint: Endpoint, path: str, query: str = "") -> str:
    """The URL to dial: the endpoint's scheme and authority, then `path` and `query`.

    `path` must start with a single `/` (callers check a client's target first), so
    nothing in it can end up in the authority.
    """
    if not path.startswith("/") or path.startswith("//"):
        raise DialRefused(f"refusing to dial a path that does not start with one '/': {path!r}")
    return urlunsplit((endpoint.scheme, endpoint.netloc, path, query, ""))


def check_dial(url: str, endpoint: Endpoint) -> None:
    """DialRefused unless websockets would dial exactly `endpoint` for `url`."""
    try:
        parsed = parse_uri(url)
    except InvalidURI as exc:
        raise DialRefused(f"refusing to dial {endpoint.origin}: {exc}") from exc
    dialled = Endpoint(parsed.secure, parsed.host.lower(), parsed.port)
    if dialled != endpoint or parsed.username is not None or parsed.password is not None:
        raise DialRefused(
            f"refusing to dial {dialled.origin}: the configured endpoint is {endpoint.origin}"
        )


class _NoRedirects(connect):
    """websockets' connect, with redirects answered as the refusals they are."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


async def dial(url: str, endpoint: Endpoint, **options: Any) -> ClientConnection:
    """Open a WebSocket connection to `url`, which must point at `endpoint`.

    `options` are websockets' `connect` options.  Loopback is never reached through a
    proxy; elsewhere the environment's proxy settings are honoured (the proxy is told
    the same host and port).
    """
    check_dial(url, endpoint)
    options.setdefault("proxy", None if endpoint.is_loopback else True)
    return await _NoRedirects(url, **options)
