"""A voice-agent call made with the OpenAI Agents SDK for Python (`openai-agents`).

A spoken question that the agent answers with a tool (server VAD, transcription: the
SDK retrieves the item when its transcript arrives, racing the tool round), audio that
keeps streaming through the tool round, then typed turns.  Used to record a call
through rtrec's relay and to replay it, --strict, against the same client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from agents import function_tool
from agents.realtime import RealtimeAgent, RealtimeRunner
from websockets.exceptions import ConnectionClosed

from rtrec.sim.audio import silence, speech_like

RATE = 24000
CHUNK_BYTES = RATE * 2 // 10  # 100 ms of pcm16
FORECAST = {"city": "Paris", "forecast": "sunny and 22 degrees"}
TURN_TIMEOUT_S = 30


@dataclass(frozen=True)
class Turn:
    text: str
    spoken: bool = False


CALL = (
    Turn("What's the weather like in Paris today?", spoken=True),
    Turn("Could you tell me a short story?", spoken=True),
    Turn("Thanks, bye."),
)


@dataclass
class AgentRun:
    errors: list[Any] = field(default_factory=list)
    turns_done: int = 0


def speech(text: str) -> list[bytes]:
    samples = np.concatenate([speech_like(text, RATE), silence(1.0, RATE)])
    data = samples.astype("<i2").tobytes()
    return [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]


async def agent_call(
    url: str, *, forecast: dict[str, str] = FORECAST, turns: Sequence[Turn] = CALL
) -> AgentRun:
    """Run the call against `url` (a relay, or a replay server); what the agent saw."""

    @function_tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return json.dumps(forecast)

    agent = RealtimeAgent(name="Assistant", instructions="Be brief.", tools=[get_weather])
    settings: dict[str, Any] = {
        "turn_detection": {"type": "server_vad", "silence_duration_ms": 400},
        "input_audio_transcription": {"model": "gpt-4o-mini-transcribe"},
    }
    session = await RealtimeRunner(agent).run(
        model_config={"url": url, "api_key": "sk-test", "initial_model_settings": settings}
    )
    run = AgentRun()
    events = session.__aiter__()

    async def until_answered(turn: int) -> None:
        # The weather question is answered in two agent turns (the call, the answer).
        wanted = 2 if "weather" in turns[turn].text else 1
        ended = 0
        while ended < wanted:
            event = await anext(events)
            if event.type == "error":
                run.errors.append(event.error)
            elif event.type == "agent_end":
                ended += 1

    async with session:
        try:
            for n, turn in enumerate(turns):
                if turn.spoken:
                    for chunk in speech(turn.text):
                        await session.send_audio(chunk)
                        await asyncio.sleep(0.01)  # a microphone's pace, faster than real time
                else:
                    await session.send_message(turn.text)
                await asyncio.wait_for(until_answered(n), TURN_TIMEOUT_S)
                run.turns_done += 1
        except (ConnectionClosed, StopAsyncIteration, TimeoutError):
            pass  # the server went away (a strict replay closed it), or went quiet
    return run
