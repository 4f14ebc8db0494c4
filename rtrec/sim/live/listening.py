"""The simulated server's ears: voice activity in the client's audio, and its transcript.

The client's audio is placed on the session clock as it arrives; a voice activity
detector finds where the user speaks.  What they say is the simulator's script line
for that turn, laid out word by word the way the client's speech-like audio voices it
(rtrec/sim/live/speech.py).  Each 200 ms window of it is transcribed once the audio
has passed it, and sent a recognition lag later.  The turn ends with its last word
(at that delta's `end_ms`); speech that stops short has the rest of the line placed
before the stop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rtrec.audio_format import AudioFormat
from rtrec.sim.live.clock import Event, SessionClock
from rtrec.sim.live.speech import (
    WINDOW_MS,
    Delta,
    delta_event,
    floor_window,
    transcript_deltas,
)
from rtrec.sim.vad import EnergyVad

SILENCE_MS = 400  # of quiet that ends the user's speech
_MAPPED_APPENDS = 256  # recent appends remembered to place the detector's findings


@dataclass
class Speech:
    start_ms: int
    text: str
    lag_ms: int
    planned: list[Delta]
    sent: int = 0  # deltas scheduled so far

    @property
    def last_end_ms(self) -> int:
        return self.planned[self.sent - 1].end_ms if self.sent else self.start_ms


@dataclass
class Listener:
    clock: SessionClock
    fmt: AudioFormat
    lines: tuple[str, ...]
    lag_ms: Callable[[], int]  # the recognition lag of the next speech
    on_speech: Callable[[int], None]  # the user started speaking at this clock time
    # The user said this; their speech ended then; the server knows it at the third time.
    on_turn: Callable[[str, int, int], None]
    turns: int = 0
    speech: Speech | None = None
    muted: bool = False
    _vad: EnergyVad = field(init=False)
    _heard: int = 0  # samples of the client's audio so far
    _appends: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=_MAPPED_APPENDS))

    def __post_init__(self) -> None:
        self._vad = EnergyVad(self.fmt.rate, prefix_padding_ms=0, silence_duration_ms=SILENCE_MS)

    def hear(self, samples: np.ndarray) -> None:
        """The client's next audio (already decoded): place it, listen, transcribe."""
        rate = self.fmt.rate
        start = self.clock.place_input(len(samples) * 1000 / rate)
        self._appends.append((self._heard * 1000 // rate, start))
        self._heard += len(samples)
        if self.muted:
            samples = np.zeros_like(samples)
        for found in self._vad.feed(samples):
            at = self._on_clock(found.audio_ms)
            if found.kind == "started":
                self._started(at)
            else:
                self._stopped(at)
        if self.speech is not None:
            self._release(self._on_clock(self._heard * 1000 // rate))

    def _on_clock(self, audio_ms: int) -> int:
        """The session-clock time of a moment in the client's audio."""
        placed = audio_ms
        for audio_start, clock_start in self._appends:
            if audio_start <= audio_ms:
                placed = clock_start + (audio_ms - audio_start)
        return placed

    def _started(self, at_ms: int) -> None:
        text = self.lines[self.turns % len(self.lines)] if self.lines else "Hello?"
        self.turns += 1
        self.speech = Speech(at_ms, text, self.lag_ms(), transcript_deltas(text, at_ms))
        self.on_speech(at_ms)

    def _stopped(self, at_ms: int) -> None:
        speech = self.speech
        if speech is None:
            return  # the turn already ended with its last word
        # Words the audio did not reach are said in one last window before the stop.
        kept = [d for d in speech.planned[speech.sent :] if d.end_ms <= at_ms]
        late = speech.planned[speech.sent + len(kept) :]
        planned = speech.planned[: speech.sent] + kept
        if late:
            start = floor_window(max(at_ms - 1, speech.start_ms))
            if planned:
                start = max(start, planned[-1].end_ms)
            planned.append(Delta(start, start + WINDOW_MS, "".join(d.text for d in late)))
        speech.planned = planned
        self._release(10**12)

    def _end_turn(self, speech: Speech) -> None:
        self.speech = None
        said = "".join(d.text for d in speech.planned).strip()
        end = speech.last_end_ms
        self.on_turn(said, end, end + speech.lag_ms)

    def _release(self, heard_until_ms: int) -> None:
        """Schedule the deltas whose window the audio has passed; the last one ends the turn
        (the server understands the sentence: it does not wait for silence)."""
        speech = self.speech
        assert speech is not None
        while speech.sent < len(speech.planned):
            delta = speech.planned[speech.sent]
            if delta.end_ms > heard_until_ms:
                return
            self.clock.at(delta.end_ms + speech.lag_ms, _user_delta(delta))
            speech.sent += 1
        self._end_turn(speech)


def _user_delta(delta: Delta) -> Callable[[], Event]:
    return lambda: delta_event("session.input_transcript.delta", delta)
