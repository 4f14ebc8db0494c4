"""kill -9 and power cuts: the file stays sound, flushed events stay, cut sessions are marked.

A recorder is two processes, the relay and its writer (rtrec/capture/writer_link.py):
killing both is a crash of the recorder; killing the relay alone leaves a writer that
writes everything that reached it.  A killed writer alone: tests/test_writer_process.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
from pathlib import Path

from websockets.asyncio.client import connect

from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.conftest import process_exit, run_cli, start_recorder, writer_pid
from tests.recording_support import append, client_frames_in_db, round_trip
from tests.waiting import eventually


def recorded_client_frames(db_path: str) -> int:
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        return conn.execute("SELECT count(*) FROM event WHERE direction = 'client'").fetchone()[0]


async def wait_for_flush(db_path: str, count: int, timeout: float = 20) -> None:
    """Wait until another process has committed `count` client frames."""
    await eventually(
        lambda: recorded_client_frames(db_path) >= count,
        f"the recorder committed {count} client frames",
        timeout,
    )


async def test_kill_9_mid_session(db_path, tmp_path):
    log: list[tuple[str, str | bytes]] = []
    async with Simulator(SimOptions(frame_log=log)) as sim:
        process, relay_url, _banner = await start_recorder(db_path, sim.url)
        writer = writer_pid(process.pid)
        async with connect(relay_url + "/v1/realtime", max_size=None) as ws:
            await ws.recv()
            for i in range(200):
                await ws.send(append(i, 4000))
            await round_trip(ws)
            await wait_for_flush(db_path, 201)  # the appends and the barrier's update
            for i in range(200, 400):  # still streaming when the recorder dies
                await ws.send(append(i, 4000))
            os.kill(writer, signal.SIGKILL)  # both processes at once
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL
            await process_exit(writer)

    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    for suffix in ("", "-wal"):
        if os.path.exists(db_path + suffix):
            shutil.copy(db_path + suffix, snapshot / f"rtrec.db{suffix}")

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = recorded_client_frames(db_path)
    assert kept >= 201  # everything flushed before the kill is there
    sent = [frame for direction, frame in log if direction == "client"]
    exported = [
        json.loads(line) for line in run_cli("export", "last", db_path=db_path).stdout.splitlines()
    ]
    assert [line["frame"] for line in exported if line["dir"] == "client"] == sent[:kept]
    (row,) = json.loads(run_cli("sessions", "--json", db_path=db_path).stdout)
    assert row["end_reason"] == "interrupted"
    # Readers show the cut session as interrupted without writing that down; the dead
    # recorder's lock file stays until a command that writes opens the database.
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT end_reason FROM session").fetchone() == (None,)
    assert list(Path(db_path).parent.glob("rtrec.db-lock-*"))
    assert run_cli("reproject", db_path=db_path).returncode == 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT end_reason FROM session").fetchone() == ("interrupted",)
    assert not list(Path(db_path).parent.glob("rtrec.db-lock-*"))  # the dead lock is gone

    # A power cut: the OS loses the unsynced tail of the WAL.  Cut it anywhere.
    wal = snapshot / "rtrec.db-wal"
    if wal.exists():
        size = wal.stat().st_size
        counts = []
        for cut in sorted({0, 32, size // 7, size // 3, size // 2, size - 4096, size - 1, size}):
            copy = tmp_path / f"cut-{cut}"
            copy.mkdir()
            shutil.copy(snapshot / "rtrec.db", copy / "rtrec.db")
            with open(snapshot / "rtrec.db-wal", "rb") as f:
                (copy / "rtrec.db-wal").write_bytes(f.read(max(0, cut)))
            copy_db = str(copy / "rtrec.db")
            with sqlite3.connect(copy_db) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            listed = run_cli("sessions", "--json", db_path=copy_db)
            assert listed.returncode == 0, listed.stderr
            rows = json.loads(listed.stdout)
            assert all(r["end_reason"] == "interrupted" for r in rows)
            counts.append(recorded_client_frames(copy_db) if rows else 0)
        assert counts == sorted(counts)  # a longer surviving WAL never holds fewer events


async def test_kill_9_of_the_relay_alone_loses_nothing_that_reached_the_writer(db_path):
    log: list[tuple[str, str | bytes]] = []
    async with Simulator(SimOptions(frame_log=log)) as sim:
        process, relay_url, _banner = await start_recorder(db_path, sim.url)
        writer = writer_pid(process.pid)
        async with connect(relay_url + "/v1/realtime", max_size=None) as ws:
            await ws.recv()
            for i in range(100):
                await ws.send(append(i, 1000))
            await round_trip(ws)
            await wait_for_flush(db_path, 101)
            # From here on the writer commits nothing while the relay hands it frames.
            os.kill(writer, signal.SIGSTOP)
            for i in range(100, 200):
                await ws.send(append(i, 1000))
            # The relay has forwarded them all, so it has handed them all off.
            await round_trip(ws)
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL
        os.kill(writer, signal.SIGCONT)
        await process_exit(writer)  # it writes what it was handed, and exits by itself

    sent = [frame for direction, frame in log if direction == "client"]
    assert len(sent) == 202
    assert client_frames_in_db(db_path) == sent
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # The writer marked the session it was writing, as the next open would have.
        assert conn.execute("SELECT end_reason, recorder FROM session").fetchall() == [
            ("interrupted", None)
        ]
    assert not list(Path(db_path).parent.glob("rtrec.db-lock-*"))
