"""Ingest: what rtrec's writer process sustains against the ceiling of plain sqlite3.

Frames are handed to a writer process through the relay's own hand-off (WriterLink,
from this process's event loop, as the relay does) as fast as it takes them; the time
runs from the first frame handed off to the commit of the last.  The writer process
does all the rest: reading the pipe, turning frames into rows (envelope, audio
compaction and its proof, scrubbing), batching, committing.  The ceiling is the same
rows (exactly the rows the writer produces) inserted with one `sqlite3.executemany` in
one transaction into a fresh database with the same schema.  A third line shows the
naive alternative: the raw frames as rows, uncompacted.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
import tempfile
import time

from bench.common import Result
from rtrec.capture.writer_link import WriterLink
from rtrec.store.db import open_db
from rtrec.store.session import LiveSession
from rtrec.store.writer import INSERT_EVENT, event_rows

NAME = "ingest"
DESCRIPTION = "writer events/s and MB/s vs plain sqlite3.executemany of the same rows"


def control_frames(count: int) -> list[str]:
    return [
        json.dumps(
            {
                "type": "response.output_audio_transcript.delta",
                "event_id": f"event_{i:021d}",
                "response_id": "resp_E6U0xfWhN878XBMhc0LKn",
                "item_id": "item_E6U0xWSFIFri2uw2kTLLq",
                "output_index": 0,
                "content_index": 0,
                "delta": " word",
                "obfuscation": "kX1yigxefJb",
            },
            separators=(",", ":"),
        )
        for i in range(count)
    ]


def audio_frames(count: int) -> list[str]:
    chunk = base64.b64encode(os.urandom(4800)).decode()  # 100 ms of 24 kHz pcm16
    return [
        json.dumps(
            {
                "type": "response.output_audio.delta",
                "event_id": f"event_{i:021d}",
                "response_id": "resp_E6U0xfWhN878XBMhc0LKn",
                "item_id": "item_E6U0xWSFIFri2uw2kTLLq",
                "output_index": 0,
                "content_index": 0,
                "delta": chunk,
            },
            separators=(",", ":"),
        )
        for i in range(count)
    ]


def fresh_db(workdir: str, name: str) -> str:
    path = os.path.join(workdir, f"{name}-{time.monotonic_ns()}.db")
    open_db(path).close()
    return path


async def through_writer(db_path: str, frames: list[str]) -> float:
    # A buffer that holds the whole run: this measures the database path, not the spill.
    writer = WriterLink(db_path, spill_reserve_bytes=0, max_pending_bytes=1 << 31, project=False)
    await writer.start()
    session = LiveSession(source="bench")
    writer.open_session(session)
    assert await writer.flush()
    # Handed off all at once, then timed: the writer process's pace, not this loop's.
    for i, frame in enumerate(frames):
        writer.append_at(session, "server", frame, i * 1000, i)
    start = time.perf_counter()
    assert await writer.flush()
    elapsed = time.perf_counter() - start  # every event committed, as for the ceiling
    await writer.close()
    return elapsed


def ceiling(db_path: str, rows: list[tuple[object, ...]]) -> float:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "INSERT INTO session (id, uuid, source, started_at, started_ns) "
        "VALUES (1, 'u', 'b', 'x', 0)"
    )
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(INSERT_EVENT, rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def run(quick: bool) -> list[Result]:
    count = {"control": 20_000 if quick else 100_000, "audio": 5_000 if quick else 30_000}
    workdir = tempfile.mkdtemp(prefix="rtrec-bench-ingest-")
    results: list[Result] = []
    for kind, make in (("control", control_frames), ("audio", audio_frames)):
        frames = make(count[kind])
        megabytes = sum(len(f) for f in frames) / 1e6
        session = LiveSession(source="bench")
        session.db_id = 1
        rows = list(
            event_rows((session, i, i * 1000, i, "server", f) for i, f in enumerate(frames))
        )
        raw_rows = [
            (1, i, i * 1000, i, "server", r[5], r[6], r[7], r[8], 0, f, None, None)
            for i, (r, f) in enumerate(zip(rows, frames, strict=True))
        ]
        writer_s = min(
            asyncio.run(through_writer(fresh_db(workdir, "w"), frames)) for _ in range(2)
        )
        ceiling_s = min(ceiling(fresh_db(workdir, "c"), rows) for _ in range(2))
        raw_s = ceiling(fresh_db(workdir, "r"), raw_rows)
        n = len(frames)
        results += [
            Result(
                NAME,
                f"{kind} events/s, writer",
                n / writer_s,
                "ev/s",
                baseline=n / ceiling_s,
                baseline_name="executemany, same rows",
                target=">= 0.8x",
                met=ceiling_s / writer_s >= 0.8,
                note=f"{n} frames, {megabytes:.0f} MB of frames",
            ),
            Result(
                NAME,
                f"{kind} frame MB/s, writer",
                megabytes / writer_s,
                "MB/s",
                baseline=megabytes / ceiling_s,
                baseline_name="executemany, same rows",
            ),
            Result(
                NAME,
                f"{kind} events/s, raw frames as rows",
                n / raw_s,
                "ev/s",
                baseline=n / ceiling_s,
                baseline_name="executemany, same rows",
                note="the naive design: no compaction",
            ),
        ]
    return results
