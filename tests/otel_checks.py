"""Checking spans read back from a receiver against the views they were made from."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TOLERANCE_NS = 1_000_000  # recorded times come back within 1 ms


def shared_fixtures(protocol: str) -> list[Path]:
    """The real GPT-Live / Gemini sessions: in tests/fixtures, else shared/ beside the repo."""
    for base in (
        REPO / "tests" / "fixtures" / "real-sessions",
        REPO.parent / "shared" / "fixtures" / "real-sessions",
        REPO.parent.parent / "shared" / "fixtures" / "real-sessions",
    ):
        files = sorted((base / protocol).glob("*.jsonl"))
        if files:
            return files
    return []


def ns(iso: str) -> int:
    moment = datetime.fromisoformat(iso)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def rows(db_path: str, sql: str, *params: object) -> list[dict[str, Any]]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def close_to(got_ns: int, started_ns: int, ms: float | None) -> bool:
    return ms is not None and abs(got_ns - (started_ns + ms * 1e6)) <= TOLERANCE_NS


class SessionSpans:
    """One session's spans as a receiver gave them back, by kind."""

    def __init__(self, spans: list[dict[str, Any]]) -> None:
        self.all = spans
        self.by_id = {s["context"]["span_id"]: s for s in spans}
        roots = [s for s in spans if not s.get("parent_id")]
        assert len(roots) == 1, [s["name"] for s in roots]
        self.root = roots[0]

    def op(self, name: str) -> list[dict[str, Any]]:
        return [s for s in self.all if s["attributes"].get("gen_ai.operation.name") == name]

    def turns(self) -> list[dict[str, Any]]:
        return [s for s in self.all if "rtrec.turn.index" in s["attributes"]]

    def parent(self, span: dict[str, Any]) -> dict[str, Any]:
        return self.by_id[span["parent_id"]]


def check_session(db_path: str, session_id: int, spans: list[dict[str, Any]]) -> SessionSpans:
    """The trace of one session against its views: tree, times, attributes."""
    (session,) = rows(
        db_path,
        "SELECT v.*, s.started_ns FROM sessions v JOIN session s ON s.id = v.session_id "
        "WHERE v.session_id = ?",
        session_id,
    )
    start = session["started_ns"]
    got = SessionSpans(spans)
    uuid_hex = session["uuid"].replace("-", "")
    assert {s["context"]["trace_id"] for s in spans} == {uuid_hex}
    root = got.root
    assert close_to(ns(root["start_time"]), start, 0)
    assert root["attributes"]["rtrec.session.uuid"] == session["uuid"]
    assert root["attributes"]["gen_ai.operation.name"] == "realtime_session"
    if session["model"]:
        assert root["attributes"]["gen_ai.request.model"] == session["model"]
    if session["end_reason"]:
        assert root["attributes"]["rtrec.session.end_reason"] == session["end_reason"]

    turns = rows(db_path, "SELECT * FROM turns WHERE session_id = ? ORDER BY turn", session_id)
    turn_spans = {s["attributes"]["rtrec.turn.item_id"]: s for s in got.turns()}
    assert set(turn_spans) == {t["item_id"] for t in turns}
    for turn in turns:
        span = turn_spans[turn["item_id"]]
        assert span["parent_id"] == root["context"]["span_id"]
        assert span["attributes"]["rtrec.turn.index"] == turn["turn"]
        if turn["latency_ms"] is not None:
            assert abs(span["attributes"]["rtrec.turn.latency_ms"] - turn["latency_ms"]) < 1e-6
        else:
            assert "rtrec.turn.latency_ms" not in span["attributes"]
    speech = {s["attributes"]["rtrec.turn.item_id"]: s for s in got.op("user_speech")}
    for turn in turns:
        if turn["speech_started_ms"] is None:
            assert turn["item_id"] not in speech
            continue
        span = speech[turn["item_id"]]
        assert got.parent(span) is turn_spans[turn["item_id"]]
        assert close_to(ns(span["start_time"]), start, turn["speech_started_ms"])
        assert close_to(ns(span["end_time"]), start, turn["speech_stopped_ms"])

    responses = rows(db_path, "SELECT * FROM responses WHERE session_id = ?", session_id)
    inference = {s["attributes"]["gen_ai.response.id"]: s for s in got.op("realtime_inference")}
    assert set(inference) == {r["response_id"] for r in responses}
    latency_of = {t["response_id"]: t["latency_ms"] for t in turns if t["response_id"]}
    for response in responses:
        span = inference[response["response_id"]]
        parent = got.parent(span)
        if response["turn_item_id"] in turn_spans:
            assert parent is turn_spans[response["turn_item_id"]]
        else:
            assert parent is root
        if response["created_ms"] is not None:
            assert close_to(ns(span["start_time"]), start, response["created_ms"])
        if response["done_ms"] is not None:
            assert close_to(ns(span["end_time"]), start, response["done_ms"])
        attributes = span["attributes"]
        for column, name in (
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
            ("input_audio_tokens", "gen_ai.usage.audio.input_tokens"),
            ("output_audio_tokens", "gen_ai.usage.audio.output_tokens"),
            ("cached_tokens", "gen_ai.usage.cache_read.input_tokens"),
        ):
            assert attributes.get(name) == response[column], (name, attributes.get(name))
        if response["status"]:
            assert attributes["rtrec.response.status"] == response["status"]
        if latency_of.get(response["response_id"]) is not None:
            assert (
                abs(attributes["rtrec.turn.latency_ms"] - latency_of[response["response_id"]])
                < 1e-6
            )
        events = {e["name"]: ns(e["timestamp"]) for e in span.get("events", [])}
        for column in ("first_text_ms", "first_audio_ms"):
            name = f"rtrec.{column.removesuffix('_ms')}"
            if response[column] is None:
                assert name not in events
            else:
                assert close_to(events[name], start, response[column]), name

    calls = rows(db_path, "SELECT * FROM tool_calls WHERE session_id = ?", session_id)
    tools = {s["attributes"]["gen_ai.tool.call.id"]: s for s in got.op("execute_tool")}
    assert set(tools) == {c["call_id"] for c in calls}
    for call in calls:
        span = tools[call["call_id"]]
        assert span["attributes"]["gen_ai.tool.name"] == call["name"]
        assert span["name"] == f"execute_tool {call['name']}"
        assert close_to(ns(span["start_time"]), start, call["called_ms"])
        if call["answered_ms"] is not None:
            assert close_to(ns(span["end_time"]), start, call["answered_ms"])
        owner = next((r for r in responses if r["response_id"] == call["response_id"]), None)
        expected_parent = (
            turn_spans.get(owner["turn_item_id"]) if owner is not None else None
        ) or root
        assert got.parent(span) is expected_parent

    errors = rows(db_path, "SELECT * FROM errors WHERE session_id = ?", session_id)
    error_events = [e for s in spans for e in s.get("events", []) if e["name"] == "rtrec.error"]
    assert len(error_events) == len(errors)
    for error in errors:
        match = [e for e in error_events if close_to(ns(e["timestamp"]), start, error["t_ms"])]
        assert match, error
        if error["client_event_type"]:
            assert any(
                e["attributes"].get("rtrec.error.client_event_type") == error["client_event_type"]
                for e in match
            )
    assert len(spans) == 1 + len(turns) + len(speech) + len(responses) + len(calls)
    return got


def free_port_closed() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def expected_span_count(db_path: str, session_id: int) -> int:
    (counts,) = rows(
        db_path,
        "SELECT (SELECT count(*) FROM turns WHERE session_id = :s) "
        "+ (SELECT count(*) FROM turns WHERE session_id = :s AND speech_started_ms IS NOT NULL "
        "   AND speech_stopped_ms >= speech_started_ms) "
        "+ (SELECT count(*) FROM responses WHERE session_id = :s) "
        "+ (SELECT count(*) FROM tool_calls WHERE session_id = :s) + 1 AS n",
        session_id,
    )
    return int(counts["n"])
