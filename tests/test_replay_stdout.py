"""`rtrec replay` to stdout: the readable stream, --jsonl, timing, selection, errors."""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from rtrec.replay.clock import now_ns
from rtrec.replay.player import JsonlSink, play
from rtrec.replay.selection import Selection
from rtrec.replay.source import ReplaySource
from rtrec.store.reader import RecordedFrame
from tests.conftest import run_cli
from tests.replay_support import TOOL_CALL_ROUND, event_line, import_file, import_lines


def _timed_lines(
    *args: str, db_path: str, timeout: float = 60
) -> tuple[list[str], list[float], int]:
    """Run `rtrec ARGS`, noting when each stdout line arrives (time.monotonic())."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rtrec", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "RTREC_DB": db_path},
    )
    lines: list[str] = []
    times: list[float] = []

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            times.append(time.monotonic())
            lines.append(raw.decode("utf-8").rstrip("\n"))

    reader = threading.Thread(target=read)
    reader.start()
    code = proc.wait(timeout)
    reader.join(timeout)
    return lines, times, code


def _spread_session(db_path: str, count: int = 60, step_s: float = 0.025) -> int:
    """Events `step_s` apart, both directions, with some irregular gaps."""
    lines = []
    t = 0.0
    for i in range(count):
        t += step_s * (1 + (i % 3))  # gaps of 25, 50, 75 ms
        direction = "client" if i % 5 == 0 else "server"
        kind = "response.create" if direction == "client" else "rate_limits.updated"
        lines.append(event_line(t, direction, {"type": kind, "event_id": f"e{i}"}))
    return import_lines(db_path, lines)


def test_jsonl_at_speed_2_is_export_exactly_and_never_early(db_path: str) -> None:
    session = _spread_session(db_path)
    exported = run_cli("export", str(session), db_path=db_path)
    assert exported.returncode == 0
    lines, _, code = _timed_lines(
        "replay", str(session), "--speed", "2", "--jsonl", db_path=db_path
    )
    assert code == 0
    assert "\n".join(lines) + "\n" == exported.stdout.decode("utf-8")
    # The schedule, measured where frames are emitted (a reader of the pipe on a busy
    # machine may see lines late, and two at once).
    source = ReplaySource.open(db_path, str(session), Selection())
    emitted: list[tuple[RecordedFrame, int, int]] = []

    def note(frame: RecordedFrame, due_ns: int) -> None:
        emitted.append((frame, due_ns, now_ns()))

    asyncio.run(play(source, JsonlSink(io.StringIO()), speed=2, on_emitted=note))
    first_t, first_due = emitted[0][0].t_ns, emitted[0][1]
    for frame, due_ns, at_ns in emitted:
        assert due_ns - first_due == (frame.t_ns - first_t) // 2
        assert at_ns >= due_ns, f"seq {frame.seq} emitted {(due_ns - at_ns) / 1e6:.3f} ms early"
    # Lateness is measured by bench/replay_timing; here only that the schedule is followed.
    lateness = sorted(at - due for _, due, at in emitted)
    assert lateness[len(lateness) // 2] < 0.5e9


def test_idle_limit_caps_gaps_before_speed(db_path: str) -> None:
    # A 120 s pause between two bursts: uncapped, the replay could not finish in time.
    lines = [event_line(0.0, "server", {"type": "session.created"})]
    lines += [event_line(0.1 * i, "server", {"type": "rate_limits.updated"}) for i in (1, 2)]
    lines += [
        event_line(120.0 + 0.1 * i, "server", {"type": "rate_limits.updated"}) for i in range(3)
    ]
    session = import_lines(db_path, lines)
    out, _, code = _timed_lines(
        "replay",
        str(session),
        "--jsonl",
        "--speed",
        "2",
        "--idle-limit",
        "0.5",
        db_path=db_path,
        timeout=30,
    )
    assert code == 0 and len(out) == 6
    # When each frame was due, and when it went out, measured where it is emitted (a
    # reader of the pipe on a busy machine can see two lines at once).
    source = ReplaySource.open(db_path, str(session), Selection())
    emitted: list[tuple[int, int]] = []

    def note(frame: RecordedFrame, due_ns: int) -> None:
        emitted.append((due_ns, now_ns()))

    asyncio.run(play(source, JsonlSink(io.StringIO()), speed=2, idle_limit_s=0.5, on_emitted=note))
    dues = [due for due, _ in emitted]
    gaps_s = [(b - a) / 1e9 for a, b in itertools.pairwise(dues)]
    # The pause is replayed as 0.5 s of recorded time, at speed 2: 0.25 s.
    assert gaps_s == pytest.approx([0.05, 0.05, 0.25, 0.05, 0.05], abs=1e-9)
    assert all(at >= due for due, at in emitted)  # never early


def test_readable_stream_of_a_real_session(db_path: str) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    result = run_cli("replay", str(session), "--speed", "50", db_path=db_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    lines = text.splitlines()
    assert lines[0].split()[1:3] == ["server", "session.created"]
    # 12 argument deltas become one growing line, not 12.
    arguments = [line for line in lines if "arguments item_" in line]
    assert len(arguments) == 1 and '"city"' in arguments[0]
    assert sum("response.function_call_arguments.delta" in line for line in lines) == 0
    assert any("client  conversation.item.create" in line for line in lines)
    assert "\x1b[" not in text  # not a terminal: no colour


def test_selection_from_until_only_type(db_path: str) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    export = run_cli("export", str(session), db_path=db_path).stdout.decode().splitlines()

    def replayed(*args: str) -> list[str]:
        result = run_cli(
            "replay", str(session), "--jsonl", "--speed", "100", *args, db_path=db_path
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.decode().splitlines()

    assert replayed("--from", "#3", "--until", "#7") == export[3:8]
    # Seconds: t advances 20 ms per event in this fixture; both ends inclusive.
    assert replayed("--from", "0.1", "--until", "0.2") == export[5:11]
    only_client = replayed("--only", "client")
    assert only_client == [line for line in export if '"dir":"client"' in line]
    deltas = replayed("--type", "*.delta")
    assert deltas and all(".delta" in json.loads(line)["frame"] for line in deltas)
    no_deltas = replayed("--type", "!*.delta")
    assert len(no_deltas) + len(deltas) == len(export)


def test_terminal_replay_ends_quietly_when_the_reader_goes_away(db_path: str) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    proc = subprocess.run(
        f"{sys.executable} -m rtrec replay {session} --speed 100 | head -n 2",
        shell=True,
        capture_output=True,
        env={**os.environ, "RTREC_DB": db_path},
        timeout=60,
    )
    assert len(proc.stdout.decode().splitlines()) == 2
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["99"], "no session '99'"),
        (["last", "--speed", "0"], "bad --speed '0'"),
        (["last", "--speed", "-2"], "bad --speed"),
        (["last", "--speed", "fast"], "bad --speed"),
        (["last", "--idle-limit", "-1"], "bad --idle-limit"),
        (["last", "--from", "soon"], "bad --from"),
        (["last", "--only", "both"], "bad --only"),
        (["last", "--serve", "nowhere"], "bad --serve"),
        (["last", "--serve", "127.0.0.1:70000"], "bad --serve"),
        (["last", "--pace", "client"], "--pace applies to --serve"),
        (["last", "--jsonl", "--serve", ":0"], "choose one of"),
        (["last", "--type", "no.such.type"], "nothing to replay"),
        (["last", "--from", "#9999"], "nothing to replay"),
        (["last", "--to", "ftp://example.com"], "bad --to"),
        (["last", "--to", "ws://127.0.0.1:9", "--header", "no colon"], "bad --header"),
    ],
)
def test_mistakes_get_one_line_and_a_non_zero_exit(
    db_path: str, args: list[str], message: str
) -> None:
    import_file(db_path, TOOL_CALL_ROUND)
    result = run_cli("replay", *args, db_path=db_path)
    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr


def test_port_in_use_and_unreachable_server_are_clear_errors(db_path: str) -> None:
    import_file(db_path, TOOL_CALL_ROUND)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_cli("replay", "last", "--serve", f"127.0.0.1:{port}", db_path=db_path)
    assert busy.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr.decode()
    assert len(busy.stderr.decode().strip().splitlines()) == 1
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        free_port = closed.getsockname()[1]  # bound, never listening: connections are refused
        unreachable = run_cli(
            "replay", "last", "--to", f"ws://127.0.0.1:{free_port}", db_path=db_path
        )
    stderr = unreachable.stderr.decode()
    assert unreachable.returncode != 0
    assert f"cannot reach ws://127.0.0.1:{free_port}/" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_colour_is_for_terminals_unless_asked(db_path: str) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    plain = run_cli("replay", str(session), "--speed", "100", db_path=db_path)
    coloured = run_cli("replay", str(session), "--speed", "100", "--color", db_path=db_path)
    assert b"\x1b[" not in plain.stdout
    assert b"\x1b[35mserver" in coloured.stdout
    # Without the escapes, the text is the same.
    stripped = re.sub(rb"\x1b\[[0-9;]*m", b"", coloured.stdout)
    assert stripped == plain.stdout


def test_a_replay_from_mid_session_times_audio_in_the_format_then_in_force(
    db_path: str,
) -> None:
    # The μ-law format is set before the replay's first frame; the durations it shows
    # must still use it (the media fold walks the whole session, not only what is shown).
    ulaw = {"audio": {"output": {"format": {"type": "audio/pcmu"}}}}
    delta = base64.b64encode(bytes(800)).decode()  # 100 ms of μ-law, 33 ms of pcm16
    lines = [
        event_line(0.0, "server", {"type": "session.created", "session": {}}),
        event_line(0.01, "server", {"type": "session.updated", "session": ulaw}),
    ]
    lines += [
        event_line(
            0.1 + 0.01 * i,
            "server",
            {"type": "response.output_audio.delta", "item_id": "it", "delta": delta},
        )
        for i in range(5)
    ]
    lines.append(event_line(0.2, "server", {"type": "response.done", "response": {}}))
    session = import_lines(db_path, lines)
    for args in (("--from", "#2"), ("--only", "server", "--type", "response.*")):
        result = run_cli("replay", str(session), "--speed", "100", *args, db_path=db_path)
        assert result.returncode == 0, result.stderr
        assert "assistant audio  0.50 s in 5 deltas  it" in result.stdout.decode()
