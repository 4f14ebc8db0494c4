"""One simulated Realtime session: the server side of the protocol, GA or beta.

It keeps a conversation, runs server VAD on the audio it is sent, transcribes user
turns from a script, answers with speech-like audio and transcripts, calls tools,
honours truncation, deletion, retrieval and cancellation, and reports errors the
way the real API does (an `error` event naming the client event).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import random
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from rtrec import g711
from rtrec.audio_format import AudioFormat
from rtrec.protocols.realtime.formats import response_output_format
from rtrec.sim.audio import resample, speech_like
from rtrec.sim.beta import to_beta
from rtrec.sim.config import SimConfig, ga_format
from rtrec.sim.dialogue import Reply, choose_reply
from rtrec.sim.vad import EnergyVad

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(21))


DEFAULT_USER_LINES = (
    "What's the weather like in Paris today?",
    "Could you tell me a short story?",
    "Thanks, that's all for now.",
)


@dataclass
class SimOptions:
    """How the simulator behaves; the defaults suit tests (fast, GA unless asked for beta)."""

    model: str = "gpt-realtime"
    require_key: str | None = None
    protocol: str = "auto"  # "auto" (beta when OpenAI-Beta: realtime=v1), "ga", "beta"
    # Audio streams at this multiple of real time; 0 sends it as fast as possible.
    realtime_factor: float = 0.0
    delta_ms: tuple[int, ...] = (40, 120, 200, 200, 160)
    user_lines: tuple[str, ...] = DEFAULT_USER_LINES
    rate_limits: bool = True
    # Think time before each reply's first output, drawn uniformly from this range (ms)
    # with a generator seeded by `seed`: a real model takes a few hundred ms.  The
    # default (none) keeps tests fast; `rtrec demo` sets one so its latencies look real.
    reply_delay_ms: tuple[float, float] = (0.0, 0.0)
    seed: int | None = None
    # When set, every frame received and sent is appended as (direction, frame): tests
    # compare it with what the relay recorded.
    frame_log: list[tuple[str, str | bytes]] | None = None


def _decode_audio(data: bytes, fmt: AudioFormat) -> np.ndarray:
    if fmt.encoding == "pcm16":
        usable = len(data) // 2 * 2
        return np.frombuffer(data[:usable], dtype="<i2")
    return g711.decode(data, "ulaw" if fmt.encoding == "g711_ulaw" else "alaw")


def _encode_audio(samples: np.ndarray, fmt: AudioFormat) -> bytes:
    if fmt.encoding == "pcm16":
        return samples.astype("<i2").tobytes()
    return g711.encode(samples, "ulaw" if fmt.encoding == "g711_ulaw" else "alaw")


@dataclass
class ActiveResponse:
    id: str
    task: asyncio.Task[None]
    cancel_reason: str | None = None
    output: list[dict[str, Any]] = field(default_factory=list)


class SimConnection:
    def __init__(
        self, ws: ServerConnection, options: SimOptions, *, beta: bool, model: str
    ) -> None:
        self.ws = ws
        self.options = options
        self.beta = beta
        self.config = SimConfig(model=model)
        self.session_id = new_id("sess_")
        self.conversation_id = new_id("conv_")
        self.expires_at = int(time.time()) + 1800
        self.items: list[dict[str, Any]] = []
        self.buffer = bytearray()
        self.vad: EnergyVad | None = None
        self.pending_item_id: str | None = None
        self.user_turns = 0
        self.response: ActiveResponse | None = None
        self.audio_ms: dict[str, float] = {}  # assistant item id → ms of audio sent
        self._background: set[asyncio.Task[None]] = set()
        self._random = random.Random(options.seed)
        self._reset_vad()

    # -- plumbing -------------------------------------------------------------------

    async def send(self, event: dict[str, Any]) -> None:
        out: dict[str, Any] | None = {"type": event["type"], "event_id": new_id("event_")}
        out.update({k: v for k, v in event.items() if k != "type"})
        if self.beta:
            out = to_beta(out)
            if out is None:
                return
        frame = json.dumps(out, separators=(",", ":"), ensure_ascii=False)
        if self.options.frame_log is not None:
            self.options.frame_log.append(("server", frame))
        await self.ws.send(frame)

    async def error(
        self, message: str, *, code: str | None, event_id: str | None, param: str | None = None
    ) -> None:
        await self.send(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": code,
                    "message": message,
                    "param": param,
                    "event_id": event_id,
                },
            }
        )

    def session_object(self) -> dict[str, Any]:
        render = self.config.render_beta if self.beta else self.config.render_ga
        return render(self.session_id, self.expires_at)

    def _spawn(self, part: Callable[..., Awaitable[None]], *args: Any) -> None:
        task = asyncio.get_running_loop().create_task(_until_closed(part, *args))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _reset_vad(self) -> None:
        td = self.config.turn_detection
        if td is None:
            self.vad = None
            return
        position = self.vad.position_ms if self.vad is not None else 0
        self.vad = EnergyVad(
            self.config.input_format.rate,
            threshold=float(td.get("threshold") or 0.5),
            prefix_padding_ms=int(td.get("prefix_padding_ms") or 300),
            silence_duration_ms=int(td.get("silence_duration_ms") or 200),
        )
        self.vad.position_ms = position

    # -- the session --------------------------------------------------------------------

    async def run(self) -> None:
        await self.send({"type": "session.created", "session": self.session_object()})
        try:
            async for message in self.ws:
                if self.options.frame_log is not None:
                    self.options.frame_log.append(("client", message))
                await self.dispatch(message)
        except ConnectionClosed:
            pass
        finally:
            if self.response is not None:
                self.response.task.cancel()
            for task in list(self._background):
                task.cancel()

    async def dispatch(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            await self.error(
                "Binary frames are not supported.", code="invalid_frame", event_id=None
            )
            return
        try:
            event = json.loads(message)
        except ValueError as exc:
            await self.error(f"Invalid JSON: {exc}", code="invalid_json", event_id=None)
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            await self.error(
                "Missing event type.",
                code="missing_required_parameter",
                event_id=None,
                param="type",
            )
            return
        handler = getattr(self, "on_" + event["type"].replace(".", "_"), None)
        if handler is None:
            await self.error(
                f"Invalid value: '{event['type']}'. Unknown client event type.",
                code="invalid_value",
                event_id=event.get("event_id"),
                param="type",
            )
            return
        await handler(event)

    # -- client events ------------------------------------------------------------------

    async def on_session_update(self, event: dict[str, Any]) -> None:
        update = event.get("session")
        if not isinstance(update, dict):
            await self.error(
                "Missing 'session'.",
                code="missing_required_parameter",
                event_id=event.get("event_id"),
                param="session",
            )
            return
        self.config.apply(update)
        self._reset_vad()
        await self.send({"type": "session.updated", "session": self.session_object()})

    async def on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        try:
            data = base64.b64decode(event.get("audio") or "", validate=True)
        except (binascii.Error, ValueError):
            await self.error(
                "Invalid 'audio': not valid base64.",
                code="invalid_value",
                event_id=event.get("event_id"),
                param="audio",
            )
            return
        self.buffer.extend(data)
        if self.vad is None:
            return
        for vad_event in self.vad.feed(_decode_audio(data, self.config.input_format)):
            if vad_event.kind == "started":
                self.pending_item_id = new_id("item_")
                await self.send(
                    {
                        "type": "input_audio_buffer.speech_started",
                        "audio_start_ms": vad_event.audio_ms,
                        "item_id": self.pending_item_id,
                    }
                )
                td = self.config.turn_detection or {}
                if self.response is not None and td.get("interrupt_response", True):
                    await self.cancel_response("turn_detected")
            else:
                item_id = self.pending_item_id or new_id("item_")
                await self.send(
                    {
                        "type": "input_audio_buffer.speech_stopped",
                        "audio_end_ms": vad_event.audio_ms,
                        "item_id": item_id,
                    }
                )
                await self.commit(item_id)
                if (self.config.turn_detection or {}).get("create_response", True):
                    await self.start_response({})

    async def on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        fmt = self.config.input_format
        if fmt.duration_ms(len(self.buffer)) < 100:
            await self.error(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"100ms of audio, but buffer only has {fmt.duration_ms(len(self.buffer)):.2f}ms "
                "of audio.",
                code="input_audio_buffer_commit_empty",
                event_id=event.get("event_id"),
            )
            return
        await self.commit(self.pending_item_id or new_id("item_"))

    async def on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self.buffer.clear()
        await self.send({"type": "input_audio_buffer.cleared"})

    async def on_conversation_item_create(self, event: dict[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, dict):
            await self.error(
                "Missing 'item'.",
                code="missing_required_parameter",
                event_id=event.get("event_id"),
                param="item",
            )
            return
        item = dict(item)
        item.setdefault("id", new_id("item_"))
        item.setdefault("status", "completed")
        if item.get("type") == "message":
            item["content"] = [
                {k: v for k, v in part.items() if k != "audio"}
                | ({"transcript": None} if part.get("type") == "input_audio" else {})
                for part in item.get("content") or []
                if isinstance(part, dict)
            ]
        previous = event.get("previous_item_id")
        if previous not in (None, "root") and self.index_of(previous) is None:
            await self.error(
                f"Previous item with id '{previous}' not found.",
                code="item_not_found",
                event_id=event.get("event_id"),
                param="previous_item_id",
            )
            return
        await self.add_item(item, after=previous)

    async def on_conversation_item_retrieve(self, event: dict[str, Any]) -> None:
        index = self.index_of(event.get("item_id"))
        if index is None:
            await self.item_not_found(event)
            return
        await self.send({"type": "conversation.item.retrieved", "item": self.items[index]})

    async def on_conversation_item_truncate(self, event: dict[str, Any]) -> None:
        item_id = event.get("item_id")
        index = self.index_of(item_id)
        if index is None:
            await self.item_not_found(event)
            return
        end_ms = event.get("audio_end_ms")
        sent_ms = self.audio_ms.get(item_id, 0.0)  # type: ignore[arg-type]
        if not isinstance(end_ms, int) or end_ms < 0 or end_ms > sent_ms + 1:
            await self.error(
                f"Audio content of {sent_ms:.0f}ms is shorter than {end_ms}ms.",
                code="invalid_value",
                event_id=event.get("event_id"),
                param="audio_end_ms",
            )
            return
        await self.send(
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": event.get("content_index", 0),
                "audio_end_ms": end_ms,
            }
        )

    async def on_conversation_item_delete(self, event: dict[str, Any]) -> None:
        index = self.index_of(event.get("item_id"))
        if index is None:
            await self.item_not_found(event)
            return
        del self.items[index]
        await self.send({"type": "conversation.item.deleted", "item_id": event["item_id"]})

    async def on_response_create(self, event: dict[str, Any]) -> None:
        if self.response is not None:
            await self.error(
                "Conversation already has an active response in progress: "
                f"{self.response.id}. Wait until the response is finished before creating "
                "a new one.",
                code="conversation_already_has_active_response",
                event_id=event.get("event_id"),
            )
            return
        params = event.get("response")
        await self.start_response(params if isinstance(params, dict) else {})

    async def on_response_cancel(self, event: dict[str, Any]) -> None:
        if self.response is None:
            await self.error(
                "Cancellation failed: no active response found",
                code="response_cancel_not_active",
                event_id=event.get("event_id"),
            )
            return
        await self.cancel_response("client_cancelled")

    async def on_output_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        await self.send(
            {
                "type": "output_audio_buffer.cleared",
                "response_id": self.response.id if self.response else None,
            }
        )

    # -- conversation -------------------------------------------------------------------

    def index_of(self, item_id: Any) -> int | None:
        for index, item in enumerate(self.items):
            if item.get("id") == item_id:
                return index
        return None

    async def item_not_found(self, event: dict[str, Any]) -> None:
        await self.error(
            f"Item with item_id not found: {event.get('item_id')}",
            code="item_not_found",
            event_id=event.get("event_id"),
            param="item_id",
        )

    async def add_item(self, item: dict[str, Any], *, after: str | None) -> None:
        if after == "root":
            position, previous = 0, None
        elif after is not None:
            position, previous = (self.index_of(after) or 0) + 1, after
        else:
            position = len(self.items)
            previous = self.items[-1]["id"] if self.items else None
        self.items.insert(position, item)
        await self.send(
            {"type": "conversation.item.added", "previous_item_id": previous, "item": item}
        )
        await self.send(
            {"type": "conversation.item.done", "previous_item_id": previous, "item": item}
        )

    async def commit(self, item_id: str) -> None:
        self.buffer.clear()
        self.pending_item_id = None
        previous = self.items[-1]["id"] if self.items else None
        await self.send(
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        )
        line = self.options.user_lines[self.user_turns % len(self.options.user_lines)]
        self.user_turns += 1
        item = {
            "id": item_id,
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        await self.add_item(item, after=None)
        # The dialogue hears the line now; the transcript events follow, as on the real API.
        item["content"][0]["transcript"] = line
        if self.config.transcription:
            self._spawn(self.transcribe, item_id, line)

    async def transcribe(self, item_id: str, line: str) -> None:
        await asyncio.sleep(0.005)
        model = (self.config.transcription or {}).get("model")
        if model == "fail":
            await self.send(
                {
                    "type": "conversation.item.input_audio_transcription.failed",
                    "item_id": item_id,
                    "content_index": 0,
                    "error": {
                        "type": "server_error",
                        "code": "transcription_failed",
                        "message": f"Input transcription failed for item '{item_id}'.",
                        "param": None,
                    },
                }
            )
            return
        for word in _words(line):
            await self.send(
                {
                    "type": "conversation.item.input_audio_transcription.delta",
                    "item_id": item_id,
                    "content_index": 0,
                    "delta": word,
                }
            )
        await self.send(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "content_index": 0,
                "transcript": line,
                "usage": {"type": "duration", "seconds": max(1, len(line) // 15)},
            }
        )

    # -- responses --------------------------------------------------------------------

    async def start_response(self, params: dict[str, Any]) -> None:
        response_id = new_id("resp_")
        task = asyncio.get_running_loop().create_task(
            _until_closed(self.respond, response_id, params)
        )
        self.response = ActiveResponse(response_id, task)

    async def cancel_response(self, reason: str) -> None:
        active = self.response
        if active is None:
            return
        active.cancel_reason = reason
        active.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await active.task

    async def respond(self, response_id: str, params: dict[str, Any]) -> None:
        in_conversation = params.get("conversation") != "none"
        modalities = params.get("output_modalities") or params.get("modalities")
        audio_out = ("audio" in modalities) if modalities else self.config.audio_out
        out_format = response_output_format(params) or self.config.output_format
        context = list(self.items)
        if isinstance(params.get("input"), list):
            context = [i for i in params["input"] if isinstance(i, dict)]
        reply = choose_reply(context, self.config.function_names())
        base = {
            "object": "realtime.response",
            "id": response_id,
            "conversation_id": self.conversation_id if in_conversation else None,
            "output_modalities": ["audio"] if audio_out else ["text"],
            "max_output_tokens": self.config.max_output_tokens,
            "audio": {"output": {"format": ga_format(out_format), "voice": self.config.voice}},
            "metadata": params.get("metadata"),
        }
        await self.send(
            {
                "type": "response.created",
                "response": {
                    **base,
                    "status": "in_progress",
                    "status_details": None,
                    "output": [],
                    "usage": None,
                },
            }
        )
        active = self.response
        output: list[dict[str, Any]] = active.output if active is not None else []
        status, details = "completed", None
        try:
            await self._think()
            if reply.kind == "function_call":
                await self.stream_function_call(response_id, reply, output, in_conversation)
            else:
                await self.stream_message(
                    response_id, reply, output, in_conversation, audio_out, out_format
                )
        except asyncio.CancelledError:
            reason = active.cancel_reason if active is not None else None
            status, details = (
                "cancelled",
                {"type": "cancelled", "reason": reason or "client_cancelled"},
            )
            for item in output:
                if item.get("status") == "in_progress":
                    item["status"] = "incomplete"
                    await self.send(
                        {
                            "type": "response.output_item.done",
                            "response_id": response_id,
                            "output_index": output.index(item),
                            "item": item,
                        }
                    )
        finally:
            if self.response is not None and self.response.id == response_id:
                self.response = None
        await self.send(
            {
                "type": "response.done",
                "response": {
                    **base,
                    "status": status,
                    "status_details": details,
                    "output": output,
                    "usage": self.usage(output),
                },
            }
        )
        if self.options.rate_limits:
            await self.send(
                {
                    "type": "rate_limits.updated",
                    "rate_limits": [
                        {
                            "name": "tokens",
                            "limit": 15000000,
                            "remaining": 14999000,
                            "reset_seconds": 0.004,
                        }
                    ],
                }
            )

    async def stream_function_call(
        self, response_id: str, reply: Reply, output: list[dict[str, Any]], in_conversation: bool
    ) -> None:
        item = {
            "id": new_id("item_"),
            "type": "function_call",
            "status": "in_progress",
            "name": reply.name,
            "call_id": "call_" + new_id("")[:16],
            "arguments": "",
        }
        output.append(item)
        await self.send(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": 0,
                "item": item,
            }
        )
        previous = self._append_output(item, in_conversation)
        if in_conversation:
            await self.send(
                {"type": "conversation.item.added", "previous_item_id": previous, "item": item}
            )
        args = reply.arguments
        for start in range(0, len(args), 6):
            await self.send(
                {
                    "type": "response.function_call_arguments.delta",
                    "response_id": response_id,
                    "item_id": item["id"],
                    "output_index": 0,
                    "call_id": item["call_id"],
                    "delta": args[start : start + 6],
                }
            )
            await self._pace(20)
        item.update(status="completed", arguments=args)
        await self.send(
            {
                "type": "response.function_call_arguments.done",
                "response_id": response_id,
                "item_id": item["id"],
                "output_index": 0,
                "call_id": item["call_id"],
                "name": reply.name,
                "arguments": args,
            }
        )
        if in_conversation:
            # The real API sends previous_item_id null here even when the item is not first.
            await self.send(
                {"type": "conversation.item.done", "previous_item_id": None, "item": item}
            )
        await self.send(
            {
                "type": "response.output_item.done",
                "response_id": response_id,
                "output_index": 0,
                "item": item,
            }
        )

    async def stream_message(
        self,
        response_id: str,
        reply: Reply,
        output: list[dict[str, Any]],
        in_conversation: bool,
        audio_out: bool,
        out_format: AudioFormat,
    ) -> None:
        item = {
            "id": new_id("item_"),
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        output.append(item)
        where = {
            "response_id": response_id,
            "item_id": item["id"],
            "output_index": 0,
            "content_index": 0,
        }
        await self.send(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": 0,
                "item": item,
            }
        )
        previous = self._append_output(item, in_conversation)
        if in_conversation:
            await self.send(
                {"type": "conversation.item.added", "previous_item_id": previous, "item": item}
            )
        text = reply.text
        if audio_out:
            await self.send(
                {
                    "type": "response.content_part.added",
                    **where,
                    "part": {"type": "audio", "transcript": ""},
                }
            )
            item["content"] = [{"type": "output_audio", "transcript": ""}]
            await self.stream_audio(item, where, text, out_format)
            await self.send({"type": "response.output_audio.done", **where})
            await self.send(
                {"type": "response.output_audio_transcript.done", **where, "transcript": text}
            )
            part = {"type": "audio", "transcript": text}
            final = [{"type": "output_audio", "transcript": text}]
        else:
            await self.send(
                {
                    "type": "response.content_part.added",
                    **where,
                    "part": {"type": "text", "text": ""},
                }
            )
            for word in _words(text):
                await self.send({"type": "response.output_text.delta", **where, "delta": word})
                await self._pace(30)
            await self.send({"type": "response.output_text.done", **where, "text": text})
            part = {"type": "text", "text": text}
            final = [{"type": "output_text", "text": text}]
        await self.send({"type": "response.content_part.done", **where, "part": part})
        item.update(status="completed", content=final)
        if in_conversation:
            await self.send(
                {"type": "conversation.item.done", "previous_item_id": None, "item": item}
            )
        await self.send(
            {
                "type": "response.output_item.done",
                "response_id": response_id,
                "output_index": 0,
                "item": item,
            }
        )

    async def stream_audio(
        self, item: dict[str, Any], where: dict[str, Any], text: str, fmt: AudioFormat
    ) -> None:
        samples = resample(speech_like(text), 24000, fmt.rate)
        audio = _encode_audio(samples, fmt)
        words = _words(text)
        total_ms = fmt.duration_ms(len(audio))
        # Transcript deltas run slightly ahead of the audio they describe, as on the API.
        word_at_ms = [total_ms * i / max(1, len(words)) for i in range(len(words))]
        next_word = 0
        sent_ms = 0.0
        offset = 0
        cycle = 0
        while offset < len(audio):
            chunk_ms = self.options.delta_ms[cycle % len(self.options.delta_ms)]
            cycle += 1
            size = max(fmt.bytes_per_sample, int(fmt.bytes_per_second * chunk_ms / 1000))
            size -= size % fmt.bytes_per_sample
            chunk = audio[offset : offset + size]
            offset += len(chunk)
            while next_word < len(words) and word_at_ms[next_word] <= sent_ms + chunk_ms:
                await self.send(
                    {
                        "type": "response.output_audio_transcript.delta",
                        **where,
                        "delta": words[next_word],
                    }
                )
                item["content"][0]["transcript"] += words[next_word]
                next_word += 1
            await self.send(
                {
                    "type": "response.output_audio.delta",
                    **where,
                    "delta": base64.b64encode(chunk).decode("ascii"),
                }
            )
            sent_ms += fmt.duration_ms(len(chunk))
            self.audio_ms[item["id"]] = sent_ms
            await self._pace(fmt.duration_ms(len(chunk)))
        for word in words[next_word:]:
            await self.send(
                {"type": "response.output_audio_transcript.delta", **where, "delta": word}
            )

    def _append_output(self, item: dict[str, Any], in_conversation: bool) -> str | None:
        if not in_conversation:
            return None
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        return previous

    async def _think(self) -> None:
        low, high = self.options.reply_delay_ms
        if high > 0:
            await asyncio.sleep(self._random.uniform(low, high) / 1000)

    async def _pace(self, media_ms: float) -> None:
        factor = self.options.realtime_factor
        await asyncio.sleep(media_ms / 1000 / factor if factor > 0 else 0)

    def usage(self, output: list[dict[str, Any]]) -> dict[str, Any]:
        text_in = sum(len(json.dumps(i)) for i in self.items) // 16
        audio_out = int(sum(self.audio_ms.get(i.get("id", ""), 0.0) for i in output) / 25)
        text_out = sum(len(json.dumps(i)) for i in output) // 16
        input_tokens = text_in + 20
        output_tokens = text_out + audio_out
        return {
            "total_tokens": input_tokens + output_tokens,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "input_token_details": {
                "text_tokens": input_tokens,
                "audio_tokens": 0,
                "image_tokens": 0,
                "cached_tokens": 0,
                "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
            },
            "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
        }


async def _until_closed(part: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Run a background part of the session; a closed connection simply ends it.

    The coroutine is made here, so a task cancelled before it starts leaves none behind.
    """
    with contextlib.suppress(ConnectionClosed):
        await part(*args)


def _words(text: str) -> list[str]:
    """Deltas as the API sends them: each word with its leading space."""
    words = text.split(" ")
    return [words[0]] + [" " + w for w in words[1:]] if words else []
