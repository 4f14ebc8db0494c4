"""Speech on the GPT-Live session clock: word windows, and the audio of what is said.

GPT-Live's transcript deltas each cover one 200 ms window of the session clock
(`start_ms`/`end_ms` on 200 ms boundaries); words that fall in the same window
arrive as one delta (" of the").  The simulator knows what the user says (its
script) and what the assistant says, and lays the words out the way
`rtrec.sim.audio.speech_like` voices them: one syllable per word, pauses after
punctuation.  Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rtrec.audio_format import AudioFormat
from rtrec.sim.audio import speech_like
from rtrec.sim.codec import decode, encode

__all__ = ["decode", "encode"]  # the session's audio, for the modules beside this one

WINDOW_MS = 200  # a transcript delta's span
CHUNK_MS = 100  # an output audio delta's span


@dataclass(frozen=True)
class Delta:
    """One transcript delta: its window on the session clock and its text."""

    start_ms: int
    end_ms: int
    text: str


def word_onsets_ms(text: str) -> tuple[list[int], int]:
    """Each word's start, from the start of speech, and the speech's length (ms).

    The layout of `speech_like`: a word lasts 55 ms per letter (140–450 ms), then a
    pause of 220 ms after . ! ?, 120 ms after , ; : and 50 ms otherwise.
    """
    onsets = []
    at = 0.0
    for word in text.split() or ["hm"]:
        onsets.append(round(at * 1000))
        at += min(0.45, max(0.14, 0.055 * len(word.strip(".,!?;:"))))
        at += 0.22 if word[-1] in ".!?" else 0.12 if word[-1] in ",;:" else 0.05
    return onsets, round(at * 1000)


def floor_window(ms: float) -> int:
    return int(ms // WINDOW_MS) * WINDOW_MS


def ceil_window(ms: float) -> int:
    return -int(-ms // WINDOW_MS) * WINDOW_MS


def transcript_deltas(text: str, start_ms: int) -> list[Delta]:
    """The deltas of `text` spoken from `start_ms`: one per window holding a word."""
    words = text.split()
    onsets, _ = word_onsets_ms(text)
    deltas: list[Delta] = []
    for index, (word, onset) in enumerate(zip(words, onsets, strict=False)):
        window = floor_window(start_ms + onset)
        fragment = word if index == 0 else " " + word
        if deltas and deltas[-1].start_ms >= window:
            last = deltas[-1]
            deltas[-1] = Delta(last.start_ms, last.end_ms, last.text + fragment)
        else:
            deltas.append(Delta(window, window + WINDOW_MS, fragment))
    return deltas


def delta_event(kind: str, delta: Delta) -> dict[str, Any]:
    """A transcript delta event (`kind`) for one window of the session clock."""
    return {"type": kind, "start_ms": delta.start_ms, "end_ms": delta.end_ms, "delta": delta.text}


def voice(text: str, fmt: AudioFormat) -> bytes:
    """The assistant's audio for `text`, in the session's format."""
    return encode(speech_like(text, fmt.rate, pitch_hz=190.0), fmt)


def chunk_bytes(fmt: AudioFormat) -> int:
    return fmt.bytes_per_second * CHUNK_MS // 1000


def silence(fmt: AudioFormat, nbytes: int) -> bytes:
    if fmt.encoding == "pcm16":
        return bytes(nbytes)
    return (b"\xff" if fmt.encoding == "g711_ulaw" else b"\xd5") * nbytes
