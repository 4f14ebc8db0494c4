"""Opening the upstream connection on behalf of a client, with the client's own credentials."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.datastructures import Headers
from websockets.typing import Subprotocol

from rtrec.errors import ConfigError
from rtrec.net import is_loopback_host

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
RESPONSE_NOT_FORWARDED = HOP_BY_HOP | {"date", "server"}

DEFAULT_UPSTREAM = "wss://api.openai.com"


@dataclass(frozen=True)
class UpstreamTarget:
    """Where sessions go: an origin and an optional path prefix."""

    origin: str  # scheme://host[:port]
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> UpstreamTarget:
        parts = urlsplit(url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        if scheme not in ("ws", "wss") or not parts.hostname:
            raise ConfigError(
                f"bad --upstream {url!r}: expected ws://HOST[:PORT] or wss://HOST[:PORT]"
            )
        try:
            _ = parts.port
        except ValueError as exc:
            raise ConfigError(f"bad --upstream {url!r}: {exc}") from exc
        if parts.query or parts.fragment:
            raise ConfigError(f"bad --upstream {url!r}: no query or fragment, the client's is used")
        return cls(f"{scheme}://{parts.netloc}", parts.path.rstrip("/"))

    def url_for(self, request_path: str) -> str:
        return self.origin + self.prefix + request_path

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(urlsplit(self.origin).hostname or "")


def forwarded_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's handshake headers that go upstream: all but the hop-by-hop ones."""
    return [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]


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
    request_path: str,
    headers: list[tuple[str, str]],
    subprotocols: list[Subprotocol],
    *,
    compression: bool,
    max_size: int,
    open_timeout: float,
) -> ClientConnection:
    return await connect(
        target.url_for(request_path),
        additional_headers=headers,
        subprotocols=subprotocols or None,
        # Off unless the client asked for it: deflate costs CPU on every audio frame.
        compression="deflate" if compression else None,
        max_size=max_size,
        open_timeout=open_timeout,
        user_agent_header=None,  # the client's own User-Agent is forwarded
        # Loopback never goes through a proxy; elsewhere honour the environment's.
        proxy=None if target.is_loopback else True,
    )
