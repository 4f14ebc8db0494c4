"""Writing the exported audio: WAV files (rtrec/replay/wav/riff.py) or FLAC files (through
soundfile), one stream at a time.

A file is named by its stem (`user`, `assistant`, `response-001-resp_…`) plus the
container's extension.  When the audio format of a stem changes, the file is closed and
the stem goes on in `STEM-2.wav`, `STEM-3.wav`, …: rates are never mixed in one file.
pcm16 is written as 16-bit PCM; G.711 is decoded to 16-bit PCM, or with
`keep_encoding` written as μ-law / A-law WAV holding the original bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from rtrec.audio_format import AudioFormat
from rtrec.errors import RtrecError
from rtrec.outfile import staging_path
from rtrec.replay.wav.pcm import to_int16
from rtrec.replay.wav.riff import WavWriter

_G711 = frozenset({"g711_ulaw", "g711_alaw"})
# Audio is gathered per file and written in large blocks: libsndfile's per-call cost
# would otherwise dominate at one call per 100 ms chunk.
WRITE_BUFFER_BYTES = 1 << 18


@dataclass(slots=True)
class WrittenFile:
    path: Path
    rate: int
    channels: int
    frames: int
    encoding: str  # what the samples are stored as: pcm16, g711_ulaw, g711_alaw

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


class ExportError(RtrecError):
    """A file of the export could not be written."""


class _FlacBytes:
    """Where soundfile writes a FLAC file's bytes (its public file-object interface).

    libsndfile reports a failed write as "System error."; this keeps the OSError itself
    (ENOSPC on a full disk) so that the export can say what happened.
    """

    def __init__(self, path: Path) -> None:
        self.file = open(path, "wb")  # noqa: SIM115 (closed by FlacFile.close)
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        try:
            return self.file.write(data)
        except OSError as exc:
            self.error = self.error or exc
            return 0

    def read(self, size: int = -1) -> bytes:
        return b""  # written only

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()


class FlacFile:
    """A FLAC file through soundfile's public API (int16 frames in)."""

    def __init__(self, path: Path, rate: int, channels: int) -> None:
        self._bytes = _FlacBytes(path)
        try:
            self.file = soundfile.SoundFile(
                self._bytes,
                "w",
                samplerate=rate,
                channels=channels,
                format="FLAC",
                subtype="PCM_16",
            )
        except BaseException:
            self._bytes.file.close()
            raise

    def write(self, frames: np.ndarray) -> None:
        try:
            self.file.write(frames)
        except (RuntimeError, AssertionError) as exc:  # soundfile asserts on a short write
            raise self._failure(exc) from exc

    def close(self) -> None:
        try:
            self.file.close()
        except (RuntimeError, AssertionError) as exc:
            raise self._failure(exc) from exc
        finally:
            self._bytes.file.close()
        if self._bytes.error is not None:
            raise self._bytes.error

    def _failure(self, exc: BaseException) -> BaseException:
        if self._bytes.error is not None:
            return self._bytes.error
        return OSError("short write") if isinstance(exc, AssertionError) else exc


AudioFile = WavWriter | FlacFile


def open_audio_file(
    path: Path, rate: int, channels: int, container: str, encoding: str
) -> AudioFile:
    """The file that becomes `path` when the export is published (see `publish`);
    `encoding` is what a WAV file stores (pcm16, g711_ulaw, g711_alaw)."""
    try:
        if container == "wav":
            return WavWriter(staging_path(path), rate, channels, encoding)
        return FlacFile(staging_path(path), rate, channels)
    except (OSError, RuntimeError) as exc:  # soundfile.LibsndfileError is a RuntimeError
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return str(exc.strerror)
    return str(getattr(exc, "error_string", None) or exc)


class _Stream:
    """The open file of one stem, and the files it has already filled."""

    __slots__ = ("buffer", "file", "fill", "fmt", "parts", "written")

    def __init__(self) -> None:
        self.file: AudioFile | None = None
        self.fmt: AudioFormat | None = None
        # Reused for the life of the stream: no allocation per chunk or per flush.
        self.buffer = bytearray(WRITE_BUFFER_BYTES)
        self.fill = 0
        self.parts: list[Path] = []
        self.written: WrittenFile | None = None


class FileSet:
    """The export's mono files, by stem, in one directory."""

    def __init__(self, out_dir: Path, container: str = "wav", keep_encoding: bool = False) -> None:
        self.out_dir = out_dir
        self.container = container
        self.keep_encoding = keep_encoding
        self.extension = "." + container
        self._open: dict[str, _Stream] = {}
        self.files: list[WrittenFile] = []

    def write(self, stem: str, fmt: AudioFormat, data: bytes) -> None:
        stream = self._open.get(stem)
        if stream is None:
            stream = self._open[stem] = _Stream()
        if stream.fmt != fmt:
            self._start_part(stem, stream, fmt)
        assert stream.written is not None
        stream.written.frames += len(data) // fmt.bytes_per_sample
        size = len(data)
        if stream.fill + size > WRITE_BUFFER_BYTES:
            self._flush(stream)
            if size > WRITE_BUFFER_BYTES:
                self._write(stream, data)
                return
        stream.buffer[stream.fill : stream.fill + size] = data
        stream.fill += size

    def close(self, stem: str) -> None:
        stream = self._open.pop(stem, None)
        if stream is not None:
            self._close_part(stream)

    def rename(self, stem: str, new_stem: str) -> None:
        """Close the stem's files and give them a new stem."""
        stream = self._open.pop(stem, None)
        if stream is None:
            return
        self._close_part(stream)
        renamed = {path: self._path(new_stem, n) for n, path in enumerate(stream.parts, 1)}
        for old, new in renamed.items():
            try:
                os.replace(staging_path(old), staging_path(new))
            except OSError as exc:
                raise ExportError(f"cannot rename {old} to {new}: {_reason(exc)}") from exc
        for written in self.files:
            written.path = renamed.get(written.path, written.path)

    def discard(self, stem: str) -> None:
        stream = self._open.pop(stem, None)
        if stream is None:
            return
        self._close_part(stream)
        gone = set(stream.parts)
        for path in gone:
            staging_path(path).unlink(missing_ok=True)
        self.files = [w for w in self.files if w.path not in gone]

    def close_all(self) -> None:
        for stem in list(self._open):
            self.close(stem)

    def _path(self, stem: str, part: int) -> Path:
        suffix = "" if part == 1 else f"-{part}"
        return self.out_dir / f"{stem}{suffix}{self.extension}"

    def _start_part(self, stem: str, stream: _Stream, fmt: AudioFormat) -> None:
        self._close_part(stream)
        path = self._path(stem, len(stream.parts) + 1)
        keep = self.keep_encoding and fmt.encoding in _G711
        stored = fmt.encoding if keep else "pcm16"
        stream.file = open_audio_file(path, fmt.rate, 1, self.container, stored)
        stream.fmt = fmt
        stream.parts.append(path)
        stream.written = WrittenFile(path, fmt.rate, 1, 0, stored)
        self.files.append(stream.written)

    @classmethod
    def _flush(cls, stream: _Stream) -> None:
        if stream.fill:
            with memoryview(stream.buffer) as view:
                cls._write(stream, view[: stream.fill])
            stream.fill = 0

    @staticmethod
    def _write(stream: _Stream, data: bytes | memoryview) -> None:
        assert stream.file is not None and stream.fmt is not None and stream.written is not None
        file, fmt = stream.file, stream.fmt
        try:
            # A WAV file stores pcm16 little-endian, as the Realtime API sends it, and
            # G.711 kept as it is: the bytes go in unconverted.
            if isinstance(file, WavWriter) and stream.written.encoding == fmt.encoding:
                file.write(data)
            else:
                samples = to_int16(bytes(data), fmt)
                if isinstance(file, WavWriter):
                    file.write(samples.astype("<i2").tobytes())
                else:
                    file.write(samples)
        except (OSError, RuntimeError) as exc:
            raise ExportError(f"cannot write {stream.written.path}: {_reason(exc)}") from exc

    @classmethod
    def _close_part(cls, stream: _Stream) -> None:
        if stream.file is not None:
            cls._flush(stream)
            try:
                stream.file.close()
            except (OSError, RuntimeError) as exc:
                path = stream.written.path if stream.written else "a file"
                raise ExportError(f"cannot finish {path}: {_reason(exc)}") from exc
            stream.file = None


def publish(files: list[WrittenFile]) -> None:
    """Give the finished files their names (replacing older exports' files of those names)."""
    for written in files:
        if written.path.is_dir():
            abandon(files)
            raise ExportError(f"cannot write {written.path}: it is a directory")
    for n, written in enumerate(files):
        try:
            os.replace(staging_path(written.path), written.path)
        except OSError as exc:
            abandon(files[n:])
            raise ExportError(f"cannot write {written.path}: {_reason(exc)}") from exc


def abandon(files: list[WrittenFile]) -> None:
    """Remove what an export that failed had written; files of a previous export stay."""
    for written in files:
        staging_path(written.path).unlink(missing_ok=True)


class TimelineFile:
    """The stereo timeline, written block by block."""

    def __init__(self, path: Path, rate: int, container: str = "wav") -> None:
        self.file = open_audio_file(path, rate, 2, container, "pcm16")
        self.written = WrittenFile(path, rate, 2, 0, "pcm16")

    def write(self, frames: np.ndarray) -> None:
        try:
            if isinstance(self.file, WavWriter):
                frames = np.ascontiguousarray(frames, dtype="<i2")
                self.file.write(frames.data.cast("B"))
            else:
                self.file.write(frames)
        except (OSError, RuntimeError) as exc:
            raise ExportError(f"cannot write {self.written.path}: {_reason(exc)}") from exc
        self.written.frames += len(frames)

    def close(self) -> None:
        try:
            self.file.close()
        except (OSError, RuntimeError) as exc:
            raise ExportError(f"cannot finish {self.written.path}: {_reason(exc)}") from exc
