"""The as-heard stereo mix of a session, block by block, for readers other than the WAV export.

The same placement and cuts as `export-wav --timeline` (user left, assistant right,
assistant audio cut where it was truncated or talked over), from the same fold and
the same pass over the log: `rtrec view` draws its waveforms from these blocks and
plays them, so the page and the exported file hold the same samples.  Memory stays
flat: blocks are made as they are taken.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rtrec.protocols import adapter_named
from rtrec.protocols.base import Adapter
from rtrec.replay.wav.export import fold_operations, survey_audio
from rtrec.replay.wav.fold import AudioFold, FoldOptions, TimelineFrames
from rtrec.store.connections import Connection
from rtrec.store.metadata import session_protocol


@dataclass(frozen=True, slots=True)
class StereoMix:
    """The timeline's rate, and its frames as (n, 2) int16 blocks, taken in order once."""

    rate: int
    blocks: Iterator[np.ndarray]


def as_heard_mix(conn: Connection, session_id: int) -> StereoMix | None:
    """The session's stereo timeline, or None when it holds no audio at all.

    Read the blocks while `conn` is open; the log is read page by page as they go.
    """
    adapter = adapter_named(session_protocol(conn, session_id))
    survey = survey_audio(conn, session_id, adapter)
    if not survey.chunks:
        return None
    rate = survey.timeline_rate
    fold = AudioFold(
        adapter.media(), FoldOptions(timeline_rate=rate, spill=tempfile.TemporaryFile), survey.cuts
    )
    return StereoMix(rate, _blocks(fold, conn, session_id, adapter))


def _blocks(
    fold: AudioFold, conn: Connection, session_id: int, adapter: Adapter
) -> Iterator[np.ndarray]:
    for op in fold_operations(fold, conn, session_id, adapter):
        if isinstance(op, TimelineFrames):
            yield from op.blocks
