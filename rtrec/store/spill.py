"""The spill file: where events go when the database cannot take them.

When the database refuses writes for long enough that the in-memory buffer fills
(disk full, file locked by another writer), or the database file is removed, the
writer appends pending events here instead: `<db>-spill-<recorder id>.jsonl`, next to
the database, owner-only, bounded in size.  `rtrec import` brings them back into the
sessions they belong to (by session uuid and sequence number, skipping any already
there), so nothing is lost.

A full disk would refuse the spill file as well, so its space is reserved when the
recorder starts (posix_fallocate, where the platform has it) and written in place;
a clean stop truncates it to what was used, or removes it if nothing was.  After a
crash the unused reserved tail reads as NUL bytes, where reading stops; a file that
is nothing but reserved space is removed by the next open of the database
(`reclaim_spills`) once its recorder is gone.  A writer process started in place of
one that died carries on in the same file (`resume`), after the last whole line.

Lines are the JSONL interchange format plus what restoring needs:

    {"spill_session": {...session metadata...}}
    {"session": "<uuid>", "seq": 12, "t": 1.25, "wall_ns": …, "dir": "client", "frame": "…"}

Frames are written as the log would store them: secrets already scrubbed.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import msgspec

from rtrec.jsonl import encode_line
from rtrec.store.frames import scrubbed_text
from rtrec.store.handoff import DEFAULT_SPILL_MAX_BYTES
from rtrec.store.liveness import recorder_alive
from rtrec.store.session import SESSION_COLUMNS, LiveSession

_READ_CHUNK = 1 << 20
SYNC_INTERVAL_S = 1.0
_LINES_PER_WRITE = 256


def spill_path(db_path: str, recorder_id: str | None) -> str:
    return f"{db_path}-spill-{recorder_id or 'writer'}.jsonl"


def dead_spills(db_path: str) -> list[str]:
    """Spill files next to the database whose recorder is no longer running."""
    prefix = db_path + "-spill-"
    found = []
    for path in sorted(glob.glob(glob.escape(prefix) + "*.jsonl")):
        owner = path[len(prefix) : -len(".jsonl")]
        if not recorder_alive(db_path, owner):
            found.append(path)
    return found


def reclaim_spills(db_path: str) -> list[str]:
    """Remove dead recorders' spill files that hold nothing; the ones that do, kept."""
    kept = []
    for path in dead_spills(db_path):
        try:
            if holds_events(path):
                kept.append(path)
            else:
                os.unlink(path)
        except OSError:
            continue  # gone meanwhile, or not ours to remove: nothing to reclaim
    return kept


@dataclass
class SpillResult:
    written: int
    dropped: int


class SpillFile:
    """Append-only, bounded; written from a worker thread, one batch at a time."""

    def __init__(self, path: str, max_bytes: int = DEFAULT_SPILL_MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.size = 0
        self.reserved = 0
        self.events_written = 0
        self.events_dropped = 0
        self._described: dict[str, bytes] = {}  # uuid → last metadata line written
        self._synced_at = -SYNC_INTERVAL_S

    def write(
        self,
        events: Iterable[tuple[LiveSession, int, int, int, str, str | bytes]],
        sessions: Iterable[LiveSession],
    ) -> SpillResult:
        """Append a batch, encoding and writing it in pieces so it is never held twice.

        Events that would take the file past its bound are dropped (and counted).
        """
        pending: list[bytes] = []
        described: set[int] = set()  # sessions whose line is up to date in this batch
        for session in sessions:
            pending.extend(self._describe(session))
            described.add(id(session))
        pending_size = sum(map(len, pending))
        written = dropped = 0
        fd = -1
        try:
            for item in events:
                line = _event_line(*item)
                head: list[bytes] = []
                if id(item[0]) not in described:
                    head = self._describe(item[0])
                    described.add(id(item[0]))
                grown = sum(map(len, head)) + len(line)
                if self.size + pending_size + grown > self.max_bytes:
                    dropped += 1
                    continue
                pending.extend(head)
                pending.append(line)
                pending_size += grown
                written += 1
                if len(pending) >= _LINES_PER_WRITE:
                    fd = self._flush_lines(fd, pending)
                    pending_size = 0
            if pending:
                fd = self._flush_lines(fd, pending)
            # Written is kept as far as the recorder goes (the kernel has it, whichever
            # process dies); on disk within a second, against a power cut.
            if fd >= 0 and time.monotonic() - self._synced_at >= SYNC_INTERVAL_S:
                os.fsync(fd)
                self._synced_at = time.monotonic()
        finally:
            if fd >= 0:
                os.close(fd)
        self.events_written += written
        self.events_dropped += dropped
        return SpillResult(written, dropped)

    def _flush_lines(self, fd: int, lines: list[bytes]) -> int:
        if fd < 0:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        view = memoryview(b"".join(lines))
        lines.clear()
        while view:
            done = os.pwrite(fd, view, self.size)
            view, self.size = view[done:], self.size + done
        return fd

    def reserve(self, nbytes: int) -> str | None:
        """Claim the space now, while the disk has it; a message if that was not possible."""
        if nbytes <= 0:
            return None
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.posix_fallocate(fd, 0, min(nbytes, self.max_bytes))
        except (AttributeError, OSError) as exc:
            return f"could not reserve {nbytes // 2**20} MiB for {self.path}: {exc}"
        finally:
            os.close(fd)
        self.reserved = min(nbytes, self.max_bytes)
        return None

    def resume(self) -> None:
        """Carry on in a file a previous writer of this recorder left, after its last line.

        A line cut short by the writer's death is cleared: its events were never
        reported kept, so they come again.
        """
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            length = os.fstat(fd).st_size
            end = 0  # just past the last newline
            at = 0
            while at < length:
                chunk = os.pread(fd, _READ_CHUNK, at)
                if not chunk:
                    break
                nul = chunk.find(b"\0")
                body = chunk if nul < 0 else chunk[:nul]
                newline = body.rfind(b"\n")
                if newline >= 0:
                    end = at + newline + 1
                at += len(body)
                if nul >= 0:
                    break
            if at > end:
                os.pwrite(fd, bytes(at - end), end)
            self.size = end
            self.reserved = length
        finally:
            os.close(fd)

    def close(self) -> None:
        """Give back what was reserved and not used; remove the file if it holds nothing."""
        if not os.path.exists(self.path):
            return
        if self.size == 0:
            os.unlink(self.path)
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.ftruncate(fd, self.size)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _describe(self, session: LiveSession) -> list[bytes]:
        line = session_line(session)
        if self._described.get(session.uuid) == line:
            return []
        self._described[session.uuid] = line
        return [line]


def session_line(session: LiveSession) -> bytes:
    values = dict(zip(SESSION_COLUMNS, session.insert_values(), strict=True))
    values.pop("recorder", None)
    return msgspec.json.encode({"spill_session": values}) + b"\n"


def _event_line(
    session: LiveSession, seq: int, t_ns: int, wall_ns: int, direction: str, frame: str | bytes
) -> bytes:
    # Scrubbed exactly as the log would, so no secret reaches this file either; but
    # without encoding the frame as a row: the spill is used when the writer has
    # fallen behind, and must cost less than the work it stands in for.
    redacted = False
    if isinstance(frame, str):
        frame, redacted = scrubbed_text(frame, session.secrets, session.redact, session.adapter)
    body = encode_line(t_ns, direction, frame)
    extra = f'{{"session":"{session.uuid}","seq":{seq},"wall_ns":{wall_ns},'
    if redacted:
        extra += '"redacted":true,'
    return (extra + body[1:] + "\n").encode("utf-8")


class SpillLines:
    """The whole lines of a spill file, up to the NUL bytes of unused reserved space.

    Every line the writer completes ends with a newline; text after the last one is
    a write cut short by a crash (events never reported kept), so it is left out and
    `torn` says so.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.torn = False

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as f:
            rest = b""
            while chunk := f.read(_READ_CHUNK):
                nul = chunk.find(b"\0")
                if nul >= 0:
                    chunk = chunk[:nul]
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                yield from lines
                if nul >= 0:
                    break
            self.torn = bool(rest.strip())


def holds_events(path: str) -> bool:
    """Whether a spill file has anything in it besides reserved space."""
    with open(path, "rb") as f:
        first = f.read(1)
    return first not in (b"", b"\0")


def is_reserved_space(path: str) -> bool:
    """A file that begins like an unused spill file: NUL bytes, nothing written."""
    with open(path, "rb") as f:
        return f.read(1) == b"\0"
