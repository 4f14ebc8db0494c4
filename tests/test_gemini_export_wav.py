"""export-wav of Gemini Live sessions: realtimeInput audio at its mimeType rate (user),
inlineData audio at 24 kHz (assistant), split by model turn, and the stereo timeline
cut where the model was interrupted.  Sessions are written by hand with exact times."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from rtrec.jsonl import encode_line
from tests.conftest import run_cli
from tests.wavtools import make_signal

MODEL_MIME = "audio/pcm;rate=24000"


class GeminiSession:
    """A Gemini Live session as JSONL, client frames as the SDK writes them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.add(0.0, "client", {"setup": {"model": "models/gemini-live-2.5-flash-preview"}})
        self.add(0.01, "server", {"setupComplete": {}})

    def add(self, t_s: float, direction: str, message: dict[str, Any]) -> None:
        self.lines.append(encode_line(round(t_s * 1e9), direction, json.dumps(message)))

    def user_audio(self, t_s: float, samples: np.ndarray, rate: int = 16000) -> None:
        data = base64.urlsafe_b64encode(samples.astype("<i2").tobytes()).decode()
        audio = {"data": data, "mimeType": f"audio/pcm;rate={rate}"}
        self.add(t_s, "client", {"realtime_input": {"audio": audio}})

    def model_audio(self, t_s: float, samples: np.ndarray) -> None:
        blob = {
            "mimeType": MODEL_MIME,
            "data": base64.b64encode(samples.astype("<i2").tobytes()).decode(),
        }
        self.add(t_s, "server", {"serverContent": {"modelTurn": {"parts": [{"inlineData": blob}]}}})

    def content(self, t_s: float, **fields: Any) -> None:
        self.add(t_s, "server", {"serverContent": fields})

    def write(self, path: Path) -> Path:
        path.write_text("\n".join(self.lines) + "\n")
        return path


def _import(session: GeminiSession, tmp_path: Path) -> str:
    db_path = str(tmp_path / "rtrec.db")
    result = run_cli("import", str(session.write(tmp_path / "s.jsonl")), db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    return db_path


def _export(db_path: str, out: Path, *flags: str) -> None:
    result = run_cli("export-wav", "last", "--out", str(out), *flags, db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()


def _two_turns() -> tuple[GeminiSession, list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """A spoken turn answered in full, then a second answer the user interrupts."""
    user = [make_signal(0.1, 16000, seed=s) for s in range(10)]
    first = [make_signal(0.2, seed=20 + s) for s in range(3)]
    second = [make_signal(0.2, seed=30 + s) for s in range(5)]
    s = GeminiSession()
    for n, chunk in enumerate(user):
        s.user_audio(0.1 + n * 0.1, chunk)  # 16 kHz frames from 0.1 s to 1.1 s
    s.content(1.15, inputTranscription={"text": " Hello"})
    for n, chunk in enumerate(first):
        s.model_audio(1.2 + n * 0.05, chunk)  # arrive faster than they play: queued
    s.content(1.35, outputTranscription={"text": "Hi there."})
    s.content(1.4, generationComplete=True)
    s.add(1.45, "server", {"serverContent": {"turnComplete": True}, "usageMetadata": {}})
    for n, chunk in enumerate(second):
        s.model_audio(2.0 + n * 0.05, chunk)
    s.content(2.3, interrupted=True)  # 0.3 s of the second answer was heard
    s.content(2.31, turnComplete=True)
    return s, user, first, second


def test_tracks_hold_every_chunk_at_its_own_rate(tmp_path: Path) -> None:
    session, user, first, second = _two_turns()
    db_path = _import(session, tmp_path)
    _export(db_path, tmp_path / "out")
    heard, rate = sf.read(tmp_path / "out" / "user.wav", dtype="int16")
    assert rate == 16000 and np.array_equal(heard, np.concatenate(user))
    said, rate = sf.read(tmp_path / "out" / "assistant.wav", dtype="int16")
    assert rate == 24000 and np.array_equal(said, np.concatenate(first + second))


def test_split_by_response_gives_one_file_per_model_turn(tmp_path: Path) -> None:
    session, _, first, second = _two_turns()
    db_path = _import(session, tmp_path)
    _export(db_path, tmp_path / "out", "--split", "response")
    one, _ = sf.read(tmp_path / "out" / "response-001-model-turn-1.wav", dtype="int16")
    two, _ = sf.read(tmp_path / "out" / "response-002-model-turn-2.wav", dtype="int16")
    assert np.array_equal(one, np.concatenate(first))
    assert np.array_equal(two, np.concatenate(second))


def test_split_by_item_names_the_spoken_message_and_the_replies(tmp_path: Path) -> None:
    session, user, _, second = _two_turns()
    db_path = _import(session, tmp_path)
    _export(db_path, tmp_path / "out", "--split", "item")
    names = sorted(p.name for p in (tmp_path / "out").glob("item-*.wav"))
    assert names == [
        "item-001-user-speech-1.wav",
        "item-002-assistant-model-turn-1.wav",
        "item-003-assistant-model-turn-2.wav",
    ]
    spoken, _ = sf.read(tmp_path / "out" / names[0], dtype="int16")
    assert np.array_equal(spoken, np.concatenate(user))
    reply, _ = sf.read(tmp_path / "out" / names[2], dtype="int16")
    assert np.array_equal(reply, np.concatenate(second))
    items = run_cli("sql", "SELECT item_id FROM items ORDER BY position", "--json", db_path=db_path)
    assert [row["item_id"] for row in json.loads(items.stdout)] == ["speech-1", "model-turn-1"]


def test_timeline_places_the_model_audio_and_cuts_it_where_interrupted(tmp_path: Path) -> None:
    session, _, first, second = _two_turns()
    db_path = _import(session, tmp_path)
    _export(db_path, tmp_path / "out", "--timeline")
    timeline, rate = sf.read(tmp_path / "out" / "timeline.wav", dtype="int16")
    assert rate == 24000  # the highest rate of the session
    right = timeline[:, 1]
    start = 28800  # 1.2 s: the first answer, queued chunk after chunk
    assert not right[:start].any()
    assert np.array_equal(right[start : start + 14400], np.concatenate(first))
    assert not right[start + 14400 : 48000].any()
    # 2.0 s: the second answer, heard until the interruption at 2.3 s, then silence.
    assert np.array_equal(right[48000:55200], np.concatenate(second)[:7200])
    assert not right[55200:].any()
    # The user's 16 kHz audio, resampled to 24 kHz, starts at 0.1 s.
    left = timeline[:, 0]
    assert not left[:2400].any() and left[2400:26400].any() and not left[26400:].any()


def test_a_gemini_session_without_audio_says_what_it_looked_for(tmp_path: Path) -> None:
    s = GeminiSession()
    s.add(0.1, "client", {"client_content": {"turns": [{"parts": [{"text": "hi"}]}]}})
    db_path = _import(s, tmp_path)
    result = run_cli("export-wav", "last", "--out", str(tmp_path / "out"), db_path=db_path)
    assert result.returncode == 1
    assert (
        result.stderr.decode()
        .strip()
        .endswith(
            "has no audio (no realtimeInput audio and no serverContent inlineData audio); "
            "nothing to export"
        )
    )
