"""Render bench/results/*.json as the Markdown table of README's Performance section.

python -m bench.report [NAME ...]
"""

from __future__ import annotations

import json
import sys

from bench.common import RESULTS_DIR, format_value


def rows(name: str) -> list[str]:
    data = json.loads((RESULTS_DIR / f"{name}.json").read_text())
    out = []
    for r in data["results"]:
        baseline = (
            f"{format_value(r['baseline'], r['unit'])} ({r['baseline_name']})"
            if r["baseline"] is not None
            else ""
        )
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        out.append(
            f"| {r['benchmark']} | {r['metric']} | {format_value(r['value'], r['unit'])} "
            f"| {baseline} | {ratio} | {r['target']} | {met} |"
        )
    return out


def main() -> None:
    names = sys.argv[1:] or sorted(p.stem for p in RESULTS_DIR.glob("*.json") if p.stem != "all")
    print("| benchmark | metric | value | baseline (same run) | ratio | target | met |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        print("\n".join(rows(name)))


if __name__ == "__main__":
    main()
