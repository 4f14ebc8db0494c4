"""export-parquet of the 1 h benchmark call: speed against a plain read, bytes against SQLite.

The call is bench/storage.py's realistic hour (microphone appends every 20–100 ms,
the assistant speaking about 40% of the time, turns with VAD, transcripts and usage,
incompressible audio), written through rtrec's row encoding and projected.  Each
export runs as `rtrec export-parquet` in its own process into a fresh directory,
timed end to end (best of three), with its peak RSS.  Baseline, same run, measured
the same way: a plain sqlite3 read of the same rows, every view of the session
(events in pages by seq; bench/parquet_read.py), in a child process.  The same two
are also timed in this process, alternating, without the cost of starting Python and
importing pyarrow (about half a second).  A call four times as long is exported
too, to show the peak RSS does not grow with the number of events.  Sizes: the
dataset's Parquet bytes per recorder-hour, without and with --with-audio, against the
SQLite file's.
"""

from __future__ import annotations

import base64
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import storage
from bench.common import Result
from bench.export_wav import _measure
from bench.parquet_read import plain_read
from rtrec.store.db import open_db
from rtrec.store.projection import catch_up

NAME = "parquet"
DESCRIPTION = "export-parquet of the 1 h call: events/s vs a plain read; bytes vs SQLite"


def _fresh_audio(frame: str) -> str:
    """The frame with its audio replaced by new random bytes of the same length.

    storage.py cuts every chunk from one buffer of noise, which a compressor with a
    window (zstd, in Parquet) would find again chunk after chunk; real audio has no such
    repeats, so each chunk here is its own noise.
    """
    for key in ('"audio": "', '"delta":"'):
        start = frame.find(key)
        if start >= 0 and "audio" in frame[:60]:
            start += len(key)
            end = frame.index('"', start)
            size = (end - start) // 4 * 3 - frame[start:end].count("=")
            noise = base64.b64encode(os.urandom(size)).decode()
            return frame[:start] + noise + frame[end:]
    return frame


def _generate(db_path: str, seconds: float) -> int:
    """The realistic call in db_path, projected and checkpointed; its event count."""
    frames = [(t, d, _fresh_audio(f)) for t, d, f in storage.realistic_session(seconds)]
    storage.write(db_path, frames, compact=True)
    conn = open_db(db_path)
    catch_up(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return len(frames)


def _dataset_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.parquet"))


def _export(db_path: str, out: Path, flags: tuple[str, ...], repeats: int) -> tuple[float, float]:
    """(best seconds, peak MiB) of export-parquet into a fresh `out` each time."""
    best_s, peak_mib = float("inf"), 0.0
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        args = [sys.executable, "-m", "bench.peak", "export-parquet", "--db", db_path]
        elapsed, rss = _measure([*args, "--out", str(out), "--recorder", "bench", *flags], 1)
        best_s, peak_mib = min(best_s, elapsed), max(peak_mib, rss)
    return best_s, peak_mib


def _in_process(db_path: str, out: Path, repeats: int) -> tuple[float, float]:
    """(best export seconds, best plain-read seconds), alternating, in this process."""
    from rtrec.fleet.export import ExportOptions, export_dataset

    best_export = best_read = float("inf")
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        export_dataset(db_path, ExportOptions(out_dir=out, recorder="bench"))
        best_export = min(best_export, time.perf_counter() - started)
        started = time.perf_counter()
        plain_read(db_path, 1)
        best_read = min(best_read, time.perf_counter() - started)
    shutil.rmtree(out, ignore_errors=True)
    return best_export, best_read


def run(quick: bool) -> list[Result]:
    seconds = 600.0 if quick else 3600.0
    repeats = 1 if quick else 3
    label = f"{seconds / 60:.0f} min" if quick else "1 h"
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="rtrec-bench-parquet-") as tmp:
        root = Path(tmp)
        db_path = str(root / "call.db")
        events = _generate(db_path, seconds)
        db_bytes = os.path.getsize(db_path)
        per_hour = 3600 / seconds
        base_s, base_rss = _measure(
            [sys.executable, "-m", "bench.parquet_read", db_path, "1"], repeats
        )
        work_s, read_s = _in_process(db_path, root / "ds-in-process", repeats)
        results.append(
            Result(
                NAME,
                f"export speed in process, {label} call",
                events / work_s,
                "events/s",
                baseline=events / read_s,
                baseline_name="plain read of the same rows, in process",
                note=f"best of {repeats}: {work_s:.2f} s vs {read_s:.2f} s, no process start",
            )
        )
        sizes: dict[str, int] = {}
        for variant, flags in (("", ()), (" --with-audio", ("--with-audio",))):
            out = root / f"ds{variant.strip()}"
            wall_s, rss = _export(db_path, out, flags, repeats)
            sizes[variant] = _dataset_bytes(out)
            args = [sys.executable, "-m", "bench.peak", "export-parquet", "--db", db_path]
            rerun_s, _ = _measure([*args, "--out", str(out), "--recorder", "bench", *flags], 1)
            results += [
                Result(
                    NAME,
                    f"export speed, {label} call{variant}",
                    events / wall_s,
                    "events/s",
                    baseline=events / base_s,
                    baseline_name="plain read of the same rows",
                    note=f"{events:,} events; best of {repeats}: {wall_s:.2f} s vs "
                    f"{base_s:.2f} s, process start included",
                ),
                Result(
                    NAME,
                    f"re-run with nothing new, {label} call{variant}",
                    rerun_s * 1000,
                    "ms",
                    baseline=wall_s * 1000,
                    baseline_name="the first export",
                    note="process start included",
                ),
                Result(
                    NAME,
                    f"export peak RSS, {label} call{variant}",
                    rss,
                    "MiB",
                    baseline=base_rss,
                    baseline_name="plain read of the same rows",
                ),
                Result(
                    NAME,
                    f"dataset bytes per recorder-hour{variant}",
                    sizes[variant] * per_hour / 1e6,
                    "MB/h",
                    baseline=db_bytes * per_hour / 1e6,
                    baseline_name="the SQLite file",
                ),
            ]
        shutil.rmtree(root / "ds", ignore_errors=True)
        shutil.rmtree(root / "ds--with-audio", ignore_errors=True)
        # Flat memory: a call four times as long, exported the same way.
        long_db = str(root / "long.db")
        long_events = _generate(long_db, seconds * 4)
        os.remove(db_path)
        _, long_rss = _export(long_db, root / "long", (), 1)
        short_rss = min(r.value for r in results if r.metric == f"export peak RSS, {label} call")
        results.append(
            Result(
                NAME,
                f"export peak RSS, 4x the {label} call",
                long_rss,
                "MiB",
                baseline=short_rss,
                baseline_name=f"the {label} call",
                note=f"{long_events:,} events",
                # Flat once a call fills a row group (8 MiB of rows): an hour does, --quick's
                # ten minutes do not, so the target is for the full run only.
                # 4x the events; the allocator's high-water mark wanders by about 10 MiB.
                target="" if quick else "<= 1.25x (flat in session length)",
                met=None if quick else long_rss <= 1.25 * short_rss,
            )
        )
    return results
