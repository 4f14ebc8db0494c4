"""The simulated server: what `rtrec demo` and `rtrec sim` run, and the tests' upstream.

It routes each connection by its path to the protocol whose adapter claims it
(rtrec/sim/protocols.py): the Realtime API at any path ending in `/realtime` (OpenAI's
`/v1/realtime`, Azure's `/openai/realtime`), GPT-Live at `/v1/live/sessions`, Gemini
Live at `…BidiGenerateContent`; `protocols` limits which it serves.  Realtime speaks
GA, or beta when the client sends `OpenAI-Beta: realtime=v1` (as the real API did).
With `require_key` it checks the key the way the API does: `Authorization: Bearer`,
`api-key`, or the `openai-insecure-api-key.<key>` subprotocol.  For tests,
`?sim_status=429` makes it refuse the handshake with that status.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import TracebackType
from urllib.parse import parse_qs

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from rtrec.handshake import model_from_query, offered_subprotocols
from rtrec.protocols import protocol_of_path
from rtrec.sim.connection import SimConnection
from rtrec.sim.options import SimOptions
from rtrec.sim.protocols import SIM_PROTOCOLS, server_for

_INSECURE_KEY = "openai-insecure-api-key."


class Simulator:
    def __init__(
        self, options: SimOptions | None = None, protocols: tuple[str, ...] = SIM_PROTOCOLS
    ) -> None:
        self.options = options or SimOptions()
        self.protocols = protocols
        self._server: Server | None = None
        self.connections = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        self._server = await serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            max_size=None,
        )
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> Simulator:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path, _, query = request.path.partition("?")
        status = parse_qs(query).get("sim_status")
        if status:
            return _json_error(
                connection,
                int(status[0]),
                "simulated_refusal",
                f"Simulated refusal with status {status[0]}.",
            )
        if _protocol(path) not in self.protocols:
            return _json_error(connection, 404, "not_found", f"Invalid URL (GET {path})")
        if self.options.require_key is not None and not self._authorized(request):
            return _json_error(connection, 401, "invalid_api_key", "Incorrect API key provided.")
        return None

    def _authorized(self, request: Request) -> bool:
        key = self.options.require_key
        presented = {
            request.headers.get("Authorization", "").removeprefix("Bearer ").strip(),
            request.headers.get("api-key", ""),
        }
        presented.update(
            p[len(_INSECURE_KEY) :]
            for p in offered_subprotocols(request.headers)
            if p.startswith(_INSECURE_KEY)
        )
        return key in presented

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        return Subprotocol("realtime") if "realtime" in offered else None

    async def _handle(self, connection: ServerConnection) -> None:
        self.connections += 1
        request = connection.request
        assert request is not None
        protocol = _protocol(request.path.partition("?")[0])
        assert protocol is not None  # refused in _process_request otherwise
        await server_for(protocol)(connection, self.options)


def _protocol(path: str) -> str | None:
    if path.rstrip("/").endswith("/realtime"):
        return "realtime"
    return protocol_of_path(path)


async def serve_realtime(connection: ServerConnection, options: SimOptions) -> None:
    """One simulated Realtime session."""
    request = connection.request
    assert request is not None
    beta = options.protocol == "beta" or (
        options.protocol == "auto" and "realtime=v1" in request.headers.get("OpenAI-Beta", "")
    )
    model = model_from_query(request.path.partition("?")[2]) or options.model
    await SimConnection(connection, options, beta=beta, model=model).run()


def _json_error(connection: ServerConnection, status: int, code: str, message: str) -> Response:
    body = json.dumps(
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "code": code,
                "param": None,
            }
        }
    )
    response = connection.respond(status, body)
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response
