"""The hand-off between the relay and its writer process: records one way, reports the other.

The relay writes *records* into a pipe; the writer process reads them in order.  A
frame record is a fixed header and the frame's bytes, nothing encoded:

    kind (1 byte: direction and text/binary) · frame length (4) · session key (4)
    · seq (8) · t_ns (8) · wall_ns (8) · the frame (UTF-8 text or binary bytes)

Every other record is `kind · body length (4) · body`.  A session record carries the
whole `LiveSession` (pickled, so fields added to it reach the writer with no change
here); a sync record asks for a commit (and a projection pass) and an answer; a mark,
ten times a second, carries the relay's clock and how much it holds unwritten, so the
writer knows how far behind it reads; the config record opens the stream; the close
record ends it.  Records are numbered by
their position in the stream, counting from the config's `first_record`: the writer's
acknowledgements name the number up to which everything is kept.

The writer process answers with *reports*: `length (4) · msgpack list`, the first
element naming the report (see `Report`).  Pure: no I/O.
"""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import msgspec

from rtrec.store.session import LiveSession


class Kind(IntEnum):
    CLIENT_TEXT = 1
    SERVER_TEXT = 2
    CLIENT_BINARY = 3
    SERVER_BINARY = 4
    SESSION = 5
    SYNC = 6
    CLOSE = 7
    CONFIG = 8
    MARK = 9


_TEXT_KIND = {"client": Kind.CLIENT_TEXT, "server": Kind.SERVER_TEXT}
_BINARY_KIND = {"client": Kind.CLIENT_BINARY, "server": Kind.SERVER_BINARY}

FRAME_HEADER = struct.Struct("<BIIqqq")  # kind, frame length, session key, seq, t_ns, wall_ns
OTHER_HEADER = struct.Struct("<BI")  # kind, body length
REPORT_HEADER = struct.Struct("<I")
_MARK = struct.Struct("<qq")

# Defaults of the recording's settings, here because both processes need them and the
# relay's should not import SQLite to know them.
DEFAULT_FLUSH_INTERVAL = 0.05  # seconds; DESIGN.md promises at most 0.1
DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024
DEFAULT_SPILL_MAX_BYTES = 1024 * 1024 * 1024
DEFAULT_SPILL_RESERVE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class WriterConfig:
    """What a writer process needs to know before the first frame."""

    db_path: str
    recorder_id: str
    first_record: int = 0
    flush_interval: float = DEFAULT_FLUSH_INTERVAL
    max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES
    spill_max_bytes: int = DEFAULT_SPILL_MAX_BYTES
    spill_reserve_bytes: int = DEFAULT_SPILL_RESERVE_BYTES
    project: bool = True
    # A writer started in place of one that died: the database must exist already
    # (were it removed meanwhile, a new empty file is no place for a live session).
    restart: bool = False


# -- relay → writer ------------------------------------------------------------------


def frame_record(
    key: int, seq: int, t_ns: int, wall_ns: int, direction: str, frame: str | bytes
) -> tuple[bytes, bytes]:
    """(header, payload) of one frame; kept apart so the payload is never copied twice."""
    if isinstance(frame, str):
        payload = frame.encode("utf-8", "surrogatepass")
        kind = _TEXT_KIND[direction]
    else:
        payload = frame
        kind = _BINARY_KIND[direction]
    return FRAME_HEADER.pack(kind, len(payload), key, seq, t_ns, wall_ns), payload


def _other(kind: Kind, body: bytes) -> bytes:
    return OTHER_HEADER.pack(kind, len(body)) + body


def session_record(key: int, session: LiveSession) -> bytes:
    return _other(Kind.SESSION, pickle.dumps((key, session), pickle.HIGHEST_PROTOCOL))


def sync_record(token: int, projections: bool) -> bytes:
    return _other(Kind.SYNC, msgspec.msgpack.encode([token, projections]))


def close_record() -> bytes:
    return _other(Kind.CLOSE, b"")


def mark_record(monotonic_ns: int, held_bytes: int) -> bytes:
    """The relay's clock as it hands off what follows, and how much it holds unwritten:
    how far behind the writer reads."""
    return _other(Kind.MARK, _MARK.pack(monotonic_ns, held_bytes))


def config_record(config: WriterConfig) -> bytes:
    return _other(Kind.CONFIG, pickle.dumps(config, pickle.HIGHEST_PROTOCOL))


@dataclass(slots=True)
class FrameRecord:
    key: int
    seq: int
    t_ns: int
    wall_ns: int
    direction: str
    frame: str | bytes


@dataclass(slots=True)
class SessionRecord:
    key: int
    session: LiveSession


@dataclass(slots=True)
class SyncRecord:
    token: int
    projections: bool


@dataclass(slots=True)
class CloseRecord:
    pass


@dataclass(slots=True)
class MarkRecord:
    monotonic_ns: int
    held_bytes: int


Record = FrameRecord | SessionRecord | SyncRecord | CloseRecord | MarkRecord | WriterConfig
# Plain ints on the hot path: an IntEnum lookup per frame costs more than the rest.
_DIRECTION = {
    int(Kind.CLIENT_TEXT): "client",
    int(Kind.SERVER_TEXT): "server",
    int(Kind.CLIENT_BINARY): "client",
    int(Kind.SERVER_BINARY): "server",
}
_LAST_TEXT_KIND = int(Kind.SERVER_TEXT)
_LAST_FRAME_KIND = int(Kind.SERVER_BINARY)
_FRAME_HEADER_SIZE = FRAME_HEADER.size
_unpack_frame_header = FRAME_HEADER.unpack_from


class RecordReader:
    """Turns the bytes read from the pipe, in chunks of any size, back into records."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def partial(self) -> int:
        """Bytes of a record not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Record]:
        buffer = self._buffer
        buffer += data
        records: list[Record] = []
        at, end = 0, len(buffer)
        with memoryview(buffer) as view:
            while at < end:
                kind = buffer[at]
                if kind <= _LAST_FRAME_KIND:
                    if end - at < _FRAME_HEADER_SIZE:
                        break
                    _, size, key, seq, t_ns, wall_ns = _unpack_frame_header(buffer, at)
                    start = at + _FRAME_HEADER_SIZE
                    if end - start < size:
                        break
                    with view[start : start + size] as chunk:
                        frame: str | bytes = (
                            str(chunk, "utf-8", "surrogatepass")
                            if kind <= _LAST_TEXT_KIND
                            else bytes(chunk)
                        )
                    at = start + size
                    records.append(FrameRecord(key, seq, t_ns, wall_ns, _DIRECTION[kind], frame))
                    continue
                if end - at < OTHER_HEADER.size:
                    break
                _, size = OTHER_HEADER.unpack_from(buffer, at)
                start = at + OTHER_HEADER.size
                if end - start < size:
                    break
                with view[start : start + size] as chunk:
                    body = bytes(chunk)
                at = start + size
                records.append(_decode_other(Kind(kind), body))
        del buffer[:at]
        return records


def _decode_other(kind: Kind, body: bytes) -> Record:
    if kind is Kind.SESSION:
        key, session = pickle.loads(body)
        return SessionRecord(key, session)
    if kind is Kind.SYNC:
        token, projections = msgspec.msgpack.decode(body)
        return SyncRecord(token, projections)
    if kind is Kind.CLOSE:
        return CloseRecord()
    if kind is Kind.MARK:
        return MarkRecord(*_MARK.unpack(body))
    if kind is Kind.CONFIG:
        config = pickle.loads(body)
        assert isinstance(config, WriterConfig)
        return config
    raise ValueError(f"unknown hand-off record kind {kind}")


# -- writer → relay ------------------------------------------------------------------


class Report:
    """The names of the writer's reports, and what follows the name in each."""

    READY = "ready"  # pid, spill file path
    FATAL = "fatal"  # message: the writer cannot start (the database is unusable)
    KEPT = "kept"  # record number: every record before it is committed or spilled
    IDS = "ids"  # [[session key, db id], …] of sessions whose row now exists
    COUNTERS = "counters"  # [[session key, {field: value}], …] live counters changed
    NOTE = "note"  # a line for the operator
    SPILLED = "spilled"  # events written to the spill file, events dropped, its path
    SYNCED = "synced"  # token, whether everything before it is in the database
    COMPLETE = "complete"  # session key: its end is committed and its projection complete
    STATS = "stats"  # {name: value}: the writer's own figures (CPU, projection work)
    CLOSED = "closed"  # stats: the writer has finished and is exiting


def report(*fields: Any) -> bytes:
    body = msgspec.msgpack.encode(list(fields))
    return REPORT_HEADER.pack(len(body)) + body


class ReportReader:
    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[list[Any]]:
        buffer = self._buffer
        buffer += data
        out: list[list[Any]] = []
        at = 0
        while len(buffer) - at >= REPORT_HEADER.size:
            (size,) = REPORT_HEADER.unpack_from(buffer, at)
            start = at + REPORT_HEADER.size
            if len(buffer) - start < size:
                break
            out.append(msgspec.msgpack.decode(bytes(buffer[start : start + size])))
            at = start + size
        del buffer[:at]
        return out
