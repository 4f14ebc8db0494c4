"""Gemini Live through the relay to aimock, a third-party server, where its fixtures allow.

aimock 1.43's Gemini Live endpoint reads `setup`, and `clientContent` / `toolResponse`
in camelCase only.  A client that writes camelCase gets a tool round from the fixture;
the google-genai SDK writes `client_content` (snake_case), which aimock answers with an
INVALID_ARGUMENT error: both exchanges are recorded frame for frame and projected.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from google.genai import errors, types
from websockets.asyncio.client import connect

from rtrec.recorder.service import Recorder
from rtrec.sim.gemini.script import PATH
from tests.aimock_support import Aimock, FrameTap
from tests.conftest import run_cli
from tests.gemini_support import SDK_MODEL, TlsFront, make_certificate, sdk_client, sdk_config

FIXTURES = Path(__file__).parent / "fixtures" / "aimock" / "gemini-live.json"


def _assert_recorded_exactly(db_path: str, tap: FrameTap) -> None:
    out = run_cli("export", "last", db_path=db_path)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.decode().splitlines()]
    for direction in ("client", "server"):
        recorded = [line["frame"] for line in lines if line["dir"] == direction]
        assert recorded == [frame for side, frame in tap.log if side == direction], direction
    assert len(lines) == len(tap.log)


async def test_tool_round_with_aimock_is_recorded_and_projected(db_path: str) -> None:
    async with Aimock(FIXTURES) as aimock, FrameTap(aimock.url) as tap:
        async with Recorder(db_path, upstream=tap.url, port=0, live_status=False) as recorder:
            async with connect(recorder.url + PATH) as ws:
                tools = [{"functionDeclarations": [{"name": "get_weather"}]}]
                await ws.send(json.dumps({"setup": {"model": "models/aimock", "tools": tools}}))
                assert json.loads(await ws.recv()) == {"setupComplete": {}}
                ask = {"role": "user", "parts": [{"text": "What's the weather in Paris?"}]}
                await ws.send(json.dumps({"clientContent": {"turns": [ask], "turnComplete": True}}))
                call = json.loads(await ws.recv())["toolCall"]["functionCalls"][0]
                assert (call["id"], call["name"], call["args"]) == (
                    "call_weather_paris",
                    "get_weather",
                    {"city": "Paris"},
                )
                assert json.loads(await ws.recv()) == {"serverContent": {"turnComplete": True}}
                answer = {"id": call["id"], "name": call["name"], "response": {"forecast": "fog"}}
                await ws.send(json.dumps({"toolResponse": {"functionResponses": [answer]}}))
                text = ""
                while not (content := json.loads(await ws.recv())["serverContent"]).get(
                    "turnComplete"
                ):
                    text += content["modelTurn"]["parts"][0]["text"]
                assert text == "It is foggy in Paris right now."
    _assert_recorded_exactly(db_path, tap)
    conn = sqlite3.connect(db_path)
    items = conn.execute(
        "SELECT type, role, text, name, call_id, arguments, output FROM items ORDER BY position"
    ).fetchall()
    assert items == [
        ("message", "user", "What's the weather in Paris?", None, None, None, None),
        (
            "function_call",
            None,
            None,
            "get_weather",
            "call_weather_paris",
            '{"city":"Paris"}',
            '{"forecast":"fog"}',
        ),
        ("message", "assistant", "It is foggy in Paris right now.", None, None, None, None),
    ]
    # aimock ends the tool-call turn with a bare turnComplete: a model turn with no output.
    responses = conn.execute(
        "SELECT response_id, status, first_text_ms IS NOT NULL FROM responses ORDER BY created_ms"
    ).fetchall()
    assert responses == [("model-turn-1", "completed", 0), ("model-turn-2", "completed", 1)]
    conn.close()


async def test_google_genai_against_aimock_records_its_refusal(
    db_path: str, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    async with Aimock(FIXTURES) as aimock, FrameTap(aimock.url) as tap:
        async with Recorder(db_path, upstream=tap.url, port=0, live_status=False) as recorder:
            relay = urlsplit(recorder.url)
            assert relay.hostname is not None and relay.port is not None
            async with TlsFront((relay.hostname, relay.port), cert, key) as front:
                client = sdk_client(front, api_version="v1beta")  # aimock's one path
                async with client.aio.live.connect(model=SDK_MODEL, config=sdk_config()) as session:
                    await session.send_client_content(
                        turns=types.Content(
                            role="user", parts=[types.Part(text="What's the weather in Paris?")]
                        ),
                        turn_complete=True,
                    )
                    # google-genai 3.6 reads a top-level `code` in an error message;
                    # aimock nests it (`{"error": {"code": 3, …}}`), and the SDK's own
                    # error handling then fails with a TypeError.  The call ends there.
                    with pytest.raises((errors.APIError, TypeError)):
                        async for _ in session.receive():
                            pass
    _assert_recorded_exactly(db_path, tap)
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT type, code, message FROM errors").fetchall() == [
        ("INVALID_ARGUMENT", "3", "Expected clientContent or toolResponse")
    ]
    assert conn.execute("SELECT protocol, model FROM sessions").fetchone() == (
        "gemini",
        f"models/{SDK_MODEL}",
    )
    items = conn.execute("SELECT role, text FROM items").fetchall()
    assert items == [("user", "What's the weather in Paris?")]
    conn.close()
