"""G.711 μ-law and A-law ⇄ 16-bit linear PCM, as lookup tables (ITU-T G.711).

The algorithms are those of the reference implementation (Sun Microsystems' g711.c,
public domain), vectorised with numpy: decoding is one table lookup per byte and
encoding one lookup per 16-bit sample.  Pure: no I/O.
"""

from __future__ import annotations

from functools import cache

import numpy as np

_SIGN_BIT = 0x80
_QUANT_MASK = 0x0F
_SEG_SHIFT = 4
_SEG_MASK = 0x70
_ULAW_BIAS = 0x84


def _ulaw_decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = ((u & _QUANT_MASK) << 3) + _ULAW_BIAS
    t = t << ((u & _SEG_MASK) >> _SEG_SHIFT)
    return np.where(u & _SIGN_BIT, _ULAW_BIAS - t, t - _ULAW_BIAS).astype(np.int16)


def _alaw_decode_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    t = (a & _QUANT_MASK) << 4
    seg = (a & _SEG_MASK) >> _SEG_SHIFT
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & _SIGN_BIT, t, -t).astype(np.int16)


def _segment(values: np.ndarray, ends: tuple[int, ...]) -> np.ndarray:
    return np.searchsorted(np.array(ends), values, side="left")


def _ulaw_encode_table() -> np.ndarray:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(pcm), 8159) + (_ULAW_BIAS >> 2)
    seg = _segment(magnitude, (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF))
    uval = (seg << 4) | ((magnitude >> (np.minimum(seg, 7) + 1)) & 0xF)
    code = np.where(seg >= 8, 0x7F, uval) ^ mask
    return code.astype(np.uint8)


def _alaw_encode_table() -> np.ndarray:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    magnitude = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = _segment(magnitude, (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF))
    shift = np.where(seg < 2, 1, np.minimum(seg, 7))
    aval = (seg << _SEG_SHIFT) | ((magnitude >> shift) & _QUANT_MASK)
    code = np.where(seg >= 8, 0x7F, aval) ^ mask
    return code.astype(np.uint8)


@cache
def decode_table(law: str) -> np.ndarray:
    """256 int16 samples, indexed by the G.711 byte."""
    table = {"ulaw": _ulaw_decode_table, "alaw": _alaw_decode_table}[law]()
    table.setflags(write=False)
    return table


@cache
def _encode_table(law: str) -> np.ndarray:
    table = {"ulaw": _ulaw_encode_table, "alaw": _alaw_encode_table}[law]()
    table.setflags(write=False)
    return table


def decode(data: bytes, law: str) -> np.ndarray:
    """G.711 bytes → int16 samples."""
    return decode_table(law)[np.frombuffer(data, dtype=np.uint8)]


def encode(samples: np.ndarray, law: str) -> bytes:
    """int16 samples → G.711 bytes."""
    index = samples.astype(np.int32) + 32768
    return _encode_table(law)[index].tobytes()
