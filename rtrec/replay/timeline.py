"""The replay timeline: recorded times in, a schedule of offsets out.  Pure: no I/O.

The pipeline is asciinema's: recorded times → gaps between consecutive events →
each gap capped at the idle limit → summed back into offsets → divided by the
speed.  The player then waits for each offset against ONE wall-clock origin
(`origin + offset`), never by sleeping the gap since the previous event, so the
time spent emitting one event never delays the next ones and error does not
accumulate over a long session.

Offsets are integer nanoseconds; the first event of a replay is at offset 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

NS_PER_S = 1_000_000_000
# Beyond these, offsets in ns overflow what a clock can wait for (and mean nothing):
# a speed of 1e-300 or an idle limit of 1e308 seconds.
MIN_SPEED = 0.001
MAX_SPEED = 1_000_000.0
MAX_IDLE_LIMIT_S = 1_000_000.0


def check_speed(speed: float) -> float:
    """The speed as given, or ValueError saying why it cannot be used."""
    if not (math.isfinite(speed) and speed > 0 and MIN_SPEED <= speed <= MAX_SPEED):
        raise ValueError(
            f"speed must be a number from {MIN_SPEED:g} to {MAX_SPEED:g}, not {speed!r}"
        )
    return speed


def check_idle_limit(idle_limit_s: float | None) -> float | None:
    if idle_limit_s is not None and not (
        math.isfinite(idle_limit_s) and 0 <= idle_limit_s <= MAX_IDLE_LIMIT_S
    ):
        raise ValueError(
            f"idle limit must be a number of seconds from 0 to {MAX_IDLE_LIMIT_S:g}, "
            f"not {idle_limit_s!r}"
        )
    return idle_limit_s


@dataclass
class Timeline:
    """Turns recorded times, fed in order, into schedule offsets.

    A gap longer than `idle_limit_s` (in recorded seconds, before the speed is applied)
    counts as exactly `idle_limit_s`.  A recorded time earlier than the one before it
    (possible in imported files) counts as a gap of zero: the schedule never goes back.
    """

    speed: float = 1.0
    idle_limit_s: float | None = None
    _previous_t_ns: int | None = field(default=None, init=False)
    _elapsed_ns: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        check_speed(self.speed)
        check_idle_limit(self.idle_limit_s)
        self._cap_ns = None if self.idle_limit_s is None else round(self.idle_limit_s * NS_PER_S)

    def offset_ns(self, t_ns: int) -> int:
        """The offset (ns after the first event) at which the event recorded at t_ns is due."""
        if self._previous_t_ns is not None:
            gap_ns = max(0, t_ns - self._previous_t_ns)
            if self._cap_ns is not None:
                gap_ns = min(gap_ns, self._cap_ns)
            self._elapsed_ns += gap_ns
        self._previous_t_ns = t_ns
        # Summing capped gaps in integer ns and dividing once keeps rounding from drifting.
        return round(self._elapsed_ns / self.speed)


def schedule(
    times_ns: Iterable[int], *, speed: float = 1.0, idle_limit_s: float | None = None
) -> Iterator[int]:
    """Offsets for recorded times, in order (a generator: it streams)."""
    timeline = Timeline(speed, idle_limit_s)
    for t_ns in times_ns:
        yield timeline.offset_ns(t_ns)


@dataclass(frozen=True)
class Anchor:
    """Where the schedule is pinned to the wall clock: offset `offset_ns` is due at `wall_ns`.

    Clock pacing keeps one anchor for the whole replay.  Client pacing moves it each
    time the connected client sends the counterpart of a recorded client event: the
    server events that followed that event are then due relative to the moment the
    live client caught up with the recording.
    """

    wall_ns: int
    offset_ns: int = 0

    def due_ns(self, offset_ns: int) -> int:
        return self.wall_ns + (offset_ns - self.offset_ns)

    def moved_to(self, offset_ns: int, *, arrived_ns: int, reached_ns: int) -> Anchor:
        """The anchor after a client cue at `offset_ns`.

        `arrived_ns` is when the live client sent its counterpart; `reached_ns` is when
        the replay got to this point of the recording (the due time of the event before
        it).  A client slower than the recording delays what follows; a faster one
        hastens it, but never into a burst of events the recording spread out.
        """
        return Anchor(max(arrived_ns, reached_ns), offset_ns)
