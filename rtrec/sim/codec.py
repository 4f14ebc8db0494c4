"""Audio samples to a session's wire format and back (PCM16, G.711 µ-law or A-law).  Pure."""

from __future__ import annotations

import numpy as np

from rtrec import g711
from rtrec.audio_format import AudioFormat


def encode(samples: np.ndarray, fmt: AudioFormat) -> bytes:
    if fmt.encoding == "pcm16":
        return samples.astype("<i2").tobytes()
    return g711.encode(samples, "ulaw" if fmt.encoding == "g711_ulaw" else "alaw")


def decode(data: bytes, fmt: AudioFormat) -> np.ndarray:
    """int16 samples (a trailing odd byte of PCM16 is dropped)."""
    if fmt.encoding == "pcm16":
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    return g711.decode(data, "ulaw" if fmt.encoding == "g711_ulaw" else "alaw")
