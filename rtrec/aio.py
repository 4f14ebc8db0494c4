"""Running rtrec's event loop: uvloop where it is installed, asyncio otherwise."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

from rtrec.errors import ConfigError

T = TypeVar("T")


LOOPS = ("auto", "asyncio", "uvloop")


def loop_name() -> str:
    """The loop `run` will use: RTREC_LOOP=asyncio or uvloop forces one, auto (or unset)
    takes uvloop where it is installed."""
    wanted = os.environ.get("RTREC_LOOP", "").strip().lower() or "auto"
    if wanted not in LOOPS:
        raise ConfigError(
            f"bad RTREC_LOOP {os.environ['RTREC_LOOP']!r}: expected {', '.join(LOOPS)}"
        )
    if wanted == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        if wanted == "uvloop":
            raise ConfigError(
                "RTREC_LOOP=uvloop, but uvloop is not installed (pip install 'rtrec[fast]')"
            ) from None
        return "asyncio"
    return "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        name = loop_name()
    except BaseException:
        main.close()  # made but never run: close it, or Python warns about it on exit
        raise
    if name == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def stop_on_signals() -> asyncio.Event:
    """An event that Ctrl-C (SIGINT) or SIGTERM sets: a server's cue to stop and drain.

    Call it from the running loop, before serving, so no signal finds the default handler.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop
