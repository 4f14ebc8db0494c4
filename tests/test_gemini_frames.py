"""Gemini frames in the log: row types, compacted audio given back exactly, and frames
kept whole when a compact copy could not be proven exact."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtrec.protocols import adapter_named, protocol_of_object, protocol_of_path
from rtrec.protocols.gemini.messages import ServerContentMessage, UnknownMessage, decode_message
from rtrec.store.frames import AUDIO_URLSAFE, BINARY, decode_frame, encode_frame

GEMINI = adapter_named("gemini")


def _roundtrip(frame: str | bytes):  # type: ignore[no-untyped-def]
    enc = encode_frame(frame, adapter=GEMINI)
    assert decode_frame(enc.frame, enc.audio, enc.audio_at, enc.flags) == frame
    return enc


def _user(data: str, *, key: str = "realtime_input", mime: str = "audio/pcm;rate=16000") -> str:
    return json.dumps({key: {"audio": {"data": data, "mimeType": mime}}})


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        ('{"client_content": {"turns": []}}', "clientContent"),
        ('{"clientContent": {"turns": []}}', "clientContent"),
        ('{"serverContent": {"turnComplete": true}, "usageMetadata": {}}', "serverContent"),
        ('{"usageMetadata": {}, "serverContent": {}}', "serverContent"),  # the main field wins
        ('{"usageMetadata": {"totalTokenCount": 3}}', "usageMetadata"),
        ('{"tool_call_cancellation": {"ids": ["a"]}}', "toolCallCancellation"),
        ('{"brand_new_thing": {}}', "brandNewThing"),  # unknown: its field, camelCased
        ("[1, 2]", None),
    ],
)
def test_a_rows_type_is_the_top_level_field_in_camel_case(frame: str, kind: str | None) -> None:
    assert GEMINI.envelope(frame) is not None
    assert GEMINI.envelope(frame).type == kind  # type: ignore[union-attr]
    assert _roundtrip(frame).type == kind


def test_not_json_has_no_envelope() -> None:
    assert GEMINI.envelope("nope") is None


def test_recognition_by_path_and_first_message() -> None:
    for version in ("v1", "v1beta", "v1alpha"):
        path = f"/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent"
        assert protocol_of_path(path + "?key=x") == "gemini"
    assert protocol_of_path("/ws/x.v1alpha.GenerativeService.BidiGenerateContentConstrained")
    assert protocol_of_object("client", {"setup": {"model": "m"}}) == "gemini"
    assert protocol_of_object("server", {"setupComplete": {}}) == "gemini"
    assert protocol_of_object("client", {"type": "session.update"}) == "realtime"


def test_unknown_fields_are_kept_and_both_spellings_read() -> None:
    message = decode_message(
        '{"server_content": {"model_turn": {"parts": [{"text": "hi", "thought": true}]},'
        ' "turn_complete": true, "something_new": 1}}'
    )
    assert isinstance(message, ServerContentMessage)
    content = message.server_content
    assert content.turn_complete and content.model_turn is not None
    assert content.model_turn.parts[0].thought
    unknown = decode_message('{"future": {"x_y": 1}}')
    assert unknown == UnknownMessage("future", {"future": {"x_y": 1}})


@given(st.binary(min_size=1, max_size=300))
def test_sent_audio_is_compacted_in_its_own_alphabet(audio: bytes) -> None:
    data = base64.urlsafe_b64encode(audio).decode()
    enc = _roundtrip(_user(data))
    assert enc.audio == audio and enc.type == "realtimeInput"
    urlsafe = "-" in data or "_" in data
    assert bool(enc.flags & AUDIO_URLSAFE) == urlsafe


def test_model_audio_in_a_binary_frame_is_compacted_and_stays_binary() -> None:
    blob = {"mimeType": "audio/pcm;rate=24000", "data": base64.b64encode(b"\x01\xff" * 50).decode()}
    frame = json.dumps({"serverContent": {"modelTurn": {"parts": [{"inlineData": blob}]}}}).encode()
    enc = _roundtrip(frame)
    assert enc.audio == b"\x01\xff" * 50 and enc.flags & BINARY
    assert enc.type == "serverContent"


@pytest.mark.parametrize(
    "frame",
    [
        _user("AAEC"[:3]),  # unpadded
        _user("+-AB"),  # two alphabets at once
        _user("AAEC", mime="image/jpeg"),  # not audio
        json.dumps({"realtime_input": {"mediaChunks": [{"data": "AAEC"}, {"data": "AAEC"}]}}),
        '{"realtime_input": {"audio": {"data": "AA\\/C"}}}',  # an escape in the base64
        json.dumps({"setup": {"data": "AAEC"}}),  # not an audio message
    ],
)
def test_frames_that_cannot_be_proven_exact_are_kept_whole(frame: str) -> None:
    enc = _roundtrip(frame)
    assert enc.audio is None and enc.frame == frame


def test_binary_frames_that_are_not_json_stay_untyped() -> None:
    enc = _roundtrip(b"\x00\x01binary")
    assert enc.type is None and enc.flags == BINARY
