"""The as-heard stereo mix of a session, block by block, for readers other than the WAV export.

The same placement and cuts as `export-wav --timeline` (user left, assistant right,
assistant audio cut where it was truncated), from the same fold: `rtrec view` draws
its waveforms from these blocks and plays them, so the page and the exported file
hold the same samples.  Memory stays flat: blocks are made as they are taken.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rtrec.replay.wav.fold import AudioFold, FoldOptions, TimelineFrames
from rtrec.replay.wav.formats import TimelineRate
from rtrec.replay.wav.rows import AUDIO_TYPES, CONTROL_TYPES, FORMAT_TYPES, TRUNCATE_TYPES
from rtrec.replay.wav.source import first_audio_seq, iter_rows
from rtrec.replay.wav.timeline import TruncationCuts


@dataclass(frozen=True, slots=True)
class StereoMix:
    """The timeline's rate, and its frames as (n, 2) int16 blocks, taken in order once."""

    rate: int
    blocks: Iterator[np.ndarray]


def as_heard_mix(conn: sqlite3.Connection, session_id: int) -> StereoMix | None:
    """The session's stereo timeline, or None when it holds no audio at all.

    Read the blocks while `conn` is open; the log is read page by page as they go.
    """
    first_in = first_audio_seq(conn, session_id, "client")
    first_out = first_audio_seq(conn, session_id, "server")
    if first_in is None and first_out is None:
        return None
    rate_finder, cut_finder = TimelineRate(first_in, first_out), TruncationCuts()
    for row in iter_rows(conn, session_id, FORMAT_TYPES | TRUNCATE_TYPES):
        rate_finder.feed(row)
        cut_finder.feed(row)
    rate = rate_finder.rate
    fold = AudioFold(
        FoldOptions(timeline_rate=rate, spill=tempfile.TemporaryFile), cut_finder.cuts()
    )
    return StereoMix(rate, _blocks(fold, conn, session_id))


def _blocks(fold: AudioFold, conn: sqlite3.Connection, session_id: int) -> Iterator[np.ndarray]:
    for row in iter_rows(conn, session_id, AUDIO_TYPES | CONTROL_TYPES):
        for op in fold.feed(row):
            if isinstance(op, TimelineFrames):
                yield from op.blocks
    for op in fold.finish():
        if isinstance(op, TimelineFrames):
            yield from op.blocks
