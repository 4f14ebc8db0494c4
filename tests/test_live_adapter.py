"""The GPT-Live adapter: recognition, compaction, secrets, live counters, incremental folds."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from rtrec.protocols import adapter_named, direction_of_object, protocol_of_frames, protocol_of_path
from rtrec.protocols.live.scrub import scrub_session_frame
from rtrec.store import projection
from rtrec.store.db import open_db
from rtrec.store.frames import REDACTED, decode_frame, encode_frame, scrubbed_text
from rtrec.store.importer import import_jsonl
from rtrec.store.session import LiveSession
from tests.conftest import REAL_SESSIONS
from tests.projection_helpers import dump_projection
from tests.wavtools import b64

LIVE = adapter_named("live")


@pytest.mark.parametrize(
    ("path", "protocol"),
    [
        ("/v1/live/sessions", "live"),
        ("/v1/live/sessions/live_u7_abc/attach", "live"),
        ("/v1/live/sessions/live_u7_abc/fork", "live"),
        ("/openai/v1/live/sessions", "live"),
        ("/proxy/v1/live/sessions?x=1", "live"),
        ("/v1/realtime", "realtime"),
        ("/v1/liveness", None),
    ],
)
def test_recognised_by_path(path: str, protocol: str | None) -> None:
    assert protocol_of_path(path) == protocol


def test_recognised_by_its_first_frames_and_not_by_realtimes() -> None:
    start = json.dumps({"type": "session.start", "session": {"model": "gpt-live-1"}})
    started = json.dumps({"type": "session.started", "session": {"id": "live_x"}})
    copy = json.dumps({"type": "session.input_audio.append", "audio": ""})
    update = json.dumps({"type": "session.update", "session": {}})
    assert protocol_of_frames([("client", "not json"), ("client", start)]) == "live"
    assert protocol_of_frames([("server", started)]) == "live"  # a server-side capture
    assert protocol_of_frames([("server", copy)]) == "live"  # a sideband's first copy
    assert protocol_of_frames([("client", update)]) == "realtime"  # shared name: Realtime's
    live_updated = json.dumps({"type": "session.updated", "session": {"id": "live_u7_x"}})
    live_update = json.dumps({"type": "session.update", "session": {"delegation": {}}})
    assert protocol_of_frames([("server", live_updated)]) == "live"
    assert protocol_of_frames([("client", live_update)]) == "live"
    assert direction_of_object({"type": "session.start"}) == "client"
    assert direction_of_object({"type": "session.output_transcript.delta"}) == "server"


def test_audio_is_compacted_only_where_it_comes_back_exactly() -> None:
    audio = bytes(range(256)) * 10
    sdk_style = json.dumps({"type": "session.input_audio.append", "audio": b64(audio)})
    compact = json.dumps(
        {"type": "session.output_audio.delta", "delta": b64(audio), "start_ms": 100, "end_ms": 200},
        separators=(",", ":"),
    )
    for frame in (sdk_style, compact):
        enc = encode_frame(frame, adapter=LIVE)
        assert enc.audio == audio
        assert decode_frame(enc.frame, enc.audio, enc.audio_at, enc.flags) == frame
    sideband = encode_frame(compact, adapter=LIVE)
    assert '"start_ms":100' in sideband.frame  # what the media fold reads to place it
    odd = '{"type":"session.input_audio.append","audio":"AAE="  }'  # fine: exact either way
    enc = encode_frame(odd, adapter=LIVE)
    assert decode_frame(enc.frame, enc.audio, enc.audio_at, enc.flags) == odd
    bad = '{"type":"session.input_audio.append","audio":"not base64!"}'
    assert encode_frame(bad, adapter=LIVE).audio is None  # kept whole


def test_envelope_ids_are_the_delegations_and_the_nested_responses() -> None:
    delegation = {"id": "d1", "target": "responses", "response_id": "r1"}
    created = {"type": "session.delegation.created", "event_id": "e1", "delegation": delegation}
    item = {"type": "response.output_item.added", "response_id": "r1", "item": {"id": "fc_1"}}
    nested = {"type": "response.event", "event_id": "e2", "delegation_id": "d1", "event": item}
    answer = {"type": "session.commentary.append", "delegation_id": "d1", "content": "x"}
    envelope = LIVE.envelope(json.dumps(created))
    assert envelope is not None
    assert (envelope.type, envelope.event_id, envelope.item_id, envelope.response_id) == (
        "session.delegation.created",
        "e1",
        "d1",
        "r1",
    )
    envelope = LIVE.envelope(json.dumps(nested))
    assert envelope is not None and (envelope.item_id, envelope.response_id) == ("fc_1", "r1")
    envelope = LIVE.envelope(json.dumps(answer))
    assert envelope is not None and envelope.item_id == "d1"
    envelope = LIVE.envelope("[1, 2]")
    assert envelope is not None and envelope.type is None
    assert LIVE.envelope("{") is None


MCP = {
    "type": "mcp",
    "server_label": "crm",
    "authorization": "Bearer caf\u00e9-secret-1",
    "headers": {"X-Token": "h\u00e9-secret-2", "X-Plain": "plain-secret-3"},
}


def start_frame(tool: dict, **dumps: object) -> str:
    session = {
        "model": "gpt-live-1",
        "delegation": {
            "type": "responses",
            "responses": {"model": "gpt-5", "tools": [{"type": "function", "name": "f"}, tool]},
        },
    }
    return json.dumps({"type": "session.start", "session": session}, **dumps)  # type: ignore[arg-type]


@pytest.mark.parametrize("ensure_ascii", [True, False], ids=["escaped", "raw"])
def test_mcp_credentials_are_replaced_keeping_the_names(ensure_ascii: bool) -> None:
    frame = start_frame(MCP, ensure_ascii=ensure_ascii)
    scrubbed = scrub_session_frame(frame)
    assert scrubbed is not None
    for secret in ("secret-1", "secret-2", "secret-3"):
        assert secret not in scrubbed
    tool = json.loads(scrubbed)["session"]["delegation"]["responses"]["tools"][1]
    assert tool == {
        **MCP,
        "authorization": "[redacted]",
        "headers": {"X-Token": "[redacted]", "X-Plain": "[redacted]"},
    }
    # In place: everything else is byte for byte what was sent.
    assert scrubbed == frame.replace(
        json.dumps(MCP["authorization"], ensure_ascii=ensure_ascii), '"[redacted]"'
    ).replace(
        json.dumps(MCP["headers"]["X-Token"], ensure_ascii=ensure_ascii), '"[redacted]"'
    ).replace('"plain-secret-3"', '"[redacted]"')
    enc = encode_frame(frame, adapter=LIVE)
    assert enc.flags & REDACTED and "secret" not in enc.frame
    text, changed = scrubbed_text(frame, adapter=LIVE)  # the spill's path
    assert changed and "secret" not in text


def test_an_unusual_spelling_is_scrubbed_by_writing_the_frame_anew() -> None:
    frame = start_frame(MCP).replace(
        '"Bearer caf\\u00e9-secret-1"', '"Bearer caf\\u00e9-secret\\u002d1"'
    )
    scrubbed = scrub_session_frame(frame)
    assert scrubbed is not None and "secret" not in scrubbed
    tool = json.loads(scrubbed)["session"]["delegation"]["responses"]["tools"][1]
    assert tool["authorization"] == "[redacted]" and tool["server_label"] == "crm"


def test_frames_without_mcp_credentials_are_untouched() -> None:
    assert scrub_session_frame(start_frame({"type": "mcp", "server_label": "x"})) is None
    assert (
        scrub_session_frame(json.dumps({"type": "session.update", "session": {"triggers": []}}))
        is None
    )
    function_with_headers = {"type": "function", "name": "g", "headers": {"not": "mcp"}}
    assert scrub_session_frame(start_frame(function_with_headers)) is None


def test_the_status_lines_counters_come_from_the_media_fold() -> None:
    session = LiveSession(source="test", path="/v1/live/sessions", protocol="live")
    start = {
        "type": "session.start",
        "session": {"model": "m", "audio": {"format": {"type": "audio/pcm", "rate": 16000}}},
    }
    session.encode(0, 0, "client", json.dumps(start))
    session.encode(
        1,
        1,
        "client",
        json.dumps({"type": "session.input_audio.append", "audio": b64(bytes(3200))}),
    )
    session.encode(
        2,
        2,
        "server",
        json.dumps({"type": "session.output_audio.delta", "delta": b64(bytes(6400))}),
    )
    assert (session.audio_in_ms, session.audio_out_ms) == (100.0, 200.0)


# -- incremental projection ---------------------------------------------------------


def _tricky() -> list[str]:
    """Full duplex, out-of-order deltas, a barge-in, a Responses delegation, an unknown type."""

    def line(t: float, direction: str, event: dict) -> str:
        return json.dumps({"t": t, "dir": direction, "event": event})

    def delta(kind: str, start: int, text: str) -> dict:
        return {
            "type": f"session.{kind}_transcript.delta",
            "start_ms": start,
            "end_ms": start + 200,
            "delta": text,
        }

    call = {"id": "fc_1", "type": "function_call", "call_id": "c1", "name": "f", "arguments": ""}
    events = [
        (0.0, "client", {"type": "session.start", "session": {"model": "gpt-live-1"}}),
        (0.1, "server", {"type": "session.started", "session": {"id": "live_t"}}),
        (0.2, "client", {"type": "session.input_audio.append", "audio": b64(bytes(2400))}),
        (0.6, "server", delta("input", 0, "Hi")),
        (0.7, "server", delta("output", 600, "Hel")),
        (0.8, "server", delta("input", 200, " there")),
        (0.9, "server", {"type": "session.output_audio.delta", "delta": b64(bytes(4800))}),
        (1.0, "server", delta("output", 800, "lo")),
        (1.1, "server", delta("input", 900, "Wait")),
        (
            1.2,
            "server",
            {
                "type": "session.delegation.created",
                "offset_ms": 1000,
                "delegation": {"id": "d1", "target": "responses"},
            },
        ),
        (
            1.3,
            "server",
            {
                "type": "response.event",
                "delegation_id": "d1",
                "event": {"type": "response.output_item.added", "item": call},
            },
        ),
        (1.4, "server", {"type": "something.new"}),
        (
            1.5,
            "server",
            {
                "type": "response.event",
                "delegation_id": "d1",
                "event": {"type": "response.output_item.done", "item": {**call, "arguments": "{}"}},
            },
        ),
        (
            1.6,
            "client",
            {
                "type": "response.item.create",
                "item": {"type": "function_call_output", "call_id": "c1", "output": "ok"},
            },
        ),
        (1.7, "server", delta("output", 3000, "Done")),
        (1.8, "server", {"type": "session.usage.updated", "usage": {"seconds": 4}}),
        (
            1.9,
            "server",
            {"type": "session.closed", "reason": "close_requested", "usage": {"seconds": 5}},
        ),
    ]
    return [line(*e) for e in events]


def _sources(tmp: Path) -> dict[str, list[str] | Path]:
    found: dict[str, list[str] | Path] = {
        p.stem: p for p in sorted((REAL_SESSIONS / "live").glob("*.jsonl"))
    }
    found["tricky"] = _tricky()
    return found


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, int]]:
    base = tmp_path_factory.mktemp("live-incremental")
    db_path = str(base / "source.db")
    conn = open_db(db_path)
    ids = {}
    for name, lines in _sources(base).items():
        data = lines.read_bytes().splitlines() if isinstance(lines, Path) else lines
        ids[name] = import_jsonl(conn, data, source_name=name).db_id
    projection.reproject(conn)
    conn.close()
    return db_path, ids


@pytest.mark.parametrize(
    "name", ["live-session", "usable-window-final-3000", "usable-window-interrupt", "tricky"]
)
def test_catching_up_in_pieces_with_reloads_equals_reproject(
    source, tmp_path: Path, name: str
) -> None:
    source_path, ids = source
    sid = ids[name]
    conn = open_db(str(tmp_path / "target.db"))
    conn.execute("ATTACH DATABASE ? AS src", (source_path,))
    conn.execute("INSERT INTO session SELECT * FROM src.session WHERE id = ?", (sid,))
    (count,) = conn.execute(
        "SELECT count(*) FROM src.event WHERE session_id = ?", (sid,)
    ).fetchone()
    rng = random.Random(name)
    seq = 0
    while seq < count:
        step = rng.choice([1, 1, 2, 5, 17])
        conn.execute(
            "INSERT INTO event SELECT * FROM src.event "
            "WHERE session_id = ? AND seq BETWEEN ? AND ?",
            (sid, seq, seq + step - 1),
        )
        seq += step
        projection.catch_up(conn, [sid])  # the state reloaded from the tables each time
    expected = dump_projection(sqlite3.connect(source_path), sid)
    assert dump_projection(conn, sid) == expected
    assert expected["projected_item"]  # the session did project something
