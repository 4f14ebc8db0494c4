"""Issue 17 items 1 and 2: what is not a WebSocket upgrade opens nothing, and says one line.

A plain HTTP request (a health check, a browser tab, curl) against `rtrec record
--api-key-env …` gets a plain HTTP answer; the upstream sees nothing, no session is
recorded.  Bad handshakes of every kind, against `record` and `replay --serve` as
real processes, print at most one warning line and never a traceback.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import ssl
import subprocess

from rtrec.notices import RateLimitedNotes
from tests.conftest import run_cli
from tests.net_listeners import (
    Answer,
    Upstream,
    port_of,
    raw_request,
    start_rtrec,
    stop_rtrec,
)
from tests.replay_support import event_line, import_lines

KEY = "sk-proj-plainHTTPkey0123456789abcdefgh"


def http_get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


async def test_plain_http_never_dials_upstream_nor_records_a_session(db_path):
    async with Upstream() as upstream:
        process, relay, _ = await start_rtrec(
            "record",
            "--db",
            db_path,
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            upstream.url,
            "--api-key-env",
            "RTREC_TEST_KEY",
            env={"RTREC_TEST_KEY": KEY},
        )
        port = port_of(relay)
        try:
            plain = await asyncio.to_thread(http_get, port, "/v1/realtime?model=gpt-realtime")
            browser_tab = await asyncio.to_thread(http_get, port, "/")
            posted = await asyncio.to_thread(http_get, port, "/v1/realtime", "POST")
            health = await asyncio.to_thread(http_get, port, "/healthz")
            # Upgrade asked for, but not a valid WebSocket handshake: no key, bad version.
            half = await raw_request(
                port, b"/v1/realtime", b"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            )
            curl = None
            if shutil.which("curl"):
                curl = await asyncio.to_thread(
                    subprocess.run,
                    ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     f"http://127.0.0.1:{port}/v1/realtime?model=x"],
                    capture_output=True,
                    timeout=30,
                )  # fmt: skip
        finally:
            _, err, code = await stop_rtrec(process)
    status, headers, body = plain
    assert status == 426 and headers.get("Upgrade") == "websocket"
    assert "WebSocket" in body and "/healthz" in body
    assert browser_tab[0] == 426
    assert 400 <= posted[0] < 500
    assert health[0] == 200 and health[2] == "ok\n"
    assert half.status == 400
    if curl is not None:
        assert curl.stdout == b"426"
    assert upstream.seen == []  # nothing was dialled, with or without the key
    assert code == 0 and "Traceback" not in err and KEY not in err
    assert json.loads(run_cli("sessions", "--json", db_path=db_path).stdout) == []


async def _bad_handshakes(port: int) -> tuple[str, dict[str, Answer]]:
    """Every kind of bad handshake: how the TLS client fared, and what the others got back."""
    got: dict[str, Answer] = {}
    # A TLS client on the plain port, first, so that its line is the one shown.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=context), 30
        )
        writer.close()
        tls = "connected?!"
    except (ssl.SSLError, ConnectionError) as exc:
        tls = type(exc).__name__
    for n in range(5):
        got[f"garbage {n}"] = await raw_request(port, b"\x00\xff garbage", b"")
    got["no CRLF"] = await raw_request(port, b"/\n", b"")
    got["not an upgrade"] = await raw_request(port, b"/v1/realtime", b"Host: x\r\n")
    got["no key"] = await raw_request(
        port, b"/v1/realtime", b"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    )
    got["HTTP/1.0"] = await raw_request(port, b"/ HTTP/1.0\r\nX: y", b"")
    # A port probe: connect, say nothing, leave.
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()
    return tls, got


def _warning_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "bad handshake" in line or "refused" in line]


async def test_bad_handshakes_are_one_line_in_record(db_path):
    async with Upstream() as upstream:
        process, relay, _ = await start_rtrec(
            "record", "--db", db_path, "--listen", "127.0.0.1:0", "--upstream", upstream.url
        )
        try:
            tls, got = await _bad_handshakes(port_of(relay))
        finally:
            _, err, code = await stop_rtrec(process)
    assert code == 0
    assert "Traceback" not in err and "Error" not in err.replace("SSLError", ""), err
    (line,) = _warning_lines(err)
    assert "TLS client on this plain port" in line and "--tls-cert" in line
    assert tls != "connected?!"
    # Malformed HTTP is answered, not just dropped.
    assert all(got[f"garbage {n}"].status == 400 for n in range(5))
    assert got["no CRLF"].status == 400
    assert got["not an upgrade"].status == 426
    assert got["no key"].status == 400
    assert upstream.seen == []


async def test_bad_handshakes_are_one_line_in_replay_serve(db_path):
    session = import_lines(
        db_path,
        [event_line(0.0, "server", {"type": "session.created", "session": {"id": "s"}})],
    )
    process, url, _ = await start_rtrec(
        "replay", str(session), "--db", db_path, "--serve", "127.0.0.1:0", "--loop"
    )
    try:
        tls, got = await _bad_handshakes(port_of(url))
        health = await asyncio.to_thread(http_get, port_of(url), "/healthz")
    finally:
        out, err, code = await stop_rtrec(process)
    assert code == 0, err
    assert "Traceback" not in out + err
    (line,) = _warning_lines(err)
    assert "TLS client" in line and tls != "connected?!"
    assert got["garbage 0"].status == 400
    assert got["not an upgrade"].status == 426
    assert health[0] == 200 and health[2] == "ok\n"


def test_notes_are_rate_limited():
    interval_s = 60.0
    now = [0.0]
    shown: list[str] = []
    notes = RateLimitedNotes(shown.append, interval_s, clock=lambda: now[0])
    for _ in range(100):
        notes.note("bad handshake")
        now[0] += 0.1
    assert shown == ["bad handshake"]
    now[0] += interval_s
    notes.note("bad handshake")
    assert shown[-1] == "bad handshake (99 more like it not shown)"
