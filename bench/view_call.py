"""A generated voice-agent call with turns, for bench/view: what a page of an hour holds.

Every 20 s the user speaks for 4 s (speech-like audio; a quiet microphone otherwise, 100 ms
appends throughout), the server's VAD stops, commits and transcribes the turn, and after a
few hundred milliseconds the assistant answers with 8 s of audio (100 ms deltas sent twice
as fast as real time, with transcript deltas) and usage; every tenth answer the user cuts
short (the client truncates it, the response is cancelled).  GA event shapes, event ids as
random as a real server's, written through bench/export_wav's `generate_session`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import numpy as np

from rtrec.sim.audio import speech_like

RATE = 24000
CHUNK_MS = 100
CYCLE_S = 20
USER_S = 4
ANSWER_S = 8
CUT_EVERY = 10
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
QUESTION = "Could you check whether my order has shipped and when it will arrive"
ANSWER = (
    "Your order left the warehouse this morning and should arrive on Thursday before noon, "
    "I will send you the tracking link by email"
)


def _chunks(samples: np.ndarray) -> list[str]:
    step = RATE * CHUNK_MS // 1000
    return [
        base64.b64encode(samples[i : i + step].astype("<i2").tobytes()).decode()
        for i in range(0, len(samples) - step + 1, step)
    ]


def call_frames(seconds: int, seed: int = 7) -> Iterator[tuple[int, str, str]]:
    """(t_ns, direction, frame) in time order."""
    rng = np.random.default_rng(seed)
    quiet = _chunks(rng.normal(0, 25, RATE * 3).astype(np.int16))
    spoken = _chunks(speech_like(QUESTION, RATE))
    answered = _chunks(speech_like(ANSWER, RATE, pitch_hz=200))

    def event_id() -> str:
        return "event_" + "".join(rng.choice(list(_ALPHABET), 21))

    def ms(t: float) -> int:
        return int(t * 1e9)

    yield (
        ms(0.001),
        "server",
        json.dumps(
            {
                "type": "session.created",
                "event_id": event_id(),
                "session": {
                    "type": "realtime",
                    "model": "gpt-realtime",
                    "audio": {
                        "input": {
                            "format": {"type": "audio/pcm", "rate": RATE},
                            "turn_detection": {"type": "server_vad"},
                        },
                        "output": {"format": {"type": "audio/pcm", "rate": RATE}, "voice": "marin"},
                    },
                },
            }
        ),
    )
    previous = None
    for turn in range(max(1, seconds // CYCLE_S)):
        frames: list[tuple[int, str, str]] = []
        start = turn * CYCLE_S + 0.5
        for n in range(CYCLE_S * 1000 // CHUNK_MS):
            t = turn * CYCLE_S + (n + 1) * CHUNK_MS / 1000
            speaking = start <= t < start + USER_S
            audio = spoken[n % len(spoken)] if speaking else quiet[n % len(quiet)]
            frames.append(
                (ms(t), "client", json.dumps({"type": "input_audio_buffer.append", "audio": audio}))
            )
        user, reply, said = f"item_u{turn}", f"resp_{turn}", f"item_a{turn}"
        stop = start + USER_S + 0.5
        audio_start = int(start * 1000)
        frames += [
            (
                ms(start + 0.05),
                "server",
                json.dumps(
                    {
                        "type": "input_audio_buffer.speech_started",
                        "event_id": event_id(),
                        "audio_start_ms": audio_start,
                        "item_id": user,
                    }
                ),
            ),
            (
                ms(stop),
                "server",
                json.dumps(
                    {
                        "type": "input_audio_buffer.speech_stopped",
                        "event_id": event_id(),
                        "audio_end_ms": int(stop * 1000),
                        "item_id": user,
                    }
                ),
            ),
            (
                ms(stop + 0.005),
                "server",
                json.dumps(
                    {
                        "type": "input_audio_buffer.committed",
                        "event_id": event_id(),
                        "previous_item_id": previous,
                        "item_id": user,
                    }
                ),
            ),
            (
                ms(stop + 0.006),
                "server",
                json.dumps(
                    {
                        "type": "conversation.item.added",
                        "event_id": event_id(),
                        "previous_item_id": previous,
                        "item": {
                            "id": user,
                            "type": "message",
                            "role": "user",
                            "status": "completed",
                            "content": [{"type": "input_audio", "transcript": None}],
                        },
                    }
                ),
            ),
        ]
        latency = 0.25 + float(rng.uniform(0, 0.9))
        created = stop + latency
        frames += [
            (
                ms(created - 0.05),
                "server",
                json.dumps(
                    {
                        "type": "conversation.item.input_audio_transcription.completed",
                        "event_id": event_id(),
                        "item_id": user,
                        "content_index": 0,
                        "transcript": QUESTION + "?",
                    }
                ),
            ),
            (
                ms(created),
                "server",
                json.dumps(
                    {
                        "type": "response.created",
                        "event_id": event_id(),
                        "response": {"id": reply, "status": "in_progress", "output": []},
                    }
                ),
            ),
            (
                ms(created + 0.001),
                "server",
                json.dumps(
                    {
                        "type": "conversation.item.added",
                        "event_id": event_id(),
                        "previous_item_id": user,
                        "item": {
                            "id": said,
                            "type": "message",
                            "role": "assistant",
                            "status": "in_progress",
                            "content": [],
                        },
                    }
                ),
            ),
        ]
        cut = turn % CUT_EVERY == CUT_EVERY - 1
        deltas = ANSWER_S * 1000 // CHUNK_MS
        sent = deltas // 2 if cut else deltas
        for n in range(sent):
            t = created + 0.02 + n * CHUNK_MS / 2000
            frames.append(
                (
                    ms(t),
                    "server",
                    json.dumps(
                        {
                            "type": "response.output_audio.delta",
                            "event_id": event_id(),
                            "response_id": reply,
                            "item_id": said,
                            "output_index": 0,
                            "content_index": 0,
                            "delta": answered[n % len(answered)],
                        }
                    ),
                )
            )
            if n % 8 == 0:
                frames.append(
                    (
                        ms(t),
                        "server",
                        json.dumps(
                            {
                                "type": "response.output_audio_transcript.delta",
                                "event_id": event_id(),
                                "response_id": reply,
                                "item_id": said,
                                "output_index": 0,
                                "content_index": 0,
                                "delta": ANSWER.split()[n // 8 % 20] + " ",
                            }
                        ),
                    )
                )
        done = created + 0.02 + sent * CHUNK_MS / 2000
        status = "completed"
        if cut:
            status = "cancelled"
            frames += [
                (
                    ms(done),
                    "client",
                    json.dumps(
                        {
                            "type": "conversation.item.truncate",
                            "item_id": said,
                            "content_index": 0,
                            "audio_end_ms": 2500,
                        }
                    ),
                ),
                (
                    ms(done + 0.01),
                    "server",
                    json.dumps(
                        {
                            "type": "conversation.item.truncated",
                            "event_id": event_id(),
                            "item_id": said,
                            "content_index": 0,
                            "audio_end_ms": 2500,
                        }
                    ),
                ),
            ]
        frames.append(
            (
                ms(done + 0.02),
                "server",
                json.dumps(
                    {
                        "type": "response.done",
                        "event_id": event_id(),
                        "response": {
                            "id": reply,
                            "status": status,
                            "output": [
                                {
                                    "id": said,
                                    "type": "message",
                                    "role": "assistant",
                                    "status": status,
                                    "content": [{"type": "output_audio", "transcript": ANSWER}],
                                }
                            ],
                            "usage": {
                                "total_tokens": 420 + turn,
                                "input_tokens": 300 + turn,
                                "output_tokens": 120,
                            },
                        },
                    }
                ),
            )
        )
        previous = said
        frames.sort(key=lambda frame: frame[0])
        yield from frames
