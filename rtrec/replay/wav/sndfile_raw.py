"""Two libsndfile calls soundfile does not wrap, reached through its cffi handles.

- `write_raw`: bytes into the file as they are (sf_write_raw).  μ-law/A-law bytes are
  kept exactly (decoding and re-encoding turns μ-law's negative zero 0x7F into 0xFF),
  and pcm16 WAV data, little-endian like the Realtime API's, needs no conversion.
- `close`: sf_close without SoundFile.close()'s fsync, which would make every export
  wait for the disk; an export is re-created at will and needs no durability barrier.

If a future soundfile hides these handles, both fall back to the public API (raw data
is then written as decoded samples, which is the same audio).
"""

from __future__ import annotations

import os

import numpy as np
import soundfile

from rtrec.audio_format import AudioFormat
from rtrec.replay.wav.pcm import to_int16

try:
    from soundfile import _ffi, _snd  # type: ignore[attr-defined]

    _sf_write_raw = _snd.sf_write_raw
    _sf_close = _snd.sf_close
except (ImportError, AttributeError):  # pragma: no cover
    _ffi = _snd = _sf_write_raw = _sf_close = None


def write_raw(file: soundfile.SoundFile, data: bytes | memoryview, fmt: AudioFormat) -> None:
    """Append `data` (whole samples in `fmt`, as stored in the file) to `file`."""
    handle = getattr(file, "_file", None)
    if _sf_write_raw is None or handle is None:  # pragma: no cover
        file.write(to_int16(bytes(data), fmt))
        return
    size = memoryview(data).nbytes
    written = _sf_write_raw(handle, _ffi.from_buffer(data), size)
    if written != size:
        code = _ffi.errno  # what write(2) said, kept by cffi: ENOSPC on a full disk
        if code:
            raise OSError(code, os.strerror(code))
        raise OSError(f"short write ({written} of {size} bytes)")


def last_os_error() -> str | None:
    """What the last system call libsndfile made said, when it failed ("System error.")."""
    code = _ffi.errno if _ffi is not None else 0
    return os.strerror(code) if code else None


def write_frames(file: soundfile.SoundFile, frames: np.ndarray, *, raw: bool) -> None:
    """Append int16 frames; `raw` when the file stores little-endian 16-bit PCM."""
    if raw and _sf_write_raw is not None:
        frames = np.ascontiguousarray(frames, dtype="<i2")
        write_raw(file, memoryview(frames).cast("B"), _PCM16)
    else:
        file.write(frames)


def close(file: soundfile.SoundFile) -> None:
    handle = getattr(file, "_file", None)
    if _sf_close is None or handle is None:  # pragma: no cover
        file.close()
        return
    file._file = None
    error = _sf_close(handle)
    if error:
        raise RuntimeError(_ffi.string(_snd.sf_error_number(error)).decode("utf-8", "replace"))


_PCM16 = AudioFormat("pcm16", 1)
