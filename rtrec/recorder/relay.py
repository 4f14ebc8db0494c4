"""One relayed session: two pumps, every frame recorded on arrival and forwarded at once.

The skeleton is the relay pattern from websockets' docs: one pump per direction under
`asyncio.wait(FIRST_COMPLETED)`.  The side that closes first decides the end reason,
and its close code and reason are passed to the other side.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed, ConnectionClosedError
from websockets.frames import CloseCode

from rtrec.capture.writer_link import WriterLink
from rtrec.store.session import LiveSession

# Codes that describe a close but may not be sent in a close frame.
_NO_STATUS = CloseCode.NO_STATUS_RCVD  # 1005: peer sent an empty close frame
_NOT_SENDABLE = {CloseCode.ABNORMAL_CLOSURE, CloseCode.TLS_HANDSHAKE}  # 1006, 1015

RELAY_STOPPED_REASON = "rtrec relay stopped"

PumpEnd = Literal["source closed", "destination closed"]


async def pump(
    source: Connection,
    destination: Connection,
    direction: str,
    session: LiveSession,
    writer: WriterLink,
) -> PumpEnd:
    """Forward frames until one side closes; each frame is recorded before it is sent on."""
    try:
        async for message in source:
            writer.append(session, direction, message)
            try:
                await destination.send(message)
            except ConnectionClosed:
                return "destination closed"
    except ConnectionClosedError:
        pass
    return "source closed"


def close_args(code: int | None, reason: str, lost_side: str) -> tuple[int | None, str]:
    """What to send to one side when the other closed with `code` and `reason`."""
    if code is None or code == _NO_STATUS:
        return None, ""  # an empty close frame, as received
    if code in _NOT_SENDABLE:
        # The other side vanished without a close frame; say so rather than vanish too.
        if lost_side == "upstream":
            return CloseCode.INTERNAL_ERROR, "rtrec: upstream connection lost"
        return CloseCode.GOING_AWAY, "rtrec: client connection lost"
    return code, reason


async def relay_session(
    client: Connection,
    upstream: Connection,
    session: LiveSession,
    writer: WriterLink,
    stop: asyncio.Event,
) -> None:
    """Run the session until either side closes or the relay stops; record how it ended."""
    to_upstream = asyncio.create_task(pump(client, upstream, "client", session, writer))
    to_client = asyncio.create_task(pump(upstream, client, "server", session, writer))
    stopping = asyncio.create_task(stop.wait())
    reason = "relay_stopped"  # also what a cancelled session (the relay going down) ends as
    try:
        done, _ = await asyncio.wait(
            {to_upstream, to_client, stopping}, return_when=asyncio.FIRST_COMPLETED
        )
        # A side that already closed explains the end, even if the relay is stopping too.
        if _client_closed_first(done, to_upstream, to_client):
            reason = "client_closed"
            code, text = close_args(client.close_code, client.close_reason or "", "client")
            await upstream.close(code, text)  # type: ignore[arg-type]
        elif to_upstream in done or to_client in done:
            reason = "upstream_closed"
            code, text = close_args(upstream.close_code, upstream.close_reason or "", "upstream")
            await client.close(code, text)  # type: ignore[arg-type]
        else:
            await asyncio.gather(
                client.close(CloseCode.GOING_AWAY, RELAY_STOPPED_REASON),
                upstream.close(CloseCode.GOING_AWAY, RELAY_STOPPED_REASON),
                return_exceptions=True,
            )
        await asyncio.gather(to_upstream, to_client, return_exceptions=True)
    finally:
        stopping.cancel()
        for task in (to_upstream, to_client):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(client.close(), upstream.close(), return_exceptions=True)
        session.client_close_code = client.close_code
        session.client_close_reason = client.close_reason
        session.upstream_close_code = upstream.close_code
        session.upstream_close_reason = upstream.close_reason
        session.end(reason)
        writer.update_session(session)


def _client_closed_first(
    done: set[asyncio.Task[PumpEnd | Literal[True]]],
    to_upstream: asyncio.Task[PumpEnd],
    to_client: asyncio.Task[PumpEnd],
) -> bool:
    if to_upstream in done and to_upstream.result() == "source closed":
        return True
    return to_client in done and to_client.result() == "destination closed"
