"""`--strict`: does the connected client do what the recorded client did?  Pure: no I/O.

What is compared is each client event's type and content, not the exact order of
everything the client sent, because a real client sends some events independently
(from different tasks, on its own clock) and their order varies from run to run:

- The recording's client events are cut into *stretches* at the server events between
  them: a stretch is the client events the recorded client sent between two server
  events, having seen the first of them and before the second came.  Within its
  stretch, the live client may send them in any order; across stretches, the order
  must hold.
- Audio appends (`input_audio_buffer.append`, GPT-Live `session.input_audio.append`,
  Gemini `realtimeInput`) are a stream of their own, paced by the microphone and
  sent whatever the server is doing: they are compared with the recording's appends,
  in order, by type, wherever they fall among the other events.
- Content is compared as JSON, field by field, leaving out what a client makes up
  afresh on every run: `event_id`, the playback position of a truncation
  (`audio_end_ms`, measured by the client's clock), and the ids a client gives its own
  items (`item.id` of `conversation.item.create`; later references to such an id are
  read as the live client's own id for it).

A changed conversation (another tool output, a missing or an extra user turn, other
arguments) fails with a message naming the recorded event expected and the one
received.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Close codes of --strict (4000-4999 is the range RFC 6455 leaves to applications).
STRICT_MISMATCH = 4001  # the client sent a different event than the recording has next
STRICT_EXTRA = 4002  # the client sent an event after the recording's last client event

NOT_JSON = "(not JSON)"
BINARY = "(binary frame)"
STREAM_TYPES = frozenset(
    {"input_audio_buffer.append", "session.input_audio.append", "realtimeInput"}
)
# Fields a client measures or makes up on each run: not part of what it did.
_IGNORED_TOP = frozenset({"event_id"})
_IGNORED_BY_TYPE = {"conversation.item.truncate": frozenset({"audio_end_ms"})}
_VALUE_CHARS = 48
MAX_REASON_BYTES = 123  # a close frame's reason must fit in 123 bytes of UTF-8
_ABSENT = object()


@dataclass(frozen=True, slots=True)
class ScriptedEvent:
    """A recorded client event, with the number of (selected) server events before it."""

    seq: int
    type: str | None
    frame: str | bytes | None  # None for a stream event: only its type is compared
    stretch: int

    @property
    def is_stream(self) -> bool:
        return self.type in STREAM_TYPES


@dataclass(frozen=True, slots=True)
class Received:
    """What the live client sent."""

    type: str | None
    frame: str | bytes

    @property
    def is_stream(self) -> bool:
        return self.type in STREAM_TYPES


def describe_type(event_type: str | None, binary: bool = False) -> str:
    if binary:
        return BINARY
    return event_type if event_type is not None else NOT_JSON


class StrictMatcher:
    """Checks each live client event against the recording's, as the module docstring says.

    `ordered` and `streamed` are two cursors over the same recorded client events (each
    is read lazily, so a long recording is never held in memory).
    """

    def __init__(self, ordered: Iterator[ScriptedEvent], streamed: Iterator[ScriptedEvent]) -> None:
        self._ordered = (e for e in ordered if not e.is_stream)
        self._streamed = (e for e in streamed if e.is_stream)
        self._stretch: list[ScriptedEvent] = []
        self._ahead: ScriptedEvent | None = None
        self._aliases: dict[str, str] = {}
        self.received = 0
        # The last failure as a close frame can carry it (123 bytes), values shortened
        # around where they differ rather than cut off before it.
        self.close_reason = ""

    def check(self, event: Received) -> tuple[int, str] | None:
        """None if `event` fits the recording; else (close code, reason) for the report.

        `close_reason` then holds the reason as a close frame can carry it.
        """
        self.close_reason = ""
        failure = self._check(event)
        if failure is not None and len(failure[1].encode()) <= MAX_REASON_BYTES:
            self.close_reason = failure[1]  # it fits whole; else the short form, if any
        return failure

    def _check(self, event: Received) -> tuple[int, str] | None:
        self.received += 1
        where = f"rtrec strict: client event #{self.received}"
        if event.is_stream:
            expected = next(self._streamed, None)
            if expected is None:
                return STRICT_EXTRA, f"{where}: expected no more {event.type}, received one"
            if expected.type != event.type:
                return STRICT_MISMATCH, f"{where}: expected {expected.type}, received {event.type}"
            return None
        if not self._stretch:
            self._next_stretch()
        if not self._stretch:
            return (
                STRICT_EXTRA,
                f"rtrec strict: expected no more client events, received {_name(event)}",
            )
        first_difference: tuple[ScriptedEvent, Mismatch] | None = None
        for n, expected in enumerate(self._stretch):
            difference, aliases = compare(expected, event, self._aliases)
            if difference is None:
                del self._stretch[n]
                self._aliases.update(aliases)
                return None
            if first_difference is None or (
                expected.type == event.type and first_difference[0].type != event.type
            ):
                first_difference = (expected, difference)
        assert first_difference is not None
        expected, difference = first_difference
        reason = f"{where}: {difference.text()}"
        self.close_reason = difference.short(f"rtrec strict: #{self.received}")
        return STRICT_MISMATCH, reason

    def missing(self) -> str | None:
        """When the client has left: the first recorded event it never sent, if any."""
        if not self._stretch:
            self._next_stretch()
        pending = self._stretch[0] if self._stretch else next(self._streamed, None)
        if pending is None:
            return None
        next_one = describe_type(pending.type, isinstance(pending.frame, bytes))
        return (
            f"rtrec strict: the client left after {self.received} events; the recording "
            f"has more, the next being {next_one} (seq {pending.seq})"
        )

    def _next_stretch(self) -> None:
        first = self._ahead if self._ahead is not None else next(self._ordered, None)
        self._ahead = None
        if first is None:
            return
        self._stretch = [first]
        for event in self._ordered:
            if event.stretch != first.stretch:
                self._ahead = event
                return
            self._stretch.append(event)


@dataclass(frozen=True)
class Mismatch:
    """How a received event differs from a recorded one: its kind, or a field's value."""

    want_name: str
    got_name: str
    path: str | None = None
    want: Any = None
    got: Any = None

    def text(self, width: int = _VALUE_CHARS) -> str:
        if self.path is None:
            return f"expected {self.want_name}, received {self.got_name}"
        wanted, found = _shown_pair(self.want, self.got, width)
        return (
            f"expected {self.want_name} with {self.path} = {wanted}, "
            f"received {self.got_name} with {self.path} = {found}"
        )

    def short(self, where: str) -> str:
        """Within a close frame's 123 bytes, both values still in sight."""
        for width in (_VALUE_CHARS, 32, 24, 16, 10):
            if self.path is None:
                text = f"{where}: expected {self.want_name}, received {self.got_name}"
            else:
                wanted, found = _shown_pair(self.want, self.got, width)
                text = f"{where}: {self.path}: expected {wanted}, received {found}"
            if len(text.encode()) <= MAX_REASON_BYTES:
                return text
        return ""  # the caller cuts the full reason instead


def compare(
    expected: ScriptedEvent, received: Received, aliases: dict[str, str]
) -> tuple[Mismatch | None, dict[str, str]]:
    """(None, ids the live client made up) when they match; else (what differs, {})."""
    want, got = _decoded(expected.frame), _decoded(received.frame)
    want_name = describe_type(expected.type, isinstance(expected.frame, bytes))
    got_name = _name(received)
    if want_name != got_name:
        return Mismatch(want_name, got_name), {}
    if not isinstance(want, dict) or not isinstance(got, dict):
        return None, {}  # frames that are not JSON objects are compared by kind only
    ignored = _IGNORED_TOP | _IGNORED_BY_TYPE.get(expected.type or "", frozenset())
    want = {k: v for k, v in want.items() if k not in ignored}
    got = {k: v for k, v in got.items() if k not in ignored}
    made_up = _own_item_ids(expected.type, want, got)
    difference = _first_difference(want, got, "", {**aliases, **made_up})
    if difference is None:
        return None, made_up
    path, wanted, found = difference
    return Mismatch(want_name, got_name, path, wanted, found), {}


def _own_item_ids(
    event_type: str | None, want: dict[str, Any], got: dict[str, Any]
) -> dict[str, str]:
    """A conversation.item.create's item.id, recorded → live: the client names its items."""
    if event_type != "conversation.item.create":
        return {}
    want_item, got_item = want.get("item"), got.get("item")
    if not isinstance(want_item, dict) or not isinstance(got_item, dict):
        return {}
    want_id, got_id = want_item.get("id"), got_item.get("id")
    if isinstance(want_id, str) and isinstance(got_id, str) and want_id != got_id:
        return {want_id: got_id}
    return {}


def _first_difference(
    want: Any, got: Any, path: str, aliases: dict[str, str]
) -> tuple[str, Any, Any] | None:
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(want.keys() | got.keys()):
            inner = f"{path}.{key}" if path else key
            found = _first_difference(want.get(key, _ABSENT), got.get(key, _ABSENT), inner, aliases)
            if found is not None:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list):
        for index in range(max(len(want), len(got))):
            found = _first_difference(
                want[index] if index < len(want) else _ABSENT,
                got[index] if index < len(got) else _ABSENT,
                f"{path}[{index}]",
                aliases,
            )
            if found is not None:
                return found
        return None
    if isinstance(want, str):
        want = aliases.get(want, want)
    if want == got and type(want) is type(got):
        return None
    return path or "(the event)", want, got


def _decoded(frame: str | bytes | None) -> Any:
    if not isinstance(frame, str):
        return None
    try:
        return json.loads(frame)
    except ValueError:
        return None


def _name(event: Received) -> str:
    return describe_type(event.type, isinstance(event.frame, bytes))


def _shown_pair(want: Any, got: Any, width: int = _VALUE_CHARS) -> tuple[str, str]:
    """Both values, cut to show where they part (long strings share long beginnings)."""
    left, right = _shown(want, cut=False), _shown(got, cut=False)
    start = 0
    while start < min(len(left), len(right)) and left[start] == right[start]:
        start += 1
    start = max(0, start - width // 3)
    return _window(left, start, width), _window(right, start, width)


def _window(text: str, start: int, width: int) -> str:
    shown = ("…" if start else "") + text[start:]
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def _shown(value: Any, *, cut: bool = True) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if not cut or len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"
