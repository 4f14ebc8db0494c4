"""`rtrec replay --serve`: a WebSocket server of the recording's protocol that plays it back.

Any path and query are accepted (`/v1/realtime?model=…`, Azure's
`/openai/realtime?…`), any credentials, and the `realtime` subprotocol is selected
when the client offers it, so a client configured for the real API only needs its
base URL changed.  Each client gets its own replay, from the start.

The door is the same as the relay's (rtrec.access, rtrec.listener): loopback by
default, a token (or an explicit opt-out) on any other address, `GET /healthz`,
one rate-limited line per bad handshake, and TLS with `tls`.

Without `loop`, the server serves the clients that connect while a replay is
running and finishes when the last of them is done (`finished` is set); later
clients are refused with HTTP 503.  With `loop`, it serves every client that
connects until it is stopped.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from types import TracebackType

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from rtrec.access import TOKEN_HEADER, TOKEN_QUERY, AccessPolicy
from rtrec.errors import ConfigError
from rtrec.handshake import DEFAULT_MAX_FRAME
from rtrec.listener import client_url, health_response, serve_options
from rtrec.notices import RateLimitedNotes
from rtrec.replay.cues import close_reason
from rtrec.replay.session import ClientReplay, ClientReport, ReplayOptions
from rtrec.replay.source import ReplaySource

MAX_REPORTS = 10_000
STOPPED_CODE = 1001
STOPPED_REASON = "rtrec replay stopped"


class ReplayServer:
    def __init__(
        self,
        source: ReplaySource,
        options: ReplayOptions | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        loop: bool = False,
        log: Callable[[str], None] | None = None,
        access: AccessPolicy | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.source = source
        self.options = options or ReplayOptions()
        self.host = host
        self.requested_port = port
        self.loop = loop
        # The latest clients' reports; bounded, so a --loop server can run for ever.
        self.reports: deque[ClientReport] = deque(maxlen=MAX_REPORTS)
        self.finished = asyncio.Event()
        self._log = log or (lambda line: None)
        self.access = access or AccessPolicy()
        self.tls = tls
        self._refusals = RateLimitedNotes(self._log)
        self._active = 0
        self._server: Server | None = None

    async def start(self) -> ReplayServer:
        """Bind and listen; ConfigError when the address cannot be used."""
        try:
            self._server = await serve(
                self._handle,
                self.host,
                self.requested_port,
                process_request=self._process_request,
                select_subprotocol=_select_subprotocol,
                compression=None,  # deflating audio costs CPU and is not what we replay
                max_size=DEFAULT_MAX_FRAME,
                ssl=self.tls,
                **serve_options(self._refusals),
            )
        except OSError as exc:
            where = f"{self.host}:{self.requested_port}"
            raise ConfigError(f"cannot listen on {where}: {exc.strerror or exc}") from exc
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        """ws://HOST:PORT/v1 — what the openai SDK takes as websocket_base_url.

        wss:// with TLS; a wildcard address (0.0.0.0, ::) is shown as loopback.
        """
        return client_url("wss" if self.tls is not None else "ws", self.host, self.port, "/v1")

    async def stop(self) -> None:
        """Stop listening and close every client (1001)."""
        if self._server is None:
            return
        self._server.close(close_connections=False)
        await asyncio.gather(
            *(ws.close(STOPPED_CODE, STOPPED_REASON) for ws in self._server.connections),
            return_exceptions=True,
        )
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> ReplayServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        health = health_response(connection, request)
        if health is not None:
            return health
        query = request.path.partition("?")[2]
        if not self.access.allows(request.headers.get(TOKEN_HEADER), query):
            host, port = connection.remote_address[:2]
            self._refusals.note(f"refused a client from {host}:{port}: missing or wrong token")
            return connection.respond(
                401,
                f"rtrec replay: this server needs its token ({TOKEN_HEADER} header "
                f"or {TOKEN_QUERY} query parameter)\n",
            )
        if not self.loop and self.finished.is_set():
            return connection.respond(
                503, "rtrec replay: this replay has finished (use --loop to serve every client)\n"
            )
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self._active += 1
        replay = ClientReplay(ws, self.source, self.options)
        report = replay.report
        self.reports.append(report)
        self._log(f"client {report.peer} connected to {report.path}")
        try:
            await replay.run()
            self._log(f"client {report.peer}: {report.summary()}")
        except Exception as exc:  # one client's failure (a database gone) spares the others
            self._log(f"client {report.peer}: replay failed: {exc}")
            await ws.close(1011, close_reason(f"rtrec replay failed: {exc}"))
        finally:
            self._active -= 1
            if not self.loop and self._active == 0:
                self.finished.set()


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    return Subprotocol("realtime") if "realtime" in offered else None
