"""The scripted client of `rtrec demo --protocol gemini`: a short Gemini Live call.

It speaks as the google-genai SDK does (snake_case top-level fields, camelCase inside,
16 kHz audio in URL-safe base64): a spoken question answered through a tool call,
a story the user talks over (the server interrupts it), and a typed goodbye.
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

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
MODEL = "models/gemini-live-2.5-flash-preview"
RATE = 16000
OUTPUT_RATE = 24000
CHUNK_MS = 100
# The key is fake: it is here to show that rtrec never writes it down.
DEMO_KEY = "AIzaSyDEMO-0000000000000000000000000000"

WEATHER_FUNCTION = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "OBJECT",
        "properties": {"city": {"type": "STRING"}},
        "required": ["city"],
    },
}
SETUP = {
    "setup": {
        "model": MODEL,
        "generationConfig": {
            "responseModalities": ["AUDIO"],
            "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}},
        },
        "systemInstruction": {
            "parts": [{"text": "You are a concise travel assistant."}],
            "role": "user",
        },
        "tools": [{"functionDeclarations": [WEATHER_FUNCTION]}],
        "inputAudioTranscription": {},
        "outputAudioTranscription": {},
    }
}


class GeminiClient:
    def __init__(self, ws: ClientConnection, say: Callable[[str], None]) -> None:
        self.ws = ws
        self.say = say

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self) -> dict[str, Any]:
        message = json.loads(await self.ws.recv())
        assert isinstance(message, dict)
        return message

    async def speak(self, text: str, *, trailing_silence_s: float = 0.7) -> None:
        """Stream speech-like audio for `text`, then silence, as a microphone would:
        100 ms chunks, each sent when its audio would have been captured."""
        samples = np.concatenate([speech_like(text, RATE), silence(trailing_silence_s, RATE)])
        self.say(f"user says ({len(samples) / RATE:.1f} s of audio)")
        async for chunk in microphone.captured(samples, RATE, CHUNK_MS):
            audio = {
                "data": base64.urlsafe_b64encode(chunk).decode(),
                "mimeType": f"audio/pcm;rate={RATE}",
            }
            await self.send({"realtime_input": {"audio": audio}})

    async def turn(self) -> dict[str, Any]:
        """Read until the model's turn ends (turnComplete) or it calls a tool; narrate it.

        The answer's audio arrives faster than it plays: like a client playing it, the
        user waits until it has been heard before speaking again.
        """
        heard: list[str] = []
        said: list[str] = []
        playing_until = time.monotonic()
        while True:
            message = await self.recv()
            content = message.get("serverContent") or {}
            for part in (content.get("modelTurn") or {}).get("parts", []):
                if "inlineData" in part:
                    seconds = len(base64.b64decode(part["inlineData"]["data"])) / 2 / OUTPUT_RATE
                    playing_until = max(playing_until, time.monotonic()) + seconds
            if "inputTranscription" in content:
                heard.append(content["inputTranscription"].get("text", ""))
            if "outputTranscription" in content:
                said.append(content["outputTranscription"].get("text", ""))
            if heard and ("modelTurn" in content or "toolCall" in message):
                self.say(f"  transcript:{''.join(heard)}")
                heard = []
            if "toolCall" in message:
                return message
            if content.get("turnComplete"):
                if said:
                    self.say(f"assistant says: {''.join(said)}")
                await asyncio.sleep(max(0.0, playing_until - time.monotonic()))
                return message


async def run_script(url: str, say: Callable[[str], None]) -> None:
    # Through rtrec's one way out, as every client rtrec runs: this host only, no redirect.
    ws = await dial(url, Endpoint.from_url(url), max_size=None)
    async with ws:
        client = GeminiClient(ws, say)
        await client.send(SETUP)
        assert "setupComplete" in await client.recv()

        # 1. A spoken question that the model answers with a tool call.
        await client.speak("What's the weather like in Paris today?")
        call = (await client.turn())["toolCall"]["functionCalls"][0]
        say(f"assistant calls {call['name']}({json.dumps(call['args'])})")
        forecast = {"city": "Paris", "forecast": "sunny and 22 degrees"}
        answer = {"id": call["id"], "name": call["name"], "response": forecast}
        await client.send({"tool_response": {"functionResponses": [answer]}})
        say(f"client returns {json.dumps(forecast)}")
        await client.turn()

        # 2. A long answer the user talks over: the server interrupts it.
        await client.speak("Could you tell me a short story?")
        await interrupt_story(client)

        # 3. A typed message.
        goodbye = {"turns": [{"parts": [{"text": "Thanks, bye!"}], "role": "user"}]}
        await client.send({"client_content": {**goodbye, "turnComplete": True}})
        say("user types: Thanks, bye!")
        await client.turn()
        await ws.close(1000, "demo finished")


async def interrupt_story(client: GeminiClient) -> None:
    """1.2 s after the story's first audio the user starts talking over it; the server
    answers `interrupted`, then hears the user out and replies."""
    first_audio_at = None
    speaking: asyncio.Task[None] | None = None
    heard: list[str] = []
    while True:
        message = await client.recv()
        content = message.get("serverContent") or {}
        if "inputTranscription" in content:
            heard.append(content["inputTranscription"].get("text", ""))
        if "modelTurn" in content and first_audio_at is None:
            first_audio_at = time.monotonic()
            client.say(f"  transcript:{''.join(heard)}")
        if content.get("interrupted"):
            client.say("  the server stops the story (interrupted)")
            break
        if speaking is None and first_audio_at and time.monotonic() - first_audio_at >= 1.2:
            client.say("assistant tells a story… and the user talks over it")
            speaking = asyncio.create_task(client.speak("Thanks, that's all for now."))
    assert speaking is not None
    await speaking
    await client.turn()  # the interrupted turn's turnComplete
    await client.turn()  # the answer to what the user said


async def run_demo_call(origin: str, say: Callable[[str], None]) -> None:
    """The demo's Gemini Live call, through the relay at `origin`."""
    await run_script(f"{origin}{PATH}?key={DEMO_KEY}", say)
