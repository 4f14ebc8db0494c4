"""The store's read API: a session's row, its sequence bounds and counts, the list."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from rtrec.store.connections import Connection
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.overview import latest_session_id, session_count, session_rows
from rtrec.store.reader import (
    count_events,
    first_seq_from,
    iter_frames,
    last_seq,
    max_seq,
    resolve_session,
    session_ref,
)
from rtrec.store.reading import open_reader
from rtrec.store.recorded import recorded_session

LINES = [
    (0.0, "server", {"type": "session.created", "session": {"type": "realtime"}}),
    (0.5, "client", {"type": "input_audio_buffer.commit"}),
    (0.5, "server", {"type": "input_audio_buffer.committed", "item_id": "i1"}),
    (1.0, "client", {"type": "response.create"}),
]


@pytest.fixture
def four(db_path: str) -> Iterator[tuple[int, Connection]]:
    """A session of four events, imported, and a reader's connection to it."""
    conn = open_db(db_path)
    try:
        lines = [json.dumps({"t": t, "dir": d, "event": e}) for t, d, e in LINES]
        sid = int(import_jsonl(conn, lines, source_name="four").db_id or 0)
    finally:
        conn.close()
    reader = open_reader(db_path)
    yield sid, reader
    reader.close()


def test_bounds_and_counts_of_a_session(four):
    sid, conn = four
    seqs = [frame.seq for frame in iter_frames(conn, sid)]
    assert len(seqs) == 4
    assert max_seq(conn, sid) == last_seq(conn, sid) == seqs[-1]
    assert max_seq(conn, sid + 1) is None and last_seq(conn, sid + 1) == 0
    half_s = 500_000_000
    assert first_seq_from(conn, sid, half_s) == seqs[1]
    assert first_seq_from(conn, sid, half_s, inclusive=False) == seqs[3]
    assert first_seq_from(conn, sid, 2 * half_s + 1) is None
    assert count_events(conn, sid) == 4
    assert count_events(conn, sid, direction="client") == 2
    assert count_events(conn, sid, from_seq=seqs[1], until_seq=seqs[2]) == 2
    assert count_events(conn, sid, from_seq=seqs[1], direction="server") == 1


def test_a_sessions_row_and_the_list(four):
    sid, conn = four
    ref = session_ref(conn, sid)
    assert ref is not None and ref == resolve_session(conn, "last")
    assert session_ref(conn, sid + 1) is None
    recorded = recorded_session(conn, ref)
    assert recorded.event_count == 4
    assert recorded.protocol == "realtime"
    assert recorded.request_headers == {}
    assert recorded.label == f"session {sid} ({ref.uuid[:8]})"
    assert [row["session_id"] for row in session_rows(conn)] == [sid]
    assert session_rows(conn)[0]["event_count"] == 4
    assert session_count(conn) == 1
    assert latest_session_id(conn, "import") == sid
    assert latest_session_id(conn, "demo") is None
