"""A WebSocket handshake as rtrec reads it: who may see which header, the subprotocols a
client offers, the model its query names, and the largest frame a connection takes.

Shared by the relay (rtrec/recorder), `replay --to` and `replay --serve` (rtrec/replay)
and the simulator (rtrec/sim), so none of them imports another for these rules.
Pure: no I/O, and no websockets import (its `Headers` fits `HeaderLookup`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import parse_qsl

from rtrec.secrets import INSECURE_SUBPROTOCOL_PREFIX

# The largest frame rtrec accepts from either side: the API takes 15 MiB audio appends.
DEFAULT_MAX_FRAME = 32 * 1024 * 1024

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


class HeaderLookup(Protocol):
    """A handshake's headers, as websockets' `Headers` offers them."""

    def get_all(self, key: str) -> list[str]: ...


def forwarded_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's handshake headers that go upstream: all but hop-by-hop ones and cookies."""
    return [(name, value) for name, value in headers if name.lower() not in NOT_FORWARDED]


def _split_subprotocols(values: Iterable[str]) -> list[str]:
    return [p.strip() for value in values for p in value.split(",") if p.strip()]


def offered_subprotocols(headers: HeaderLookup) -> list[str]:
    """Every subprotocol a client offers, in order, from all its Sec-WebSocket-Protocol lines."""
    return _split_subprotocols(headers.get_all("Sec-WebSocket-Protocol"))


def recorded_subprotocols(request_headers: Mapping[str, str]) -> list[str]:
    """A recorded client's subprotocols to offer again: not those that carried its key.

    `request_headers` is a session's recorded (lower-cased, redacted) request headers.
    """
    offered = _split_subprotocols([request_headers.get("sec-websocket-protocol", "")])
    return [p for p in offered if not p.startswith(INSECURE_SUBPROTOCOL_PREFIX)]


def client_wants_compression(headers: HeaderLookup) -> bool:
    return any(
        "permessage-deflate" in value.lower()
        for value in headers.get_all("Sec-WebSocket-Extensions")
    )


def model_from_query(query: str) -> str | None:
    """OpenAI names the model in `model=`; Azure names a deployment."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    return params.get("model") or params.get("deployment") or None
