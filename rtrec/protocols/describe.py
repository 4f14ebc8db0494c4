"""How the terminal replay shows a frame, as each adapter describes it.  Pure.

The terminal view (rtrec/replay/terminal.py) does the layout: times, colours, growing
text lines, audio summaries.  An adapter only says what a frame is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Line:
    """One ordinary line: the event's name and the one detail worth seeing."""

    name: str
    detail: str = ""
    error: bool = False


@dataclass(frozen=True, slots=True)
class Grow:
    """A fragment of streamed text, appended to the open line of the same stream.

    `label` says whose text it is ("assistant transcript"); `key` tells streams apart
    (the item and content part it belongs to).
    """

    label: str
    key: tuple[str | None, int | None]
    fragment: str


@dataclass(frozen=True, slots=True)
class Audio:
    """An audio chunk: nothing printed now; its duration joins the run it belongs to."""

    label: str
    key: str | None  # the item it belongs to (None: the user's stream)
    unit: str = "delta"  # what one such event is called in the summary


Description = Line | Grow | Audio

DETAIL_CHARS = 72


def shorten(text: str, limit: int = DETAIL_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
