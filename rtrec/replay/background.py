"""A replay server on a thread of its own, for code that is not async (pytest fixtures).

The server runs its own event loop, so it keeps time whatever the caller's thread
does, and any client can use it: async or sync, in any event loop, or none.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from rtrec.aio import run
from rtrec.replay.server import ReplayServer
from rtrec.replay.session import ClientReport, ReplayOptions
from rtrec.replay.source import ReplaySource

START_TIMEOUT_S = 30.0


class BackgroundReplayServer:
    """`with BackgroundReplayServer(source) as server: server.url` (serves every client)."""

    def __init__(
        self,
        source: ReplaySource,
        options: ReplayOptions | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.source = source
        self.options = options or ReplayOptions()
        self.host = host
        self.port = port
        self.url = ""
        self._server: ReplayServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    @property
    def reports(self) -> list[ClientReport]:
        """One report per client so far (a copy; replays still running keep counting)."""
        return list(self._server.reports) if self._server is not None else []

    def start(self) -> str:
        self._thread = threading.Thread(target=self._run, name="rtrec-replay-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError("the replay server did not start")
        if self._error is not None:
            raise self._error
        return self.url

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> BackgroundReplayServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            run(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._server = ReplayServer(
            self.source, self.options, host=self.host, port=self.port, loop=True
        )
        await self._server.start()
        self.url = self._server.url
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._server.stop()
