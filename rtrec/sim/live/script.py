"""The scripted client of `rtrec demo --protocol live`: a short GPT-Live call.

A phone-like client: its microphone streams 100 ms appends continuously (silence
between what the user says), one for each 100 ms of output audio it plays, so its
audio and the server's share one clock, as a real device's do.  The user asks for
the weather, which the assistant delegates to the client; the client answers with
commentary, which the assistant speaks.  Then the user asks for a story and talks
over it, and says goodbye.  It talks plain WebSockets, as any client of the relay
would.  Its microphone follows the server's output, so it needs a server that paces
its audio (the simulator with a realtime factor, or the real API).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import deque
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection

from rtrec.dial import Endpoint, dial
from rtrec.sim.audio import speech_like

RATE = 24000
CHUNK = RATE // 10  # 100 ms of PCM16
QUIET_MS = 1000  # of session clock without assistant words: its message is over
FORECAST = {"city": "Paris", "forecast": "sunny and 22 degrees"}
BARGE_IN_MS = 1200  # the user talks over the story this far into it
START = {
    "model": "gpt-live-1",
    "instructions": "You are a concise travel assistant. Delegate lookups to the client.",
    "audio": {"format": {"type": "audio/pcm", "rate": RATE}, "output": {"voice": "marin"}},
    "delegation": {"type": "client"},
}


class LiveDemoClient:
    def __init__(self, ws: ClientConnection, say: Callable[[str], None]) -> None:
        self.ws = ws
        self.say = say
        self.mic: deque[bytes] = deque()
        self.clock_ms = 0  # output audio played so far
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.words: list[str] = []  # the assistant's current message
        self.first_word_ms: int | None = None
        self.last_word_ms = 0

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(event))

    def speak(self, text: str) -> None:
        samples = speech_like(text, RATE).astype("<i2").tobytes()
        self.mic.extend(samples[i : i + CHUNK * 2] for i in range(0, len(samples), CHUNK * 2))
        self.say(f'user says "{text}"')

    async def receive(self) -> None:
        """Play output audio (answering each 100 ms of it with 100 ms of microphone)."""
        async for message in self.ws:
            event = json.loads(message)
            kind = event.get("type")
            if kind == "session.output_audio.delta":
                self.clock_ms += 100
                chunk = self.mic.popleft() if self.mic else bytes(CHUNK * 2)
                chunk += bytes(CHUNK * 2 - len(chunk))
                await self.send(
                    {
                        "type": "session.input_audio.append",
                        "audio": base64.b64encode(chunk).decode(),
                    }
                )
            elif kind == "session.output_transcript.delta":
                if self.first_word_ms is None:
                    self.first_word_ms = event["start_ms"]
                self.words.append(event["delta"])
                self.last_word_ms = event["end_ms"]
            await self.events.put(event)

    async def until(self, kind: str) -> dict[str, Any]:
        while True:
            event = await self.events.get()
            if event.get("type") == kind:
                return event

    async def message_said(self) -> str:
        """Wait until the assistant's current message is over; its text."""
        while self.first_word_ms is None or self.clock_ms < self.last_word_ms + QUIET_MS:
            await self.events.get()
        text = "".join(self.words).strip()
        self.words, self.first_word_ms = [], None
        self.say(f'assistant says "{text}"')
        return text

    async def speaking_for(self, ms: int) -> None:
        """Wait until the assistant has been talking for `ms` of the session clock."""
        while self.first_word_ms is None or self.last_word_ms - self.first_word_ms < ms:
            await self.events.get()


async def run_script(url: str, say: Callable[[str], None]) -> None:
    # The key is fake: it is here to show that rtrec never writes it down.
    headers = {"Authorization": "Bearer sk-demo-0000000000000000000000000000"}
    # Through rtrec's one way out, as every client rtrec runs: this host only, no redirect.
    ws = await dial(url, Endpoint.from_url(url), additional_headers=headers, max_size=None)
    async with ws:
        client = LiveDemoClient(ws, say)
        receiver = asyncio.get_running_loop().create_task(client.receive())
        try:
            await client.send({"type": "session.start", "event_id": "evt_start", "session": START})
            started = await client.until("session.started")
            say(f"session {started['session']['id']} started")

            # 1. A question the assistant hands off to the client.
            client.speak("What's the weather like in Paris today?")
            delegation = await client.until("session.delegation.created")
            say(f"assistant delegates the lookup to the client ({delegation['delegation']['id']})")
            await client.message_said()  # the acknowledgement
            await client.send(
                {
                    "type": "session.commentary.append",
                    "event_id": "evt_result",
                    "delegation_id": delegation["delegation"]["id"],
                    "content": json.dumps(FORECAST),
                }
            )
            say(f"client answers {json.dumps(FORECAST)}")
            await client.message_said()

            # 2. A story the user talks over.
            client.speak("Could you tell me a short story?")
            await client.speaking_for(BARGE_IN_MS)
            say("assistant tells a story… and the user talks over it")
            client.speak("Thanks, that's all for now.")
            await client.message_said()  # what was said of the story
            await client.message_said()  # the goodbye

            await client.send({"type": "session.close", "event_id": "evt_close"})
            closed = await client.until("session.closed")
            say(f"session closed ({closed['reason']}, {closed['usage']['seconds']} s billed)")
        finally:
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)


async def run_demo_call(origin: str, say: Callable[[str], None]) -> None:
    """The demo's GPT-Live call, through the relay at `origin`."""
    await run_script(f"{origin}/v1/live/sessions", say)
