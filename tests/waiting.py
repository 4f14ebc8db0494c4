"""Waiting on another process, which has nothing to await: poll, and fail when it never
gets there (the asserting wait of tests/test_crash.py's wait_for_flush, for any test)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

POLL_S = 0.02


async def eventually(condition: Callable[[], object], what: str, timeout: float = 20) -> None:
    """Return once `condition()` is true; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up after {timeout:g} s waiting until {what}"
        await asyncio.sleep(POLL_S)  # polling another process's file: nothing to await
