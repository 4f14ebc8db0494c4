"""One simulated Realtime session: the server side of the protocol, GA or beta.

It keeps a conversation, runs server VAD on the audio it is sent, transcribes user
turns from a script, answers with speech-like audio and transcripts, calls tools,
honours truncation, deletion, retrieval and cancellation, and reports errors the
way the real API does (an `error` event naming the client event).  This module holds
the session's state and plumbing; a table (rtrec/sim/realtime/client_events.py) routes
each client event type to its handler, and the parts live beside it in
rtrec/sim/realtime/.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from rtrec.sim.beta import to_beta
from rtrec.sim.config import SimConfig
from rtrec.sim.frames import FrameProblem, encode_json, new_id, read_client_event
from rtrec.sim.options import SimOptions
from rtrec.sim.realtime import events
from rtrec.sim.realtime.client_events import HANDLERS
from rtrec.sim.realtime.conversation import Conversation
from rtrec.sim.realtime.responses import ActiveResponse
from rtrec.sim.tasks import until_closed
from rtrec.sim.vad import EnergyVad

# Imported from here by `rtrec demo` and the tests, which predate rtrec/sim/options.py.
__all__ = ["ActiveResponse", "SimConnection"]


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
        self.conversation = Conversation()
        self.buffer = bytearray()
        self.vad: EnergyVad | None = None
        self.pending_item_id: str | None = None
        self.user_turns = 0
        self.response: ActiveResponse | None = None
        self.audio_ms: dict[str, float] = {}  # assistant item id → ms of audio sent
        self._background: set[asyncio.Task[None]] = set()
        self.random = random.Random(options.seed)
        self.reset_vad()

    # -- plumbing -------------------------------------------------------------------

    async def send(self, event: dict[str, Any]) -> None:
        out: dict[str, Any] = {"type": event["type"], "event_id": new_id("event_")}
        out.update({k: v for k, v in event.items() if k != "type"})
        spelled = to_beta(out) if self.beta else out
        if spelled is None:  # beta has no such event
            return
        frame = encode_json(spelled)
        self.options.log("server", frame)
        await self.ws.send(frame)

    async def reject(
        self, event: dict[str, Any], message: str, *, code: str, param: str | None = None
    ) -> None:
        """Answer the client event `event` with an error naming it."""
        await self.send(
            events.error(message, code=code, event_id=event.get("event_id"), param=param)
        )

    def session_object(self) -> dict[str, Any]:
        render = self.config.render_beta if self.beta else self.config.render_ga
        return render(self.session_id, self.expires_at)

    def spawn(self, part: Callable[..., Awaitable[None]], *args: Any) -> None:
        task = asyncio.get_running_loop().create_task(until_closed(part, *args))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def reset_vad(self) -> None:
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

    async def add_item(self, item: dict[str, Any], *, after: str | None) -> None:
        """Put an item into the conversation and announce it."""
        previous = self.conversation.insert(item, after=after)
        await self.send(events.conversation_item("added", previous, item))
        await self.send(events.conversation_item("done", previous, item))

    # -- the session --------------------------------------------------------------------

    async def run(self) -> None:
        await self.send({"type": "session.created", "session": self.session_object()})
        try:
            async for message in self.ws:
                self.options.log("client", message)
                await self.dispatch(message)
        except ConnectionClosed:
            pass
        finally:
            if self.response is not None:
                self.response.task.cancel()
            for task in list(self._background):
                task.cancel()

    async def dispatch(self, message: str | bytes) -> None:
        event = read_client_event(message, missing_type="Missing event type.")
        if isinstance(event, FrameProblem):
            problem = event
            await self.send(
                events.error(problem.message, code=problem.code, event_id=None, param=problem.param)
            )
            return
        handler = HANDLERS.get(event["type"])
        if handler is None:
            await self.reject(
                event,
                f"Invalid value: '{event['type']}'. Unknown client event type.",
                code="invalid_value",
                param="type",
            )
            return
        await handler(self, event)
