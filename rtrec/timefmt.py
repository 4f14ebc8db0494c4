"""Wall-clock times as rtrec writes them: ISO 8601 UTC with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_from_ns(wall_ns: int) -> str:
    moment = datetime.fromtimestamp(wall_ns / 1e9, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_duration(seconds: float) -> str:
    """h:mm:ss or m:ss, for people."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_span_ms(ms: float) -> str:
    """A length of audio or a position in it: `43 ms` below a second, `2.1 s` above."""
    return f"{ms:.0f} ms" if abs(ms) < 999.5 else f"{ms / 1000:.1f} s"


def plural(count: int, noun: str, nouns: str | None = None, *, grouped: bool = False) -> str:
    """`1 session`, `2 sessions`; `1,024 events` when `grouped`."""
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {noun if count == 1 else nouns or noun + 's'}"
