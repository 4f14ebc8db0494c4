"""A running recorder: writer process, relay and status board, started and stopped together.

How the two processes share the work is told in rtrec/capture/writer_link.py.
"""

from __future__ import annotations

import re
import ssl
import sys
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TextIO

from rtrec.access import AccessPolicy
from rtrec.capture.writer_link import WriterLink
from rtrec.errors import ConfigError
from rtrec.handshake import DEFAULT_MAX_FRAME
from rtrec.recorder.routing import Routes
from rtrec.recorder.server import RelayConfig, RelayServer
from rtrec.recorder.status import StatusBoard
from rtrec.store.handoff import (
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_MAX_PENDING_BYTES,
    DEFAULT_SPILL_MAX_BYTES,
    DEFAULT_SPILL_RESERVE_BYTES,
)
from rtrec.store.session import LiveSession


class Recorder:
    """`async with Recorder(db, ...) as rec:` relays and records until the block ends.

    Leaving the block ends every open session as relay_stopped (close 1001 to both
    sides) and flushes everything to the database.

    `on_session_complete(session)` is called on the event loop once a session has
    ended, its end is committed and its projection (items, responses, turns…) holds
    all of it: the place to act on a finished call.  With `project=False` it is called
    once the end is committed.
    """

    def __init__(
        self,
        db_path: str,
        *,
        upstream: str | None = None,
        host: str = "127.0.0.1",
        port: int = 8765,
        max_frame: int = DEFAULT_MAX_FRAME,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        source: str = "record",
        status_stream: TextIO | None = None,
        live_status: bool | None = None,
        access: AccessPolicy | None = None,
        upstream_key: str | None = None,
        gemini_key: str | None = None,
        route_origins: Mapping[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
        redact: tuple[re.Pattern[str], ...] = (),
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        spill_max_bytes: int = DEFAULT_SPILL_MAX_BYTES,
        spill_reserve_bytes: int = DEFAULT_SPILL_RESERVE_BYTES,
        project: bool = True,
        on_session_complete: Callable[[LiveSession], None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.config = RelayConfig(
            # upstream=None routes by path; route_origins stands in for its hosts in tests.
            routes=Routes.configure(upstream, upstream_key, gemini_key, route_origins),
            host=host,
            port=port,
            max_frame=max_frame,
            source=source,
            access=access or AccessPolicy(),
            redact=redact,
            tls=tls,
        )
        self.flush_interval = flush_interval
        self.max_pending_bytes = max_pending_bytes
        self.spill_max_bytes = spill_max_bytes
        self.spill_reserve_bytes = spill_reserve_bytes
        self.status = StatusBoard(status_stream or sys.stderr, live=live_status)
        self.writer: WriterLink | None = None
        self.server: RelayServer | None = None
        # The writer process also keeps the projection tables (items, responses,
        # turns…) current while recording.
        self.project = project
        self.on_session_complete = on_session_complete

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    async def start(self) -> None:
        self.writer = WriterLink(
            self.db_path,
            flush_interval=self.flush_interval,
            max_pending_bytes=self.max_pending_bytes,
            spill_max_bytes=self.spill_max_bytes,
            spill_reserve_bytes=self.spill_reserve_bytes,
            project=self.project,
            warn=self.status.note,
            on_session_complete=self.on_session_complete,
        )
        # Creates or migrates the database, and recovers interrupted sessions, first.
        await self.writer.start()
        self.server = RelayServer(self.config, self.writer, self.status)
        try:
            await self.server.start()
        except OSError as exc:
            await self.stop()
            where = f"{self.config.host}:{self.config.port}"
            raise ConfigError(f"cannot listen on {where}: {exc.strerror or exc}") from exc
        self.status.start()

    async def stop(self) -> bool:
        """End all sessions and write everything; False if some events could not be written."""
        ok = True
        if self.server is not None:
            await self.server.shutdown()
        await self.status.stop()
        if self.writer is not None:
            # The writer process drains, runs a last projection pass (views complete)
            # and exits.  Sessions whose end could not be written stay open in the
            # database; with the recorder's lock gone the next open marks them
            # interrupted.
            ok = await self.writer.close()
        return ok

    async def __aenter__(self) -> Recorder:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
