"""The `rtrec` command: a click group whose commands live one per module."""

from __future__ import annotations

import sys
from typing import Any

import click

from rtrec import __version__
from rtrec.errors import RtrecError


class RtrecGroup(click.Group):
    """Turns rtrec's own errors into one line on stderr and exit status 1."""

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


def _register() -> None:
    from rtrec.cli import (
        demo,
        export_wav,
        record,
        replay,
        reproject,
        sessions,
        show,
        sql,
        transfer,
    )

    for module in (record, sessions, transfer, replay, demo, export_wav, show, sql, reproject):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    try:
        cli(prog_name="rtrec")
    except KeyboardInterrupt:
        sys.exit(130)
