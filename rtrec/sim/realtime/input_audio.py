"""The simulated Realtime session's input: the audio buffer, server VAD, commits, and
the user's words "transcribed" from the script.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rtrec.sim.codec import decode
from rtrec.sim.frames import new_id
from rtrec.sim.realtime import events, responses

if TYPE_CHECKING:
    from rtrec.sim.connection import SimConnection


async def append(conn: SimConnection, data: bytes) -> None:
    """Audio the client appended: buffered, and heard by the VAD when there is one."""
    conn.buffer.extend(data)
    if conn.vad is None:
        return
    for vad_event in conn.vad.feed(decode(data, conn.config.input_format)):
        if vad_event.kind == "started":
            await _speech_started(conn, vad_event.audio_ms)
        else:
            await _speech_stopped(conn, vad_event.audio_ms)


async def _speech_started(conn: SimConnection, audio_ms: int) -> None:
    conn.pending_item_id = new_id("item_")
    await conn.send(
        {
            "type": "input_audio_buffer.speech_started",
            "audio_start_ms": audio_ms,
            "item_id": conn.pending_item_id,
        }
    )
    td = conn.config.turn_detection or {}
    if conn.response is not None and td.get("interrupt_response", True):
        await responses.cancel(conn, "turn_detected")


async def _speech_stopped(conn: SimConnection, audio_ms: int) -> None:
    item_id = conn.pending_item_id or new_id("item_")
    await conn.send(
        {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": audio_ms, "item_id": item_id}
    )
    await commit(conn, item_id)
    if (conn.config.turn_detection or {}).get("create_response", True):
        responses.start(conn, {})


async def commit(conn: SimConnection, item_id: str) -> None:
    """The buffer becomes a user message: the script's next line is what was said."""
    conn.buffer.clear()
    conn.pending_item_id = None
    await conn.send(
        {
            "type": "input_audio_buffer.committed",
            "previous_item_id": conn.conversation.last_id(),
            "item_id": item_id,
        }
    )
    lines = conn.options.user_lines
    line = lines[conn.user_turns % len(lines)]
    conn.user_turns += 1
    heard: dict[str, Any] = {"type": "input_audio", "transcript": None}
    item: dict[str, Any] = {"id": item_id, "type": "message", "status": "completed", "role": "user"}
    item["content"] = [heard]
    await conn.add_item(item, after=None)
    # The dialogue hears the line now; the transcript events follow, as on the real API.
    heard["transcript"] = line
    if conn.config.transcription:
        conn.spawn(transcribe, conn, item_id, line)


async def transcribe(conn: SimConnection, item_id: str, line: str) -> None:
    await asyncio.sleep(0.005)
    if (conn.config.transcription or {}).get("model") == "fail":
        await conn.send(events.transcription_failed(item_id))
        return
    for word in events.words(line):
        await conn.send(events.transcription_delta(item_id, word))
    await conn.send(events.transcription_completed(item_id, line))
