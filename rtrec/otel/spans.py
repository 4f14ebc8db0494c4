"""The shapes a trace is built of, before any OpenTelemetry type is involved."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What an attribute may hold (the OpenTelemetry attribute types rtrec uses).
AttributeValue = str | bool | int | float | list[str]


@dataclass(frozen=True, slots=True)
class TraceOptions:
    with_content: bool = False  # transcripts, instructions, tool arguments and outputs
    with_audio: bool = False  # audio as base64 in the message attributes


@dataclass(frozen=True, slots=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AudioPart:
    """A WAV file to send as a blob part of the message `role` in `attribute`."""

    attribute: str
    role: str
    path: Path


@dataclass(slots=True)
class SpanSpec:
    """One span: `key` says what it stands for (and seeds its id)."""

    key: str
    name: str
    span_id: int
    parent_id: int | None
    start_ns: int
    end_ns: int
    attributes: dict[str, AttributeValue]
    events: list[SpanEvent] = field(default_factory=list)
    error: str | None = None  # set: the span's status is ERROR with this description
    client: bool = False  # a call to the model (SpanKind.CLIENT) rather than INTERNAL
    audio: list[AudioPart] = field(default_factory=list)  # read in only when sent

    def cover(self, start_ns: int | None, end_ns: int | None) -> None:
        """Widen the span to contain [start_ns, end_ns] (a parent contains its children)."""
        if start_ns is not None:
            self.start_ns = min(self.start_ns, start_ns)
        if end_ns is not None:
            self.end_ns = max(self.end_ns, end_ns)

    def contains(self, time_ns: int) -> bool:
        return self.start_ns <= time_ns <= self.end_ns


@dataclass(slots=True)
class Trace:
    trace_id: int
    session_uuid: str
    spans: list[SpanSpec]

    @property
    def root(self) -> SpanSpec:
        return self.spans[0]


def drop_none(values: dict[str, Any]) -> dict[str, AttributeValue]:
    return {k: v for k, v in values.items() if v is not None}
