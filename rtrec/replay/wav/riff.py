"""A streaming WAV writer: RIFF/WAVE holding 16-bit PCM or G.711 μ-law/A-law bytes as given.

rtrec writes WAV itself rather than through libsndfile so that μ-law and A-law bytes are
kept exactly (decoding and re-encoding turns μ-law's negative zero 0x7F into 0xFF) and
little-endian pcm16, as the Realtime API sends it, needs no conversion.  The layout is
the one libsndfile writes, byte for byte:

    "RIFF" <size> "WAVE"
    "fmt " 16 bytes (PCM, tag 1)  or  18 bytes (tag 7 μ-law / 6 A-law, cbSize 0)
    "fact" 4 bytes: the sample frames, which the spec asks of every non-PCM format
    "data" <size> the samples, then one pad byte when their length is odd

The sizes are written as 0 when the file is opened and patched by `close`, so the
audio streams through: memory stays flat however long the file.
"""

from __future__ import annotations

import errno
import struct
from pathlib import Path
from typing import BinaryIO

# (format tag, bits per sample) of each encoding a WAV file here can hold.
_FORMATS = {"pcm16": (1, 16), "g711_alaw": (6, 8), "g711_ulaw": (7, 8)}
_PCM = 1
_MAX_SIZE = 0xFFFFFFFF  # RIFF sizes are 32-bit


class WavWriter:
    """One WAV file, open for appending whole sample frames."""

    def __init__(self, path: Path, rate: int, channels: int, encoding: str) -> None:
        tag, bits = _FORMATS[encoding]
        self.block_align = channels * bits // 8
        self.data_bytes = 0
        fmt = struct.pack(
            "<HHIIHH", tag, channels, rate, rate * self.block_align, self.block_align, bits
        )
        header = [b"WAVE", _chunk(b"fmt ", fmt if tag == _PCM else fmt + b"\0\0")]
        self._fact_at: int | None = None
        if tag != _PCM:
            self._fact_at = 12 + len(header[1]) + 8
            header.append(_chunk(b"fact", b"\0\0\0\0"))
        header.append(b"data\0\0\0\0")
        self._data_at = 12 + sum(len(part) for part in header[1:])
        self._file: BinaryIO | None = open(path, "wb")  # noqa: SIM115 (closed by close())
        try:
            self._file.write(b"RIFF\0\0\0\0" + b"".join(header))
        except BaseException:
            self._file.close()
            raise

    def write(self, data: bytes | memoryview) -> None:
        """Append `data`: whole sample frames in the file's encoding."""
        assert self._file is not None, "write after close"
        size = memoryview(data).nbytes
        if self._data_at + self.data_bytes + size + 1 - 8 > _MAX_SIZE:
            raise OSError(errno.EFBIG, "a WAV file holds at most 4 GiB")
        self._file.write(data)
        self.data_bytes += size

    def close(self) -> None:
        """Pad the data to an even length and write the sizes into the header."""
        file, self._file = self._file, None
        if file is None:
            return
        try:
            if self.data_bytes % 2:
                file.write(b"\0")
            riff_size = self._data_at + self.data_bytes + self.data_bytes % 2 - 8
            file.seek(4)
            file.write(struct.pack("<I", riff_size))
            if self._fact_at is not None:
                file.seek(self._fact_at)
                file.write(struct.pack("<I", self.data_bytes // self.block_align))
            file.seek(self._data_at - 4)
            file.write(struct.pack("<I", self.data_bytes))
        finally:
            file.close()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body
