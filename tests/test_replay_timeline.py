"""The pure parts of replay, tested without an event loop: timeline, selection, cues, view."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtrec.audio_format import AudioFormat
from rtrec.replay.clock import now_ns
from rtrec.replay.cues import STRICT_EXTRA, STRICT_MISMATCH, ClientCues, close_reason
from rtrec.replay.feed import Feed
from rtrec.replay.selection import Bound, Selection, SelectionError, TypeFilter
from rtrec.replay.strict import Received, ScriptedEvent, StrictMatcher
from rtrec.replay.terminal import TerminalView, format_time
from rtrec.replay.timeline import Anchor, Timeline, schedule
from rtrec.store.reader import RecordedFrame

S = 1_000_000_000


def test_offsets_are_recorded_time_since_the_first_event_divided_by_speed() -> None:
    times = [5 * S, 5 * S + S // 2, 7 * S, 11 * S]
    assert list(schedule(times)) == [0, S // 2, 2 * S, 6 * S]
    assert list(schedule(times, speed=2)) == [0, S // 4, S, 3 * S]
    assert list(schedule(times, speed=0.5)) == [0, S, 4 * S, 12 * S]


def test_idle_limit_caps_each_gap_before_the_speed_is_applied() -> None:
    times = [0, S // 2, 10 * S, 10 * S + S // 10, 70 * S]
    # Gaps 0.5, 9.5, 0.1, 59.9 s; capped at 2 s: 0.5, 2, 0.1, 2.
    capped = [0, S // 2, 5 * S // 2, 26 * S // 10, 46 * S // 10]
    assert list(schedule(times, idle_limit_s=2)) == capped
    assert list(schedule(times, speed=2, idle_limit_s=2)) == [offset // 2 for offset in capped]


def test_a_time_going_backwards_counts_as_no_gap() -> None:
    assert list(schedule([0, 3 * S, 2 * S, 4 * S])) == [0, 3 * S, 3 * S, 5 * S]


@pytest.mark.parametrize("speed", [0, -1, float("nan"), float("inf")])
def test_speed_must_be_a_positive_number(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        Timeline(speed)


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=10**11), max_size=200),
    speed=st.floats(min_value=0.01, max_value=100),
)
def test_without_idle_limit_every_offset_is_exact_and_never_drifts(
    gaps: list[int], speed: float
) -> None:
    times = [10**9]
    for gap in gaps:
        times.append(times[-1] + gap)
    offsets = list(schedule(times, speed=speed))
    # Each offset is computed from the total, not summed from rounded gaps.
    assert offsets == [round((t - times[0]) / speed) for t in times]
    assert offsets == sorted(offsets)


def test_anchor_moves_to_the_later_of_the_client_and_the_replay() -> None:
    anchor = Anchor(wall_ns=1000)
    assert anchor.due_ns(250) == 1250
    # The client sent its counterpart late: what follows is due relative to it.
    late = anchor.moved_to(300, arrived_ns=5000, reached_ns=1250)
    assert late.due_ns(300) == 5000 and late.due_ns(340) == 5040
    # The client was early: what follows waits for the events before it, no burst.
    early = anchor.moved_to(300, arrived_ns=900, reached_ns=1250)
    assert early.due_ns(340) == 1290


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        ("12.5", Bound(t_ns=12_500_000_000)),
        ("12.5s", Bound(t_ns=12_500_000_000)),
        ("1:02.5", Bound(t_ns=62_500_000_000)),
        ("1:00:00", Bound(t_ns=3600 * S)),
        ("0", Bound(t_ns=0)),
        ("#120", Bound(seq=120)),
        ("#0", Bound(seq=0)),
    ],
)
def test_bounds_are_seconds_or_hash_seq(text: str, bound: Bound) -> None:
    assert Bound.parse(text) == bound


@pytest.mark.parametrize("text", ["", "abc", "#", "#-1", "#1.5", "-3", "1:75", "nan", "1::2"])
def test_bad_bounds_say_what_is_expected(text: str) -> None:
    with pytest.raises(SelectionError, match="expected"):
        Bound.parse(text)


def test_type_patterns_glob_prefix_and_exclusion() -> None:
    only_responses = TypeFilter.parse(["response"])
    assert only_responses.accepts("response.done")
    assert only_responses.accepts("response")
    assert not only_responses.accepts("responses.x")
    assert not only_responses.accepts("session.created")
    globbed = TypeFilter.parse(["*.delta,session.*"])
    assert globbed.accepts("response.output_audio.delta")
    assert globbed.accepts("session.updated")
    assert not globbed.accepts("response.done")
    no_audio = TypeFilter.parse(["!input_audio_buffer.append", "!*audio.delta"])
    assert no_audio.accepts("response.done")
    assert not no_audio.accepts("input_audio_buffer.append")
    assert not no_audio.accepts("response.output_audio.delta")
    assert no_audio.accepts(None)  # untyped frames stay unless included patterns exclude them
    assert not globbed.accepts(None)
    with pytest.raises(SelectionError):
        TypeFilter.parse(["response,,"])


def test_selection_by_direction() -> None:
    selection = Selection(only="client")
    assert selection.accepts("client", "response.create")
    assert not selection.accepts("server", "response.done")
    with pytest.raises(SelectionError):
        Selection(only="both")


def test_cues_match_the_kth_event_of_each_type_in_order() -> None:
    cues = ClientCues()
    assert cues.take("response.create") is None
    cues.arrived("input_audio_buffer.append", 10)
    cues.arrived("response.create", 20)
    cues.arrived("input_audio_buffer.append", 30)
    assert cues.take("input_audio_buffer.append") == 10
    assert cues.take("response.create") == 20
    assert cues.take("response.create") is None
    assert cues.take("input_audio_buffer.append") == 30


def test_strict_names_expected_and_received_events_within_a_close_reason() -> None:
    recorded = [
        ScriptedEvent(1, "session.update", '{"type":"session.update"}', 1),
        ScriptedEvent(3, "response.create", '{"type":"response.create"}', 2),
    ]
    matcher = StrictMatcher(iter(recorded), iter(recorded))
    assert matcher.check(Received("session.update", '{"type":"session.update"}')) is None
    code, reason = matcher.check(Received("session.update", '{"type":"session.update"}'))  # type: ignore[misc]
    assert code == STRICT_MISMATCH
    assert "expected response.create" in reason and "received session.update" in reason
    assert "#2" in reason
    done = StrictMatcher(iter(recorded[:1]), iter(recorded[:1]))
    assert done.check(Received("session.update", '{"type":"session.update"}')) is None
    code, reason = done.check(Received("response.create", "{}"))  # type: ignore[misc]
    assert code == STRICT_EXTRA and "received response.create" in reason
    long = close_reason("é" * 200)
    assert len(long.encode()) <= 123 and long.endswith("...")


def _frame(seq: int, t_ms: int, event_type: str, **fields: object) -> RecordedFrame:
    event = {"type": event_type, **fields}
    return RecordedFrame(seq, t_ms * 1_000_000, 0, "server", event_type, 0, json.dumps(event))


def test_terminal_view_grows_text_per_item_and_sums_audio_in_the_format_in_force() -> None:
    view = TerminalView()
    ga = {"audio": {"output": {"format": {"type": "audio/pcmu"}}}}
    audio_100ms = base64.b64encode(bytes(800)).decode()  # 800 bytes of μ-law at 8 kHz
    audio = "response.output_audio.delta"
    transcript = "response.output_audio_transcript.delta"
    view.feed(_frame(0, 0, "session.updated", session=ga))
    out = [
        view.feed(_frame(1, 10, "response.created", response={"id": "resp_1"})),
        view.feed(_frame(2, 20, audio, item_id="it", delta=audio_100ms)),
        view.feed(_frame(3, 30, transcript, item_id="it", content_index=0, delta="Hello")),
        view.feed(_frame(4, 40, audio, item_id="it", delta=audio_100ms)),
        view.feed(_frame(5, 50, transcript, item_id="it", content_index=0, delta=" there\n")),
        view.feed(
            _frame(6, 1250, "response.done", response={"id": "resp_1", "status": "completed"})
        ),
    ]
    assert out[1] == out[3] == ""  # audio is summed, not printed per delta
    assert out[4] == " there "  # the open line grows
    text = "".join(out) + view.finish()
    lines = text.splitlines()
    assert lines[0].split() == ["0:00.010", "server", "response.created", "resp_1"]
    assert AudioFormat("g711_ulaw", 8000).duration_ms(800) == 100
    assert lines[1].endswith("assistant transcript it: Hello there ")
    assert "assistant audio  0.20 s in 2 deltas  it" in lines[2]
    assert lines[3].startswith(" 0:01.250  server  response.done  resp_1, completed")
    assert "\x1b[" not in text
    assert len(lines) == 4


def test_terminal_view_marks_continued_streams_and_colours_only_when_asked() -> None:
    view = TerminalView(colour=True)
    text_delta = "response.output_text.delta"
    feed = [
        _frame(1, 0, text_delta, item_id="a", content_index=0, delta="One"),
        _frame(2, 1, "error", error={"code": "x", "message": "boom"}),
        _frame(3, 2, text_delta, item_id="a", content_index=0, delta=" two"),
    ]
    text = "".join(view.feed(f) for f in feed) + view.finish()
    assert "\x1b[31mx: boom\x1b[0m" in text
    assert "assistant text a: …" in text


def test_terminal_view_shows_binary_and_malformed_frames() -> None:
    view = TerminalView()
    binary = RecordedFrame(0, 0, 0, "client", None, 1, b"\x00\x01")
    broken = RecordedFrame(1, 5_000_000, 0, "server", None, 4, "{nope")
    text = view.feed(binary) + view.feed(broken)
    assert "client  binary frame  2 bytes" in text
    assert "server  (not JSON)  {nope" in text


def test_time_format() -> None:
    assert format_time(0) == "0:00.000"
    assert format_time(62_345_000_000) == "1:02.345"
    assert format_time(3_723_004_000_000) == "1:02:03.004"


def test_feed_reads_ahead_only_in_slack_and_holds_a_bounded_window() -> None:
    windows = [[w * 10 + i for i in range(10)] for w in range(50)]
    reads: list[int] = []

    def read() -> list[int] | None:
        if len(reads) == len(windows):
            return None
        reads.append(len(reads))
        return windows[len(reads) - 1]

    feed = Feed(read, low_water=25, read_budget_ns=1_000_000)
    assert feed.next() == 0 and len(reads) == 1  # reads only what it needs
    feed.top_up(now_ns())  # the next event is due now: no time to read
    assert len(reads) == 1
    feed.top_up(now_ns() + 10**9)  # a second to spare: reads up to the low-water mark
    assert len(reads) == 3  # 9 left + 20 read >= 25; never the whole session
    played = [0]
    while (item := feed.next()) is not None:
        played.append(item)
    assert played == list(range(500))
