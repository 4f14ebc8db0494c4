"""The simulator's Gemini Live endpoint (any path containing BidiGenerateContent)."""

from __future__ import annotations

from websockets.asyncio.server import ServerConnection

from rtrec.sim.gemini.session import GeminiSession
from rtrec.sim.options import SimOptions


async def serve(connection: ServerConnection, options: SimOptions) -> None:
    """One simulated Gemini Live session, until the client leaves."""
    await GeminiSession(connection, options).run()
