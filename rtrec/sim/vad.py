"""Server-side voice activity detection for the simulator: energy in 20 ms frames.

Mirrors what server_vad reports: speech_started with `audio_start_ms` (minus the
prefix padding) and speech_stopped with `audio_end_ms` once `silence_duration_ms`
of quiet has passed.  Positions are ms of audio since the session began.  Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_MS = 20


@dataclass
class VadEvent:
    kind: str  # "started" | "stopped"
    audio_ms: int


class EnergyVad:
    def __init__(
        self,
        rate: int,
        *,
        threshold: float = 0.5,
        prefix_padding_ms: int = 300,
        silence_duration_ms: int = 500,
    ) -> None:
        self.rate = rate
        # threshold 0..1 maps onto an RMS level in int16 units.
        self.rms_threshold = 200 + 1600 * threshold
        self.prefix_padding_ms = prefix_padding_ms
        self.silence_duration_ms = silence_duration_ms
        self.position_ms = 0
        self.in_speech = False
        self._quiet_ms = 0
        self._carry = np.zeros(0, dtype=np.int16)

    def feed(self, samples: np.ndarray) -> list[VadEvent]:
        frame = self.rate * FRAME_MS // 1000
        data = np.concatenate([self._carry, samples])
        whole = len(data) // frame * frame
        self._carry = data[whole:]
        events: list[VadEvent] = []
        for start in range(0, whole, frame):
            chunk = data[start : start + frame].astype(np.float64)
            loud = float(np.sqrt(np.mean(chunk * chunk))) >= self.rms_threshold
            if loud and not self.in_speech:
                self.in_speech = True
                events.append(
                    VadEvent("started", max(0, self.position_ms - self.prefix_padding_ms))
                )
            if self.in_speech:
                self._quiet_ms = 0 if loud else self._quiet_ms + FRAME_MS
                if self._quiet_ms >= self.silence_duration_ms:
                    self.in_speech = False
                    events.append(VadEvent("stopped", self.position_ms + FRAME_MS - self._quiet_ms))
                    self._quiet_ms = 0
            self.position_ms += FRAME_MS
        return events
