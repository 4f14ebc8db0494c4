"""Run an rtrec command in this process and report its own peak RSS on stderr.

    python -m bench.peak export-wav 1 --out DIR …

getrusage's ru_maxrss survives exec on Linux, so a child forked from a large
benchmark process would report the parent's size; VmHWM belongs to the new program.
"""

from __future__ import annotations

import sys

from rtrec.cli.main import cli

MARKER = "bench.peak VmHWM_KiB"


def peak_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    try:
        cli(args=sys.argv[1:], prog_name="rtrec")
    finally:
        print(f"{MARKER} {peak_kib()}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
