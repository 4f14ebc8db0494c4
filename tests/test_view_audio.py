"""The page's sound and waveforms are export-wav's timeline: same samples, same placement."""

from __future__ import annotations

import base64
import io
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import soundfile

from rtrec.replay.wav.mix import StereoMix, as_heard_mix
from rtrec.sim.audio import speech_like
from rtrec.view.audio import PeakMeter, bucket_frames_for, choose_codec, encode_mix
from rtrec.view.build import gather
from rtrec.view.events import shown_payload
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    db_path = str(tmp_path_factory.mktemp("view-audio") / "demo.db")
    result = run_cli("demo", db_path=db_path, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    return db_path


def _timeline_wav(db_path: str, out: Path) -> tuple[np.ndarray, int]:
    result = run_cli("export-wav", "last", "--out", str(out), "--timeline", db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    return soundfile.read(out / "timeline.wav", dtype="int16")


def test_mix_is_the_exported_timeline(demo_db, tmp_path):
    wav, rate = _timeline_wav(demo_db, tmp_path)
    conn = sqlite3.connect(demo_db)
    try:
        mix = as_heard_mix(conn, 1)
        assert mix is not None
        frames = np.concatenate(list(mix.blocks))
    finally:
        conn.close()
    assert mix.rate == rate
    assert frames.shape == wav.shape and np.array_equal(frames, wav)
    # The demo's barge-in: the assistant channel is silent from the cut to the next reply.
    assert np.abs(wav[:, 1]).max() > 1000


def test_page_peaks_and_audio_are_those_of_the_exported_wav(demo_db, tmp_path):
    wav, rate = _timeline_wav(demo_db, tmp_path / "wav")
    result = run_cli("view", "last", "-o", str(tmp_path / "page.html"), db_path=demo_db)
    assert result.returncode == 0, result.stderr.decode()
    html = (tmp_path / "page.html").read_text()

    def blob(element_id: str) -> bytes:
        found = re.search(rf'<script [^>]*id="{element_id}"[^>]*>([^<]*)</script>', html)
        assert found, element_id
        return base64.b64decode(found[1])

    meter = PeakMeter(bucket_frames_for(rate))
    for start in range(0, len(wav), 5000):  # blocks of another size than the mixer's
        meter.feed(wav[start : start + 5000])
    user, assistant = meter.finish()
    assert blob("rtrec-peaks-user") == user
    assert blob("rtrec-peaks-assistant") == assistant
    assert len(user) == -(-len(wav) // bucket_frames_for(rate))

    tracks = []
    for track in ("user", "assistant"):
        decoded, decoded_rate = soundfile.read(
            io.BytesIO(blob(f"rtrec-audio-{track}")), dtype="float32"
        )
        assert decoded_rate == rate and decoded.ndim == 1
        assert abs(len(decoded) - len(wav)) <= rate // 50
        tracks.append(decoded[: len(wav)])
    # Lossy, so compare where the sound is: per-bucket loudness of each channel.
    n = min(len(t) for t in tracks)
    assert channels_kept_apart(np.stack([t[:n] for t in tracks], 1), wav / 32768, rate // 50)


def channels_kept_apart(decoded: np.ndarray, original: np.ndarray, bucket: int) -> bool:
    """Each decoded channel follows its own original channel's loudness, not the other's
    (at too low a bitrate Opus folds stereo into mono)."""
    n = min(len(decoded), len(original)) // bucket * bucket

    def loudness(samples: np.ndarray) -> np.ndarray:
        return np.abs(samples[:n]).reshape(-1, bucket).max(axis=1)

    for mine, other in ((0, 1), (1, 0)):
        heard = loudness(decoded[:, mine])
        own = np.corrcoef(heard, loudness(original[:, mine]))[0, 1]
        crossed = np.corrcoef(heard, loudness(original[:, other]))[0, 1]
        if not (own > 0.9 and own - crossed > 0.5):
            return False
    return True


@pytest.mark.parametrize("rate", [8000, 16000, 24000])
def test_compressed_tracks_keep_user_and_assistant_apart(rate):
    user = speech_like("could you check the weather in Paris for tomorrow please " * 3, rate)
    assistant = speech_like("tomorrow in Paris it will be sunny with a light breeze " * 3, rate)
    frames = np.zeros((len(user) + len(assistant), 2), dtype=np.int16)
    frames[: len(user), 0] = user
    frames[len(user) // 2 : len(user) // 2 + len(assistant), 1] = assistant  # a barge-in
    blocks = (frames[i : i + 16384] for i in range(0, len(frames), 16384))
    encoded = encode_mix(StereoMix(rate, blocks))
    assert encoded is not None
    try:
        tracks = [soundfile.read(file, dtype="float32") for file in encoded.files]
    finally:
        encoded.close()
    assert [decoded_rate for _, decoded_rate in tracks] == [rate, rate]
    n = min(len(samples) for samples, _ in tracks)
    decoded = np.stack([samples[:n] for samples, _ in tracks], 1)
    assert channels_kept_apart(decoded, frames / 32768, rate // 50)


def test_gathered_model_describes_the_audio(demo_db):
    conn = sqlite3.connect(demo_db)
    try:
        parts = gather(conn, 1)
    finally:
        conn.close()
    try:
        assert parts.audio is not None
        audio = parts.model["audio"]
        assert audio["rate"] == 24000 and audio["mime"] == "audio/ogg; codecs=opus"
        assert audio["buckets"] == len(parts.audio.peaks[0])
        assert parts.model["extent_ms"] >= audio["frames"] * 1000 / audio["rate"]
    finally:
        parts.close()


def test_a_session_without_audio_has_no_mix(tmp_path):
    from tests.conftest import real_session_files

    text_only = next(p for p in real_session_files() if "message_history_seeding" in p.name)
    db_path = str(tmp_path / "t.db")
    assert run_cli("import", str(text_only), db_path=db_path).returncode == 0
    conn = sqlite3.connect(db_path)
    try:
        mix = as_heard_mix(conn, 1)
        assert mix is None or encode_mix(mix) is None
    finally:
        conn.close()


def test_codec_is_opus_where_it_can_be():
    assert choose_codec(24000).subtype == "OPUS"
    assert choose_codec(8000).subtype == "OPUS"
    assert choose_codec(22050).mime.startswith(("audio/ogg", "audio/flac"))


def test_long_base64_in_payloads_is_elided_to_its_byte_length():
    audio = base64.b64encode(bytes(3000)).decode()
    payload = '{"type":"session.input_audio.append","audio":"' + audio + '"}'
    assert shown_payload(payload) == '{"type":"session.input_audio.append","audio":3000}'
    assert shown_payload('{"type":"x","text":"short"}') == '{"type":"x","text":"short"}'
    assert shown_payload(None) is None
