"""Spill files after a crash: reclaimed when empty, imported when not, notices kept few."""

from __future__ import annotations

import asyncio
import glob
import io
import os
import shutil
import signal
import sqlite3

from websockets.asyncio.client import connect

from rtrec.recorder.service import Recorder
from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from rtrec.store.db import open_db
from rtrec.store.handoff import DEFAULT_SPILL_RESERVE_BYTES
from rtrec.store.spill import holds_events
from tests.conftest import process_exit, run_cli, start_recorder, writer_pid
from tests.recording_support import (
    append,
    client_frames_in_db,
    database_locked,
    round_trip,
    wait_for_spill,
)
from tests.test_crash import wait_for_flush
from tests.waiting import eventually


async def kill_9(process: asyncio.subprocess.Process, writer: int) -> None:
    """The whole recorder dies at once: relay and writer process."""
    os.kill(writer, signal.SIGKILL)
    process.send_signal(signal.SIGKILL)
    assert await process.wait() == -signal.SIGKILL
    await process_exit(writer)


async def test_a_dead_recorders_empty_spill_is_reclaimed_and_not_mistaken_for_json(
    db_path, tmp_path
):
    async with Simulator(SimOptions()) as sim:
        process, url, _ = await start_recorder(db_path, sim.url)
        writer = writer_pid(process.pid)
        async with connect(url + "/v1/realtime") as ws:
            await ws.recv()
            await ws.send(append(0))
            await round_trip(ws)
            await wait_for_flush(db_path, 2)
            await kill_9(process, writer)
    (spill,) = glob.glob(db_path + "-spill-*.jsonl")
    assert os.path.getsize(spill) == DEFAULT_SPILL_RESERVE_BYTES  # reserved, all zeros
    assert not holds_events(spill)

    copy = str(tmp_path / "copy.jsonl")
    shutil.copy(spill, copy)
    imported = run_cli("import", copy, db_path=db_path)
    assert imported.returncode == 1
    (line,) = imported.stderr.decode().splitlines()
    assert "holds no events" in line and "not valid JSON" not in line

    open_db(db_path).close()  # the next open
    assert not os.path.exists(spill)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT end_reason FROM session").fetchall() == [("interrupted",)]


def whole_client_lines(db_path: str) -> int:
    """Client events in whole lines of the recorder's spill files, before the reserved zeros.

    Only whole lines count: a kill can cut the last write short (a large pwrite stops
    part way when the process dies), and the import leaves that line out too.
    """
    total = 0
    for path in glob.glob(db_path + "-spill-*.jsonl"):
        with open(path, "rb") as f:
            head = f.read(16 << 20)  # what this test spills fits; the rest is reserved
        nul = head.find(b"\0")
        whole = head[: nul if nul >= 0 else len(head)].split(b"\n")[:-1]
        total += sum(1 for line in whole if b'"dir":"client"' in line)
    return total


async def test_a_spill_cut_by_kill_9_imports_with_its_zero_tail(db_path):
    log: list[tuple[str, str | bytes]] = []
    async with Simulator(SimOptions(frame_log=log)) as sim:
        process, url, _ = await start_recorder(db_path, sim.url, "--buffer-mib", "1")
        writer = writer_pid(process.pid)
        async with database_locked(db_path), connect(url + "/v1/realtime", max_size=None) as ws:
            await ws.recv()
            for i in range(100):  # 2 MB of audio text, twice the buffer
                await ws.send(append(i))
            await round_trip(ws)
            # A busy machine can leave the spill with its session line alone for a while.
            await eventually(
                lambda: whole_client_lines(db_path) > 0, "the spill holds a client event"
            )
            await kill_9(process, writer)
    (spill,) = glob.glob(db_path + "-spill-*.jsonl")
    spilled = whole_client_lines(db_path)
    assert os.path.getsize(spill) == DEFAULT_SPILL_RESERVE_BYTES  # content, then zeros
    open_db(db_path).close()
    assert os.path.exists(spill)  # the next open keeps a spill that holds events

    # And the last write was cut short: half a line after the last whole one.
    with open(spill, "r+b") as f:
        content = f.read()
        end = content.index(b"\0")
        f.seek(end)
        f.write(b'{"session":"cut-short","seq":1')
    imported = run_cli("import", spill, db_path=db_path)
    assert imported.returncode == 0, imported.stderr
    stderr = imported.stderr.decode()
    assert "restored" in stderr and "incomplete last line" in stderr
    sent = [frame for side, frame in log if side == "client"]
    recorded = client_frames_in_db(db_path)
    # The database took nothing while it was locked: all of it came from the spill.
    assert len(recorded) == spilled > 0 and recorded == sent[:spilled]


async def test_spill_notices_are_rate_limited(db_path):
    status = io.StringIO()
    async with Simulator(SimOptions()) as sim:
        recorder = Recorder(
            db_path,
            upstream=sim.url,
            port=0,
            live_status=False,
            status_stream=status,
            max_pending_bytes=50_000,
        )
        async with recorder:
            async with database_locked(db_path), connect(recorder.url + "/v1/realtime") as ws:
                await ws.recv()
                for burst in range(10):  # each burst overflows the buffer again
                    for i in range(10):
                        await ws.send(append(burst * 10 + i))
                    await round_trip(ws)
                    await wait_for_spill(db_path)
                spills = glob.glob(db_path + "-spill-*.jsonl")
    lines = [line for line in status.getvalue().splitlines() if "spilled" in line]
    assert 1 <= len(lines) <= 2, lines
    said = sum(int(line.split("spilled ", 1)[1].split()[0]) for line in lines)
    (spill,) = spills
    with open(spill, "rb") as f:
        in_file = sum(1 for line in f if line.startswith(b'{"session"'))
    assert said == in_file >= 100
