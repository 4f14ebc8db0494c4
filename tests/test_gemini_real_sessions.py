"""Each real Gemini Live session imports and rebuilds into the items its expect.json lists.

The sessions are pydantic-ai's WebSocket cassettes of the real API (see the README
beside them): snake_case top-level keys on sent frames, `thought: true` parts,
generationComplete before turnComplete, usageMetadata riding on turnComplete frames,
URL-safe base64 in the audio sent.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

import pytest

from rtrec.projector import EventRow
from rtrec.store import projection
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.projection import SELECT_EVENTS_WITH_AUDIO_FRAMES, reproject
from tests.conftest import REAL_SESSIONS, run_cli

GEMINI = REAL_SESSIONS / "gemini"
SESSIONS = sorted(path.stem for path in GEMINI.glob("*.jsonl"))
ITEM_COLUMNS = ("item_id", "type", "role", "text", "name", "call_id", "arguments", "output")


def _import(tmp_path: Path, name: str) -> tuple[sqlite3.Connection, int]:
    conn = open_db(str(tmp_path / "rtrec.db"))
    with (GEMINI / f"{name}.jsonl").open("rb") as lines:
        session = import_jsonl(conn, lines, source_name=name)
    assert session.db_id is not None
    return conn, session.db_id


def _items(conn: sqlite3.Connection, session_id: int) -> list[dict[str, object]]:
    rows = conn.execute(
        f"SELECT {', '.join(ITEM_COLUMNS)} FROM items WHERE session_id = ? ORDER BY position",
        (session_id,),
    ).fetchall()
    return [dict(zip(ITEM_COLUMNS, row, strict=True)) for row in rows]


def _comparable(items: list[dict[str, object]]) -> list[dict[str, object]]:
    """Items without their ids: the expectations name none (each protocol makes its own)."""
    return [{k: v for k, v in item.items() if k != "item_id"} for item in items]


def test_all_five_sessions_are_here():
    assert len(SESSIONS) == 5


@pytest.mark.parametrize("name", SESSIONS)
def test_rebuilds_to_its_expectation(tmp_path: Path, name: str):
    conn, session_id = _import(tmp_path, name)
    expected = json.loads((GEMINI / f"{name}.expect.json").read_text())
    assert _comparable(_items(conn, session_id)) == _comparable(expected)
    protocol, model, unknown = conn.execute(
        "SELECT protocol, model, unknown_events FROM sessions WHERE session_id = ?",
        (session_id,),
    ).fetchone()
    assert protocol == "gemini"
    assert model == "models/gemini-2.5-flash-native-audio-preview-09-2025"
    assert unknown == 0
    # Rebuilt from the log alone, the conversation is the same.
    reproject(conn, [session_id])
    assert _comparable(_items(conn, session_id)) == _comparable(expected)


@pytest.mark.parametrize("name", SESSIONS)
def test_every_frame_comes_back_exactly(tmp_path: Path, name: str):
    """Audio is stored compacted (the sent audio's URL-safe base64 included), and
    `rtrec export` gives every frame back as it was."""
    _import(tmp_path, name)
    out = run_cli("export", "last", db_path=str(tmp_path / "rtrec.db"))
    assert out.returncode == 0, out.stderr
    original = [json.loads(line) for line in (GEMINI / f"{name}.jsonl").read_text().splitlines()]
    exported = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert [(e["dir"], json.loads(e["frame"])) for e in exported] == [
        (o["dir"], o["event"]) for o in original
    ]


def test_audio_frames_are_compacted_both_alphabets(tmp_path: Path):
    conn, session_id = _import(tmp_path, "test_google_ws__test_audio_in_server_vad_turn")
    rows = conn.execute(
        "SELECT type, direction, count(*), sum(length(audio)), sum(flags & 8 = 8) FROM event "
        "WHERE session_id = ? AND audio IS NOT NULL GROUP BY 1, 2",
        (session_id,),
    ).fetchall()
    # 55 chunks sent (URL-safe base64: flagged, unless a chunk's base64 happens to hold
    # neither - nor _), 54 of 3200 bytes and one of 2816; 7 received (standard base64).
    assert rows == [
        ("realtimeInput", "client", 55, 54 * 3200 + 2816, 38),
        ("serverContent", "server", 7, 7 * 33, 0),
    ]


def test_responses_and_turns(tmp_path: Path):
    conn, session_id = _import(
        tmp_path, "test_google_ws__test_asap_enqueue_waits_for_response_boundary"
    )
    responses = conn.execute(
        "SELECT response_id, status, input_tokens, output_tokens, total_tokens FROM responses "
        "WHERE session_id = ? ORDER BY created_ms",
        (session_id,),
    ).fetchall()
    assert responses == [
        ("model-turn-1", "completed", 1185, 51, 1236),
        ("model-turn-2", "completed", 1251, 63, 1314),
    ]
    turns = conn.execute(
        "SELECT ended_by, response_id, latency_ms, audio_source FROM turns "
        "WHERE session_id = ? ORDER BY turn",
        (session_id,),
    ).fetchall()
    # t advances 20 ms per event in these cassettes: the first turn waits for a tool round.
    assert turns == [
        ("turn_complete", "model-turn-1", 80.0, "audio_delta"),
        ("turn_complete", "model-turn-2", 40.0, "audio_delta"),
    ]
    calls = conn.execute(
        "SELECT name, call_id, arguments, output FROM tool_calls WHERE session_id = ?",
        (session_id,),
    ).fetchall()
    assert calls == [
        ("queue_followup", "function-call-13811092561394529529", "{}", '{"output":"armed"}')
    ]


def test_spoken_turn_is_measured_from_the_transcript_end(tmp_path: Path):
    conn, session_id = _import(tmp_path, "test_google_ws__test_audio_in_server_vad_turn")
    turn = conn.execute(
        "SELECT input, ended_by, speech_stopped_ms, first_audio_ms, latency_ms FROM turns "
        "WHERE session_id = ?",
        (session_id,),
    ).fetchall()
    # The last inputTranscription arrives at 1.22 s, the first model audio at 1.28 s.
    assert turn == [("audio", "transcript_end", 1220.0, 1280.0, 60.0)]
    audio_in, input_format = conn.execute(
        "SELECT audio_in_ms, input_format FROM sessions WHERE session_id = ?", (session_id,)
    ).fetchone()
    assert audio_in == pytest.approx(5488.0)
    assert input_format == "pcm16@16000"


@pytest.mark.parametrize("name", SESSIONS)
def test_binary_server_frames_read_the_same(tmp_path: Path, name: str):
    """The real server sends its JSON messages as binary frames: typed, compacted and
    projected as text ones are, and given back as the same bytes."""
    lines = []
    for line in (GEMINI / f"{name}.jsonl").read_text().splitlines():
        entry = json.loads(line)
        frame = json.dumps(entry["event"])
        if entry["dir"] == "server":
            entry = {
                "t": entry["t"],
                "dir": "server",
                "frame_b64": base64.b64encode(frame.encode()).decode(),
            }
        else:
            entry = {"t": entry["t"], "dir": "client", "frame": frame}
        lines.append(json.dumps(entry))
    source = tmp_path / "binary.jsonl"
    source.write_text("\n".join(lines) + "\n")
    conn = open_db(str(tmp_path / "rtrec.db"))
    with source.open("rb") as handle:
        session = import_jsonl(conn, handle, source_name="binary.jsonl")
    assert session.db_id is not None
    expected = json.loads((GEMINI / f"{name}.expect.json").read_text())
    assert _comparable(_items(conn, session.db_id)) == _comparable(expected)
    untyped = conn.execute(
        "SELECT count(*) FROM event WHERE session_id = ? AND type IS NULL", (session.db_id,)
    ).fetchone()
    assert untyped == (0,)
    out = run_cli("export", "last", db_path=str(tmp_path / "rtrec.db"))
    assert out.returncode == 0, out.stderr
    assert [json.loads(line) for line in out.stdout.decode().splitlines()] == [
        json.loads(line) for line in lines
    ]


@pytest.mark.parametrize("name", SESSIONS)
def test_a_projection_stopped_anywhere_carries_on_to_the_same_state(
    tmp_path: Path, name: str
) -> None:
    """The Gemini work state (model turns, the open spoken message…) survives a restart."""
    conn, session_id = _import(tmp_path, name)
    expected = _items(conn, session_id)
    turns = conn.execute("SELECT * FROM turns WHERE session_id = ?", (session_id,)).fetchall()
    rows = [
        EventRow(*row)
        for row in conn.execute(SELECT_EVENTS_WITH_AUDIO_FRAMES, (session_id, -1, 10**6))
    ]
    for cut in range(1, len(rows), max(1, len(rows) // 7)):
        tracked = projection.fresh(conn, session_id, replace=True)
        tracked.projector.apply_all(rows[:cut])
        projection.write(conn, tracked)
        resumed = projection.load(conn, session_id)
        resumed.projector.apply_all(rows[cut:])
        projection.write(conn, resumed)
        assert _items(conn, session_id) == expected, cut
        again = conn.execute("SELECT * FROM turns WHERE session_id = ?", (session_id,))
        assert again.fetchall() == turns, cut


def test_a_session_of_binary_frames_only_is_recognised(tmp_path: Path) -> None:
    """Some clients send their JSON in binary frames too: the first object still decides."""
    name = "test_google_ws__test_text_in_audio_out_turn"
    lines = []
    for line in (GEMINI / f"{name}.jsonl").read_text().splitlines():
        entry = json.loads(line)
        frame = base64.b64encode(json.dumps(entry["event"]).encode()).decode()
        lines.append(json.dumps({"t": entry["t"], "dir": entry["dir"], "frame_b64": frame}))
    conn = open_db(str(tmp_path / "rtrec.db"))
    session = import_jsonl(conn, lines, source_name="binary.jsonl")
    assert session.db_id is not None
    expected = json.loads((GEMINI / f"{name}.expect.json").read_text())
    assert _comparable(_items(conn, session.db_id)) == _comparable(expected)
