"""Shared fixtures: real servers on 127.0.0.1, real SQLite files in tmp dirs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rtrec.recorder.service import Recorder
from rtrec.sim.connection import SimOptions
from rtrec.sim.server import Simulator

REAL_SESSIONS = Path(__file__).parent / "fixtures" / "real-sessions"


def real_session_files() -> list[Path]:
    return sorted(REAL_SESSIONS.glob("*.jsonl"))


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "rtrec.db")


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(SimOptions()) as sim:
        yield sim


@pytest.fixture
async def recorder(db_path: str, simulator: Simulator) -> AsyncIterator[Recorder]:
    """The relay in front of the simulator, recording into db_path."""
    async with Recorder(db_path, upstream=simulator.url, port=0, live_status=False) as rec:
        yield rec


@pytest.fixture
def db(db_path: str) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection for assertions (open it after recording)."""
    conn = sqlite3.connect(db_path)
    yield conn
    conn.close()


def run_cli(
    *args: str,
    db_path: str | None = None,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """`rtrec ARGS` as a real process, the way a user runs it."""
    full_env = {**os.environ, **(env or {})}
    if db_path is not None:
        full_env["RTREC_DB"] = db_path
    return subprocess.run(
        [sys.executable, "-m", "rtrec", *args],
        input=input,
        capture_output=True,
        env=full_env,
        timeout=timeout,
    )
