"""Helpers for the WAV export tests: test audio, WAV internals, JSONL sessions."""

from __future__ import annotations

import base64
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rtrec.jsonl import encode_line


def make_signal(seconds: float, rate: int = 24000, seed: int = 7) -> np.ndarray:
    """Deterministic, loud, non-repeating int16 audio: a chirp with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    chirp = np.sin(2 * np.pi * (200 + 400 * t) * t) * 12000
    noise = rng.integers(-3000, 3000, len(t))
    return np.clip(chirp + noise, -32768, 32767).astype(np.int16)


def wav_data_chunk(path: Path) -> bytes:
    """The raw bytes of a WAV file's data chunk."""
    data = Path(path).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk_id == b"data":
            return data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise AssertionError(f"{path} has no data chunk")


def audioop_decode(data: bytes, law: str) -> np.ndarray | None:
    """CPython's audioop G.711 decoder (an independent reference), if this Python has it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop  # removed in Python 3.13
        except ImportError:
            return None
    decode = audioop.ulaw2lin if law == "ulaw" else audioop.alaw2lin
    return np.frombuffer(decode(data, 2), dtype="<i2")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def ga_session(kind: str, inp: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "session": {
            "type": "realtime",
            "audio": {"input": {"format": inp}, "output": {"format": out}},
        },
    }


PCM = {"type": "audio/pcm", "rate": 24000}


class JsonlSession:
    """A hand-written session with exact times, for `rtrec import`."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, t_s: float, direction: str, event: dict[str, Any] | str) -> None:
        frame = event if isinstance(event, str) else json.dumps(event)
        self.lines.append(encode_line(round(t_s * 1e9), direction, frame))

    def append(self, t_s: float, audio: bytes) -> None:
        self.add(t_s, "client", {"type": "input_audio_buffer.append", "audio": b64(audio)})

    def delta(self, t_s: float, audio: bytes, item: str, response: str = "resp_1") -> None:
        self.add(
            t_s,
            "server",
            {
                "type": "response.output_audio.delta",
                "response_id": response,
                "item_id": item,
                "output_index": 0,
                "content_index": 0,
                "delta": b64(audio),
            },
        )

    def write(self, path: Path) -> Path:
        path.write_text("\n".join(self.lines) + "\n")
        return path
