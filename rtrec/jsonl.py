"""The JSONL interchange format: one frame per line.

    {"t": 1.25, "dir": "client", "frame": "<exact frame text>"}
    {"t": 1.30, "dir": "server", "frame_b64": "<base64 of a binary frame>"}

`t` is seconds since the session started, written with nanosecond precision, so
import(export(s)) gives back every frame, direction and time exactly.  Import also
accepts `"event": {...}` in place of `"frame"`, and bare event objects; for those the
direction comes from the event type and, without `t`, events are spaced
`BARE_EVENT_SPACING_NS` apart in file order.  Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass

import msgspec

from rtrec.protocols import direction_of_object
from rtrec.protocols.base import UNPARSABLE
from rtrec.protocols.base import parse_object as parse_json_object
from rtrec.store.paging import NO_END

BARE_EVENT_SPACING_NS = 20_000_000
_DIRECTIONS = ("client", "server")


def format_seconds(t_ns: int) -> str:
    """Exact decimal seconds: 1250000000 → '1.25'."""
    sign = "-" if t_ns < 0 else ""
    whole, frac = divmod(abs(t_ns), 1_000_000_000)
    digits = f"{frac:09d}".rstrip("0") or "0"
    return f"{sign}{whole}.{digits}"


def encode_line(t_ns: int, direction: str, frame: str | bytes) -> str:
    if isinstance(frame, bytes):
        payload = '"frame_b64":"' + base64.b64encode(frame).decode("ascii") + '"'
    else:
        payload = '"frame":' + msgspec.json.encode(frame).decode("utf-8")
    return '{"t":' + format_seconds(t_ns) + ',"dir":"' + direction + '",' + payload + "}"


@dataclass(frozen=True, slots=True)
class ParsedLine:
    t_ns: int | None
    direction: str
    frame: str | bytes


class LineError(ValueError):
    """A line that is not in the interchange format; the message says why."""


def parse_line(line: str | bytes) -> ParsedLine | None:
    """One line of an import file; None for a blank line."""
    obj = decode_object(line)
    return None if obj is None else parse_object(obj)


def decode_object(line: str | bytes) -> dict[str, object] | None:
    """The JSON object on a line; None for a blank line."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LineError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not line.strip():
        return None
    obj = _decode_json(line)
    if not isinstance(obj, dict):
        raise LineError("expected a JSON object")
    return obj


def parse_object(obj: dict[str, object]) -> ParsedLine:
    """A decoded line: its time, direction and frame."""
    t_ns = _time(obj.get("t"))
    if "frame" in obj or "frame_b64" in obj or "event" in obj:
        frame = _frame(obj)
        direction = obj.get("dir")
        if direction is None:
            direction = _direction_of_frame(frame)
        elif direction not in _DIRECTIONS:
            raise LineError(f'"dir" must be "client" or "server", not {direction!r}')
        return ParsedLine(t_ns, direction, frame)
    direction = direction_of_object(obj)
    if direction is None:
        raise LineError(
            'expected "frame", "frame_b64", "event", or an event object '
            '(with a "type", or a Gemini Live message)'
        )
    return ParsedLine(t_ns, direction, _text(_compact(obj)))


def _decode_json(line: str) -> object:
    try:
        return msgspec.json.decode(line)
    except UNPARSABLE:
        pass
    # msgspec's messages are terse ("Input data was truncated" for a lone surrogate);
    # the standard parser says where the problem is, and admits lone surrogates so that
    # the frame check below can name them.
    try:
        return json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        # Some of json's messages end in "at" already ("Unterminated string starting at").
        what = exc.msg.removesuffix(" at")
        raise LineError(f"not valid JSON ({what} at column {exc.colno})") from exc
    except ValueError as exc:
        raise LineError(f"not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise LineError("JSON nested too deeply to read") from exc


MAX_T_S = NO_END / 1e9  # about 146 years


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def _time(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LineError(f'"t" must be a number of seconds, not {value!r}')
    if not math.isfinite(value) or value < 0:
        raise LineError(f'"t" must be a finite number of seconds >= 0, not {value!r}')
    if value > MAX_T_S:
        # The log keeps times as signed 64-bit nanoseconds.
        raise LineError(f'"t" must be at most {MAX_T_S:.0f} seconds, not {value!r}')
    return round(value * 1_000_000_000)


def _frame(obj: dict[str, object]) -> str | bytes:
    if "frame" in obj:
        frame = obj["frame"]
        if not isinstance(frame, str):
            raise LineError('"frame" must be a string holding the frame text')
        return _text(frame)
    if "frame_b64" in obj:
        data = obj["frame_b64"]
        if not isinstance(data, str):
            raise LineError('"frame_b64" must be a base64 string')
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise LineError(f'"frame_b64" is not valid base64 ({exc})') from exc
    return _text(_compact(obj["event"]))


def _compact(value: object) -> str:
    return msgspec.json.encode(value).decode("utf-8")


def _text(frame: str) -> str:
    # A WebSocket text frame is UTF-8; JSON can smuggle in lone surrogates that are not.
    try:
        frame.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LineError("the frame is not valid Unicode text (it holds a lone surrogate)") from exc
    return frame


def _direction_of_frame(frame: str | bytes) -> str:
    """The side that sent a frame whose line has no "dir": from its event, else server."""
    obj = parse_json_object(frame) if isinstance(frame, str) else None
    return (direction_of_object(obj) if obj is not None else None) or "server"
