"""A running recorder: database, writer, relay and status board, started and stopped together."""

from __future__ import annotations

import asyncio
import re
import ssl
import sys
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TextIO

from rtrec.access import AccessPolicy
from rtrec.errors import ConfigError
from rtrec.recorder.follower import ProjectionFollower
from rtrec.recorder.routing import Routes
from rtrec.recorder.server import DEFAULT_MAX_FRAME, RelayConfig, RelayServer
from rtrec.recorder.status import StatusBoard
from rtrec.store.db import open_db
from rtrec.store.liveness import RecorderLock
from rtrec.store.spill import DEFAULT_SPILL_MAX_BYTES, DEFAULT_SPILL_RESERVE_BYTES
from rtrec.store.writer import DEFAULT_FLUSH_INTERVAL, DEFAULT_MAX_PENDING_BYTES, EventWriter


class Recorder:
    """`async with Recorder(db, ...) as rec:` relays and records until the block ends.

    Leaving the block ends every open session as relay_stopped (close 1001 to both
    sides) and flushes everything to the database.
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
        on_session_complete: Callable[[int], None] | None = None,
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
        self._lock: RecorderLock | None = None
        self.writer: EventWriter | None = None
        self.server: RelayServer | None = None
        # Keeps the projection tables (items, responses, turns…) current while recording.
        self.follower: ProjectionFollower | None = None
        self.project = project
        # Told each ended session's id once its views are complete (rtrec record --otel).
        self.on_session_complete = on_session_complete

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    async def start(self) -> None:
        open_db(self.db_path).close()  # create or migrate, recover interrupted sessions
        self._lock = RecorderLock(self.db_path)
        if self.project:
            loop = asyncio.get_running_loop()
            self.follower = ProjectionFollower(
                self.db_path,
                warn=lambda text: loop.call_soon_threadsafe(self.status.note, text),
                on_session_complete=self.on_session_complete,
            )
            self.follower.start()
        self.writer = EventWriter(
            self.db_path,
            recorder_id=self._lock.recorder_id,
            flush_interval=self.flush_interval,
            max_pending_bytes=self.max_pending_bytes,
            spill_max_bytes=self.spill_max_bytes,
            spill_reserve_bytes=self.spill_reserve_bytes,
            on_commit=self.follower.notify if self.follower is not None else None,
            warn=self.status.note,
        )
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
            ok = await self.writer.close()
        if self.follower is not None:
            await asyncio.to_thread(self.follower.stop)  # a last catch-up: views complete
        if self._lock is not None:
            # Sessions whose end could not be written stay open in the database; with
            # this lock gone the next open marks them interrupted.
            self._lock.release()
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
