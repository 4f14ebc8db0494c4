"""`rtrec demo` as a new user meets it: hints that work as printed, a call whose numbers
look like a real one's, and narration that agrees with `rtrec show`."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from rtrec.sim.demo import DEMO_REPLY_DELAY_MS
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    where = tmp_path_factory.mktemp("demo")
    db_path = where / "calls" / "my demo.db"
    db_path.parent.mkdir()
    result = subprocess.run(
        ["rtrec", "demo", "--db", str(db_path)], capture_output=True, cwd=where, timeout=180
    )
    assert result.returncode == 0, result.stderr
    return db_path, result.stdout.decode()


def test_the_hints_run_as_printed_against_the_demos_database(demo, tmp_path):
    db_path, out = demo
    hints = out[out.index("Try next:") :].splitlines()[1:]
    assert len(hints) >= 5
    for hint in hints:
        command = hint.split("  #")[0].strip()
        assert f"--db {shlex.quote(str(db_path))}" in command, command
        if "replay" in command:
            command = command.replace("--speed 4", "--speed 1000000")
        result = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True)
        assert result.returncode == 0, (command, result.stderr)


def test_the_default_database_needs_no_flag(tmp_path):
    from rtrec.cli.demo import next_steps

    assert "--db" not in next_steps("rtrec.db")
    assert "--db other.db" in next_steps("other.db")


def test_replies_take_as_long_as_a_real_models(demo):
    db_path, _ = demo
    turns = json.loads(
        run_cli(
            "sql",
            "SELECT turn, latency_ms FROM turns WHERE latency_ms IS NOT NULL ORDER BY turn",
            "--json",
            "--db",
            str(db_path),
        ).stdout
    )
    assert len(turns) == 3
    low_ms, _ = DEMO_REPLY_DELAY_MS
    # Every reply thinks at least the delay's low end before its first audio.
    assert all(t["latency_ms"] >= low_ms for t in turns), turns


def test_the_narration_gives_the_user_audio_that_show_gives(demo):
    db_path, out = demo
    heard = re.findall(r"server VAD: speech (\d+\.\d) s", out)
    shown = run_cli("show", "last", "--db", str(db_path)).stdout.decode()
    in_show = re.findall(r"\] user \(audio (\d+\.\d) s\)", shown)
    assert heard and heard == in_show
