"""Output files appear complete or not at all: a full disk (a real, small tmpfs) leaves no
partial export, no partial WAV, no half-made database, and one line saying why.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
import soundfile

from tests.conftest import REAL_SESSIONS, run_cli
from tests.recording_support import small_filesystem

TOOL_CALL = REAL_SESSIONS / "test_openai_ws__test_tool_call_round.jsonl"


def audio_session(path: Path, appends: int) -> Path:
    """A session of `appends` 200 ms pcm16 appends (9.6 KB each), as `rtrec import` reads."""
    fmt = {"format": {"type": "audio/pcm", "rate": 24000}}
    created = {"type": "session.created", "session": {"audio": {"input": fmt, "output": fmt}}}
    chunk = base64.b64encode(os.urandom(9600)).decode()
    lines = [json.dumps({"t": 0, "dir": "server", "event": created})]
    for n in range(appends):
        event = {"type": "input_audio_buffer.append", "audio": chunk}
        lines.append(json.dumps({"t": 0.1 + n * 0.2, "dir": "client", "event": event}))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database holding a session with 2.3 MB of audio (3.1 MB exported)."""
    where = tmp_path_factory.mktemp("big")
    db_path = str(where / "rtrec.db")
    source = audio_session(where / "big.jsonl", 240)
    assert run_cli("import", str(source), "--db", db_path).returncode == 0
    return db_path


def one_line_error(result: subprocess.CompletedProcess[bytes], *needles: str) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_export_to_a_full_disk_leaves_no_partial_file(tmp_path, big):
    with small_filesystem(tmp_path / "small", 1) as small:
        target = small / "call.jsonl"
        target.write_text("the previous export\n")
        result = run_cli("export", "last", "-o", str(target), "--db", big)
        one_line_error(result, f"cannot write {target}", "No space left on device")
        assert sorted(p.name for p in small.iterdir()) == ["call.jsonl"]
        assert target.read_text() == "the previous export\n"
        fresh = small / "new.jsonl"
        one_line_error(run_cli("export", "last", "-o", str(fresh), "--db", big), "No space")
        assert not fresh.exists() and sorted(p.name for p in small.iterdir()) == ["call.jsonl"]


def test_export_writes_the_whole_file_or_none(tmp_path, big):
    target = tmp_path / "call.jsonl"
    assert run_cli("export", "last", "-o", str(target), "--db", big).returncode == 0
    assert target.read_bytes() == run_cli("export", "last", "--db", big).stdout
    missing = run_cli("export", "nosuch", "-o", str(tmp_path / "no.jsonl"), "--db", big)
    one_line_error(missing, "no session 'nosuch'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call.jsonl"]


@pytest.mark.parametrize("flags", [[], ["--timeline", "--format", "flac"]])
def test_export_wav_to_a_full_disk_leaves_no_partial_wav(tmp_path, big, flags):
    with small_filesystem(tmp_path / "small", 1) as small:
        out = small / "audio"
        out.mkdir()
        (out / "user.wav").write_bytes(b"an older export")
        result = run_cli("export-wav", "last", "--out", str(out), *flags, "--db", big)
        one_line_error(result, "cannot write", "No space left on device")
        assert sorted(p.name for p in out.iterdir()) == ["user.wav"]
        assert (out / "user.wav").read_bytes() == b"an older export"


def test_export_wav_replaces_files_only_when_complete(tmp_path, big):
    out = tmp_path / "audio"
    out.mkdir()
    (out / "user.wav").write_bytes(b"an older export")
    result = run_cli("export-wav", "last", "--out", str(out), "--db", big)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["user.wav"]
    assert soundfile.info(str(out / "user.wav")).frames == 240 * 4800


def test_a_wav_path_that_is_a_directory_is_named(tmp_path, big):
    out = tmp_path / "audio"
    (out / "user.wav").mkdir(parents=True)
    result = run_cli("export-wav", "last", "--out", str(out), "--db", big)
    one_line_error(result, f"cannot write {out / 'user.wav'}: it is a directory")
    assert sorted(p.name for p in out.iterdir()) == ["user.wav"]


def test_import_to_a_full_disk_leaves_nothing_behind(tmp_path):
    source = audio_session(tmp_path / "big.jsonl", 400)
    with small_filesystem(tmp_path / "small", 5) as small:
        db_path = small / "rtrec.db"
        # A new database: none is left, not even an empty one.
        one_line_error(
            run_cli("import", str(source), "--db", str(db_path)),
            f"cannot write to {db_path}: No space left on device",
        )
        assert list(small.iterdir()) == []
        # An existing one: unchanged, byte for byte.
        assert run_cli("import", str(TOOL_CALL), "--db", str(db_path)).returncode == 0
        before = db_path.read_bytes()
        one_line_error(
            run_cli("import", str(source), "--db", str(db_path)), "No space left on device"
        )
        assert db_path.read_bytes() == before
        assert sorted(p.name for p in small.iterdir()) == ["rtrec.db"]
        listed = run_cli("sessions", "--json", "--db", str(db_path))
        assert len(json.loads(listed.stdout)) == 1


def test_export_to_a_device_writes_to_it(tmp_path, big):
    """-o /dev/null or /dev/stdout is written as it is, not replaced by a file."""
    result = run_cli("export", "last", "-o", "/dev/null", "--db", big)
    assert result.returncode == 0, result.stderr
    assert Path("/dev/null").is_char_device()
    assert not list(Path("/dev").glob(".null.*.partial"))
    full = run_cli("export", "last", "-o", "/dev/full", "--db", big)
    one_line_error(full, "cannot write /dev/full: No space left on device")
    assert Path("/dev/full").is_char_device()
