"""Which simulated server speaks which protocol, and the demo's scripted client for each.

The simulator routes a connection by its request path to the protocol whose adapter
claims the path (rtrec/protocols); each protocol's server and demo client live in
their own modules and are imported on first use.  Adding a protocol is one entry here.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from rtrec.sim.options import SimOptions

# Serves one client connection of that protocol until it closes.
ServeConnection = Callable[["ServerConnection", "SimOptions"], Awaitable[None]]
# Runs the demo's scripted call against the relay at this origin (ws://host:port).
DemoClient = Callable[[str, Callable[[str], None]], Awaitable[None]]

SERVERS = {
    "realtime": "rtrec.sim.server:serve_realtime",
    "live": "rtrec.sim.live.server:serve",
    "gemini": "rtrec.sim.gemini.server:serve",
}
DEMO_CLIENTS = {
    "realtime": "rtrec.sim.script:run_demo_call",
    "live": "rtrec.sim.live.script:run_demo_call",
    "gemini": "rtrec.sim.gemini.script:run_demo_call",
}
SIM_PROTOCOLS = tuple(SERVERS)


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def server_for(protocol: str) -> ServeConnection:
    return cast(ServeConnection, _load(SERVERS[protocol]))


def demo_client_for(protocol: str) -> DemoClient:
    return cast(DemoClient, _load(DEMO_CLIENTS[protocol]))
