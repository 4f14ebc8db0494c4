"""The page's sound: the as-heard mix compressed for the browser, and its waveform peaks.

Both come from the blocks of `as_heard_mix` (the samples `export-wav --timeline`
writes) in one pass.  The two channels are compressed as two mono tracks, user and
assistant, which the page plays together, panned left and right: Opus folds a stereo
stream into mono below about 18 kbit/s, where two mono tracks of speech stay clear at
a third of that.

Peaks are one byte per channel per `bucket_frames` frames: the bucket's largest
absolute sample, scaled to 0..255 and rounded up, so that any sound at all shows.
Each track is encoded in a thread of its own beside the fold (libsndfile releases the
GIL), into a temporary file: memory stays flat however long the call.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import numpy as np
import soundfile

from rtrec.replay.wav.mix import StereoMix

PEAKS_PER_SECOND = 50
TRACKS = ("user", "assistant")
# libsndfile maps a compression level to Opus's bitrate (1.0 the lowest).  0.99 gives 5-7
# kbit/s a track for a call with a microphone's noise floor (about 5 MB an hour for both),
# speech as clear as a phone call's, and encodes at about twice the speed of 0.97 (which
# is twice the size).  The page is for finding where a call went wrong; export-wav gives
# the exact samples.
OPUS_RATES = frozenset({8000, 12000, 16000, 24000, 48000})
OPUS_LEVEL = 0.99
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
    if "OPUS" in ogg and rate in OPUS_RATES:
        return Codec("OGG", "OPUS", "audio/ogg; codecs=opus", OPUS_LEVEL)
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
    files: tuple[IO[bytes], IO[bytes]]  # the encoded tracks, user and assistant, at their start
    sizes: tuple[int, int]

    def close(self) -> None:
        for file in self.files:
            file.close()

    def describe(self) -> dict[str, object]:
        """What the page's model says of the audio."""
        return {
            "rate": self.rate,
            "frames": self.frames,
            "bucket_frames": self.bucket_frames,
            "buckets": len(self.peaks[0]),
            "mime": self.codec.mime,
            "tracks": list(TRACKS),
            "bytes": list(self.sizes),
        }


def encode_mix(
    mix: StereoMix, make_file: Callable[[], IO[bytes]] | None = None
) -> EncodedMix | None:
    """Peaks and compressed tracks of the mix; None if it has no frames at all.

    Each track goes to a file from `make_file` (temporary files unless given, e.g.
    memory for a server).
    """
    codec = choose_codec(mix.rate)
    meter = PeakMeter(bucket_frames_for(mix.rate))
    files = (make_file(), make_file()) if make_file else (_temporary(), _temporary())
    encoders = [_Encoder(file, mix.rate, codec) for file in files]
    try:
        for block in mix.blocks:
            meter.feed(block)
            for channel, encoder in enumerate(encoders):
                encoder.put(np.ascontiguousarray(block[:, channel]))
        for encoder in encoders:
            encoder.finish()
    except BaseException:
        for encoder in encoders:
            encoder.abandon()
        for file in files:
            file.close()
        raise
    if meter.frames == 0:
        for file in files:
            file.close()
        return None
    sizes = (files[0].seek(0, 2), files[1].seek(0, 2))
    for file in files:
        file.seek(0)
    return EncodedMix(
        mix.rate, meter.frames, meter.bucket_frames, meter.finish(), codec, files, sizes
    )


def _temporary() -> IO[bytes]:
    # Handed to the caller, who closes it (EncodedMix.close).
    return tempfile.TemporaryFile(prefix="rtrec-view-")


class _Encoder:
    """Writes one track's blocks to a compressed sound file from a thread of its own."""

    def __init__(self, out: IO[bytes], rate: int, codec: Codec) -> None:
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(_QUEUE_BLOCKS)
        self._failure: BaseException | None = None
        self._sound = soundfile.SoundFile(
            out,
            "w",
            samplerate=rate,
            channels=1,
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
        if not self._thread.is_alive():
            return
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
