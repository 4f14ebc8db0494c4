"""A voice-agent call made with the real openai SDK through rtrec's relay.

Spoken turns (server VAD, transcription), a tool round, a reply the client truncates,
a typed message it deletes, and one request the server refuses with an error.  Used
by the projection tests and by the README's SQL examples test.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from openai import AsyncOpenAI

from rtrec.recorder.service import Recorder
from rtrec.sim.audio import silence, speech_like
from rtrec.sim.server import Simulator

RATE = 24000
CHUNK = RATE // 10  # 100 ms appends
TRUNCATE_AT_MS = 1200

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
FORECAST = {"city": "Paris", "forecast": "sunny and 22 degrees"}


@dataclass
class CallLog:
    audio_in_bytes: int = 0
    function_call_item: str = ""
    story_item: str = ""
    deleted_item: str = ""
    responses: list[str] = field(default_factory=list)


async def voice_agent_call(
    relay_url: str, during: Callable[[Any], Awaitable[None]] | None = None
) -> CallLog:
    """Run the call; `during(connection)` runs mid-call (after the tool round)."""
    log = CallLog()
    client = AsyncOpenAI(api_key="sk-test", websocket_base_url=f"{relay_url}/v1")
    async with client.realtime.connect(model="gpt-realtime") as conn:

        async def until(kind: str) -> Any:
            async for event in conn:
                if event.type == "response.done":
                    log.responses.append(event.response.id)
                if event.type == kind:
                    return event
            raise AssertionError(f"connection closed before {kind}")

        async def speak(text: str) -> None:
            samples = np.concatenate([speech_like(text, RATE), silence(0.6, RATE)])
            for start in range(0, len(samples), CHUNK):
                chunk = samples[start : start + CHUNK].astype("<i2").tobytes()
                log.audio_in_bytes += len(chunk)
                await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())

        await until("session.created")
        await conn.session.update(
            session={
                "type": "realtime",
                "output_modalities": ["audio"],
                "instructions": "You are a concise travel assistant.",
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcm", "rate": RATE},
                        "transcription": {"model": "gpt-4o-mini-transcribe"},
                        "turn_detection": {"type": "server_vad", "silence_duration_ms": 400},
                    },
                    "output": {"format": {"type": "audio/pcm", "rate": RATE}, "voice": "marin"},
                },
                "tools": [WEATHER_TOOL],
            }
        )
        await until("session.updated")

        # 1. A spoken question answered through a tool.
        await speak("What's the weather like in Paris today?")
        done = await until("response.done")
        call = done.response.output[0]
        log.function_call_item = call.id
        await conn.conversation.item.create(
            item={
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": json.dumps(FORECAST),
            },
            event_id="evt_tool_output",
        )
        await conn.response.create()
        await until("response.done")
        if during is not None:
            await during(conn)

        # 2. A long spoken answer, of which the client played only the start.
        await speak("Could you tell me a short story?")
        story = await until("response.done")
        log.story_item = story.response.output[0].id
        await conn.conversation.item.truncate(
            item_id=log.story_item, content_index=0, audio_end_ms=TRUNCATE_AT_MS
        )
        await until("conversation.item.truncated")

        # 3. One more spoken turn.
        await speak("Thanks, that's all for now.")
        await until("response.done")

        # 4. A typed note, deleted again; then a delete the server refuses.
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Note to self: delete me."}],
            }
        )
        added = await until("conversation.item.added")
        log.deleted_item = added.item.id
        await conn.conversation.item.delete(item_id=log.deleted_item)
        await until("conversation.item.deleted")
        await conn.conversation.item.delete(item_id="item_missing", event_id="evt_missing")
        await until("error")
    return log


def record_call(db_path: str) -> CallLog:
    """Record the call into `db_path` through a fresh simulator and relay (sync, for
    module-scoped fixtures that several tests read)."""

    async def go() -> CallLog:
        async with (
            Simulator() as sim,
            Recorder(db_path, upstream=sim.url, port=0, live_status=False) as rec,
        ):
            return await voice_agent_call(rec.url)

    return asyncio.run(go())
