"""The stereo timeline: where each chunk of audio is placed, and how the file is mixed.

Placement (documented in README): a chunk is placed at the time it crossed the relay,
unless the previous audio of the same channel is still playing, in which case it
queues behind it: `start = max(arrival, end of the channel's previous chunk)`.  That
is what a client's playback buffer does with audio the server sends faster than real
time.  The assistant channel is one queue for all items (one speaker); audio of a
truncated item beyond `audio_end_ms` of that item's audio was never heard, so it is
neither placed nor queued.

Mixing is incremental: events arrive in time order and nothing can be placed before
the current event's time, so every frame before it is final and is handed out to be
written.  Only audio queued ahead of the current time is held (see `fifo`).  Pure:
no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from rtrec.protocols.base import MediaFact, RequestFailed, Truncated
from rtrec.replay.wav.fifo import DEFAULT_MEMORY_LIMIT, SampleFifo, SpillFactory

USER, ASSISTANT = 0, 1
# 64 KiB blocks: small enough to be recycled by the allocator, large enough to write.
BLOCK_FRAMES = 1 << 14


def frame_at(t_ns: int, rate: int) -> int:
    """The timeline frame of a moment `t_ns` after the session started."""
    return max(0, t_ns) * rate // 1_000_000_000


class PlaybackQueue:
    """One channel's playback position: a chunk never starts before the previous ends."""

    __slots__ = ("end",)

    def __init__(self) -> None:
        self.end = 0

    def place(self, arrival: int, frames: int) -> int:
        start = max(arrival, self.end)
        self.end = start + frames
        return start

    def flush(self, now: int) -> None:
        """Playback stopped at `now`: what was queued beyond it was never played."""
        self.end = min(self.end, now)


class HeardAudio:
    """How much of each assistant item's audio the user heard, from truncations.

    `cuts` maps item_id → audio_end_ms.  Counting is in the item's own samples from its
    first sample, so a stall in delivery does not move the cut.
    """

    def __init__(self, cuts: Mapping[str, int]) -> None:
        self._cuts = cuts
        self._item: str | None = None
        self._seen = 0

    def keep(self, item_id: str | None, rate: int, samples: int) -> int:
        """How many of the next `samples` samples of `item_id` were heard."""
        if item_id != self._item:
            self._item, self._seen = item_id, 0
        before = self._seen
        self._seen += samples
        cut_ms = self._cuts.get(item_id) if item_id is not None else None
        if cut_ms is None:
            return samples
        limit = max(0, cut_ms) * rate // 1000
        return max(0, min(samples, limit - before))


class StereoMixer:
    """Two channels of placed audio → interleaved frames, released in time order.

    Frames are handed out in whole blocks once final (nothing can be placed before
    `until` any more), so the file is written in a few large writes.  Each channel
    holds its samples from the write head on, silence included, in a `SampleFifo`.
    """

    def __init__(
        self,
        block_frames: int = BLOCK_FRAMES,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        spill: SpillFactory | None = None,
    ) -> None:
        self.block_frames = block_frames
        self.written = 0  # frames handed out so far
        self.channels = (SampleFifo(memory_limit, spill), SampleFifo(memory_limit, spill))

    @property
    def end(self) -> int:
        """The end of the last placed audio on either channel."""
        return self.written + max(len(fifo) for fifo in self.channels)

    def place(self, channel: int, start: int, samples: np.ndarray) -> None:
        if len(samples) == 0:
            return
        fifo = self.channels[channel]
        tail = self.written + len(fifo)
        if start < tail:
            raise ValueError("audio placed before audio already placed or written")
        fifo.push_silence(start - tail)
        fifo.push(samples)

    def cut(self, channel: int, at: int) -> None:
        """Remove what was placed on the channel from frame `at` on (never heard)."""
        fifo = self.channels[channel]
        fifo.keep(max(0, at - self.written))

    def ready(self, until: int) -> bool:
        """Whether a whole block before `until` can be released."""
        return until - self.written >= self.block_frames

    def release(self, until: int) -> Iterator[np.ndarray]:
        """Whole blocks of frames before `until`, which nothing can be placed before.

        Lazy, one block at a time, however long the stretch (an hour of silence is
        not built in memory); take the blocks before placing audio past `until`.
        """
        while until - self.written >= self.block_frames:
            yield self._block(self.block_frames)

    def finish(self) -> Iterator[np.ndarray]:
        """Everything still held, up to the end of the last placed audio; lazy too."""
        while self.written < self.end:
            yield self._block(min(self.block_frames, self.end - self.written))
        for fifo in self.channels:
            fifo.close()

    def _block(self, n: int) -> np.ndarray:
        """The next n frames as an (n, 2) int16 array."""
        block = np.empty((n, 2), dtype=np.int16)
        block[:, 0] = self.channels[0].pop(n)
        block[:, 1] = self.channels[1].pop(n)
        self.written += n
        return block


class TruncationCuts:
    """item_id → audio_end_ms: where the client cut each truncated item's audio.

    The server's confirmation is authoritative; a client request with no confirmation
    counts too (a recording cut short) unless an error names it.  An item truncated
    twice keeps the earlier cut.  Fed the media fold's facts.
    """

    def __init__(self) -> None:
        self._confirmed: dict[str, int] = {}
        self._requested: dict[str, tuple[str, int]] = {}

    def feed(self, fact: MediaFact) -> None:
        if isinstance(fact, RequestFailed):
            self._requested.pop(fact.request_id, None)
        elif isinstance(fact, Truncated):
            if fact.confirmed:
                previous = self._confirmed.get(fact.item_id, fact.audio_end_ms)
                self._confirmed[fact.item_id] = min(fact.audio_end_ms, previous)
            else:
                key = fact.request_id or fact.item_id
                self._requested[key] = (fact.item_id, fact.audio_end_ms)

    def cuts(self) -> dict[str, int]:
        cuts = dict(self._confirmed)
        for item_id, end_ms in self._requested.values():
            if item_id not in self._confirmed:
                cuts[item_id] = min(end_ms, cuts.get(item_id, end_ms))
        return cuts
