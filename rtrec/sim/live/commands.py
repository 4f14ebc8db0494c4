"""The simulated GPT-Live server's answers to client commands, one function per type.

Each takes the session and the event; a request it refuses raises RequestError or
ConfigError, which the session turns into an `error` naming the client event.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rtrec.sim.live.assistant import RequestError
from rtrec.sim.live.clock import Event
from rtrec.sim.live.resource import ConfigError, apply_delegation
from rtrec.sim.live.speech import decode
from rtrec.sim.live.wire import b64, encode_event

if TYPE_CHECKING:
    from rtrec.sim.live.session import LiveSimSession


async def on_start(session: LiveSimSession, event: Event) -> None:
    await session.start(event)


async def on_update(session: LiveSimSession, event: Event) -> None:
    config = session.config
    assert config is not None
    update = event.get("session")
    if not isinstance(update, dict):
        raise ConfigError("Missing required parameter: 'session'.", "session")
    unknown = set(update) - {"delegation", "triggers"}
    if unknown:
        name = sorted(unknown)[0]
        raise ConfigError(f"'session.{name}' cannot change after startup.", f"session.{name}")
    if isinstance(update.get("delegation"), dict):
        config.delegation = apply_delegation(config.delegation, update["delegation"])
    if "triggers" in update:
        config.extras["triggers"] = update["triggers"]
    await session.ack(event, {"type": "session.updated", "session": session.resource()})


async def on_audio(session: LiveSimSession, event: Event) -> None:
    assert session.config is not None and session.listener is not None
    try:
        data = base64.b64decode(event.get("audio") or "", validate=True)
    except (binascii.Error, ValueError):
        raise RequestError("Invalid 'audio': not valid base64.", "invalid_value", "audio") from None
    if session.sidebands:
        copy = {"type": "session.input_audio.append", "audio": b64(session.as_sideband(data))}
        await session.to_sidebands(encode_event(copy))
    session.listener.hear(decode(data, session.config.fmt))


async def on_mute(session: LiveSimSession, event: Event) -> None:
    assert session.listener is not None
    muted = event["type"].endswith(".mute")
    session.listener.muted = muted
    await session.ack(event, {"type": "session.input_audio." + ("muted" if muted else "unmuted")})


async def on_context(session: LiveSimSession, event: Event) -> None:
    assert session.assistant is not None and session.clock is not None
    kind = event["type"].split(".")[1]  # commentary | thinking | instructions
    session.assistant.context(kind, event.get("delegation_id"), event.get("content"))
    at = session.clock.clock_ms
    await session.ack(event, {"type": f"session.{kind}.appended", "start_ms": at, "end_ms": at})


async def on_response_item(session: LiveSimSession, event: Event) -> None:
    assert session.assistant is not None
    session.assistant.response_item(event.get("item"))


async def on_response_create(session: LiveSimSession, event: Event) -> None:
    assert session.assistant is not None
    session.assistant.response_create()


async def on_close(session: LiveSimSession, event: Event) -> None:
    assert session.clock is not None
    session.closed = True
    session.stop_clock()
    seconds = max(1, -(-session.clock.clock_ms // 1000))
    answer: Event = {
        "type": "session.closed",
        "reason": "close_requested",
        "session": session.resource(),
        "usage": {"seconds": seconds},
    }
    await session.ack(event, answer)
    await session.ws.close(1000, "session closed")


async def unsupported(session: LiveSimSession, event: Event) -> None:
    raise RequestError(
        f"'{event['type']}' is not supported by this simulator.", "unsupported_event", "type"
    )


Handler = Callable[["LiveSimSession", Event], Awaitable[None]]
HANDLERS: dict[str, Handler] = {
    "session.start": on_start,
    "session.update": on_update,
    "session.input_audio.append": on_audio,
    "session.input_audio.mute": on_mute,
    "session.input_audio.unmute": on_mute,
    "session.commentary.append": on_context,
    "session.thinking.append": on_context,
    "session.instructions.append": on_context,
    "response.item.create": on_response_item,
    "response.create": on_response_create,
    "session.close": on_close,
    "session.output_audio.fixture.play": unsupported,
    "decision.create": unsupported,
    "decision.item.create": unsupported,
    "decision.item.delete": unsupported,
    "transport.dtmf.send": unsupported,
}
