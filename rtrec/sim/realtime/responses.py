"""A response of the simulated Realtime session: created, streamed as one output item
(a function call or a message, in audio or text), done; or cancelled part-way.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rtrec.audio_format import AudioFormat
from rtrec.protocols.realtime.formats import response_output_format
from rtrec.sim import tasks
from rtrec.sim.audio import resample, speech_like
from rtrec.sim.codec import encode
from rtrec.sim.config import ga_format
from rtrec.sim.dialogue import Reply, choose_reply
from rtrec.sim.frames import new_id
from rtrec.sim.realtime import events

if TYPE_CHECKING:
    from rtrec.sim.connection import SimConnection

Event = dict[str, Any]


@dataclass
class ActiveResponse:
    id: str
    task: asyncio.Task[None]
    cancel_reason: str | None = None
    output: list[Event] = field(default_factory=list)


def start(conn: SimConnection, params: Event) -> None:
    """Start a response (its events are streamed by a task of its own)."""
    response_id = new_id("resp_")
    run = ResponseRun(conn, response_id, params)
    task = asyncio.get_running_loop().create_task(tasks.until_closed(run.run))
    conn.response = ActiveResponse(response_id, task)


async def cancel(conn: SimConnection, reason: str) -> None:
    active = conn.response
    if active is None:
        return
    active.cancel_reason = reason
    await tasks.stop(active.task)


class ResponseRun:
    def __init__(self, conn: SimConnection, response_id: str, params: Event) -> None:
        self.conn = conn
        self.response_id = response_id
        self.params = params
        self.in_conversation = True
        self.audio_out = True
        self.out_format = conn.config.output_format

    def _plan(self) -> None:
        """What the response will be, from its parameters and the session as it is now."""
        params, config = self.params, self.conn.config
        self.in_conversation = params.get("conversation") != "none"
        modalities = params.get("output_modalities") or params.get("modalities")
        self.audio_out = ("audio" in modalities) if modalities else config.audio_out
        self.out_format = response_output_format(params) or config.output_format

    async def send(self, event: Event) -> None:
        await self.conn.send(event)

    def _base(self) -> Event:
        config = self.conn.config
        return {
            "object": "realtime.response",
            "id": self.response_id,
            "conversation_id": self.conn.conversation_id if self.in_conversation else None,
            "output_modalities": ["audio"] if self.audio_out else ["text"],
            "max_output_tokens": config.max_output_tokens,
            "audio": {"output": {"format": ga_format(self.out_format), "voice": config.voice}},
            "metadata": self.params.get("metadata"),
        }

    def _reply(self) -> Reply:
        context = list(self.conn.conversation.items)
        if isinstance(self.params.get("input"), list):
            context = [i for i in self.params["input"] if isinstance(i, dict)]
        return choose_reply(context, self.conn.config.function_names())

    async def run(self) -> None:
        conn = self.conn
        self._plan()
        reply = self._reply()
        base = self._base()
        await self.send(events.response("created", base, "in_progress", None, [], None))
        active = conn.response
        output: list[Event] = active.output if active is not None else []
        status, details = "completed", None
        try:
            await self._think()
            if reply.kind == "function_call":
                await self.function_call(reply, output)
            else:
                await self.message(reply, output)
        except asyncio.CancelledError:
            reason = active.cancel_reason if active is not None else None
            status = "cancelled"
            details = {"type": "cancelled", "reason": reason or "client_cancelled"}
            await self._incomplete(output)
        finally:
            if conn.response is not None and conn.response.id == self.response_id:
                conn.response = None
        usage = events.usage(conn.conversation.items, output, conn.audio_ms)
        await self.send(events.response("done", base, status, details, output, usage))
        if conn.options.rate_limits:
            await self.send(events.RATE_LIMITS)

    async def _incomplete(self, output: list[Event]) -> None:
        for item in output:
            if item.get("status") == "in_progress":
                item["status"] = "incomplete"
                index = output.index(item)
                await self.send(events.output_item("done", self.response_id, item, index))

    async def _open(self, item: Event, output: list[Event]) -> None:
        """The output item starts: in the response and, unless out of band, the conversation."""
        output.append(item)
        await self.send(events.output_item("added", self.response_id, item))
        if self.in_conversation:
            previous = self.conn.conversation.append(item)
            await self.send(events.conversation_item("added", previous, item))

    async def _close(self, item: Event) -> None:
        if self.in_conversation:
            # The real API sends previous_item_id null here even when the item is not first.
            await self.send(events.conversation_item("done", None, item))
        await self.send(events.output_item("done", self.response_id, item))

    async def function_call(self, reply: Reply, output: list[Event]) -> None:
        item = {
            "id": new_id("item_"),
            "type": "function_call",
            "status": "in_progress",
            "name": reply.name,
            "call_id": "call_" + new_id("")[:16],
            "arguments": "",
        }
        await self._open(item, output)
        where = {
            "response_id": self.response_id,
            "item_id": item["id"],
            "output_index": 0,
            "call_id": item["call_id"],
        }
        args = reply.arguments
        for start in range(0, len(args), 6):
            delta = args[start : start + 6]
            await self.send(
                {"type": "response.function_call_arguments.delta", **where, "delta": delta}
            )
            await self._pace(20)
        item.update(status="completed", arguments=args)
        await self.send(
            {
                "type": "response.function_call_arguments.done",
                **where,
                "name": reply.name,
                "arguments": args,
            }
        )
        await self._close(item)

    async def message(self, reply: Reply, output: list[Event]) -> None:
        item: Event = {
            "id": new_id("item_"),
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        where = {
            "response_id": self.response_id,
            "item_id": item["id"],
            "output_index": 0,
            "content_index": 0,
        }
        await self._open(item, output)
        text = reply.text
        if self.audio_out:
            part, final = await self._spoken(item, where, text)
        else:
            part, final = await self._written(where, text)
        await self.send({"type": "response.content_part.done", **where, "part": part})
        item.update(status="completed", content=[final])
        await self._close(item)

    async def _spoken(self, item: Event, where: Event, text: str) -> tuple[Event, Event]:
        await self.send(
            {
                "type": "response.content_part.added",
                **where,
                "part": {"type": "audio", "transcript": ""},
            }
        )
        item["content"] = [{"type": "output_audio", "transcript": ""}]
        await self.audio(item, where, text)
        await self.send({"type": "response.output_audio.done", **where})
        await self.send(
            {"type": "response.output_audio_transcript.done", **where, "transcript": text}
        )
        return {"type": "audio", "transcript": text}, {"type": "output_audio", "transcript": text}

    async def _written(self, where: Event, text: str) -> tuple[Event, Event]:
        await self.send(
            {"type": "response.content_part.added", **where, "part": {"type": "text", "text": ""}}
        )
        for word in events.words(text):
            await self.send({"type": "response.output_text.delta", **where, "delta": word})
            await self._pace(30)
        await self.send({"type": "response.output_text.done", **where, "text": text})
        return {"type": "text", "text": text}, {"type": "output_text", "text": text}

    async def audio(self, item: Event, where: Event, text: str) -> None:
        """The reply's audio in deltas of `delta_ms`, with its transcript running ahead."""
        fmt: AudioFormat = self.out_format
        delta_ms = self.conn.options.delta_ms
        audio = encode(resample(speech_like(text), 24000, fmt.rate), fmt)
        words = events.words(text)
        total_ms = fmt.duration_ms(len(audio))
        # Transcript deltas run slightly ahead of the audio they describe, as on the API.
        word_at_ms = [total_ms * i / max(1, len(words)) for i in range(len(words))]
        next_word = 0
        sent_ms = 0.0
        offset = 0
        cycle = 0
        while offset < len(audio):
            chunk_ms = delta_ms[cycle % len(delta_ms)]
            cycle += 1
            size = max(fmt.bytes_per_sample, int(fmt.bytes_per_second * chunk_ms / 1000))
            size -= size % fmt.bytes_per_sample
            chunk = audio[offset : offset + size]
            offset += len(chunk)
            while next_word < len(words) and word_at_ms[next_word] <= sent_ms + chunk_ms:
                await self._transcript_delta(item, where, words[next_word])
                next_word += 1
            delta = base64.b64encode(chunk).decode("ascii")
            await self.send({"type": "response.output_audio.delta", **where, "delta": delta})
            sent_ms += fmt.duration_ms(len(chunk))
            self.conn.audio_ms[item["id"]] = sent_ms
            await self._pace(fmt.duration_ms(len(chunk)))
        for word in words[next_word:]:
            await self.send(
                {"type": "response.output_audio_transcript.delta", **where, "delta": word}
            )

    async def _transcript_delta(self, item: Event, where: Event, word: str) -> None:
        await self.send({"type": "response.output_audio_transcript.delta", **where, "delta": word})
        item["content"][0]["transcript"] += word

    async def _think(self) -> None:
        low, high = self.conn.options.reply_delay_ms
        if high > 0:
            await asyncio.sleep(self.conn.random.uniform(low, high) / 1000)

    async def _pace(self, media_ms: float) -> None:
        factor = self.conn.options.realtime_factor
        await asyncio.sleep(media_ms / 1000 / factor if factor > 0 else 0)
