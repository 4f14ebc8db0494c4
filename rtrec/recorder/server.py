"""The relay's listener: accepts clients, opens their upstream connection, records each session.

The upstream connection is opened while the client's handshake is still pending
(`process_request`), so an upstream refusal reaches the client as the same HTTP
status, and the subprotocol the upstream picked is the one the client gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from rtrec.net import UNREACHABLE, unreachable_reason
from rtrec.recorder.access import (
    TOKEN_HEADER,
    TOKEN_QUERY,
    AccessPolicy,
    strip_token_from_query,
    upstream_key_header,
)
from rtrec.recorder.relay import relay_session
from rtrec.recorder.status import StatusBoard
from rtrec.recorder.upstream import (
    RESPONSE_NOT_FORWARDED,
    UpstreamTarget,
    client_wants_compression,
    forwarded_headers,
    model_from_query,
    offered_subprotocols,
    open_upstream,
)
from rtrec.recorder.writer_link import WriterLink
from rtrec.secrets import redact_headers, redact_query, request_secrets, scrub_frame
from rtrec.store.session import LiveSession

DEFAULT_MAX_FRAME = 32 * 1024 * 1024  # the API accepts 15 MiB audio appends


@dataclass(frozen=True)
class RelayConfig:
    upstream: UpstreamTarget
    host: str = "127.0.0.1"
    port: int = 8765
    max_frame: int = DEFAULT_MAX_FRAME
    open_timeout: float = 10.0
    source: str = "record"
    access: AccessPolicy = field(default_factory=AccessPolicy)
    # A key the relay adds itself (--api-key-env), so clients never hold it.
    upstream_key: str | None = field(default=None, repr=False)
    redact: tuple[re.Pattern[str], ...] = ()


class RelayServer:
    def __init__(self, config: RelayConfig, writer: WriterLink, status: StatusBoard) -> None:
        self.config = config
        self.writer = writer
        self.status = status
        self.stop = asyncio.Event()
        self.active: set[LiveSession] = set()
        self._claimable: dict[ServerConnection, tuple[ClientConnection, LiveSession]] = {}
        self._server: Server | None = None

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
        )

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        host = self.config.host
        host = f"[{host}]" if ":" in host else host
        return f"ws://{host}:{self.port}"

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
        path, _, query = request.path.partition("?")
        host, port = connection.remote_address[:2]
        if not self.config.access.allows(request.headers.get(TOKEN_HEADER), query):
            self.status.note(f"refused a client from {host}:{port}: missing or wrong relay token")
            return connection.respond(
                401,
                f"rtrec: this relay needs its token ({TOKEN_HEADER} header "
                f"or {TOKEN_QUERY} query parameter)\n",
            )
        query = strip_token_from_query(query)
        upstream_path = f"{path}?{query}" if query else path
        raw_headers = list(request.headers.raw_items())
        offered = offered_subprotocols(request.headers)
        secrets = request_secrets(raw_headers, offered, query)
        headers_out = forwarded_headers(raw_headers)
        if self.config.upstream_key is not None:
            secrets |= {self.config.upstream_key}
            headers_out = [
                (name, value)
                for name, value in headers_out
                if name.lower() not in ("authorization", "api-key")
            ]
            headers_out.append(
                upstream_key_header(self.config.upstream.origin, self.config.upstream_key)
            )
        session = LiveSession(
            source=self.config.source,
            upstream=self.config.upstream.origin + self.config.upstream.prefix,
            path=path,
            query=redact_query(query),
            model=model_from_query(query),
            client_addr=f"{host}:{port}",
            request_headers=redact_headers(raw_headers),
            secrets=secrets,
            redact=self.config.redact,
        )
        self.writer.open_session(session)
        try:
            upstream = await open_upstream(
                self.config.upstream,
                upstream_path,
                headers_out,
                offered,
                compression=client_wants_compression(request.headers),
                max_size=self.config.max_frame,
                open_timeout=self.config.open_timeout,
            )
        except InvalidStatus as exc:
            return self._refused(connection, session, exc.response)
        except UNREACHABLE as exc:
            reason = unreachable_reason(exc)
            session.refused_status = 502
            session.error = f"cannot reach upstream: {reason}"
            self._end_unclaimed(session, "upstream_refused")
            self.status.note(f"session {session.uuid[:8]}: {session.error}")
            return connection.respond(
                502, f"rtrec: cannot reach upstream {self.config.upstream.origin}: {reason}\n"
            )
        session.subprotocol = upstream.subprotocol
        if upstream.response is not None:
            session.response_headers = redact_headers(upstream.response.headers.raw_items())
        self._claimable[connection] = (upstream, session)
        asyncio.get_running_loop().create_task(self._reap_if_unclaimed(connection))
        return None

    def _select_subprotocol(
        self, connection: ServerConnection, offered: list[Subprotocol]
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
