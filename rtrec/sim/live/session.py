"""One simulated GPT-Live session: the server side of `/v1/live/sessions`.

The client's first event must be `session.start`; the server answers
`session.started` with the resolved configuration and a `live_…` id, and from then
on streams output audio continuously on the session clock (rtrec/sim/live/clock.py),
listens to the client's audio (listening.py), speaks, delegates (assistant.py),
reports `session.usage.updated` every few seconds of the clock, and ends with
`session.closed` when the client sends `session.close`.  Requests it cannot honour
get an `error` naming the client event, as the real server's do.  Sideband
connections attached to the session receive copies of everything (its audio as
PCM16 24 kHz, output deltas with `start_ms`/`end_ms`) and may send commands too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import zlib
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from rtrec.audio_format import PCM16_24K
from rtrec.sim import tasks
from rtrec.sim.audio import resample
from rtrec.sim.frames import FrameProblem, error_body, read_client_event
from rtrec.sim.live.assistant import Assistant, RequestError
from rtrec.sim.live.clock import CHUNK_MS, Event, SessionClock
from rtrec.sim.live.listening import Listener
from rtrec.sim.live.resource import ConfigError, LiveConfig, start_config
from rtrec.sim.live.speech import decode, encode
from rtrec.sim.live.wire import b64, encode_event, new_id
from rtrec.sim.options import DEFAULT_USER_LINES, SimOptions

USAGE_EVERY_MS = 5000
RECOGNITION_LAGS_MS = (300, 400, 500, 600)
# Events the server sends with event_id first, as the real one writes them.
_ID_FIRST = frozenset({"session.started", "session.updated", "session.closed", "error"})


class LiveSimSession:
    def __init__(
        self, ws: ServerConnection, options: SimOptions, *, parent: LiveConfig | None = None
    ) -> None:
        self.ws = ws
        self.options = options
        self.parent = parent  # a fork inherits this session's configuration
        self.session_id = new_id("live_u7_", 32)
        self.expires_at = int(time.time()) + 3600
        self.config: LiveConfig | None = None
        self.clock: SessionClock | None = None
        self.listener: Listener | None = None
        self.assistant: Assistant | None = None
        self.sidebands: set[ServerConnection] = set()
        self.closed = False
        self._usage_reported = 0
        self._pump: asyncio.Task[None] | None = None
        # Told when the session has started and when its connection has ended.
        self.when_started: Callable[[LiveSimSession], None] = lambda session: None
        self.when_ended: Callable[[LiveSimSession], None] = lambda session: None

    # -- plumbing -------------------------------------------------------------------

    async def run(self) -> None:
        try:
            async for message in self.ws:
                self.options.log("client", message)
                await self.dispatch(message)
                if self.closed:
                    break
        except ConnectionClosed:
            pass
        finally:
            if self._pump is not None:
                await tasks.stop(self._pump)
            for sideband in list(self.sidebands):
                with contextlib.suppress(ConnectionClosed):
                    await sideband.close(1000, "session ended")
            self.when_ended(self)

    async def send(self, event: Event) -> None:
        """Send a server event to the client, and its copy to every attached sideband."""
        kind = event["type"]
        copy: Event | None = None
        if kind == "session.output_audio.delta" and "_audio" in event:
            data, at = event["_audio"], event["_at"]
            wire: Event = {"type": kind, "delta": b64(data)}
            copy = {**wire, "delta": b64(self.as_sideband(data)), "start_ms": at}
            copy["end_ms"] = at + CHUNK_MS
        elif kind in _ID_FIRST:
            wire = {"event_id": new_id("event_"), **event}
        else:
            wire = {**event, "event_id": new_id("event_")}
        frame = encode_event(wire)
        self.options.log("server", frame)
        await self.ws.send(frame)
        await self.to_sidebands(encode_event(copy) if copy is not None else frame)

    async def to_sidebands(self, frame: str) -> None:
        for sideband in list(self.sidebands):
            try:
                await sideband.send(frame)
            except ConnectionClosed:
                self.sidebands.discard(sideband)

    def as_sideband(self, data: bytes) -> bytes:
        """Audio as a sideband carries it: PCM16 at 24 kHz, whatever the session's format."""
        fmt = self.config.fmt if self.config is not None else PCM16_24K
        if fmt == PCM16_24K:
            return data
        return encode(resample(decode(data, fmt), fmt.rate, 24000), PCM16_24K)

    async def error(
        self, message: str, *, code: str, event: Event | None, param: str | None = None
    ) -> None:
        client_event_id = event.get("event_id") if isinstance(event, dict) else None
        error = error_body(message, code=code, param=param)
        if isinstance(client_event_id, str):
            error["client_event_id"] = client_event_id
        out: Event = {"type": "error", "error": error}
        if isinstance(client_event_id, str):
            out["client_event_id"] = client_event_id
        await self.send(out)

    async def ack(self, event: Event, answer: Event) -> None:
        """Answer a client command, naming it when it carried an event_id."""
        if isinstance(event.get("event_id"), str):
            answer["client_event_id"] = event["event_id"]
        await self.send(answer)

    # -- dispatch ---------------------------------------------------------------------

    async def dispatch(self, message: str | bytes, *, sideband: bool = False) -> None:
        event = read_client_event(message, missing_type="Missing required parameter: 'type'.")
        if isinstance(event, FrameProblem):
            await self.error(event.message, code=event.code, event=None, param=event.param)
            return
        from rtrec.sim.live.commands import HANDLERS

        kind = event["type"]
        handler = HANDLERS.get(kind)
        if handler is None:
            await self.error(
                f"Invalid value: '{kind}'. Unknown client event type.",
                code="invalid_value",
                event=event,
                param="type",
            )
        elif self.config is None and kind != "session.start":
            await self.error(
                "Send session.start first and wait for session.started.",
                code="session_not_started",
                event=event,
            )
        elif sideband and kind in ("session.start", "session.input_audio.append"):
            await self.error(
                f"'{kind}' is not accepted on a sideband connection.",
                code="invalid_request",
                event=event,
                param="type",
            )
        else:
            try:
                await handler(self, event)
            except RequestError as exc:
                await self.error(str(exc), code=exc.code, event=event, param=exc.param)
            except ConfigError as exc:
                await self.error(str(exc), code="invalid_value", event=event, param=exc.param)

    # -- client events ------------------------------------------------------------------

    async def start(self, event: Event) -> None:
        if self.config is not None:
            raise RequestError("The session has already started.", "session_already_started")
        config = start_config(event.get("session"), self.parent)
        self.config = config
        # Seeded by what the client asked for: the same call gets the same timing.
        rng = random.Random(zlib.crc32(json.dumps(event, sort_keys=True).encode()))
        clock = SessionClock(config.fmt, self.options.realtime_factor, self.send, self._tick)
        self.clock = clock
        self.assistant = Assistant(clock, config, rng, new_id)
        lines = self.options.user_lines or DEFAULT_USER_LINES
        self.listener = Listener(
            clock,
            config.fmt,
            lines,
            lambda: rng.choice(RECOGNITION_LAGS_MS),
            self.assistant.user_speaks,
            self.assistant.heard,
        )
        await self.ack(event, {"type": "session.started", "session": self.resource()})
        self.when_started(self)
        self._pump = asyncio.get_running_loop().create_task(self._run_clock())

    def stop_clock(self) -> None:
        if self._pump is not None:
            self._pump.cancel()

    async def _run_clock(self) -> None:
        assert self.clock is not None
        with contextlib.suppress(ConnectionClosed):
            await self.clock.run()

    def resource(self) -> Event:
        assert self.config is not None
        return self.config.render(self.session_id, self.expires_at)

    # -- what the clock and the ears report -------------------------------------------

    def _tick(self, clock_ms: int) -> None:
        assert self.clock is not None
        if clock_ms // USAGE_EVERY_MS > self._usage_reported:
            self._usage_reported = clock_ms // USAGE_EVERY_MS
            usage = {
                "type": "session.usage.updated",
                "usage": {"seconds": clock_ms // 1000},
                "context_window": {"usage_ratio": round(0.002 + clock_ms / 4_000_000, 6)},
            }
            self.clock.at(clock_ms, lambda: usage)
