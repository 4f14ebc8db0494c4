"""A channel's samples waiting to be mixed: a FIFO held in memory up to a limit.

Audio queued ahead of the current time waits here until the timeline reaches it.  In
a recorded call that is at most the reply the server sent faster than real time, but
a session imported without times (events 20 ms apart) can run ahead by as much as its
whole length.  Past `memory_limit` samples the FIFO goes on in a spill file, so memory
stays flat in every case.  Pure unless given a spill file (any binary file object).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import IO

import numpy as np

SpillFactory = Callable[[], IO[bytes]]
DEFAULT_MEMORY_LIMIT = 1 << 22  # samples: about three minutes at 24 kHz, 8 MiB


class SampleFifo:
    """int16 samples in, the same samples out, in order; silence when empty."""

    def __init__(
        self, memory_limit: int = DEFAULT_MEMORY_LIMIT, spill: SpillFactory | None = None
    ) -> None:
        self.memory_limit = memory_limit
        self._spill_factory = spill
        self._memory: deque[np.ndarray] = deque()
        self.in_memory = 0  # samples held in memory, all before the spilled ones
        self._file: IO[bytes] | None = None
        self.spilled = 0  # samples in the spill file, not yet read back
        self._read_at = 0  # byte offset of the next spilled sample

    def __len__(self) -> int:
        return self.in_memory + self.spilled

    def push(self, samples: np.ndarray) -> None:
        if len(samples) == 0:
            return
        over = self.in_memory + len(samples) > self.memory_limit
        if self.spilled or (over and self._spill_factory is not None):
            self._spill(samples)
        else:
            self._memory.append(samples)
            self.in_memory += len(samples)

    def push_silence(self, count: int) -> None:
        while count > 0:
            n = min(count, 1 << 16)
            self.push(np.zeros(n, dtype=np.int16))
            count -= n

    def pop(self, count: int) -> np.ndarray:
        """The next `count` samples, padded with silence past the end."""
        out = np.zeros(count, dtype=np.int16)
        filled = 0
        while filled < count and self._memory:
            head = self._memory[0]
            take = min(len(head), count - filled)
            out[filled : filled + take] = head[:take]
            if take == len(head):
                self._memory.popleft()
            else:
                self._memory[0] = head[take:]
            filled += take
            self.in_memory -= take
        if filled < count and self.spilled:
            filled += self._unspill(out[filled:])
        return out

    def keep(self, count: int) -> None:
        """Drop every sample after the first `count` (audio queued but never played)."""
        if count >= len(self):
            return
        if count <= self.in_memory:
            self._drop_spilled()
            held = 0
            kept: deque[np.ndarray] = deque()
            for block in self._memory:
                if held >= count:
                    break
                block = block[: count - held]
                kept.append(block)
                held += len(block)
            self._memory = kept
            self.in_memory = held
        else:
            keep_spilled = count - self.in_memory
            assert self._file is not None
            self._file.truncate(self._read_at + keep_spilled * 2)
            self.spilled = keep_spilled

    def _drop_spilled(self) -> None:
        if self.spilled:
            assert self._file is not None
            self._file.seek(0)
            self._file.truncate()
            self._read_at = 0
            self.spilled = 0

    def _spill(self, samples: np.ndarray) -> None:
        if self._file is None:
            assert self._spill_factory is not None
            self._file = self._spill_factory()
        self._file.seek(0, 2)
        self._file.write(samples.astype("<i2", copy=False).tobytes())
        self.spilled += len(samples)

    def _unspill(self, into: np.ndarray) -> int:
        assert self._file is not None
        take = min(self.spilled, len(into))
        self._file.seek(self._read_at)
        data = self._file.read(take * 2)
        into[:take] = np.frombuffer(data, dtype="<i2")
        self._read_at += take * 2
        self.spilled -= take
        if not self.spilled:
            # Drained: start the file over rather than let it grow.
            self._file.seek(0)
            self._file.truncate()
            self._read_at = 0
        return take

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
