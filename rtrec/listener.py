"""What rtrec's WebSocket servers (`record`, `replay --serve`) share at the door.

- `GET /healthz` answers 200 `ok` (no token needed, nothing else said), for health
  checks and load balancers.
- A request that is not a WebSocket upgrade gets a plain HTTP answer (426, or 400
  for a malformed handshake) from `upgrade_refusal`, before anything else happens.
- Bad handshakes (garbage, a TLS client on a plain port, a browser tab, a port scan)
  are one rate-limited warning line, never a traceback: `serve_options` gives
  websockets a connection class that reports them and a logger that turns its own
  error records into single lines.  Malformed HTTP gets `400 Bad Request` rather than
  a silent close.
- `client_url` is the address to print: never `0.0.0.0` or `::`, which no client
  can connect to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import (
    InvalidHandshake,
    InvalidMessage,
    InvalidStatus,
    InvalidUpgrade,
)
from websockets.http11 import Request, Response

from rtrec.notices import RateLimitedNotes

HEALTH_PATH = "/healthz"
_BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 36\r\nConnection: close\r\n\r\nrtrec: this is not an HTTP request.\n"
)
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def health_response(connection: ServerConnection, request: Request) -> Response | None:
    if request.path.partition("?")[0] != HEALTH_PATH:
        return None
    return connection.respond(200, "ok\n")


def upgrade_refusal(
    connection: ServerConnection, request: Request, what: str = "this server"
) -> Response | None:
    """A 426/400 answer unless `request` is a WebSocket upgrade websockets will accept.

    Checked with websockets' own handshake validation, so a request that passes here
    is one the handshake that follows accepts.
    """
    try:
        connection.protocol.process_request(request)
    except InvalidUpgrade as exc:
        response = connection.respond(
            426,
            f"rtrec: {what} serves WebSocket clients only ({exc}); "
            f"a health check is GET {HEALTH_PATH}\n",
        )
        response.headers["Upgrade"] = "websocket"
        return response
    except InvalidHandshake as exc:
        return connection.respond(400, f"rtrec: not a valid WebSocket handshake: {exc}\n")
    return None


def client_url(scheme: str, host: str, port: int, path: str = "") -> str:
    """The URL a client on this machine uses: a wildcard address becomes loopback."""
    shown = _WILDCARDS.get(host, host)
    shown = f"[{shown}]" if ":" in shown else shown
    return f"{scheme}://{shown}:{port}{path}"


def wildcard_note(host: str, port: int) -> str | None:
    """What to tell the user when the server listens on every address."""
    if host not in _WILDCARDS:
        return None
    family = "IPv6 (and often IPv4)" if ":" in host else "IPv4"
    return (
        f"listening on every {family} address of this machine (port {port}); "
        "from another machine, use this machine's own name or address"
    )


def describe(exc: BaseException) -> str:
    """One short line for a handshake failure and its cause, truncated."""
    text = f"{exc}"
    cause = exc.__cause__
    if cause is not None and str(cause):
        text = f"{text} ({cause})"
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= 160 else text[:157] + "..."


def serve_options(notes: RateLimitedNotes) -> dict[str, Any]:
    """`serve()` keyword arguments: the reporting connection class and a one-line logger."""
    return {"create_connection": _connection_class(notes), "logger": _one_line_logger(notes)}


def _peer(connection: ServerConnection) -> str:
    try:
        host, port = connection.remote_address[:2]
    except (TypeError, ValueError, OSError):
        return "a client"
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _connection_class(notes: RateLimitedNotes) -> type[ServerConnection]:
    class ReportingConnection(ServerConnection):
        _first_data = True
        _answered_bad_request = False

        async def handshake(self, *args: Any, **kwargs: Any) -> None:
            failure: BaseException | None
            try:
                await super().handshake(*args, **kwargs)
            except Exception as exc:  # websockets < 17 raises here, then logs a traceback
                failure = exc
            else:
                failure = self.protocol.handshake_exc
            if failure is None or isinstance(failure, InvalidStatus):
                return  # accepted, or refused by process_request (which said why)
            if self._first_data:
                return  # connected and left without a byte (a port probe): nothing to say
            notes.note(f"bad handshake from {_peer(self)}: {describe(failure)}")

        def data_received(self, data: bytes) -> None:
            if self._first_data and data:
                self._first_data = False
                if data[:2] == b"\x16\x03" and self.request is None:
                    notes.note(
                        f"bad handshake from {_peer(self)}: a TLS client on this plain "
                        "port (connect with ws://, or start rtrec with --tls-cert/--tls-key)"
                    )
                    self.transport.abort()
                    return
            ServerConnection.data_received(self, data)  # not super(): this runs per chunk

        def send_data(self) -> None:
            # websockets closes on malformed HTTP without a word; answer 400 first.
            if (
                self.request is None
                and not self._answered_bad_request
                and not self._first_data
                and isinstance(self.protocol.handshake_exc, InvalidMessage)
            ):
                self._answered_bad_request = True
                self.transport.write(_BAD_REQUEST)
            ServerConnection.send_data(self)

    return ReportingConnection


class _OneLineHandler(logging.Handler):
    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self._say = say

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = f"{text}: {type(exc).__name__}: {describe(exc)}"
        self._say(f"websockets: {text}")


def _one_line_logger(notes: RateLimitedNotes) -> logging.Logger:
    # Not registered with logging's manager: one per server, gone with it.
    logger = logging.Logger("rtrec.websockets", logging.WARNING)
    logger.propagate = False
    logger.addHandler(_OneLineHandler(notes.note))
    return logger
