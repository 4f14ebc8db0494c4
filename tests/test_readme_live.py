"""README's GPT-Live example is what the commands print (uuid and start time aside)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The header's session uuid and start time are those of the import that made the example.
_VARYING = re.compile(r"\([0-9a-f-]{36}\) · live · (\S+) · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def _example() -> list[tuple[str, str]]:
    section = README[README.index("\n## GPT-Live\n") : README.index("\n## Commands\n")]
    block = re.search(r"```console\n(.*?)```", section, re.DOTALL)
    assert block is not None
    commands: list[tuple[str, str]] = []
    for line in block[1].splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], ""))
        else:
            command, output = commands[-1]
            commands[-1] = (command, output + line + "\n")
    return commands


def _normal(text: str) -> str:
    return _VARYING.sub(r"(UUID) · live · \1 · START", text)


def test_the_gpt_live_example_is_what_rtrec_prints(tmp_path: Path) -> None:
    db_path = str(tmp_path / "rtrec.db")
    for command, output in _example():
        args = shlex.split(command)
        assert args[0] == "rtrec"
        # Paths in the example are the repository's.
        args = [str(ROOT / arg) if "/" in arg and (ROOT / arg).exists() else arg for arg in args]
        result = run_cli(*args[1:], db_path=db_path)
        assert result.returncode == 0, result.stderr.decode()
        assert _normal(result.stdout.decode()) == _normal(output), command
