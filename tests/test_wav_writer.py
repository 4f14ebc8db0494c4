"""rtrec's own WAV writer (rtrec/replay/wav/riff.py): files soundfile reads back exactly,
with the header the RIFF/WAVE spec asks for, and no use of soundfile's private names."""

from __future__ import annotations

import ast
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile

import rtrec
from rtrec import g711
from rtrec.replay.wav.riff import WavWriter


def chunks(path: Path) -> tuple[int, dict[bytes, bytes]]:
    """The RIFF size field and each chunk's body, walking the file as a reader would."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    (riff_size,) = struct.unpack_from("<I", data, 4)
    found: dict[bytes, bytes] = {}
    at = 12
    while at < len(data):
        kind, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        found[kind] = data[at + 8 : at + 8 + size]
        at += 8 + size + size % 2  # chunks are padded to an even length
    assert at == len(data)
    return riff_size, found


@pytest.mark.parametrize(
    ("encoding", "law", "tag"), [("g711_ulaw", "ulaw", 7), ("g711_alaw", "alaw", 6)]
)
@pytest.mark.parametrize("n_bytes", [0, 101, 8000])
def test_g711_wav_reads_back_with_soundfile(
    tmp_path: Path, encoding: str, law: str, tag: int, n_bytes: int
) -> None:
    rng = np.random.default_rng(n_bytes)
    payload = bytes(rng.integers(0, 256, n_bytes, dtype=np.uint8))
    path = tmp_path / "g711.wav"
    writer = WavWriter(path, 8000, 1, encoding)
    for start in range(0, n_bytes, 333):  # streamed in pieces, as an export writes
        writer.write(payload[start : start + 333])
    writer.close()

    riff_size, found = chunks(path)
    assert riff_size == path.stat().st_size - 8
    fmt_tag, channels, rate, byte_rate, align, bits, extra = struct.unpack(
        "<HHIIHHH", found[b"fmt "]
    )
    assert (fmt_tag, channels, rate, byte_rate, align, bits, extra) == (tag, 1, 8000, 8000, 1, 8, 0)
    assert found[b"fact"] == struct.pack("<I", n_bytes)  # non-PCM: the sample frames
    assert found[b"data"] == payload

    info = soundfile.info(str(path))
    assert (info.samplerate, info.channels, info.frames) == (8000, 1, n_bytes)
    assert info.subtype == law.upper()
    samples, rate = soundfile.read(str(path), dtype="int16")
    assert rate == 8000
    np.testing.assert_array_equal(samples, g711.decode(payload, law))


@pytest.mark.parametrize("channels", [1, 2])
def test_pcm16_wav_reads_back_exactly(tmp_path: Path, channels: int) -> None:
    frames = np.random.default_rng(channels).integers(-32768, 32767, (4801, channels))
    frames = frames.astype("<i2")
    path = tmp_path / "pcm.wav"
    writer = WavWriter(path, 24000, channels, "pcm16")
    writer.write(frames[:1000].tobytes())
    writer.write(memoryview(frames[1000:].tobytes()))
    writer.close()

    riff_size, found = chunks(path)
    assert riff_size == path.stat().st_size - 8
    assert struct.unpack("<HHIIHH", found[b"fmt "]) == (
        1,
        channels,
        24000,
        24000 * 2 * channels,
        2 * channels,
        16,
    )
    assert b"fact" not in found
    samples, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    assert rate == 24000
    np.testing.assert_array_equal(samples, frames)


def test_nothing_uses_soundfile_private_names() -> None:
    """soundfile's private names (_ffi, _snd, SoundFile._file) may change in any release."""
    offences = []
    for path in Path(rtrec.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("soundfile"):
                offences += [
                    f"{path}: from {node.module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
            elif isinstance(node, ast.Import):
                offences += [
                    f"{path}: import {a.name}"
                    for a in node.names
                    if a.name.startswith("soundfile._")
                ]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                if isinstance(node.value, ast.Name) and node.value.id in ("soundfile", "sf"):
                    offences.append(f"{path}:{node.lineno}: soundfile.{node.attr}")
                elif node.attr == "_file" and not (
                    isinstance(node.value, ast.Name) and node.value.id == "self"
                ):
                    offences.append(f"{path}:{node.lineno}: ._file of another object")
    assert offences == []
