"""A simulated microphone for the demo clients: audio sent as it would be captured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import numpy as np


async def captured(samples: np.ndarray, rate: int, chunk_ms: int) -> AsyncIterator[bytes]:
    """`samples` as PCM16 chunks of `chunk_ms`, each yielded when its audio would have
    been captured (in real time, from the first chunk on)."""
    step = rate * chunk_ms // 1000
    started = time.monotonic()
    for n, start in enumerate(range(0, len(samples), step)):
        captured_at = started + (n + 1) * chunk_ms / 1000
        await asyncio.sleep(max(0.0, captured_at - time.monotonic()))
        yield samples[start : start + step].astype("<i2").tobytes()
