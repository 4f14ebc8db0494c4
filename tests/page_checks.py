"""What a person checks on a session page, against the SQL views (for view and ui tests)."""

from __future__ import annotations

import sqlite3
from typing import Any

from rtrec.replay.selection import TypeFilter
from rtrec.store.reading import open_reader
from tests.browser import Watched, wait_ready

# Patterns a reader would type: a prefix, a glob, an exclusion, and both together.
FILTERS = ("response", "*.done", "!input_audio_buffer.append", "session.*,!session.update*")


def sql_rows(db_path: str, query: str, *params: Any) -> list[sqlite3.Row]:
    # Through rtrec's own read-only opening: it creates no -wal/-shm file, and the ui tests
    # check that nothing appears beside the database.
    conn = open_reader(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def expected_label(latency_ms: float | None) -> str:
    """The rule README states: whole milliseconds, rounded to nearest; 'no reply' when none."""
    return "no reply" if latency_ms is None else f"{round(latency_ms)} ms"


def check_turn_marks(watched: Watched, db_path: str, session_id: int) -> None:
    page = watched.page
    turns = sql_rows(
        db_path, "SELECT turn, latency_ms FROM turns WHERE session_id = ? ORDER BY turn", session_id
    )
    assert page.locator(".turn-mark").count() == len(turns)
    labels = page.locator(".turn-mark .turn-label").all_text_contents()
    assert labels == [expected_label(t["latency_ms"]) for t in turns]


def expected_starts(db_path: str, session_id: int) -> dict[str, float]:
    """Where the views say speech started: a user turn's speech_started_ms, and an assistant
    message's first audio (its response's first_audio_ms)."""
    starts = {
        r["item_id"]: r["speech_started_ms"]
        for r in sql_rows(
            db_path,
            "SELECT item_id, speech_started_ms FROM turns WHERE session_id = ? "
            "AND speech_started_ms IS NOT NULL",
            session_id,
        )
    }
    for r in sql_rows(
        db_path,
        "SELECT i.item_id, r.first_audio_ms FROM items i JOIN responses r "
        "ON r.session_id = i.session_id AND r.response_id = i.response_id "
        "WHERE i.session_id = ? AND i.role = 'assistant' AND i.audio_ms > 0 "
        "AND r.first_audio_ms IS NOT NULL",
        session_id,
    ):
        starts[r["item_id"]] = r["first_audio_ms"]
    return starts


def check_transcript_seeks(watched: Watched, db_path: str, session_id: int) -> int:
    """Clicks transcript lines; the player (and the audio, where there is sound) moves to each
    line's start.  Returns how many lines were clicked."""
    page = watched.page
    lines = page.locator(".transcript .line")
    count = lines.count()
    items = sql_rows(
        db_path, "SELECT item_id FROM items WHERE session_id = ? ORDER BY ordinal", session_id
    )
    assert count == len(items)
    assert [lines.nth(i).get_attribute("data-item-id") for i in range(count)] == [
        r["item_id"] for r in items
    ]
    known = expected_starts(db_path, session_id)
    clicked = 0
    # The last line first: the player must move backwards as well as forwards.
    for i in sorted({count - 1, 0, count // 2} if count else set(), reverse=True):
        line = lines.nth(i)
        start_text = line.get_attribute("data-start")
        if not start_text:
            continue
        start = float(start_text)
        item_id = line.get_attribute("data-item-id")
        if item_id in known:
            assert abs(start - known[item_id]) < 1e-6, item_id
        line.click()
        state = page.evaluate(
            "() => { const p = window.rtrecPage.player; return {ms: p.currentMs,"
            " audioMs: p.audioMs, audio: p.hasAudio ? p.audios.map(a => a.currentTime) : null}; }"
        )
        expected = min(start, page.evaluate("() => window.rtrecPage.model.extent_ms"))
        assert abs(state["ms"] - expected) < 0.5, (item_id, state, start)
        if state["audio"] is not None and start < state["audioMs"]:
            # Both tracks, the user's and the assistant's, are where the line was said.
            for seconds in state["audio"]:
                assert abs(seconds * 1000 - start) < 0.5, (item_id, state, start)
        clicked += 1
    return clicked


def check_event_filter(watched: Watched, db_path: str, session_id: int) -> None:
    from playwright.sync_api import expect

    page = watched.page
    types = [
        r["type"]
        for r in sql_rows(db_path, "SELECT type FROM events WHERE session_id = ?", session_id)
    ]
    box = page.locator("#event-filter")
    for text in FILTERS:
        chosen = TypeFilter.parse([text])
        expected = sum(chosen.accepts(t) for t in types)
        box.fill(text)
        expect(page.locator("#event-count")).to_have_text(f"({expected:,} of {len(types):,})")
        shown = page.locator("#event-log .ev-row").evaluate_all(
            "rows => rows.map(r => r.dataset.type)"
        )
        assert len(shown) <= expected and bool(shown) == bool(expected), (text, shown)
        assert all(chosen.accepts(t or None) for t in shown), (text, shown)
    box.fill("")
    expect(page.locator("#event-count")).to_have_text(f"({len(types):,})")


def check_header(watched: Watched, db_path: str, session_id: int) -> None:
    page = watched.page
    (session,) = sql_rows(db_path, "SELECT * FROM sessions WHERE session_id = ?", session_id)
    facts = dict(
        zip(
            page.locator(".facts [data-fact]").evaluate_all("fs => fs.map(f => f.dataset.fact)"),
            page.locator(".facts dd").all_text_contents(),
            strict=True,
        )
    )
    assert facts["model"] == (session["model"] or "-")
    assert facts["end_reason"] == (session["end_reason"] or "still recording")
    columns = set(session.keys())  # a sqlite3.Row: `in` looks at values, not names
    if session["total_tokens"] is not None and "usage_seconds" not in columns:
        assert facts["usage"].startswith(f"{session['total_tokens']:,} token")
    assert facts["turns"] == str(
        len(sql_rows(db_path, "SELECT 1 FROM turns WHERE session_id = ?", session_id))
    )


def check_session_page(watched: Watched, db_path: str, session_id: int) -> None:
    wait_ready(watched.page)
    check_header(watched, db_path, session_id)
    check_turn_marks(watched, db_path, session_id)
    check_transcript_seeks(watched, db_path, session_id)
    check_event_filter(watched, db_path, session_id)
    assert watched.errors == []
