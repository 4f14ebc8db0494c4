"""Projection throughput on a long generated session, next to a plain read of its events.

The session is what a long voice call looks like in the log: per turn, the user's
audio in 40 ms appends, VAD and commit events, transcription deltas, a response
streaming 100 ms audio deltas with transcript deltas between them, and the done
events.  Figures, all from the same run and the same database:

- plain read: the session's rows read in pages (all columns, as the event table
  holds them), the baseline;
- exact frames: `iter_frames`, the read replay and export use (frames rebuilt);
- reproject: fold + write of every projection row, events/s, target <= 3x the
  plain read's time;
- fold only: the pure projector over rows already in memory;
- catch-up at the end of the long session: ms to fold and write the last 50 events,
  with the state in memory (the recorder's follower) and loaded from the tables;
- relay round trips with and without the follower (bench/projector_relay.py).
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator

from bench import projector_relay
from bench.common import Result
from rtrec.projector import EventRow, Projector, SessionState
from rtrec.store import projection
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.paging import FOLD_PAGE_ROWS
from rtrec.store.reader import iter_frames

NAME = "projector"
DESCRIPTION = "projection throughput (events/s) on a long session vs a plain read of it"

QUESTION = "What's the weather like?"
APPEND_MS = 40
DELTA_MS = 100


def _pcm(ms: int) -> str:
    return base64.b64encode(bytes(48 * ms)).decode()


def generate(turns: int) -> Iterator[str]:
    """JSONL lines (rtrec's format) of a call with `turns` spoken turns."""
    append, delta = _pcm(APPEND_MS), _pcm(DELTA_MS)
    clock = iter(range(10**9))

    def client(kind: str, **fields: object) -> str:
        return json.dumps(
            {"t": next(clock) * 0.004, "dir": "client", "event": {"type": kind, **fields}}
        )

    def server(kind: str, **fields: object) -> str:
        return json.dumps(
            {"t": next(clock) * 0.004, "dir": "server", "event": {"type": kind, **fields}}
        )

    pcm24 = {"type": "audio/pcm", "rate": 24000}
    audio = {"input": {"format": pcm24, "turn_detection": {"type": "server_vad"}},
             "output": {"format": pcm24, "voice": "marin"}}  # fmt: skip
    yield server("session.created", session={"model": "gpt-realtime", "audio": audio})
    previous = None
    for n in range(turns):
        user, rid, reply = f"item_u{n}", f"resp_{n}", f"item_a{n}"
        # 3.4 s of user audio with VAD around it, committed as a user item.
        yield from (client("input_audio_buffer.append", audio=append) for _ in range(75))
        yield server("input_audio_buffer.speech_started", item_id=user, audio_start_ms=n * 3000)
        yield from (client("input_audio_buffer.append", audio=append) for _ in range(10))
        yield server(
            "input_audio_buffer.speech_stopped", item_id=user, audio_end_ms=n * 3000 + 2500
        )
        yield server("input_audio_buffer.committed", item_id=user, previous_item_id=previous)
        said = {"id": user, "type": "message", "role": "user", "status": "completed",
                "content": [{"type": "input_audio", "transcript": None}]}  # fmt: skip
        yield server("conversation.item.added", previous_item_id=previous, item=said)
        yield server("conversation.item.done", previous_item_id=previous, item=said)
        yield server("response.created", response={"id": rid, "conversation_id": "conv_1"})
        for word in ("What's", " the", " weather", " like?"):
            yield server("conversation.item.input_audio_transcription.delta",
                         item_id=user, content_index=0, delta=word)  # fmt: skip
        yield server("conversation.item.input_audio_transcription.completed",
                     item_id=user, content_index=0, transcript=QUESTION)  # fmt: skip
        # 4 s of assistant audio, a transcript word every other delta.
        out = {"id": reply, "type": "message", "role": "assistant", "content": []}
        where = {"response_id": rid, "item_id": reply, "output_index": 0, "content_index": 0}
        yield server("response.output_item.added", response_id=rid, output_index=0, item=out)
        yield server("conversation.item.added", previous_item_id=user, item=out)
        yield server(
            "response.content_part.added", **where, part={"type": "audio", "transcript": ""}
        )
        words = [f" word{k}" for k in range(20)]
        for word in words:
            yield server("response.output_audio_transcript.delta", **where, delta=word)
            yield server("response.output_audio.delta", **where, delta=delta)
            yield server("response.output_audio.delta", **where, delta=delta)
        text = "".join(words)
        yield server("response.output_audio.done", **where)
        yield server("response.output_audio_transcript.done", **where, transcript=text)
        done = {
            **out,
            "status": "completed",
            "content": [{"type": "output_audio", "transcript": text}],
        }
        yield server("conversation.item.done", previous_item_id=None, item=done)
        yield server("response.output_item.done", response_id=rid, output_index=0, item=done)
        usage = {"total_tokens": 300, "input_tokens": 200, "output_tokens": 100}
        yield server("response.done", response={"id": rid, "status": "completed",
                                                "conversation_id": "conv_1", "output": [done],
                                                "usage": usage})  # fmt: skip
        yield server("rate_limits.updated", rate_limits=[{"name": "tokens", "remaining": n}])
        previous = reply


EVENTS_PER_TURN = sum(1 for _ in generate(1)) - 1


def _plain_read(conn: sqlite3.Connection, session_id: int) -> int:
    count, last = 0, -1
    while True:
        rows = conn.execute(
            "SELECT seq, t_ns, wall_ns, direction, type, event_id, item_id, response_id, flags, "
            "frame, audio, audio_at FROM event WHERE session_id = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (session_id, last, FOLD_PAGE_ROWS),
        ).fetchall()
        count += len(rows)
        if len(rows) < FOLD_PAGE_ROWS:
            return count
        last = rows[-1][0]


def _timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(quick: bool) -> list[Result]:
    turns = 60 if quick else 620  # 620 turns: just over 100k events
    with tempfile.TemporaryDirectory() as tmp:
        db_path = os.path.join(tmp, "long.db")
        conn = open_db(db_path)
        session = import_jsonl(conn, generate(turns), source_name="generated", project=False)
        sid = session.db_id
        assert sid is not None
        events = session.next_seq

        plain_s, count = _timed(lambda: _plain_read(conn, sid))
        assert count == events
        frames_s, _ = _timed(lambda: sum(1 for _ in iter_frames(conn, sid)), repeat=1)
        reproject_s, folded = _timed(lambda: projection.reproject(conn, [sid]))
        assert folded == events

        rows = [
            EventRow._make(r) for r in conn.execute(projection.SELECT_EVENTS, (sid, -1, events + 1))
        ]

        def fold_only() -> None:
            Projector(SessionState(session_id=sid)).apply_all(rows)

        fold_s, _ = _timed(fold_only)

        # Catch-up cost at the end of the long session: the last 50 events.
        tail = 50
        tracked = projection.fresh(conn, sid, replace=True)
        tracked.projector.apply_all(rows[:-tail])
        projection.write(conn, tracked)
        started = time.perf_counter()
        tracked, _ = projection.advance(conn, tracked)
        tail_memory_ms = (time.perf_counter() - started) * 1000
        conn.execute(
            "UPDATE projected_session SET last_seq = last_seq - ? WHERE session_id = ?",
            (tail, sid),
        )  # pretend the last 50 events are new again, for a process starting cold
        reload_s, _ = _timed(lambda: projection.load(conn, sid), repeat=1)
        conn.close()

    rate = events / reproject_s
    results = [
        Result(NAME, "plain read", events / plain_s, "events/s", note=f"{events:,} events"),
        Result(
            NAME,
            "exact frames (iter_frames)",
            events / frames_s,
            "events/s",
            baseline=events / plain_s,
            baseline_name="plain read",
        ),
        Result(
            NAME,
            "reproject (fold + write)",
            rate,
            "events/s",
            baseline=events / plain_s,
            baseline_name="plain read",
            target=">= 0.33x plain read (within 3x its time)",
            met=reproject_s <= 3 * plain_s,
            note=f"{reproject_s / plain_s:.2f}x the plain read's time",
        ),
        Result(
            NAME,
            "fold only (rows in memory)",
            events / fold_s,
            "events/s",
            baseline=events / plain_s,
            baseline_name="plain read",
        ),
        Result(
            NAME,
            f"catch-up of {tail} events at the end, state in memory",
            tail_memory_ms,
            "ms",
            note=f"after {events - tail:,} events",
        ),
        Result(
            NAME, "state reload from the tables", reload_s * 1000, "ms", note=f"{turns * 2} items"
        ),
    ]
    return results + relay_results(quick)


def relay_results(quick: bool) -> list[Result]:
    figures = projector_relay.measure(quick)
    on, off = figures["on"], figures["off"]
    note = (
        f"{figures['load']}; follower thread CPU {on['cpu_share']:.1%} of wall time, "
        f"folding {on['folded_per_s']:,.0f} events/s; {on['count']:,.0f} round trips"
    )
    return [
        Result(
            NAME,
            "relay round trip p50, follower on",
            on["p50_ms"],
            "ms",
            baseline=off["p50_ms"],
            baseline_name="follower off",
            note=note,
        ),
        Result(
            NAME,
            "relay round trip p99, follower on",
            on["p99_ms"],
            "ms",
            baseline=off["p99_ms"],
            baseline_name="follower off",
        ),
    ]
