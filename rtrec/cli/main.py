"""The `rtrec` command: a click group whose commands live one per module."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from rtrec import __version__
from rtrec.errors import RtrecError

# Each command's module, imported only when that command runs (or help lists them):
# importing them all would make every command pay for numpy, soundfile and the simulator.
COMMAND_MODULES = {
    "record": "rtrec.cli.record",
    "sessions": "rtrec.cli.sessions",
    "show": "rtrec.cli.show",
    "sql": "rtrec.cli.sql",
    "replay": "rtrec.cli.replay",
    "export-wav": "rtrec.cli.export_wav",
    "diff": "rtrec.cli.diff",
    "export": "rtrec.cli.transfer",
    "import": "rtrec.cli.transfer",
    "reproject": "rtrec.cli.reproject",
    "demo": "rtrec.cli.demo",
    "view": "rtrec.cli.view",
    "ui": "rtrec.cli.ui",
}


class RtrecGroup(click.Group):
    """Loads commands on demand, and turns rtrec's own errors into one line and exit 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(module_name)
        return next(c for c in module.COMMANDS if c.name == cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RtrecError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=RtrecGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rtrec")
def cli() -> None:
    """Record, rebuild, replay and export OpenAI Realtime API sessions.

    Every command takes --db PATH (env RTREC_DB, default ./rtrec.db).
    """


def main() -> None:
    try:
        cli(prog_name="rtrec")
    except KeyboardInterrupt:
        sys.exit(130)
