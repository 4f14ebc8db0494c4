"""Warnings that a stranger can trigger at will, shown at most once a minute.

A port scan or a misconfigured client can send a bad handshake every millisecond; a
line for each would bury everything else on stderr.  The first is shown at once; the
rest within the next minute are counted and the count rides on the next line shown.
Pure: no I/O (the caller's `say` does the printing).
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_INTERVAL_S = 60.0


class RateLimitedNotes:
    def __init__(
        self,
        say: Callable[[str], None],
        interval_s: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._say = say
        self._interval_s = interval_s
        self._clock = clock
        self._last_shown: float | None = None
        self.suppressed = 0

    def note(self, text: str) -> None:
        now = self._clock()
        if self._last_shown is not None and now - self._last_shown < self._interval_s:
            self.suppressed += 1
            return
        if self.suppressed:
            text += f" ({self.suppressed} more like it not shown)"
        self._last_shown = now
        self.suppressed = 0
        self._say(text)
