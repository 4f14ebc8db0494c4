"""The JSONL interchange format."""

from __future__ import annotations

import pytest

from rtrec.jsonl import LineError, encode_line, format_seconds, parse_line


def test_times_are_exact_decimal_seconds():
    assert format_seconds(0) == "0.0"
    assert format_seconds(1_250_000_000) == "1.25"
    assert format_seconds(36_000_123_456_789) == "36000.123456789"
    for t_ns in (0, 1, 999_999_999, 20_000_000, 36_000_123_456_789, 4_047_001):
        assert parse_line(encode_line(t_ns, "client", "x")).t_ns == t_ns


def test_lines_round_trip():
    for frame in ('{"type":"a"}', "not json", 'héllo\n"quoted"', b"\x00\x01binary", ""):
        parsed = parse_line(encode_line(1_500_000_000, "server", frame))
        assert (parsed.t_ns, parsed.direction, parsed.frame) == (1_500_000_000, "server", frame)


def test_event_lines_and_bare_events():
    parsed = parse_line('{"t": 0.02, "dir": "client", "event": {"type": "response.create"}}')
    assert parsed.frame == '{"type":"response.create"}' and parsed.direction == "client"
    bare = parse_line('{"type": "input_audio_buffer.commit"}')
    assert (bare.t_ns, bare.direction) == (None, "client")
    assert parse_line('{"type": "response.done", "response": {}}').direction == "server"
    assert parse_line("   \n") is None


@pytest.mark.parametrize(
    "line, reason",
    [
        ("{", "not valid JSON"),
        ("[1]", "expected a JSON object"),
        ('{"t": -1, "frame": "x"}', '"t" must be'),
        ('{"t": "soon", "frame": "x"}', '"t" must be'),
        ('{"frame": 5}', '"frame" must be a string'),
        ('{"frame_b64": "***"}', "not valid base64"),
        ('{"dir": "sideways", "frame": "x"}', '"dir" must be'),
        ('{"hello": "world"}', 'expected "frame"'),
        ('{"frame": "\\ud800"}', "lone surrogate"),
        ('{"t": NaN, "frame": "x"}', "not valid JSON"),
    ],
)
def test_bad_lines_say_why(line, reason):
    with pytest.raises(LineError, match=reason):
        parse_line(line)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"frame": "never closed', "Unterminated string starting at column 11"),
        ('{"frame": "a\x01b"}', "Invalid control character at column 13"),
    ],
)
def test_messages_read_as_sentences(line, reason):
    with pytest.raises(LineError) as failure:
        parse_line(line)
    assert reason in str(failure.value) and "at at" not in str(failure.value)
