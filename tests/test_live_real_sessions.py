"""Real GPT-Live captures rebuild to what DESIGN.md's rules say they describe.

Each `NAME.jsonl` under fixtures/real-sessions/live/ has a `NAME.expect.json` beside
it (written from the captures by hand, see that directory's README): model, provider
session id, usage, audio seconds each way, the messages in order and each turn's end
of speech and latency.  They are imported as a user would (`rtrec import`) and read
back from the views.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL_SESSIONS, run_cli

LIVE = REAL_SESSIONS / "live"
CAPTURES = sorted(LIVE.glob("*.jsonl"))


def _rows(db_path: str, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql)]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each capture imported into its own database: name → database path."""
    out = {}
    for capture in CAPTURES:
        db_path = str(tmp_path_factory.mktemp("live") / "rtrec.db")
        result = run_cli("import", str(capture), db_path=db_path)
        assert result.returncode == 0, result.stderr.decode()
        out[capture.stem] = db_path
    return out


def test_every_capture_has_its_expectation() -> None:
    assert len(CAPTURES) == 3
    for capture in CAPTURES:
        assert capture.with_suffix(".expect.json").exists(), capture


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_capture_rebuilds_to_its_expectation(capture: Path, imported: dict[str, str]) -> None:
    expect = json.loads(capture.with_suffix(".expect.json").read_text())
    db_path = imported[capture.stem]
    (session,) = _rows(db_path, "SELECT * FROM sessions")
    assert session["protocol"] == "live"
    assert session["model"] == expect["model"]
    assert session["provider_session_id"] == expect["provider_session_id"]
    assert session["usage_seconds"] == expect["usage_seconds"]
    assert round(session["audio_in_ms"] / 1000, 3) == expect["audio_in_s"]
    assert round(session["audio_out_ms"] / 1000, 3) == expect["audio_out_s"]
    items = _rows(db_path, "SELECT type, role, text FROM items ORDER BY position")
    assert items == expect["items"]
    turns = _rows(
        db_path,
        "SELECT text, speech_stopped_ms AS speech_end_ms, latency_ms FROM turns ORDER BY turn",
    )
    assert turns == expect["turns"]


def test_turns_say_which_anchors_measured_them(imported: dict[str, str]) -> None:
    turns = _rows(
        imported["usable-window-interrupt"],
        "SELECT item_id, ended_by, audio_source, audio_end_ms, first_audio_ms, response_id "
        "FROM turns ORDER BY turn",
    )
    assert turns == [
        {
            "item_id": "live-msg-1",
            "ended_by": "transcript_end",
            "audio_source": "transcript_start",
            "audio_end_ms": 5000,
            "first_audio_ms": 5000.0,
            "response_id": "live-msg-2",
        },
        {
            "item_id": "live-msg-3",
            "ended_by": "transcript_end",
            "audio_source": "transcript_start",
            "audio_end_ms": 14000,
            "first_audio_ms": 14400.0,
            "response_id": "live-msg-4",
        },
    ]


def test_a_reply_the_user_talks_over_is_interrupted(imported: dict[str, str]) -> None:
    responses = _rows(
        imported["usable-window-interrupt"],
        "SELECT response_id, status, created_ms, done_ms, turn_item_id FROM responses "
        "ORDER BY created_ms",
    )
    assert responses == [
        {
            "response_id": "live-msg-2",
            "status": "completed",
            "created_ms": 5000.0,
            "done_ms": 6200.0,
            "turn_item_id": "live-msg-1",
        },
        # The user's second message (8400–14000 ms) overlaps this one (12600–16400 ms).
        {
            "response_id": "live-msg-4",
            "status": "interrupted",
            "created_ms": 12600.0,
            "done_ms": 16400.0,
            "turn_item_id": "live-msg-3",
        },
    ]


def test_client_delegations_are_tool_calls_answered_by_commentary(
    imported: dict[str, str],
) -> None:
    calls = _rows(
        imported["usable-window-final-3000"],
        "SELECT kind, call_id, name, arguments, output, called_ms, answered_ms FROM tool_calls",
    )
    assert calls == [
        {
            "kind": "delegation",
            "call_id": "item_EX1YLPrFMDkI4xsEsBrNA",
            "name": "client",
            "arguments": '{"offset_ms":4800}',
            "output": "[elided when captured: 61 bytes]",
            "called_ms": 6552.0,
            "answered_ms": 9556.0,
        }
    ]
    # A delegation carries no words: it is not a conversation item.
    assert (
        _rows(imported["usable-window-final-3000"], "SELECT * FROM items WHERE type != 'message'")
        == []
    )


def test_the_close_and_the_server_error_are_in_the_views(imported: dict[str, str]) -> None:
    db_path = imported["usable-window-final-3000"]
    (session,) = _rows(db_path, "SELECT closed_reason, end_reason FROM sessions")
    assert session == {"closed_reason": "close_requested", "end_reason": "imported"}
    (error,) = _rows(db_path, "SELECT type, code, message FROM errors")
    assert error == {
        "type": "server_error",
        "code": "context_injection_incomplete",
        "message": "The session closed before the estimated context injection completed.",
    }


def test_session_updates_hold_the_resolved_configuration(imported: dict[str, str]) -> None:
    rows = _rows(
        imported["live-session"],
        "SELECT event_type, model, voice, input_format, output_format FROM session_updates",
    )
    assert rows == [
        {
            "event_type": "session.started",
            "model": "gpt-live-1",
            "voice": "marin",
            "input_format": "pcm16@24000",
            "output_format": "pcm16@24000",
        }
    ]
