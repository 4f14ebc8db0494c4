"""export-wav on sessions written by hand with exact times (imported JSONL).

Timeline placement and truncation need known arrival times, and bad input needs frames
no real client sends; `rtrec import` stores both exactly as given.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import soundfile as sf

from rtrec.cli.export_wav import ProgressBar
from rtrec.replay.wav.export import ExportOptions, NoAudioError, export_wav
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.reader import resolve_session
from tests.conftest import real_session_files, run_cli
from tests.wavtools import PCM, JsonlSession, b64, ga_session, make_signal

ULAW = {"type": "audio/pcmu"}


def pcm(samples: np.ndarray) -> bytes:
    return samples.astype("<i2").tobytes()


def import_session(session: JsonlSession, tmp_path: Path, db_path: str) -> None:
    path = session.write(tmp_path / "session.jsonl")
    result = run_cli("import", str(path), db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()


def export(db_path: str, out: Path, *flags: str, ok: bool = True):
    result = run_cli("export-wav", "last", "--out", str(out), *flags, db_path=db_path)
    if ok:
        assert result.returncode == 0, result.stderr.decode()
    return result


def one_line_error(result) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    return stderr


def test_timeline_places_chunks_on_arrival_queues_them_and_cuts_at_audio_end_ms(tmp_path, db_path):
    u1, u2 = make_signal(0.1, seed=1), make_signal(0.1, seed=2)
    a1, a2, a3 = (make_signal(0.2, seed=s) for s in (3, 4, 5))
    b = make_signal(0.1, seed=6)
    s = JsonlSession()
    s.add(0.0, "server", ga_session("session.created", PCM, PCM))
    s.append(0.5, pcm(u1))  # → frame 12000
    s.append(0.6, pcm(u2))  # → frame 14400
    s.add(1.0, "server", {"type": "response.created", "response": {"id": "resp_1"}})
    s.delta(1.0, pcm(a1), "item_a")  # → frame 24000
    s.delta(1.01, pcm(a2), "item_a")  # arrives while a1 plays: queued at 28800
    s.delta(1.02, pcm(a3), "item_a")  # past the cut: never heard
    truncate = {"type": "conversation.item.truncate", "event_id": "evt_t", "item_id": "item_a"}
    s.add(1.3, "client", truncate | {"content_index": 0, "audio_end_ms": 300})
    truncated = {"type": "conversation.item.truncated", "item_id": "item_a", "content_index": 0}
    s.add(1.31, "server", truncated | {"audio_end_ms": 300})
    s.add(1.32, "server", {"type": "response.done", "response": {"id": "resp_1"}})
    s.add(2.0, "server", {"type": "response.created", "response": {"id": "resp_2"}})
    s.delta(2.0, pcm(b), "item_b", "resp_2")  # → frame 48000, after the cut audio
    import_session(s, tmp_path, db_path)

    out = tmp_path / "out"
    export(db_path, out, "--timeline")
    timeline, rate = sf.read(out / "timeline.wav", dtype="int16")
    assert rate == 24000 and timeline.shape == (50400, 2)
    left, right = timeline[:, 0], timeline[:, 1]
    assert not left[:12000].any() and not left[16800:].any()
    assert np.array_equal(left[12000:14400], u1) and np.array_equal(left[14400:16800], u2)
    assert not right[:24000].any()
    assert np.array_equal(right[24000:28800], a1)
    # audio_end_ms 300 = 7200 samples of item_a: all of a1, the first 2400 of a2.
    assert np.array_equal(right[28800:31200], a2[:2400])
    assert not right[31200:48000].any()
    assert np.array_equal(right[48000:50400], b)
    # The assistant track keeps everything the server sent.
    assistant, _ = sf.read(out / "assistant.wav", dtype="int16")
    assert np.array_equal(assistant, np.concatenate([a1, a2, a3, b]))


def test_timeline_upsamples_g711_to_the_session_pcm_rate(tmp_path, db_path):
    s = JsonlSession()
    s.add(0.0, "server", ga_session("session.created", PCM, ULAW))
    s.append(0.1, pcm(make_signal(0.1)))
    s.delta(1.0, bytes([0x80]) * 800, "item_a")  # 100 ms of μ-law 32124
    import_session(s, tmp_path, db_path)
    out = tmp_path / "out"
    export(db_path, out, "--timeline")
    timeline, rate = sf.read(out / "timeline.wav", dtype="int16")
    assert rate == 24000
    right = timeline[:, 1]
    assert not right[:24000].any()
    assert (right[24000 : 24000 + 2398] == 32124).all()
    assistant, rate = sf.read(out / "assistant.wav", dtype="int16")
    assert rate == 8000 and len(assistant) == 800


def test_a_format_change_starts_a_new_file(tmp_path, db_path):
    first, second = make_signal(0.2), bytes(range(256)) * 4
    s = JsonlSession()
    s.add(0.0, "server", ga_session("session.created", PCM, PCM))
    s.append(0.1, pcm(first))
    s.add(0.2, "client", ga_session("session.update", ULAW, PCM))
    s.append(0.3, second)  # the server applies the update before this append
    s.add(0.31, "server", ga_session("session.updated", ULAW, PCM))
    pcma = {"output": {"format": {"type": "audio/pcma"}}}
    created = {"type": "response.created", "response": {"id": "resp_2", "audio": pcma}}
    s.add(1.0, "server", created)
    s.delta(1.1, bytes([0xD5]) * 400, "item_2", "resp_2")
    import_session(s, tmp_path, db_path)
    out = tmp_path / "out"
    export(db_path, out, "--split", "response")
    user, rate = sf.read(out / "user.wav", dtype="int16")
    assert rate == 24000 and np.array_equal(user, first)
    user2, rate = sf.read(out / "user-2.wav", dtype="int16")
    assert rate == 8000 and len(user2) == 1024 and user2[0xFF] == 0
    assistant, rate = sf.read(out / "assistant.wav", dtype="int16")
    assert rate == 8000 and (assistant == 8).all()  # A-law 0xD5
    per_response, rate = sf.read(out / "response-001-resp_2.wav", dtype="int16")
    assert rate == 8000 and len(per_response) == 400


def test_beta_audio_deltas_and_format_strings(tmp_path, db_path):
    s = JsonlSession()
    session = {"input_audio_format": "g711_alaw", "output_audio_format": "g711_alaw"}
    s.add(0.0, "server", {"type": "session.created", "session": session})
    delta = {"type": "response.audio.delta", "response_id": "r", "item_id": "i"}
    s.add(0.5, "server", delta | {"delta": b64(bytes([0x55, 0x2A]) * 100)})
    import_session(s, tmp_path, db_path)
    out = tmp_path / "out"
    export(db_path, out)
    assistant, rate = sf.read(out / "assistant.wav", dtype="int16")
    assert rate == 8000 and assistant[:4].tolist() == [-8, -32256, -8, -32256]
    assert not (out / "user.wav").exists()


def test_invalid_base64_is_skipped_with_a_warning_naming_the_event(tmp_path, db_path):
    good = make_signal(0.1)
    s = JsonlSession()
    s.append(0.1, pcm(good[:1200]))
    s.add(0.2, "client", {"type": "input_audio_buffer.append", "audio": "not*base64!"})
    s.add(0.3, "server", {"type": "response.output_audio.delta", "item_id": "i", "delta": "@@@="})
    s.append(0.4, pcm(good[1200:]))
    import_session(s, tmp_path, db_path)
    out = tmp_path / "out"
    result = export(db_path, out)
    stderr = result.stderr.decode()
    assert "seq 1 (input_audio_buffer.append)" in stderr and "base64" in stderr
    assert "seq 2 (response.output_audio.delta)" in stderr
    assert "Traceback" not in stderr
    user, _ = sf.read(out / "user.wav", dtype="int16")
    assert np.array_equal(user, good)
    assert not (out / "assistant.wav").exists()


def test_odd_byte_deltas_are_reassembled_and_a_last_dangling_byte_is_reported(tmp_path, db_path):
    samples = make_signal(0.05, seed=9)
    data = pcm(samples) + b"\x7f"  # one stray byte at the very end
    s = JsonlSession()
    for t, (a, b) in enumerate([(0, 1), (1, 1000), (1000, 1001), (1001, len(data))]):
        s.delta(0.1 * t, data[a:b], "item_a")
    import_session(s, tmp_path, db_path)
    out = tmp_path / "out"
    result = export(db_path, out)
    assistant, _ = sf.read(out / "assistant.wav", dtype="int16")
    assert np.array_equal(assistant, samples)
    assert "dangling byte" in result.stderr.decode()


def test_split_by_item_names_user_items_by_their_committed_ids(tmp_path, db_path):
    one, two, stray = make_signal(0.1, seed=1), make_signal(0.1, seed=2), make_signal(0.05)
    s = JsonlSession()
    s.append(0.1, pcm(one))
    s.add(0.2, "server", {"type": "input_audio_buffer.committed", "item_id": "item_U1"})
    s.delta(0.3, pcm(two), "item_A1")
    s.add(0.4, "server", {"type": "response.done", "response": {"id": "resp_1"}})
    s.append(0.5, pcm(stray))
    s.add(0.6, "client", {"type": "input_audio_buffer.clear"})
    s.append(0.7, pcm(two))
    s.add(0.8, "server", {"type": "input_audio_buffer.committed", "item_id": "item_U2"})
    import_session(s, tmp_path, db_path)
    out = tmp_path / "out"
    export(db_path, out, "--split", "item")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "assistant.wav",
        "item-001-user-item_U1.wav",
        "item-002-assistant-item_A1.wav",
        "item-003-user-item_U2.wav",
        "user.wav",
    ]
    first_item, _ = sf.read(out / "item-001-user-item_U1.wav", dtype="int16")
    assert np.array_equal(first_item, one)
    third_item, _ = sf.read(out / "item-003-user-item_U2.wav", dtype="int16")
    assert np.array_equal(third_item, two)  # the cleared audio is in no item
    user, _ = sf.read(out / "user.wav", dtype="int16")
    assert np.array_equal(user, np.concatenate([one, stray, two]))


def test_a_session_without_audio_says_so(tmp_path, db_path):
    s = JsonlSession()
    s.add(0.0, "server", ga_session("session.created", PCM, PCM))
    s.add(0.1, "client", {"type": "response.create"})
    import_session(s, tmp_path, db_path)
    out = tmp_path / "out"
    result = export(db_path, out, ok=False)
    assert "no audio" in one_line_error(result)
    assert not out.exists()


def test_a_session_whose_audio_is_all_invalid_says_so(tmp_path, db_path):
    s = JsonlSession()
    s.add(0.1, "client", {"type": "input_audio_buffer.append", "audio": "%%%"})
    import_session(s, tmp_path, db_path)
    result = export(db_path, tmp_path / "out", ok=False)
    stderr = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in stderr
    assert "none could be decoded" in stderr.splitlines()[-1]


def test_user_mistakes_get_one_line_and_exit_1(tmp_path, db_path):
    s = JsonlSession()
    s.append(0.1, pcm(make_signal(0.1)))
    import_session(s, tmp_path, db_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    unknown = run_cli("export-wav", "999", "--out", str(tmp_path / "x"), db_path=db_path)
    assert "no session" in one_line_error(unknown)
    assert "not a directory" in one_line_error(export(db_path, a_file, ok=False))
    under_file = export(db_path, a_file / "sub", ok=False)
    assert str(a_file / "sub") in one_line_error(under_file)
    flac_mulaw = export(db_path, tmp_path / "y", "--keep-encoding", "--format", "flac", ok=False)
    assert "--keep-encoding" in one_line_error(flac_mulaw)
    no_db = run_cli(
        "export-wav", "last", "--out", str(tmp_path / "z"), db_path=str(tmp_path / "none.db")
    )
    assert "no database" in one_line_error(no_db)


def test_output_is_quiet_off_a_terminal_and_lists_the_files(tmp_path, db_path):
    s = JsonlSession()
    s.append(0.1, pcm(make_signal(0.1)))
    import_session(s, tmp_path, db_path)
    out = tmp_path / "out"
    result = export(db_path, out)
    assert b"\r" not in result.stderr  # no progress bar when stderr is not a TTY
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(out / "user.wav"))
    assert "0.10 s" in lines[0] and "24 kHz" in lines[0]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only_for_long_exports():
    terminal = FakeTerminal()
    bar = ProgressBar(terminal)
    bar(10, 100)
    assert terminal.getvalue() == ""  # a quick export draws nothing
    bar.started -= 10  # as if the export had been running for ten seconds
    bar(50, 100)
    assert "50%" in terminal.getvalue() and terminal.getvalue().startswith("\r")
    bar.clear()
    assert terminal.getvalue().endswith("\r")
    plain = io.StringIO()
    quiet = ProgressBar(plain)
    quiet.started -= 10
    quiet(50, 100)
    assert plain.getvalue() == ""


def test_json_frames_with_unusual_spacing_still_export(tmp_path, db_path):
    samples = make_signal(0.02)
    s = JsonlSession()
    # Kept whole by the writer (it cannot prove a compact copy exact): parsed on export.
    append = {"type": "input_audio_buffer.append", "audio": b64(pcm(samples))}
    s.add(0.1, "client", json.dumps(append, indent=1))
    import_session(s, tmp_path, db_path)
    out = tmp_path / "out"
    export(db_path, out)
    user, _ = sf.read(out / "user.wav", dtype="int16")
    assert np.array_equal(user, samples)


def test_every_real_session_exports_its_audio_or_says_it_has_none(tmp_path):
    conn = open_db(tmp_path / "real.db")
    exported = 0
    for number, path in enumerate(real_session_files()):
        with path.open("rb") as lines:
            session = import_jsonl(conn, lines, source_name=path.name)
        ref = resolve_session(conn, str(session.db_id))
        (user_bytes, assistant_bytes, assistant_items) = conn.execute(
            "SELECT total(CASE WHEN direction = 'client' THEN length(audio) END), "
            "total(CASE WHEN direction = 'server' THEN length(audio) END), "
            "count(DISTINCT CASE WHEN direction = 'server' THEN item_id END) "
            "FROM event WHERE session_id = ? AND audio IS NOT NULL",
            (ref.id,),
        ).fetchone()
        options = ExportOptions(
            tmp_path / f"out-{number}", frozenset({"response", "item"}), timeline=True
        )
        try:
            result = export_wav(conn, ref, options)
        except NoAudioError:
            assert user_bytes == assistant_bytes == 0, path.name
            continue
        exported += 1
        frames = {w.path.name: w.frames for w in result.files}
        # These recordings cut every delta to 32 bytes or fewer, odd lengths included: a
        # sample split across chunks is joined; only a stream's last odd byte is lost.
        assert frames.get("user.wav", 0) == user_bytes // 2, path.name
        lost = assistant_bytes - 2 * frames.get("assistant.wav", 0)
        assert 0 <= lost <= assistant_items, path.name
        for written in result.files:
            assert sf.info(str(written.path)).frames == written.frames
    conn.close()
    assert exported >= 5
