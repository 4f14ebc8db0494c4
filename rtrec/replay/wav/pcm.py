"""PCM assembly: whole samples out of a stream of chunks, as 16-bit PCM at any rate.

A pcm16 chunk with an odd byte count splits a sample between two chunks; the dangling
byte is carried into the next chunk of the same stream instead of shifting every
later sample by a byte.  G.711 bytes decode through the lookup tables in `rtrec.g711`.
Pure: no I/O.
"""

from __future__ import annotations

import sys

import numpy as np

from rtrec import g711
from rtrec.audio_format import AudioFormat

_LAW = {"g711_ulaw": "ulaw", "g711_alaw": "alaw"}


class SampleAligner:
    """Cuts one stream's chunks at sample boundaries, carrying a split sample over."""

    __slots__ = ("_carry",)

    def __init__(self) -> None:
        self._carry = b""

    def feed(self, data: bytes, width: int) -> bytes:
        """The whole samples that `data` completes; keeps any remainder for the next call."""
        if width == 1:
            return data
        if self._carry:
            data = self._carry + data
            self._carry = b""
        extra = len(data) % width
        if extra:
            self._carry = data[-extra:]
            data = data[:-extra]
        return data

    def reset(self) -> int:
        """End of the stream: drop the remainder; returns how many bytes were dropped."""
        dropped = len(self._carry)
        self._carry = b""
        return dropped


def to_int16(data: bytes, fmt: AudioFormat) -> np.ndarray:
    """Whole samples in `fmt` → int16 samples (native byte order)."""
    if fmt.encoding == "pcm16":
        samples = np.frombuffer(data, dtype="<i2")
        return samples.astype(np.int16) if sys.byteorder == "big" else samples
    return g711.decode(data, _LAW[fmt.encoding])


class LinearResampler:
    """Streaming linear-interpolation resampling of one stream, chunk by chunk.

    Output sample j sits at input position j * from_rate / to_rate, computed with
    integers from the start of the stream, so chunking never accumulates error.  The
    last input sample is kept to interpolate across chunk boundaries.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._inputs = 0  # input samples seen
        self._outputs = 0  # output samples produced
        self._last = np.zeros(0, dtype=np.int16)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        if self.from_rate == self.to_rate:
            return samples
        if len(samples) == 0:
            return samples
        base = self._inputs - len(self._last)  # stream index of data[0]
        data = np.concatenate([self._last, samples]).astype(np.float64)
        self._inputs += len(samples)
        last_index = self._inputs - 1
        # Every output position whose neighbours are both known: pos <= last_index.
        end = last_index * self.to_rate // self.from_rate + 1
        if end <= self._outputs:
            self._last = samples[-1:]
            return np.zeros(0, dtype=np.int16)
        j = np.arange(self._outputs, end, dtype=np.int64)
        scaled = j * self.from_rate
        whole = scaled // self.to_rate - base
        frac = (scaled % self.to_rate) / self.to_rate
        nxt = np.minimum(whole + 1, len(data) - 1)
        out = data[whole] + (data[nxt] - data[whole]) * frac
        self._outputs = end
        self._last = samples[-1:]
        return np.round(out).astype(np.int16)
