"""The writer process: killed, stalled, stopped; what reaches the relay back from it.

Each failure is provoked for real (signals to the real process); what the log holds
afterwards is checked frame by frame and by sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import io
import json
import os
import signal
import sqlite3
import threading

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from rtrec.recorder.service import Recorder
from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from rtrec.store import follower as follower_module
from rtrec.store.db import open_db
from rtrec.store.session import LiveSession
from tests.conftest import run_cli, start_recorder, writer_pid
from tests.recording_support import append, client_frames_in_db, round_trip


def logged_exactly_once(db_path: str, log: list[tuple[str, str | bytes]]) -> None:
    """The session holds every frame both sides exchanged, in order, each under one seq."""
    exported = [
        json.loads(line) for line in run_cli("export", "last", db_path=db_path).stdout.splitlines()
    ]
    for direction in ("client", "server"):
        sent = [frame for side, frame in log if side == direction]
        assert [line["frame"] for line in exported if line["dir"] == direction] == sent
    with sqlite3.connect(db_path) as conn:
        seqs = [seq for (seq,) in conn.execute("SELECT seq FROM event ORDER BY seq")]
    assert seqs == list(range(len(log)))  # no gap, no duplicate


async def test_a_killed_writer_is_replaced_and_every_frame_is_written_once(db_path):
    log: list[tuple[str, str | bytes]] = []
    status = io.StringIO()
    async with Simulator(SimOptions(frame_log=log)) as sim:
        recorder = Recorder(
            db_path, upstream=sim.url, port=0, live_status=False, status_stream=status
        )
        async with recorder:
            link = recorder.writer
            assert link is not None and link.pid is not None
            first = link.pid
            async with connect(recorder.url + "/v1/realtime", max_size=None) as ws:
                await ws.recv()
                for i in range(50):
                    await ws.send(append(i, 4000))
                await round_trip(ws)
                assert await link.flush()  # these are committed
                # Stopped, the writer takes nothing more: what follows is not committed
                # when it dies, and the call goes on all the same.
                os.kill(first, signal.SIGSTOP)
                for i in range(50, 150):
                    await ws.send(append(i, 4000))
                await round_trip(ws)
                os.kill(first, signal.SIGKILL)
                for i in range(150, 200):
                    await ws.send(append(i, 4000))
                await round_trip(ws)
                assert await link.flush()
                assert link.pid != first
    assert "the writer process ended (signal 9); started another" in status.getvalue()
    assert len([f for side, f in log if side == "client"]) == 203
    logged_exactly_once(db_path, log)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT end_reason FROM session").fetchall() == [("client_closed",)]


async def test_a_stalled_writer_is_replaced_and_the_call_never_waits(db_path):
    log: list[tuple[str, str | bytes]] = []
    status = io.StringIO()
    async with Simulator(SimOptions(frame_log=log)) as sim:
        recorder = Recorder(
            db_path,
            upstream=sim.url,
            port=0,
            live_status=False,
            status_stream=status,
            max_pending_bytes=100_000,
        )
        async with recorder:
            link = recorder.writer
            assert link is not None and link.pid is not None
            stalled = link.pid
            async with connect(recorder.url + "/v1/realtime", max_size=None) as ws:
                await ws.recv()
                os.kill(stalled, signal.SIGSTOP)  # stalled: it reads and writes nothing
                # Far more than the hand-off's bound waits for it, and round trips go on.
                for i in range(150):
                    await ws.send(append(i, 8000))
                    if i % 50 == 49:
                        await round_trip(ws)
                # The relay gives up on it and starts another, which takes everything
                # (this flush is handed to the new writer too).  That backlog is more
                # than the new writer's buffer, so it goes to the spill file.
                await link.flush()
                assert link.pid != stalled
    assert "has written nothing for" in status.getvalue()
    assert not os.path.exists(f"/proc/{stalled}")
    for spill in glob.glob(db_path + "-spill-*.jsonl"):
        assert run_cli("import", spill, db_path=db_path).returncode == 0
    logged_exactly_once(db_path, log)


async def discard(ws: ServerConnection) -> None:
    """An upstream that takes everything and answers nothing."""
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


async def test_a_writer_too_slow_for_the_calls_spills_and_the_relay_holds_little(db_path):
    """A machine too busy to run the writer: here it runs 2 ms in every 100."""
    async with serve(discard, "127.0.0.1", 0, max_size=None) as upstream:
        port = upstream.sockets[0].getsockname()[1]
        status = io.StringIO()
        recorder = Recorder(
            db_path,
            upstream=f"ws://127.0.0.1:{port}",
            port=0,
            live_status=False,
            status_stream=status,
        )
        async with recorder:
            link = recorder.writer
            assert link is not None and link.pid is not None
            writer, running = link.pid, True

            async def starve() -> None:
                while running:
                    os.kill(writer, signal.SIGSTOP)
                    await asyncio.sleep(0.098)
                    os.kill(writer, signal.SIGCONT)
                    await asyncio.sleep(0.002)

            starving = asyncio.create_task(starve())
            held: list[int] = []
            sent: list[str] = []
            async with connect(recorder.url + "/v1/realtime", max_size=None) as ws:
                # 10 MB/s of audio appends for 5 s: far more than a writer that gets 2%
                # of a core commits.  The call never waits for it.
                started = asyncio.get_running_loop().time()
                while asyncio.get_running_loop().time() - started < 5:
                    for _ in range(25):
                        frame = append(len(sent), 8000)
                        await ws.send(frame)
                        sent.append(frame)
                    held.append(link.held_bytes)
                    await asyncio.sleep(0.025)
            running = False
            await starving
            os.kill(writer, signal.SIGCONT)
            await link.flush()
    # What the relay holds for the writer stays bounded, in memory and in time.
    assert max(held) < 48 * 2**20, max(held) // 2**20
    assert "behind the relay (the machine is busy); spilling until it catches up" in (
        status.getvalue()
    )
    for spill in glob.glob(db_path + "-spill-*.jsonl"):
        assert run_cli("import", spill, db_path=db_path).returncode == 0
    assert client_frames_in_db(db_path) == sent


async def test_ctrl_c_and_sigterm_drain_the_writer_and_exit_0(db_path):
    for how in ("ctrl-c", "sigterm"):
        log: list[tuple[str, str | bytes]] = []
        async with Simulator(SimOptions(frame_log=log)) as sim:
            process, url, _ = await start_recorder(db_path, sim.url, new_session=True)
            writer = writer_pid(process.pid)
            async with connect(url + "/v1/realtime", max_size=None) as ws:
                await ws.recv()
                for i in range(300):
                    await ws.send(append(i, 4000))
                await round_trip(ws)
                if how == "ctrl-c":  # a terminal signals the whole process group
                    os.killpg(process.pid, signal.SIGINT)
                else:
                    process.send_signal(signal.SIGTERM)
                stderr = (await process.stderr.read()).decode()  # type: ignore[union-attr]
                assert await process.wait() == 0, stderr
            assert not os.path.exists(f"/proc/{writer}")  # nothing left running
        assert "every session flushed" in stderr
        sent = [frame for side, frame in log if side == "client"]
        assert client_frames_in_db(db_path) == sent, how
        with sqlite3.connect(db_path) as conn:
            (reason,) = conn.execute("SELECT end_reason FROM session ORDER BY id DESC").fetchone()
        assert reason == "relay_stopped"


async def test_live_counters_and_session_ids_come_back_from_the_writer(db_path):
    completed: list[tuple[LiveSession, int]] = []
    done = asyncio.Event()

    def complete(session: LiveSession) -> None:
        # Called on the relay's loop once the projection holds the whole session.
        with sqlite3.connect(db_path) as conn:
            (items,) = conn.execute(
                "SELECT count(*) FROM items WHERE session_id = ?", (session.db_id,)
            ).fetchone()
        completed.append((session, items))
        done.set()

    async with Simulator(SimOptions()) as sim:
        recorder = Recorder(
            db_path, upstream=sim.url, port=0, live_status=False, on_session_complete=complete
        )
        async with recorder:
            assert recorder.writer is not None and recorder.server is not None
            async with connect(recorder.url + "/v1/realtime?model=m", max_size=None) as ws:
                await ws.recv()
                for i in range(10):
                    await ws.send(append(i, 4800))  # 100 ms each at 24 kHz
                await round_trip(ws)
                assert await recorder.writer.flush()
                (session,) = recorder.server.active
                # The status line's counters, kept by the writer, reached the relay.
                assert session.audio_in_ms == 1000.0
                assert session.db_id is not None
                await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
                await ws.send(json.dumps({"type": "response.create"}))
                while json.loads(await ws.recv())["type"] != "response.done":
                    pass
            await asyncio.wait_for(done.wait(), 30)  # after the writer's projection pass
    ((session, items),) = completed
    assert session.end_reason == "client_closed" and items >= 2


def test_the_follower_checkpoints_the_wal_so_the_writer_never_waits_for_it(db_path, monkeypatch):
    monkeypatch.setattr(follower_module, "CHECKPOINT_WAL_BYTES", 256 * 1024)
    writer = open_db(db_path)
    writer.execute("PRAGMA wal_autocheckpoint = 0")  # as the writer process's connection
    writer.execute(
        "INSERT INTO session (id, uuid, source, started_at, started_ns) "
        "VALUES (1, 'u', 'x', 'x', 0)"
    )
    writer.executemany(
        "INSERT INTO event (session_id, seq, t_ns, wall_ns, direction, frame) "
        "VALUES (1, ?, 0, 0, 'client', ?)",
        [(i, "x" * 4000) for i in range(200)],
    )
    db_size = os.path.getsize(db_path)
    assert os.path.getsize(db_path + "-wal") > 256 * 1024  # nothing copied back yet

    follower = follower_module.ProjectionFollower(db_path, project=False)
    follower.start()
    passed = threading.Event()
    follower.after_pass(lambda ok: passed.set())
    assert passed.wait(30)
    follower.stop()
    # Still open here (closing the last connection would checkpoint by itself).
    assert os.path.getsize(db_path) > db_size + 500_000  # the pages reached the database
    writer.close()
