"""A trace as an indented tree of spans, for `rtrec otel --dry-run`."""

from __future__ import annotations

from collections import defaultdict

from rtrec.otel.spans import SpanSpec, Trace

# Attributes worth a glance on each line of the tree, in this order.
_SHOWN = (
    "rtrec.turn.latency_ms",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.tool.name",
    "rtrec.response.status",
    "rtrec.session.end_reason",
)
_SHORT = {
    "rtrec.turn.latency_ms": "latency",
    "gen_ai.usage.input_tokens": "in",
    "gen_ai.usage.output_tokens": "out",
    "gen_ai.tool.name": "tool",
    "rtrec.response.status": "status",
    "rtrec.session.end_reason": "end",
}


def render_tree(trace: Trace) -> list[str]:
    children: dict[int | None, list[SpanSpec]] = defaultdict(list)
    for span in trace.spans:
        children[span.parent_id].append(span)
    origin = trace.root.start_ns
    lines = [f"trace {trace.trace_id:032x} (session {trace.session_uuid})"]

    def walk(span: SpanSpec, depth: int) -> None:
        offset = (span.start_ns - origin) / 1e9
        length = (span.end_ns - span.start_ns) / 1e6
        notes = [f"{_SHORT[k]}={_fmt(span.attributes[k])}" for k in _SHOWN if k in span.attributes]
        notes += [f"{e.name}@{(e.time_ns - origin) / 1e9:.3f}s" for e in span.events]
        if span.error:
            notes.append(f"ERROR {span.error}")
        text = f"{'  ' * depth}{span.name}  +{offset:.3f}s {length:.0f} ms"
        lines.append(f"{text}  {' '.join(notes)}".rstrip())
        for child in sorted(children.get(span.span_id, []), key=lambda s: s.start_ns):
            walk(child, depth + 1)

    walk(trace.root, 1)
    return lines


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0f}ms" if value >= 1 else f"{value:.1f}ms"
    return str(value)
