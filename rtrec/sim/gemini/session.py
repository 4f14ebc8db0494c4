"""One simulated Gemini Live session: the server side of BidiGenerateContent.

The first message must be `setup` (answered by `setupComplete`); then `clientContent`
turns, `realtimeInput` (audio run through voice activity detection, or the client's
own `activityStart`/`activityEnd`; text; `audioStreamEnd`) and `toolResponse`.
User speech is "transcribed" from the script's lines (`inputTranscription`, when the
setup asks for it) and answered by a model turn (rtrec/sim/gemini/reply.py).  Speech,
or a new turn, while the model is still answering interrupts it: `interrupted`, then
the interrupted turn's `turnComplete`, as the API does.  A message the API would not
take closes the connection with 1007, as the API does.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from rtrec.audio_format import PCM16_16K
from rtrec.protocols.base import decode_base64
from rtrec.protocols.gemini.media import audio_format, user_blobs
from rtrec.protocols.gemini.session import instructions_text
from rtrec.sim import tasks
from rtrec.sim.dialogue import choose_reply
from rtrec.sim.gemini import wire
from rtrec.sim.gemini.reply import ReplyStyle, say, think, words_of
from rtrec.sim.options import SimOptions
from rtrec.sim.vad import EnergyVad

INVALID = 1007
INVALID_REASON = "Request contains an invalid argument."
SEED = 20250923  # replies (their delays, call ids) are the same run after run


class GeminiSession:
    def __init__(self, ws: ServerConnection, options: SimOptions) -> None:
        self.ws = ws
        self.options = options
        self.rng = random.Random(SEED)
        self.style = ReplyStyle()
        self.input_transcription = False
        self.functions: set[str] = set()
        self.resumption = False
        self.automatic_activity = True
        self.silence_ms = 500
        self.history: list[dict[str, Any]] = []
        self.vad: EnergyVad | None = None
        self.vad_rate = 0
        self.heard_audio = False
        self.user_turns = 0
        self.turn: asyncio.Task[None] | None = None
        self.turn_words = 0
        self.handles = 0
        self._handlers: dict[str, Callable[[Any], Awaitable[None]]] = {
            "clientContent": self.on_client_content,
            "realtimeInput": self.on_realtime_input,
            "toolResponse": self.on_tool_response,
        }

    # -- plumbing -------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        data = wire.encode(message)
        self.options.log("server", data)
        await self.ws.send(data)

    async def reject(self, reason: str = INVALID_REASON) -> None:
        await self.ws.close(INVALID, reason)

    async def run(self) -> None:
        try:
            first = await self._next()
            if first is None or wire.kind_of(first) != "setup":
                await self.reject("The first message must be setup.")
                return
            self.configure(wire.field(first, "setup") or {})
            await self.send({"setupComplete": {}})
            while (message := await self._next()) is not None:
                handler = self._handlers.get(wire.kind_of(message) or "")
                if handler is None:
                    name = next(iter(message), "")
                    await self.reject(
                        f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.'
                    )
                    return
                await handler(wire.field(message, wire.kind_of(message) or "") or {})
        except ConnectionClosed:
            pass
        finally:
            if self.turn is not None:
                await tasks.stop(self.turn)

    async def _next(self) -> dict[str, Any] | None:
        """The client's next message; None (connection closed 1007) for anything else."""
        try:
            frame = await self.ws.recv()
        except ConnectionClosed:
            return None
        self.options.log("client", frame)
        try:
            message = json.loads(frame)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not message:
            await self.reject("Invalid JSON payload received.")
            return None
        return message

    def configure(self, setup: dict[str, Any]) -> None:
        generation = wire.field(setup, "generationConfig") or {}
        modalities = wire.field(generation, "responseModalities") or ["AUDIO"]
        self.style = ReplyStyle(
            audio=any(str(m).upper() == "AUDIO" for m in modalities),
            transcription=wire.field(setup, "outputAudioTranscription") is not None,
        )
        self.input_transcription = wire.field(setup, "inputAudioTranscription") is not None
        for tool in wire.field(setup, "tools") or []:
            for declaration in wire.field(tool, "functionDeclarations") or []:
                if isinstance(declaration, dict) and declaration.get("name"):
                    self.functions.add(str(declaration["name"]))
        detection = wire.field(
            wire.field(setup, "realtimeInputConfig"), "automaticActivityDetection"
        )
        if isinstance(detection, dict):
            self.automatic_activity = not detection.get("disabled")
            silence = wire.field(detection, "silenceDurationMs")
            if isinstance(silence, int) and silence > 0:
                self.silence_ms = silence
        self.resumption = wire.field(setup, "sessionResumption") is not None
        instructions = instructions_text(wire.field(setup, "systemInstruction"))
        if instructions:
            self.history.append(_message("system", instructions))

    # -- what the client sends ----------------------------------------------------------

    async def on_client_content(self, content: dict[str, Any]) -> None:
        for turn in wire.field(content, "turns") or []:
            role = "assistant" if wire.field(turn, "role") == "model" else "user"
            parts = wire.field(turn, "parts") or []
            text = "".join(
                str(p.get("text")) for p in parts if isinstance(p, dict) and p.get("text")
            )
            self.history.append(_message(role, text))
        if wire.field(content, "turnComplete"):
            await self.answer()

    async def on_realtime_input(self, given: dict[str, Any]) -> None:
        for blob in user_blobs({"realtimeInput": given}):
            fmt = audio_format(wire.field(blob, "mimeType"), PCM16_16K)
            data = wire.field(blob, "data")
            if fmt is None or not fmt.rate or not isinstance(data, str):
                continue
            try:
                pcm = decode_base64(data)
            except (binascii.Error, ValueError):
                await self.reject()
                return
            self.heard_audio = True
            if self.automatic_activity:
                await self._detect(np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2"), fmt.rate)
        text = wire.field(given, "text")
        if isinstance(text, str) and text:
            self.history.append(_message("user", text))
            await self.answer()
        if wire.field(given, "activityStart") is not None:
            await self.interrupt()
        if wire.field(given, "activityEnd") is not None and not self.automatic_activity:
            await self.user_finished()
        if wire.field(given, "audioStreamEnd") and self.vad is not None and self.vad.in_speech:
            self.vad = None  # the stream ended mid-speech: what was said is complete
            await self.user_finished()

    async def on_tool_response(self, answer: dict[str, Any]) -> None:
        for response in wire.field(answer, "functionResponses") or []:
            output = wire.field(response, "response")
            self.history.append(
                {
                    "type": "function_call_output",
                    "call_id": wire.field(response, "id"),
                    "output": json.dumps(output),
                }
            )
        await self.answer()

    async def _detect(self, samples: np.ndarray, rate: int) -> None:
        if self.vad is None or self.vad_rate != rate:
            self.vad = EnergyVad(rate, silence_duration_ms=self.silence_ms)
            self.vad_rate = rate
        for event in self.vad.feed(samples):
            if event.kind == "started":
                await self.interrupt()
            else:
                await self.user_finished()

    # -- what the server does -----------------------------------------------------------

    async def user_finished(self) -> None:
        """The user stopped talking: what they said (the script's next line), answered."""
        lines = self.options.user_lines
        line = lines[self.user_turns % len(lines)]
        self.user_turns += 1
        if self.input_transcription:
            for fragment in words_of(line):
                await self.send(wire.transcription("inputTranscription", fragment))
        self.history.append(_message("user", line, audio=True))
        await self.answer()

    async def interrupt(self) -> None:
        """The user talks over the model: its turn stops, as `interrupted` says."""
        turn, self.turn = self.turn, None
        if turn is None or turn.done():
            return
        await tasks.stop(turn)
        await self.send({"serverContent": {"interrupted": True}})
        await self._complete()

    async def answer(self) -> None:
        await self.interrupt()
        self.turn = asyncio.get_running_loop().create_task(self._model_turn())

    async def _model_turn(self) -> None:
        await think(self.rng)
        reply = choose_reply(self.history, self.functions)
        if reply.kind == "function_call":
            call_id = wire.call_id(self.rng)
            self.history.append({"type": "function_call", "name": reply.name, "call_id": call_id})
            call = {"name": reply.name, "args": json.loads(reply.arguments), "id": call_id}
            await self.send({"toolCall": {"functionCalls": [call]}})
            return
        self.history.append(_message("assistant", reply.text))
        self.turn_words = len(reply.text.split())
        await say(self.send, reply.text, self.style, self.options)
        self.turn = None
        await self._complete()

    async def _complete(self) -> None:
        prompt = 100 + sum(len(str(_text(item)).split()) for item in self.history) * 4 // 3
        tokens = wire.usage(
            prompt, self.turn_words * 2 + 8, audio_in=self.heard_audio, audio_out=self.style.audio
        )
        await self.send({"serverContent": {"turnComplete": True}, "usageMetadata": tokens})
        if self.resumption:
            self.handles += 1
            update = {"newHandle": f"sim-handle-{self.handles}", "resumable": True}
            await self.send({"sessionResumptionUpdate": update})


def _message(role: str, text: str, *, audio: bool = False) -> dict[str, Any]:
    kind = "input_audio" if audio else "input_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}


def _text(item: dict[str, Any]) -> str:
    parts = item.get("content") or []
    return " ".join(str(p.get("text") or "") for p in parts if isinstance(p, dict)) or str(
        item.get("output") or ""
    )
