"""`rtrec view`: the written page, opened from disk in headless Chromium with the network off.

Pages of the demo (a truncation and a tool call), a real Realtime fixture, and real GPT-Live
and Gemini fixtures, each checked the same generic way against the SQL views.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import browser, offline_page, save_screenshot, wait_ready
from tests.conftest import REAL_SESSIONS, run_cli
from tests.page_checks import check_session_page, sql_rows

__all__ = ["browser"]  # the fixture, used by name

# Copied from shared/fixtures/real-sessions (live/ and gemini/ hold real captures).
FIXTURES = {
    "realtime": REAL_SESSIONS / "test_openai_ws__test_tool_call_round.jsonl",
    "live": REAL_SESSIONS / "live" / "live-session.jsonl",
    "gemini": REAL_SESSIONS / "gemini" / "test_google_ws__test_tool_call_round.jsonl",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[str, int, Path]:
    """The demo's session (a tool call and a truncated, cancelled reply), and its page."""
    root = tmp_path_factory.mktemp("view-demo")
    db_path = str(root / "demo.db")
    result = run_cli("demo", db_path=db_path, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    page = root / "demo.html"
    result = run_cli("view", "last", "-o", str(page), db_path=db_path, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    return db_path, 1, page


@pytest.fixture(scope="module")
def fixture_pages(tmp_path_factory) -> dict[str, tuple[str, int, Path]]:
    root = tmp_path_factory.mktemp("view-fixtures")
    db_path = str(root / "fixtures.db")
    pages = {}
    for number, name in enumerate(FIXTURES, 1):
        result = run_cli("import", str(FIXTURES[name]), db_path=db_path)
        assert result.returncode == 0, result.stderr.decode()
        page = root / f"{name}.html"
        result = run_cli("view", str(number), "-o", str(page), db_path=db_path, timeout=300)
        assert result.returncode == 0, result.stderr.decode()
        pages[name] = (db_path, number, page)
    return pages


def _open(browser, page_path: Path):
    watched = offline_page(browser)
    watched.page.goto(page_path.as_uri())
    return watched


def test_demo_page_matches_the_views(browser, demo, tmp_path):
    db_path, session_id, page_path = demo
    watched = _open(browser, page_path)
    check_session_page(watched, db_path, session_id)
    assert watched.requests == []
    save_screenshot(watched.page, tmp_path, "view-demo")
    watched.page.context.close()


@pytest.mark.parametrize("name", list(FIXTURES))
def test_fixture_pages_match_the_views(browser, fixture_pages, name, tmp_path):
    db_path, session_id, page_path = fixture_pages[name]
    watched = _open(browser, page_path)
    check_session_page(watched, db_path, session_id)
    assert watched.requests == []
    save_screenshot(watched.page, tmp_path, f"view-{name}")
    watched.page.context.close()


def test_demo_page_marks_the_truncation_and_the_tool_call(browser, demo):
    db_path, session_id, page_path = demo
    watched = _open(browser, page_path)
    page = watched.page
    wait_ready(page)
    (cut,) = sql_rows(
        db_path,
        "SELECT i.item_id, i.truncated_ms, r.first_audio_ms, r.status FROM items i "
        "JOIN responses r USING (session_id, response_id) "
        "WHERE i.session_id = ? AND i.truncated_ms IS NOT NULL",
        session_id,
    )
    span = page.locator(f".speech.assistant[data-item-id='{cut['item_id']}']")
    assert span.count() == 1
    assert "interrupted" in (span.get_attribute("class") or "")  # the reply was cancelled
    mark = page.locator(".cut-mark")
    assert mark.count() == 1
    assert float(mark.get_attribute("data-seek")) == pytest.approx(
        cut["first_audio_ms"] + cut["truncated_ms"]
    )
    (call,) = sql_rows(db_path, "SELECT * FROM tool_calls WHERE session_id = ?", session_id)
    tool = page.locator(".tl-tool")
    assert tool.count() == 1 and tool.inner_text() == call["name"]
    tip = tool.get_attribute("data-tip") or ""
    assert call["name"] in tip and call["arguments"] in tip and call["output"] in tip
    tool.hover()
    assert call["arguments"] in page.locator("#tooltip").inner_text()
    assert watched.errors == []
    watched.page.context.close()


def test_demo_page_keys_play_pause_and_step(browser, demo):
    _, _, page_path = demo
    watched = _open(browser, page_path)
    page = watched.page
    wait_ready(page)
    page.locator("#zoom-fit").click()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => window.rtrecPage.player.currentMs") == pytest.approx(2000, abs=1)
    page.keyboard.press("Shift+ArrowLeft")
    assert page.evaluate("() => window.rtrecPage.player.currentMs") == pytest.approx(0, abs=1)
    page.keyboard.press("Space")
    page.locator("#play", has_text="❚❚").wait_for()
    page.locator("#clock").filter(has_not_text="0:00.0 /").wait_for()
    # Both tracks play, together: the assistant's follows the user's.
    playing = page.evaluate(
        "() => window.rtrecPage.player.audios.map(a => [!a.paused, a.currentTime])"
    )
    assert [p for p, _ in playing] == [True, True]
    assert abs(playing[0][1] - playing[1][1]) < 0.25
    page.keyboard.press("Space")
    page.locator("#play", has_text="▶").wait_for()
    assert watched.errors == []
    watched.page.context.close()


def test_clicking_an_event_seeks_and_opens_its_json(browser, demo):
    db_path, session_id, page_path = demo
    watched = _open(browser, page_path)
    page = watched.page
    wait_ready(page)
    page.locator("#follow").uncheck()
    page.locator("#event-filter").fill("response.done")
    (done,) = sql_rows(
        db_path,
        "SELECT seq, t_ms, payload FROM events WHERE session_id = ? AND type = 'response.done' "
        "ORDER BY seq LIMIT 1",
        session_id,
    )
    row = page.locator(f"#event-log .ev-row[data-seq='{done['seq']}']")
    row.locator(".ev-head").click()
    assert page.evaluate("() => window.rtrecPage.player.currentMs") == pytest.approx(
        done["t_ms"], abs=0.5
    )
    shown = row.locator(".ev-json")
    shown.filter(has_text='"type": "response.done"').wait_for()
    # An audio frame opens with its audio elided to a byte count, as the events view has it.
    page.locator("#event-filter").fill("input_audio_buffer.append")
    (append,) = sql_rows(
        db_path,
        "SELECT seq, payload FROM events WHERE session_id = ? "
        "AND type = 'input_audio_buffer.append' ORDER BY seq LIMIT 1",
        session_id,
    )
    first = page.locator(f"#event-log .ev-row[data-seq='{append['seq']}']")
    first.locator(".ev-head").click()
    first.locator(".ev-json").filter(has_text='"audio": ').wait_for()
    audio_bytes = json.loads(append["payload"])["audio"]
    assert f'"audio": {audio_bytes}' in first.locator(".ev-json").inner_text()
    assert watched.errors == []
    watched.page.context.close()


def test_view_writes_the_default_name_and_refuses_bad_input(demo, tmp_path):
    db_path, _, _ = demo
    result = subprocess_in(tmp_path, "view", "last", db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "rtrec-last.html").stat().st_size > 10_000
    missing = subprocess_in(tmp_path, "view", "99", db_path=db_path)
    assert missing.returncode == 1
    assert missing.stderr.decode().count("\n") == 1 and "no session" in missing.stderr.decode()
    nowhere = subprocess_in(
        tmp_path, "view", "last", "-o", str(tmp_path / "no" / "such" / "dir.html"), db_path=db_path
    )
    assert nowhere.returncode == 1 and "Traceback" not in nowhere.stderr.decode()
    assert "cannot write" in nowhere.stderr.decode()
    no_db = subprocess_in(tmp_path, "view", "last", db_path=str(tmp_path / "absent.db"))
    assert no_db.returncode == 1 and not (tmp_path / "absent.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rtrec-last.html"]


def subprocess_in(directory: Path, *args: str, db_path: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rtrec", *args],
        cwd=directory,
        capture_output=True,
        env={**os.environ, "RTREC_DB": db_path},
        timeout=300,
    )


def test_event_log_follows_the_playhead(browser, demo):
    db_path, session_id, page_path = demo
    watched = _open(browser, page_path)
    page = watched.page
    wait_ready(page)
    last_line = page.locator(".transcript .line").last
    start = float(last_line.get_attribute("data-start") or "nan")
    last_line.click()
    (at,) = sql_rows(
        db_path,
        "SELECT seq FROM events WHERE session_id = ? AND t_ms <= ? ORDER BY seq DESC LIMIT 1",
        session_id,
        start + 0.5,  # the page's slack: a line's start is often its own frame's time
    )
    current = page.locator("#event-log .ev-row.current")
    current.wait_for()
    assert current.get_attribute("data-seq") == str(at["seq"])
    box = page.locator("#event-log").bounding_box()
    row = current.bounding_box()
    assert (
        box
        and row
        and box["y"] <= row["y"]
        and row["y"] + row["height"] <= box["y"] + box["height"]
    )
    assert watched.errors == []
    watched.page.context.close()


def test_readme_shows_the_page():
    root = Path(__file__).resolve().parents[1]
    assert "![The page of the demo session](docs/view.png)" in (root / "README.md").read_text()
    assert (root / "docs" / "view.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_are_marks_and_a_session_without_audio_still_plays(browser, tmp_path):
    lines = [
        {
            "t": 0.0,
            "dir": "server",
            "event": {"type": "session.created", "event_id": "e0", "session": {"type": "realtime"}},
        },
        {
            "t": 0.5,
            "dir": "client",
            "event": {
                "type": "conversation.item.truncate",
                "event_id": "evt_1",
                "item_id": "item_x",
                "content_index": 0,
                "audio_end_ms": 5,
            },
        },
        {
            "t": 0.6,
            "dir": "server",
            "event": {
                "type": "error",
                "event_id": "e1",
                "error": {
                    "type": "invalid_request_error",
                    "code": "item_not_found",
                    "message": "Item item_x not found",
                    "event_id": "evt_1",
                },
            },
        },
        {
            "t": 3.0,
            "dir": "server",
            "event": {"type": "rate_limits.updated", "event_id": "e2", "rate_limits": []},
        },
    ]
    source = tmp_path / "errors.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    db_path = str(tmp_path / "errors.db")
    assert run_cli("import", str(source), db_path=db_path).returncode == 0
    page_path = tmp_path / "errors.html"
    assert run_cli("view", "last", "-o", str(page_path), db_path=db_path).returncode == 0
    watched = _open(browser, page_path)
    page = watched.page
    wait_ready(page)
    errors = sql_rows(db_path, "SELECT * FROM errors WHERE session_id = 1")
    marks = page.locator(".error-mark")
    assert marks.count() == len(errors) == 1
    tip = marks.first.get_attribute("data-tip") or ""
    assert "item_not_found" in tip and "Item item_x not found" in tip
    assert "conversation.item.truncate" in tip  # the client event the error names
    assert float(marks.first.get_attribute("data-seek")) == pytest.approx(errors[0]["t_ms"])
    assert page.locator("#audio-note").inner_text() == "no audio in this session"
    # No sound, but the playhead still runs over the call.
    page.keyboard.press("Space")
    page.locator("#clock").filter(has_not_text="0:00.0 /").wait_for()
    page.keyboard.press("Space")
    marks.first.click()
    assert page.evaluate("() => window.rtrecPage.player.currentMs") == pytest.approx(
        errors[0]["t_ms"], abs=0.5
    )
    assert watched.errors == [] and watched.requests == []
    save_screenshot(page, tmp_path, "view-errors")
    watched.page.context.close()
