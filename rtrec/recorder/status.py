"""The live status lines on stderr: one per session, redrawn in place on a terminal.

On anything that is not a terminal it stays quiet, apart from notes (refusals,
database trouble) that a person should see in a log as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import TextIO

from rtrec.store.session import LiveSession
from rtrec.timefmt import format_duration, plural

_CLEAR_TO_END = "\x1b[J"


def _up(lines: int) -> str:
    return f"\x1b[{lines}F" if lines else ""


def session_line(session: LiveSession, now_ns: int | None = None) -> str:
    elapsed_s = ((now_ns or time.monotonic_ns()) - session.t0_ns) / 1e9
    model = session.model or "?"
    return (
        f"{session.uuid[:8]} {model}  {plural(session.next_seq, 'event', grouped=True)}  "
        f"in {session.audio_in_ms / 1000:.1f} s  out {session.audio_out_ms / 1000:.1f} s  "
        f"{format_duration(elapsed_s)}"
    )


class StatusBoard:
    def __init__(
        self, stream: TextIO | None = None, interval: float = 0.5, live: bool | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.live = is_tty if live is None else live
        self._sessions: list[LiveSession] = []
        self._drawn = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.live:
            self._task = asyncio.get_running_loop().create_task(self._redraw_loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._redraw()

    def started(self, session: LiveSession) -> None:
        self._sessions.append(session)

    def ended(self, session: LiveSession) -> None:
        if session in self._sessions:
            self._sessions.remove(session)
        if self.live:
            self._print_above(f"{session_line(session)}  ended: {session.end_reason}")

    def note(self, message: str) -> None:
        """A line worth keeping, terminal or not."""
        if self.live:
            self._print_above(f"rtrec: {message}")
        else:
            print(f"rtrec: {message}", file=self.stream, flush=True)

    def _print_above(self, line: str) -> None:
        self.stream.write(_up(self._drawn) + _CLEAR_TO_END + line + "\n")
        self._drawn = 0
        self._redraw()

    def _redraw(self) -> None:
        now = time.monotonic_ns()
        block = "".join("● " + session_line(s, now) + "\n" for s in self._sessions)
        self.stream.write(_up(self._drawn) + _CLEAR_TO_END + block)
        self.stream.flush()
        self._drawn = len(self._sessions)

    async def _redraw_loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self._redraw()
