"""The simulated Gemini Live server speaks as the real one does, and `rtrec demo
--protocol gemini` records a call with a tool round, a barge-in and a typed turn."""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError

from rtrec.sim.audio import silence, speech_like
from rtrec.sim.gemini.script import PATH
from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.conftest import run_cli

RATE = 16000


async def _recv(ws: ClientConnection) -> dict[str, Any]:
    frame = await ws.recv()
    assert isinstance(frame, bytes)  # the real server sends binary frames
    message = json.loads(frame)
    assert isinstance(message, dict)
    return message


async def _speak(ws: ClientConnection, text: str, trailing_s: float = 0.7) -> None:
    samples = np.concatenate([speech_like(text, RATE), silence(trailing_s, RATE)])
    for start in range(0, len(samples), RATE // 10):
        chunk = samples[start : start + RATE // 10].astype("<i2").tobytes()
        audio = {
            "data": base64.urlsafe_b64encode(chunk).decode(),
            "mimeType": "audio/pcm;rate=16000",
        }
        await ws.send(json.dumps({"realtime_input": {"audio": audio}}))


async def _setup(ws: ClientConnection, **extra: Any) -> None:
    setup = {"model": "models/sim", "inputAudioTranscription": {}, "outputAudioTranscription": {}}
    await ws.send(json.dumps({"setup": {**setup, **extra}}))
    assert await _recv(ws) == {"setupComplete": {}}


async def test_a_spoken_turn_is_transcribed_and_answered_with_usage() -> None:
    async with Simulator(SimOptions(user_lines=("Hello there.",))) as sim:
        async with connect(sim.url + PATH) as ws:
            await _setup(ws)
            await _speak(ws, "Hello there.")
            heard, said, audio, thoughts = "", "", 0, 0
            while True:
                message = await _recv(ws)
                content = message.get("serverContent", {})
                heard += content.get("inputTranscription", {}).get("text", "")
                said += content.get("outputTranscription", {}).get("text", "")
                for part in content.get("modelTurn", {}).get("parts", []):
                    thoughts += bool(part.get("thought"))
                    if "inlineData" in part:
                        assert part["inlineData"]["mimeType"] == "audio/pcm;rate=24000"
                        audio += len(base64.b64decode(part["inlineData"]["data"]))
                if content.get("turnComplete"):
                    break
    assert heard == "Hello there."
    assert said == "You said: Hello there. Got it, happy to help."
    assert thoughts == 1 and audio > 24000 * 2  # over a second of speech
    usage = message["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["responseTokenCount"]


async def test_speech_over_the_answer_interrupts_it() -> None:
    options = SimOptions(realtime_factor=1.0, user_lines=("Tell me a story.", "Stop please."))
    async with Simulator(options) as sim:
        async with connect(sim.url + PATH) as ws:
            await _setup(ws)
            await _speak(ws, "Tell me a story.")
            while "modelTurn" not in (await _recv(ws)).get("serverContent", {}):
                pass
            await _speak(ws, "Stop please.")
            kinds = []
            while True:
                content = (await _recv(ws)).get("serverContent", {})
                kinds += [k for k in ("interrupted", "turnComplete") if content.get(k)]
                if "inputTranscription" in content:
                    break
    # interrupted, then the interrupted turn's own turnComplete, then the user is heard.
    assert kinds == ["interrupted", "turnComplete"]


async def test_tool_calls_are_answered_by_tool_responses() -> None:
    async with Simulator(SimOptions()) as sim:
        async with connect(sim.url + PATH) as ws:
            tools = [{"functionDeclarations": [{"name": "get_weather"}]}]
            await _setup(ws, tools=tools)
            turn = {"role": "user", "parts": [{"text": "What's the weather in Rome?"}]}
            await ws.send(json.dumps({"client_content": {"turns": [turn], "turnComplete": True}}))
            call = (await _recv(ws))["toolCall"]["functionCalls"][0]
            assert call["name"] == "get_weather" and call["args"] == {"city": "Rome"}
            assert call["id"].startswith("function-call-")
            response = {
                "id": call["id"],
                "name": "get_weather",
                "response": {"city": "Rome", "forecast": "hot"},
            }
            await ws.send(json.dumps({"tool_response": {"functionResponses": [response]}}))
            said = ""
            while not (content := (await _recv(ws)).get("serverContent", {})).get("turnComplete"):
                said += content.get("outputTranscription", {}).get("text", "")
    assert said == "In Rome it is hot right now."


@pytest.mark.parametrize(
    "first", ['{"client_content": {"turns": []}}', "not json", '{"setup": {}, "nonsense": 1}']
)
async def test_what_the_api_refuses_closes_with_1007(first: str) -> None:
    async with Simulator(SimOptions()) as sim:
        async with connect(sim.url + PATH) as ws:
            if first.startswith('{"setup"'):
                await _setup(ws)
                first = '{"nonsense": 1}'
            await ws.send(first)
            with pytest.raises(ConnectionClosedError):
                while True:
                    await ws.recv()
            assert ws.close_code == 1007


def test_demo_records_a_gemini_call(db_path: str) -> None:
    result = run_cli("demo", "--protocol", "gemini", db_path=db_path, timeout=180)
    assert result.returncode == 0, result.stderr.decode()
    assert "simulated Gemini Live server" in result.stdout.decode()
    conn = sqlite3.connect(db_path)
    protocol, model, source = conn.execute(
        "SELECT protocol, model, source FROM sessions"
    ).fetchone()
    assert (protocol, model, source) == ("gemini", "models/gemini-live-2.5-flash-preview", "demo")
    items = conn.execute("SELECT type, role, status FROM items ORDER BY position").fetchall()
    assert items == [
        ("message", "user", "completed"),
        ("function_call", None, "completed"),
        ("message", "assistant", "completed"),
        ("message", "user", "completed"),
        ("message", "assistant", "incomplete"),  # the story, talked over
        ("message", "user", "completed"),
        ("message", "assistant", "completed"),
        ("message", "user", "completed"),
        ("message", "assistant", "completed"),
    ]
    statuses = [s for (s,) in conn.execute("SELECT status FROM responses ORDER BY created_ms")]
    assert statuses == ["completed", "interrupted", "completed", "completed"]
    latencies = conn.execute("SELECT count(*) FROM turns WHERE latency_ms > 0").fetchone()
    assert latencies == (4,)
    conn.close()
    with open(db_path, "rb") as f:
        assert b"AIzaSyDEMO" not in f.read()  # the demo's fake key
