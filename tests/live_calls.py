"""GPT-Live calls made with the real openai SDK (`client.live.connect()`).

`Tap` logs the frames the SDK's connection sends and receives, exactly as they cross
its WebSocket (it wraps the connection object and passes everything through), so a
test can compare them with what rtrec recorded when the server is not ours (aimock).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from openai import AsyncOpenAI
from websockets.exceptions import ConnectionClosed

from rtrec.sim.audio import silence, speech_like
from rtrec.sim.script import WEATHER_TOOL

API_KEY = "sk-proj-rtrecLIVE0123456789abcdefABCDEF"
RATE = 24000
CHUNK = RATE // 20  # 50 ms appends, as the real captures' client sent them
FORECAST = {"city": "Paris", "forecast": "sunny and 22 degrees"}
QUESTION = "What's the weather like in Paris today?"
ANSWER = "In Paris it is sunny and 22 degrees right now."
# An MCP tool whose credentials must never reach the log.
MCP_AUTHORIZATION = "Bearer mcp-token-7f3a9c1e5b"
MCP_HEADER_VALUE = "hdr-secret-41d8cd98f00b"
MCP_TOOL = {
    "type": "mcp",
    "server_label": "crm",
    "server_url": "https://mcp.example.com/sse",
    "authorization": MCP_AUTHORIZATION,
    "headers": {"X-Crm-Token": MCP_HEADER_VALUE},
}


class Tap:
    """The SDK connection's WebSocket, with every message it sends and receives logged."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self.frames: list[tuple[str, str]] = []

    @classmethod
    def install(cls, conn: Any) -> Tap:
        tap = cls(conn._connection)
        conn._connection = tap
        return tap

    async def send(self, message: Any, *args: Any, **kwargs: Any) -> Any:
        self.frames.append(("client", message if isinstance(message, str) else message.decode()))
        return await self._ws.send(message, *args, **kwargs)

    async def recv(self, *args: Any, **kwargs: Any) -> Any:
        message = await self._ws.recv(*args, **kwargs)
        self.frames.append(("server", message if isinstance(message, str) else message.decode()))
        return message

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


@dataclass
class CallLog:
    session_id: str = ""
    delegation_id: str = ""
    call_id: str = ""
    audio_in_bytes: int = 0
    audio_out_bytes: int = 0
    said: list[str] = field(default_factory=list)  # the assistant's transcript deltas
    closed_usage: float | None = None
    frames: list[tuple[str, str]] = field(default_factory=list)


def session_config(delegation: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model": "gpt-live-1",
        "instructions": "You are a concise travel assistant. Delegate lookups.",
        "audio": {"format": {"type": "audio/pcm", "rate": RATE}, "output": {"voice": "marin"}},
    }
    if delegation == "responses":
        config["delegation"] = {
            "type": "responses",
            "responses": {"model": "gpt-5-mini", "tools": [WEATHER_TOOL, MCP_TOOL]},
        }
    else:
        config["delegation"] = {"type": "client"}
    return config


async def weather_call(
    url: str,
    *,
    delegation: str = "client",
    timeout: float = 30,
    after_start: Callable[[str], Awaitable[None]] | None = None,
) -> CallLog:
    """Ask for the weather by voice; the delegated lookup is answered by this client.

    With a client delegation the answer is commentary naming the delegation; with a
    Responses delegation it is the output of the backend's function call.
    `after_start` runs with the provider's session id once the session has started.
    """
    log = CallLog()
    client = AsyncOpenAI(api_key=API_KEY, websocket_base_url=f"{url}/v1")
    async with client.live.connect() as conn:
        tap = Tap.install(conn)

        async def until(kind: str, nested: str | None = None) -> Any:
            while True:
                event = await asyncio.wait_for(conn.recv(), timeout)
                if event.type == "session.output_audio.delta":
                    log.audio_out_bytes += len(base64.b64decode(event.delta))
                elif event.type == "session.output_transcript.delta":
                    log.said.append(event.delta)
                if event.type == kind and (nested is None or event.event.get("type") == nested):
                    return event

        await conn.session.start(session=session_config(delegation), event_id="evt_start")
        started = await until("session.started")
        log.session_id = started.session.id
        if after_start is not None:
            await after_start(log.session_id)
        samples = np.concatenate([speech_like(QUESTION, RATE), silence(0.6, RATE)])
        for start in range(0, len(samples), CHUNK):
            chunk = samples[start : start + CHUNK].astype("<i2").tobytes()
            log.audio_in_bytes += len(chunk)
            await conn.session.input_audio.append(audio=base64.b64encode(chunk).decode())
        created = await until("session.delegation.created")
        log.delegation_id = created.delegation.id
        if delegation == "responses":
            done = await until("response.event", "response.output_item.done")
            log.call_id = done.event["item"]["call_id"]
            await conn.response.item.create(
                item={
                    "type": "function_call_output",
                    "call_id": log.call_id,
                    "output": json.dumps(FORECAST),
                },
                event_id="evt_tool_output",
            )
            await conn.response.create(event_id="evt_continue")
        else:
            await conn.session.commentary.append(
                content=json.dumps(FORECAST), delegation_id=log.delegation_id, event_id="evt_result"
            )
            await until("session.commentary.appended")
        while not "".join(log.said).endswith(ANSWER):
            await until("session.output_transcript.delta")
        # A replay on the recorded clock may have said goodbye already.
        with contextlib.suppress(ConnectionClosed):
            await conn.session.close(event_id="evt_close")
        closed = await until("session.closed")
        log.closed_usage = closed.usage.seconds
    log.frames = tap.frames
    return log


# -- following a recorded script (aimock's fixtures) ---------------------------------

# The SDK method that sends each client event type.
_SENDERS = {
    "session.start": lambda conn: conn.session.start,
    "session.input_audio.append": lambda conn: conn.session.input_audio.append,
    "session.thinking.append": lambda conn: conn.session.thinking.append,
    "session.commentary.append": lambda conn: conn.session.commentary.append,
    "session.instructions.append": lambda conn: conn.session.instructions.append,
    "response.item.create": lambda conn: conn.response.item.create,
    "response.create": lambda conn: conn.response.create,
    "session.close": lambda conn: conn.session.close,
}


async def follow_script(
    url: str, entries: list[dict[str, Any]], *, id_prefix: str = "live-id-", timeout: float = 30
) -> CallLog:
    """Play the client side of a scripted session with the SDK's own methods.

    Each client event is sent as scripted, with the ids the server made up in its place
    (a server that mints fresh ids, as aimock does, needs them echoed); each server
    event is awaited in turn.  Scripted ids are the strings starting with `id_prefix`.
    """
    log = CallLog()
    ids: dict[str, str] = {}
    client = AsyncOpenAI(api_key=API_KEY, websocket_base_url=f"{url}/v1")
    async with client.live.connect() as conn:
        tap = Tap.install(conn)
        for entry in entries:
            scripted = entry["event"]
            if entry["direction"] == "server":
                event = json.loads(await asyncio.wait_for(conn.recv_bytes(), timeout))
                assert event.get("type") == scripted["type"], (event, scripted["type"])
                _learn(scripted, event, ids, id_prefix)
                continue
            event = _substitute(scripted, ids, id_prefix)
            fields = {key: value for key, value in event.items() if key != "type"}
            await _SENDERS[event["type"]](conn)(**fields)
    log.frames = tap.frames
    return log


def _learn(scripted: Any, actual: Any, ids: dict[str, str], prefix: str) -> None:
    if isinstance(scripted, str) and scripted.startswith(prefix) and isinstance(actual, str):
        ids.setdefault(scripted, actual)
    elif isinstance(scripted, dict) and isinstance(actual, dict):
        for key, value in scripted.items():
            _learn(value, actual.get(key), ids, prefix)
    elif isinstance(scripted, list) and isinstance(actual, list):
        for value, other in zip(scripted, actual, strict=False):
            _learn(value, other, ids, prefix)


def _substitute(scripted: Any, ids: dict[str, str], prefix: str) -> Any:
    if isinstance(scripted, str) and scripted.startswith(prefix):
        # An id the server made is echoed; one the client makes is its own.
        return ids.setdefault(scripted, f"evt_rtrec_{len(ids) + 1}")
    if isinstance(scripted, dict):
        return {key: _substitute(value, ids, prefix) for key, value in scripted.items()}
    if isinstance(scripted, list):
        return [_substitute(value, ids, prefix) for value in scripted]
    return scripted


async def attach_sideband(url: str, session_id: str) -> tuple[Tap, asyncio.Task[None]]:
    """A sideband on the session (`client.live.sideband.connect`), read until it closes."""
    client = AsyncOpenAI(api_key=API_KEY, websocket_base_url=f"{url}/v1")
    conn = await client.live.sideband.connect(session_id=session_id).enter()
    tap = Tap.install(conn)

    async def read() -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await conn.recv()
        await conn.close()

    return tap, asyncio.get_running_loop().create_task(read())
