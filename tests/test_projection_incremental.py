"""Incremental projection equals a rebuild from scratch, event for event.

Events are copied one at a time (or in random batches) from a source database into a
second one, and the second is caught up after each copy, as a live recording would
be.  Its projection tables must end up identical, row for row, to `reproject` on the
source.  Two ways of catching up are checked: reloading the state from the tables
every time (what `rtrec show` after a crash does) and keeping it in memory (what the
recorder's follower does).
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from rtrec.jsonl import encode_line
from rtrec.store import projection
from rtrec.store.db import open_db
from rtrec.store.frames import decode_frame
from rtrec.store.importer import import_jsonl, restore_spill
from tests.conftest import REAL_SESSIONS, run_cli
from tests.projection_helpers import dump_projection, pcm


def _tricky_session() -> list[dict]:
    """Inserts in the middle, deletions and a re-add, errors, an out-of-band response."""

    def msg(item_id: str, text: str, role: str = "user") -> dict:
        kind = "input_text" if role == "user" else "output_text"
        return {
            "id": item_id,
            "type": "message",
            "role": role,
            "content": [{"type": kind, "text": text}],
        }

    def added(item: dict, previous: str | None) -> dict:
        return {"type": "conversation.item.added", "previous_item_id": previous, "item": item}

    events: list[dict] = [
        {"type": "session.created", "session": {"model": "m", "audio": {"output": {"voice": "a"}}}},
        {"type": "conversation.item.create", "event_id": "e1", "item": msg("a", "one")},
        added(msg("a", "one"), None),
        added(msg("b", "two"), "a"),
        added(msg("c", "three"), "b"),
        added(msg("x", "between"), "a"),
        {
            "type": "conversation.item.create",
            "event_id": "e2",
            "previous_item_id": "root",
            "item": msg("s", "sys", "system"),
        },
        added(msg("s", "sys", "system"), None),
        {"type": "conversation.item.delete", "event_id": "e3", "item_id": "b"},
        {"type": "conversation.item.deleted", "item_id": "b"},
        {"type": "conversation.item.delete", "event_id": "e4", "item_id": "zz"},
        {
            "type": "error",
            "error": {"code": "item_not_found", "message": "no zz", "event_id": "e4"},
        },
        added(msg("b", "two again"), "s"),
        {"type": "input_audio_buffer.append", "audio": pcm(120)},
        {"type": "input_audio_buffer.speech_started", "item_id": "u", "audio_start_ms": 0},
        {"type": "input_audio_buffer.speech_stopped", "item_id": "u", "audio_end_ms": 100},
        {"type": "input_audio_buffer.committed", "item_id": "u", "previous_item_id": "c"},
        {"type": "response.create", "event_id": "e5", "response": {"conversation": "none"}},
        {"type": "response.created", "response": {"id": "oob", "conversation_id": None}},
        {
            "type": "response.output_item.added",
            "response_id": "oob",
            "item": {"id": "o", "type": "message", "role": "assistant"},
        },
        {
            "type": "response.output_text.delta",
            "response_id": "oob",
            "item_id": "o",
            "content_index": 0,
            "delta": "side",
        },
        {
            "type": "response.done",
            "response": {"id": "oob", "status": "completed", "usage": {"total_tokens": 3}},
        },
        {"type": "response.created", "response": {"id": "r", "conversation_id": "conv"}},
        {
            "type": "response.output_item.added",
            "response_id": "r",
            "item": {"id": "y", "type": "message", "role": "assistant"},
        },
        added({"id": "y", "type": "message", "role": "assistant", "content": []}, "u"),
        {
            "type": "response.output_audio_transcript.delta",
            "response_id": "r",
            "item_id": "y",
            "content_index": 0,
            "delta": "Hi",
        },
        {
            "type": "response.output_audio.delta",
            "response_id": "r",
            "item_id": "y",
            "content_index": 0,
            "delta": pcm(300),
        },
        {
            "type": "conversation.item.truncate",
            "event_id": "e6",
            "item_id": "y",
            "content_index": 0,
            "audio_end_ms": 100,
        },
        {
            "type": "conversation.item.truncated",
            "item_id": "y",
            "content_index": 0,
            "audio_end_ms": 100,
        },
        {
            "type": "response.done",
            "response": {
                "id": "r",
                "status": "cancelled",
                "status_details": {"reason": "client_cancelled"},
            },
        },
        {"type": "rate_limits.updated", "rate_limits": [{"name": "tokens", "remaining": 1}]},
        {"type": "ping"},
        {"type": "session.updated", "session": {"audio": {"output": {"voice": "b"}}}},
    ]
    return events


def _write_tricky(path: Path) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in _tricky_session()))
    return path


def _sources() -> list[Path]:
    return sorted(REAL_SESSIONS.glob("*.jsonl"))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, int]]:
    """Every real session and the tricky one, imported and rebuilt from scratch."""
    base = tmp_path_factory.mktemp("incremental")
    db_path = str(base / "source.db")
    conn = open_db(db_path)
    ids = {}
    for path in [*_sources(), _write_tricky(base / "tricky.jsonl")]:
        with path.open("rb") as lines:
            ids[path.stem] = import_jsonl(conn, lines, source_name=path.name).db_id
    projection.reproject(conn)
    conn.close()
    return db_path, ids


def _target(tmp_path: Path, source_path: str, session_id: int) -> sqlite3.Connection:
    conn = open_db(str(tmp_path / "target.db"))
    conn.execute("ATTACH DATABASE ? AS src", (source_path,))
    conn.execute("INSERT INTO session SELECT * FROM src.session WHERE id = ?", (session_id,))
    return conn


def _copy(conn: sqlite3.Connection, session_id: int, first: int, last: int) -> None:
    conn.execute(
        "INSERT INTO event SELECT * FROM src.event WHERE session_id = ? AND seq BETWEEN ? AND ?",
        (session_id, first, last),
    )


def _expected(source_path: str, session_id: int) -> dict:
    conn = sqlite3.connect(source_path)
    try:
        return dump_projection(conn, session_id)
    finally:
        conn.close()


NAMES = [p.stem for p in _sources()] + ["tricky"]


@pytest.mark.parametrize("name", NAMES)
def test_catching_up_after_every_event_with_a_reload_equals_reproject(source, tmp_path, name):
    source_path, ids = source
    sid = ids[name]
    conn = _target(tmp_path, source_path, sid)
    (count,) = conn.execute(
        "SELECT count(*) FROM src.event WHERE session_id = ?", (sid,)
    ).fetchone()
    for seq in range(count):
        _copy(conn, sid, seq, seq)
        projection.catch_up(conn, [sid])  # loads the state from the tables each time
    assert dump_projection(conn, sid) == _expected(source_path, sid)


@pytest.mark.parametrize("name", NAMES)
def test_catching_up_in_random_batches_in_memory_equals_reproject(source, tmp_path, name):
    source_path, ids = source
    sid = ids[name]
    conn = _target(tmp_path, source_path, sid)
    (count,) = conn.execute(
        "SELECT count(*) FROM src.event WHERE session_id = ?", (sid,)
    ).fetchone()
    rng = random.Random(name)
    tracked = projection.load(conn, sid)
    seq = 0
    while seq < count:
        step = rng.choice([1, 1, 2, 3, 7, 20, 60])
        _copy(conn, sid, seq, seq + step - 1)
        seq += step
        tracked, _ = projection.advance(conn, tracked)
    assert dump_projection(conn, sid) == _expected(source_path, sid)


def test_a_second_writer_overtaking_is_detected_and_the_state_reloaded(source, tmp_path):
    source_path, ids = source
    sid = ids["tricky"]
    conn = _target(tmp_path, source_path, sid)
    other = open_db(str(tmp_path / "target.db"))
    _copy(conn, sid, 0, 9)
    follower = projection.load(conn, sid)
    follower, _ = projection.advance(conn, follower)
    _copy(conn, sid, 10, 19)
    projection.catch_up(other, [sid])  # e.g. `rtrec show` while the follower is behind
    _copy(conn, sid, 20, 10_000)
    follower, _ = projection.advance(conn, follower)  # finds its checkpoint moved: reloads
    assert dump_projection(conn, sid) == _expected(source_path, sid)


def test_reproject_command_rebuilds_identical_tables(source, tmp_path):
    source_path, _ = source
    before = dump_projection(sqlite3.connect(source_path))
    result = run_cli("reproject", db_path=source_path)
    assert result.returncode == 0, result.stderr
    assert b"reprojected 12 sessions" in result.stderr
    assert dump_projection(sqlite3.connect(source_path)) == before


def test_projection_rows_of_an_older_projector_version_are_rebuilt(source, tmp_path):
    source_path, ids = source
    sid = ids["tricky"]
    conn = _target(tmp_path, source_path, sid)
    _copy(conn, sid, 0, 10_000)
    projection.catch_up(conn, [sid])
    conn.execute(
        "UPDATE projected_session SET version = 0, events = -1 WHERE session_id = ?", (sid,)
    )
    conn.execute(
        "INSERT INTO projected_item (session_id, item_id, in_conversation, deleted, audio_bytes) "
        "VALUES (?, 'stale', 1, 0, 0)",
        (sid,),
    )
    assert projection.sessions_behind(conn) == [sid]
    projection.catch_up(conn)
    assert dump_projection(conn, sid) == _expected(source_path, sid)


def test_events_restored_from_a_spill_behind_the_checkpoint_trigger_a_rebuild(source, tmp_path):
    """A spill file restored into its session (events before the checkpoint) is not lost."""
    source_path, ids = source
    sid = ids["tricky"]
    conn = _target(tmp_path, source_path, sid)
    _copy(conn, sid, 0, 9)
    _copy(conn, sid, 20, 10_000)  # 10-19 went to the spill file during the recording
    projection.catch_up(conn, [sid])
    uuid, started_ns = conn.execute(
        "SELECT uuid, started_ns FROM session WHERE id = ?", (sid,)
    ).fetchone()
    lines = [json.dumps({"spill_session": {"uuid": uuid}})]
    for seq, t_ns, direction, frame, audio, audio_at in conn.execute(
        "SELECT seq, t_ns, direction, frame, audio, audio_at FROM src.event "
        "WHERE session_id = ? AND seq BETWEEN 10 AND 19",
        (sid,),
    ):
        body = json.loads(encode_line(t_ns, direction, decode_frame(frame, audio, audio_at)))
        lines.append(
            json.dumps({"session": uuid, "seq": seq, "wall_ns": started_ns + t_ns, **body})
        )
    restored = restore_spill(conn, lines, source_name="spill.jsonl")
    assert restored.added == 10
    assert projection.sessions_behind(conn) == [sid]
    projection.catch_up(conn)
    assert dump_projection(conn, sid) == _expected(source_path, sid)
