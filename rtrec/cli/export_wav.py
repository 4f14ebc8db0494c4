"""`rtrec export-wav`: a session's audio as WAV (or FLAC) files."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

import click

from rtrec.cli.options import db_option, session_argument
from rtrec.replay.wav.export import CONTAINERS, SPLITS, ExportOptions, export_wav
from rtrec.store.reader import resolve_session
from rtrec.store.reading import open_reader
from rtrec.timefmt import plural

MAX_WARNINGS_SHOWN = 20


class ProgressBar:
    """A one-line bar on stderr for exports that take a while; silent off a terminal."""

    DELAY_S = 0.5
    INTERVAL_S = 0.1
    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.last_drawn = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.DELAY_S or now - self.last_drawn < self.INTERVAL_S:
            return
        self.last_drawn = now
        fraction = min(1.0, done / max(1, total))
        filled = int(fraction * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\rexporting [{bar}] {fraction:4.0%}")
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * (self.WIDTH + 20) + "\r")
            self.stream.flush()


class Warnings:
    """Prints the first warnings in full, then only counts them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, message: str) -> None:
        self.count += 1
        if self.count <= MAX_WARNINGS_SHOWN:
            click.echo(f"rtrec: warning: {message}", err=True)

    def summary(self) -> None:
        hidden = self.count - MAX_WARNINGS_SHOWN
        if hidden > 0:
            click.echo(f"rtrec: warning: … and {plural(hidden, 'more warning')}", err=True)


def _describe_rate(rate: int) -> str:
    return f"{rate / 1000:g} kHz"


@click.command(name="export-wav")
@db_option
@session_argument
@click.option(
    "--out",
    "out_dir",
    metavar="DIR",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory for the audio files (created if missing).",
)
@click.option(
    "--split",
    type=click.Choice(SPLITS),
    multiple=True,
    help="Also write one file per response or per conversation item (repeatable).",
)
@click.option(
    "--timeline",
    is_flag=True,
    help="Also write a stereo timeline of what the user heard: user left, assistant right.",
)
@click.option(
    "--format",
    "container",
    type=click.Choice(CONTAINERS),
    default="wav",
    show_default=True,
    help="File format.",
)
@click.option(
    "--keep-encoding",
    is_flag=True,
    help="Keep G.711 audio as μ-law/A-law WAV instead of decoding it to 16-bit PCM.",
)
def export_wav_command(
    db_path: str,
    session: str,
    out_dir: Path,
    split: tuple[str, ...],
    timeline: bool,
    container: str,
    keep_encoding: bool,
) -> None:
    """Write a session's audio as files in --out DIR.

    user.wav holds every input_audio_buffer.append, assistant.wav every response audio
    delta, each in the session's format and rate (a format change starts a new file).
    """
    conn = open_reader(db_path)
    progress = ProgressBar(sys.stderr)
    warnings = Warnings()
    try:
        ref = resolve_session(conn, session)
        options = ExportOptions(
            out_dir=out_dir,
            split=frozenset(split),
            timeline=timeline,
            container=container,
            keep_encoding=keep_encoding,
        )
        try:
            result = export_wav(conn, ref, options, warn=warnings, progress=progress)
        finally:
            progress.clear()
    finally:
        conn.close()
    warnings.summary()
    for written in sorted(result.files, key=lambda w: w.path.name):
        channels = "stereo" if written.channels == 2 else "mono"
        click.echo(
            f"{written.path}  {written.seconds:.2f} s  {written.encoding} "
            f"{_describe_rate(written.rate)} {channels}"
        )
    skipped = f", {result.skipped} skipped" if result.skipped else ""
    click.echo(
        f"exported {plural(result.chunks, 'audio chunk')}{skipped} from session {ref.id} "
        f"into {plural(len(result.files), 'file')}",
        err=True,
    )


COMMANDS = [export_wav_command]
