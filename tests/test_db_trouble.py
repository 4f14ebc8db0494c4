"""Recording trouble never breaks a live call: full disk, removed file, locked database."""

from __future__ import annotations

import contextlib
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
from tests.conftest import run_cli, start_recorder
from tests.recording_support import (
    append,
    client_frames_in_db,
    database_locked,
    round_trip,
    small_filesystem,
    stream_appends,
    wait_for_spill,
)


async def test_a_full_disk_spills_and_import_brings_everything_back(tmp_path):
    """The database fills its small disk mid-call; the relay goes on and nothing is lost.

    Sizes: 280 appends of 16 KB (4.5 MB once compacted) overflow what is left for the
    database on a 10 MiB tmpfs whose spill file reserved 7 MiB at start, and the
    reservation holds all of the audio as base64 (6 MB) even if the database took none.
    """
    with contextlib.ExitStack() as stack:
        home = stack.enter_context(small_filesystem(tmp_path / "small", 10))
        db_path = str(home / "rtrec.db")
        log: list[tuple[str, str | bytes]] = []
        async with Simulator(SimOptions(frame_log=log)) as sim:
            process, relay_url, _banner = await start_recorder(
                db_path, sim.url, "--buffer-mib", "8", "--spill-reserve-mib", "7"
            )
            await stream_appends(relay_url, 280)
            process.send_signal(signal.SIGTERM)
            stderr = (await process.stderr.read()).decode()
            assert await process.wait() == 0, stderr
        assert "cannot write" in stderr and "rtrec import" in stderr
        # Back on a filesystem with room, the spill goes back where it belongs.
        roomy = tmp_path / "roomy"
        roomy.mkdir()
        for path in glob.glob(db_path + "*"):
            shutil.copy(path, roomy)
        db_copy = str(roomy / "rtrec.db")
        (spill,) = glob.glob(db_copy + "-spill-*.jsonl")
    restored = run_cli("import", spill, db_path=db_copy)
    assert restored.returncode == 0, restored.stderr
    sent = [frame for direction, frame in log if direction == "client"]
    assert client_frames_in_db(db_copy) == sent
    with sqlite3.connect(db_copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # How the session ended reached the spill too.
        assert conn.execute("SELECT end_reason FROM session").fetchone() == ("client_closed",)


async def test_a_removed_database_file_spills_what_follows(db_path, tmp_path):
    log: list[tuple[str, str | bytes]] = []
    status = io.StringIO()
    async with Simulator(SimOptions(frame_log=log)) as sim:
        recorder = Recorder(
            db_path, upstream=sim.url, port=0, live_status=False, status_stream=status
        )
        async with recorder:
            async with connect(recorder.url + "/v1/realtime") as ws:
                await ws.recv()
                await ws.send(append(0))
                await round_trip(ws)  # the relay has recorded append(0) by now
                assert await recorder.writer.flush()  # type: ignore[union-attr]
                for suffix in ("", "-wal", "-shm"):
                    os.remove(db_path + suffix)
                for i in range(1, 40):
                    await ws.send(append(i))
                await round_trip(ws)
    assert "removed or replaced" in status.getvalue()
    (spill,) = glob.glob(db_path + "-spill-*.jsonl")
    fresh = str(tmp_path / "fresh.db")
    assert run_cli("import", spill, db_path=fresh).returncode == 0
    sent = [frame for direction, frame in log if direction == "client"]
    # Everything after the removal was kept; what was in the removed file went with it.
    assert client_frames_in_db(fresh) == sent[2:]


async def test_a_locked_database_holds_then_spills_and_the_call_goes_on(db_path):
    log: list[tuple[str, str | bytes]] = []
    status = io.StringIO()
    async with Simulator(SimOptions(frame_log=log)) as sim:
        recorder = Recorder(
            db_path,
            upstream=sim.url,
            port=0,
            live_status=False,
            status_stream=status,
            max_pending_bytes=200_000,
        )
        async with recorder, database_locked(db_path):
            # The call carries on while another writer holds the database.
            await stream_appends(recorder.url, 60)
            # The writer process lags the relay by a few milliseconds: keep the lock until
            # it has had to spill what the database would not take.
            await wait_for_spill(db_path)
    assert "spilled" in status.getvalue()
    (spill,) = glob.glob(db_path + "-spill-*.jsonl")
    assert run_cli("import", spill, db_path=db_path).returncode == 0
    sent = [frame for direction, frame in log if direction == "client"]
    assert client_frames_in_db(db_path) == sent
    again = run_cli("import", spill, db_path=db_path)  # idempotent
    assert "0 events into" in again.stderr.decode()
