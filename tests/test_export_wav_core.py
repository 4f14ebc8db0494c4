"""The pure core of WAV export: formats, PCM assembly, placement, mixing, routing.

No event loop, no database, no files: these modules take events and give back samples
and operations.  Formats come from the Realtime adapter's media fold.
"""

from __future__ import annotations

import io
import itertools
import json

import numpy as np
import pytest

from rtrec.audio_format import AudioFormat
from rtrec.protocols.base import AssistantFlushed, AudioChunk, MediaFold, MediaRow, chunk_audio
from rtrec.protocols.realtime.media import RealtimeMedia
from rtrec.replay.wav.fifo import SampleFifo
from rtrec.replay.wav.fold import (
    AudioFold,
    CloseFile,
    DiscardFile,
    FoldOptions,
    Notice,
    RenameFile,
    TimelineFrames,
    WriteAudio,
    safe_name,
)
from rtrec.replay.wav.pcm import LinearResampler, SampleAligner, to_int16
from rtrec.replay.wav.timeline import (
    ASSISTANT,
    USER,
    HeardAudio,
    PlaybackQueue,
    StereoMixer,
    TruncationCuts,
    frame_at,
)

PCM24 = AudioFormat("pcm16", 24000)
ULAW = AudioFormat("g711_ulaw", 8000)
ALAW = AudioFormat("g711_alaw", 8000)
GA_ULAW = {"type": "audio/pcmu"}


def ga_session(event_type: str, inp: dict | None = None, out: dict | None = None) -> dict:
    audio = {}
    if inp is not None:
        audio["input"] = {"format": inp}
    if out is not None:
        audio["output"] = {"format": out}
    return {"type": event_type, "session": {"type": "realtime", "audio": audio}}


# -- formats ----------------------------------------------------------------------


class FormatTracker(RealtimeMedia):
    """The media fold, fed event dicts the way the log's rows would feed it."""

    def observe(self, direction: str, event_type: str, event: dict) -> list:
        return self.feed(MediaRow(0, 0, direction, event_type, frame=json.dumps(event)))


def test_tracker_starts_at_pcm16_24k_and_follows_ga_session_objects():
    tracker = FormatTracker()
    assert tracker.input == PCM24 and tracker.output_format(None) == PCM24
    tracker.observe("server", "session.updated", ga_session("session.updated", GA_ULAW, None))
    assert tracker.input == ULAW
    assert tracker.output_format("resp_1") == PCM24
    tracker.observe(
        "server", "session.updated", ga_session("session.updated", None, {"type": "audio/pcma"})
    )
    assert tracker.input == ULAW and tracker.output_format(None) == ALAW


def test_tracker_reads_beta_format_strings():
    tracker = FormatTracker()
    session = {"input_audio_format": "g711_alaw", "output_audio_format": "g711_ulaw"}
    tracker.observe("server", "session.created", {"type": "session.created", "session": session})
    assert tracker.input == ALAW and tracker.output_format("x") == ULAW


def test_client_update_applies_to_following_appends_and_an_error_reverts_it():
    tracker = FormatTracker()
    update = ga_session("session.update", GA_ULAW) | {"event_id": "evt_1"}
    tracker.observe("client", "session.update", update)
    assert tracker.input == ULAW  # the server applies it before the appends that follow
    tracker.observe("server", "error", {"type": "error", "error": {"event_id": "evt_1"}})
    assert tracker.input == PCM24


def test_response_format_from_response_created_then_forgotten_at_done():
    tracker = FormatTracker()
    created = {
        "type": "response.created",
        "response": {"id": "resp_1", "audio": {"output": {"format": GA_ULAW}}},
    }
    tracker.observe("server", "response.created", created)
    assert tracker.output_format("resp_1") == ULAW
    assert tracker.output_format("resp_2") == PCM24
    tracker.observe(
        "server", "response.done", {"type": "response.done", "response": {"id": "resp_1"}}
    )
    assert tracker.output_format("resp_1") == PCM24


def test_response_create_override_applies_when_response_created_names_no_format():
    tracker = FormatTracker()
    tracker.observe(
        "client",
        "response.create",
        {"type": "response.create", "response": {"output_audio_format": "g711_alaw"}},
    )
    tracker.observe("server", "response.created", {"response": {"id": "resp_b"}})
    assert tracker.output_format("resp_b") == ALAW
    # The override was used up: the next response is in the session's format.
    tracker.observe("server", "response.created", {"response": {"id": "resp_c"}})
    assert tracker.output_format("resp_c") == PCM24


def row(
    seq: int,
    t_ms: float,
    direction: str,
    type_: str,
    *,
    event: dict | None = None,
    audio: bytes | None = None,
    frame: str | None = None,
    item_id: str | None = None,
    response_id: str | None = None,
) -> MediaRow:
    if event is not None:
        frame = json.dumps(event)
    return MediaRow(
        seq, int(t_ms * 1_000_000), direction, type_, item_id, response_id, audio, frame=frame
    )


def chunk_rates(rows: list[MediaRow]) -> set[int]:
    """The rates of the audio chunks the media fold sees: what a timeline must hold."""
    media = RealtimeMedia()
    return {
        fact.fmt.rate
        for r in rows
        for fact in media.feed(r, decode=False)
        if isinstance(fact, AudioChunk)
    }


def test_audio_formats_follow_the_update_the_server_applies_before_later_appends():
    opening = [
        row(
            0,
            0,
            "server",
            "session.created",
            event=ga_session("session.created", {"type": "audio/pcm", "rate": 24000}),
        ),
        row(1, 1, "client", "session.update", event=ga_session("session.update", GA_ULAW, GA_ULAW)),
        row(
            2, 2, "server", "session.updated", event=ga_session("session.updated", GA_ULAW, GA_ULAW)
        ),
    ]
    append = row(3, 3, "client", "input_audio_buffer.append", audio=b"\x00" * 8)
    assert chunk_rates([*opening, append]) == {8000}
    # Audio before the update ran at 24 kHz, so a timeline needs 24 kHz.
    early = row(0, 0, "client", "input_audio_buffer.append", audio=b"\x00" * 8)
    assert chunk_rates([early, *opening, append]) == {24000, 8000}


# -- PCM assembly --------------------------------------------------------------------


def test_aligner_carries_a_dangling_byte_into_the_next_chunk():
    samples = np.arange(-500, 500, 7, dtype="<i2")
    data = samples.tobytes()
    aligner = SampleAligner()
    cuts = [0, 3, 4, 9, 10, 101, len(data)]
    out = b"".join(aligner.feed(data[a:b], 2) for a, b in itertools.pairwise(cuts))
    assert out == data
    assert aligner.reset() == 0
    assert aligner.feed(b"\x01\x02\x03", 2) == b"\x01\x02"
    assert aligner.reset() == 1


def test_g711_bytes_decode_to_the_reference_values():
    ulaw = to_int16(bytes([0xFF, 0x00, 0x80, 0x7F]), ULAW)
    assert ulaw.tolist() == [0, -32124, 32124, 0]
    alaw = to_int16(bytes([0xD5, 0x55, 0x2A, 0xAA]), ALAW)
    assert alaw.tolist() == [8, -8, -32256, 32256]


def test_resampler_interpolates_linearly_and_chunking_changes_nothing():
    ramp = (np.arange(0, 800, dtype=np.int16) * 30).astype(np.int16)
    whole = LinearResampler(8000, 24000).feed(ramp)
    # Output j sits at input position j/3: a ramp of step 30 becomes a ramp of step 10.
    assert whole[:7].tolist() == [0, 10, 20, 30, 40, 50, 60]
    assert len(whole) == (len(ramp) - 1) * 3 + 1
    chunked_resampler = LinearResampler(8000, 24000)
    pieces = [
        chunked_resampler.feed(ramp[a : a + n]) for a, n in ((0, 1), (1, 2), (3, 150), (153, 647))
    ]
    assert np.array_equal(np.concatenate(pieces), whole)


def test_resampler_at_equal_rates_passes_samples_through():
    samples = np.array([1, 2, 3], dtype=np.int16)
    assert LinearResampler(24000, 24000).feed(samples) is samples


def test_chunk_audio_reports_invalid_base64():
    def audio_of(field: str, frame: str) -> tuple:
        return chunk_audio(MediaRow(0, 0, "server", None, frame=frame), (field,), True)

    assert audio_of("delta", '{"delta":"AAEC"}') == (b"\x00\x01\x02", 3, None)
    audio, _, problem = audio_of("audio", '{"audio":"%%%"}')
    assert audio is None and "not valid base64" in problem
    assert audio_of("audio", "not json")[2] is not None
    # Gemini sends URL-safe base64.
    assert audio_of("data", '{"data":"_-8="}')[0] == b"\xff\xef"


# -- placement and mixing -------------------------------------------------------------


def test_frame_at_converts_nanoseconds_to_frames():
    assert frame_at(1_000_000_000, 24000) == 24000
    assert frame_at(1_500_000, 8000) == 12
    assert frame_at(-5, 8000) == 0


def test_playback_queue_never_overlaps_chunks():
    queue = PlaybackQueue()
    assert queue.place(100, 50) == 100
    assert queue.place(110, 50) == 150  # arrived while the first still played
    assert queue.place(400, 10) == 400  # arrived after a gap: plays at once


def test_heard_audio_counts_the_item_own_samples():
    heard = HeardAudio({"item_a": 250})  # 250 ms at 8 kHz = 2000 samples
    assert heard.keep("item_a", 8000, 1500) == 1500
    assert heard.keep("item_a", 8000, 1500) == 500
    assert heard.keep("item_a", 8000, 1500) == 0
    assert heard.keep("item_b", 8000, 1500) == 1500


def test_mixer_releases_final_frames_in_whole_blocks_and_holds_queued_audio():
    mixer = StereoMixer(block_frames=25)
    mixer.place(ASSISTANT, 10, np.full(100, 7, dtype=np.int16))
    released = list(mixer.release(60))
    assert [len(b) for b in released] == [25, 25]  # frames 50..59 wait for a whole block
    first = np.concatenate(released)
    assert first[:10].tolist() == [[0, 0]] * 10 and (first[10:, 1] == 7).all()
    mixer.place(USER, 60, np.full(5, -3, dtype=np.int16))
    rest = np.concatenate(list(mixer.finish()))
    assert len(rest) == 60  # up to the end of the assistant's audio at 110
    assert rest[10:15, 0].tolist() == [-3] * 5 and (rest[:60, 1] == 7).all()
    assert mixer.written == 110
    with pytest.raises(ValueError):
        mixer.place(USER, 0, np.ones(3, dtype=np.int16))


def test_truncation_cuts_prefer_the_server_and_drop_rejected_requests():
    media = RealtimeMedia()
    cuts = TruncationCuts()
    rows = [
        row(
            1,
            1,
            "client",
            "conversation.item.truncate",
            event={"event_id": "e1", "item_id": "a", "audio_end_ms": 900},
        ),
        row(
            2,
            2,
            "server",
            "conversation.item.truncated",
            event={"item_id": "a", "audio_end_ms": 800},
        ),
        row(
            3,
            3,
            "client",
            "conversation.item.truncate",
            event={"event_id": "e2", "item_id": "b", "audio_end_ms": 100},
        ),
        row(4, 4, "server", "error", event={"error": {"event_id": "e2"}}),
        row(
            5,
            5,
            "client",
            "conversation.item.truncate",
            event={"event_id": "e3", "item_id": "c", "audio_end_ms": 300},
        ),
    ]
    for r in rows:
        for fact in media.feed(r):
            cuts.feed(fact)
    assert cuts.cuts() == {"a": 800, "c": 300}


# -- routing ----------------------------------------------------------------------------


def audio_row(
    seq: int,
    t_ms: float,
    data: bytes,
    *,
    user: bool,
    item: str | None = None,
    response: str | None = None,
) -> MediaRow:
    if user:
        return row(seq, t_ms, "client", "input_audio_buffer.append", audio=data)
    return row(
        seq,
        t_ms,
        "server",
        "response.output_audio.delta",
        audio=data,
        item_id=item,
        response_id=response,
    )


def run(fold: AudioFold, rows: list[MediaRow]) -> list:
    ops = []
    for r in rows:
        ops.extend(fold.feed(r))
    ops.extend(fold.finish())
    return ops


def test_fold_writes_whole_samples_and_warns_about_undecodable_chunks():
    fold = AudioFold(RealtimeMedia(), FoldOptions())
    bad = row(2, 1, "server", "response.output_audio.delta", frame='{"delta":"%%%"}')
    ops = run(
        fold,
        [audio_row(1, 0, b"\x01\x02\x03", user=True), bad, audio_row(3, 2, b"\x04", user=True)],
    )
    writes = [op for op in ops if isinstance(op, WriteAudio)]
    assert [(w.stem, w.data) for w in writes] == [("user", b"\x01\x02"), ("user", b"\x03\x04")]
    notices = [op.message for op in ops if isinstance(op, Notice)]
    assert notices == [
        "seq 2 (response.output_audio.delta): its 'delta' is not valid base64; chunk skipped"
    ]
    assert fold.skipped == 1


def test_fold_splits_by_response_and_item_and_names_user_items_at_commit():
    fold = AudioFold(RealtimeMedia(), FoldOptions(split_responses=True, split_items=True))
    rows = [
        audio_row(0, 0, b"\x00\x01", user=True),
        row(1, 1, "server", "input_audio_buffer.committed", item_id="item_u1"),
        audio_row(2, 2, b"\x00\x02", user=False, item="item_a1", response="resp_1"),
        row(
            3,
            3,
            "server",
            "response.done",
            response_id="resp_1",
            event={"response": {"id": "resp_1"}},
        ),
        audio_row(4, 4, b"\x00\x03", user=True),
        row(5, 5, "client", "input_audio_buffer.clear"),
        audio_row(6, 6, b"\x00\x04", user=True),
    ]
    ops = run(fold, rows)
    stems = {op.stem for op in ops if isinstance(op, WriteAudio)}
    assert stems == {
        "user",
        ".pending-user-item",
        "assistant",
        "response-001-resp_1",
        "item-002-assistant-item_a1",
    }
    assert RenameFile(".pending-user-item", "item-001-user-item_u1") in ops
    assert (
        CloseFile("response-001-resp_1") in ops and CloseFile("item-002-assistant-item_a1") in ops
    )
    assert DiscardFile(".pending-user-item") in ops  # the cleared buffer
    assert ops[-1] == RenameFile(".pending-user-item", "item-003-user-uncommitted")


def test_fold_timeline_places_queued_audio_and_cuts_truncated_items():
    # pcm16 at the default 24 kHz for the user, but this assistant speaks μ-law at 8 kHz
    media = RealtimeMedia(session_output=ULAW)
    fold = AudioFold(media, FoldOptions(timeline_rate=8000), cuts={"item_a": 10})  # 80 samples
    first = np.full(60, 100, dtype=np.int16).tobytes()
    ulaw = bytes([0x80]) * 60  # 32124 each
    rows = [
        audio_row(0, 1.0, first[:80], user=True),  # 40 samples at 24 kHz → ~14 at 8 kHz
        audio_row(1, 2.0, ulaw, user=False, item="item_a"),
        audio_row(2, 2.5, ulaw, user=False, item="item_a"),  # queued; cut after 20 samples
        audio_row(3, 20.0, ulaw[:10], user=False, item="item_b"),
    ]
    ops = run(fold, rows)
    frames = np.concatenate([b for op in ops if isinstance(op, TimelineFrames) for b in op.blocks])
    right = frames[:, 1]
    assert (right[16:96] == 32124).all() and (right[96:160] == 0).all()
    assert (right[160:170] == 32124).all() and len(frames) == 170
    left = frames[:, 0]
    assert left[8] == 100 and left[7] == 0


def test_safe_name_keeps_ids_and_replaces_path_characters():
    assert safe_name("item_AbC-1.2") == "item_AbC-1.2"
    assert safe_name("../x y") == ".._x_y"
    assert safe_name(None) == "unknown"


def test_fifo_spills_past_its_memory_limit_and_gives_samples_back_in_order():
    fifo = SampleFifo(memory_limit=100, spill=io.BytesIO)
    pushed = [np.arange(i * 60, i * 60 + 60, dtype=np.int16) for i in range(10)]
    for samples in pushed:
        fifo.push(samples)
    assert fifo.in_memory <= 100 and fifo.in_memory + fifo.spilled == 600
    out = np.concatenate([fifo.pop(n) for n in (7, 93, 250, 250, 50)])
    assert np.array_equal(out[:600], np.concatenate(pushed)) and not out[600:].any()
    assert len(fifo) == 0
    fifo.push(np.ones(5, dtype=np.int16))
    assert fifo.in_memory == 5 and fifo.spilled == 0  # drained: back to memory


def test_mixer_output_is_the_same_whether_or_not_it_spills():
    rng = np.random.default_rng(4)
    placements = []
    ends = [0, 0]
    for _ in range(200):
        channel = int(rng.integers(2))
        start = ends[channel] + int(rng.integers(0, 30))
        samples = rng.integers(-1000, 1000, int(rng.integers(1, 80))).astype(np.int16)
        ends[channel] = start + len(samples)
        placements.append((channel, start, samples))

    # Releasing up to the earliest start still to come is what the fold does with time.
    still_to_come = [min((p[1] for p in placements[n + 1 :]), default=0) for n in range(200)]

    most_spilled = 0

    def mix(mixer: StereoMixer) -> np.ndarray:
        nonlocal most_spilled
        blocks = []
        for n, (channel, start, samples) in enumerate(placements):
            mixer.place(channel, start, samples)
            blocks += list(mixer.release(still_to_come[n]))
            most_spilled = max(most_spilled, *(fifo.spilled for fifo in mixer.channels))
        return np.concatenate(blocks + list(mixer.finish()))

    in_memory = mix(StereoMixer(block_frames=64))
    assert most_spilled == 0
    spilling = StereoMixer(block_frames=64, memory_limit=50, spill=io.BytesIO)
    assert np.array_equal(mix(spilling), in_memory)
    assert most_spilled > 50
    assert len(in_memory) == max(ends)


# -- facts other protocols bring: media times, barge-ins ---------------------------


class ScriptedMedia(MediaFold):
    """A media fold that says what a test wants about each row (by seq)."""

    def __init__(self, facts: dict[int, list]) -> None:
        self.facts = facts

    def feed(self, row: MediaRow, *, decode: bool = True) -> list:
        return self.facts.get(row.seq, [])


def test_chunks_with_a_media_time_are_placed_there_with_silence_in_the_gaps():
    pcm = np.full(80, 500, dtype="<i2").tobytes()  # 10 ms at 8 kHz
    rate8k = AudioFormat("pcm16", 8000)
    media = ScriptedMedia(
        {
            0: [AudioChunk("assistant", rate8k, len(pcm), pcm, media_ms=0.0)],
            # Frames dropped between: the copy says it belongs 30 ms in.
            1: [AudioChunk("assistant", rate8k, len(pcm), pcm, media_ms=30.0)],
        }
    )
    fold = AudioFold(media, FoldOptions(timeline_rate=8000))
    ops = run(fold, [row(0, 0, "server", "x"), row(1, 1, "server", "x")])
    track = b"".join(op.data for op in ops if isinstance(op, WriteAudio))
    samples = np.frombuffer(track, dtype="<i2")
    assert len(samples) == 80 + 160 + 80
    assert (samples[:80] == 500).all() and not samples[80:240].any()
    assert (samples[240:] == 500).all()
    frames = np.concatenate([b for op in ops if isinstance(op, TimelineFrames) for b in op.blocks])
    assert (frames[:80, 1] == 500).all() and not frames[80:240, 1].any()
    assert (frames[240:320, 1] == 500).all()


def test_a_barge_in_drops_assistant_audio_queued_past_it():
    second = np.full(8000, 700, dtype="<i2").tobytes()  # 1 s at 8 kHz, sent at once
    rate8k = AudioFormat("pcm16", 8000)
    media = ScriptedMedia(
        {
            0: [AudioChunk("assistant", rate8k, len(second), second)],
            1: [AssistantFlushed()],  # the user spoke over it 250 ms in
            2: [AudioChunk("assistant", rate8k, 160, bytes(160))],
        }
    )
    fold = AudioFold(media, FoldOptions(timeline_rate=8000))
    rows = [row(0, 0, "server", "x"), row(1, 250, "server", "x"), row(2, 400, "server", "x")]
    frames = np.concatenate(
        [b for op in run(fold, rows) if isinstance(op, TimelineFrames) for b in op.blocks]
    )
    right = frames[:, 1]
    assert (right[:2000] == 700).all()
    assert not right[2000:].any()  # cut at the barge-in; the next reply starts at 400 ms
    assert len(frames) == 3200 + 80
    # The track files keep everything the server sent.
    assert fold.chunks == 2


def test_fifo_keeps_only_the_first_samples_in_memory_and_in_its_spill():
    for limit in (1000, 50):
        fifo = SampleFifo(memory_limit=limit, spill=io.BytesIO)
        for i in range(4):
            fifo.push(np.arange(i * 60, i * 60 + 60, dtype=np.int16))
        fifo.keep(150)
        assert len(fifo) == 150
        fifo.push(np.full(10, -1, dtype=np.int16))
        out = fifo.pop(200)
        assert out[:150].tolist() == list(range(150))
        assert out[150:160].tolist() == [-1] * 10 and not out[160:].any()
