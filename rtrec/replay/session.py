"""One client of the mock server: the recorded server frames, replayed to it.

Two tasks per client, as in websockets' relay pattern: the sender walks the
recording and sends each server frame when it is due; the receiver reads what the
client sends, files it as a cue for `--pace client`, and checks it with `--strict`.
Whichever ends first (the client leaving, a strict violation) ends the other.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Literal

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from rtrec.replay.clock import now_ns, sleep_until
from rtrec.replay.cues import ClientCues, close_reason
from rtrec.replay.feed import Feed
from rtrec.replay.source import ReplaySource
from rtrec.replay.strict import Received, StrictMatcher
from rtrec.replay.timeline import Anchor, Timeline
from rtrec.secrets import redact_query
from rtrec.timefmt import plural

Pace = Literal["clock", "client"]
PACES: tuple[Pace, ...] = ("clock", "client")
# Close codes the recording may hold that cannot be sent in a close frame.
_UNSENDABLE = {1005, 1006, 1015}


@dataclass(frozen=True)
class ReplayOptions:
    speed: float = 1.0
    idle_limit_s: float | None = None
    pace: Pace = "clock"
    strict: bool = False


@dataclass
class ClientReport:
    """How one client's replay went (the pytest plugin hands these to tests)."""

    peer: str
    path: str
    server_events_sent: int = 0
    client_events_received: int = 0
    completed: bool = False  # every recorded server frame was sent
    strict_failure: str | None = None
    close_code: int | None = None
    close_reason: str | None = None

    def summary(self) -> str:
        parts = [f"{plural(self.server_events_sent, 'server event')} sent"]
        if self.completed:
            parts.append("replay complete")
        if self.strict_failure:
            parts.append(f"closed by --strict: {self.strict_failure}")
        elif self.close_code is not None:
            parts.append(f"connection closed ({self.close_code})")
        return ", ".join(parts)


class ClientReplay:
    def __init__(self, ws: ServerConnection, source: ReplaySource, options: ReplayOptions) -> None:
        self.ws = ws
        self.source = source
        self.options = options
        request = ws.request
        host, port = ws.remote_address[:2]
        path, _, query = (request.path if request else "").partition("?")
        self.report = ClientReport(
            f"{host}:{port}", path + (f"?{redact_query(query)}" if query else "")
        )
        self._cues = ClientCues()
        self._adapter = source.session.adapter
        self._cue_arrived = asyncio.Event()

    async def run(self) -> ClientReport:
        sender = asyncio.create_task(self._send(), name="rtrec-replay-send")
        receiver = asyncio.create_task(self._receive(), name="rtrec-replay-receive")
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done and sender.result():  # result() re-raises what broke the replay
                self.report.completed = True
                await self._after_last_frame()
            await receiver
        finally:
            for task in (sender, receiver):
                task.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.report.close_code = self.ws.close_code
            self.report.close_reason = self.ws.close_reason
        return self.report

    async def _after_last_frame(self) -> None:
        """End as the recording ended: the server's close if it closed, else wait for the client."""
        session = self.source.session
        code = session.upstream_close_code
        if session.end_reason == "upstream_closed" and code is not None and code not in _UNSENDABLE:
            await self.ws.close(code, session.upstream_close_reason or "")

    # -- sending ------------------------------------------------------------------

    async def _send(self) -> bool:
        """True once every selected server frame has been sent."""
        timeline = Timeline(self.options.speed, self.options.idle_limit_s)
        client_paced = self.options.pace == "client"
        conn = self.source.connect()
        try:
            feed = Feed(self.source.window_reader(conn))
            anchor: Anchor | None = None  # pinned when the first frame is ready
            reached_ns = 0
            while (frame := feed.next()) is not None:
                offset_ns = timeline.offset_ns(frame.t_ns)
                if anchor is None:
                    anchor = Anchor(now_ns(), offset_ns)
                    reached_ns = anchor.wall_ns
                if frame.direction == "client":
                    if client_paced:
                        arrived_ns = await self._counterpart(frame.type)
                        anchor = anchor.moved_to(
                            offset_ns, arrived_ns=arrived_ns, reached_ns=reached_ns
                        )
                        reached_ns = anchor.wall_ns
                    continue
                due_ns = anchor.due_ns(offset_ns)
                feed.top_up(due_ns)
                await sleep_until(due_ns)
                try:
                    await self.ws.send(frame.frame)
                except ConnectionClosed:
                    return False
                reached_ns = due_ns
                self.report.server_events_sent += 1
        finally:
            conn.close()
        return True

    async def _counterpart(self, event_type: str | None) -> int:
        while True:
            arrived_ns = self._cues.take(event_type)
            if arrived_ns is not None:
                return arrived_ns
            self._cue_arrived.clear()
            await self._cue_arrived.wait()

    # -- receiving ----------------------------------------------------------------

    async def _receive(self) -> None:
        accepts = self.source.selection.types.accepts
        conn = self.source.connect() if self.options.strict else None
        try:
            matcher = (
                StrictMatcher(self.source.client_script(conn), self.source.client_script(conn))
                if conn is not None
                else None
            )
            async for message in self.ws:
                arrived_ns = now_ns()
                text = message if isinstance(message, str) else None
                if isinstance(message, bytes) and self._adapter.json_in_binary:
                    text = message.decode("utf-8", "replace")  # Gemini's JSON in binary
                envelope = self._adapter.envelope(text) if text is not None else None
                event_type = envelope.type if envelope is not None else None
                if not accepts(event_type):
                    continue
                if matcher is not None:
                    failure = matcher.check(Received(event_type, message))
                    if failure is not None:
                        code, reason = failure
                        self.report.strict_failure = reason
                        await self.ws.close(code, matcher.close_reason or close_reason(reason))
                        return
                self.report.client_events_received += 1
                self._cues.arrived(event_type, arrived_ns)
                self._cue_arrived.set()
        except ConnectionClosed:
            pass
        finally:
            if matcher is not None and self.report.strict_failure is None and _client_left(self.ws):
                # The client closed the connection with recorded events still to come:
                # a missing turn at the end of a call shows here.
                self.report.strict_failure = matcher.missing()
            if conn is not None:
                conn.close()


def _client_left(ws: ServerConnection) -> bool:
    """Whether the client, not this server, started the closing handshake."""
    return bool(getattr(ws.protocol, "close_rcvd_then_sent", False))
