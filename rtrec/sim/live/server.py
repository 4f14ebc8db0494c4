"""The simulated GPT-Live endpoints: a session, its sideband, and forks of it.

- `/v1/live/sessions` (or any path ending there, Azure's `/openai/v1/live/sessions`):
  a new session (rtrec/sim/live/session.py).
- `…/sessions/{id}/attach`: a sideband on a running session of this process: copies
  of its traffic, and commands into it.
- `…/sessions/{id}/fork`: a new session that inherits a session's configuration
  (still running, or ended: the simulator keeps the last ones).
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from rtrec.sim.frames import error_body
from rtrec.sim.live.resource import LiveConfig
from rtrec.sim.live.session import LiveSimSession
from rtrec.sim.live.wire import new_id
from rtrec.sim.options import SimOptions

_CHILD = re.compile(r"/live/sessions/([^/]+)/(attach|fork)/?$")
_STORED = 256  # ended sessions a fork may still name

_running: dict[str, LiveSimSession] = {}
_stored: OrderedDict[str, LiveConfig] = OrderedDict()


async def serve(connection: ServerConnection, options: SimOptions) -> None:
    """One client connection of a simulated GPT-Live server."""
    request = connection.request
    assert request is not None
    child = _CHILD.search(request.path.partition("?")[0])
    if child is None:
        await _session(LiveSimSession(connection, options))
        return
    session_id, kind = child.groups()
    if kind == "attach":
        running = _running.get(session_id)
        if running is None:
            await _refuse(connection, f"No running Live session with id '{session_id}'.")
            return
        await _sideband(running, connection)
        return
    parent = running_config(session_id)
    if parent is None:
        await _refuse(connection, f"No stored Live session with id '{session_id}'.")
        return
    await _session(LiveSimSession(connection, options, parent=parent))


def running_config(session_id: str) -> LiveConfig | None:
    running = _running.get(session_id)
    if running is not None and running.config is not None:
        return running.config
    return _stored.get(session_id)


async def _session(session: LiveSimSession) -> None:
    def started(s: LiveSimSession) -> None:
        _running[s.session_id] = s

    def ended(s: LiveSimSession) -> None:
        _running.pop(s.session_id, None)
        if s.config is not None:
            _stored[s.session_id] = s.config
            while len(_stored) > _STORED:
                _stored.popitem(last=False)

    session.when_started = started
    session.when_ended = ended
    await session.run()


async def _sideband(session: LiveSimSession, connection: ServerConnection) -> None:
    session.sidebands.add(connection)
    try:
        async for message in connection:
            await session.dispatch(message, sideband=True)
    except ConnectionClosed:
        pass
    finally:
        session.sidebands.discard(connection)


async def _refuse(connection: ServerConnection, message: str) -> None:
    error = error_body(message, code="session_not_found")
    event = {"event_id": new_id("event_"), "type": "error", "error": error}
    try:
        await connection.send(json.dumps(event, separators=(",", ":")))
        await connection.close(1008, "session not found")
    except ConnectionClosed:
        pass
