"""Storage: bytes on disk per hour of a realistic audio session, against the raw frames.

The session is generated (deterministically): the client streams microphone audio
for the whole hour in appends every 20–100 ms, spelled as the openai SDK spells them;
the assistant speaks about 40% of the time in audio deltas of 40–200 ms with
transcript deltas alongside, compact JSON with ids, as the API sends them; each turn
brings its VAD, item, transcription and response events.  It is written through
rtrec's own row encoding in 50 ms-sized transactions, checkpointed, and every frame
is read back and compared with what was written.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sqlite3
import tempfile
from collections.abc import Iterator

from bench.common import Result
from rtrec.store.db import open_db, transaction
from rtrec.store.reader import iter_frames
from rtrec.store.session import INSERT_SESSION, LiveSession
from rtrec.store.writer import INSERT_EVENT, event_rows

NAME = "storage"
DESCRIPTION = "bytes on disk per hour of a realistic audio session vs raw frame bytes"

RATE_BYTES_PER_MS = 48  # 24 kHz pcm16


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for _ in range(21)
    )


def realistic_session(seconds: float, seed: int = 7) -> Iterator[tuple[int, str, str]]:
    """(t_ns, direction, frame) in time order."""
    rng = random.Random(seed)
    noise = os.urandom(200 * RATE_BYTES_PER_MS)  # audio does not compress; neither does this
    events: list[tuple[int, str, str]] = []
    t_ms = 0.0
    while t_ms < seconds * 1000:
        ms = rng.randint(20, 100)
        audio = base64.b64encode(noise[: ms * RATE_BYTES_PER_MS]).decode()
        events.append(
            (
                int(t_ms * 1e6),
                "client",
                json.dumps({"type": "input_audio_buffer.append", "audio": audio}),
            )
        )
        t_ms += ms
    t_ms = 2000.0
    while t_ms < seconds * 1000:
        user_ms, reply_ms = rng.uniform(2000, 8000), rng.uniform(3000, 12000)
        item, resp, reply = _id(rng, "item_"), _id(rng, "resp_"), _id(rng, "item_")
        turn = [
            ("input_audio_buffer.speech_started", {"audio_start_ms": int(t_ms), "item_id": item}),
            (
                "input_audio_buffer.speech_stopped",
                {"audio_end_ms": int(t_ms + user_ms), "item_id": item},
            ),
            ("input_audio_buffer.committed", {"previous_item_id": None, "item_id": item}),
            (
                "conversation.item.added",
                {
                    "previous_item_id": None,
                    "item": {
                        "id": item,
                        "type": "message",
                        "status": "completed",
                        "role": "user",
                        "content": [{"type": "input_audio", "transcript": None}],
                    },
                },
            ),
            (
                "response.created",
                {
                    "response": {
                        "object": "realtime.response",
                        "id": resp,
                        "status": "in_progress",
                        "output": [],
                        "usage": None,
                    }
                },
            ),
            (
                "conversation.item.input_audio_transcription.completed",
                {"item_id": item, "content_index": 0, "transcript": "hello " * 12},
            ),
        ]
        at = t_ms + user_ms
        for kind, body in turn:
            events.append((int(at * 1e6), "server", _server(rng, kind, body)))
            at += 5
        spoken = 0.0
        while spoken < reply_ms:
            ms = rng.randint(40, 200)
            where = {"response_id": resp, "item_id": reply, "output_index": 0, "content_index": 0}
            events.append(
                (
                    int(at * 1e6),
                    "server",
                    _server(
                        rng,
                        "response.output_audio_transcript.delta",
                        {**where, "delta": " word", "obfuscation": "kX1yigxefJb"},
                    ),
                )
            )
            audio = base64.b64encode(noise[: ms * RATE_BYTES_PER_MS]).decode()
            events.append(
                (
                    int(at * 1e6) + 1,
                    "server",
                    _server(rng, "response.output_audio.delta", {**where, "delta": audio}),
                )
            )
            spoken += ms
            at += ms / 4  # the API sends audio faster than real time
        events.append(
            (
                int(at * 1e6),
                "server",
                _server(
                    rng,
                    "response.done",
                    {
                        "response": {
                            "object": "realtime.response",
                            "id": resp,
                            "status": "completed",
                            "output": [
                                {
                                    "id": reply,
                                    "type": "message",
                                    "role": "assistant",
                                    "content": [
                                        {"type": "output_audio", "transcript": "word " * 40}
                                    ],
                                }
                            ],
                            "usage": {
                                "total_tokens": 900,
                                "input_tokens": 400,
                                "output_tokens": 500,
                            },
                        }
                    },
                ),
            )
        )
        t_ms += user_ms + reply_ms + rng.uniform(500, 3000)  # about 40% assistant audio
    events.sort(key=lambda e: e[0])
    yield from events


def _server(rng: random.Random, kind: str, body: dict[str, object]) -> str:
    return json.dumps({"type": kind, "event_id": _id(rng, "event_"), **body}, separators=(",", ":"))


def write(db_path: str, frames: list[tuple[int, str, str]], compact: bool) -> None:
    conn = open_db(db_path)
    session = LiveSession(source="bench")
    with transaction(conn):
        session.db_id = conn.execute(INSERT_SESSION, session.insert_values()).lastrowid
    batch: list[tuple[object, ...]] = []
    for seq, (t_ns, direction, frame) in enumerate(frames):
        item = (session, seq, t_ns, t_ns, direction, frame)
        row = next(event_rows([item]))
        if not compact:  # the naive layout: the frame as sent, nothing else
            row = (*row[:9], 0, frame, None, None)
        batch.append(row)
        if len(batch) == 400:
            with transaction(conn):
                conn.executemany(INSERT_EVENT, batch)
            batch.clear()
    with transaction(conn):
        conn.executemany(INSERT_EVENT, batch)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def run(quick: bool) -> list[Result]:
    seconds = 600.0 if quick else 3600.0
    frames = list(realistic_session(seconds))
    raw = sum(len(frame.encode()) for _, _, frame in frames)
    workdir = tempfile.mkdtemp(prefix="rtrec-bench-storage-")
    sizes = {}
    for compact in (True, False):
        path = os.path.join(workdir, f"{'rtrec' if compact else 'naive'}.db")
        write(path, frames, compact)
        sizes[compact] = os.path.getsize(path)
    with sqlite3.connect(os.path.join(workdir, "rtrec.db")) as conn:
        back = [f.frame for f in iter_frames(conn, 1)]
    exact = back == [frame for _, _, frame in frames]
    per_hour = 3600 / seconds
    audio_share = (
        sum(len(f) for _, _, f in frames if '"audio"' in f or "output_audio.delta" in f) / raw
    )
    note = (
        f"{seconds / 60:.0f} min generated, {len(frames)} frames, {raw / 1e6:.0f} MB of frames "
        f"({audio_share:.0%} audio frames); every frame read back exactly: {exact}"
    )
    return [
        Result(
            NAME,
            "disk bytes per hour, rtrec",
            sizes[True] * per_hour / 1e6,
            "MB/h",
            baseline=raw * per_hour / 1e6,
            baseline_name="raw frame bytes",
            target="<= 0.8x",
            met=sizes[True] <= 0.8 * raw and exact,
            note=note,
        ),
        Result(
            NAME,
            "disk bytes per hour, frames kept whole",
            sizes[False] * per_hour / 1e6,
            "MB/h",
            baseline=raw * per_hour / 1e6,
            baseline_name="raw frame bytes",
            note="the naive layout, for comparison",
        ),
    ]
