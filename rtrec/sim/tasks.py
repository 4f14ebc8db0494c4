"""The background tasks of a simulated session: started, and stopped when it ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.exceptions import ConnectionClosed


async def until_closed(part: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Run a background part of the session; a closed connection simply ends it.

    The coroutine is made here, so a task cancelled before it starts leaves none behind.
    """
    with contextlib.suppress(ConnectionClosed):
        await part(*args)


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel a task and wait until it has ended (its connection may be gone already)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
        await task
