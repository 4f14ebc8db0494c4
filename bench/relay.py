"""Relay cost: rtrec's recording hop against a direct connection and a bare relay.

All on loopback, each server in its own process (as in production, the relay does not
share a loop with its peers): an echo upstream (bench/peers.py), and in front of it
nothing (direct), the bare two-pump relay, or `rtrec record`, each on asyncio and on
uvloop.  Configurations are measured in interleaved rounds so that noise from this
shared machine falls on all of them alike; figures are medians over rounds.

- latency: round trip of small frames, one at a time; the relay's added latency is
  (config − direct);
- throughput: 6 KB audio frames pipelined through the round trip;
- load: concurrent realistic sessions (appends every 20–100 ms, audio echoed back as
  deltas): round-trip p99 against the bare relay on the same loop, the CPU and RSS of
  each process (rtrec's relay and its writer process apart), and every frame recorded.
"""

from __future__ import annotations

import asyncio
import base64
import glob
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bench.common import Result

NAME = "relay"
DESCRIPTION = "relay hop latency/throughput/load vs direct and a bare relay (loopback)"

ROOT = Path(__file__).resolve().parents[1]
AUDIO_6KB = base64.b64encode(os.urandom(4800)).decode()


@dataclass
class Peer:
    process: subprocess.Popen[bytes]
    url: str
    db_path: str | None = None
    notes: list[str] = field(default_factory=list)

    def collect(self, pipe: Any) -> None:
        for raw in pipe:
            self.notes.append(raw.decode(errors="replace").rstrip())

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def writer_pid(self) -> int | None:
        """rtrec's writer process: the relay's child (None for a bare relay)."""
        pid = self.process.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            return None
        return children[0] if children else None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU of one process (not its children)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int | None, field: str = "VmRSS") -> float:
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _spawn(
    args: list[str], env: dict[str, str] | None = None, port_from_stderr: bool = False
) -> Peer:
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    stream = process.stderr if port_from_stderr else process.stdout
    assert stream is not None
    line = stream.readline().decode()
    if port_from_stderr:
        url = line.split("relaying ", 1)[1].split()[0]
    else:
        url = f"ws://127.0.0.1:{int(line)}"
    peer = Peer(process, url)
    # Read whatever else it says, so that a full pipe never blocks it; keep the notes.
    for pipe in (process.stdout, process.stderr):
        threading.Thread(target=peer.collect, args=(pipe,), daemon=True).start()
    return peer


def start_echo() -> Peer:
    return _spawn(["-m", "bench.peers", "echo", "--loop", "uvloop"])


def start_bare(upstream: str, loop: str) -> Peer:
    return _spawn(["-m", "bench.peers", "relay", "--upstream", upstream, "--loop", loop])


def start_rtrec(upstream: str, loop: str, workdir: str) -> Peer:
    db_path = os.path.join(workdir, f"relay-{loop}-{time.monotonic_ns()}.db")
    peer = _spawn(
        [
            "-m",
            "rtrec",
            "record",
            "--db",
            db_path,
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            upstream,
        ],
        env={"RTREC_LOOP": loop},
        port_from_stderr=True,
    )
    peer.db_path = db_path
    return peer


# -- measurements (client side, in this process) ----------------------------------------


async def rtt_small(url: str, count: int) -> list[float]:
    """Round trips of small frames, one at a time, in microseconds."""
    times = []
    async with connect(url + "/v1/realtime", compression=None) as ws:
        for i in range(count + 50):
            frame = f'{{"type":"response.create","event_id":"e{i}"}}'
            start = time.perf_counter_ns()
            await ws.send(frame)
            await ws.recv()
            if i >= 50:  # warm-up
                times.append((time.perf_counter_ns() - start) / 1000)
    return times


async def throughput(url: str, count: int) -> float:
    """6 KB audio frames per second through the round trip, pipelined."""
    frame = '{"type":"input_audio_buffer.append","audio":"' + AUDIO_6KB + '"}'
    async with connect(url + "/v1/realtime", compression=None, max_size=None) as ws:

        async def sender() -> None:
            for _ in range(count):
                await ws.send(frame)

        start = time.perf_counter()
        task = asyncio.create_task(sender())
        for _ in range(count):
            await ws.recv()
        await task
        return count / (time.perf_counter() - start)


async def load(url: str, sessions: int, seconds: float) -> tuple[list[float], int, int]:
    """Concurrent sessions streaming audio like a call.

    The client appends every 20–100 ms for the whole call; the server answers 40% of
    the appends with a delta of the same audio (the assistant talks part of the time).
    Returns the answered round trips (µs), appends sent, and deltas received.
    """
    latencies: list[float] = []
    sent = received = 0
    deadline = time.monotonic() + seconds

    async def one(index: int) -> None:
        nonlocal sent, received
        rng = random.Random(index)
        pending: dict[str, int] = {}
        async with connect(url + "/v1/realtime", compression=None, max_size=None) as ws:

            async def reader() -> None:
                nonlocal received
                async for message in ws:
                    at = time.perf_counter_ns()
                    marker = message[-30:]
                    event_id = marker[marker.index('"event_id":"') + 12 : -2]
                    sent_at = pending.pop(event_id, None)
                    if sent_at is not None:
                        latencies.append((at - sent_at) / 1000)
                    received += 1

            read_task = asyncio.create_task(reader())
            await asyncio.sleep(rng.uniform(0, 0.1))
            n = 0
            while time.monotonic() < deadline:
                ms = rng.randint(20, 100)
                audio = AUDIO_6KB[: ms * 48 * 4 // 3 // 4 * 4]
                event_id = f"s{index}n{n}"
                n += 1
                if rng.random() < 0.4:
                    pending[event_id] = time.perf_counter_ns()
                    tail = f'","event_id":"{event_id}"}}'
                else:
                    tail = f'","event_id":"{event_id}","quiet":1}}'
                await ws.send('{"type":"input_audio_buffer.append","audio":"' + audio + tail)
                sent += 1
                await asyncio.sleep(ms / 1000)
            while pending:
                await asyncio.sleep(0.01)
            read_task.cancel()

    await asyncio.gather(*(one(i) for i in range(sessions)))
    return latencies, sent, received


def run_client(coro: Any) -> Any:
    """The load's clients run on uvloop, so the harness takes less of the machine."""
    import uvloop

    return uvloop.run(coro)


def recorded(peer: Peer, expected: int, patience: float = 10.0) -> tuple[int, int]:
    """Frames in the database and in spill files, once the writer has caught up."""
    assert peer.db_path is not None
    last, still = -1, time.monotonic()
    while True:
        in_db = recorded_frames(peer.db_path)
        if in_db + spilled_frames(peer) >= expected or time.monotonic() - still > patience:
            break
        if in_db != last:
            last, still = in_db, time.monotonic()
        time.sleep(0.2)
    return in_db, spilled_frames(peer)


def spilled_frames(peer: Peer) -> int:
    assert peer.db_path is not None
    spilled = 0
    for path in glob.glob(peer.db_path + "-spill-*.jsonl"):
        with open(path, "rb") as f:
            spilled += sum(1 for line in f if line.startswith(b'{"session"'))
    return spilled


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def recorded_frames(db_path: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT count(*) FROM event").fetchone()[0]


# -- the run -----------------------------------------------------------------------------

CONFIGS = ("direct", "bare/asyncio", "bare/uvloop", "rtrec/asyncio", "rtrec/uvloop")


def run(quick: bool) -> list[Result]:
    rounds = 2 if quick else 5
    small_count = 300 if quick else 1500
    tp_count = 1000 if quick else 5000
    load_sessions = 50 if quick else 200
    load_seconds = 5.0 if quick else 30.0

    workdir = tempfile.mkdtemp(prefix="rtrec-bench-relay-")
    echo = start_echo()
    peers: dict[str, Peer | None] = {"direct": None}
    try:
        peers["bare/asyncio"] = start_bare(echo.url, "asyncio")
        peers["bare/uvloop"] = start_bare(echo.url, "uvloop")
        peers["rtrec/asyncio"] = start_rtrec(echo.url, "asyncio", workdir)
        peers["rtrec/uvloop"] = start_rtrec(echo.url, "uvloop", workdir)

        def url_of(config: str) -> str:
            peer = peers[config]
            return echo.url if peer is None else peer.url

        p50: dict[str, list[float]] = {c: [] for c in CONFIGS}
        p99: dict[str, list[float]] = {c: [] for c in CONFIGS}
        tput: dict[str, list[float]] = {c: [] for c in CONFIGS}
        for _ in range(rounds):
            order = list(CONFIGS)
            random.shuffle(order)
            for config in order:
                times = asyncio.run(rtt_small(url_of(config), small_count))
                p50[config].append(statistics.median(times))
                p99[config].append(percentile(times, 99))
                tput[config].append(asyncio.run(throughput(url_of(config), tp_count)))

        med = {c: statistics.median(p50[c]) for c in CONFIGS}
        med99 = {c: statistics.median(p99[c]) for c in CONFIGS}
        medtp = {c: statistics.median(tput[c]) for c in CONFIGS}
        added = {c: med[c] - med["direct"] for c in CONFIGS}
        added99 = {c: med99[c] - med99["direct"] for c in CONFIGS}

        results: list[Result] = []
        for c in CONFIGS:
            results.append(Result(NAME, f"round trip p50 {c}", med[c], "µs"))
        for c in CONFIGS:
            results.append(Result(NAME, f"round trip p99 {c}", med99[c], "µs"))
        for loop in ("asyncio", "uvloop"):
            results.append(
                Result(
                    NAME,
                    f"added latency p50 rtrec/{loop}",
                    added[f"rtrec/{loop}"],
                    "µs",
                    baseline=added[f"bare/{loop}"],
                    baseline_name=f"bare/{loop}",
                    target="<= 1.1x",
                    met=added[f"rtrec/{loop}"] <= 1.1 * added[f"bare/{loop}"],
                )
            )
            results.append(
                Result(
                    NAME,
                    f"added latency p99 rtrec/{loop}",
                    added99[f"rtrec/{loop}"],
                    "µs",
                    baseline=added99[f"bare/{loop}"],
                    baseline_name=f"bare/{loop}",
                    target="<= 1.3x",
                    met=added99[f"rtrec/{loop}"] <= 1.3 * added99[f"bare/{loop}"],
                )
            )
        results.append(
            Result(
                NAME,
                "added latency p50 rtrec/uvloop vs bare/asyncio",
                added["rtrec/uvloop"],
                "µs",
                baseline=added["bare/asyncio"],
                baseline_name="bare/asyncio",
                target="<= 1.0x",
                met=added["rtrec/uvloop"] <= added["bare/asyncio"],
            )
        )
        for c in CONFIGS:
            baseline = medtp["bare/" + c.split("/")[1]] if c.startswith("rtrec") else None
            results.append(
                Result(
                    NAME,
                    f"6KB frames/s {c}",
                    medtp[c],
                    "frames/s",
                    baseline=baseline,
                    baseline_name="bare, same loop" if baseline else "",
                    target=">= 0.9x" if baseline else "",
                    met=(medtp[c] >= 0.9 * baseline) if baseline else None,
                )
            )

        # Concurrent realistic sessions: each relay on its own, one after the other.
        load_p99: dict[str, float] = {}
        load_cpu: dict[str, float] = {}
        load_rss: dict[str, float] = {}
        for config in ("direct", "bare/uvloop", "rtrec/uvloop", "bare/asyncio", "rtrec/asyncio"):
            peer = peers[config]
            writer = peer.writer_pid() if peer is not None and peer.db_path else None
            cpu_before = peer.cpu_seconds() if peer else 0.0
            writer_before = cpu_seconds(writer)
            before = recorded_frames(peer.db_path) if peer and peer.db_path else 0
            spilled_before = spilled_frames(peer) if peer and peer.db_path else 0
            start = time.monotonic()
            latencies, sent, answered = run_client(
                load(url_of(config), load_sessions, load_seconds)
            )
            elapsed = time.monotonic() - start
            load_p99[config] = percentile(latencies, 99)
            note = (
                f"{load_sessions} sessions, {load_seconds:.0f} s, {sent} appends, {answered} deltas"
            )
            if peer is None:
                results.append(Result(NAME, "load: round trip p99 direct", load_p99[config], "µs"))
                continue
            loop = config.split("/")[1]
            bare = f"bare/{loop}"
            load_cpu[config] = (peer.cpu_seconds() - cpu_before) / elapsed * 100
            relay_rss = rss_mib(peer.process.pid)
            if peer.db_path:
                writer_cpu = (cpu_seconds(writer) - writer_before) / elapsed * 100
                writer_rss = rss_mib(writer)
                note += (
                    f"; relay process {load_cpu[config]:.0f}% of a core, {relay_rss:.0f} MiB; "
                    f"writer process {writer_cpu:.0f}% of a core, {writer_rss:.0f} MiB"
                )
                in_db, spilled = recorded(peer, before + spilled_before + sent + answered)
                spilled -= spilled_before
                kept = in_db - before + spilled
                note += f"; recorded {kept}/{sent + answered} frames ({spilled} via the spill file)"
                lost = [n for n in peer.notes if "LOST" in n]
                if lost:
                    note += f"; {lost[0]}"
                results += [
                    Result(
                        NAME,
                        f"load: frames recorded {config}",
                        kept,
                        "frames",
                        baseline=sent + answered,
                        baseline_name="frames sent",
                        target="= 1.0x",
                        met=kept == sent + answered,
                        note=note,
                    ),
                    Result(
                        NAME,
                        f"load: round trip p99 {config}",
                        load_p99[config],
                        "µs",
                        baseline=load_p99[bare],
                        baseline_name=bare,
                        target="<= 1.3x",
                        met=load_p99[config] <= 1.3 * load_p99[bare],
                        note=note,
                    ),
                    Result(
                        NAME,
                        f"load: relay process CPU {config}",
                        load_cpu[config],
                        "% of a core",
                        baseline=load_cpu[bare],
                        baseline_name=bare,
                        target="<= 1.15x",
                        met=load_cpu[config] <= 1.15 * load_cpu[bare],
                    ),
                    Result(NAME, f"load: writer process CPU {config}", writer_cpu, "% of a core"),
                    Result(
                        NAME,
                        f"load: relay process RSS {config}",
                        relay_rss,
                        "MiB",
                        baseline=load_rss[bare],
                        baseline_name=bare,
                    ),
                    Result(NAME, f"load: writer process RSS {config}", writer_rss, "MiB"),
                ]
            else:
                load_rss[config] = relay_rss
                note += f"; relay {load_cpu[config]:.0f}% of a core, {relay_rss:.0f} MiB"
                results += [
                    Result(
                        NAME,
                        f"load: round trip p99 {config}",
                        load_p99[config],
                        "µs",
                        baseline=load_p99["direct"],
                        baseline_name="direct",
                        note=note,
                    ),
                    Result(NAME, f"load: relay CPU {config}", load_cpu[config], "% of a core"),
                    Result(NAME, f"load: relay RSS {config}", relay_rss, "MiB"),
                ]
        return results
    finally:
        for peer in peers.values():
            if peer is not None:
                peer.stop()
        echo.stop()
