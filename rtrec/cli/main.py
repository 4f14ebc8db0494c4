"""The `rtrec` command: a click group whose commands live one per module."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
from typing import Any

import click

from rtrec import __version__
from rtrec.cli.options import DB_PATH_KEY
from rtrec.cli.wording import cli_message
from rtrec.errors import RtrecError
from rtrec.store.db import StoreFailure, explain

# Each command's module, imported only when that command runs (or help lists them):
# importing them all would make every command pay for numpy, soundfile and the simulator.
COMMAND_MODULES = {
    "record": "rtrec.cli.record",
    "sessions": "rtrec.cli.sessions",
    "show": "rtrec.cli.show",
    "sql": "rtrec.cli.sql",
    "replay": "rtrec.cli.replay",
    "export-wav": "rtrec.cli.export_wav",
    "export-parquet": "rtrec.cli.export_parquet",
    "diff": "rtrec.cli.diff",
    "export": "rtrec.cli.transfer",
    "import": "rtrec.cli.transfer",
    "reproject": "rtrec.cli.reproject",
    "demo": "rtrec.cli.demo",
    "sim": "rtrec.cli.sim",
    "otel": "rtrec.cli.otel",
    "view": "rtrec.cli.view",
    "ui": "rtrec.cli.ui",
}

# Exit statuses (README, "Commands"): 1 for every mistake, a command line click cannot
# parse included (README promises one status for all of them); 130 after Ctrl-C; 141
# when the reader of stdout went away, as a process killed by SIGPIPE would report.
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class _Interrupted(Exception):
    """Ctrl-C, carried past click (which would print a blank line and 'Aborted!')."""


class _BrokenPipe(Exception):
    """stdout's reader went away, carried past click (which would exit 1 or 0)."""


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
            raise click.ClickException(cli_message(exc)) from exc
        except StoreFailure as exc:
            # A database that fails under a command (a full disk, an I/O error) is the
            # user's to fix, and a line that says so is all they need.
            db_path = ctx.meta.get(DB_PATH_KEY) or "the database"
            raise click.ClickException(str(explain(db_path, exc))) from exc
        except KeyboardInterrupt as exc:
            raise _Interrupted from exc
        except BrokenPipeError as exc:
            raise _BrokenPipe from exc


@click.group(cls=RtrecGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rtrec")
def cli() -> None:
    """Record, rebuild, replay and export realtime voice sessions (OpenAI Realtime,
    GPT-Live, Gemini Live).

    Every command takes --db PATH (env RTREC_DB, default ./rtrec.db).  SESSION is a
    session id, a uuid prefix, or `last`.
    """


def main() -> None:
    sys.exit(run_cli())


def run_cli(args: list[str] | None = None) -> int:
    """Run one command; its exit status.  Every failure is one line on stderr."""
    _watch_stdout()
    try:
        try:
            result = cli.main(args, prog_name="rtrec", standalone_mode=False)
        finally:
            # What is still buffered is part of the output: a full disk shows here.
            sys.stdout.flush()
    except click.UsageError as exc:
        _error(_usage_line(exc))
        return EXIT_ERROR
    except click.ClickException as exc:
        _error(f"Error: {exc.format_message()}")
        return EXIT_ERROR
    except (_Interrupted, KeyboardInterrupt, click.Abort):
        _error("rtrec: interrupted")
        return EXIT_INTERRUPTED
    except (_BrokenPipe, BrokenPipeError) as exc:
        if not isinstance(exc, _BrokenPipe | StdoutError):
            raise  # a socket, not stdout: a bug, with its traceback
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except StdoutError as exc:
        _silence_stdout()
        _error(f"Error: cannot write to standard output: {exc.strerror or exc}")
        return EXIT_ERROR
    return result if isinstance(result, int) else 0


def _usage_line(exc: click.UsageError) -> str:
    command = exc.ctx.command_path if exc.ctx is not None else "rtrec"
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return f"Error: give a command: {', '.join(COMMAND_MODULES)} (see 'rtrec --help')"
    message = " ".join(exc.format_message().split())
    return f"Error: {message} (see '{command} --help')"


def _error(line: str) -> None:
    with contextlib.suppress(OSError):  # stderr gone too: the exit status is what is left
        click.echo(line, err=True)


class StdoutError(OSError):
    """Writing to stdout failed (a full disk behind `> file`, /dev/full, an I/O error)."""


class StdoutBrokenPipe(StdoutError, BrokenPipeError):
    """stdout's reader went away (`| head`)."""


class _StdoutFile(io.FileIO):
    """stdout's file descriptor, whose write errors say that they are stdout's."""

    def write(self, data: Any) -> int:
        try:
            return super().write(data)
        except BrokenPipeError as exc:
            raise StdoutBrokenPipe(exc.errno, exc.strerror) from exc
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror) from exc


def _watch_stdout() -> None:
    """Route stdout through _StdoutFile, so that its failures are told apart from others."""
    stream = sys.stdout
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a file (a test runner's capture): nothing to watch
    stream.flush()
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(_StdoutFile(fd, "w", closefd=False)),
        encoding=stream.encoding,
        errors=stream.errors,
        newline=None,
        line_buffering=bool(stream.line_buffering),
    )


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush has nothing to report."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
