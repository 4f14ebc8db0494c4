"""The page's sound: the as-heard mix compressed for the browser, and its waveform peaks.

Both come from the blocks of `as_heard_mix` (the samples `export-wav --timeline`
writes) in one pass.  Peaks are one byte per channel per `bucket_frames` frames: the
bucket's largest absolute sample, scaled to 0..255 and rounded up, so that any sound
at all shows.  Encoding runs in a thread beside the fold (libsndfile releases the
GIL), into a temporary file: memory stays flat however long the call.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from dataclasses import dataclass
from typing import IO

import numpy as np
import soundfile

from rtrec.replay.wav.mix import StereoMix

PEAKS_PER_SECOND = 50
# libsndfile maps a compression level to Opus's bitrate (1.0 the lowest), differently at
# each rate.  These are about the lowest that keep the two channels apart: below about
# 18 kbit/s Opus folds stereo into mono, and the user would be heard on the assistant's
# side.  They give 20-25 kbit/s while both talk, less in silence (about 10 MB an hour of
# continuous two-sided speech).  tests/test_view_audio.py checks the channels stay apart.
OPUS_LEVELS = {8000: 0.98, 12000: 0.975, 16000: 0.98, 24000: 0.975, 48000: 0.97}
VORBIS_LEVEL = 0.9
_QUEUE_BLOCKS = 8


@dataclass(frozen=True, slots=True)
class Codec:
    container: str
    subtype: str
    mime: str
    level: float | None


def choose_codec(rate: int) -> Codec:
    """Opus in Ogg where libsndfile has it and the rate suits it; else what it has."""
    ogg = soundfile.available_subtypes("OGG") if "OGG" in soundfile.available_formats() else {}
    if "OPUS" in ogg and rate in OPUS_LEVELS:
        return Codec("OGG", "OPUS", "audio/ogg; codecs=opus", OPUS_LEVELS[rate])
    if "VORBIS" in ogg:
        return Codec("OGG", "VORBIS", "audio/ogg; codecs=vorbis", VORBIS_LEVEL)
    return Codec("FLAC", "PCM_16", "audio/flac", None)


class PeakMeter:
    """Per-bucket peaks of a stereo stream fed in blocks of any length.  Pure."""

    def __init__(self, bucket_frames: int) -> None:
        self.bucket_frames = bucket_frames
        self.frames = 0
        self._rest = np.zeros((0, 2), dtype=np.int32)
        self._peaks: list[np.ndarray] = []

    def feed(self, block: np.ndarray) -> None:
        self.frames += len(block)
        data = np.concatenate([self._rest, block.astype(np.int32)])
        whole = len(data) // self.bucket_frames * self.bucket_frames
        if whole:
            buckets = np.abs(data[:whole]).reshape(-1, self.bucket_frames, 2).max(axis=1)
            self._peaks.append(_scaled(buckets))
        self._rest = data[whole:]

    def finish(self) -> tuple[bytes, bytes]:
        """(user peaks, assistant peaks); a last partial bucket counts as a bucket."""
        if len(self._rest):
            self._peaks.append(_scaled(np.abs(self._rest).max(axis=0, keepdims=True)))
            self._rest = self._rest[:0]
        peaks = np.concatenate(self._peaks) if self._peaks else np.zeros((0, 2), np.uint8)
        return peaks[:, 0].tobytes(), peaks[:, 1].tobytes()


def _scaled(peaks: np.ndarray) -> np.ndarray:
    return ((peaks * 255 + 32767) // 32768).astype(np.uint8)


def bucket_frames_for(rate: int) -> int:
    return max(1, rate // PEAKS_PER_SECOND)


@dataclass
class EncodedMix:
    rate: int
    frames: int
    bucket_frames: int
    peaks: tuple[bytes, bytes]  # user (left), assistant (right)
    codec: Codec
    file: IO[bytes]  # the encoded audio, positioned at its start
    size: int

    def close(self) -> None:
        self.file.close()

    def describe(self) -> dict[str, object]:
        """What the page's model says of the audio."""
        return {
            "rate": self.rate,
            "frames": self.frames,
            "bucket_frames": self.bucket_frames,
            "buckets": len(self.peaks[0]),
            "mime": self.codec.mime,
            "bytes": self.size,
        }


def encode_mix(mix: StereoMix, out: IO[bytes] | None = None) -> EncodedMix | None:
    """Peaks and compressed audio of the mix; None if it has no frames at all.

    The audio goes to `out` (a temporary file unless given, e.g. memory for a server).
    """
    codec = choose_codec(mix.rate)
    meter = PeakMeter(bucket_frames_for(mix.rate))
    if out is None:
        out = tempfile.TemporaryFile(prefix="rtrec-view-")  # noqa: SIM115 (handed to the caller)
    encoder = _Encoder(out, mix.rate, codec)
    try:
        for block in mix.blocks:
            meter.feed(block)
            encoder.put(block)
    except BaseException:
        encoder.abandon()
        out.close()
        raise
    encoder.finish()
    if meter.frames == 0:
        out.close()
        return None
    size = out.seek(0, 2)
    out.seek(0)
    return EncodedMix(mix.rate, meter.frames, meter.bucket_frames, meter.finish(), codec, out, size)


class _Encoder:
    """Writes blocks to a compressed sound file from a thread of its own."""

    def __init__(self, out: IO[bytes], rate: int, codec: Codec) -> None:
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(_QUEUE_BLOCKS)
        self._failure: BaseException | None = None
        self._sound = soundfile.SoundFile(
            out,
            "w",
            samplerate=rate,
            channels=2,
            format=codec.container,
            subtype=codec.subtype,
            compression_level=codec.level,
        )
        self._thread = threading.Thread(target=self._run, name="rtrec-view-encode", daemon=True)
        self._thread.start()

    def put(self, block: np.ndarray) -> None:
        if self._failure is not None:
            raise self._failure
        self._queue.put(block)

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._failure is not None:
            raise self._failure

    def abandon(self) -> None:
        self._failure = self._failure or RuntimeError("encoding abandoned")
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        # Keeps taking blocks after a failure, so the producer never blocks on a full queue.
        while (block := self._queue.get()) is not None:
            if self._failure is None:
                try:
                    self._sound.write(block)
                except BaseException as exc:
                    self._failure = exc
        try:
            self._sound.close()
        except Exception as exc:
            self._failure = self._failure or exc
