"""export-wav of GPT-Live sessions gives back their audio, sample for sample.

Primary connection: the user track is the client's `session.input_audio.append`s, the
assistant track the server's `session.output_audio.delta`s, both in the one format
`session.start` chose.  Sideband: copies placed at their `start_ms`, gaps as silence.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from rtrec import g711
from tests.conftest import run_cli
from tests.test_live_sdk import record_weather_call
from tests.wavtools import JsonlSession, b64, make_signal


def read(path: Path) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(path, dtype="int16")
    return samples, rate


def export(db_path: str, out: Path, *flags: str) -> None:
    result = run_cli("export-wav", "last", "--out", str(out), *flags, db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()


def audio_of(frames: list[tuple[str, str]], kind: str, field: str) -> bytes:
    found = [json.loads(frame) for _, frame in frames]
    return b"".join(base64.b64decode(e[field]) for e in found if e.get("type") == kind)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    db_path = str(tmp_path_factory.mktemp("live-wav") / "rtrec.db")
    call, _ = asyncio.run(record_weather_call(db_path, "client"))
    return db_path, call


def test_primary_tracks_are_the_audio_that_crossed_the_relay(recorded, tmp_path: Path) -> None:
    db_path, call = recorded
    export(db_path, tmp_path, "--timeline")
    user, rate = read(tmp_path / "user.wav")
    assistant, _ = read(tmp_path / "assistant.wav")
    sent = audio_of(call.frames, "session.input_audio.append", "audio")
    received = audio_of(call.frames, "session.output_audio.delta", "delta")
    assert rate == 24000
    assert user.tobytes() == sent
    assert assistant.tobytes() == received
    timeline, timeline_rate = read(tmp_path / "timeline.wav")
    assert timeline_rate == 24000 and timeline.shape[1] == 2
    # Each track's audio is all on its own channel, in order.
    left = timeline[:, 0]
    assert np.count_nonzero(left) == np.count_nonzero(user)


LAWS = {"audio/pcmu": "ulaw", "audio/pcma": "alaw"}


@pytest.mark.parametrize(
    "fmt",
    [
        None,
        {"type": "audio/pcm", "rate": 16000},
        {"type": "audio/pcm", "rate": 24000},
        {"type": "audio/pcmu", "rate": 8000},
        {"type": "audio/pcma", "rate": 8000},
    ],
    ids=["unset", "pcm16k", "pcm24k", "pcmu", "pcma"],
)
def test_one_format_for_both_directions_from_session_start(
    fmt: dict[str, Any] | None, tmp_path: Path, db_path: str
) -> None:
    rate = fmt["rate"] if fmt else 24000
    law = LAWS.get(fmt["type"]) if fmt else None
    user = [make_signal(0.1, rate, seed=s) for s in (1, 2, 3)]
    assistant = [make_signal(0.1, rate, seed=s) for s in (4, 5)]

    def encoded(samples: np.ndarray) -> bytes:
        return g711.encode(samples, law) if law else samples.astype("<i2").tobytes()

    session: dict[str, Any] = {"model": "gpt-live-1"}
    if fmt:
        session["audio"] = {"format": fmt}
    s = JsonlSession()
    s.add(0.0, "client", {"type": "session.start", "session": session})
    s.add(0.1, "server", {"type": "session.started", "session": {"id": "live_x", **session}})
    for i, chunk in enumerate(user):
        s.add(
            0.2 + 0.1 * i,
            "client",
            {"type": "session.input_audio.append", "audio": b64(encoded(chunk))},
        )
    for i, chunk in enumerate(assistant):
        s.add(
            0.6 + 0.1 * i,
            "server",
            {"type": "session.output_audio.delta", "delta": b64(encoded(chunk))},
        )
    assert run_cli("import", str(s.write(tmp_path / "s.jsonl")), db_path=db_path).returncode == 0
    export(db_path, tmp_path / "out")
    for stem, chunks in (("user", user), ("assistant", assistant)):
        samples, got_rate = read(tmp_path / "out" / f"{stem}.wav")
        assert got_rate == rate
        sent = b"".join(encoded(c) for c in chunks)
        expected = g711.decode(sent, law) if law else np.frombuffer(sent, "<i2")
        assert np.array_equal(samples, expected), stem
    sessions = json.loads(run_cli("sessions", "--json", db_path=db_path).stdout)
    assert sessions[0]["audio_in_ms"] == pytest.approx(3 * 100.0)
    assert sessions[0]["audio_out_ms"] == pytest.approx(2 * 100.0)
    assert sessions[0]["input_format"] == f"{'pcm16' if not law else 'g711_' + law}@{rate}"


def test_sideband_copies_are_placed_at_start_ms_with_gaps_as_silence(
    tmp_path: Path, db_path: str
) -> None:
    # A sideband: the server's copies of both directions, always PCM16 at 24 kHz; two
    # output copies (1200–1500 ms) were dropped.
    copies = [make_signal(0.1, seed=s) for s in (11, 12, 13, 14)]
    starts = [1000, 1100, 1500, 1600]
    heard = [make_signal(0.05, seed=s) for s in (21, 22)]
    s = JsonlSession()
    for i, chunk in enumerate(heard):
        s.add(
            0.9 + 0.05 * i,
            "server",
            {"type": "session.input_audio.append", "audio": b64(chunk.tobytes())},
        )
    for chunk, start in zip(copies, starts, strict=True):
        event = {
            "type": "session.output_audio.delta",
            "delta": b64(chunk.tobytes()),
            "start_ms": start,
            "end_ms": start + 100,
        }
        s.add(start / 1000 + 0.02, "server", event)
    assert run_cli("import", str(s.write(tmp_path / "s.jsonl")), db_path=db_path).returncode == 0
    export(db_path, tmp_path / "out", "--timeline")
    out = tmp_path / "out"
    assistant, rate = read(out / "assistant.wav")
    assert rate == 24000
    silence = np.zeros
    expected = np.concatenate(
        [
            silence(24000, np.int16),
            copies[0],
            copies[1],
            silence(7200, np.int16),
            copies[2],
            copies[3],
        ]
    )
    assert np.array_equal(assistant, expected)
    user, _ = read(out / "user.wav")
    assert np.array_equal(user, np.concatenate(heard))
    timeline, _ = read(out / "timeline.wav")
    right = timeline[:, 1]
    for chunk, start in zip(copies, starts, strict=True):
        at = start * 24
        assert np.array_equal(right[at : at + 2400], chunk), start
    assert not right[1200 * 24 : 1500 * 24].any()  # the dropped copies: silence


def test_split_is_refused_with_the_reason(recorded, tmp_path: Path) -> None:
    db_path, _ = recorded
    result = run_cli(
        "export-wav", "last", "--out", str(tmp_path / "out"), "--split", "item", db_path=db_path
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "GPT-Live audio is one continuous stream each way" in stderr
    assert not (tmp_path / "out").exists()
