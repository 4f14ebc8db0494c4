"""`rtrec ui`: the session list and pages served from a real database, read-only, in Chromium.

The server runs as `rtrec ui` in its own process on a free loopback port; the live test
records a session through the real relay while its page is open.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from tests.browser import (
    TIMEOUT_MS,
    VIEWPORT,
    browser,
    save_screenshot,
    wait_ready,
    watch,
)
from tests.conftest import real_session_files, run_cli
from tests.page_checks import check_session_page, expected_label, sql_rows

__all__ = ["browser"]  # the fixture, used by name

TOKEN = "a-token-of-enough-length"


def start_ui(db_path: str, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "rtrec", "ui", "--db", db_path, "--listen", "127.0.0.1:0", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    banner = process.stderr.readline().decode()
    found = re.search(r"(http://\S+/)", banner)
    assert found, banner
    return process, found[1]


def stop_ui(process: subprocess.Popen[bytes]) -> str:
    process.terminate()
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    return stderr.decode()


def files_and_hashes(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> str:
    """A database with the demo (a tool call, a truncation) and a real Realtime session."""
    directory = tmp_path_factory.mktemp("ui-db")
    db_path = str(directory / "rtrec.db")
    assert run_cli("demo", db_path=db_path, timeout=120).returncode == 0
    tool_round = next(p for p in real_session_files() if "openai_ws__test_tool_call" in p.name)
    assert run_cli("import", str(tool_round), db_path=db_path).returncode == 0
    return db_path


@pytest.fixture(scope="module")
def served(recorded) -> Iterator[tuple[str, str]]:
    directory = Path(recorded).parent
    before = files_and_hashes(directory)
    process, url = start_ui(recorded)
    yield recorded, url
    stderr = stop_ui(process)
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    # Read-only: no file created, changed or removed beside the database.
    assert files_and_hashes(directory) == before


def test_session_list_sorts_and_filters(browser, served, tmp_path):
    db_path, url = served
    page = browser.new_page(viewport=VIEWPORT)
    watched = watch(page)
    page.goto(url)
    wait_ready(page)
    sessions = sql_rows(db_path, "SELECT * FROM sessions ORDER BY session_id DESC")
    rows = page.locator("#rows tr")
    assert rows.count() == len(sessions)
    first_ids = rows.evaluate_all("rs => rs.map(r => Number(r.dataset.sessionId))")
    assert first_ids == [s["session_id"] for s in sessions]
    # The demo's latencies, as the list shows them, are the turns view's.
    demo = sql_rows(db_path, "SELECT latency_ms FROM turns WHERE session_id = 1")
    latencies = sorted(t["latency_ms"] for t in demo if t["latency_ms"] is not None)
    p50 = page.locator("#rows tr[data-session-id='1'] td[data-key='latency_p50_ms']").inner_text()
    assert p50 == expected_label(float(np.percentile(latencies, 50)))
    turns = page.locator("#rows tr[data-session-id='1'] td[data-key='turns']").inner_text()
    assert turns == str(len(demo))
    # Sort by turns, fewest first (a second click on the heading reverses).
    page.locator("th[data-key='turns']").click()
    page.locator("th[data-key='turns']").click()
    ordered = rows.evaluate_all("rs => rs.map(r => Number(r.cells[6].textContent))")
    assert ordered == sorted(ordered)
    # Filter by model text, then by a number.
    page.locator("input[data-key='end_reason']").fill("imported")
    assert rows.count() == sum(s["end_reason"] == "imported" for s in sessions)
    page.locator("input[data-key='end_reason']").fill("")
    page.locator("input[data-key='turns']").fill(">2")
    assert rows.evaluate_all("rs => rs.map(r => Number(r.dataset.sessionId))") == [1]
    save_screenshot(page, tmp_path, "ui-sessions")
    page.locator("input[data-key='turns']").fill("")
    page.locator("#rows tr[data-session-id='1'] a").click()
    page.wait_for_url(re.compile(r"/s/1$"))
    wait_ready(page)
    assert watched.errors == []
    page.close()


@pytest.mark.parametrize("session_id", [1, 2])
def test_session_page_served_matches_the_views(browser, served, session_id, tmp_path):
    db_path, url = served
    page = browser.new_page(viewport=VIEWPORT)
    watched = watch(page)
    page.goto(f"{url}s/{session_id}")
    wait_ready(page)
    # The audio is mixed in the background; the page takes it when it is ready.
    page.locator("html[data-audio='ready'], html[data-audio='none']").wait_for(state="attached")
    check_session_page(watched, db_path, session_id)
    save_screenshot(page, tmp_path, f"ui-session-{session_id}")
    page.close()


def test_last_redirects_and_unknown_sessions_are_404(served):
    _, url = served
    status, headers, _ = fetch(url + "s/last")
    assert status == 302 and headers["location"] == "/s/2"
    assert fetch(url + "s/99")[0] == 404
    assert fetch(url + "api/s/99/model")[0] == 404
    assert fetch(url + "nothing-here")[0] == 404
    assert fetch(url + "api/sessions", method="POST")[0] == 405


def test_audio_is_served_by_ranges(browser, served):
    _, url = served
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}s/1")
    page.locator("html[data-audio='ready']").wait_for(state="attached")  # the page has the mix
    model = page.evaluate("() => window.rtrecPage.model")
    page.close()
    key = model["audio"]["key"]
    for track, size in zip(model["audio"]["tracks"], model["audio"]["bytes"], strict=True):
        address = f"{url}api/s/1/audio?key={key}&track={track}"
        status, headers, whole = fetch(address)
        assert status == 200 and headers["content-type"] == "audio/ogg; codecs=opus"
        assert whole[:4] == b"OggS" and len(whole) == size
        status, headers, part = fetch(address, {"Range": "bytes=10-19"})
        assert status == 206 and part == whole[10:20]
        assert headers["content-range"] == f"bytes 10-19/{len(whole)}"
    assert fetch(f"{url}api/s/1/audio?key={key}&track=both")[0] == 404
    assert fetch(f"{url}api/s/1/audio?key=stale&track=user")[0] == 404
    peaks = json.loads(fetch(f"{url}api/s/1/peaks?key={key}")[2])
    assert len(base64.b64decode(peaks["user"])) == model["audio"]["buckets"]


def test_a_foreign_host_header_is_refused(served):
    _, url = served
    status, _, body = fetch(url + "api/sessions", {"Host": "attacker.example:8766"})
    assert status == 403 and b"Host" in body


def test_token_cookie_and_header(recorded):
    process, url = start_ui(recorded, "--auth-token", TOKEN)
    try:
        assert fetch(url + "api/sessions")[0] == 401
        assert fetch(url + "api/sessions", {"X-Rtrec-Auth": "wrong-token-wrong-token"})[0] == 401
        assert fetch(url + "api/sessions", {"X-Rtrec-Auth": TOKEN})[0] == 200
        status, headers, _ = fetch(f"{url}s/1?rtrec_token={TOKEN}")
        assert status == 303 and headers["location"] == "/s/1"  # the token leaves the address
        cookie = headers["set-cookie"].split(";")[0]
        assert "HttpOnly" in headers["set-cookie"]
        assert fetch(url + "api/sessions", {"Cookie": cookie})[0] == 200
        # With a token, any Host is fine: the token is what is checked.
        assert fetch(url + "api/sessions", {"X-Rtrec-Auth": TOKEN, "Host": "x.example"})[0] == 200
    finally:
        stop_ui(process)


def test_beyond_loopback_needs_a_token_and_bad_input_is_one_line(recorded, tmp_path):
    for args in (
        ["ui", "--listen", "0.0.0.0:0"],
        ["ui", "--listen", "nonsense"],
        ["ui", "--listen", "127.0.0.1:0", "--auth-token", "short"],
    ):
        result = run_cli(*args, db_path=recorded)
        assert result.returncode == 1, args
        assert result.stderr.decode().count("\n") == 1 and b"Traceback" not in result.stderr
    assert b"--auth-token" in run_cli("ui", "--listen", "0.0.0.0:0", db_path=recorded).stderr
    absent = tmp_path / "absent.db"
    result = run_cli("ui", "--listen", "127.0.0.1:0", db_path=str(absent))
    assert result.returncode == 1 and not absent.exists()
    assert list(tmp_path.iterdir()) == []


def fetch(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        path = parts.path + ("?" + parts.query if parts.query else "")
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()
