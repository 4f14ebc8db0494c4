"""Comparing two sessions' conversations: what `rtrec diff` prints.  Pure: no I/O.

Each conversation item becomes one line of what it says (who spoke, the text or
transcript, a tool call with its arguments, a tool's output), without the ids the
server makes up, so that a replay of a call against a live server (`rtrec replay
--to`) can be compared with the original line by line.
"""

from __future__ import annotations

import difflib
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from rtrec.timefmt import format_span_ms

Row = Mapping[str, Any]


def item_line(item: Row) -> str:
    kind = item.get("type")
    if kind == "message":
        text = item.get("text")
        said = text if text else "(no text or transcript)"
        cut = (
            f" [cut at {format_span_ms(item['truncated_ms'])}]"
            if item.get("truncated_ms") is not None
            else ""
        )
        return f"{item.get('role') or '?'}: {said}{cut}"
    if kind == "function_call":
        return f"tool call: {item.get('name')}({item.get('arguments') or ''})"
    if kind == "function_call_output":
        return f"tool output: {item.get('output')}"
    return f"{kind}: {item.get('name') or item.get('text') or ''}".rstrip(": ")


def conversation_lines(items: Sequence[Row]) -> list[str]:
    """The conversation as it stood at the end: items in order, deleted ones left out."""
    return [item_line(item) for item in items if not item.get("deleted")]


def summary(projection: Mapping[str, Any]) -> dict[str, Any]:
    responses = projection.get("responses") or []
    latencies = [
        t["latency_ms"] for t in projection.get("turns") or [] if t.get("latency_ms") is not None
    ]
    return {
        "items": len(conversation_lines(projection.get("items") or [])),
        "responses": len(responses),
        "completed": sum(1 for r in responses if r.get("status") == "completed"),
        "output_tokens": sum(r.get("output_tokens") or 0 for r in responses),
        "total_tokens": sum(r.get("total_tokens") or 0 for r in responses),
        "turn_latency_p50_ms": statistics.median(latencies) if latencies else None,
        "errors": len(projection.get("errors") or []),
    }


def diff_lines(a: Mapping[str, Any], b: Mapping[str, Any], a_label: str, b_label: str) -> list[str]:
    """A unified diff of the two conversations (empty when they say the same)."""
    return list(
        difflib.unified_diff(
            conversation_lines(a.get("items") or []),
            conversation_lines(b.get("items") or []),
            fromfile=a_label,
            tofile=b_label,
            lineterm="",
        )
    )


def summary_lines(
    a: Mapping[str, Any], b: Mapping[str, Any], a_label: str, b_label: str
) -> list[str]:
    left, right = summary(a), summary(b)
    width = max(len(a_label), len(b_label), 6)
    out = [f"{'':22} {a_label:>{width}}  {b_label:>{width}}"]
    for key, left_value in left.items():
        marker = "" if left_value == right[key] else "  *"
        out.append(f"{key:22} {_show(left_value):>{width}}  {_show(right[key]):>{width}}{marker}")
    return out


def _show(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if isinstance(value, float) else str(value)
