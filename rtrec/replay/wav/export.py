"""`export_wav`: one pass over a session's events, from the log to the audio files."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rtrec.errors import RtrecError
from rtrec.replay.wav.fold import (
    AudioFold,
    CloseFile,
    DiscardFile,
    FoldOptions,
    Notice,
    Op,
    RenameFile,
    TimelineFrames,
    WriteAudio,
)
from rtrec.replay.wav.formats import TimelineRate
from rtrec.replay.wav.rows import AUDIO_TYPES, CONTROL_TYPES, FORMAT_TYPES, TRUNCATE_TYPES
from rtrec.replay.wav.sinks import FileSet, TimelineFile, WrittenFile, abandon, publish
from rtrec.replay.wav.source import first_audio_seq, iter_rows, last_seq
from rtrec.replay.wav.timeline import TruncationCuts
from rtrec.store.reader import SessionRef

TIMELINE_STEM = "timeline"
SPLITS = ("response", "item")
CONTAINERS = ("wav", "flac")


class NoAudioError(RtrecError):
    """The session holds no audio to export."""


@dataclass(frozen=True, slots=True)
class ExportOptions:
    out_dir: Path
    split: frozenset[str] = frozenset()  # "response", "item"
    timeline: bool = False
    container: str = "wav"
    keep_encoding: bool = False


@dataclass(slots=True)
class ExportResult:
    files: list[WrittenFile] = field(default_factory=list)
    chunks: int = 0
    skipped: int = 0
    warnings: int = 0


def export_wav(
    conn: sqlite3.Connection,
    session: SessionRef,
    options: ExportOptions,
    *,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ExportResult:
    """Write the session's audio under options.out_dir; raises RtrecError on bad input."""
    if options.keep_encoding and options.container != "wav":
        raise RtrecError("--keep-encoding writes μ-law/A-law WAV files; use it with --format wav")
    first_in = first_audio_seq(conn, session.id, "client")
    first_out = first_audio_seq(conn, session.id, "server")
    if first_in is None and first_out is None:
        raise NoAudioError(
            f"session {session.id} has no audio (no input_audio_buffer.append and no "
            "response audio deltas); nothing to export"
        )
    rate = None
    cuts: dict[str, int] = {}
    if options.timeline:
        # One pass over the session's small events, before the audio: the timeline's
        # rate, and where truncated items were cut.
        rate_finder, cut_finder = TimelineRate(first_in, first_out), TruncationCuts()
        for row in iter_rows(conn, session.id, FORMAT_TYPES | TRUNCATE_TYPES):
            rate_finder.feed(row)
            cut_finder.feed(row)
        rate, cuts = rate_finder.rate, cut_finder.cuts()
    fold = AudioFold(
        FoldOptions(
            split_responses="response" in options.split,
            split_items="item" in options.split,
            timeline_rate=rate,
            spill=tempfile.TemporaryFile,
        ),
        cuts,
    )
    make_out_dir(options.out_dir)
    files = FileSet(options.out_dir, options.container, options.keep_encoding)
    timeline = (
        TimelineFile(options.out_dir / f"{TIMELINE_STEM}.{options.container}", rate)
        if rate is not None
        else None
    )
    result = ExportResult()
    total = max(1, last_seq(conn, session.id))
    try:
        try:
            for op in _operations(fold, conn, session.id, total, progress):
                if isinstance(op, WriteAudio):
                    files.write(op.stem, op.fmt, op.data)
                elif isinstance(op, TimelineFrames):
                    assert timeline is not None
                    for block in op.blocks:
                        timeline.write(block)
                elif isinstance(op, CloseFile):
                    files.close(op.stem)
                elif isinstance(op, RenameFile):
                    files.rename(op.stem, op.new_stem)
                elif isinstance(op, DiscardFile):
                    files.discard(op.stem)
                elif isinstance(op, Notice):
                    result.warnings += 1
                    warn(op.message)
        finally:
            files.close_all()
            if timeline is not None:
                timeline.close()
        result.files = files.files + ([timeline.written] if timeline is not None else [])
        result.chunks, result.skipped = fold.chunks, fold.skipped
        if not any(f.frames for f in result.files):
            raise NoAudioError(
                f"session {session.id} has audio events but none could be decoded; nothing exported"
            )
    except BaseException:
        # Nothing half-written stays behind: the files are only published complete.
        abandon(files.files + ([timeline.written] if timeline is not None else []))
        raise
    publish(result.files)
    return result


def _operations(
    fold: AudioFold,
    conn: sqlite3.Connection,
    session_id: int,
    total: int,
    progress: Callable[[int, int], None],
) -> Iterator[Op]:
    rows = iter_rows(conn, session_id, AUDIO_TYPES | CONTROL_TYPES)
    for count, row in enumerate(rows, 1):
        yield from fold.feed(row)
        if not count & 0xFF:
            progress(row.seq, total)
    yield from fold.finish()
    progress(total, total)


def make_out_dir(path: Path) -> None:
    """Create the output directory if missing; one clear error if it cannot be used."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise RtrecError(f"cannot write to {path}: it exists and is not a directory") from exc
    except OSError as exc:
        raise RtrecError(f"cannot create {path}: {exc.strerror or exc}") from exc
    if os.statvfs(path).f_flag & os.ST_RDONLY:
        raise RtrecError(f"cannot write to {path}: it is on a read-only file system")
    if not os.access(path, os.W_OK | os.X_OK):
        raise RtrecError(f"cannot write to {path}: permission denied")


__all__ = ["CONTAINERS", "SPLITS", "ExportOptions", "ExportResult", "NoAudioError", "export_wav"]
