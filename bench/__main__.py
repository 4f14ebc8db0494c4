"""python -m bench [--quick] [--only NAME ...]"""

from __future__ import annotations

import argparse
import importlib
import sys

from bench import BENCHMARKS
from bench.common import Result, print_table, write_json


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names to run")
    args = parser.parse_args()
    names = args.only or BENCHMARKS
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; known: {BENCHMARKS}")
    everything: list[Result] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {name}: {module.DESCRIPTION}", flush=True)
        results = module.run(quick=args.quick)
        print_table(results)
        print(f"   → {write_json(name, results)}")
        everything.extend(results)
    if len(names) > 1:
        print("\n== all")
        print_table(everything)
        write_json("all", everything)
    return 0


if __name__ == "__main__":
    sys.exit(main())
