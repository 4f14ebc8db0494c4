"""The real openai SDK's GPT-Live client through `rtrec record` to the simulator.

Audio both ways and a delegation the client answers: every frame comes back from
`rtrec export` exactly, and the views hold the conversation, the tool call and the
usage.  Secrets (the API key, MCP tool credentials) never reach the database files.
"""

from __future__ import annotations

import asyncio
import glob
import json
import signal
import sqlite3
from typing import Any

import pytest

from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.conftest import run_cli, start_recorder
from tests.live_calls import (
    ANSWER,
    API_KEY,
    FORECAST,
    MCP_AUTHORIZATION,
    MCP_HEADER_VALUE,
    QUESTION,
    weather_call,
)


def rows(db_path: str, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql)]
    finally:
        conn.close()


def exported(db_path: str) -> list[dict[str, Any]]:
    result = run_cli("export", "last", db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def assert_exact(
    lines: list[dict[str, Any]], wire: list[tuple[str, str | bytes]], redacted: set[int]
) -> None:
    """The recording holds the frames that crossed the wire, each direction in order;
    frames the log flags as redacted are there, changed, at their place."""
    for direction in ("client", "server"):
        recorded = [
            (seq, line["frame"]) for seq, line in enumerate(lines) if line["dir"] == direction
        ]
        sent = [frame for d, frame in wire if d == direction]
        assert len(recorded) == len(sent), direction
        for (seq, frame), original in zip(recorded, sent, strict=True):
            assert (frame == original) != (seq in redacted), (direction, seq)


def redacted_seqs(db_path: str) -> set[int]:
    return {r["seq"] for r in rows(db_path, "SELECT seq FROM events WHERE redacted")}


async def record_weather_call(db_path: str, delegation: str) -> tuple[Any, list[Any]]:
    """The call through `rtrec record` (a real process) to a logging simulator."""
    log: list[tuple[str, str | bytes]] = []
    async with Simulator(SimOptions(frame_log=log), protocols=("live",)) as sim:
        process, relay_url, _ = await start_recorder(db_path, sim.url)
        try:
            call = await weather_call(relay_url, delegation=delegation)
        finally:
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), 30) == 0
    return call, log


@pytest.fixture(scope="module")
def client_delegation(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any, list[Any]]:
    db_path = str(tmp_path_factory.mktemp("live") / "rtrec.db")
    call, log = asyncio.run(record_weather_call(db_path, "client"))
    return db_path, call, log


@pytest.fixture(scope="module")
def responses_delegation(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any, list[Any]]:
    db_path = str(tmp_path_factory.mktemp("live") / "rtrec.db")
    call, log = asyncio.run(record_weather_call(db_path, "responses"))
    return db_path, call, log


@pytest.mark.parametrize("which", ["client_delegation", "responses_delegation"])
def test_every_frame_comes_back_exactly(which: str, request: pytest.FixtureRequest) -> None:
    db_path, call, log = request.getfixturevalue(which)
    lines = exported(db_path)
    redacted = redacted_seqs(db_path)
    # Only the session.start holding MCP credentials is changed (see below).
    assert len(redacted) == (1 if which == "responses_delegation" else 0)
    assert_exact(lines, log, redacted)  # as the simulator saw them
    assert_exact(lines, call.frames, redacted)  # as the SDK's connection saw them
    types = {json.loads(line["frame"]).get("type") for line in lines}
    assert {"session.input_audio.append", "session.output_audio.delta"} <= types
    assert call.audio_in_bytes > 0 and call.audio_out_bytes > 0
    key = API_KEY.encode()
    for path in glob.glob(db_path + "*"):
        with open(path, "rb") as f:
            assert key not in f.read(), path


def test_the_views_hold_the_conversation_the_delegation_and_the_usage(client_delegation) -> None:
    db_path, call, _ = client_delegation
    (session,) = rows(db_path, "SELECT * FROM sessions")
    assert session["protocol"] == "live"
    assert session["model"] == "gpt-live-1"
    assert session["provider_session_id"] == call.session_id
    assert session["provider_session_id"].startswith("live_")
    assert session["usage_seconds"] == call.closed_usage
    assert session["closed_reason"] == "close_requested"
    assert session["input_format"] == "pcm16@24000"
    assert session["audio_in_ms"] == pytest.approx(call.audio_in_bytes / 48)
    assert session["audio_out_ms"] == pytest.approx(call.audio_out_bytes / 48)
    items = rows(db_path, "SELECT item_id, type, role, text FROM items ORDER BY position")
    assert [(i["role"], i["text"]) for i in items] == [
        ("user", QUESTION),
        ("assistant", "Okay, let me check that."),
        ("assistant", ANSWER),
    ]
    assert [i["item_id"] for i in items] == ["live-msg-1", "live-msg-2", "live-msg-3"]
    (call_row,) = rows(db_path, "SELECT * FROM tool_calls")
    assert call_row["kind"] == "delegation"
    assert call_row["call_id"] == call.delegation_id
    assert call_row["name"] == "client"
    assert json.loads(call_row["output"]) == FORECAST
    assert call_row["answer_ms"] > 0
    (turn,) = rows(db_path, "SELECT * FROM turns")
    assert turn["text"] == QUESTION
    assert turn["ended_by"] == "transcript_end"
    assert turn["audio_source"] == "transcript_start"
    assert turn["response_id"] == "live-msg-2"
    assert turn["latency_ms"] >= 0
    assert [r["status"] for r in rows(db_path, "SELECT status FROM responses")] == [
        "completed",
        "completed",
    ]


def test_a_responses_delegation_is_a_function_call_answered_by_the_client(
    responses_delegation,
) -> None:
    db_path, call, _ = responses_delegation
    items = rows(
        db_path,
        "SELECT type, role, text, call_id, name, arguments, output FROM items ORDER BY position",
    )
    kinds = [(i["type"], i["role"]) for i in items]
    assert kinds == [
        ("message", "user"),
        ("function_call", None),
        ("message", "assistant"),
        ("message", "assistant"),
    ] or kinds == [
        ("message", "user"),
        ("message", "assistant"),
        ("function_call", None),
        ("message", "assistant"),
    ]
    (function_call,) = [i for i in items if i["type"] == "function_call"]
    assert function_call["call_id"] == call.call_id
    assert function_call["name"] == "get_weather"
    assert json.loads(function_call["arguments"]) == {"city": "Paris"}
    assert json.loads(function_call["output"]) == FORECAST
    calls = rows(db_path, "SELECT kind, name, call_id, output FROM tool_calls ORDER BY kind")
    assert [(c["kind"], c["name"]) for c in calls] == [
        ("delegation", "responses"),
        ("function_call", "get_weather"),
    ]
    assert json.loads(calls[1]["output"]) == FORECAST


def test_mcp_credentials_never_reach_the_disk(responses_delegation) -> None:
    db_path, call, _ = responses_delegation
    for path in glob.glob(db_path + "*"):
        with open(path, "rb") as f:
            data = f.read()
        assert MCP_AUTHORIZATION.encode() not in data, path
        assert MCP_HEADER_VALUE.encode() not in data, path
    (start,) = rows(db_path, "SELECT payload, redacted FROM events WHERE type = 'session.start'")
    assert start["redacted"] == 1
    tools = json.loads(start["payload"])["session"]["delegation"]["responses"]["tools"]
    assert tools[1]["authorization"] == "[redacted]"
    assert tools[1]["headers"] == {"X-Crm-Token": "[redacted]"}
    assert tools[1]["server_url"] == "https://mcp.example.com/sse"
    # Only the credentials changed: the rest of the frame is as the SDK sent it.
    sent = json.loads(next(frame for d, frame in call.frames if d == "client"))
    sent_tools = sent["session"]["delegation"]["responses"]["tools"]
    sent_tools[1]["authorization"] = "[redacted]"
    sent_tools[1]["headers"] = {"X-Crm-Token": "[redacted]"}
    assert json.loads(start["payload"]) == sent
