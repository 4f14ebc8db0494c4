"""Playing a session to a local sink (the terminal view, or JSONL) on its timeline.

Each event is due at `origin + offset`, where the origin is taken once, when the
first event is ready, and the offset comes from the pure Timeline: one origin for
the whole replay, so a slow write delays one event, never the ones after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TextIO

from rtrec.jsonl import encode_line
from rtrec.replay.clock import now_ns, sleep_until
from rtrec.replay.feed import Feed
from rtrec.replay.source import ReplaySource
from rtrec.replay.terminal import TerminalView
from rtrec.replay.timeline import Timeline
from rtrec.store.reader import RecordedFrame


class Sink(Protocol):
    def emit(self, frame: RecordedFrame) -> None: ...

    def finish(self) -> None: ...


class JsonlSink:
    """The lines of `rtrec export`, flushed one by one."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def emit(self, frame: RecordedFrame) -> None:
        self.out.write(encode_line(frame.t_ns, frame.direction, frame.frame) + "\n")
        self.out.flush()

    def finish(self) -> None:
        self.out.flush()


class TerminalSink:
    """The readable view, flushed as it grows."""

    def __init__(
        self, out: TextIO, view: TerminalView, on_finish: Callable[[], None] | None = None
    ) -> None:
        self.out = out
        self.view = view
        self._on_finish = on_finish

    def emit(self, frame: RecordedFrame) -> None:
        text = self.view.feed(frame)
        if text:
            self.out.write(text)
            self.out.flush()

    def finish(self) -> None:
        try:
            self.out.write(self.view.finish())
            self.out.flush()
        finally:
            if self._on_finish is not None:
                self._on_finish()


async def play(
    source: ReplaySource,
    sink: Sink,
    *,
    speed: float = 1.0,
    idle_limit_s: float | None = None,
    on_emitted: Callable[[RecordedFrame, int], None] | None = None,
) -> int:
    """Emit the selected frames on their timeline; returns how many were emitted.

    `on_emitted(frame, due_ns)` is called right after each emission (for measuring).
    """
    timeline = Timeline(speed, idle_limit_s)
    conn = source.connect()
    emitted = 0
    origin_ns: int | None = None
    try:
        feed = Feed(source.window_reader(conn))
        while (frame := feed.next()) is not None:
            offset_ns = timeline.offset_ns(frame.t_ns)
            if origin_ns is None:
                origin_ns = now_ns()
            due_ns = origin_ns + offset_ns
            feed.top_up(due_ns)
            await sleep_until(due_ns)
            sink.emit(frame)
            emitted += 1
            if on_emitted is not None:
                on_emitted(frame, due_ns)
    finally:
        conn.close()
    sink.finish()
    return emitted
