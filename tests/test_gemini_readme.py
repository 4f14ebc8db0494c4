"""README's Gemini Live section shows what `rtrec show` prints for a real session."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REAL_SESSIONS, run_cli

README = Path(__file__).resolve().parents[1] / "README.md"
TOOL_ROUND = REAL_SESSIONS / "gemini" / "test_google_ws__test_tool_call_round.jsonl"


def _section_sample() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Gemini Live\n")
    section = text[start : text.index("\n## ", start + 1)]
    (block,) = re.findall(r"```console\n\$ rtrec show last\n(.*?)```", section, re.DOTALL)
    return block.splitlines()


def test_the_show_sample_is_what_show_prints(tmp_path: Path) -> None:
    db_path = str(tmp_path / "rtrec.db")
    assert run_cli("import", str(TOOL_ROUND), db_path=db_path).returncode == 0
    shown = run_cli("show", "last", db_path=db_path)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.decode().splitlines()
    sample = _section_sample()
    assert len(lines) == len(sample)
    for printed, promised in zip(lines, sample, strict=True):
        # "…" in the sample stands for what differs from run to run (uuid, date).
        pattern = ".+".join(re.escape(piece) for piece in promised.split("…"))
        assert re.fullmatch(pattern, printed), (printed, promised)
