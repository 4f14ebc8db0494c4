"""Waiting for a due time on the monotonic clock, never returning early."""

from __future__ import annotations

import asyncio
import time

_NS_PER_S = 1_000_000_000


def now_ns() -> int:
    return time.monotonic_ns()


async def sleep_until(due_ns: int) -> None:
    """Return at or after `due_ns` (time.monotonic_ns()), as close to it as the loop allows.

    Loop timers can fire a little early (libuv rounds to whole milliseconds), so the
    wait repeats for whatever remains.
    """
    while True:
        remaining_ns = due_ns - time.monotonic_ns()
        if remaining_ns <= 0:
            return
        await asyncio.sleep(remaining_ns / _NS_PER_S)
