"""`rtrec demo`: record a simulated call through the real relay, offline, with no API key."""

from __future__ import annotations

import shlex

import click

from rtrec.aio import run
from rtrec.cli.options import db_option
from rtrec.sim.demo import run_demo
from rtrec.sim.protocols import SIM_PROTOCOLS
from rtrec.store.db import default_db_path


def next_steps(db_path: str) -> str:
    """What to try next, with --db when the demo did not record into the default database."""
    db = "" if db_path == default_db_path() else f" --db {shlex.quote(db_path)}"
    lines = [
        (f"rtrec sessions{db}", "the recorded sessions"),
        (f"rtrec show last{db}", "the rebuilt conversation"),
        (f"rtrec replay last --speed 4{db}", "watch it again, 4x"),
        (f"rtrec export-wav last --out demo-audio --timeline{db}", "what the user heard"),
        (
            f'rtrec sql "SELECT turn, text, latency_ms FROM turns"{db}',
            "voice latency per turn",
        ),
        (f"rtrec export last{db} > demo.jsonl", "every frame, exactly"),
    ]
    width = max(len(command) for command, _ in lines) + 2
    return "Try next:\n" + "\n".join(f"  {command.ljust(width)}# {why}" for command, why in lines)


@click.command()
@db_option
@click.option(
    "--protocol",
    type=click.Choice(SIM_PROTOCOLS),
    default="realtime",
    show_default=True,
    help="The protocol of the simulated call: OpenAI Realtime, GPT-Live or Gemini Live.",
)
def demo(db_path: str, protocol: str) -> None:
    """Run a simulated server and a scripted client through the relay, offline."""
    click.echo(f"rtrec demo: recording a simulated voice-agent call into {db_path}")
    session_id = run(run_demo(db_path, lambda line: click.echo(f"  {line}"), protocol))
    click.echo(f"\nRecorded session {session_id} in {db_path}.\n")
    click.echo(next_steps(db_path))


COMMANDS = [demo]
