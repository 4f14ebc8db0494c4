"""A GPT-Live sideband (`…/sessions/{id}/attach`) recorded beside its primary session.

The openai SDK's sideband client attaches to a running session through the relay;
both connections are recorded, and the views link the sideband to its primary.  The
sideband's copies of the output audio carry their place on the session clock: its
assistant track is the primary's, from where the sideband joined.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import soundfile as sf

from rtrec.recorder.service import Recorder
from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.conftest import run_cli
from tests.live_calls import attach_sideband, weather_call
from tests.test_live_sdk import assert_exact, rows


async def test_sideband_is_recorded_and_linked_to_its_primary(db_path: str, tmp_path: Path):
    async with (
        Simulator(SimOptions(), protocols=("live",)) as sim,
        Recorder(db_path, upstream=sim.url, port=0, live_status=False) as recorder,
    ):
        attached = {}

        async def attach(session_id: str) -> None:
            attached["tap"], attached["reader"] = await attach_sideband(recorder.url, session_id)

        call = await weather_call(recorder.url, after_start=attach)
        await attached["reader"]  # the sideband closes when the session ends
    sideband = attached["tap"]

    sessions = rows(db_path, "SELECT * FROM sessions ORDER BY session_id")
    primary, side = sessions
    assert primary["path"] == "/v1/live/sessions" and primary["link_kind"] is None
    assert side["path"] == f"/v1/live/sessions/{call.session_id}/attach"
    assert side["protocol"] == "live"
    assert (side["link_kind"], side["attached_to"]) == ("sideband", call.session_id)
    assert side["primary_session_id"] == primary["session_id"]
    assert primary["primary_session_id"] is None

    result = run_cli("export", str(side["session_id"]), db_path=db_path)
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert_exact(lines, sideband.frames, set())  # every sideband frame, exactly

    # The sideband's copies: the client's audio, and the output with its clock times.
    copies = [json.loads(f) for d, f in sideband.frames if d == "server"]
    heard = [c for c in copies if c["type"] == "session.input_audio.append"]
    said = [c for c in copies if c["type"] == "session.output_audio.delta"]
    assert heard and said and all("start_ms" in c for c in said)
    out = tmp_path / "side"
    result = run_cli("export-wav", str(side["session_id"]), "--out", str(out), db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    assistant, rate = sf.read(out / "assistant.wav", dtype="int16")
    first_ms = said[0]["start_ms"]
    expected = np.concatenate(
        [np.zeros(first_ms * 24, np.int16)]
        + [np.frombuffer(base64.b64decode(c["delta"]), "<i2") for c in said]
    )
    assert rate == 24000 and np.array_equal(assistant, expected)
    # The copies are the primary's own output, from where the sideband joined.
    primary_out = b"".join(
        base64.b64decode(json.loads(f)["delta"])
        for d, f in call.frames
        if d == "server" and json.loads(f)["type"] == "session.output_audio.delta"
    )
    assert primary_out[first_ms * 48 :] == expected[first_ms * 24 :].tobytes()
    user, _ = sf.read(out / "user.wav", dtype="int16")
    sent = b"".join(
        base64.b64decode(json.loads(f)["audio"])
        for d, f in call.frames
        if d == "client" and json.loads(f)["type"] == "session.input_audio.append"
    )
    assert user.tobytes() == sent  # attached before the user spoke: all of it
