"""`rtrec otel` into a real OTLP receiver (Arize Phoenix on loopback), read back and checked.

Each test sends to a Phoenix project of its own (the `openinference.project.name`
resource attribute, set through the standard OTEL_RESOURCE_ATTRIBUTES), so tests
sharing one Phoenix never see each other's spans.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REAL_SESSIONS, run_cli
from tests.otel_checks import check_session, expected_span_count, ns, rows, shared_fixtures
from tests.phoenix import INSTALL_HINT, Phoenix, phoenix_executable
from tests.sdk_call import record_call

TOOL_FIXTURES = sorted(REAL_SESSIONS.glob("*tool_call_round*.jsonl"))
_projects = itertools.count()


def need_phoenix() -> str:
    executable = phoenix_executable()
    if executable is None:
        pytest.skip(f"NO OTLP RECEIVER: Arize Phoenix is not installed here; {INSTALL_HINT}")
    return executable


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    server = Phoenix(need_phoenix(), tmp_path_factory.mktemp("phoenix"))
    server.start()
    yield server
    server.stop()


def new_project() -> str:
    return f"rtrec-test-{next(_projects)}"


def send(phoenix: Phoenix, db_path: str, *args: str, project: str, grpc: bool = False):
    endpoint = phoenix.grpc_url if grpc else phoenix.url
    protocol = ["--protocol", "grpc"] if grpc else []
    result = run_cli(
        "otel",
        *args,
        "--endpoint",
        endpoint,
        *protocol,
        db_path=db_path,
        env={"OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={project}"},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    return result


def import_files(db_path: str, files: list[Path]) -> list[int]:
    for path in files:
        result = run_cli("import", str(path), db_path=db_path)
        assert result.returncode == 0, result.stderr.decode()
    return [r["session_id"] for r in rows(db_path, "SELECT session_id FROM sessions")]


def spans_by_session(
    phoenix: Phoenix, db_path: str, project: str, session_ids: list[int]
) -> dict[int, list[dict]]:
    """Wait until the receiver holds every span the command said it sent, then group them."""
    uuids = {
        r["uuid"].replace("-", ""): r["session_id"]
        for r in rows(db_path, "SELECT session_id, uuid FROM sessions")
        if r["session_id"] in session_ids
    }
    expected = sum(expected_span_count(db_path, s) for s in session_ids)
    spans = phoenix.wait_for_spans(project, expected)
    assert len(spans) == expected
    grouped: dict[int, list[dict]] = {s: [] for s in session_ids}
    for span in spans:
        grouped[uuids[span["context"]["trace_id"]]].append(span)
    return grouped


@pytest.mark.parametrize("fixture", TOOL_FIXTURES, ids=lambda p: p.stem.split("__")[0])
def test_real_tool_call_session(phoenix, db_path, fixture):
    (session_id,) = import_files(db_path, [fixture])
    project = new_project()
    result = send(phoenix, db_path, "last", project=project)
    assert f"session {session_id}:" in result.stdout.decode()
    spans = spans_by_session(phoenix, db_path, project, [session_id])[session_id]
    got = check_session(db_path, session_id, spans)
    (tool,) = got.op("execute_tool")
    (call,) = rows(db_path, "SELECT * FROM tool_calls WHERE session_id = ?", session_id)
    assert tool["attributes"]["gen_ai.tool.name"] == call["name"] == "get_weather"
    # The tool round sits in the user's turn: called during the first reply, answered
    # before the second.
    assert got.parent(tool)["attributes"]["rtrec.turn.index"] == 0
    first, second = sorted(got.op("realtime_inference"), key=lambda s: ns(s["start_time"]))
    assert ns(first["start_time"]) <= ns(tool["start_time"]) <= ns(first["end_time"])
    assert ns(tool["end_time"]) <= ns(second["start_time"])
    # Content is opt-in: no arguments, outputs, transcripts or instructions by default.
    for span in spans:
        for name in (
            "gen_ai.tool.call.arguments",
            "gen_ai.tool.call.result",
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.system_instructions",
            "rtrec.transcript",
        ):
            assert name not in span["attributes"], (span["name"], name)


def test_with_content_and_grpc(phoenix, db_path):
    (session_id,) = import_files(db_path, TOOL_FIXTURES[-1:])
    project = new_project()
    send(phoenix, db_path, "last", "--with-content", project=project, grpc=True)
    spans = spans_by_session(phoenix, db_path, project, [session_id])[session_id]
    got = check_session(db_path, session_id, spans)
    (call,) = rows(db_path, "SELECT * FROM tool_calls WHERE session_id = ?", session_id)
    (tool,) = got.op("execute_tool")
    assert tool["attributes"]["gen_ai.tool.call.arguments"] == call["arguments"]
    assert tool["attributes"]["gen_ai.tool.call.result"] == call["output"]
    (update,) = rows(
        db_path,
        "SELECT instructions FROM session_updates WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
        session_id,
    )
    instructions = json.loads(got.root["attributes"]["gen_ai.system_instructions"])
    assert instructions == [{"type": "text", "content": update["instructions"]}]
    (turn,) = rows(db_path, "SELECT text FROM turns WHERE session_id = ?", session_id)
    inputs = [
        json.loads(s["attributes"]["gen_ai.input.messages"]) for s in got.op("realtime_inference")
    ]
    assert all(m[0]["parts"][0]["content"] == turn["text"] for m in inputs)


def test_sending_again_gives_the_same_ids_and_times(phoenix, db_path):
    """Backends key spans by (trace id, span id): a second send must replace, not add.

    Phoenix keeps the first copy of a span id and ignores repeats, so a re-send with
    new ids would double the spans.  A third session, sent last, marks when Phoenix has
    taken in the re-send (it ingests in order).
    """
    *session_ids, marker = import_files(db_path, [*TOOL_FIXTURES, shared_marker()])
    project = new_project()
    send(phoenix, db_path, *map(str, session_ids), project=project)
    before = identities(spans_by_session(phoenix, db_path, project, session_ids))
    send(phoenix, db_path, *map(str, session_ids), project=project)
    send(phoenix, db_path, str(marker), project=project)
    after = spans_by_session(phoenix, db_path, project, [*session_ids, marker])
    del after[marker]
    assert identities(after) == before
    assert len({trace for trace, *_ in before}) == len(session_ids)
    # The ids are the session's own: the trace id is its uuid.
    uuids = {r["uuid"].replace("-", "") for r in rows(db_path, "SELECT uuid FROM sessions")}
    assert {trace for trace, *_ in before} <= uuids


def shared_marker() -> Path:
    return next(p for p in sorted(REAL_SESSIONS.glob("*.jsonl")) if p not in TOOL_FIXTURES)


def identities(grouped: dict[int, list[dict]]) -> set[tuple[str, ...]]:
    return {
        (
            s["context"]["trace_id"],
            s["context"]["span_id"],
            s.get("parent_id") or "",
            s["start_time"],
            s["end_time"],
            s["name"],
        )
        for group in grouped.values()
        for s in group
    }


def test_the_demo(phoenix, db_path):
    result = run_cli("demo", "--db", db_path, timeout=180)
    assert result.returncode == 0, result.stderr.decode()
    (session_id,) = [r["session_id"] for r in rows(db_path, "SELECT session_id FROM sessions")]
    project = new_project()
    send(phoenix, db_path, "--since", "1h", "--with-content", "--with-audio", project=project)
    spans = spans_by_session(phoenix, db_path, project, [session_id])[session_id]
    got = check_session(db_path, session_id, spans)
    # A spoken call: user speech spans, replies with audio, a barge-in, a tool round.
    assert got.op("user_speech")
    assert any(
        s["attributes"].get("gen_ai.output.type") == "speech" for s in got.op("realtime_inference")
    )
    statuses = {s["attributes"].get("rtrec.response.status") for s in got.op("realtime_inference")}
    assert "completed" in statuses
    assert got.op("execute_tool")
    interrupted = [
        s for s in got.op("realtime_inference") if s["attributes"].get("rtrec.response.interrupted")
    ]
    cancelled = rows(
        db_path,
        "SELECT response_id FROM responses WHERE session_id = ? AND status = 'cancelled'",
        session_id,
    )
    assert len(interrupted) == len(cancelled)
    # The audio made it through the receiver too (a WAV per reply, base64).
    spoken = [
        s for s in got.op("realtime_inference") if s["attributes"].get("rtrec.response.audio_ms")
    ]
    for span in spoken:
        parts = json.loads(span["attributes"]["gen_ai.output.messages"])[0]["parts"]
        assert any(p["type"] == "blob" and p["content"].startswith("UklGR") for p in parts)


@pytest.mark.parametrize("protocol", ["live", "gemini"])
def test_gpt_live_and_gemini_sessions(phoenix, db_path, protocol):
    files = shared_fixtures(protocol)
    if not files:
        pytest.skip(f"no {protocol} fixtures (shared/fixtures/real-sessions/{protocol})")
    session_ids = import_files(db_path, files)
    project = new_project()
    send(phoenix, db_path, "--all", project=project)
    grouped = spans_by_session(phoenix, db_path, project, session_ids)
    for session_id in session_ids:
        got = check_session(db_path, session_id, grouped[session_id])
        (session,) = rows(db_path, "SELECT * FROM sessions WHERE session_id = ?", session_id)
        if session.get("protocol") in ("live", "gemini"):  # once sessions.protocol says so
            assert got.root["attributes"]["rtrec.protocol"] == session["protocol"]
            provider = "gcp.gemini" if protocol == "gemini" else "openai"
            assert got.root["attributes"]["gen_ai.provider.name"] == provider
        if session.get("provider_session_id"):
            assert (
                got.root["attributes"]["gen_ai.conversation.id"] == session["provider_session_id"]
            )
        assert ns(got.root["end_time"]) >= ns(got.root["start_time"])


def test_errors_are_span_events_naming_the_client_event(phoenix, db_path):
    """The openai SDK's call (tests/sdk_call.py) has one request the server refuses."""
    record_call(db_path)
    (session,) = rows(db_path, "SELECT session_id FROM sessions")
    errors = rows(db_path, "SELECT * FROM errors")
    assert errors and errors[0]["client_event_type"]
    project = new_project()
    send(phoenix, db_path, "last", project=project)
    spans = spans_by_session(phoenix, db_path, project, [session["session_id"]])
    got = check_session(db_path, session["session_id"], spans[session["session_id"]])
    events = [e for s in got.all for e in s.get("events", []) if e["name"] == "rtrec.error"]
    (event,) = events
    assert event["attributes"]["rtrec.error.code"] == errors[0]["code"]
    assert event["attributes"]["rtrec.error.message"] == errors[0]["message"]
    assert event["attributes"]["rtrec.error.client_event_type"] == errors[0]["client_event_type"]
