"""`export_wav`: one pass over a session's events, from the log to the audio files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rtrec.audio_format import DEFAULT_FORMAT
from rtrec.errors import OptionConflict, RtrecError
from rtrec.protocols import adapter_named
from rtrec.protocols.base import Adapter, AudioChunk
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
from rtrec.replay.wav.sinks import FileSet, TimelineFile, WrittenFile, abandon, publish
from rtrec.replay.wav.timeline import TruncationCuts
from rtrec.store.connections import Connection
from rtrec.store.metadata import session_protocol
from rtrec.store.reader import SessionRef, iter_media_rows, last_seq

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
    conn: Connection,
    session: SessionRef,
    options: ExportOptions,
    *,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ExportResult:
    """Write the session's audio under options.out_dir; raises RtrecError on bad input."""
    if options.keep_encoding and options.container != "wav":
        raise OptionConflict("keep_encoding", "writes μ-law/A-law WAV files", needs="wav")
    adapter = adapter_named(session_protocol(conn, session.id))
    if options.split and adapter.split_refusal is not None:
        raise OptionConflict("split", adapter.split_refusal)
    survey = survey_audio(conn, session.id, adapter)
    if not survey.chunks:
        raise NoAudioError(
            f"session {session.id} has no audio ({adapter.audio_description}); nothing to export"
        )
    rate = survey.timeline_rate if options.timeline else None
    fold = AudioFold(
        adapter.media(),
        FoldOptions(
            split_responses="response" in options.split,
            split_items="item" in options.split,
            timeline_rate=rate,
            spill=tempfile.TemporaryFile,
        ),
        survey.cuts if options.timeline else {},
    )
    make_out_dir(options.out_dir)
    out = _Output(
        FileSet(options.out_dir, options.container, options.keep_encoding),
        TimelineFile(options.out_dir / f"{TIMELINE_STEM}.{options.container}", rate)
        if rate is not None
        else None,
        warn,
    )
    total = max(1, last_seq(conn, session.id))
    try:
        try:
            for op in fold_operations(fold, conn, session.id, adapter, total, progress):
                out.apply(op)
        finally:
            out.close()
        out.result.files = out.written()
        out.result.chunks, out.result.skipped = fold.chunks, fold.skipped
        if not any(f.frames for f in out.result.files):
            raise NoAudioError(
                f"session {session.id} has audio events but none could be decoded; nothing exported"
            )
    except BaseException:
        # Nothing half-written stays behind: the files are only published complete.
        abandon(out.written())
        raise
    publish(out.result.files)
    return out.result


class _Output:
    """The export's files as the fold's operations write, close, rename and discard them."""

    def __init__(
        self, files: FileSet, timeline: TimelineFile | None, warn: Callable[[str], None]
    ) -> None:
        self.files = files
        self.timeline = timeline
        self.warn = warn
        self.result = ExportResult()

    def apply(self, op: Op) -> None:
        if isinstance(op, WriteAudio):
            self.files.write(op.stem, op.fmt, op.data)
        elif isinstance(op, TimelineFrames):
            assert self.timeline is not None
            for block in op.blocks:
                self.timeline.write(block)
        elif isinstance(op, CloseFile):
            self.files.close(op.stem)
        elif isinstance(op, RenameFile):
            self.files.rename(op.stem, op.new_stem)
        elif isinstance(op, DiscardFile):
            self.files.discard(op.stem)
        elif isinstance(op, Notice):
            self.result.warnings += 1
            self.warn(op.message)

    def close(self) -> None:
        self.files.close_all()
        if self.timeline is not None:
            self.timeline.close()

    def written(self) -> list[WrittenFile]:
        return self.files.files + ([self.timeline.written] if self.timeline is not None else [])


@dataclass(slots=True)
class AudioSurvey:
    """What a pass over a session's audio lengths (no audio loaded) finds."""

    chunks: int = 0
    rates: set[int] = field(default_factory=set)
    cuts: dict[str, int] = field(default_factory=dict)

    @property
    def timeline_rate(self) -> int:
        """A stereo timeline's rate: the highest of the formats the audio came in."""
        return max(self.rates, default=DEFAULT_FORMAT.rate)


def survey_audio(conn: Connection, session_id: int, adapter: Adapter) -> AudioSurvey:
    """Count the chunks, their rates and the truncation cuts, before any file is made."""
    survey = AudioSurvey()
    media = adapter.media()
    cuts = TruncationCuts()
    rows = iter_media_rows(
        conn,
        session_id,
        adapter.media_types,
        audio=False,
        audio_frames=adapter.audio_frames,
        untyped=adapter.types_untyped,
    )
    for row in rows:
        for fact in media.feed(row, decode=False):
            if isinstance(fact, AudioChunk):
                survey.chunks += 1
                survey.rates.add(fact.fmt.rate)
            else:
                cuts.feed(fact)
    survey.cuts = cuts.cuts()
    return survey


def fold_operations(
    fold: AudioFold,
    conn: Connection,
    session_id: int,
    adapter: Adapter,
    total: int = 1,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Iterator[Op]:
    """The fold's operations over the session's media rows, read page by page."""
    rows = iter_media_rows(
        conn,
        session_id,
        adapter.media_types,
        audio_frames=adapter.audio_frames,
        untyped=adapter.types_untyped,
    )
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


__all__ = [
    "CONTAINERS",
    "SPLITS",
    "AudioSurvey",
    "ExportOptions",
    "ExportResult",
    "NoAudioError",
    "export_wav",
    "fold_operations",
    "survey_audio",
]
