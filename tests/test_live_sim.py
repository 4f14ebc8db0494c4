"""The simulated GPT-Live server answers as the real one does, errors included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai import AsyncOpenAI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.live_calls import weather_call


async def recv(ws: Any) -> dict[str, Any]:
    while True:
        event = json.loads(await ws.recv())
        if event["type"] != "session.output_audio.delta":
            return event


@pytest.fixture
async def sim():
    async with Simulator(SimOptions(), protocols=("live",)) as simulator:
        yield simulator


async def test_requests_it_cannot_honour_get_an_error_naming_them(sim) -> None:
    async with connect(sim.url + "/v1/live/sessions") as ws:
        await ws.send(
            json.dumps({"type": "session.input_audio.append", "event_id": "a1", "audio": ""})
        )
        early = await recv(ws)
        assert (early["error"]["code"], early["error"]["client_event_id"]) == (
            "session_not_started",
            "a1",
        )
        await ws.send(json.dumps({"type": "session.start", "event_id": "s0", "session": {}}))
        assert (await recv(ws))["error"]["param"] == "session.model"
        bad_format = {
            "model": "gpt-live-1",
            "audio": {"format": {"type": "audio/pcm", "rate": 44100}},
        }
        await ws.send(
            json.dumps({"type": "session.start", "event_id": "s1", "session": bad_format})
        )
        assert (await recv(ws))["error"]["param"] == "session.audio.format"
        await ws.send(
            json.dumps(
                {"type": "session.start", "event_id": "s2", "session": {"model": "gpt-live-1"}}
            )
        )
        started = await recv(ws)
        assert started["type"] == "session.started" and started["client_event_id"] == "s2"
        assert started["session"]["id"].startswith("live_")
        assert started["session"]["audio"]["format"] == {"type": "audio/pcm", "rate": 24000}
        for event, code, param in [
            ({"type": "session.nonsense"}, "invalid_value", "type"),
            ({"type": "session.input_audio.append", "audio": "%%%"}, "invalid_value", "audio"),
            (
                {"type": "session.update", "session": {"instructions": "x"}},
                "invalid_value",
                "session.instructions",
            ),
            (
                {"type": "session.commentary.append", "delegation_id": "nope", "content": "x"},
                "invalid_value",
                "delegation_id",
            ),
            ({"type": "response.create"}, "invalid_request", "type"),
            (
                {"type": "session.start", "session": {"model": "gpt-live-1"}},
                "session_already_started",
                None,
            ),
        ]:
            await ws.send(json.dumps({**event, "event_id": "e"}))
            error = await recv(ws)
            assert (error["type"], error["error"]["code"], error["error"]["param"]) == (
                "error",
                code,
                param,
            ), event
            assert error["client_event_id"] == "e"
        await ws.send("not json")
        assert (await recv(ws))["error"]["code"] == "invalid_json"
        await ws.send(json.dumps({"type": "session.close"}))
        closed = await recv(ws)
        assert closed["type"] == "session.closed" and closed["reason"] == "close_requested"
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1000


async def test_a_fork_inherits_the_configuration_and_a_missing_session_is_refused(sim) -> None:
    original = await weather_call(sim.url)
    client = AsyncOpenAI(api_key="sk-test", websocket_base_url=f"{sim.url}/v1")
    async with client.live.forks.connect(session_id=original.session_id) as fork:
        await fork.session.start(
            session={"audio": {"format": {"type": "audio/pcmu", "rate": 8000}}}
        )
        started = await fork.recv()
        assert started.type == "session.started"
        assert started.session.id != original.session_id
        assert started.session.model == "gpt-live-1"
        assert (
            started.session.instructions == "You are a concise travel assistant. Delegate lookups."
        )
        assert started.session.audio.format.type == "audio/pcmu"
    async with connect(sim.url + "/v1/live/sessions/live_missing/attach") as ws:
        refused = json.loads(await ws.recv())
        assert refused["error"]["code"] == "session_not_found"
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1008


async def test_output_audio_is_continuous_and_transcripts_sit_on_200_ms_windows(sim) -> None:
    call = await weather_call(sim.url)
    events = [json.loads(f) for d, f in call.frames if d == "server"]
    audio = [e for e in events if e["type"] == "session.output_audio.delta"]
    assert all(len(e["delta"]) == 6400 for e in audio)  # 100 ms of 24 kHz PCM16 each
    deltas = [e for e in events if e["type"].endswith("_transcript.delta")]
    assert deltas and all(
        e["start_ms"] % 200 == 0 and e["end_ms"] == e["start_ms"] + 200 for e in deltas
    )
    usage = [e for e in events if e["type"] == "session.usage.updated"]
    assert usage and usage[0]["usage"]["seconds"] == 5
    # The same call gets the same timing: reply delays are seeded by what the client asked.
    again = await weather_call(sim.url)
    timing = [(e["type"], e["start_ms"]) for e in deltas]
    assert timing == [
        (e["type"], e["start_ms"])
        for e in (json.loads(f) for d, f in again.frames if d == "server")
        if e["type"].endswith("_transcript.delta")
    ]
