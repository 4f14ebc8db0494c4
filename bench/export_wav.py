"""export-wav on a generated session: speed as a multiple of real time, and peak memory.

The session is one hour (or four) of a full-duplex call: the user's microphone appends
100 ms of pcm16 24 kHz every 100 ms, and the assistant answers in 10 s responses of
100 ms deltas, all written through the real row encoding (`event_rows`).  Each export
runs as `rtrec export-wav` in its own process, timed end to end (best of three, after
writing back dirty pages), with its peak RSS from wait4().  The baseline, in the same
run and measured the same way: a plain read of the same audio blobs from SQLite written
to two WAV files with soundfile.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from bench import peak
from bench.common import Result
from rtrec.store.db import open_db, transaction
from rtrec.store.session import INSERT_SESSION, UPDATE_SESSION, LiveSession
from rtrec.store.writer import INSERT_EVENT, PendingEvent, event_rows

NAME = "export_wav"
DESCRIPTION = "export-wav of a generated call (both sides, 100 ms chunks) vs raw read + write"

RATE = 24000
CHUNK_MS = 100
RESPONSE_S = 10
TARGET_SPEED = 1000.0

BASELINE = textwrap.dedent(
    """
    import sqlite3, sys
    import soundfile
    db, session_id, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    conn = sqlite3.connect(db)
    files = {
        d: soundfile.SoundFile(f"{out}/{d}.wav", "w", samplerate=24000, channels=1,
                               subtype="PCM_16")
        for d in ("client", "server")
    }
    last = -1
    while True:
        rows = conn.execute(
            "SELECT seq, direction, audio FROM event WHERE session_id = ? AND seq > ? "
            "AND audio IS NOT NULL ORDER BY seq LIMIT 512", (session_id, last)).fetchall()
        for seq, direction, audio in rows:
            files[direction].buffer_write(audio, dtype="int16")
        if len(rows) < 512:
            break
        last = rows[-1][0]
    for f in files.values():
        f.close()
    from bench.peak import MARKER, peak_kib
    print(MARKER, peak_kib(), file=sys.stderr)
    """
)


def _frames(seconds: int) -> Iterator[tuple[int, str, str]]:
    """(t_ns, direction, frame) of the generated call, in time order."""
    step_ns = CHUNK_MS * 1_000_000
    samples_per_chunk = RATE * CHUNK_MS // 1000
    # A few seconds of audio, cycled: generating an hour of it would dominate the setup.
    rng = np.random.default_rng(1)
    pool = (rng.normal(0, 3000, RATE * 7).clip(-32768, 32767).astype("<i2")).tobytes()
    chunk_bytes = samples_per_chunk * 2
    slots = len(pool) // chunk_bytes
    encoded = [
        base64.b64encode(pool[i * chunk_bytes : (i + 1) * chunk_bytes]).decode()
        for i in range(slots)
    ]
    yield (
        1_000_000,
        "server",
        (
            '{"type":"session.created","event_id":"event_0","session":{"type":"realtime",'
            '"audio":{"input":{"format":{"type":"audio/pcm","rate":24000}},'
            '"output":{"format":{"type":"audio/pcm","rate":24000}}}}}'
        ),
    )
    chunks = seconds * 1000 // CHUNK_MS
    per_response = RESPONSE_S * 1000 // CHUNK_MS
    for n in range(chunks):
        t_ns = (n + 1) * step_ns
        yield (
            t_ns,
            "client",
            (
                f'{{"type":"input_audio_buffer.append","event_id":"evt_{n}",'
                f'"audio":"{encoded[n % slots]}"}}'
            ),
        )
        response = n // per_response
        if n % per_response == 0:
            yield (
                t_ns,
                "server",
                (
                    f'{{"type":"response.created","event_id":"event_c{response}",'
                    f'"response":{{"id":"resp_{response}","status":"in_progress"}}}}'
                ),
            )
        yield (
            t_ns + step_ns // 2,
            "server",
            (
                f'{{"type":"response.output_audio.delta","event_id":"event_d{n}",'
                f'"response_id":"resp_{response}","item_id":"item_{response}","output_index":0,'
                f'"content_index":0,"delta":"{encoded[(n * 7) % slots]}"}}'
            ),
        )
        if n % per_response == per_response - 1:
            yield (
                t_ns + step_ns // 2,
                "server",
                (
                    f'{{"type":"response.done","event_id":"event_e{response}",'
                    f'"response":{{"id":"resp_{response}","status":"completed"}}}}'
                ),
            )


def generate_session(
    db_path: str, seconds: int, frames: Iterable[tuple[int, str, str]] | None = None
) -> int:
    """Write a generated call of `seconds` into db_path; returns its session id.

    `frames` (t_ns, direction, frame) replaces this module's own call (bench/view's has turns).
    """
    conn = open_db(db_path)
    session = LiveSession(source="import")

    def pending() -> Iterator[PendingEvent]:
        for t_ns, direction, frame in frames if frames is not None else _frames(seconds):
            seq = session.next_seq
            session.next_seq += 1
            yield (session, seq, t_ns, session.started_ns + t_ns, direction, frame)

    with transaction(conn):
        session.db_id = conn.execute(INSERT_SESSION, session.insert_values()).lastrowid
        conn.executemany(INSERT_EVENT, event_rows(pending()))
        session.end("imported", session.started_ns + seconds * 1_000_000_000)
        conn.execute(UPDATE_SESSION, session.update_values())
    conn.close()
    assert session.db_id is not None
    return session.db_id


def _measure(args: list[str], repeats: int) -> tuple[float, float]:
    """(best wall seconds, largest peak RSS in MiB) of `repeats` runs of a child process.

    Dirty pages are written back first, so one run does not pay for the previous one's
    (or the generator's) writes.
    """
    best_s, peak_mib = float("inf"), 0.0
    for _ in range(repeats):
        os.sync()
        elapsed, rss = _measure_once(args)
        best_s, peak_mib = min(best_s, elapsed), max(peak_mib, rss)
    return best_s, peak_mib


def _measure_once(args: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{args} failed: {stderr}")
    # The child reports its own peak (bench/peak.py): ru_maxrss would include this
    # process's size, which it inherits across fork and exec.
    reported = [line for line in stderr.splitlines() if line.startswith(peak.MARKER)]
    rss_kib = int(reported[-1].split()[-1]) if reported else usage.ru_maxrss
    return elapsed, rss_kib / 1024


def _export(
    db_path: str, session_id: int, out: Path, flags: tuple[str, ...], repeats: int
) -> tuple[float, float]:
    args = [sys.executable, "-m", "bench.peak", "export-wav", str(session_id), "--db", db_path]
    return _measure([*args, "--out", str(out), *flags], repeats)


def _baseline(db_path: str, session_id: int, out: Path, repeats: int) -> tuple[float, float]:
    out.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-c", BASELINE, db_path, str(session_id), str(out)]
    return _measure(args, repeats)


def run(quick: bool) -> list[Result]:
    short_s, long_s = (360, 1440) if quick else (3600, 4 * 3600)
    repeats = 1 if quick else 3
    label = {short_s: _label(short_s), long_s: _label(long_s)}
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="rtrec-bench-wav-") as tmp:
        root = Path(tmp)
        peak: dict[tuple[int, str], float] = {}
        for seconds in (short_s, long_s):
            db_path = str(root / f"call-{seconds}.db")
            started = time.perf_counter()
            session_id = generate_session(db_path, seconds)
            setup_s = time.perf_counter() - started
            print(f"   generated {label[seconds]} call in {setup_s:.1f} s", flush=True)
            base_s, base_rss = _baseline(db_path, session_id, root / f"raw-{seconds}", repeats)
            variants: tuple[tuple[str, tuple[str, ...]], ...] = (
                ("tracks", ()),
                ("tracks+timeline", ("--timeline",)),
            )
            for variant, flags in variants:
                out = root / f"out-{seconds}-{variant}"
                wall_s, rss = _export(db_path, session_id, out, flags, repeats)
                peak[(seconds, variant)] = rss
                speed = seconds / wall_s
                # The target is for calls of an hour or more; on shorter ones the ~0.4 s
                # of process start-up alone caps the figure (--quick).
                targeted = seconds >= 3600
                results.append(
                    Result(
                        NAME,
                        f"speed, {label[seconds]} call, {variant}",
                        speed,
                        "x real time",
                        baseline=seconds / base_s,
                        baseline_name="raw blob read + soundfile write",
                        target=f">= {TARGET_SPEED:.0f}x" if targeted else "",
                        met=speed >= TARGET_SPEED if targeted else None,
                        note=f"best of {repeats}: {wall_s:.2f} s, process start included",
                    )
                )
                results.append(
                    Result(
                        NAME,
                        f"peak RSS, {label[seconds]} call, {variant}",
                        rss,
                        "MiB",
                        baseline=base_rss,
                        baseline_name="raw blob read + soundfile write",
                    )
                )
                _remove_tree(out)
            _remove_tree(root / f"raw-{seconds}")
            os.remove(db_path)
        for variant in ("tracks", "tracks+timeline"):
            short_rss, long_rss = peak[(short_s, variant)], peak[(long_s, variant)]
            results.append(
                Result(
                    NAME,
                    f"peak RSS {label[long_s]} vs {label[short_s]}, {variant}",
                    long_rss,
                    "MiB",
                    baseline=short_rss,
                    baseline_name=f"{label[short_s]} call",
                    target="<= 1.1x (flat in session length)",
                    met=long_rss <= 1.1 * short_rss,
                )
            )
    return results


def _label(seconds: int) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds // 60} min"


def _remove_tree(path: Path) -> None:
    if path.exists():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
