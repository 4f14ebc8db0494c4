"""The figures the page shows, formatted once here so the page and the tests agree.  Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile, interpolating linearly between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_label(latency_ms: float | None) -> str:
    """A turn's latency as the timeline labels it: whole milliseconds, or 'no reply'."""
    if latency_ms is None:
        return "no reply"
    return f"{round(latency_ms)} ms"


def duration_text(ms: float | None) -> str:
    """1:02:03, 2:03.4 or 3.4 s."""
    if ms is None:
        return "-"
    seconds = max(0.0, ms / 1000)
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{seconds - minutes * 60:04.1f}"


def count_text(n: int | float | None, unit: str) -> str:
    if n is None:
        return "-"
    plural = unit if n == 1 else unit + "s"
    return f"{n:,} {plural}" if isinstance(n, int) else f"{n:,.1f} {plural}"
