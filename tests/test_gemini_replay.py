"""Replaying Gemini Live sessions: the terminal view, exact --jsonl, --to a Gemini
server (the recorded path and query, minus secrets), and sessions of old databases
whose rows have no type."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from websockets.asyncio.client import connect

from rtrec.protocols import adapter_named
from rtrec.recorder.service import Recorder
from rtrec.sim.gemini.script import PATH
from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from rtrec.store.db import open_db
from rtrec.store.frames import encode_frame
from rtrec.store.projection import catch_up
from tests.conftest import REAL_SESSIONS, run_cli

TOOL_ROUND = REAL_SESSIONS / "gemini" / "test_google_ws__test_tool_call_round.jsonl"
KEY_IN_URL = "AIzaSyRECORDED-000000000000000000000000"
KEY_IN_ENV = "AIzaSyFROMENV-0000000000000000000000000"


def _imported(tmp_path: Path, source: Path = TOOL_ROUND) -> str:
    db_path = str(tmp_path / "rtrec.db")
    result = run_cli("import", str(source), db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    return db_path


def test_terminal_view_reads_like_the_call(tmp_path: Path) -> None:
    db_path = _imported(tmp_path)
    result = run_cli("replay", "last", "--speed", "1000", db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    shown = [line.split(None, 2)[1:] for line in lines]  # without the time
    assert shown[0][0] == "client"
    assert shown[0][1].startswith(
        "setup  models/gemini-2.5-flash-native-audio-preview-09-2025, output audio, tools "
        'record_reading, "Use record_reading'
    )
    assert shown[1:5] == [
        ["server", "setupComplete"],
        [
            "client",
            'clientContent  user "Please record a reading of 5 with the note "steady".", '
            "turnComplete",
        ],
        [
            "server",
            'toolCall  record_reading({"zqx_measurement":5,"qbf_note":"steady"}) '
            "function-call-3225422447732038294",
        ],
        [
            "client",
            'toolResponse  function-call-3225422447732038294 → {"output":"Recorded 5 (steady)."}',
        ],
    ]
    assert shown[5] == [
        "server",
        'assistant transcript: I have recorded a reading of 5 with the note "steady."',
    ]
    assert shown[6] == ["server", "assistant audio  0.04 s in 52 chunks"]
    assert shown[-1] == ["server", "serverContent  turnComplete, tokens in 1267 out 103"]


def test_jsonl_gives_the_frames_back_exactly_and_type_filters(tmp_path: Path) -> None:
    db_path = _imported(tmp_path)
    exported = run_cli("export", "last", db_path=db_path).stdout.decode().splitlines()
    replayed = run_cli("replay", "last", "--jsonl", "--speed", "1000", db_path=db_path)
    assert replayed.returncode == 0, replayed.stderr.decode()
    assert replayed.stdout.decode().splitlines() == exported
    calls = run_cli(
        "replay", "last", "--jsonl", "--speed", "1000", "--type", "tool*", db_path=db_path
    )
    frames = [json.loads(line)["frame"] for line in calls.stdout.decode().splitlines()]
    kinds = [next(iter(json.loads(frame))) for frame in frames]
    assert kinds == ["toolCall", "tool_response"]  # the SDK's spelling, typed the same


async def _record_text_call(db_path: str, sim: Simulator) -> None:
    """A raw client (key in the query, as some do) asks about the weather; one tool round."""
    async with Recorder(db_path, upstream=sim.url, port=0, live_status=False) as recorder:
        url = f"{recorder.url}{PATH}?key={KEY_IN_URL}"
        async with connect(url) as ws:
            tools = [{"functionDeclarations": [{"name": "get_weather"}]}]
            await ws.send(json.dumps({"setup": {"model": "models/sim", "tools": tools}}))
            assert "setupComplete" in json.loads(await ws.recv())
            turn = {"turns": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}]}
            await ws.send(json.dumps({"client_content": {**turn, "turnComplete": True}}))
            while "toolCall" not in (message := json.loads(await ws.recv())):
                pass
            call = message["toolCall"]["functionCalls"][0]
            answer = {"id": call["id"], "name": call["name"], "response": {"forecast": "fog"}}
            await ws.send(json.dumps({"tool_response": {"functionResponses": [answer]}}))
            while not json.loads(await ws.recv()).get("serverContent", {}).get("turnComplete"):
                pass


async def test_to_resends_on_the_recorded_path_with_the_key_from_the_environment(
    tmp_path: Path,
) -> None:
    db_path = str(tmp_path / "rtrec.db")
    log: list[tuple[str, str | bytes]] = []
    async with Simulator(SimOptions(frame_log=log)) as sim:
        await _record_text_call(db_path, sim)
        first_client = [frame for side, frame in log if side == "client"]
        log.clear()
        env = {"GEMINI_API_KEY": KEY_IN_ENV, "OPENAI_API_KEY": "sk-not-for-google-000000000"}
        # At half speed: re-sent on the recorded timeline, the tool's answer leaves well
        # after the simulator (as seeded as before) has asked for it.
        replay = ("replay", "1", "--to", sim.url, "--speed", "0.5")
        # In a thread: the simulator answers on this event loop meanwhile.
        result = await asyncio.to_thread(run_cli, *replay, db_path=db_path, env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert "recorded session 2" in result.stdout.decode()
    # The simulator got the same client frames, in order, on the original path.
    assert [frame for side, frame in log if side == "client"] == first_client
    conn = open_db(db_path)
    catch_up(conn)
    row = conn.execute("SELECT source, parent_id, path, query, protocol FROM session WHERE id = 2")
    assert row.fetchone() == ("replay", 1, PATH, "key=%5Bredacted%5D", "gemini")
    items = conn.execute(
        "SELECT type, role, text, name, output FROM items WHERE session_id = 2 ORDER BY position"
    ).fetchall()
    assert items[:2] == [
        ("message", "user", "Weather in Paris?", None, None),
        ("function_call", None, None, "get_weather", '{"forecast":"fog"}'),
    ]
    headers = conn.execute("SELECT request_headers FROM session WHERE id = 2").fetchone()[0]
    assert "sk-not-for-google" not in (headers or "")
    conn.close()
    for path in tmp_path.glob("rtrec.db*"):
        data = path.read_bytes()
        assert KEY_IN_ENV.encode() not in data and KEY_IN_URL.encode() not in data, path


def test_old_rows_without_a_type_are_typed_from_their_frames(tmp_path: Path) -> None:
    """A database written before the Gemini adapter existed typed every frame by
    Realtime's `type` field: Gemini rows have none.  Readers type them from the frame."""
    db_path = str(tmp_path / "old.db")
    conn = open_db(db_path)
    realtime = adapter_named("realtime")
    conn.execute(
        "INSERT INTO session (uuid, source, started_at, started_ns, path) "
        "VALUES ('00000000-0000-4000-8000-000000000001', 'record', '2025-01-01T00:00:00Z', 0, ?)",
        (PATH,),
    )
    rows = [json.loads(line) for line in TOOL_ROUND.read_text().splitlines()]
    for seq, row in enumerate(rows):
        enc = encode_frame(json.dumps(row["event"]), adapter=realtime)
        assert enc.type is None and enc.audio is None
        conn.execute(
            "INSERT INTO event (session_id, seq, t_ns, wall_ns, direction, type, flags, frame) "
            "VALUES (1, ?, ?, ?, ?, NULL, ?, ?)",
            (seq, round(row["t"] * 1e9), round(row["t"] * 1e9), row["dir"], enc.flags, enc.frame),
        )
    conn.commit()
    catch_up(conn)
    items = conn.execute("SELECT type, role, text FROM items ORDER BY position").fetchall()
    assert [item[:2] for item in items] == [
        ("message", "user"),
        ("function_call", None),
        ("message", "assistant"),
    ]
    assert conn.execute("SELECT protocol, audio_out_ms > 0 FROM sessions").fetchone() == (
        "gemini",
        1,
    )
    conn.close()
    replayed = run_cli("replay", "last", "--speed", "1000", "--type", "toolCall", db_path=db_path)
    assert "toolCall  record_reading(" in replayed.stdout.decode()
    wav = run_cli("export-wav", "last", "--out", str(tmp_path / "wav"), db_path=db_path)
    assert wav.returncode == 0, wav.stderr.decode()


def test_environment_keys_go_only_to_their_own_hosts_or_loopback() -> None:
    from rtrec.replay.resend import handshake_headers, with_gemini_key
    from rtrec.replay.source import RecordedSession
    from rtrec.store.reader import SessionRef

    ref = SessionRef(1, "u", 0, None)
    gemini = RecordedSession(ref, protocol="gemini")
    realtime = RecordedSession(ref, protocol="realtime")
    env = {"GEMINI_API_KEY": "gk-env", "OPENAI_API_KEY": "sk-env"}
    google = "wss://generativelanguage.googleapis.com" + PATH
    assert with_gemini_key(google, gemini, env).endswith("?key=gk-env")
    assert with_gemini_key("ws://127.0.0.1:9" + PATH, gemini, env).endswith("?key=gk-env")
    elsewhere = "wss://gemini-proxy.example" + PATH
    assert with_gemini_key(elsewhere, gemini, env) == elsewhere
    assert with_gemini_key(google, realtime, env) == google  # not a Gemini session
    # The OpenAI key never goes to a Gemini session, nor to a host it is not OpenAI's.
    assert handshake_headers((), gemini, env, google) == []
    assert handshake_headers((), realtime, env, "wss://api.openai.com/v1/realtime") == [
        ("Authorization", "Bearer sk-env")
    ]
    assert handshake_headers((), realtime, env, "wss://example.com/v1/realtime") == []
