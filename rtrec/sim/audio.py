"""Speech-like audio for the simulator: voiced syllables with a pitch contour and formants.

Not speech, but it sounds like someone talking (rising and falling pitch, vowel-like
timbre, word gaps), has the energy envelope a voice activity detector expects, and
is deterministic for a given text.  Pure: no I/O.
"""

from __future__ import annotations

import zlib

import numpy as np

# (F1, F2) of a few vowels, Hz.
_VOWELS = ((730, 1090), (270, 2290), (530, 1840), (300, 870), (640, 1190), (490, 1350))


def speech_like(text: str, rate: int = 24000, pitch_hz: float = 140.0) -> np.ndarray:
    """int16 samples 'saying' `text`: one syllable burst per word, pauses at punctuation."""
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    pieces: list[np.ndarray] = []
    for word in text.split() or ["hm"]:
        duration = min(0.45, max(0.14, 0.055 * len(word.strip(".,!?;:"))))
        pieces.append(_syllable(duration, rate, pitch_hz * rng.uniform(0.85, 1.2), rng))
        pause = 0.22 if word[-1] in ".!?" else 0.12 if word[-1] in ",;:" else 0.05
        pieces.append(np.zeros(int(pause * rate)))
    signal = np.concatenate(pieces)
    return (signal * 9000).astype(np.int16)


def _syllable(duration: float, rate: int, f0: float, rng: np.random.Generator) -> np.ndarray:
    n = int(duration * rate)
    t = np.arange(n) / rate
    contour = f0 * (1 + 0.12 * np.sin(np.pi * t / duration + rng.uniform(0, np.pi)))
    phase = 2 * np.pi * np.cumsum(contour) / rate
    f1, f2 = _VOWELS[int(rng.integers(len(_VOWELS)))]
    signal = np.zeros(n)
    for k in range(1, 16):
        harmonic = k * f0
        if harmonic > rate / 2 - 500:
            break
        # Resonance peaks at the formants give the vowel its colour.
        gain = 1 / (1 + ((harmonic - f1) / 120) ** 2) + 0.6 / (1 + ((harmonic - f2) / 180) ** 2)
        signal += gain * np.sin(k * phase) / k**0.5
    envelope = np.minimum(1, np.minimum(t / 0.025, (duration - t) / 0.04).clip(0))
    signal *= envelope
    peak = np.abs(signal).max() or 1.0
    return signal / peak


def silence(seconds: float, rate: int = 24000) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.int16)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Linear-interpolation resampling; good enough for simulated telephone audio."""
    if from_rate == to_rate or len(samples) == 0:
        return samples
    n = int(len(samples) * to_rate / from_rate)
    positions = np.linspace(0, len(samples) - 1, n)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.int16)
