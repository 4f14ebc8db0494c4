"""README stays true: every command documented, the setup and test commands match CI."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from rtrec.cli.main import COMMAND_MODULES, cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_command_has_a_section_with_an_example():
    for name in COMMAND_MODULES:
        heading = re.search(rf"^### .*`rtrec {re.escape(name)}\b.*$", README, re.MULTILINE)
        assert heading, f"rtrec {name} has no section in README.md"
        section = README[heading.end() : README.find("\n#", heading.end())]
        assert f"rtrec {name}" in section or name in ("export", "import"), name


def test_every_command_flag_is_mentioned():
    runner = CliRunner()
    for name in COMMAND_MODULES:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag.startswith("--") and flag not in ("--db", "--help"):
                    assert flag in README, f"rtrec {name} {flag} is not in README.md"
        assert runner.invoke(cli, [name, "--help"]).exit_code == 0


def test_setup_and_test_commands_are_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    setup = README[README.index("## Setup") : README.index("## Tests")]
    assert 'pip install -e ".[test,fast]"' in setup and "rtrec demo" in setup
    assert 'pip install --quiet -e ".[test,fast]"' in ci
    tests = README[README.index("## Tests") : README.index("## Recording")]
    assert "python -m pytest" in tests and "python -m pytest" in ci
