"""Frames for a replay, read ahead in the slack before the next event is due.

Reads run on the event loop's own thread, in small windows (a few dozen rows, well
under a millisecond of work), and only while there is time to spare before the next
event's due time, or when nothing is left to play.  A worker thread would read in
parallel but hold the GIL for milliseconds at a time (sqlite rows, base64), delaying
the events it was meant to help; small windows on the one thread bound the worst
case to one window.  Memory holds at most `low_water` + one window of frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from rtrec.replay.clock import now_ns

T = TypeVar("T")

LOW_WATER = 256  # frames kept ready
READ_BUDGET_NS = 2_000_000  # read ahead only when the next event is further away than this


class Feed(Generic[T]):
    def __init__(
        self,
        read_window: Callable[[], list[T] | None],
        *,
        low_water: int = LOW_WATER,
        read_budget_ns: int = READ_BUDGET_NS,
    ) -> None:
        """`read_window()` returns the next frames, [] if it found none yet, None at the end."""
        self._read_window = read_window
        self._low_water = low_water
        self._budget_ns = read_budget_ns
        self._ready: deque[T] = deque()
        self._exhausted = False

    def next(self) -> T | None:
        """The next frame, reading if none is ready; None when the replay is over."""
        while not self._ready:
            if not self._read():
                return None
        return self._ready.popleft()

    def top_up(self, due_ns: int) -> None:
        """Read ahead while the next event (due at due_ns) leaves time to spare."""
        while (
            len(self._ready) < self._low_water
            and now_ns() + self._budget_ns < due_ns
            and self._read()
        ):
            pass

    def _read(self) -> bool:
        if self._exhausted:
            return False
        window = self._read_window()
        if window is None:
            self._exhausted = True
            return False
        self._ready.extend(window)
        return True
