"""`rtrec demo`: the simulator, the real relay and the scripted client, recording one session."""

from __future__ import annotations

from collections.abc import Callable

from rtrec.recorder.service import Recorder
from rtrec.sim.options import SimOptions
from rtrec.sim.protocols import demo_client_for
from rtrec.sim.server import Simulator
from rtrec.store.overview import latest_session_id
from rtrec.store.reading import open_reader

# Audio streams faster than real time, as the real API's does, but slowly enough for
# the user's barge-in to land mid-answer.
DEMO_REALTIME_FACTOR = 4.0
# A real model thinks a few hundred ms before it speaks; seeded, so every demo is alike.
DEMO_REPLY_DELAY_MS = (300.0, 700.0)
DEMO_SEED = 17


NAMES = {"realtime": "Realtime", "live": "GPT-Live", "gemini": "Gemini Live"}


async def run_demo(db_path: str, say: Callable[[str], None], protocol: str = "realtime") -> int:
    """Record one demo session of this protocol into `db_path`; returns its session id."""
    client = demo_client_for(protocol)
    async with (
        Simulator(
            SimOptions(
                realtime_factor=DEMO_REALTIME_FACTOR,
                reply_delay_ms=DEMO_REPLY_DELAY_MS,
                seed=DEMO_SEED,
            ),
            protocols=(protocol,),
        ) as sim,
        Recorder(db_path, upstream=sim.url, port=0, source="demo", live_status=False) as recorder,
    ):
        say(f"simulated {NAMES[protocol]} server at {sim.url}; rtrec relay at {recorder.url}")
        await client(recorder.url, say)
    conn = open_reader(db_path)
    try:
        session_id = latest_session_id(conn, "demo")
    finally:
        conn.close()
    assert session_id is not None, "the demo recorded no session"
    return session_id
