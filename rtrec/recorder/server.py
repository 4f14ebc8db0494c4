"""The relay's listener: accepts clients, opens their upstream connection, records each session.

The upstream connection is opened while the client's handshake is still pending
(`process_request`), so an upstream refusal reaches the client as the same HTTP
status, and the subprotocol the upstream picked is the one the client gets.

Before anything is opened or recorded, a request must pass, in order: `/healthz`
(answered here), an origin-form target (400), the relay's token (401), a valid
WebSocket upgrade (426/400), and a route to an upstream (404).  Only then is a
session opened and the upstream dialled, at the endpoint the route names and
nowhere else (see rtrec.dial).  A redirect from the upstream is not followed: the
client gets 502.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from rtrec.access import TOKEN_HEADER, TOKEN_QUERY, AccessPolicy, strip_token_from_query
from rtrec.capture.session import Request as HandshakeRequest
from rtrec.capture.session import answered, new_session
from rtrec.capture.writer_link import WriterLink
from rtrec.dial import REDIRECT_STATUSES, DialRefused, check_dial
from rtrec.handshake import (
    DEFAULT_MAX_FRAME,
    RESPONSE_NOT_FORWARDED,
    client_wants_compression,
    forwarded_headers,
    offered_subprotocols,
)
from rtrec.listener import (
    client_url,
    health_response,
    serve_options,
    upgrade_refusal,
)
from rtrec.net import UNREACHABLE, unreachable_reason
from rtrec.notices import RateLimitedNotes
from rtrec.protocols import protocol_of_path
from rtrec.recorder.relay import relay_session
from rtrec.recorder.routing import NoRoute, Routes
from rtrec.recorder.status import StatusBoard
from rtrec.recorder.target import BadTarget, split_origin_form
from rtrec.recorder.upstream import open_upstream
from rtrec.secrets import redact_headers, scrub_frame
from rtrec.store.session import LiveSession


@dataclass(frozen=True)
class RelayConfig:
    # Where each path goes, with the keys the relay adds itself (--api-key-env,
    # --gemini-key-env), so clients never hold them.
    routes: Routes
    host: str = "127.0.0.1"
    port: int = 8765
    max_frame: int = DEFAULT_MAX_FRAME
    open_timeout: float = 10.0
    source: str = "record"
    access: AccessPolicy = field(default_factory=AccessPolicy)
    redact: tuple[re.Pattern[str], ...] = ()
    tls: ssl.SSLContext | None = None


class RelayServer:
    def __init__(self, config: RelayConfig, writer: WriterLink, status: StatusBoard) -> None:
        self.config = config
        self.writer = writer
        self.status = status
        self.stop = asyncio.Event()
        self.active: set[LiveSession] = set()
        self._claimable: dict[ServerConnection, tuple[ClientConnection, LiveSession]] = {}
        self._server: Server | None = None
        # Refusals a stranger can cause at will: at most a line a minute.
        self.refusals = RateLimitedNotes(status.note)

    async def start(self) -> None:
        """Bind and listen; raises OSError when the address cannot be used."""
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            process_response=self._process_response,
            select_subprotocol=self._select_subprotocol,
            max_size=self.config.max_frame,
            ssl=self.config.tls,
            **serve_options(self.refusals),
        )

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        """ws://HOST:PORT (wss:// with TLS), a wildcard address shown as loopback."""
        scheme = "wss" if self.config.tls is not None else "ws"
        return client_url(scheme, self.config.host, self.port)

    async def shutdown(self) -> None:
        """Close every session with 1001 on both sides (end reason relay_stopped)."""
        self.stop.set()
        if self._server is None:
            return
        self._server.close(close_connections=False)
        await self._server.wait_closed()
        for upstream, session in list(self._claimable.values()):
            await upstream.close()
            self._end_unclaimed(session, "relay_stopped")
        self._claimable.clear()

    # -- handshake ------------------------------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        health = health_response(connection, request)
        if health is not None:
            return health
        host, port = connection.remote_address[:2]
        try:
            path, query = split_origin_form(request.path)
        except BadTarget as exc:
            return self._refuse(connection, 400, f"{exc}", host, port)
        if not self.config.access.allows(request.headers.get(TOKEN_HEADER), query):
            self.refusals.note(f"refused a client from {host}:{port}: missing or wrong relay token")
            return connection.respond(
                401,
                f"rtrec: this relay needs its token ({TOKEN_HEADER} header "
                f"or {TOKEN_QUERY} query parameter)\n",
            )
        not_upgrade = upgrade_refusal(connection, request, "this relay")
        if not_upgrade is not None:
            self.refusals.note(
                f"refused a request from {host}:{port} that is not a WebSocket upgrade "
                f"({not_upgrade.status_code})"
            )
            return not_upgrade
        route = self.config.routes.route(path)
        if isinstance(route, NoRoute):
            return self._refuse(connection, 404, route.reason, host, port)
        query = strip_token_from_query(query)
        url = route.upstream.url_for(path, query)
        try:
            # dial() checks again; this check comes before a session is opened.
            check_dial(url, route.upstream.endpoint)
        except DialRefused as exc:
            return self._refuse(connection, 400, f"{exc}", host, port)
        raw_headers = list(request.headers.raw_items())
        offered = offered_subprotocols(request.headers)
        headers_out = route.headers(forwarded_headers(raw_headers))
        session = new_session(
            HandshakeRequest(path, query, raw_headers, offered),
            source=self.config.source,
            upstream=route.upstream.origin + route.upstream.prefix,
            protocol=protocol_of_path(path),
            client_addr=f"{host}:{port}",
            also_secret=[route.key] if route.key is not None else [],
            redact=self.config.redact,
        )
        self.writer.open_session(session)
        try:
            upstream = await open_upstream(
                route.upstream,
                url,
                headers_out,
                offered,
                compression=client_wants_compression(request.headers),
                max_size=self.config.max_frame,
                open_timeout=self.config.open_timeout,
            )
        except InvalidStatus as exc:
            if exc.response.status_code in REDIRECT_STATUSES:
                return self._redirected(connection, session, exc.response, route.upstream.origin)
            return self._refused(connection, session, exc.response)
        except (*UNREACHABLE, DialRefused) as exc:
            reason = unreachable_reason(exc)
            session.refused_status = 502
            session.error = f"cannot reach upstream: {reason}"
            self._end_unclaimed(session, "upstream_refused")
            self.status.note(f"session {session.uuid[:8]}: {session.error}")
            return connection.respond(
                502, f"rtrec: cannot reach upstream {route.upstream.origin}: {reason}\n"
            )
        answered(
            session,
            upstream.subprotocol,
            upstream.response.headers.raw_items() if upstream.response is not None else None,
        )
        self._claimable[connection] = (upstream, session)
        asyncio.get_running_loop().create_task(self._reap_if_unclaimed(connection))
        return None

    def _refuse(
        self, connection: ServerConnection, status: int, reason: str, host: str, port: int
    ) -> Response:
        """A refusal before anything was opened or recorded."""
        self.refusals.note(f"refused a client from {host}:{port} with {status}: {reason}")
        return connection.respond(status, f"rtrec: {reason}\n")

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        claim = self._claimable.get(connection)
        return claim[0].subprotocol if claim is not None else None

    def _process_response(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> None:
        claim = self._claimable.get(connection)
        if claim is None or claim[0].response is None:
            return
        for name, value in claim[0].response.headers.raw_items():
            if name.lower() not in RESPONSE_NOT_FORWARDED:
                response.headers[name] = value

    def _refused(
        self, connection: ServerConnection, session: LiveSession, upstream_response: Response
    ) -> Response:
        body = upstream_response.body or b""
        text = body.decode("utf-8", "replace")
        session.refused_status = upstream_response.status_code
        session.refused_body = scrub_frame(text, session.secrets) or text
        session.response_headers = redact_headers(upstream_response.headers.raw_items())
        self._end_unclaimed(session, "upstream_refused")
        self.status.note(
            f"session {session.uuid[:8]}: upstream refused with {upstream_response.status_code}"
        )
        headers = Headers(
            (name, value)
            for name, value in upstream_response.headers.raw_items()
            if name.lower() not in RESPONSE_NOT_FORWARDED
        )
        template = connection.respond(upstream_response.status_code, "")
        for name in ("Date", "Connection"):
            if name in template.headers:
                headers[name] = template.headers[name]
        headers["Content-Length"] = str(len(body))
        return dataclasses.replace(
            template,
            reason_phrase=upstream_response.reason_phrase or template.reason_phrase,
            headers=headers,
            body=body,
        )

    def _redirected(
        self,
        connection: ServerConnection,
        session: LiveSession,
        upstream_response: Response,
        origin: str,
    ) -> Response:
        """A 3xx from the upstream: not followed, and its Location not passed on."""
        status = upstream_response.status_code
        session.refused_status = status
        session.response_headers = redact_headers(upstream_response.headers.raw_items())
        session.error = f"upstream answered {status} (a redirect); rtrec does not follow redirects"
        self._end_unclaimed(session, "upstream_refused")
        self.status.note(f"session {session.uuid[:8]}: {session.error}")
        return connection.respond(
            502,
            f"rtrec: upstream {origin} answered {status} (a redirect), which rtrec does "
            "not follow\n",
        )

    def _end_unclaimed(self, session: LiveSession, reason: str) -> None:
        session.end(reason)
        self.writer.update_session(session)

    async def _reap_if_unclaimed(self, connection: ServerConnection) -> None:
        # A client that leaves during the handshake never reaches _handle.
        await connection.wait_closed()
        claim = self._claimable.pop(connection, None)
        if claim is not None:
            upstream, session = claim
            with contextlib.suppress(Exception):
                await upstream.close()
            session.client_close_code = connection.close_code
            self._end_unclaimed(session, "client_closed")

    # -- sessions ---------------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        claim = self._claimable.pop(connection, None)
        if claim is None:
            await connection.close(1011, "rtrec: no upstream connection for this client")
            return
        upstream, session = claim
        self.active.add(session)
        self.status.started(session)
        try:
            await relay_session(connection, upstream, session, self.writer, self.stop)
        finally:
            self.active.discard(session)
            # The writer counts a session's audio as it writes it: flush first, so the
            # session's last line shows all of it.
            await self.writer.flush()
            self.status.ended(session)
