"""Every sample output in README comes from running its command, here and now.

The command on each `$ rtrec …` line of README is run (on a fresh `rtrec demo` call,
or on the real recordings it names) and what it prints is compared with the lines
README shows under it: the same lines and words; ids, uuids and dates stand for
themselves; numbers within a tolerance, because a demo's timings differ a little from
run to run (a stale number, such as a latency of 1 ms where the demo now takes 400,
does not pass).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REAL_SESSIONS, run_cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

_IDS = re.compile(r"\b(resp|call|item|event|sess|conv)_[A-Za-z0-9]+")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_UUID8 = re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{8}\b")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b")
_PORT = re.compile(r"127\.0\.0\.1:\d+")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\s\d]+")


def sample(command: str) -> tuple[str, list[str]]:
    """README's `$ command` (possibly spanning lines) and the output lines below it.

    The one in the Commands section: the protocol sections have samples of their own
    (checked by their own tests).
    """
    start = README.index(f"$ {command}", README.index("\n## Commands\n"))
    lines = README[start:].splitlines()
    text, rest = lines[0][2:], lines[1:]
    while True:  # a quoted argument may go on over the next lines
        try:
            shlex.split(text, comments=True)
            break
        except ValueError:
            text += "\n" + rest.pop(0)
    output = []
    for line in rest:
        if line.startswith(("$ ", "```")):
            break
        output.append(line)
    return text, output


def normalized(line: str) -> list[str]:
    line = _DATE.sub("<date>", _UUID.sub("<uuid>", _PORT.sub("<host:port>", line)))
    line = _UUID8.sub("<uuid8>", _IDS.sub(r"\1_<id>", line))
    return _TOKEN.findall(line)


def close_enough(documented: str, actual: str) -> bool:
    try:
        a, b = float(documented), float(actual)
    except ValueError:
        return documented == actual
    return abs(a - b) <= max(0.35 * max(abs(a), abs(b)), 1.0)


def assert_same(documented: list[str], actual: list[str], command: str) -> None:
    documented = [line for line in documented if line.strip()]
    actual = [line for line in actual if line.strip()]
    doc = [normalized(line) for line in documented]
    got = [normalized(line) for line in actual]
    assert len(doc) == len(got), (
        f"{command}\nREADME:\n" + "\n".join(documented) + ("\nnow:\n" + "\n".join(actual))
    )
    for n, (want, have) in enumerate(zip(doc, got, strict=True)):
        if "[incomplete]" in documented[n] and "[incomplete]" in actual[n]:
            # A reply the user talked over: how far its transcript got varies by a word.
            cut = min(len(want), len(have))
            want, have = want[:cut], have[:cut]
        same = len(want) == len(have) and all(map(close_enough, want, have))
        assert same, f"{command}, line {n + 1}:\nREADME: {documented[n]}\nnow:    {actual[n]}"


def run(command: str, cwd: Path) -> list[str]:
    """What `command` prints (stdout, then stderr), as README shows a terminal."""
    result = subprocess.run(
        shlex.split(command, comments=True), cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (command, result.stderr)
    return (result.stdout + result.stderr).splitlines()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where `rtrec demo` just ran, as README's Setup has a user do."""
    where = tmp_path_factory.mktemp("readme-demo")
    result = subprocess.run(["rtrec", "demo"], cwd=where, capture_output=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return where


@pytest.mark.parametrize(
    "command",
    [
        "rtrec sessions",
        "rtrec show last",
        'rtrec sql "SELECT turn, text, speech_stopped_ms',
        "rtrec replay last --speed 1000 --type",
        "rtrec export-wav last --out demo-audio --timeline --split response",
        "rtrec reproject",  # last: it rebuilds what the others read
    ],
)
def test_demo_samples_are_what_the_commands_print(demo_dir, command):
    text, documented = sample(command)
    assert documented, f"README shows no output under $ {command}"
    assert_same(documented, run(text, demo_dir), text)


def test_the_serve_banner(demo_dir):
    text, documented = sample("rtrec replay last --serve")
    process = subprocess.Popen(
        shlex.split(text.replace(":8766", ":0")),
        cwd=demo_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline().rstrip("\n") for _ in documented]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert_same(documented, banner, text)


def test_the_diff_sample(tmp_path):
    text, documented = sample("rtrec diff 3 4")
    db_path = str(tmp_path / "rtrec.db")
    filler = REAL_SESSIONS / "test_openai_ws__test_tool_call_round.jsonl"
    for fixture in (
        filler,
        filler,
        REAL_SESSIONS / "test_openai_ws__test_text_in_audio_out_turn.jsonl",
        REAL_SESSIONS / "test_azure_ws__test_text_in_audio_out_turn.jsonl",
    ):
        assert run_cli("import", str(fixture), db_path=db_path).returncode == 0
    command = shlex.join([*shlex.split(text, comments=True), "--db", db_path])
    assert_same(documented, run(command, tmp_path), text)


def test_the_jsonl_sample_is_the_shape_export_writes(demo_dir):
    block = README[README.index("```json\n") + 8 :]
    first = block[: block.index("\n")]
    exported = run("rtrec export last", demo_dir)[0]
    assert re.sub(r'"t":[0-9.]+', '"t":T', exported).startswith(
        re.sub(r'"t":[0-9.]+', '"t":T', first.split("…")[0])
    )
    assert json.loads(exported)["dir"] == "server"
