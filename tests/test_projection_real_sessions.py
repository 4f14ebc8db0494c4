"""Each real OpenAI / Azure session rebuilds into the conversation its events describe.

The expectations were read off the JSONL files by hand: item order (from
previous_item_id), roles, the text or transcript of each item, tool calls with their
arguments and the outputs the client sent back.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.projection import catch_up
from tests.conftest import REAL_SESSIONS

MARCELO = "Hello, my name is Marcelo."
LONDON_ARGS = '{  \n  "city": "London" \n} \n'
LONDON = "It is foggy and 12 degrees in London."

# (type, role, text, call_id suffix / name, arguments, output) per item, in order.
EXPECTED: dict[str, list[tuple]] = {
    "test_azure_ws__test_audio_in_server_vad_transcribes": [
        ("message", "user", MARCELO),
        (
            "message",
            "assistant",
            "Hi Marcelo, it's great to meet you! What can I help you with today?",
        ),
    ],
    "test_azure_ws__test_audio_in_server_vad_transcription_requires_deployment": [
        ("message", "user", None),  # transcription failed: DeploymentNotFound
        ("message", "assistant", "Hi Marcelo, it's great to meet you. How can I help you today?"),
    ],
    "test_azure_ws__test_message_history_seeding": [
        ("message", "user", "My name is Alice and my favorite color is teal."),
        ("message", "assistant", "Nice to meet you, Alice!"),
        ("message", "user", "What is my name and favorite color?"),
        (
            "message",
            "assistant",
            "Your name is Alice, and your favorite color is teal! Got it locked in. "
            "Let\u2019s make this chat as vibrant as that color, shall we?",
        ),
    ],
    "test_azure_ws__test_spoken_turn_transcribed_drives_a_tool_and_answers_in_audio": [
        ("message", "user", MARCELO),
        (
            "function_call",
            None,
            None,
            "call_42LHxWvnwPP9TAch",
            "remember_name",
            '{  \n  "name": "Marcelo" \n} \n',
        ),
        (
            "function_call_output",
            None,
            None,
            "call_42LHxWvnwPP9TAch",
            None,
            None,
            "Stored Marcelo.",
        ),
        (
            "message",
            "assistant",
            "Hello Marcelo, it's great to meet you! How can I help you today?",
        ),
    ],
    "test_azure_ws__test_text_in_audio_out_turn": [
        ("message", "user", "Say a short greeting."),
        ("message", "assistant", "Hello there! Great to meet you!"),
    ],
    "test_azure_ws__test_tool_call_round": [
        ("message", "user", "What is the weather in London?"),
        ("function_call", None, None, "call_I5nx0fK2YAldYQZs", "get_weather", LONDON_ARGS),
        ("function_call_output", None, None, "call_I5nx0fK2YAldYQZs", None, None, LONDON),
        ("message", "assistant", LONDON),
    ],
    "test_openai_ws__test_audio_in_server_vad_turn": [
        ("message", "user", MARCELO),
        ("message", "assistant", "Hello, Marcelo! Great to meet you. How can I help you today?"),
    ],
    "test_openai_ws__test_input_audio_retention_segments_three_server_vad_turns": [
        ("message", "user", MARCELO),
        ("message", "assistant", "Hi Marcelo! Nice to meet you."),
        ("message", "user", MARCELO),
        ("message", "assistant", "Hi Marcelo! Great to meet you."),
        ("message", "user", MARCELO),
        ("message", "assistant", "Hey Marcelo, nice meeting you."),
    ],
    "test_openai_ws__test_message_history_seeding": [
        ("message", "user", "My name is Alice and my favorite color is teal."),
        ("message", "assistant", "Nice to meet you, Alice!"),
        ("message", "user", "What is my name and favorite color?"),
        ("message", "assistant", "Your name is Alice, and your favorite color is teal!"),
    ],
    "test_openai_ws__test_text_in_audio_out_turn": [
        ("message", "user", "Say a short greeting."),
        ("message", "assistant", "Hi there!"),
    ],
    "test_openai_ws__test_tool_call_round": [
        ("message", "user", "What is the weather in London?"),
        ("function_call", None, None, "call_uMNE0Myi2tDTPu0w", "get_weather", LONDON_ARGS),
        ("function_call_output", None, None, "call_uMNE0Myi2tDTPu0w", None, None, LONDON),
        ("message", "assistant", LONDON),
    ],
}

# response count, statuses, and (input, output, total) tokens of the last response
RESPONSES = {
    "test_azure_ws__test_audio_in_server_vad_transcribes": (["completed"], (40, 106, 146)),
    "test_azure_ws__test_tool_call_round": (["completed", "completed"], (96, 13, 109)),
    "test_openai_ws__test_input_audio_retention_segments_three_server_vad_turns": (
        ["completed"] * 3,
        (187, 115, 302),
    ),
    "test_openai_ws__test_tool_call_round": (["completed", "completed"], (103, 13, 116)),
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    conn = open_db(str(tmp_path_factory.mktemp("real") / "real.db"))
    for path in sorted(REAL_SESSIONS.glob("*.jsonl")):
        with path.open("rb") as lines:
            session = import_jsonl(conn, lines, source_name=path.stem)
        conn.execute("UPDATE session SET path = ? WHERE id = ?", (path.stem, session.db_id))
        assert catch_up(conn, [session.db_id]) == 0  # import_jsonl projected it already
    return conn


def _session(conn: sqlite3.Connection, name: str) -> int:
    return conn.execute("SELECT id FROM session WHERE path = ?", (name,)).fetchone()[0]


def test_every_fixture_has_expectations():
    assert {p.stem for p in Path(REAL_SESSIONS).glob("*.jsonl")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_session_rebuilds_its_conversation(imported: sqlite3.Connection, name: str):
    sid = _session(imported, name)
    rows = imported.execute(
        "SELECT position, type, role, text, call_id, name, arguments, output, deleted "
        "FROM items WHERE session_id = ? ORDER BY position",
        (sid,),
    ).fetchall()
    assert [r[0] for r in rows] == list(range(len(rows)))
    assert not any(r[8] for r in rows)
    got = []
    for _, kind, role, text, call_id, fname, arguments, output, _ in rows:
        if kind == "message":
            got.append((kind, role, text))
        elif kind == "function_call":
            got.append((kind, None, None, call_id, fname, arguments))
        else:
            got.append((kind, None, None, call_id, None, None, output))
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_real_session_responses_and_usage(imported: sqlite3.Connection, name: str):
    statuses, last_usage = RESPONSES[name]
    rows = imported.execute(
        "SELECT status, input_tokens, output_tokens, total_tokens, created_ms, done_ms "
        "FROM responses WHERE session_id = ? ORDER BY created_ms",
        (_session(imported, name),),
    ).fetchall()
    assert [r[0] for r in rows] == statuses
    assert rows[-1][1:4] == last_usage
    assert all(r[5] > r[4] for r in rows)


def test_failed_transcription_is_kept_with_its_error(imported: sqlite3.Connection):
    sid = _session(
        imported, "test_azure_ws__test_audio_in_server_vad_transcription_requires_deployment"
    )
    status, error = imported.execute(
        "SELECT transcription_status, transcription_error FROM items "
        "WHERE session_id = ? AND role = 'user'",
        (sid,),
    ).fetchone()
    assert status == "failed"
    assert error == "Input transcription failed for item 'item_E4GEZV6Pux1f4VnDEzVPh'."


def test_vad_turns_of_the_three_turn_session(imported: sqlite3.Connection):
    sid = _session(
        imported, "test_openai_ws__test_input_audio_retention_segments_three_server_vad_turns"
    )
    rows = imported.execute(
        "SELECT turn, input, ended_by, audio_start_ms, audio_end_ms, latency_ms, text "
        "FROM turns WHERE session_id = ? ORDER BY turn",
        (sid,),
    ).fetchall()
    assert [r[:5] for r in rows] == [
        (0, "audio", "speech_stopped", 1460, 4256),
        (1, "audio", "speech_stopped", 8948, 11744),
        (2, "audio", "speech_stopped", 16436, 19232),
    ]
    assert all(r[5] > 0 and r[6] == MARCELO for r in rows)
    in_ms, out_ms, limits = imported.execute(
        "SELECT s.audio_in_ms, s.audio_out_ms, json_extract(p.rate_limits, '$[0].remaining') "
        "FROM sessions s JOIN projected_session p USING (session_id) WHERE session_id = ?",
        (sid,),
    ).fetchone()
    # 225 appends and 35 deltas of 33 bytes, pcm16 at 24 kHz: 48 bytes a millisecond.
    assert (in_ms, out_ms, limits) == (7425 / 48, 1155 / 48, 14999315)


def test_tool_round_answer_time(imported: sqlite3.Connection):
    sid = _session(imported, "test_openai_ws__test_tool_call_round")
    row = imported.execute(
        "SELECT name, output, called_ms, answered_ms, answer_ms FROM tool_calls "
        "WHERE session_id = ?",
        (sid,),
    ).fetchone()
    # arguments.done at event 22, the client's function_call_output at event 23 (20 ms apart)
    assert row == ("get_weather", LONDON, 440.0, 460.0, 20.0)
