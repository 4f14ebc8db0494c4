"""The real openai SDK through the relay to the simulator: every frame recorded exactly."""

from __future__ import annotations

import base64
import glob
import json
from collections.abc import AsyncIterator

import numpy as np
import pytest
from openai import AsyncOpenAI

from rtrec.recorder.service import Recorder
from rtrec.sim.audio import silence, speech_like
from rtrec.sim.options import SimOptions
from rtrec.sim.script import WEATHER_TOOL
from rtrec.sim.server import Simulator
from tests.conftest import run_cli

API_KEY = "sk-proj-rtrecTEST0123456789abcdefABCDEF"


@pytest.fixture
async def logged_simulator() -> AsyncIterator[tuple[Simulator, list[tuple[str, str | bytes]]]]:
    log: list[tuple[str, str | bytes]] = []
    async with Simulator(SimOptions(frame_log=log, require_key=API_KEY)) as sim:
        yield sim, log


async def sdk_session_with_tool_round(url: str, *, beta: bool) -> list[str]:
    """An audio turn answered by a tool call, the tool's output, and the spoken answer."""
    client = AsyncOpenAI(api_key=API_KEY, websocket_base_url=f"{url}/v1")
    headers = {"OpenAI-Beta": "realtime=v1"} if beta else {}
    seen: list[str] = []
    async with client.realtime.connect(model="gpt-realtime", extra_headers=headers) as conn:
        session = (
            {
                "modalities": ["audio", "text"],
                "input_audio_format": "pcm16",
                "input_audio_transcription": {"model": "whisper-1"},
                "tools": [WEATHER_TOOL],
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 300},
            }
            if beta
            else {
                "type": "realtime",
                "output_modalities": ["audio"],
                "tools": [WEATHER_TOOL],
                "audio": {
                    "input": {
                        "transcription": {"model": "gpt-4o-mini-transcribe"},
                        "turn_detection": {"type": "server_vad", "silence_duration_ms": 300},
                    }
                },
            }
        )
        await conn.send({"type": "session.update", "session": session})
        samples = np.concatenate([speech_like("What's the weather in Paris?"), silence(0.5)])
        for start in range(0, len(samples), 2400):
            chunk = samples[start : start + 2400].astype("<i2").tobytes()
            await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
        call_id = None
        responses = 0
        async for event in conn:
            seen.append(event.type)
            if event.type == "response.function_call_arguments.done":
                call_id = event.call_id
            if event.type == "response.done":
                responses += 1
                if responses == 1:
                    assert call_id is not None
                    await conn.conversation.item.create(
                        item={
                            "type": "function_call_output",
                            "call_id": call_id,
                            "output": json.dumps({"city": "Paris", "forecast": "rain"}),
                        }
                    )
                    await conn.response.create()
                else:
                    break
    return seen


@pytest.mark.parametrize("beta", [False, True], ids=["ga", "beta"])
async def test_sdk_session_recorded_byte_for_byte(db_path, logged_simulator, beta):
    sim, log = logged_simulator
    async with Recorder(db_path, upstream=sim.url, port=0, live_status=False) as rec:
        seen = await sdk_session_with_tool_round(rec.url, beta=beta)

    audio_delta = "response.audio.delta" if beta else "response.output_audio.delta"
    item_announced = "conversation.item.created" if beta else "conversation.item.added"
    assert audio_delta in seen and item_announced in seen
    assert "response.function_call_arguments.done" in seen

    exported = run_cli("export", "last", db_path=db_path)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.decode().splitlines()]
    for direction in ("client", "server"):
        recorded = [line["frame"] for line in lines if line["dir"] == direction]
        wire = [frame for d, frame in log if d == direction]
        # The simulator saw exactly what the relay recorded, frame for frame, in order.
        assert recorded == wire, direction
    assert sum(1 for d, _ in log if d == "client") > 20  # the audio appends are there

    times = [line["t"] for line in lines]
    assert times == sorted(times)

    key = API_KEY.encode()
    for path in glob.glob(db_path + "*"):
        with open(path, "rb") as f:
            assert key not in f.read(), path


async def test_sdk_refused_with_wrong_key(db_path, logged_simulator):
    sim, _ = logged_simulator
    async with Recorder(db_path, upstream=sim.url, port=0, live_status=False) as rec:
        client = AsyncOpenAI(
            api_key="sk-wrong-key-000000000000", websocket_base_url=f"{rec.url}/v1"
        )
        with pytest.raises(Exception) as caught:
            async with client.realtime.connect(model="gpt-realtime"):
                pass
        assert "401" in str(caught.value)
    result = run_cli("sessions", "--json", db_path=db_path)
    (row,) = json.loads(result.stdout)
    assert row["end_reason"] == "upstream_refused"
    assert row["refused_status"] == 401
