"""Opening the upstream connection on behalf of a client, with the client's own credentials."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.datastructures import Headers
from websockets.typing import Subprotocol

from rtrec.dial import Endpoint, dial, url_from_parts
from rtrec.errors import ConfigError
from rtrec.recorder.target import BadTarget, split_origin_form

# Headers that belong to one hop of the connection, not to the session.
HOP_BY_HOP = frozenset(
    {
        "host",
        "connection",
        "upgrade",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "content-length",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
        "x-rtrec-auth",  # the relay's own access token, not the upstream's business
    }
)
# Cookies belong to an origin: a browser sends the relay's own (localhost's, shared by
# every local dev server) and an upstream's Set-Cookie names the upstream's.  Neither
# means anything on the other side of the relay, so neither crosses it.
NOT_FORWARDED = HOP_BY_HOP | {"cookie"}
RESPONSE_NOT_FORWARDED = HOP_BY_HOP | {"date", "server", "set-cookie"}


@dataclass(frozen=True)
class UpstreamTarget:
    """Where sessions go: an endpoint (scheme, host, port) and an optional path prefix."""

    endpoint: Endpoint
    prefix: str = ""

    @classmethod
    def parse(cls, url: str, flag: str = "--upstream") -> UpstreamTarget:
        try:
            endpoint = Endpoint.from_url(url)
        except ValueError as exc:
            raise ConfigError(f"bad {flag} {url!r}: {exc}") from exc
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise ConfigError(f"bad {flag} {url!r}: no query or fragment, the client's is used")
        prefix = parts.path.rstrip("/")
        if prefix:
            try:
                split_origin_form(prefix)
            except BadTarget as exc:
                raise ConfigError(f"bad {flag} {url!r}: {exc}") from exc
        return cls(endpoint, prefix)

    @property
    def origin(self) -> str:
        return self.endpoint.origin

    @property
    def host(self) -> str:
        return self.endpoint.host

    def url_for(self, path: str, query: str) -> str:
        """The upstream URL for a client's origin-form path and query, built from parts."""
        return url_from_parts(self.endpoint, self.prefix + path, query)

    @property
    def is_loopback(self) -> bool:
        return self.endpoint.is_loopback


def forwarded_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's handshake headers that go upstream: all but hop-by-hop ones and cookies."""
    return [(name, value) for name, value in headers if name.lower() not in NOT_FORWARDED]


def offered_subprotocols(headers: Headers) -> list[Subprotocol]:
    offered: list[Subprotocol] = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        offered.extend(Subprotocol(p.strip()) for p in value.split(",") if p.strip())
    return offered


def client_wants_compression(headers: Headers) -> bool:
    return any(
        "permessage-deflate" in value.lower()
        for value in headers.get_all("Sec-WebSocket-Extensions")
    )


def model_from_query(query: str) -> str | None:
    """OpenAI names the model in `model=`; Azure names a deployment."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    return params.get("model") or params.get("deployment") or None


async def open_upstream(
    target: UpstreamTarget,
    url: str,
    headers: list[tuple[str, str]],
    subprotocols: list[Subprotocol],
    *,
    compression: bool,
    max_size: int,
    open_timeout: float,
) -> ClientConnection:
    """Dial `url`, which `dial` checks is `target`'s endpoint; redirects are not followed."""
    return await dial(
        url,
        target.endpoint,
        additional_headers=headers,
        subprotocols=subprotocols or None,
        # Off unless the client asked for it: deflate costs CPU on every audio frame.
        compression="deflate" if compression else None,
        max_size=max_size,
        open_timeout=open_timeout,
        user_agent_header=None,  # the client's own User-Agent is forwarded
    )
