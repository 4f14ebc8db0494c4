"""Shared fixtures: real servers on 127.0.0.1, real SQLite files in tmp dirs."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rtrec.recorder.service import Recorder
from rtrec.sim.options import SimOptions
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


async def start_recorder(
    db_path: str,
    upstream: str,
    *extra: str,
    env: dict[str, str] | None = None,
    new_session: bool = False,
) -> tuple[asyncio.subprocess.Process, str, str]:
    """`rtrec record` as a real process on a free port; (process, relay URL, its banner).

    With `new_session` it leads a process group of its own (with its writer process),
    which a test can signal as a terminal's Ctrl-C does.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rtrec",
        "record",
        "--db",
        db_path,
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        upstream,
        *extra,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=new_session,
    )
    assert process.stderr is not None
    banner = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
    found = re.search(r"relaying (ws://\S+)", banner)
    assert found, banner
    return process, found[1], banner


def writer_pid(recorder_pid: int) -> int:
    """The writer process of a running `rtrec record` (its one child)."""
    with open(f"/proc/{recorder_pid}/task/{recorder_pid}/children") as f:
        (pid,) = (int(p) for p in f.read().split())
    return pid


async def process_exit(pid: int, timeout: float = 60) -> None:
    """Wait until a process that is not our child has exited (a pidfd turns readable)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    exited = loop.create_future()
    loop.add_reader(fd, lambda: exited.done() or exited.set_result(None))
    try:
        await asyncio.wait_for(exited, timeout)
    finally:
        loop.remove_reader(fd)
        os.close(fd)


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
