"""Background threads yield the CPU to the relay.

On a busy machine the relay's event loop must be the first to run when a frame
arrives.  Writing the log has a process of its own (rtrec/capture/writer_link.py);
what is left in the relay's process, the trace sender of `record --otel`, can wait.
Linux schedules threads separately, with a nice value each, so such a thread lowers
its own priority.  Elsewhere `setpriority` would lower the whole process, relay
included, so nothing is done.
"""

from __future__ import annotations

import contextlib
import os
import sys

BACKGROUND_NICE = 10


def yield_to_relay(native_thread_id: int | None = None) -> None:
    """Lower a background thread's priority: the calling thread, or the one given."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        # On Linux, PRIO_PROCESS with a thread id (or 0: the caller) is per thread.
        os.setpriority(os.PRIO_PROCESS, native_thread_id or 0, BACKGROUND_NICE)
