"""Helpers for tests that record through a real relay: appends, round trips, disks."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import glob
import json
import sqlite3
import subprocess
import threading
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from rtrec.store.spill import holds_events
from tests.conftest import run_cli

NO_VAD = json.dumps(
    {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
    }
)


def append(i: int, size: int = 16000) -> str:
    audio = base64.b64encode(i.to_bytes(4, "big") * (size // 4)).decode()
    return json.dumps({"type": "input_audio_buffer.append", "audio": audio, "event_id": f"ev{i}"})


def client_frames_in_db(db_path: str) -> list[str]:
    result = run_cli("export", "last", db_path=db_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    return [line["frame"] for line in lines if line["dir"] == "client"]


async def round_trip(ws: ClientConnection) -> None:
    """Send a session.update and wait for its answer: everything sent before has crossed."""
    await ws.send(NO_VAD)
    while json.loads(await ws.recv())["type"] != "session.updated":
        pass


async def stream_appends(url: str, count: int) -> None:
    """A client that keeps talking; the session.updated echo proves the call is alive."""
    async with connect(url + "/v1/realtime", max_size=None) as ws:
        await ws.recv()  # session.created
        for i in range(count):
            await ws.send(append(i))
        await round_trip(ws)


@contextlib.contextmanager
def small_filesystem(where: Path, size_mib: int) -> Iterator[Path]:
    """A tmpfs of `size_mib` that the test mounts (needs the privilege to mount)."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        # Said loudly: a warning in the run's summary as well as the skip, since a full
        # disk is the one trouble no other test stands in for.
        reason = (
            f"DISK-FULL TEST NOT RUN: cannot mount a tmpfs here: {mounted.stderr.decode().strip()}"
        )
        warnings.warn(reason, pytest.PytestWarning, stacklevel=2)
        pytest.skip(reason)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


async def wait_for_spill(db_path: str, timeout: float = 30) -> None:
    """Wait until the recorder's spill file holds events (another process writes it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(holds_events(path) for path in glob.glob(db_path + "-spill-*.jsonl")):
        assert asyncio.get_running_loop().time() < deadline, "nothing was spilled"
        await asyncio.sleep(0.02)  # polling another process's file: nothing to await


@contextlib.asynccontextmanager
async def database_locked(db_path: str) -> AsyncIterator[None]:
    """Another writer holds the database for as long as the block runs."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db_path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(60)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    await asyncio.to_thread(locked.wait, 10)
    try:
        yield
    finally:
        release.set()
        await asyncio.to_thread(holder.join)
