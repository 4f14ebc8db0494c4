"""The google-genai SDK through `rtrec record` to the simulated Gemini Live server, and
against `rtrec replay --serve` of what was recorded.

The SDK opens wss:// whatever base_url says, so a TLS front (tests/gemini_support.py)
stands before the relay: SDK ─wss→ TLS front ─ws→ rtrec record ─ws→ simulator.
"""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.conftest import run_cli, start_recorder
from tests.gemini_support import (
    FORECAST,
    CallLog,
    TlsFront,
    make_certificate,
    sdk_call,
    sdk_client,
)
from tests.replay_support import CliServer

QUESTION = "What's the weather like in Paris today?"


@dataclass
class Recorded:
    db_path: str
    wire: list[tuple[str, str | bytes]]  # what the simulator received and sent
    call: CallLog
    cert: Path
    key: Path


async def record_sdk_session(tmp_path: Path) -> Recorded:
    db_path = str(tmp_path / "rtrec.db")
    cert, key = make_certificate(tmp_path)
    wire: list[tuple[str, str | bytes]] = []
    async with Simulator(SimOptions(frame_log=wire, user_lines=(QUESTION,))) as sim:
        process, relay_url, _ = await start_recorder(db_path, sim.url)
        assert process.stderr is not None
        drain = asyncio.create_task(process.stderr.read())
        try:
            relay = urlsplit(relay_url)
            assert relay.hostname is not None and relay.port is not None
            async with TlsFront((relay.hostname, relay.port), cert, key) as front:
                call = await sdk_call(sdk_client(front))
        finally:
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), 30) == 0
            assert "Traceback" not in (await drain).decode()
    return Recorded(db_path, wire, call, cert, key)


def _exported(db_path: str) -> list[dict[str, str]]:
    out = run_cli("export", "last", db_path=db_path)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.decode().splitlines()]


def _frame(line: dict[str, str]) -> str | bytes:
    return base64.b64decode(line["frame_b64"]) if "frame_b64" in line else line["frame"]


async def test_sdk_call_is_recorded_byte_for_byte(tmp_path: Path) -> None:
    recorded = await record_sdk_session(tmp_path)
    call = recorded.call
    assert "".join(call.heard) == QUESTION
    assert [(c.name, c.args) for c in call.calls] == [("get_weather", {"city": "Paris"})]
    assert "".join(call.said).startswith("In Paris it is rain")
    assert call.audio and call.turns_complete == 2

    lines = _exported(recorded.db_path)
    for direction in ("client", "server"):
        exported = [_frame(line) for line in lines if line["dir"] == direction]
        seen = [frame for side, frame in recorded.wire if side == direction]
        assert exported == seen, direction  # in order, byte for byte
    server = [_frame(line) for line in lines if line["dir"] == "server"]
    assert all(isinstance(frame, bytes) for frame in server)  # the server sends binary frames
    sent_audio = sum('"realtime_input"' in str(_frame(line)) for line in lines)
    assert sent_audio > 30


async def test_sdk_call_views_hold_the_conversation_and_the_tool_call(tmp_path: Path) -> None:
    recorded = await record_sdk_session(tmp_path)
    conn = sqlite3.connect(recorded.db_path)
    items = conn.execute(
        "SELECT type, role, text, name, arguments, output FROM items ORDER BY position"
    ).fetchall()
    forecast = json.dumps(FORECAST, separators=(",", ":"))
    assert items == [
        ("message", "user", QUESTION, None, None, None),
        ("function_call", None, None, "get_weather", '{"city":"Paris"}', forecast),
        ("message", "assistant", "In Paris it is rain right now.", None, None, None),
        ("message", "user", "And tomorrow?", None, None, None),
        ("message", "assistant", "You said: And tomorrow. Got it, happy to help.", *[None] * 3),
    ]
    calls = conn.execute("SELECT name, output, answer_ms >= 0 FROM tool_calls").fetchall()
    assert calls == [("get_weather", forecast, 1)]
    turns = conn.execute(
        "SELECT input, ended_by, response_id, latency_ms > 0, audio_source FROM turns ORDER BY turn"
    ).fetchall()
    assert turns == [
        ("audio", "transcript_end", "model-turn-1", 1, "audio_delta"),
        ("text", "turn_complete", "model-turn-2", 1, "audio_delta"),
    ]
    responses = conn.execute(
        "SELECT status, input_tokens > 0, output_tokens > 0, audio_ms > 0 FROM responses"
    ).fetchall()
    assert responses == [("completed", 1, 1, 1)] * 2
    session = conn.execute(
        "SELECT protocol, model, input_format, output_format, audio_in_ms > 0, audio_out_ms > 0 "
        "FROM sessions"
    ).fetchone()
    assert session == (
        "gemini",
        "models/gemini-live-2.5-flash-preview",
        "pcm16@16000",
        "pcm16@24000",
        1,
        1,
    )
    update = conn.execute("SELECT event_type, model, instructions FROM session_updates").fetchall()
    assert update == [
        ("setup", "models/gemini-live-2.5-flash-preview", "You are a concise weather assistant.")
    ]
    conn.close()


@pytest.mark.parametrize("pace", ["clock", "client"])
async def test_replay_serve_satisfies_the_same_sdk_client(tmp_path: Path, pace: str) -> None:
    recorded = await record_sdk_session(tmp_path)
    server = CliServer(
        "last", "--serve", "127.0.0.1:0", "--pace", pace, "--speed", "4", db_path=recorded.db_path
    )
    try:
        address = urlsplit(server.url)
        assert address.hostname is not None and address.port is not None
        async with TlsFront((address.hostname, address.port), recorded.cert, recorded.key) as front:
            replayed = await asyncio.wait_for(sdk_call(sdk_client(front)), 60)
        assert server.wait() == 0
        assert "replay complete" in server.stderr()
    finally:
        server.close()
    original = recorded.call
    assert replayed.heard == original.heard
    assert replayed.said == original.said
    assert [(c.id, c.name, c.args) for c in replayed.calls] == [
        (c.id, c.name, c.args) for c in original.calls
    ]
    assert replayed.audio == original.audio
    assert replayed.turns_complete == original.turns_complete
