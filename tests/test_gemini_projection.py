"""The Gemini projection rules of DESIGN.md, one case each, on sessions written by hand."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from rtrec.jsonl import encode_line
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl


class Session:
    def __init__(self) -> None:
        self.t = 0.0
        self.lines: list[str] = []
        self.client({"setup": {"model": "models/m"}})
        self.server({"setupComplete": {}})

    def _add(self, direction: str, message: dict[str, Any]) -> None:
        self.t += 0.1
        self.lines.append(encode_line(round(self.t * 1e9), direction, json.dumps(message)))

    def client(self, message: dict[str, Any]) -> None:
        self._add("client", message)

    def server(self, message: dict[str, Any]) -> None:
        self._add("server", message)

    def content(self, **fields: Any) -> None:
        self.server({"serverContent": fields})

    def said(self, text: str) -> None:
        self.content(outputTranscription={"text": text})

    def heard(self, text: str) -> None:
        self.content(inputTranscription={"text": text})

    def audio(self) -> None:
        blob = {"mimeType": "audio/pcm;rate=24000", "data": "AAAA"}
        self.content(modelTurn={"parts": [{"inlineData": blob}]})

    def ask(self, text: str, *, complete: bool = True) -> None:
        turn = {"role": "user", "parts": [{"text": text}]}
        self.client({"client_content": {"turns": [turn], "turnComplete": complete}})

    def project(self, tmp_path: Path) -> sqlite3.Connection:
        conn = open_db(str(tmp_path / "rtrec.db"))
        import_jsonl(conn, self.lines, source_name="test")
        return conn


def _items(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT role, text, status FROM items ORDER BY position").fetchall()


def test_text_parts_win_over_transcripts_and_thoughts_stay_out(tmp_path: Path) -> None:
    s = Session()
    s.ask("Hi")
    s.said("spoken ")  # the transcript comes first: the message takes its place here
    s.content(modelTurn={"parts": [{"text": "Reasoning.", "thought": True}]})
    s.content(modelTurn={"parts": [{"text": "Written "}, {"text": "answer."}]})
    s.said("words")
    s.content(turnComplete=True)
    assert _items(s.project(tmp_path)) == [
        ("user", "Hi", "completed"),
        ("assistant", "Written answer.", "completed"),
    ]


def test_a_model_turn_with_neither_text_nor_transcript_makes_no_message(tmp_path: Path) -> None:
    s = Session()
    s.ask("Hi")
    s.content(modelTurn={"parts": [{"text": "Only thinking.", "thought": True}]})
    s.audio()
    s.content(turnComplete=True)
    conn = s.project(tmp_path)
    assert _items(conn) == [("user", "Hi", "completed")]
    responses = conn.execute("SELECT status, first_audio_ms IS NOT NULL FROM responses")
    assert responses.fetchall() == [("completed", 1)]


def test_interrupted_then_its_turn_complete_is_one_interrupted_reply(tmp_path: Path) -> None:
    s = Session()
    s.heard("Tell me a story")
    s.said("Once upon")
    s.audio()
    s.content(interrupted=True)
    s.heard(" Stop")  # after the interruption: the next run
    s.server({"serverContent": {"turnComplete": True}, "usageMetadata": {"totalTokenCount": 9}})
    s.said("Sure.")
    s.content(turnComplete=True)
    conn = s.project(tmp_path)
    assert _items(conn) == [
        ("user", "Tell me a story", "completed"),
        ("assistant", "Once upon", "incomplete"),
        ("user", " Stop", "completed"),
        ("assistant", "Sure.", "completed"),
    ]
    responses = conn.execute(
        "SELECT response_id, status, total_tokens FROM responses ORDER BY created_ms"
    ).fetchall()
    assert responses == [("model-turn-1", "interrupted", 9), ("model-turn-2", "completed", None)]
    turns = conn.execute("SELECT item_id, response_id FROM turns ORDER BY turn").fetchall()
    assert turns == [("speech-1", "model-turn-1"), ("speech-2", "model-turn-2")]


def test_a_late_fragment_of_what_the_user_said_joins_its_message(tmp_path: Path) -> None:
    s = Session()
    s.heard("What time")
    s.said("It is")
    s.heard(" is it?")  # transcripts are not ordered with the model's output
    s.said(" noon.")
    s.content(turnComplete=True)
    assert _items(s.project(tmp_path)) == [
        ("user", "What time is it?", "completed"),
        ("assistant", "It is noon.", "completed"),
    ]


def test_history_seeding_and_a_later_bare_turn_complete(tmp_path: Path) -> None:
    s = Session()
    seeded = [
        {"role": "user", "parts": [{"text": "I am Ann."}]},
        {"role": "model", "parts": [{"text": "Hello Ann."}]},
    ]
    s.client({"clientContent": {"turns": seeded, "turnComplete": False}})
    s.ask("Who am I?", complete=False)
    s.client({"client_content": {"turn_complete": True}})  # session.send() with no input
    s.said("Ann.")
    s.audio()
    s.content(turnComplete=True)
    conn = s.project(tmp_path)
    assert [item[:2] for item in _items(conn)] == [
        ("user", "I am Ann."),
        ("assistant", "Hello Ann."),
        ("user", "Who am I?"),
        ("assistant", "Ann."),
    ]
    turns = conn.execute("SELECT ended_by, response_id, latency_ms FROM turns ORDER BY turn")
    assert turns.fetchall() == [
        ("message", None, None),
        ("turn_complete", "model-turn-1", 200.0),  # from the bare turnComplete to the audio
    ]


def test_manual_activity_end_marks_the_end_of_speech(tmp_path: Path) -> None:
    s = Session()
    s.client({"realtime_input": {"activity_start": {}}})
    s.client({"realtime_input": {"activityEnd": {}}})
    s.heard("Hello")
    s.said("Hi")
    s.audio()
    s.content(turnComplete=True)
    conn = s.project(tmp_path)
    turn = conn.execute("SELECT ended_by, speech_stopped_ms, latency_ms FROM turns").fetchone()
    assert turn == ("activity_end", 400.0, 300.0)


def test_realtime_input_text_is_a_user_message(tmp_path: Path) -> None:
    s = Session()
    s.client({"realtime_input": {"text": "typed"}})
    s.said("ok")
    s.content(turnComplete=True)
    assert _items(s.project(tmp_path)) == [
        ("user", "typed", "completed"),
        ("assistant", "ok", "completed"),
    ]


def test_cancelled_calls_and_go_away_and_errors(tmp_path: Path) -> None:
    s = Session()
    s.ask("Weather?")
    call = {"id": "c1", "name": "get_weather", "args": {"city": "Oslo"}}
    s.server({"toolCall": {"functionCalls": [call]}})
    s.server({"toolCallCancellation": {"ids": ["c1"]}})
    s.server({"goAway": {"timeLeft": "10s"}})
    s.server({"error": {"code": 8, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})
    conn = s.project(tmp_path)
    calls = conn.execute("SELECT type, status, arguments, output FROM items WHERE call_id = 'c1'")
    assert calls.fetchall() == [("function_call", "cancelled", '{"city":"Oslo"}', None)]
    errors = conn.execute("SELECT type, code, message FROM errors ORDER BY seq").fetchall()
    assert errors == [
        ("goAway", None, "the server will close the connection in 10s"),
        ("RESOURCE_EXHAUSTED", "8", "quota"),
    ]
    assert conn.execute("SELECT errors FROM sessions").fetchone() == (1,)
