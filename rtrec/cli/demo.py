"""`rtrec demo`: record a simulated call through the real relay, offline, with no API key."""

from __future__ import annotations

import click

from rtrec.aio import run
from rtrec.cli.options import db_option
from rtrec.sim.demo import run_demo
from rtrec.sim.protocols import SIM_PROTOCOLS

NEXT_STEPS = """\
Try next:
  rtrec sessions                                   # the recorded sessions
  rtrec show last                                  # the rebuilt conversation
  rtrec replay last --speed 4                      # watch it again, 4x
  rtrec export-wav last --out demo-audio --timeline
  rtrec sql "SELECT type, count(*) FROM events GROUP BY type ORDER BY 2 DESC"
  rtrec export last > demo.jsonl                   # every frame, exactly"""


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
    click.echo(NEXT_STEPS)


COMMANDS = [demo]
