"""What the simulated Realtime session does with each client event: the dispatch table.

Each handler takes the session's connection and the decoded event; a request the API
would refuse gets an `error` naming the client event, worded as the API words it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from rtrec.sim.frames import new_id
from rtrec.sim.realtime import input_audio, responses
from rtrec.sim.realtime.conversation import client_item

if TYPE_CHECKING:
    from rtrec.sim.connection import SimConnection

Event = dict[str, Any]
Handler = Callable[["SimConnection", Event], Awaitable[None]]


async def _missing(conn: SimConnection, event: Event, name: str) -> None:
    await conn.reject(event, f"Missing '{name}'.", code="missing_required_parameter", param=name)


async def _item_not_found(conn: SimConnection, event: Event) -> None:
    await conn.reject(
        event,
        f"Item with item_id not found: {event.get('item_id')}",
        code="item_not_found",
        param="item_id",
    )


async def session_update(conn: SimConnection, event: Event) -> None:
    update = event.get("session")
    if not isinstance(update, dict):
        await _missing(conn, event, "session")
        return
    conn.config.apply(update)
    conn.reset_vad()
    await conn.send({"type": "session.updated", "session": conn.session_object()})


async def input_audio_buffer_append(conn: SimConnection, event: Event) -> None:
    try:
        data = base64.b64decode(event.get("audio") or "", validate=True)
    except (binascii.Error, ValueError):
        await conn.reject(
            event, "Invalid 'audio': not valid base64.", code="invalid_value", param="audio"
        )
        return
    await input_audio.append(conn, data)


async def input_audio_buffer_commit(conn: SimConnection, event: Event) -> None:
    buffered_ms = conn.config.input_format.duration_ms(len(conn.buffer))
    if buffered_ms < 100:
        await conn.reject(
            event,
            "Error committing input audio buffer: buffer too small. Expected at least "
            f"100ms of audio, but buffer only has {buffered_ms:.2f}ms of audio.",
            code="input_audio_buffer_commit_empty",
        )
        return
    await input_audio.commit(conn, conn.pending_item_id or new_id("item_"))


async def input_audio_buffer_clear(conn: SimConnection, event: Event) -> None:
    conn.buffer.clear()
    await conn.send({"type": "input_audio_buffer.cleared"})


async def conversation_item_create(conn: SimConnection, event: Event) -> None:
    item = event.get("item")
    if not isinstance(item, dict):
        await _missing(conn, event, "item")
        return
    item = client_item(item)
    previous = event.get("previous_item_id")
    if previous not in (None, "root") and conn.conversation.index_of(previous) is None:
        await conn.reject(
            event,
            f"Previous item with id '{previous}' not found.",
            code="item_not_found",
            param="previous_item_id",
        )
        return
    await conn.add_item(item, after=previous)


async def conversation_item_retrieve(conn: SimConnection, event: Event) -> None:
    index = conn.conversation.index_of(event.get("item_id"))
    if index is None:
        await _item_not_found(conn, event)
        return
    item = conn.conversation.items[index]
    await conn.send({"type": "conversation.item.retrieved", "item": item})


async def conversation_item_truncate(conn: SimConnection, event: Event) -> None:
    item_id = event.get("item_id")
    if conn.conversation.index_of(item_id) is None:
        await _item_not_found(conn, event)
        return
    end_ms = event.get("audio_end_ms")
    sent_ms = conn.audio_ms.get(item_id, 0.0) if isinstance(item_id, str) else 0.0
    if not isinstance(end_ms, int) or end_ms < 0 or end_ms > sent_ms + 1:
        await conn.reject(
            event,
            f"Audio content of {sent_ms:.0f}ms is shorter than {end_ms}ms.",
            code="invalid_value",
            param="audio_end_ms",
        )
        return
    await conn.send(
        {
            "type": "conversation.item.truncated",
            "item_id": item_id,
            "content_index": event.get("content_index", 0),
            "audio_end_ms": end_ms,
        }
    )


async def conversation_item_delete(conn: SimConnection, event: Event) -> None:
    index = conn.conversation.index_of(event.get("item_id"))
    if index is None:
        await _item_not_found(conn, event)
        return
    del conn.conversation.items[index]
    await conn.send({"type": "conversation.item.deleted", "item_id": event["item_id"]})


async def response_create(conn: SimConnection, event: Event) -> None:
    if conn.response is not None:
        await conn.reject(
            event,
            "Conversation already has an active response in progress: "
            f"{conn.response.id}. Wait until the response is finished before creating "
            "a new one.",
            code="conversation_already_has_active_response",
        )
        return
    params = event.get("response")
    responses.start(conn, params if isinstance(params, dict) else {})


async def response_cancel(conn: SimConnection, event: Event) -> None:
    if conn.response is None:
        await conn.reject(
            event,
            "Cancellation failed: no active response found",
            code="response_cancel_not_active",
        )
        return
    await responses.cancel(conn, "client_cancelled")


async def output_audio_buffer_clear(conn: SimConnection, event: Event) -> None:
    await conn.send(
        {
            "type": "output_audio_buffer.cleared",
            "response_id": conn.response.id if conn.response else None,
        }
    )


HANDLERS: dict[str, Handler] = {
    "session.update": session_update,
    "input_audio_buffer.append": input_audio_buffer_append,
    "input_audio_buffer.commit": input_audio_buffer_commit,
    "input_audio_buffer.clear": input_audio_buffer_clear,
    "conversation.item.create": conversation_item_create,
    "conversation.item.retrieve": conversation_item_retrieve,
    "conversation.item.truncate": conversation_item_truncate,
    "conversation.item.delete": conversation_item_delete,
    "response.create": response_create,
    "response.cancel": response_cancel,
    "output_audio_buffer.clear": output_audio_buffer_clear,
}
