"""Results, tables and JSON output shared by the benchmarks."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass
class Result:
    """One measured figure, next to the baseline measured in the same run."""

    benchmark: str
    metric: str
    value: float
    unit: str
    baseline: float | None = None  # the same metric for the baseline, same run
    baseline_name: str = ""
    target: str = ""  # e.g. ">= 0.8x baseline", "<= 3x"
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline


def environment() -> dict[str, object]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def format_value(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def print_table(results: list[Result]) -> None:
    rows = [("benchmark", "metric", "value", "baseline", "ratio", "target", "met")]
    for r in results:
        rows.append(
            (
                r.benchmark,
                r.metric,
                format_value(r.value, r.unit),
                f"{format_value(r.baseline, r.unit)} ({r.baseline_name})"
                if r.baseline is not None
                else "-",
                f"{r.ratio:.2f}x" if r.ratio is not None else "-",
                r.target or "-",
                {True: "yes", False: "NO", None: "-"}[r.met],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def write_json(name: str, results: list[Result]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {
        "environment": environment(),
        "results": [asdict(r) | {"ratio": r.ratio} for r in results],
    }
    path.write_text(json.dumps(payload, indent=2))
    return path
