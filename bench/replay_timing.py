"""Replay timing: how close `rtrec replay` keeps to its schedule over a long session.

A session of 10,000+ events (audio appends and deltas, transcripts, the usual
response events; bursty gaps) is generated into a fresh database and replayed with
the real player (JSONL sink to /dev/null) at speed 1, 2 and 10.  Each event's error
is when it was emitted minus when the schedule said (origin + offset).  The baseline,
measured in the same run on the same frames, is the naive loop that sleeps the gap
since the previous event: its error accumulates, the one-origin player's does not,
which the first and last tenth of the session show.  The "timer floor"
rows wait for the same schedule doing nothing else: the event loop's and the busy
machine's own jitter, which no player can beat.  One more set of rows times the mock
server (`--serve`) as its client sees it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Result
from rtrec.aio import loop_name
from rtrec.aio import run as run_loop
from rtrec.jsonl import encode_line
from rtrec.replay.clock import now_ns, sleep_until
from rtrec.replay.feed import Feed
from rtrec.replay.player import JsonlSink, play
from rtrec.replay.selection import Selection
from rtrec.replay.source import ReplaySource
from rtrec.replay.timeline import Timeline
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl

NAME = "replay_timing"
DESCRIPTION = "replay timing error vs schedule (one origin) against a sleep-per-gap loop"

EVENTS = 10_000
SESSION_S = 40.0  # recorded length: 250 events/s, a few times denser than a real call
QUICK_EVENTS = 2_000
QUICK_SESSION_S = 4.0
SPEEDS = (1.0, 2.0, 10.0)
SERVE_SPEEDS = (2.0, 10.0)
TARGET_ABOVE_FLOOR_MS = 5.0  # "a few milliseconds" beyond what the machine itself adds


def generate_session(db_path: str, events: int, length_s: float, seed: int = 7) -> int:
    """A voice-agent-like session: mostly audio, bursty, with pauses; returns its id."""
    rng = random.Random(seed)
    chunk = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(1920))).decode()
    gaps = []
    for _ in range(events - 1):
        roll = rng.random()
        if roll < 0.25:
            gaps.append(0.0)  # bursts: several events in the same instant
        elif roll < 0.98:
            gaps.append(rng.uniform(0.0005, 0.003))
        else:
            gaps.append(rng.uniform(0.02, 0.15))  # pauses between turns
    scale = length_s / sum(gaps)
    lines = []
    t = 0.0
    for i in range(events):
        if i:
            t += gaps[i - 1] * scale
        lines.append(_event_line(i, t, rng, chunk))
    conn = open_db(db_path)
    try:
        return int(import_jsonl(conn, lines, source_name="bench").db_id or 0)
    finally:
        conn.close()


def _event_line(i: int, t: float, rng: random.Random, chunk: str) -> str:
    roll = rng.random()
    if roll < 0.4:
        direction, event = "client", {"type": "input_audio_buffer.append", "audio": chunk}
    elif roll < 0.8:
        direction = "server"
        event = {"type": "response.output_audio.delta", "event_id": f"e{i}", "delta": chunk}
    elif roll < 0.95:
        direction = "server"
        event = {
            "type": "response.output_audio_transcript.delta",
            "event_id": f"e{i}",
            "item_id": "item_1",
            "delta": " word",
        }
    else:
        direction, event = "server", {"type": "rate_limits.updated", "event_id": f"e{i}"}
    return encode_line(round(t * 1e9), direction, json.dumps(event, separators=(",", ":")))


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def summarise(errors_ms: list[float]) -> dict[str, float]:
    tenth = max(1, len(errors_ms) // 10)
    ordered = sorted(errors_ms)
    first, last = sorted(errors_ms[:tenth]), sorted(errors_ms[-tenth:])
    return {
        "p50": percentile(ordered, 0.5),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1],
        # Growth along the session: the first tenth of the events against the last.
        "p50 first tenth": percentile(first, 0.5),
        "p50 last tenth": percentile(last, 0.5),
        "p99 first tenth": percentile(first, 0.99),
        "p99 last tenth": percentile(last, 0.99),
    }


async def one_origin(source: ReplaySource, speed: float) -> list[float]:
    errors: list[float] = []

    def note(frame: object, due_ns: int) -> None:
        errors.append((now_ns() - due_ns) / 1e6)

    with open(os.devnull, "w", encoding="utf-8") as null:
        await play(source, JsonlSink(null), speed=speed, on_emitted=note)
    return errors


async def sleep_per_gap(source: ReplaySource, speed: float) -> list[float]:
    """The naive player: sleep each gap after the previous event, then emit."""
    errors: list[float] = []
    timeline = Timeline(speed)
    conn = source.connect()
    feed = Feed(source.window_reader(conn))
    origin_ns: int | None = None
    previous_offset = 0
    with open(os.devnull, "w", encoding="utf-8") as null:
        sink = JsonlSink(null)
        while (frame := feed.next()) is not None:
            offset = timeline.offset_ns(frame.t_ns)
            if origin_ns is None:
                origin_ns = now_ns()
            feed.top_up(now_ns() + offset - previous_offset)
            await asyncio.sleep((offset - previous_offset) / 1e9)
            previous_offset = offset
            sink.emit(frame)
            errors.append(abs(now_ns() - (origin_ns + offset)) / 1e6)
    conn.close()
    return errors


def schedule_of(source: ReplaySource, speed: float, direction: str | None = None) -> list[int]:
    """Offsets of the session's events (of one direction, if given), all events timed."""
    conn = source.connect()
    timeline = Timeline(speed)
    offsets = []
    for frame in source.frames(conn):
        offset = timeline.offset_ns(frame.t_ns)
        if direction is None or frame.direction == direction:
            offsets.append(offset)
    conn.close()
    return offsets


async def timer_floor(offsets: list[int]) -> list[float]:
    """The same schedule with nothing read or emitted: the loop's and the machine's own jitter."""
    errors = []
    origin_ns = now_ns()
    for offset in offsets:
        await sleep_until(origin_ns + offset)
        errors.append((now_ns() - (origin_ns + offset)) / 1e6)
    return errors


async def served(db_path: str, session: int, source: ReplaySource, speed: float) -> list[float]:
    """`rtrec replay --serve` in its own process; each server frame's arrival at a client,
    against the schedule."""
    from websockets.asyncio.client import connect

    offsets = schedule_of(source, speed, "server")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rtrec", "replay", str(session), "--db", db_path,
        "--serve", "127.0.0.1:0", "--speed", f"{speed:g}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    match = re.search(r"ws://\S+", (await proc.stdout.readline()).decode())
    if match is None:
        proc.kill()
        raise RuntimeError("rtrec replay --serve printed no URL")
    arrivals: list[int] = []
    try:
        async with connect(match.group(0) + "/realtime", max_size=None, compression=None) as ws:
            for _ in offsets:
                await ws.recv()
                arrivals.append(now_ns())
    finally:
        await proc.wait()
    # The server never sends early, so the smallest arrival-minus-offset is the origin
    # (plus the loopback hop); each frame's error is how much later than that it came.
    lags = [at - offset for at, offset in zip(arrivals, offsets, strict=True)]
    base = min(lags)
    return [(lag - base) / 1e6 for lag in lags]


def _results(
    label: str,
    speed: float,
    ours: list[float],
    naive: list[float] | None,
    *,
    metrics: tuple[str, ...] = ("p50", "p99", "max", "p50 first tenth", "p50 last tenth"),
    floor_p99: float | None = None,
) -> list[Result]:
    """Rows for one measurement; the p99 target allows TARGET_ABOVE_FLOOR_MS over the
    machine's own timer jitter measured in the same run (a busy machine's floor is not
    the player's doing)."""
    mine = summarise(ours)
    theirs = summarise(naive) if naive is not None else {}
    rows = []
    for metric in metrics:
        value = mine[metric]
        goal, met = "", None
        if metric == "p99" and floor_p99 is not None:
            limit = floor_p99 + TARGET_ABOVE_FLOOR_MS
            goal = f"<= floor+{TARGET_ABOVE_FLOOR_MS:g} ({limit:.1f} ms)"
            met = value <= limit
        rows.append(
            Result(
                benchmark=NAME,
                metric=f"{label} speed {speed:g}: {metric} error",
                value=value,
                unit="ms",
                baseline=theirs.get(metric),
                baseline_name="sleep per gap" if naive is not None else "",
                target=goal,
                met=met,
                note=f"{len(ours)} events, loop {loop_name()}, load {os.getloadavg()[0]:.2f}",
            )
        )
    return rows


def run_bench(quick: bool, say: Callable[[str], None] = print) -> list[Result]:
    events = QUICK_EVENTS if quick else EVENTS
    length_s = QUICK_SESSION_S if quick else SESSION_S
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="rtrec-bench-") as tmp:
        db_path = str(Path(tmp) / "bench.db")
        started = time.monotonic()
        session = generate_session(db_path, events, length_s)
        say(f"   generated {events} events ({length_s:g} s) in {time.monotonic() - started:.1f} s")
        source = ReplaySource.open(db_path, str(session), Selection())
        for speed in SPEEDS:
            floor = run_loop(timer_floor(schedule_of(source, speed)))
            floor_p99 = summarise(floor)["p99"]
            results += _results("timer floor", speed, floor, None, metrics=("p99",))
            ours = run_loop(one_origin(source, speed))
            naive = run_loop(sleep_per_gap(source, speed))
            results += _results("player", speed, ours, naive, floor_p99=floor_p99)
            say(
                f"   speed {speed:g}: p99 {summarise(ours)['p99']:.2f} ms "
                f"(sleep per gap: {summarise(naive)['p99']:.1f} ms; "
                f"timer floor {floor_p99:.2f} ms)"
            )
        for speed in SERVE_SPEEDS:
            floor_p99 = summarise(run_loop(timer_floor(schedule_of(source, speed, "server"))))[
                "p99"
            ]
            arrivals = run_loop(served(db_path, session, source, speed))
            results += _results(
                "serve (client side)",
                speed,
                arrivals,
                None,
                metrics=("p50", "p99", "max"),
                floor_p99=floor_p99,
            )
            say(f"   serve speed {speed:g}: p99 {summarise(arrivals)['p99']:.2f} ms")
    return results


def run(quick: bool) -> list[Result]:
    return run_bench(quick)
