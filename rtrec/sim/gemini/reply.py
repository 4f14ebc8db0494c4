"""One simulated model turn: what Gemini streams for a reply, paced as it streams it.

After a seeded delay of a few hundred milliseconds (the model thinking), a native-audio
model sends a `thought: true` summary, then its speech as `inlineData` audio chunks
(24 kHz PCM) with the `outputTranscription` of each stretch just before it, then
`generationComplete`, and `turnComplete` with the turn's `usageMetadata`.  A
text-modality turn sends `modelTurn` text parts instead of audio.  A tool call is a
`toolCall` alone: the turn goes on when the client's `toolResponse` comes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rtrec.sim.audio import speech_like
from rtrec.sim.gemini import wire
from rtrec.sim.options import SimOptions

Send = Callable[[dict[str, Any]], Awaitable[None]]

# How long the model takes before its first output, seconds (drawn per turn, seeded).
THINKING_S = (0.25, 0.6)


@dataclass
class ReplyStyle:
    """How the session's setup asks the model to answer."""

    audio: bool = True
    transcription: bool = False


def words_of(text: str) -> list[str]:
    """Transcript fragments as Gemini sends them: a word, with its leading space."""
    words = text.split()
    return [word if index == 0 else " " + word for index, word in enumerate(words)]


async def think(rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(*THINKING_S))


async def say(send: Send, text: str, style: ReplyStyle, options: SimOptions) -> None:
    """Stream one spoken (or written) answer, up to generationComplete."""
    await send(wire.text_part(f"**Answering**\n\nI'll reply: {text[:60]}\n\n", thought=True))
    fragments = words_of(text)
    if not style.audio:
        for start in range(0, len(fragments), 3):
            await send(wire.text_part("".join(fragments[start : start + 3])))
            await _pace(options, 60)
        await send({"serverContent": {"generationComplete": True}})
        return
    samples = speech_like(text, wire.OUTPUT_RATE)
    chunks = _chunks(len(samples), options.delta_ms)
    said = 0
    for index, (start, end) in enumerate(chunks):
        due = -(-(index + 1) * len(fragments) // len(chunks))  # words heard by this chunk's end
        if style.transcription and due > said:
            await send(wire.transcription("outputTranscription", "".join(fragments[said:due])))
            said = due
        await send(wire.audio_part(samples[start:end].astype("<i2").tobytes()))
        await _pace(options, (end - start) * 1000 / wire.OUTPUT_RATE)
    await send({"serverContent": {"generationComplete": True}})


def _chunks(n: int, pattern: tuple[int, ...]) -> list[tuple[int, int]]:
    """Sample ranges of the chunk durations in `pattern` (ms), cycled, covering n samples."""
    out = []
    start = 0
    cycle = 0
    while start < n:
        size = max(1, pattern[cycle % len(pattern)] * wire.OUTPUT_RATE // 1000)
        out.append((start, min(n, start + size)))
        start += size
        cycle += 1
    return out or [(0, 0)]


async def _pace(options: SimOptions, media_ms: float) -> None:
    factor = options.realtime_factor
    await asyncio.sleep(media_ms / 1000 / factor if factor > 0 else 0)
