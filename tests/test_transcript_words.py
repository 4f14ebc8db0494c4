"""The words of `rtrec show` and `rtrec diff`: plurals, and short spans in milliseconds."""

from __future__ import annotations

from typing import Any

from rtrec.cli.transcript import render
from rtrec.diff import diff_lines
from rtrec.timefmt import format_span_ms, plural


def state(*, events: int, responses: int, truncated_ms: float | None) -> dict[str, Any]:
    item = {
        "item_id": "item_1",
        "ordinal": 0,
        "position": 0,
        "type": "message",
        "role": "assistant",
        "status": "incomplete",
        "text": "Once upon a time",
        "audio_ms": 640.0,
        "truncated_ms": truncated_ms,
        "added_ms": 120.0,
        "deleted": 0,
    }
    return {
        "session": {
            "session_id": 1,
            "uuid": "0000",
            "event_count": events,
            "responses": responses,
            "audio_in_ms": 43.0,
            "audio_out_ms": 2500.0,
        },
        "items": [item],
        "responses": [],
        "turns": [],
        "tool_calls": [],
        "errors": [],
        "session_updates": [],
        "out_of_band_items": [],
    }


def test_one_is_singular():
    totals = render(state(events=1, responses=1, truncated_ms=None))[1]
    assert "1 event ·" in totals and "1 response" in totals and "responses" not in totals
    many = render(state(events=1204, responses=2, truncated_ms=None))[1]
    assert "1,204 events" in many and "2 responses" in many
    assert plural(0, "session") == "0 sessions" and plural(1, "file") == "1 file"


def test_short_spans_are_in_milliseconds():
    lines = render(state(events=9, responses=0, truncated_ms=43.0))
    assert "audio 43 ms in / 2.5 s out" in lines[1]
    assert "assistant (audio 640 ms) [cut at 43 ms] [incomplete]: Once upon a time" in lines[3]
    assert format_span_ms(999.4) == "999 ms" and format_span_ms(999.6) == "1.0 s"
    # A cut at the very start is a cut, too.
    assert "[cut at 0 ms]" in render(state(events=9, responses=0, truncated_ms=0.0))[3]


def test_diff_names_short_cuts_in_milliseconds():
    left = state(events=9, responses=0, truncated_ms=43.0)
    right = state(events=9, responses=0, truncated_ms=380.0)
    changes = "\n".join(diff_lines(left, right, "a", "b"))
    assert "[cut at 43 ms]" in changes and "[cut at 380 ms]" in changes
