"""The event log as the page carries it: two gzip streams the browser inflates natively.

- the index, a JSON array of rows `[Δseq, Δt, direction, type, size]`: seq and time
  (microseconds) as differences from the previous row, which makes a long
  call's index compress to a few bytes an event; direction 0 = client, 1 = server;
  type an index into the type names given beside it;
- the payloads, one JSON string a line (the `events` view's `payload`, audio elided;
  `null` for frames it has none for), inflated only when a frame is opened.

Both are written to temporary files as the rows are read, so memory stays flat.
Payloads of protocols whose audio the view does not elide yet are elided here:
any long base64 string becomes its decoded byte length, as the view does.
"""

from __future__ import annotations

import json
import re
import tempfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from rtrec.store.event_log import LoggedEvent

DIRECTIONS = {"client": 0, "server": 1}
# A payload this long may carry audio the view did not elide.
_CHECK_PAYLOADS_OVER = 600
_BASE64 = re.compile(r"[A-Za-z0-9+/]{256,}={0,2}")
_GZIP = 31  # zlib wbits for a gzip container


class _GzipFile:
    def __init__(self) -> None:
        # Kept open past this call: PackedEvents.close() closes it.
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="rtrec-view-")  # noqa: SIM115
        self._zip = zlib.compressobj(6, zlib.DEFLATED, _GZIP)

    def write(self, text: str) -> None:
        self.file.write(self._zip.compress(text.encode()))

    def finish(self) -> IO[bytes]:
        self.file.write(self._zip.flush())
        self.file.seek(0)
        return self.file


@dataclass
class PackedEvents:
    count: int = 0
    types: list[str] = field(default_factory=list)
    last_seq: int = -1
    last_t_ms: float | None = None
    index: IO[bytes] | None = None
    payloads: IO[bytes] | None = None

    def close(self) -> None:
        for stream in (self.index, self.payloads):
            if stream is not None:
                stream.close()


class TypeTable:
    """Event type → small integer, in order of first appearance ('' for no type)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, name: str | None) -> int:
        key = name or ""
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.names)
            self.names.append(key)
        return found


def index_row(
    event: LoggedEvent, types: TypeTable, previous: tuple[int, int]
) -> tuple[list[int], tuple[int, int]]:
    """One index row, and the (seq, microseconds) the next row is relative to."""
    micros = round(event.t_ms * 1000)
    row = [
        event.seq - previous[0],
        micros - previous[1],
        DIRECTIONS.get(event.direction, 1),
        types(event.type),
        event.frame_size or 0,
    ]
    return row, (event.seq, micros)


def pack_events(events: Iterable[LoggedEvent]) -> PackedEvents:
    packed = PackedEvents()
    types = TypeTable()
    index, payloads = _GzipFile(), _GzipFile()
    previous = (0, 0)
    index.write("[")
    for event in events:
        row, previous = index_row(event, types, previous)
        index.write(("," if packed.count else "") + json.dumps(row, separators=(",", ":")))
        payloads.write(json.dumps(shown_payload(event.payload), ensure_ascii=False) + "\n")
        packed.count += 1
        packed.last_seq, packed.last_t_ms = event.seq, event.t_ms
    index.write("]")
    packed.types = types.names
    packed.index, packed.payloads = index.finish(), payloads.finish()
    return packed


def shown_payload(payload: str | None) -> str | None:
    """The payload as the page shows it: long base64 strings elided to their byte length."""
    if payload is None or len(payload) <= _CHECK_PAYLOADS_OVER or not _BASE64.search(payload):
        return payload
    try:
        value = json.loads(payload)
    except ValueError:
        return payload
    return json.dumps(_elide(value), ensure_ascii=False, separators=(",", ":"))


def _elide(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) >= 256 and _BASE64.fullmatch(value):
            return len(value) // 4 * 3 - value.endswith("=") - value.endswith("==")
        return value
    if isinstance(value, list):
        return [_elide(v) for v in value]
    if isinstance(value, dict):
        return {k: _elide(v) for k, v in value.items()}
    return value
