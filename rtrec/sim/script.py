"""The scripted client of `rtrec demo`: a short voice-agent call that exercises the protocol.

Spoken questions with server VAD and transcription, a function-call round, a reply
the user interrupts (the client truncates the audio it had played), and a text turn
that is deleted again.  It talks plain WebSockets, as any client of the relay would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection

from rtrec.dial import Endpoint, dial
from rtrec.sim import microphone
from rtrec.sim.audio import silence, speech_like

RATE = 24000
APPEND_MS = 100
WEATHER_LOOKUP_S = 0.35

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


class ScriptedClient:
    def __init__(self, ws: ClientConnection, say: Callable[[str], None]) -> None:
        self.ws = ws
        self.say = say
        self.speech_started_ms = 0

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(event))

    async def recv(self) -> dict[str, Any]:
        return json.loads(await self.ws.recv())

    async def until(self, event_type: str) -> dict[str, Any]:
        while True:
            event = await self.recv()
            self.narrate(event)
            if event["type"] == event_type:
                return event

    async def speak(self, text: str, *, trailing_silence_s: float = 0.6) -> None:
        """Stream speech-like audio for `text`, then silence for VAD, as a microphone would:
        100 ms appends, in real time, each sent when its audio would have been captured."""
        samples = np.concatenate([speech_like(text, RATE), silence(trailing_silence_s, RATE)])
        self.say(f"user speaks: {len(samples) / RATE:.1f} s of audio, ending in silence")
        async for chunk in microphone.captured(samples, RATE, APPEND_MS):
            await self.send(
                {"type": "input_audio_buffer.append", "audio": base64.b64encode(chunk).decode()}
            )

    def narrate(self, event: dict[str, Any]) -> None:
        """What the server heard, in the words `rtrec show` and the turns view use."""
        kind = event["type"]
        if kind == "input_audio_buffer.speech_started":
            self.speech_started_ms = event.get("audio_start_ms", 0)
        elif kind == "input_audio_buffer.speech_stopped":
            end_ms = event.get("audio_end_ms", 0)
            # The span the server's VAD marks as speech (its prefix padding included) is
            # the user turn's audio in `rtrec show`: less than the audio sent, whose
            # silence ends the turn.
            self.say(
                f"  server VAD: speech {(end_ms - self.speech_started_ms) / 1000:.1f} s "
                f"(audio {self.speech_started_ms}-{end_ms} ms)"
            )
        elif kind == "conversation.item.input_audio_transcription.completed":
            self.say(f"  transcript: {event['transcript']}")

    async def response(self) -> dict[str, Any]:
        """Wait for the next response to finish, narrating it; returns response.done."""
        while True:
            event = await self.recv()
            kind = event["type"]
            self.narrate(event)
            if kind == "response.function_call_arguments.done":
                self.say(f"assistant calls {event['name']}({event['arguments']})")
            elif kind == "response.output_audio_transcript.done":
                self.say(f"assistant says: {event['transcript']}")
            elif kind == "response.done":
                return event


async def run_script(url: str, say: Callable[[str], None]) -> None:
    # The key is fake: it is here to show that rtrec never writes it down.
    headers = {"Authorization": "Bearer sk-demo-0000000000000000000000000000"}
    # Through rtrec's one way out: this URL's host and port only, no redirects followed.
    ws = await dial(url, Endpoint.from_url(url), additional_headers=headers, max_size=None)
    async with ws:
        client = ScriptedClient(ws, say)
        await client.until("session.created")
        await client.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "instructions": "You are a concise travel assistant.",
                    "output_modalities": ["audio"],
                    "audio": {
                        "input": {
                            "format": {"type": "audio/pcm", "rate": RATE},
                            "transcription": {"model": "gpt-4o-mini-transcribe"},
                            "turn_detection": {"type": "server_vad", "silence_duration_ms": 400},
                        },
                        "output": {"format": {"type": "audio/pcm", "rate": RATE}, "voice": "marin"},
                    },
                    "tools": [WEATHER_TOOL],
                },
            }
        )
        await client.until("session.updated")

        # 1. A spoken question that the assistant answers with a tool call.
        await client.speak("What's the weather like in Paris today?")
        done = await client.response()
        call = done["response"]["output"][0]
        await asyncio.sleep(WEATHER_LOOKUP_S)  # the tool's own work, as a weather API takes
        forecast = {"city": "Paris", "forecast": "sunny and 22 degrees"}
        await client.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": call["call_id"],
                    "output": json.dumps(forecast),
                },
            }
        )
        say(f"client returns {json.dumps(forecast)}")
        await client.send({"type": "response.create"})
        await client.response()

        # 2. A long answer the user interrupts: the client truncates what it had played.
        await client.speak("Could you tell me a short story?")
        await interrupt_story(client)

        # 3. A typed message, deleted again.
        await client.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Note to self: delete me."}],
                },
            }
        )
        added = await client.until("conversation.item.added")
        await client.send({"type": "conversation.item.delete", "item_id": added["item"]["id"]})
        await client.until("conversation.item.deleted")
        say("client deleted a typed message")
        await ws.close(1000, "demo finished")


async def interrupt_story(client: ScriptedClient) -> None:
    """Play the story in real time from its first audio delta; 1.2 s in, the user talks
    over it.  As real clients do, playback stops when the server hears the user
    (speech_started), and the client truncates the reply to what was played."""
    first_audio_at = None
    received_ms = 0.0
    item_id = None
    speaking: asyncio.Task[None] | None = None
    while True:
        event = await client.recv()
        kind = event["type"]
        client.narrate(event)
        if kind == "response.output_audio.delta" and speaking is None:
            item_id = event["item_id"]
            received_ms += len(base64.b64decode(event["delta"])) / 2 / RATE * 1000
            first_audio_at = first_audio_at or time.monotonic()
        elif kind == "input_audio_buffer.speech_started" and speaking is not None:
            break
        if speaking is None and first_audio_at and time.monotonic() - first_audio_at >= 1.2:
            client.say("assistant tells a story… and the user talks over it")
            speaking = asyncio.create_task(client.speak("Thanks, that's all for now."))
    assert first_audio_at is not None and item_id is not None
    played_ms = int(min(received_ms, (time.monotonic() - first_audio_at) * 1000))
    await client.send(
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": played_ms,
        }
    )
    cancelled = await client.until("response.done")
    client.say(f"  story response {cancelled['response']['status']}; audio cut at {played_ms} ms")
    await speaking
    await client.response()


async def run_demo_call(origin: str, say: Callable[[str], None]) -> None:
    """The demo's Realtime call, through the relay at `origin`."""
    await run_script(f"{origin}/v1/realtime?model=gpt-realtime", say)
