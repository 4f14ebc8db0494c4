"""`rtrec demo`: the simulator, the real relay and the scripted client, recording one session."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from rtrec.recorder.service import Recorder
from rtrec.sim.connection import SimOptions
from rtrec.sim.script import run_script
from rtrec.sim.server import Simulator

# Audio streams faster than real time, as the real API's does, but slowly enough for
# the user's barge-in to land mid-answer.
DEMO_REALTIME_FACTOR = 4.0
# A real model thinks a few hundred ms before it speaks; seeded, so every demo is alike.
DEMO_REPLY_DELAY_MS = (300.0, 700.0)
DEMO_SEED = 17


async def run_demo(db_path: str, say: Callable[[str], None]) -> int:
    """Record one demo session into `db_path`; returns its session id."""
    async with (
        Simulator(
            SimOptions(
                realtime_factor=DEMO_REALTIME_FACTOR,
                reply_delay_ms=DEMO_REPLY_DELAY_MS,
                seed=DEMO_SEED,
            )
        ) as sim,
        Recorder(db_path, upstream=sim.url, port=0, source="demo", live_status=False) as recorder,
    ):
        say(f"simulated Realtime server at {sim.url}; rtrec relay at {recorder.url}")
        await run_script(f"{recorder.url}/v1/realtime?model=gpt-realtime", say)
    with sqlite3.connect(db_path) as conn:
        (session_id,) = conn.execute(
            "SELECT id FROM session WHERE source = 'demo' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return int(session_id)
