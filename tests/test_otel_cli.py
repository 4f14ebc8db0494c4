"""`rtrec otel` without a receiver: bad backends and bad input, one line each; reads only."""

from __future__ import annotations

import hashlib
import http.server
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rtrec.cli.otel import parse_since
from rtrec.errors import ConfigError
from rtrec.otel.export import failure_reason, resolve_destination
from rtrec.otel.spans import TraceOptions
from rtrec.otel.trace import build_trace
from rtrec.store.reading import open_reader
from rtrec.store.trace_source import read_trace_source
from tests.conftest import REAL_SESSIONS, run_cli
from tests.otel_checks import free_port_closed
from tests.test_cli import assert_one_line_error

TOOL_FIXTURE = REAL_SESSIONS / "test_openai_ws__test_tool_call_round.jsonl"


@pytest.fixture
def tool_db(db_path: str) -> str:
    result = run_cli("import", str(TOOL_FIXTURE), db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    return db_path


def snapshot(directory: Path) -> dict[str, str]:
    """Every file beside the database, by content.

    Not SQLite's -shm index (readers use it), nor an empty -wal (SQLite removes one when
    the last connection closes): neither holds data.
    """
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if not p.name.endswith("-shm") and not (p.name.endswith("-wal") and not p.stat().st_size)
    }


class _Refusing(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(401, "Unauthorized")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_receiver() -> Iterator[str]:
    """A real HTTP server on loopback that answers every OTLP request with 401."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_unreachable_endpoint_is_one_line_and_writes_nothing(tool_db, tmp_path):
    before = snapshot(tmp_path)
    endpoint = f"http://127.0.0.1:{free_port_closed()}"
    result = run_cli("otel", "--all", "--endpoint", endpoint, "--timeout", "1", db_path=tool_db)
    line = assert_one_line_error(result, "cannot send traces to", endpoint, "connection refused")
    assert "/v1/traces" in line
    assert snapshot(tmp_path) == before


def test_a_4xx_is_one_line(tool_db, refusing_receiver):
    result = run_cli("otel", "last", "--endpoint", refusing_receiver, db_path=tool_db)
    assert_one_line_error(result, "HTTP 401")


def test_headers_come_from_the_standard_environment(tool_db, refusing_receiver):
    """OTEL_EXPORTER_OTLP_HEADERS reaches the exporter, and never the output."""
    result = run_cli(
        "otel",
        "last",
        db_path=tool_db,
        env={
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": refusing_receiver + "/v1/traces",
            "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20sk-secret-123",
        },
    )
    assert_one_line_error(result, "HTTP 401", refusing_receiver + "/v1/traces")
    assert b"sk-secret" not in result.stderr + result.stdout


def test_missing_extra_is_one_line(tool_db):
    # The SDK made unimportable, as in an install without rtrec[otel].
    code = (
        "import sys; sys.modules['opentelemetry.sdk'] = None; "
        "sys.modules['opentelemetry.sdk.resources'] = None; "
        "from rtrec.cli.main import main; sys.argv = ['rtrec', 'otel', '--all']; main()"
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env={"RTREC_DB": tool_db}
    )
    assert_one_line_error(result, "pip install 'rtrec[otel]'")


@pytest.mark.parametrize(
    "args, needle",
    [
        ((), "say which sessions"),
        (("--since", "yesterday"), "bad --since"),
        (("--all", "--endpoint", "localhost:4318"), "bad OTLP endpoint"),
        (("nosuch",), "no session 'nosuch'"),
    ],
)
def test_bad_input_is_one_line(tool_db, args, needle):
    assert_one_line_error(run_cli("otel", *args, db_path=tool_db), needle)


def test_protocol_from_the_environment(tool_db):
    result = run_cli(
        "otel", "--all", db_path=tool_db, env={"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}
    )
    assert_one_line_error(result, "unsupported OTLP protocol 'http/json'")


def test_dry_run_prints_the_tree(tool_db):
    result = run_cli("otel", "last", "--dry-run", db_path=tool_db)
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("trace ")
    assert lines[1].lstrip().startswith("realtime_session gpt-realtime")
    assert lines[2].startswith("    turn 0")
    assert any(line.startswith("      execute_tool get_weather") for line in lines)


def test_ids_and_times_are_derived_not_drawn(tool_db):
    conn = open_reader(tool_db)
    try:
        source = read_trace_source(conn, 1)
    finally:
        conn.close()
    first, again = build_trace(source), build_trace(source, TraceOptions(with_content=True))
    assert [(s.span_id, s.parent_id, s.start_ns, s.end_ns) for s in first.spans] == [
        (s.span_id, s.parent_id, s.start_ns, s.end_ns) for s in again.spans
    ]
    assert first.trace_id == int(source["session"]["uuid"].replace("-", ""), 16)
    assert len({s.span_id for s in first.spans}) == len(first.spans)
    by_id = {s.span_id: s for s in first.spans}
    for span in first.spans[1:]:  # every child inside its parent
        parent = by_id[span.parent_id]
        assert parent.start_ns <= span.start_ns <= span.end_ns <= parent.end_ns


def test_since_accepts_dates_times_and_ages():
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert parse_since("2026-12-01") == int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() * 1e9)
    assert parse_since("2026-12-01 20:00") == int(
        datetime(2026, 12, 1, 20, tzinfo=UTC).timestamp() * 1e9
    )
    assert parse_since("24h", now) == int(datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp() * 1e9)
    with pytest.raises(ConfigError):
        parse_since("last week")


def test_endpoints_follow_the_otlp_rules(monkeypatch):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    assert resolve_destination().endpoint == "http://localhost:4318/v1/traces"
    assert resolve_destination(endpoint="http://h:6006").endpoint == "http://h:6006/v1/traces"
    langfuse = "https://cloud.langfuse.com/api/public/otel"
    assert resolve_destination(endpoint=langfuse).endpoint == langfuse + "/v1/traces"
    assert resolve_destination(endpoint="http://h/v1/traces").endpoint == "http://h/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/custom")
    assert resolve_destination().endpoint == "http://t:1/custom"
    assert resolve_destination(protocol="grpc").endpoint == "http://t:1/custom"
    shown = resolve_destination(endpoint="https://user:pw@h:1").shown
    assert "pw" not in shown and shown.startswith("https://h:1")


def test_failure_reasons_read_as_words():
    assert failure_reason(["Failed to export spans batch code: 404, reason: Not Found"]) == (
        "HTTP 404 Not Found"
    )
    refused = (
        "Failed to export spans batch code: None, reason: HTTPConnectionPool(host='x', "
        "port=1): Max retries exceeded (Caused by NewConnectionError('<urllib3.connection."
        "HTTPConnection object>: Failed to establish a new connection: [Errno 111] "
        "Connection refused'))"
    )
    assert failure_reason([refused]) == "connection refused"


def test_audio_only_with_audio(db_path):
    """--with-audio: each user turn's and reply's audio, as the WAV export-wav writes."""
    import base64
    import io
    import json

    import soundfile

    from rtrec.otel.session import attributes_with_audio, traced_session
    from rtrec.store.reader import resolve_session
    from tests.sdk_call import record_call

    record_call(db_path)
    conn = open_reader(db_path)
    try:
        ref = resolve_session(conn, "last")
        audio_ms = dict(
            conn.execute("SELECT response_id, audio_ms FROM responses WHERE audio_ms > 0")
        )
        with traced_session(conn, ref, TraceOptions(with_content=True)) as plain:
            assert all(not s.audio for s in plain.spans)
        with traced_session(conn, ref, TraceOptions(with_audio=True)) as heard:
            read = {s.key: attributes_with_audio(s) for s in heard.spans}
    finally:
        conn.close()
    speech = [a for key, a in read.items() if key.startswith("speech:")]
    replies = {k.removeprefix("response:"): a for k, a in read.items() if k.startswith("response:")}
    assert speech and audio_ms

    def wav_seconds(attributes, name: str) -> float:
        (message,) = json.loads(attributes[name])
        (part,) = [p for p in message["parts"] if p["type"] == "blob"]
        assert part["modality"] == "audio" and part["mime_type"] == "audio/wav"
        data, rate = soundfile.read(io.BytesIO(base64.b64decode(part["content"])))
        return len(data) / rate

    for span in speech:
        assert wav_seconds(span, "gen_ai.input.messages") > 0.5
    for response_id, ms in audio_ms.items():
        assert abs(wav_seconds(replies[response_id], "gen_ai.output.messages") - ms / 1000) < 0.05
