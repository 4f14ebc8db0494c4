"""The frame codec: compaction is exact or not done; every frame comes back."""

from __future__ import annotations

import base64
import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from rtrec.store.frames import BINARY, NOT_JSON, REDACTED, decode_frame, encode_frame


def roundtrip(frame: str | bytes) -> str | bytes:
    enc = encode_frame(frame)
    return decode_frame(enc.frame, enc.audio, enc.audio_at)


AUDIO = os.urandom(4801)
B64 = base64.b64encode(AUDIO).decode()


def test_audio_frames_are_compacted_and_come_back_exactly():
    for frame in (
        f'{{"type":"input_audio_buffer.append","audio":"{B64}"}}',
        json.dumps({"type": "input_audio_buffer.append", "audio": B64}),  # the SDK's spacing
        json.dumps(
            {
                "type": "response.output_audio.delta",
                "item_id": "i",
                "response_id": "r",
                "event_id": "e",
                "delta": B64,
                "obfuscation": "x",
            }
        ),
        f'{{"type":"response.audio.delta","delta" :\n "{B64}","item_id":"ï"}}',
    ):
        enc = encode_frame(frame)
        assert enc.audio == AUDIO
        assert len(enc.frame) < 200  # the base64 is not stored twice
        assert decode_frame(enc.frame, enc.audio, enc.audio_at) == frame


def test_ids_come_from_the_frame():
    enc = encode_frame(
        json.dumps(
            {
                "type": "response.output_audio.delta",
                "item_id": "item_1",
                "response_id": "resp_1",
                "event_id": "ev_1",
                "delta": "QUFB",
            }
        )
    )
    assert (enc.type, enc.event_id, enc.item_id, enc.response_id) == (
        "response.output_audio.delta",
        "ev_1",
        "item_1",
        "resp_1",
    )
    enc = encode_frame('{"type":"conversation.item.added","item":{"id":"item_9"}}')
    assert enc.item_id == "item_9"
    enc = encode_frame('{"type":"response.created","response":{"id":"resp_9"}}')
    assert enc.response_id == "resp_9"


def test_frames_that_cannot_be_proven_exact_are_kept_whole():
    for frame in (
        '{"type":"input_audio_buffer.append","audio":"QR=="}',  # non-canonical last quantum
        '{"type":"input_audio_buffer.append","audio":"\\/\\/\\/\\/"}',  # escaped slashes
        '{"type":"input_audio_buffer.append","audio":"QUFB","audio":"QkJC"}',  # duplicate key
        '{"type":"input_audio_buffer.append","x":{"audio":"QQ=="},"audio":"QUFB"}',  # nested first
        '{"type":"input_audio_buffer.append","audio":"not base64!"}',
        '{"type":"input_audio_buffer.append","audio":5}',
    ):
        enc = encode_frame(frame)
        assert enc.audio is None, frame
        assert enc.type == "input_audio_buffer.append"
        assert decode_frame(enc.frame, enc.audio, enc.audio_at) == frame


def test_odd_frames():
    assert encode_frame(b"\x00\xff").flags == BINARY
    assert encode_frame("{not json").flags == NOT_JSON
    assert encode_frame("[1,2]").type is None
    assert encode_frame('{"type": 5}').type is None
    assert encode_frame('{"type":"x.y","item":"not an object"}').type == "x.y"


def test_secrets_in_frames_are_redacted_and_flagged():
    frame = json.dumps(
        {
            "type": "session.updated",
            "session": {
                "client_secret": {"value": "ek_68af1234567890abcdef1234", "expires_at": 1},
                "tools": [
                    {
                        "type": "mcp",
                        "server_url": "https://x",
                        "authorization": "ghp_tokenvalue123",
                        "headers": {"X-Key": "hdr-secret-9876543"},
                    }
                ],
            },
        }
    )
    enc = encode_frame(frame)
    assert enc.flags & REDACTED
    for secret in ("ek_68af1234567890abcdef1234", "ghp_tokenvalue123", "hdr-secret-9876543"):
        assert secret not in enc.frame
    assert json.loads(enc.frame)["session"]["tools"][0]["server_url"] == "https://x"
    known = encode_frame('{"type":"x","echo":"my-secret-credential"}', {"my-secret-credential"})
    assert "my-secret-credential" not in known.frame and known.flags & REDACTED
    assert encode_frame('{"type":"x","text":"sk-"}').flags == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["type", "audio", "delta", "item_id", "x"]) | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_binary_frame_comes_back(frame):
    assert roundtrip(frame) == frame


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_frame_comes_back(frame):
    if encode_frame(frame).flags & REDACTED:
        return
    assert roundtrip(frame) == frame


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        ["input_audio_buffer.append", "response.output_audio.delta", "response.audio.delta"]
    ),
    st.binary(max_size=300),
    json_values,
    st.booleans(),
)
def test_any_audio_like_event_comes_back(kind, audio, extra, spaced):
    key = "audio" if kind == "input_audio_buffer.append" else "delta"
    event = {"type": kind, "extra": extra, key: base64.b64encode(audio).decode()}
    frame = json.dumps(event) if spaced else json.dumps(event, separators=(",", ":"))
    enc = encode_frame(frame)
    if enc.flags & REDACTED:
        return
    assert decode_frame(enc.frame, enc.audio, enc.audio_at) == frame
    if enc.audio is not None:
        assert enc.audio == audio


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["input_audio_buffer.append", "response.output_audio.delta", "session.update"]),
    st.binary(max_size=60),
    st.sampled_from(
        ["", "sk-proj-abcdefghijklmnop1234", "my-known-secret-123", "ek_0123456789abcdefghij"]
    ),
    st.booleans(),
)
def test_the_spill_scrubs_exactly_as_the_log_does(kind, audio, text, spaced):
    """scrubbed_text (the spill's cheap path) gives the text the log would give back."""
    from rtrec.store.frames import scrubbed_text

    key = "audio" if kind == "input_audio_buffer.append" else "delta"
    event = {"type": kind, "note": text, key: base64.b64encode(audio).decode()}
    frame = json.dumps(event) if spaced else json.dumps(event, separators=(",", ":"))
    secrets = {"my-known-secret-123"}
    enc = encode_frame(frame, secrets)
    logged = decode_frame(enc.frame, enc.audio, enc.audio_at)
    spilled, redacted = scrubbed_text(frame, secrets)
    assert spilled == logged
    assert redacted == bool(enc.flags & REDACTED)
