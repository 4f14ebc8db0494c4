"""The simulated session clock: continuous output audio, and events due at a clock time.

GPT-Live's server sends output audio as one continuous stream of 100 ms deltas from
the start of the session, silence included, and places everything else (transcript
deltas, delegations, context the client appended) on the same session clock.  Here
the clock is the output stream: each delta sent advances it by 100 ms.

- Paced (`factor` > 0): a delta every 100 ms / factor of wall time, whatever happens.
- As fast as possible (`factor` 0, for tests): the clock runs only as far as there is
  something to reach — the client's audio received so far, speech queued, events
  scheduled — and then waits.

The client's audio is placed on the clock as it arrives (`place_input`): where the
previous append ended, or now if the client paused.  Events are sent in clock order,
each before the output delta that starts at or after its time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rtrec.audio_format import AudioFormat
from rtrec.sim.live.speech import CHUNK_MS, Delta, chunk_bytes, delta_event, silence

Event = dict[str, Any]
# Makes the event when it is due; None if it no longer applies (speech cut short).
MakeEvent = Callable[[], Event | None]


@dataclass
class Utterance:
    """Something the assistant says from `start_ms` on: its audio and transcript deltas."""

    start_ms: int
    audio: bytes
    deltas: list[Delta]
    fmt: AudioFormat
    cut_ms: int | None = None  # barge-in: nothing is said from here on

    @property
    def end_ms(self) -> int:
        natural = self.start_ms + round(self.fmt.duration_ms(len(self.audio)))
        return natural if self.cut_ms is None else min(natural, self.cut_ms)

    def said_by(self, at_ms: int) -> bool:
        return at_ms < self.end_ms


@dataclass
class SessionClock:
    fmt: AudioFormat
    factor: float
    send: Callable[[Event], Awaitable[None]]
    on_tick: Callable[[int], None] = lambda clock_ms: None
    clock_ms: int = 0  # output audio sent up to here
    input_ms: int = 0  # the client's audio placed up to here
    speech: list[Utterance] = field(default_factory=list)
    _due: list[tuple[int, int, MakeEvent]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    # -- what the session tells it ----------------------------------------------------

    def place_input(self, duration_ms: float) -> int:
        """Where the client's next `duration_ms` of audio lies on the clock; its start."""
        start = max(self.input_ms, self.clock_ms)
        self.input_ms = start + round(duration_ms)
        self._wake.set()
        return start

    def at(self, at_ms: int, make: MakeEvent) -> None:
        """Send the event `make` gives once the clock reaches `at_ms`."""
        heapq.heappush(self._due, (max(at_ms, self.clock_ms), next(self._order), make))
        self._wake.set()

    def say(self, utterance: Utterance) -> None:
        self.speech.append(utterance)
        for delta in utterance.deltas:
            # Transcribed once the window's audio has gone out.
            self.at(delta.end_ms, _transcript(utterance, delta))
        self._wake.set()

    def speaking_at(self, at_ms: int) -> Utterance | None:
        for utterance in self.speech:
            if utterance.start_ms <= at_ms and utterance.said_by(at_ms):
                return utterance
        return None

    def speech_end(self) -> int:
        return max((u.end_ms for u in self.speech), default=self.clock_ms)

    # -- the pump ---------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            if self.factor > 0:
                due = started + (self.clock_ms + CHUNK_MS) / 1000 / self.factor
                await asyncio.sleep(max(0.0, due - loop.time()))
            else:
                while self.clock_ms >= self._target():
                    await self._send_due()
                    self._wake.clear()
                    await self._wake.wait()
            await self._send_due()
            await self._send_chunk()

    def _target(self) -> int:
        """How far the clock must run (as fast as possible) to reach what is waiting."""
        # Only output the input has wholly covered: a reply is then placed the same way
        # however far the pump got while the client's audio was arriving.
        target = max(self.input_ms // CHUNK_MS * CHUNK_MS, self.speech_end())
        if self._due:
            target = max(target, self._due[0][0] + CHUNK_MS)
        return target

    async def _send_due(self) -> None:
        while self._due and self._due[0][0] <= self.clock_ms:
            _, _, make = heapq.heappop(self._due)
            event = make()
            if event is not None:
                await self.send(event)

    async def _send_chunk(self) -> None:
        at = self.clock_ms
        size = chunk_bytes(self.fmt)
        data = b""
        utterance = self.speaking_at(at)
        if utterance is not None:
            offset = round(self.fmt.bytes_per_second * (at - utterance.start_ms) / 1000)
            offset -= offset % self.fmt.bytes_per_sample
            data = utterance.audio[offset : offset + size]
        data += silence(self.fmt, size - len(data))
        self.clock_ms = at + CHUNK_MS
        self.speech = [u for u in self.speech if u.end_ms > self.clock_ms]
        await self.send({"type": "session.output_audio.delta", "_audio": data, "_at": at})
        self.on_tick(self.clock_ms)


def _transcript(utterance: Utterance, delta: Delta) -> MakeEvent:
    def make() -> Event | None:
        if not utterance.said_by(delta.start_ms):
            return None
        return delta_event("session.output_transcript.delta", delta)

    return make
