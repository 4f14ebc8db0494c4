"""export-wav end to end: audio sent through the relay comes back sample for sample.

The user's audio is generated here and sent by the real openai SDK through the relay;
the assistant's audio is the simulator's, as the SDK received it.  Files are read back
with soundfile.
"""

from __future__ import annotations

import base64
import itertools
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from openai import AsyncOpenAI
from websockets.asyncio.client import connect

from rtrec.recorder.service import Recorder
from tests.conftest import run_cli
from tests.wavtools import PCM, audioop_decode, make_signal, wav_data_chunk

# G.711 reference values (ITU-T G.711 tables): byte → linear sample.
ULAW_REFERENCE = {0xFF: 0, 0x00: -32124, 0x80: 32124, 0x7F: 0, 0xFE: 8, 0x70: -120}
ALAW_REFERENCE = {0xD5: 8, 0x55: -8, 0x2A: -32256, 0xAA: 32256, 0xD4: 24, 0x54: -24}
GA_FORMATS = {"pcm16": PCM, "ulaw": {"type": "audio/pcmu"}, "alaw": {"type": "audio/pcma"}}


async def converse(recorder: Recorder, fmt: dict, chunks: list[bytes]) -> bytes:
    """Send the chunks as the user's audio, ask for a reply; returns the reply's audio."""
    client = AsyncOpenAI(api_key="sk-test", websocket_base_url=f"{recorder.url}/v1")
    received = bytearray()
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(
            session={
                "type": "realtime",
                "output_modalities": ["audio"],
                "audio": {
                    "input": {"format": fmt, "turn_detection": None},
                    "output": {"format": fmt},
                },
            }
        )
        async for event in conn:
            if event.type == "session.updated":
                break
        for chunk in chunks:
            await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
        await conn.input_audio_buffer.commit()
        await conn.response.create()
        async for event in conn:
            if event.type == "response.output_audio.delta":
                received += base64.b64decode(event.delta)
            elif event.type == "response.done":
                break
    assert recorder.writer is not None
    await recorder.writer.flush()  # the relay appended every frame before forwarding it
    return bytes(received)


def export(db_path: str, out: Path, *flags: str) -> str:
    result = run_cli("export-wav", "last", "--out", str(out), *flags, db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def read(path: Path) -> tuple[np.ndarray, sf._SoundFileInfo]:
    samples, _ = sf.read(path, dtype="int16")
    return samples, sf.info(str(path))


async def test_pcm16_comes_back_sample_for_sample(recorder, db_path, tmp_path):
    sent = make_signal(1.3)
    data = sent.astype("<i2").tobytes()
    # Uneven chunk sizes, as clients send them.
    bounds = [0, 4800, 5760, 15360, 40000, 48000, len(data)]
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    reply = await converse(recorder, PCM, chunks)
    assert len(reply) > 24000  # the simulator spoke for a while

    out = tmp_path / "out"
    listing = export(db_path, out)
    user, info = read(out / "user.wav")
    assert info.samplerate == 24000 and info.channels == 1 and info.subtype == "PCM_16"
    assert np.array_equal(user, sent)
    assistant, info = read(out / "assistant.wav")
    assert info.samplerate == 24000
    assert np.array_equal(assistant, np.frombuffer(reply, dtype="<i2"))
    assert "user.wav" in listing and "assistant.wav" in listing


async def test_odd_byte_chunks_from_the_client_are_reassembled(recorder, db_path, tmp_path):
    sent = make_signal(0.5, seed=3)
    data = sent.astype("<i2").tobytes()
    bounds = [0, 1, 4801, 4802, 9999, 17000, len(data)]  # odd-length chunks
    await converse(recorder, PCM, [data[a:b] for a, b in itertools.pairwise(bounds)])
    out = tmp_path / "out"
    export(db_path, out)
    user, _ = read(out / "user.wav")
    assert np.array_equal(user, sent)


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
async def test_g711_decodes_to_reference_values_and_keeps_its_bytes(
    law, recorder, db_path, tmp_path
):
    reference = ULAW_REFERENCE if law == "ulaw" else ALAW_REFERENCE
    # Every code byte, in a known order, 1.28 s at 8 kHz.
    sent = bytes(range(256)) * 40
    reply = await converse(
        recorder, GA_FORMATS[law], [sent[i : i + 800] for i in range(0, len(sent), 800)]
    )

    out = tmp_path / "decoded"
    export(db_path, out)
    user, info = read(out / "user.wav")
    assert info.samplerate == 8000 and info.subtype == "PCM_16"
    assert len(user) == len(sent)
    for code, value in reference.items():
        assert user[code] == value, f"{law} byte {code:#04x}"
        assert user[256 + code] == value
    oracle = audioop_decode(sent, law)
    if oracle is not None:
        assert np.array_equal(user, oracle)
    assistant, info = read(out / "assistant.wav")
    assert info.samplerate == 8000
    if oracle is not None:
        assert np.array_equal(assistant, audioop_decode(reply, law))
    assert len(assistant) == len(reply)

    kept = tmp_path / "kept"
    export(db_path, kept, "--keep-encoding")
    subtype = "ULAW" if law == "ulaw" else "ALAW"
    for name, original in (("user.wav", sent), ("assistant.wav", reply)):
        samples, info = read(kept / name)
        assert info.subtype == subtype and info.samplerate == 8000
        assert wav_data_chunk(kept / name) == original  # the very bytes that were sent
        decoded, _ = read(out / name)
        assert np.array_equal(samples, decoded)


async def test_flac_and_split_by_response_and_item(recorder, db_path, tmp_path):
    sent = make_signal(0.6, seed=11)
    reply = await converse(recorder, PCM, [sent.astype("<i2").tobytes()])
    out = tmp_path / "out"
    listing = export(db_path, out, "--format", "flac", "--split", "response", "--split", "item")
    names = sorted(p.name for p in out.iterdir())
    assert "user.flac" in names and "assistant.flac" in names
    assert not any(name.endswith(".wav") or name.startswith(".") for name in names)
    responses = [n for n in names if n.startswith("response-")]
    user_items = [n for n in names if n.startswith("item-") and "-user-" in n]
    assistant_items = [n for n in names if n.startswith("item-") and "-assistant-" in n]
    assert len(responses) == 1 and len(user_items) == 1 and len(assistant_items) == 1
    assert user_items[0].startswith("item-001-user-item_")
    assert assistant_items[0].startswith("item-002-assistant-item_")
    expected_reply = np.frombuffer(reply, dtype="<i2")
    for name in ("assistant.flac", responses[0], assistant_items[0]):
        samples, info = read(out / name)
        assert info.format == "FLAC"
        assert np.array_equal(samples, expected_reply)
    user, _ = read(out / user_items[0])
    assert np.array_equal(user, sent)
    assert responses[0] in listing


async def test_timeline_places_relayed_chunks_by_their_recorded_arrival(
    recorder, db_path, tmp_path
):
    sent = make_signal(0.4, seed=5)
    reply = await converse(recorder, PCM, [sent.astype("<i2").tobytes()])
    with sqlite3.connect(db_path) as conn:
        arrivals = conn.execute(
            "SELECT direction, t_ns, length(audio) FROM event "
            "WHERE type IN ('input_audio_buffer.append', 'response.output_audio.delta') "
            "ORDER BY seq"
        ).fetchall()
    out = tmp_path / "out"
    export(db_path, out, "--timeline")
    timeline, rate = sf.read(out / "timeline.wav", dtype="int16")
    assert rate == 24000
    # The placement rule, applied to the times the relay recorded.
    ends = {"client": 0, "server": 0}
    placed = {"client": [], "server": []}
    for direction, t_ns, size in arrivals:
        start = max(t_ns * rate // 1_000_000_000, ends[direction])
        ends[direction] = start + size // 2
        placed[direction].append((start, size // 2))
    ((user_start, user_len),) = placed["client"]
    assert np.array_equal(timeline[user_start : user_start + user_len, 0], sent)
    assert not timeline[:user_start, 0].any()
    samples = np.frombuffer(reply, dtype="<i2")
    offset = 0
    for start, length in placed["server"]:
        assert np.array_equal(
            timeline[start : start + length, 1], samples[offset : offset + length]
        )
        offset += length
    assert offset == len(samples) and len(timeline) == max(ends.values())


async def test_beta_session_through_the_relay(recorder, db_path, tmp_path):
    """A beta client (OpenAI-Beta: realtime=v1): format strings, response.audio.delta."""
    sent = bytes(range(256)) * 8
    url = f"{recorder.url}/v1/realtime?model=gpt-4o-realtime-preview"
    received = bytearray()
    async with connect(url, additional_headers={"OpenAI-Beta": "realtime=v1"}) as ws:

        async def until(kind: str) -> dict:
            while True:
                event = json.loads(await ws.recv())
                if event["type"] == "response.audio.delta":
                    received.extend(base64.b64decode(event["delta"]))
                if event["type"] == kind:
                    return event

        session = {
            "input_audio_format": "g711_alaw",
            "output_audio_format": "g711_ulaw",
            "turn_detection": None,
        }
        await ws.send(json.dumps({"type": "session.update", "session": session}))
        await until("session.updated")
        append = {"type": "input_audio_buffer.append", "audio": base64.b64encode(sent).decode()}
        await ws.send(json.dumps(append))
        await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
        await ws.send(json.dumps({"type": "response.create"}))
        await until("response.done")
    assert recorder.writer is not None
    await recorder.writer.flush()
    assert len(received) > 8000

    out = tmp_path / "out"
    export(db_path, out)
    user, info = read(out / "user.wav")
    assert info.samplerate == 8000
    for code, value in ALAW_REFERENCE.items():
        assert user[code] == value
    assistant, info = read(out / "assistant.wav")
    assert info.samplerate == 8000 and len(assistant) == len(received)
    oracle = audioop_decode(bytes(received), "ulaw")
    if oracle is not None:
        assert np.array_equal(assistant, oracle)
